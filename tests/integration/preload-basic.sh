#!/bin/sh
# preload-basic.sh — the launcher, `dbgalloc run -- CMD`, with
# DBGALLOC_LIBRARY pointing at the freshly built library: it runs CMD with
# dbgalloc preloaded (children too), passes arguments, stdin and the exit
# status through, and rejects bad usage with status 2 and one line, a
# program it cannot execute with 126 and one it cannot find with 127, as a
# shell does. A relative DBGALLOC_LIBRARY is made absolute. This script may
# itself run under an inherited LD_PRELOAD (`dbgalloc run -- make check`):
# checks of LD_PRELOAD's value, or that dbgalloc is mapped, clear it first.
set -u

# test-env.sh clears inherited DBGALLOC_ settings and keeps LD_PRELOAD:
# inherited-preload.sh runs this script under it.
keep_preload=yes
. "$(dirname "$0")/test-env.sh"
launcher=$top/dbgalloc
DBGALLOC_LIBRARY=$lib
export DBGALLOC_LIBRARY

# run CMD...: runs CMD, stdout in $tmp/out, stderr in $tmp/err, status in
# $rc; stdin is the script's ("stdin passes through" gives its own).
run() {
	timeout 120 "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

lines() {
	wc -l <"$1" | tr -d ' '
}

if [ ! -x "$launcher" ] || [ ! -r "$lib" ]; then
	fail setup "$launcher or $lib missing"
	finish
fi

run "$launcher" run -- sh -c 'echo hi'
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = hi ] && [ ! -s "$tmp/err" ]
result "run -- sh -c 'echo hi' prints hi" $?

run "$launcher" run sh -c 'echo without dashes'
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "without dashes" ]
result "run without -- works" $?

run "$launcher" run -- sh -c 'exit 7'
[ "$rc" -eq 7 ]
result "exit status 7 is passed through" $?

# true and printf are shell built-ins too: the launcher must run the program.
run "$launcher" run -- true
[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ]
result "run -- true (a program that is also a shell built-in)" $?

run "$launcher" run -- sh -c 'kill -TERM $$'
[ "$rc" -eq 143 ]
result "death by SIGTERM is passed through (status 143)" $?

# Checks that dbgalloc is there clear an inherited LD_PRELOAD, which would
# put it there without the launcher.
run env -u LD_PRELOAD "$launcher" run -- \
	sh -c 'grep -c "libdbgalloc" /proc/$$/maps'
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" -ge 1 ]
result "the program has libdbgalloc mapped" $?

run env -u LD_PRELOAD "$launcher" run -- \
	sh -c 'sh -c "grep -c libdbgalloc /proc/\$\$/maps"'
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" -ge 1 ]
result "its children have libdbgalloc mapped" $?

run env -u LD_PRELOAD "$launcher" run -- sh -c 'printf "%s\n" "$LD_PRELOAD"'
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$lib" ]
result "LD_PRELOAD is the library" $?

# A relative DBGALLOC_LIBRARY must still reach a child that has changed
# directory: the launcher makes it absolute. (Without an inherited
# LD_PRELOAD, which would map the library anyway.)
libdir=${lib%/*}
rel=${libdir##*/}/${lib##*/}
for form in "$rel" "./$rel"; do
	run env -u LD_PRELOAD sh -c 'cd "$1/.." && DBGALLOC_LIBRARY=$2 exec "$3" run -- \
		sh -c '\''cd / && printf "%s\n" "$LD_PRELOAD" &&
		sh -c "grep -c libdbgalloc /proc/\$\$/maps"'\' \
		sh "$libdir" "$form" "$launcher"
	[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] &&
		[ "$(sed -n 1p "$tmp/out")" = "$(cd "$libdir/.." && pwd)/$rel" ] &&
		[ "$(sed -n 2p "$tmp/out")" -ge 1 ]
	result "DBGALLOC_LIBRARY=$form is made absolute; a child in / has dbgalloc" $?
done

# An LD_PRELOAD the user already had is kept, after dbgalloc.
run env LD_PRELOAD=/dbgalloc-test-nonexistent.so "$launcher" run -- \
	sh -c 'printf "%s\n" "$LD_PRELOAD"'
[ "$rc" -eq 0 ] &&
	[ "$(cat "$tmp/out")" = "$lib /dbgalloc-test-nonexistent.so" ]
result "an existing LD_PRELOAD is kept" $?

run "$launcher" run -- sh -c 'printf "%s|" "$@"' sh 'a b' '' 'c*' '$HOME' -x
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = 'a b||c*|$HOME|-x|' ]
result "arguments pass unchanged" $?

