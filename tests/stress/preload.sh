#!/bin/sh
# preload.sh — the stress programs built without dbgalloc, run under
# LD_PRELOAD=$DA_TEST_LIB. Each program stops at once unless dbgalloc is in
# the process (--expect-dbgalloc), and exits non-zero on any corruption.
set -u

top=${DA_TEST_TOP_BUILDDIR:?run through make check (DA_TEST_TOP_BUILDDIR)}
lib=${DA_TEST_LIB:?run through make check (DA_TEST_LIB)}
b=$top/tests/stress
passed=0
failed=0
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
trap 'exit 1' INT TERM

if [ ! -r "$lib" ]; then
	echo "FAIL: $lib does not exist"
	echo "0 passed, 1 failed"
	exit 1
fi

for prog in threads fork thread-churn signal signal-heavy fork-zombies \
	limit-threads; do
	start=$(date +%s)
	LD_PRELOAD=$lib timeout 600 "$b/$prog-plain" --expect-dbgalloc \
		>"$out" 2>&1 </dev/null
	rc=$?
	secs=$(($(date +%s) - start))
	if [ "$rc" -eq 0 ] && grep -q '^allocator: dbgalloc' "$out" &&
		! grep -q '^FAIL' "$out"; then
		echo "PASS $prog (preloaded, ${secs} s)"
		passed=$((passed + 1))
	else
		echo "FAIL $prog (preloaded, ${secs} s): exit status $rc"
		sed 's/^/  /' "$out" | head -30
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
