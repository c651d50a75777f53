#!/bin/sh
# symbolize-clang.sh — the leak report names file:line in programs built by
# clang -g, which emits no .debug_aranges (the table libdwfl looks a unit
# up in): the report's symbolizer finds the unit by its own ranges then.
# clang-leak.c (a program) and clang-leak-lib.c (its shared library, at a
# bias of its own) are built here with clang -g -O0, checked to carry no
# .debug_aranges, and run preloaded with DBGALLOC_LEAKS=1 and a stack
# depth of 2; each of the two leaks must be reported with its two frames,
#     #0 ... in clang_leak_lib .../clang-leak-lib.c:L (libclang-leak.so+0x..)
#     #1 ... in main .../clang-leak.c:M (clang-leak+0x...)
# the lines being those marked LEAK-LIB, CALL-LIB, LEAK-PROG and CALL-PROG
# in the sources. Then the same with -gdwarf-aranges (libdwfl's own
# lookup): the same frames. clang is $CLANG, else clang; a missing clang is
# a failure, not a skip (Debian package clang).
set -u

# Only what this script sets counts (make check-leaks runs it under
# dbgalloc with DBGALLOC_LEAKS set): the environment is cleared
# (test-env.sh). A failure shows the run's output and its report.
. "$(dirname "$0")/test-env.sh"
src=${DA_TEST_TOP_SRCDIR:?run through make check (DA_TEST_TOP_SRCDIR)}
clang=${CLANG:-clang}
dir=$src/tests/integration
shows="out err report"

if ! command -v "$clang" >/dev/null 2>&1; then
	fail "clang" "$clang not found (Debian package clang): this test is about programs built by clang"
	finish
fi

# line MARKER FILE: the number of the line of FILE that holds MARKER.
line() {
	grep -n "/\\* $1 \\*/" "$2" | cut -d: -f1
}

leak_lib=$(line LEAK-LIB "$dir/clang-leak-lib.c")
call_lib=$(line CALL-LIB "$dir/clang-leak.c")
leak_prog=$(line LEAK-PROG "$dir/clang-leak.c")
call_prog=$(line CALL-PROG "$dir/clang-leak.c")

# build NAME FLAGS...: clang-leak and its library in $tmp/NAME, built by
# clang -g -O0 FLAGS; 1 if clang fails.
build() {
	name=$1
	shift
	mkdir -p "$tmp/$name" &&
		"$clang" -g -O0 "$@" -fPIC -shared \
			-o "$tmp/$name/libclang-leak.so" "$dir/clang-leak-lib.c" \
			>"$tmp/err" 2>&1 &&
		"$clang" -g -O0 "$@" -o "$tmp/$name/clang-leak" \
			"$dir/clang-leak.c" -L"$tmp/$name" -lclang-leak \
			-Wl,-rpath,"$tmp/$name" >"$tmp/err" 2>&1
}

# aranges NAME: how many of NAME's two files have a .debug_aranges section
# (its name is in the section header string table).
aranges() {
	n=0
	for f in "$tmp/$1/clang-leak" "$tmp/$1/libclang-leak.so"; do
		if grep -aq '\.debug_aranges' "$f"; then
			n=$((n + 1))
		fi
	done
	echo $n
}

# run NAME: NAME's program preloaded, its report in $tmp/report.
run() {
	rm -f "$tmp/report"
	(
		ulimit -v 1048576
		LD_PRELOAD=$lib DBGALLOC_LEAKS=1 DBGALLOC_STACK_DEPTH=2 \
			DBGALLOC_LOG=$tmp/report timeout 60 "$tmp/$1/clang-leak"
	) >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}

# frames: the report holds both leaks, each with its two frames and the
# lines marked in the sources.
frames() {
	x='0x[0-9a-f][0-9a-f]*'
	[ "$rc" -eq 0 ] &&
		[ "$(cat "$tmp/out")" = "clang-leak: leaked 48 + 80 bytes" ] &&
		[ ! -s "$tmp/err" ] &&
		grep -A3 '^Leak of 80 bytes in 1 block' "$tmp/report" >"$tmp/r80" &&
		grep -A3 '^Leak of 48 bytes in 1 block' "$tmp/report" >"$tmp/r48" &&
		grep -q "^    #0 $x in clang_leak_lib [^ ]*/clang-leak-lib\\.c:$leak_lib (libclang-leak\\.so+$x)\$" "$tmp/r80" &&
		grep -q "^    #1 $x in main [^ ]*/clang-leak\\.c:$call_lib (clang-leak+$x)\$" "$tmp/r80" &&
		grep -q "^    #0 $x in prog_leak [^ ]*/clang-leak\\.c:$leak_prog (clang-leak+$x)\$" "$tmp/r48" &&
		grep -q "^    #1 $x in main [^ ]*/clang-leak\\.c:$call_prog (clang-leak+$x)\$" "$tmp/r48"
}

if build plain; then
	pass "clang -g -O0 builds clang-leak and its library"
else
	fail "clang -g -O0 builds clang-leak and its library" "$clang failed"
	finish
fi
n=$(aranges plain)
if [ "$n" -eq 0 ]; then
	pass "clang -g: no .debug_aranges in either file"
else
	fail "clang -g: no .debug_aranges in either file" \
		"$n of 2 have one: this test would not test the fallback"
fi
run plain
if frames; then
	pass "without .debug_aranges: file:line of both leaks' two frames"
else
	fail "without .debug_aranges: file:line of both leaks' two frames" \
		"status $rc; want lines $leak_lib, $call_lib (80 bytes) and $leak_prog, $call_prog (48 bytes)"
fi

if build aranges -gdwarf-aranges && [ "$(aranges aranges)" -eq 2 ]; then
	run aranges
	if frames; then
		pass "with .debug_aranges (-gdwarf-aranges): the same frames"
	else
		fail "with .debug_aranges (-gdwarf-aranges): the same frames" \
			"status $rc"
	fi
else
	fail "with .debug_aranges (-gdwarf-aranges)" \
		"$clang did not build both files with .debug_aranges"
fi
finish
