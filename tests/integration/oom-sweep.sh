#!/bin/sh
# oom-sweep.sh — `dbgalloc oom-sweep` end to end, through the launcher,
# over four small programs built plain (tests/integration/oom-*.c):
#   oom-clean  right at every allocation: every run clean, exit status 0;
#   oom-crash  its third allocation (in copy_name) used unchecked: exactly
#              one run dies of SIGSEGV, the table names copy_name, the
#              replay line reproduces it, exit status 1;
#   oom-leak   leaks a block when its second allocation (in load_second)
#              fails: "yes" in that row alone, exit status 0;
#   oom-hang   waits for ever when its allocation fails: --timeout ends
#              that run, exit status 1;
#   oom-cxx    catches std::bad_alloc in load_table, not in name_it: the
#              runs that fail there die of SIGABRT, exit status 1.
# Also --from/--to, --jobs 1 and 2 giving the same table, and bad usage
# (exit status 2, one line and the usage text on stderr).
set -u

# Only what the sweep sets counts here, not what this script inherited
# (make check-leaks runs it under dbgalloc with DBGALLOC_LEAKS set): the
# environment is cleared (test-env.sh).
. "$(dirname "$0")/test-env.sh"
launcher=$top/dbgalloc
tool=$top/tools/oom-sweep
b=$top/tests/integration
clean=$b/oom-clean
crash=$b/oom-crash
leak=$b/oom-leak
hang=$b/oom-hang
cxx=$b/oom-cxx

# A machine this loaded may be slow: a run that takes more than the default
# timeout (10 s) must not fail a test.
patient="--timeout 120"

# sweep ARGS...: the launcher's oom-sweep, stdout and stderr to $tmp/out
# and $tmp/err, status in $rc.
sweep() {
	DBGALLOC_LIBRARY=$lib DBGALLOC_OOM_SWEEP=$tool timeout 300 \
		"$launcher" oom-sweep "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}

# rows [FILE]: the table's rows, "K OUTCOME LEAKED SITE..." with single
# spaces (from the header line to the blank line after it).
rows() {
	awk '/^ *k  outcome  *leaked  *failed allocation$/ { on = 1; next }
		on && /^$/ { exit }
		on { $1 = $1; print }' "${1:-$tmp/out}"
}

# counted: the number of allocations the first run reported.
counted() {
	sed -n 's/^first run: exit 0, \([0-9,]*\) allocations* numbered.*/\1/p' \
		"$tmp/out" | tr -d ,
}

for p in "$launcher" "$tool" "$clean" "$crash" "$leak" "$hang" "$cxx"; do
	if [ ! -x "$p" ]; then
		fail setup "$p missing (not built?)"
		finish
	fi
done

# oom-clean: every run ends with an exit status of its own, leaks nothing.
sweep $patient --jobs 2 -- "$clean"
n=$(counted)
rows >"$tmp/rows"
nrows=$(grep -c . "$tmp/rows")
bad=$(awk '$2 != "exit" || $4 != "no"' "$tmp/rows" | grep -c .)
# (13 of the program's own; the C library may add some.)
if [ "$rc" -eq 0 ] && [ -n "$n" ] && [ "$n" -ge 13 ] &&
	[ "$nrows" -eq "$n" ] && [ "$bad" -eq 0 ] &&
	grep -qx "$n runs: $n clean, 0 crashed, 0 leaked, 0 timed out" "$tmp/out" &&
	grep -q ' in main at oom-clean\.c:[0-9]*$' "$tmp/rows" &&
	! grep -q '^crashed or timed out' "$tmp/out"; then
	pass "oom-clean: $n runs, every one clean, status 0"
else
	fail "oom-clean" "status $rc, $nrows rows for ${n:-no} allocations, $bad not clean"
fi
cp "$tmp/out" "$tmp/clean-jobs2"

# --jobs 1 gives the same table, in the same order.
sweep $patient --jobs 1 -- "$clean"
if [ "$rc" -eq 0 ] && rows >"$tmp/rows1" && rows "$tmp/clean-jobs2" >"$tmp/rows2" &&
	[ -s "$tmp/rows1" ] && cmp -s "$tmp/rows1" "$tmp/rows2" &&
	grep -q '^sweep: .*, 1 job, ' "$tmp/out" &&
	grep -q '^sweep: .*, 2 jobs, ' "$tmp/clean-jobs2"; then
	pass "oom-clean: --jobs 1 and --jobs 2 print the same table"
else
	fail "--jobs 1 vs 2" "status $rc, or the tables differ"
	diff "$tmp/rows1" "$tmp/rows2" | head -20
fi

# oom-crash: one run dies, at the third malloc, in copy_name (or a clone
# of it that gcc made, copy_name.constprop.0).
copy_name='copy_name\(\.[a-z]*\.[0-9]*\)*'
sweep $patient -- "$crash"
rows >"$tmp/rows"
k=$(awk '$2 == "SIGSEGV" { print $1 }' "$tmp/rows")
nseg=$(awk '$2 == "SIGSEGV"' "$tmp/rows" | grep -c .)
others=$(awk '$2 != "SIGSEGV" && $2 != "exit"' "$tmp/rows" | grep -c .)
if [ "$rc" -eq 1 ] && [ -n "$k" ] && [ "$nseg" -eq 1 ] && [ "$others" -eq 0 ] &&
	grep -q "^$k SIGSEGV no malloc() in $copy_name at oom-crash\.c:[0-9]*\$" "$tmp/rows" &&
	grep -q ' 1 crashed, 0 leaked, 0 timed out$' "$tmp/out" &&
	grep -q "^ *$k  SIGSEGV  malloc() in $copy_name at .*oom-crash\.c:[0-9]*\$" "$tmp/out" &&
	grep -qxF "$(printf '%*s' ${#k} '')  DBGALLOC_FAIL_AT=$k DBGALLOC_FAIL_LOG=1 dbgalloc run -- $crash" "$tmp/out"; then
	pass "oom-crash: run $k alone dies of SIGSEGV in copy_name, status 1, with its replay line"
else
	fail "oom-crash" "status $rc, SIGSEGV in runs '$k', $others odd rows"
fi

# The replay line reproduces the crash.
if [ -n "$k" ]; then
	DBGALLOC_FAIL_AT=$k DBGALLOC_FAIL_LOG=1 DBGALLOC_LIBRARY=$lib \
		"$launcher" run -- "$crash" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ "$rc" -eq 139 ] &&
		grep -q "^dbgalloc: injected failure of allocation $k: malloc() of 7 bytes, from:\$" "$tmp/err"; then
		pass "the replay of run $k dies of SIGSEGV after its injected failure"
	else
		fail "replay of run $k" "status $rc, want 139 and the failure on stderr"
	fi
