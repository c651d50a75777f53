#!/bin/sh
# startup.sh — start-up and exit traps (PITFALLS 1, 2, 5, 11, 12, 13, 14),
# each program run three ways: plain on the system allocator (a baseline that
# proves the test itself is right), plain with LD_PRELOAD=$DA_TEST_LIB, and
# linked with libdbgalloc (interpose also linked with libdbgalloc.a).
# A run passes when its exit status is the expected one, its stdout has the
# expected lines, and stderr holds no FAIL line and no dbgalloc report.
# Each run sets LD_PRELOAD itself: make check may run under dbgalloc
# (`dbgalloc run -- make check`), and an inherited LD_PRELOAD would put
# dbgalloc into the system-allocator baseline.
set -u

# A dbgalloc report on stderr fails a run: settings inherited from
# `dbgalloc run --leaks -- make check` (make check-leaks) would add one.
# test-env.sh clears them, and keeps LD_PRELOAD: inherited-preload.sh runs
# this script under it.
keep_preload=yes
. "$(dirname "$0")/test-env.sh"
b=$top/tests/integration
# Each failure prints what it is about itself.
shows=

# check NAME STATUS ALLOCATOR-LINE OK-LINE CMD...
#   OK-LINE may be empty (modes that end before printing it).
check() {
	name=$1 want=$2 alloc_line=$3 ok_line=$4
	shift 4
	timeout 300 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	why=
	[ "$rc" = "$want" ] || why="exit status $rc, expected $want"
	grep -qx -- "$alloc_line" "$tmp/out" ||
		why="${why:+$why; }no line '$alloc_line' on stdout"
	if [ -n "$ok_line" ] && ! grep -qx -- "$ok_line" "$tmp/out"; then
		why="${why:+$why; }no line '$ok_line' on stdout"
	fi
	if grep -q '^FAIL' "$tmp/out" "$tmp/err"; then
		why="${why:+$why; }FAIL reported"
	fi
	if grep -qi 'dbgalloc' "$tmp/err"; then
		why="${why:+$why; }dbgalloc wrote to stderr"
	fi
	if [ -z "$why" ]; then
		pass "$name"
	else
		fail "$name" "$why"
		echo "  command: $*"
		show "$tmp/out" stdout
		show "$tmp/err" stderr
	fi
}

sys='allocator: system'
dbg='allocator: dbgalloc [0-9][0-9.]*'

# run_three NAME STATUS OK-LINE [ARGS...]
run_three() {
	prog=$1 want=$2 ok_line=$3
	shift 3
	label="$prog${1:+ $*}"
	check "$label (system allocator)" "$want" "$sys" "$ok_line" \
		env -u LD_PRELOAD "$b/$prog-plain" "$@"
	check "$label (preloaded)" "$want" "$dbg" "$ok_line" \
		env LD_PRELOAD="$lib" "$b/$prog-plain" --expect-dbgalloc "$@"
	check "$label (linked)" "$want" "$dbg" "$ok_line" \
		env -u LD_PRELOAD "$b/$prog" "$@"
}

if [ ! -r "$lib" ]; then
	fail library "$lib does not exist"
	finish
fi

run_three preinit 0 'preinit: ok'
run_three ctor-dlopen 0 'ctor-dlopen: ok'
run_three interpose 0 'interpose: ok'
# C++ preloaded: libstdc++'s own allocations (its emergency exception pool)
# happen before dbgalloc's constructor (PITFALLS 11). No system-allocator
# baseline: libstdc++'s aligned new wraps huge sizes, which cxx rejects.
check "cxx (preloaded)" 0 "$dbg" '[0-9][0-9]* passed, 0 failed' \
	env LD_PRELOAD="$lib" "$b/cxx-plain" --expect-dbgalloc
check "interpose (linked with libdbgalloc.a)" 0 "$dbg" 'interpose: ok' \
	env -u LD_PRELOAD "$b/interpose-static"

# The static variant must really carry its own copy: no libdbgalloc.so
# needed, and malloc exported from the executable so libc's calls reach it.
if command -v readelf >/dev/null 2>&1; then
	if readelf -d "$b/interpose-static" | grep -q 'NEEDED.*libdbgalloc'; then
		fail interpose-static "needs libdbgalloc.so"
	elif ! readelf --dyn-syms -W "$b/interpose-static" |
		awk '$7 != "UND" && $8 == "malloc" { found = 1 } END { exit !found }'; then
		fail interpose-static "does not export malloc"
	else
		pass "interpose-static is statically linked and exports malloc"
	fi
fi

run_three exit-thread 42 '' thread-_exit
run_three exit-thread 43 '' main-_exit
run_three exit-thread 44 '' exit-busy
run_three exit-thread 0 '' return-busy
run_three exit-thread 0 '' main-pthread_exit

finish
