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

top=${DA_TEST_TOP_BUILDDIR:?run through make check (DA_TEST_TOP_BUILDDIR)}
lib=${DA_TEST_LIB:?run through make check (DA_TEST_LIB)}
b=$top/tests/integration
passed=0
failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
# A dbgalloc report on stderr fails a run: settings inherited from
# `dbgalloc run --leaks -- make check` (make check-leaks) would add one.
for v in $(env | sed -n 's/^\(DBGALLOC_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$v"
done

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
		echo "PASS $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name: $why"
		echo "  command: $*"
		sed 's/^/  stdout: /' "$tmp/out" | head -20
		sed 's/^/  stderr: /' "$tmp/err" | head -20
		failed=$((failed + 1))
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
	echo "FAIL: $lib does not exist"
	echo "0 passed, 1 failed"
	exit 1
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
		echo "FAIL interpose-static: needs libdbgalloc.so"
		failed=$((failed + 1))
	elif ! readelf --dyn-syms -W "$b/interpose-static" |
		awk '$7 != "UND" && $8 == "malloc" { found = 1 } END { exit !found }'; then
		echo "FAIL interpose-static: does not export malloc"
		failed=$((failed + 1))
	else
		echo "PASS interpose-static is statically linked and exports malloc"
		passed=$((passed + 1))
	fi
fi

run_three exit-thread 42 '' thread-_exit
run_three exit-thread 43 '' main-_exit
run_three exit-thread 44 '' exit-busy
run_three exit-thread 0 '' return-busy
run_three exit-thread 0 '' main-pthread_exit

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