fi

# --from and --to: the crashing run alone, then the runs before it.
if [ -n "$k" ]; then
	sweep $patient --from "$k" --to "$k" -- "$crash"
	rows >"$tmp/rows"
	if [ "$rc" -eq 1 ] && [ "$(grep -c . "$tmp/rows")" -eq 1 ] &&
		grep -q "^$k SIGSEGV no malloc() in $copy_name " "$tmp/rows" &&
		grep -q "^sweep: allocations $k to $k, 1 run, 1 job, " "$tmp/out"; then
		pass "--from $k --to $k: that run alone"
	else
		fail "--from $k --to $k" "status $rc"
	fi
	if [ "$k" -gt 1 ]; then
		sweep $patient --from=1 --to=$((k - 1)) -- "$crash"
		rows >"$tmp/rows"
		if [ "$rc" -eq 0 ] &&
			[ "$(grep -c . "$tmp/rows")" -eq $((k - 1)) ] &&
			[ "$(awk '$2 == "exit" { print $1 }' "$tmp/rows" | tr '\n' ' ')" = "$(seq 1 $((k - 1)) | tr '\n' ' ')" ]; then
			pass "--from=1 --to=$((k - 1)): the runs before the crash, all clean, status 0"
		else
			fail "--from=1 --to=$((k - 1))" "status $rc"
		fi
	fi
fi

# oom-leak: a leak in the row of load_second's failure, and there alone.
sweep $patient -- "$leak"
rows >"$tmp/rows"
nyes=$(awk '$4 == "yes"' "$tmp/rows" | grep -c .)
if [ "$rc" -eq 0 ] && [ "$nyes" -eq 1 ] &&
	grep -q '^[0-9]* exit 1 yes malloc() in load_second at oom-leak\.c:[0-9]*$' "$tmp/rows" &&
	grep -q '^first run: exit 0, .*, no leak$' "$tmp/out" &&
	grep -q ' 0 crashed, 1 leaked, 0 timed out$' "$tmp/out"; then
	pass "oom-leak: \"yes\" in load_second's row alone, status 0"
else
	fail "oom-leak" "status $rc, $nyes rows with a leak"
fi

