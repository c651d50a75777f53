#!/bin/sh
# preload-basic.sh — the launcher, `dbgalloc run -- CMD`, with
# DBGALLOC_LIBRARY pointing at the freshly built library: it runs CMD with
# dbgalloc preloaded (children too), passes arguments, stdin and the exit
# status through, and rejects bad usage with status 2 and one line.
set -u

top=${DBGALLOC_TOP_BUILDDIR:?run through make check (DBGALLOC_TOP_BUILDDIR)}
lib=${DBGALLOC_LIB:?run through make check (DBGALLOC_LIB)}
launcher=$top/dbgalloc
DBGALLOC_LIBRARY=$lib
export DBGALLOC_LIBRARY
passed=0
failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# run CMD...: runs CMD, stdout in $tmp/out, stderr in $tmp/err, status in $rc.
run() {
	timeout 120 "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# result NAME STATUS: reports the check NAME, passed if STATUS is 0.
result() {
	if [ "$2" -eq 0 ]; then
		echo "PASS $1"
		passed=$((passed + 1))
	else
		echo "FAIL $1 (status $rc)"
		sed 's/^/  stdout: /' "$tmp/out" | head -10
		sed 's/^/  stderr: /' "$tmp/err" | head -10
		failed=$((failed + 1))
	fi
}

lines() {
	wc -l <"$1" | tr -d ' '
}

if [ ! -x "$launcher" ] || [ ! -r "$lib" ]; then
	echo "FAIL: $launcher or $lib missing"
	echo "0 passed, 1 failed"
	exit 1
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

run "$launcher" run -- sh -c 'grep -c "libdbgalloc" /proc/$$/maps'
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" -ge 1 ]
result "the program has libdbgalloc mapped" $?

run "$launcher" run -- sh -c 'sh -c "grep -c libdbgalloc /proc/\$\$/maps"'
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" -ge 1 ]
result "its children have libdbgalloc mapped" $?

run "$launcher" run -- sh -c 'printf "%s\n" "$LD_PRELOAD"'
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$lib" ]
result "LD_PRELOAD is the library" $?

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
	run "$launcher" run -- "$top/tests/integration/interpose-plain" \
		--expect-dbgalloc
	[ "$rc" -eq 0 ] && grep -qx 'interpose: ok' "$tmp/out"
	result "a C program run by the launcher has dbgalloc" $?
fi

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top/config.h")
run "$launcher" --version
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "dbgalloc $version" ] &&
	[ -n "$version" ]
result "--version prints 'dbgalloc $version'" $?

run "$launcher" --help
[ "$rc" -eq 0 ] && grep -q 'dbgalloc run' "$tmp/out"
result "--help prints usage, status 0" $?

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

run env DBGALLOC_LIBRARY="$tmp/no-such-lib.so" "$launcher" run -- true
[ "$rc" -eq 2 ] && [ "$(lines "$tmp/err")" -eq 1 ]
result "missing library: one line, status 2" $?

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
