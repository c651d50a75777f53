#!/bin/sh
# The leak report against known ground truth (tests/leaks/leaky.c): exact
# bytes and blocks per site and class, the classes shown by default and
# with DBGALLOC_LEAKS=all, the exit code, LeakSanitizer suppressions, the
# log file, and in-process checks with DBGALLOC_LEAKS_NEW.
set -u
# Each check sets the settings it is about; inherited ones (make
# check-leaks) would add reports and change exit statuses: test-env.sh
# clears them.
. "$(dirname "$0")/../integration/test-env.sh"
src=${DA_TEST_TOP_SRCDIR:?run through make check (DA_TEST_TOP_SRCDIR)}
prog="$top/tests/leaks/leaky"
plain="$top/tests/leaks/leaky-plain"
# Lines "PASS: NAME"; a failure shows the report (stderr).
colon=:
shows=err

# has TEXT: the report has the line (fixed string)
has() { grep -qF -- "$1" "$tmp/err"; }
# record HEADLINE FUNCTION: the record's first two frames name FUNCTION
record() {
	awk -v h="$1" -v f=" in $2 " '
		index($0, h) == 1 { on = 1; n = 0; next }
		on && /^    #/ { n++; if (index($0, f)) found = 1; if (n == 2) on = 0; next }
		on { on = 0 }
		END { exit !found }' "$tmp/err"
}
check_record() {
	if record "$1" "$2"; then pass "$3"; else fail "$3: no record '$1' naming $2"; fi
}

