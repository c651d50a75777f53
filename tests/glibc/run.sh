#!/bin/sh
# run.sh — the glibc tier: each program linked with libdbgalloc and plain
# under LD_PRELOAD=$DA_TEST_LIB (and, with DA_TEST_BASELINE=1, plain on the
# system allocator too, which proves the program itself right). A run
# passes when it exits 0, names the expected allocator, prints its
# "<name>: ok" line and no FAIL line.
#
# Each run is bounded twice: the program's own watchdog (about 20 s) and
# timeout(1). timeout runs it in a process group of its own; whatever is
# left of that group afterwards (a child hung inside fork) is killed.
#
#   DA_TEST_PROGRAMS="mallocfork2 ..."  run only these programs
#   DA_TEST_BASELINE=1                  add the system-allocator runs
#   DA_TEST_SECONDS=N                   length of the timed phases
set -u

top=${DA_TEST_TOP_BUILDDIR:?run through make check (DA_TEST_TOP_BUILDDIR)}
lib=${DA_TEST_LIB:?run through make check (DA_TEST_LIB)}
b=$top/tests/glibc
programs=${DA_TEST_PROGRAMS:-malloc-fork-deadlock mallocfork2 mallocfork3 malloc-stats-cancellation malloc-thread-exit}
passed=0
failed=0
skipped=0
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
trap 'exit 1' INT TERM

# run PROGRAM HOW ALLOCATOR-LINE CMD...
run() {
	prog=$1 how=$2 alloc_line=$3
	shift 3
	start=$(date +%s)
	timeout -k 5 120 "$@" >"$out" 2>&1 </dev/null &
	group=$!
	wait "$group"
	rc=$?
	kill -KILL -- "-$group" 2>/dev/null
	secs=$(($(date +%s) - start))
	why=
	if [ "$rc" -eq 77 ]; then
		echo "SKIP $prog ($how): $(grep SKIP "$out" | head -1)"
		skipped=$((skipped + 1))
		return
	fi
	[ "$rc" -eq 0 ] || why="exit status $rc"
	[ "$rc" -ge 124 ] && [ "$rc" -le 137 ] &&
		why="$why (timed out and killed)"
	grep -qx -- "$alloc_line" "$out" ||
		why="${why:+$why; }no line '$alloc_line'"
	grep -qx -- "$prog: ok" "$out" || why="${why:+$why; }no line '$prog: ok'"
	grep -q '^FAIL' "$out" && why="${why:+$why; }FAIL reported"
	if [ -z "$why" ]; then
		echo "PASS $prog ($how, ${secs} s)"
		passed=$((passed + 1))
	else
		echo "FAIL $prog ($how, ${secs} s): $why"
		sed 's/^/  /' "$out" | head -40
		failed=$((failed + 1))
	fi
}

if [ ! -r "$lib" ]; then
	echo "FAIL: $lib does not exist"
	echo "0 passed, 1 failed"
	exit 1
fi

dbg='allocator: dbgalloc [0-9][0-9.]*'
for prog in $programs; do
	if [ ! -x "$b/$prog-plain" ]; then
		echo "FAIL $prog: no program $b/$prog-plain"
		failed=$((failed + 1))
		continue
	fi
	if [ "${DA_TEST_BASELINE:-0}" = 1 ]; then
		run "$prog" "system allocator" 'allocator: system' \
			"$b/$prog-plain"
	fi
	run "$prog" linked "$dbg" "$b/$prog"
	run "$prog" preloaded "$dbg" \
		env LD_PRELOAD="$lib" "$b/$prog-plain" --expect-dbgalloc
done

[ "$skipped" -eq 0 ] || echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
