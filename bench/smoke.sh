#!/bin/sh
# make check: the benchmark suite once, scaled down, under every installed
# allocator, dbgalloc setting and tool. It measures nothing; it fails when a
# workload crashes, fails, or prints other output than under glibc with any
# of them. Then two checks of what the tables rest on: leakaudit under
# dbgalloc finds exactly the blocks it dropped, and its scan time reached
# latest.csv.
set -u
: "${DA_TEST_TOP_SRCDIR:?}" "${DA_TEST_TOP_BUILDDIR:?}" "${DA_TEST_LIB:?}"
BENCH_RUNS=1 BENCH_SCALE=${BENCH_SMOKE_SCALE:-0.05} BENCH_TIMEOUT=60 \
	sh "$DA_TEST_TOP_SRCDIR/bench/run.sh" \
	--builddir="$DA_TEST_TOP_BUILDDIR" --srcdir="$DA_TEST_TOP_SRCDIR" \
	--dbgalloc="$DA_TEST_LIB" --python3="${PYTHON3:-python3}" \
	--perl="${PERL:-perl}" --sqlite3="${SQLITE3:-sqlite3}"
rc=$?
pass=0 fail=0
[ $rc -eq 0 ] && pass=$((pass + 1)) || fail=$((fail + 1))

# 20,000 blocks, 1,250 of them dropped: the check must count each of those
# as definitely lost, and nothing else.
line=$(LD_PRELOAD=$DA_TEST_LIB DBGALLOC_LOG=/dev/null \
	"$DA_TEST_TOP_BUILDDIR/bench/leakaudit" 0.02 2>&1 >/dev/null)
case $line in
"leakaudit: scan "*" by dbgalloc_leak_check, definitely lost 1250 of 1250 dropped blocks")
	pass=$((pass + 1))
	;;
*)
	echo "FAIL: leakaudit 0.02 under dbgalloc said: $line"
	fail=$((fail + 1))
	;;
esac

# The table's leak scan row comes from this CSV line's last two fields.
csv=$DA_TEST_TOP_BUILDDIR/bench/results/latest.csv
if grep -q '^leakaudit,dbgalloc,.*,ok,[0-9.]*,[0-9.][0-9.]*,[0-9.][0-9.]*$' "$csv"; then
	pass=$((pass + 1))
else
	echo "FAIL: no leak scan time for dbgalloc in $csv:"
	grep '^leakaudit,dbgalloc,' "$csv"
	fail=$((fail + 1))
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