for mode in linked preloaded; do
	if [ $mode = linked ]; then run() { env -u LD_PRELOAD "$@"; }; p=$prog
	else run() { env LD_PRELOAD="$lib" "$@"; }; p=$plain; fi

	DBGALLOC_LEAKS=all run "$p" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc -eq 0 ] && pass "$mode: LEAKS=all exits with the program's status" ||
		fail "$mode: LEAKS=all status $rc"
	check_record "Leak of 4,800 bytes in 100 blocks (definitely lost) allocated from:" leak_hundred "$mode: 100 dropped blocks"
	check_record "Leak of 48 bytes in 1 block (definitely lost; referencing 9,999 blocks, 479,952 bytes, indirectly lost) allocated from:" make_list "$mode: the list's lost head holds the rest"
	check_record "Leak of 479,952 bytes in 9,999 blocks (indirectly lost) allocated from:" make_list "$mode: the list's nodes"
	check_record "Leak of 24 bytes in 1 block (definitely lost) allocated from:" make_name "$mode: strdup's caller named"
	check_record "Leak of 64 bytes in 1 block (possibly lost) allocated from:" keep_interior "$mode: interior pointer"
	check_record "Leak of 80 bytes in 1 block (still reachable) allocated from:" keep_global "$mode: held by a global"
	check_record "Leak of 96 bytes in 1 block (still reachable) allocated from:" thread_holder "$mode: held by a thread's stack"
	# (libc's and the loader's own blocks add to the possibly lost and
	# still reachable totals: the program's are checked by site above.)
	has "SUMMARY: dbgalloc: 484,824 bytes leaked in 10,101 blocks (definitely lost: 4,872 bytes in 102 blocks; indirectly lost: 479,952 bytes in 9,999 blocks; possibly lost:" &&
		pass "$mode: summary" || fail "$mode: summary"
	# The root leak ranks first: it holds the most.
	first=$(grep -m1 '^Leak of' "$tmp/err")
	case $first in "Leak of 48 bytes in 1 block (definitely lost; referencing"*) pass "$mode: root leak first";;
		*) fail "$mode: first record is '$first'";; esac
	if grep -q "freed_all" "$tmp/err"; then fail "$mode: freed blocks reported"; else pass "$mode: freed blocks not reported"; fi

	DBGALLOC_LEAKS=1 run "$p" >/dev/null 2>"$tmp/err"
	if has "SUMMARY: dbgalloc: 484,824 bytes leaked in 10,101 blocks (definitely lost: 4,872 bytes in 102 blocks; indirectly lost: 479,952 bytes in 9,999 blocks)" &&
	   ! grep -q "possibly lost)\|still reachable)" "$tmp/err"; then
		pass "$mode: LEAKS=1 shows lost blocks only"
	else fail "$mode: LEAKS=1"; fi

	# With a dump at exit, the report takes its verdicts from the dump's
	# scan: the same records as from a scan of its own (the run just above),
	# and the dump's leak column gives the same summary.
	grep -E '^(Leak of|SUMMARY)' "$tmp/err" >"$tmp/alone"
	DBGALLOC_LEAKS=1 DBGALLOC_DUMP="$tmp/exit.dgd" run "$p" >/dev/null 2>"$tmp/err"
	rc=$?
	grep -E '^(Leak of|SUMMARY)' "$tmp/err" >"$tmp/shared"
	"$top/tools/dbgalloc-stats" leaks "$tmp/exit.dgd" 2>/dev/null |
		grep '^SUMMARY' >"$tmp/dumped"
	if [ $rc -eq 0 ] && [ -s "$tmp/alone" ] && cmp -s "$tmp/alone" "$tmp/shared" &&
	   [ "$(grep '^SUMMARY' "$tmp/shared")" = "$(cat "$tmp/dumped")" ]; then
		pass "$mode: with DBGALLOC_DUMP, the report of the dump's scan"
	else
		fail "$mode: with DBGALLOC_DUMP (status $rc), the dump says: $(cat "$tmp/dumped")"
		diff "$tmp/alone" "$tmp/shared" | sed 's/^/    /'
	fi
	rm -f "$tmp/exit.dgd"

	DBGALLOC_LEAKS=1 DBGALLOC_LEAKS_EXITCODE=23 run "$p" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc -eq 23 ] && pass "$mode: LEAKS_EXITCODE" || fail "$mode: LEAKS_EXITCODE gave $rc"

	DBGALLOC_LEAKS=1 DBGALLOC_SUPPRESSIONS="$src/tests/leaks/lsan.supp" \
		DBGALLOC_LEAKS_EXITCODE=23 run "$p" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 23 ] && ! grep -q " in make_list " "$tmp/err" &&
	   has "SUMMARY: dbgalloc: 4,824 bytes leaked in 101 blocks (definitely lost: 4,824 bytes in 101 blocks); suppressed: 480,000 bytes in 10,000 blocks" &&
	   grep -Eq '^ +2 +480,000 leak:make_list$' "$tmp/err"; then
		pass "$mode: LSan suppressions file"
	else fail "$mode: suppressions (status $rc)"; fi

	log="$tmp/log"
	DBGALLOC_LEAKS=1 DBGALLOC_LOG="$log.%p" run "$p" >/dev/null 2>"$tmp/err"
	n=$(ls "$tmp" | grep -c '^log\.[0-9][0-9]*$')
	if [ "$n" -eq 1 ] && grep -q "^SUMMARY: dbgalloc: 484,824 bytes" "$tmp"/log.* &&
	   ! grep -q SUMMARY "$tmp/err"; then
		pass "$mode: DBGALLOC_LOG with %p"
	else fail "$mode: DBGALLOC_LOG ($n files)"; fi
	rm -f "$tmp"/log.*

	# No report, no file; a directory that cannot take the file stops
	# the program at start-up.
	DBGALLOC_LOG="$log.%p" run "$p" >/dev/null 2>"$tmp/err"
	n=$(ls "$tmp" | grep -c '^log\.')
	[ "$n" -eq 0 ] && pass "$mode: DBGALLOC_LOG: no file when nothing is reported" ||
		fail "$mode: DBGALLOC_LOG made $n files with nothing to report"
	DBGALLOC_LOG="$tmp/no/such/dir/log" run "$p" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q "^dbgalloc: DBGALLOC_LOG: cannot write a file in the directory of $tmp/no/such/dir/log: No such file or directory$" "$tmp/err"; then
		pass "$mode: DBGALLOC_LOG in a missing directory: status 2 and one line"
	else fail "$mode: DBGALLOC_LOG in a missing directory: status $rc"; fi

	DBGALLOC_LEAKS=1 DBGALLOC_LOG="$log.%p" run "$p" fork >/dev/null 2>"$tmp/err"
	n=$(ls "$tmp" | grep -c '^log\.[0-9][0-9]*$')
	# (The child leaks 100 blocks more than its parent did.)
	kids=$(grep -l "^Leak of 9,600 bytes in 200 blocks (definitely lost)" "$tmp"/log.* | wc -l)
	if [ "$n" -eq 2 ] && [ "$kids" -eq 1 ]; then
		pass "$mode: a child of fork logs to its own %p file"
	else fail "$mode: fork and DBGALLOC_LOG ($n files, $kids with the child's report)"; fi
	rm -f "$tmp"/log.*

	run "$p" check >"$tmp/out" 2>"$tmp/err"
	if grep -q "^first: definite 4872/102 indirect 479952/9999 possible [0-9]*/[1-9][0-9]* reachable" "$tmp/out" &&
	   grep -q "^again: definite 0/0 indirect 0/0 possible 0/0 reachable 0/0$" "$tmp/out" &&
	   grep -q "^new: definite 24/1 indirect 0/0 possible 0/0 reachable 0/0$" "$tmp/out"; then
		pass "$mode: dbgalloc_leak_check, again, and only the new leak"
	else
		fail "$mode: dbgalloc_leak_check:"; sed 's/^/    /' "$tmp/out"
	fi

	run "$p" >/dev/null 2>"$tmp/err"
	if [ -s "$tmp/err" ]; then fail "$mode: report without DBGALLOC_LEAKS"; else pass "$mode: silent by default"; fi
done

finish
