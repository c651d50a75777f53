#!/bin/sh
# The demo, run through the launcher as `make demo` does (--leaks), prints
# each of its promises and exits 0; on stderr, the leaking child's report
# (its records, by size and function, and its SUMMARY), then the other
# child's double free. The parent leaks nothing: one report only.
set -u
# Only --leaks counts, not what make check-leaks passes down: test-env.sh
# clears it.
. "$(dirname "$0")/../integration/test-env.sh"
out=$tmp/out err=$tmp/err dumps=$tmp/dumps
mkdir "$dumps" || exit 1
# Lines "PASS: NAME"; the whole output is shown once at the end instead.
colon=:
shows=
DBGALLOC_LIBRARY=$lib "$top/dbgalloc" run --leaks \
	--dump="$dumps/demo.%p.dgd" -- "$top/tests/demo/demo" >"$out" 2>"$err"
rc=$?
check() {
	if grep -qE "$2" "$3"; then pass "$1"
	else fail "$1 (no line matching '$2')"; fi
}
# record HEADLINE FUNCTION WHAT: the report has the record, and one of its
# first two frames is in FUNCTION (strdup's caller for remember_name).
record() {
	if awk -v h="$1" -v f=" in $2 " '
		$0 == h { on = 1; n = 0; next }
		on && /^    #/ { n++; if (index($0, f)) found = 1; if (n == 2) on = 0; next }
		on { on = 0 }
		END { exit !found }' "$err"; then pass "$3"
	else fail "$3 (no record '$1' from $2)"; fi
}
check "runs under dbgalloc" '^demo: malloc is dbgalloc [0-9]+\.[0-9]+\.[0-9]+$' "$out"
check "blocks are dbgalloc's" '^demo: kept 100000 of 200000 strings, 100000 of them in dbgalloc blocks$' "$out"
check "heap figures" '^demo: heap in use [0-9]+ bytes of [0-9]+ mapped$' "$out"
check "leaking child announced" '^demo: a child process now leaks 480 bytes from three functions and exits:$' "$out"
check "leak report" '^dbgalloc: leak report at exit \(pid [0-9]+\)$' "$err"
record "Leak of 80 bytes in 1 block (definitely lost; referencing 10 blocks, 320 bytes, indirectly lost) allocated from:" load_table "the table, holding its rows"
record "Leak of 320 bytes in 10 blocks (indirectly lost) allocated from:" load_table "the table's rows"
record "Leak of 64 bytes in 1 block (definitely lost) allocated from:" open_session "the session"
record "Leak of 16 bytes in 1 block (definitely lost) allocated from:" remember_name "the strdup'd name, named by strdup's caller"
check "leak summary" '^SUMMARY: dbgalloc: 480 bytes leaked in 13 blocks \(definitely lost: 160 bytes in 3 blocks; indirectly lost: 320 bytes in 10 blocks\)$' "$err"
n=$(grep -c '^dbgalloc: leak report' "$err")
[ "$n" -eq 1 ] && pass "one leak report: the parent leaks nothing" ||
	fail "$n leak reports, want 1"
check "limit announced" '^demo: with a limit of 1 MiB above the [0-9]+ bytes live, a cache of 64 KiB blocks grows:$' "$out"
check "the 17th block refused" '^demo: the cache got 16 blocks, then malloc returned NULL; 1 allocation refused$' "$out"
check "freeing brings allocations back" '^demo: after freeing the cache, malloc succeeds again$' "$out"
check "limit report" '^dbgalloc: memory limit reached: malloc\(\) of 65,536 bytes refused$' "$err"
check "limit report: the limit" '^  limit [0-9,]+ bytes \(dbgalloc_limit_set\); live [0-9,]+ bytes in [0-9,]+ blocks; peak [0-9,]+ bytes$' "$err"
record "  refused at:" grow_cache "the refused allocation's caller"
record "  1,048,576 bytes in 16 blocks allocated from:" grow_cache "the site holding the memory"
n=$(grep -c '^dbgalloc: memory limit reached' "$err")
[ "$n" -eq 1 ] && pass "one limit report" || fail "$n limit reports, want 1"
check "double free stopped" '^demo: the child was stopped with SIGABRT, as it should be$' "$out"
check "diagnostic printed" '^dbgalloc: double free of 0x[0-9a-f]+ \(24-byte block, generation [0-9]+\) in free\(\)$' "$err"
check "guard run announced" '^demo: the demo runs again with DBGALLOC_GUARD=1 DBGALLOC_GUARD_ALIGN=1 and writes one byte past a 13-byte block:$' "$out"
check "overflow stopped at the write" '^demo: it was stopped with SIGSEGV at the write, as it should be$' "$out"
check "guard report" '^dbgalloc: heap-buffer-overflow: write at 0x[0-9a-f]+, 1 byte past the end of 0x[0-9a-f]+ \(13-byte block, generation [0-9]+\)$' "$err"
grep -A2 '^dbgalloc: heap-buffer-overflow' "$err" | grep -q '^    #0 0x[0-9a-f]* in overflow ' &&
	pass "the faulting instruction, in overflow()" ||
	fail "the guard report's first frame is not in overflow()"
first=$(grep -n -m1 '^dbgalloc: leak report' "$err" | cut -d: -f1)
second=$(grep -n -m1 '^dbgalloc: double free' "$err" | cut -d: -f1)
[ -n "$first" ] && [ -n "$second" ] && [ "$first" -lt "$second" ] &&
	pass "the leak report comes before the double free" ||
	fail "the leak report (line ${first:-none}) is not before the double free (line ${second:-none})"
if [ "$rc" -eq 0 ]; then pass "exit status 0"
else fail "exit status $rc"; fi
# The dumps: the parent's and the leaking child's (the child stopped by its
# double free writes none); make demo summarises the parent's, the last.
n=$(ls "$dumps" | wc -l)
[ "$n" -eq 2 ] && pass "two dumps written" || fail "$n dumps written, want 2"
parent=$(ls -t "$dumps"/demo.*.dgd | head -n 1)
sum=$tmp/sum
"$top/tools/dbgalloc-stats" summary "$parent" >"$sum" 2>/dev/null
src=$?
[ "$src" -eq 0 ] && pass "dbgalloc-stats summary exits 0" ||
	fail "dbgalloc-stats summary: exit status $src"
check "summary: the parent's exit dump" '^demo \(pid [0-9]+\): dump [0-9]+, reason exit, ' "$sum"
check "summary: the refused allocation" '^  failed +1 \(by the limit 1, injected 0\)$' "$sum"
check "summary: a peak above the 1 MiB cache" '^  peak +([1-9][0-9.]* MiB|[0-9.]+ GiB)' "$sum"
check "summary: the sites at the peak" '^  top [0-9]+ sites? at the peak:$' "$sum"
# The leaking child's dump (the older one) carries the leak check's
# verdicts, the same as its report: the scan at exit, deep in the dump
# writer, reads the program's frames only (it once found the lost table
# reachable there: 80 bytes in 2 blocks).
child=$(ls -t "$dumps"/demo.*.dgd | tail -n 1)
"$top/tools/dbgalloc-stats" leaks "$child" >"$sum" 2>/dev/null
check "the child's dump: the leaks of its report" '^SUMMARY: dbgalloc: 480 bytes leaked in 13 blocks \(definitely lost: 160 bytes in 3 blocks; indirectly lost: 320 bytes in 10 blocks\)$' "$sum"
[ "$failed" -eq 0 ] || cat "$out" "$err"
finish