# oom-hang: the run that hangs is ended by --timeout.
sweep --timeout 1 -- "$hang"
rows >"$tmp/rows"
if [ "$rc" -eq 1 ] &&
	grep -q '^[0-9]* timeout no malloc() in main at oom-hang\.c:[0-9]*$' "$tmp/rows" &&
	grep -q ' 0 crashed, 0 leaked, 1 timed out$' "$tmp/out" &&
	grep -q '^crashed or timed out' "$tmp/out"; then
	pass "oom-hang: --timeout 1 ends the hanging run, status 1"
else
	fail "oom-hang --timeout 1" "status $rc"
fi

# oom-cxx: operator new throws; uncaught, std::terminate aborts.
sweep $patient -- "$cxx"
rows >"$tmp/rows"
odd=$(awk '$2 != "exit" && $2 != "SIGABRT"' "$tmp/rows" | grep -c .)
caught=$(grep -c ' in load_table()' "$tmp/rows")
caught_ok=$(grep -c '^[0-9]* exit 1 no operator new in load_table()' "$tmp/rows")
if [ "$rc" -eq 1 ] && [ "$odd" -eq 0 ] && [ "$caught" -ge 1 ] &&
	[ "$caught" -eq "$caught_ok" ] &&
	grep -q '^[0-9]* SIGABRT no operator new in name_it() at oom-cxx\.cc:[0-9]*$' "$tmp/rows"; then
	pass "oom-cxx: bad_alloc caught in load_table (exit 1), not in name_it (SIGABRT)"
else
	fail "oom-cxx" "status $rc, $odd odd rows, $caught_ok of $caught load_table rows exit 1"
fi

# Bad usage: status 2, one line then the usage text on stderr, nothing on
# stdout.
usage_error() {
	want=$1
	shift
	sweep "$@"
	if [ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] &&
		[ "$(head -1 "$tmp/err")" = "dbgalloc oom-sweep: $want" ] &&
		grep -q '^usage: dbgalloc oom-sweep ' "$tmp/err"; then
		pass "usage error: $want"
	else
		fail "usage error: $want" "status $rc"
	fi
}
usage_error "no command to run"
usage_error "no command to run" --jobs 2 --
usage_error "unknown option '--bogus'" --bogus -- "$clean"
usage_error "--jobs wants a whole number from 1 up, not '0'" --jobs 0 -- "$clean"
usage_error "--from wants a whole number from 1 up, not 'x'" --from x -- "$clean"
usage_error "--to wants a whole number from 1 up, not '-3'" --to=-3 -- "$clean"
usage_error "--timeout wants a whole number of seconds, 0 for none, not '1.5'" --timeout 1.5 -- "$clean"
usage_error "option '--to' needs a value (--to=VALUE)" --to
usage_error "--from 5 is past --to 2" --from 5 --to 2 -- "$clean"

# A command that does not exist: said by the first run, status 2.
sweep -- "$tmp/no-such-program"
if [ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] &&
	[ "$(cat "$tmp/err")" = "dbgalloc oom-sweep: $tmp/no-such-program: not found" ]; then
	pass "a missing command: not found, status 2"
else
	fail "a missing command" "status $rc"
fi

# --help: the usage text on stdout, status 0, no library needed.
DBGALLOC_LIBRARY=$tmp/none DBGALLOC_OOM_SWEEP=$tool "$launcher" oom-sweep --help \
	>"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] &&
	grep -q '^usage: dbgalloc oom-sweep ' "$tmp/out"; then
	pass "oom-sweep --help: usage on stdout, status 0"
else
	fail "oom-sweep --help" "status $rc"
fi

# The launcher's checks: the program and the library.
DBGALLOC_LIBRARY=$lib DBGALLOC_OOM_SWEEP=$tmp/none "$launcher" oom-sweep -- "$clean" \
	>"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
if [ "$rc" -eq 2 ] && [ "$(cat "$tmp/err")" = "dbgalloc: oom-sweep program not found or not executable: $tmp/none (from DBGALLOC_OOM_SWEEP=$tmp/none)" ]; then
	pass "DBGALLOC_OOM_SWEEP pointing nowhere: one line, status 2"
else
	fail "DBGALLOC_OOM_SWEEP pointing nowhere" "status $rc"
fi
DBGALLOC_LIBRARY=$tmp/none DBGALLOC_OOM_SWEEP=$tool "$launcher" oom-sweep -- "$clean" \
	>"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
if [ "$rc" -eq 2 ] && [ "$(cat "$tmp/err")" = "dbgalloc: library not found: $tmp/none (from DBGALLOC_LIBRARY=$tmp/none)" ]; then
	pass "oom-sweep with a missing library: the launcher's line, status 2"
else
	fail "oom-sweep with a missing library" "status $rc"
fi

finish
