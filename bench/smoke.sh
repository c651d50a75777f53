#!/bin/sh
# make check: the benchmark suite once, scaled down, under every installed
# allocator. It measures nothing; it fails when a workload crashes, fails,
# or prints other output than under glibc with any allocator.
set -u
: "${DA_TEST_TOP_SRCDIR:?}" "${DA_TEST_TOP_BUILDDIR:?}" "${DA_TEST_LIB:?}"
BENCH_RUNS=1 BENCH_SCALE=${BENCH_SMOKE_SCALE:-0.05} BENCH_TIMEOUT=60 \
	sh "$DA_TEST_TOP_SRCDIR/bench/run.sh" \
	--builddir="$DA_TEST_TOP_BUILDDIR" --srcdir="$DA_TEST_TOP_SRCDIR" \
	--dbgalloc="$DA_TEST_LIB" --python3="${PYTHON3:-python3}" \
	--perl="${PERL:-perl}" --sqlite3="${SQLITE3:-sqlite3}"
rc=$?
if [ $rc -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $rc