printf 'line one\nline two\n' >"$tmp/in"
run "$launcher" run -- cat <"$tmp/in"
[ "$rc" -eq 0 ] && cmp -s "$tmp/in" "$tmp/out"
result "stdin passes through" $?

if [ -x "$top/tests/integration/interpose-plain" ]; then
	run env -u LD_PRELOAD "$launcher" run -- \
		"$top/tests/integration/interpose-plain" --expect-dbgalloc
	[ "$rc" -eq 0 ] && grep -qx 'interpose: ok' "$tmp/out"
	result "a C program run by the launcher has dbgalloc" $?
fi

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top/config.h")
run "$launcher" --version
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "dbgalloc $version" ] &&
	[ -n "$version" ]
result "--version prints 'dbgalloc $version'" $?

for args in --help -h "run --help" "run -h"; do
	run "$launcher" $args
	[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] &&
		grep -q '^usage: dbgalloc run' "$tmp/out"
	result "'dbgalloc $args' prints the usage on stdout, status 0" $?
done

# After --, --help is the program's name, not the launcher's option.
run "$launcher" run -- --help
[ "$rc" -eq 127 ] && [ ! -s "$tmp/out" ] &&
	grep -qx 'dbgalloc: program not found: --help' "$tmp/err"
result "'dbgalloc run -- --help' looks for a program --help" $?

run "$launcher" run -x true
[ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] && [ "$(lines "$tmp/err")" -eq 1 ] &&
	grep -q "unknown option '-x'" "$tmp/err"
result "unknown option of run: one line naming it, status 2" $?

run "$launcher"
[ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] && grep -q 'usage' "$tmp/err"
result "no command: usage on stderr, status 2" $?

for args in "run" "run --"; do
	run "$launcher" $args
	[ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] && [ "$(lines "$tmp/err")" -eq 1 ]
	result "'dbgalloc $args' with no program: one line, status 2" $?
done

run "$launcher" frobnicate -- true
[ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] && [ "$(lines "$tmp/err")" -eq 1 ] &&
	grep -q frobnicate "$tmp/err"
result "unknown command: one line naming it, status 2" $?

run "$launcher" run -- dbgalloc-test-no-such-program
[ "$rc" -eq 127 ] && [ "$(lines "$tmp/err")" -eq 1 ]
result "missing program: one line, status 127" $?

run "$launcher" run -- "$tmp/no-such-dir/prog"
[ "$rc" -eq 127 ] && [ "$(lines "$tmp/err")" -eq 1 ]
result "missing program with a slash: one line, status 127" $?

# Found but not executable: 126, as sh and bash exit. (No execute bit at
# all, so the test holds for root too.)
printf '#!/bin/sh\necho ran\n' >"$tmp/noexec"
chmod 644 "$tmp/noexec"
mkdir "$tmp/bin" "$tmp/bin2" "$tmp/dir"
cp "$tmp/noexec" "$tmp/bin/dbgalloc-test-noexec"
cp "$tmp/noexec" "$tmp/bin2/dbgalloc-test-noexec"
chmod 755 "$tmp/bin2/dbgalloc-test-noexec"
run "$launcher" run -- "$tmp/noexec"
[ "$rc" -eq 126 ] && [ ! -s "$tmp/out" ] &&
	grep -qx "dbgalloc: cannot execute $tmp/noexec: not an executable file" \
		"$tmp/err"
result "a file without execute permission: one line, status 126" $?

run "$launcher" run -- "$tmp/dir"
[ "$rc" -eq 126 ] && [ ! -s "$tmp/out" ] &&
	grep -qx "dbgalloc: cannot execute $tmp/dir: it is a directory" "$tmp/err"
result "a directory: one line, status 126" $?

run env PATH="$tmp/bin:$PATH" "$launcher" run -- dbgalloc-test-noexec
[ "$rc" -eq 126 ] && [ "$(lines "$tmp/err")" -eq 1 ] &&
	grep -q "$tmp/bin/dbgalloc-test-noexec" "$tmp/err"
result "found in PATH but not executable: one line naming it, status 126" $?

# An executable later in PATH wins over a non-executable one, as for exec.
run env PATH="$tmp/bin:$tmp/bin2:$PATH" "$launcher" run -- \
	dbgalloc-test-noexec
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = ran ]
result "an executable later in PATH is run" $?

# A trailing empty PATH entry is the current directory.
run sh -c 'cd "$1" && PATH=$2: exec "$3" run -- dbgalloc-test-noexec' \
	sh "$tmp/bin2" "$PATH" "$launcher"
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = ran ]
result "a trailing empty PATH entry is searched" $?

# A missing library names the path tried and where it came from.
run env DBGALLOC_LIBRARY="$tmp/no-such-lib.so" "$launcher" run -- true
[ "$rc" -eq 2 ] && [ "$(lines "$tmp/err")" -eq 1 ] &&
	grep -qxF "dbgalloc: library not found: $tmp/no-such-lib.so (from DBGALLOC_LIBRARY=$tmp/no-such-lib.so)" "$tmp/err"
result "missing library from DBGALLOC_LIBRARY: says so, status 2" $?

run sh -c 'cd "$1" && DBGALLOC_LIBRARY=no-such-lib.so exec "$2" run -- true' \
	sh "$tmp" "$launcher"
[ "$rc" -eq 2 ] &&
	grep -qF "library not found: $tmp/no-such-lib.so (from DBGALLOC_LIBRARY=no-such-lib.so)" "$tmp/err"
result "missing relative library: the absolute path and the variable" $?

# Unset, or empty, DBGALLOC_LIBRARY: the default path, which the installed
# launcher names; the build tree's launcher names a prefix that may not be
# installed. Test with a copy whose default is known not to exist.
sed "s|^	lib=/.*/libdbgalloc.so\$|	lib=$tmp/no-such-libdir/libdbgalloc.so|" \
	"$launcher" >"$tmp/launcher"
for value in unset empty; do
	if [ $value = unset ]; then
		run env -u DBGALLOC_LIBRARY sh "$tmp/launcher" run -- true
	else
		run env DBGALLOC_LIBRARY= sh "$tmp/launcher" run -- true
	fi
	[ "$rc" -eq 2 ] && [ "$(lines "$tmp/err")" -eq 1 ] &&
		grep -qxF "dbgalloc: library not found: $tmp/no-such-libdir/libdbgalloc.so (the default; set DBGALLOC_LIBRARY to use another copy)" "$tmp/err"
	result "missing default library, DBGALLOC_LIBRARY $value: says so" $?
done

run env DBGALLOC_LIBRARY="$tmp/dir" "$launcher" run -- true
[ "$rc" -eq 2 ] && [ "$(lines "$tmp/err")" -eq 1 ] &&
	grep -qF "library is not a readable file: $tmp/dir (from DBGALLOC_LIBRARY=" "$tmp/err"
result "a directory as the library: one line, status 2" $?

# LD_PRELOAD splits at spaces and colons: such a path is refused.
mkdir "$tmp/a b"
cp "$lib" "$tmp/a b/libdbgalloc.so"
run env DBGALLOC_LIBRARY="$tmp/a b/libdbgalloc.so" "$launcher" run -- true
[ "$rc" -eq 2 ] && [ "$(lines "$tmp/err")" -eq 1 ] &&
	grep -q "space or colon" "$tmp/err"
result "a library path with a space: one line, status 2" $?

finish
