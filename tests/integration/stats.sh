#!/bin/sh
# stats.sh — dbgalloc-stats on dumps of real programs, preloaded with
# DBGALLOC_DUMP: stats-prog (three epochs of known blocks, see its header),
# dump-prog known (7 blocks of 1,000 bytes and 3 of 24 from two sites),
# and sort(1) on a thousand lines. Every command runs on each dump, text
# and JSON, and must exit 0 (check: 0 or 1 as its limits say) with what the
# dump holds:
#   - summary's live bytes are the dump's T live_bytes, the JSON parses;
#   - stages: stats-prog's three epochs, load leaving exactly 16,000 bytes
#     in 8 blocks and serve 3,000 in 10;
#   - top: stats-prog's sites are 16,000, 3,000 and 400 bytes; dump-prog's
#     7,000 in 7 first, and 72 in 3 (beside stdout's buffer);
#   - leaks: its SUMMARY bytes are the sum of the A records' sizes;
#   - diff of two runs of dump-prog: the two known sites are the same
#     although the program was loaded elsewhere; of a dump with itself,
#     nothing changed;
#   - check passes at live + 1 and fails at live - 1, naming the site;
#   - temporaries: stats-prog's churn made 50 temporary blocks when the
#     dump counts them (minor 1), their lifetimes sampled 1 in 256 blocks
#     (the JSON's life_sample, the text's title line), or the command says
#     it has none;
#   - classes runs (a table in minor 1, a line in minor 0).
# JSON is checked with python3 when configure found it.
set -u

. "$(dirname "$0")/limit-env.sh"
stats=$top/tools/dbgalloc-stats
sprog=$top/tests/integration/stats-prog
dprog=$top/tests/integration/dump-prog

if [ ! -x "$stats" ] || [ ! -x "$sprog" ] || [ ! -x "$dprog" ] ||
	[ ! -r "$lib" ]; then
	fail setup "$stats, $sprog, $dprog or $lib missing"
	finish
fi
py=${PYTHON3:-}

# dumped NAME CMD...: runs CMD preloaded, its dump in $tmp/NAME.dump.
dumped() {
	name=$1
	shift
	rm -rf "$tmp/d" && mkdir "$tmp/d"
	run env DBGALLOC_DUMP="$tmp/d/x.%p.dump" LD_PRELOAD="$lib" "$@"
	f=$(ls "$tmp/d"/x.*.dump 2>/dev/null | head -1)
	[ "$rc" -eq 0 ] && [ -n "$f" ] && mv "$f" "$tmp/$name.dump"
}

# commas N: N as dbgalloc-stats counts, 1,234,567.
commas() {
	echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'
}

# t FILE NAME: the value of T NAME in FILE.
t() {
	sed -n "s/^T $2 //p" "$1"
}

# stats ARGS...: dbgalloc-stats, stdout in $tmp/out, stderr in $tmp/err.
stats() {
	run "$stats" "$@"
}

# json EXPR: python's EXPR over the JSON in $tmp/out (as j) is true.
json() {
	[ -z "$py" ] && return 0
	"$py" -c "import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if ($1) else 1)" "$tmp/out"
}

dumped sprog "$sprog"
result "stats-prog writes a dump" $?
dumped known "$dprog" known
result "dump-prog known writes a dump" $?
dumped known2 "$dprog" known
result "dump-prog known writes a second dump" $?
seq 1000 | sed 's/$/ a line to sort/' >"$tmp/lines"
dumped sort sort -r "$tmp/lines"
result "sort writes a dump" $?

# Every command, both forms, on every dump: exit 0, nothing on stderr but
# the symbolizer's notes on modules without debug information (Debian's
# sort, libc without its -dbg package).
for d in sprog known sort; do
	for cmd in summary top leaks classes stages temporaries; do
		for form in text json; do
			stats "$cmd" --format "$form" "$tmp/$d.dump"
			ok=$?
			grep -v '^dbgalloc-stats: [^ ]*: no debug info; its frames have no file:line$' \
				"$tmp/err" >"$tmp/err.other"
			[ "$rc" -eq 0 ] && [ -s "$tmp/out" ] && [ ! -s "$tmp/err.other" ] ||
				ok=1
			[ "$form" = json ] && { json True || ok=1; }
			result "$cmd --format $form on $d" "$ok"
		done
	done
	stats diff "$tmp/$d.dump" "$tmp/$d.dump"
	[ "$rc" -eq 0 ] && grep -q ' (0 new, 0 gone, 0 changed)$' "$tmp/out"
	result "diff of $d with itself: nothing changed" $?
	live=$(t "$tmp/$d.dump" live_bytes)
	stats summary --format json "$tmp/$d.dump"
	[ "$rc" -eq 0 ] && json "j['dumps'][0]['live_bytes'] == $live"
	result "summary of $d: live bytes $live as T live_bytes" $?
	stats summary "$tmp/$d.dump"
	[ "$rc" -eq 0 ] && grep -q "^  live  *.* in $(t "$tmp/$d.dump" live_blocks) blocks\$" "$tmp/out"
	result "summary of $d: live blocks as T live_blocks" $?
	# leaks: its SUMMARY is the A records' sizes (none ignored here).
	sum=$(awk '$1 == "A" && $6 !~ /i/ { s += $3 } END { print s + 0 }' "$tmp/$d.dump")
	stats leaks "$tmp/$d.dump"
	[ "$rc" -eq 0 ] &&
		grep -q "^SUMMARY: dbgalloc: $(commas "$sum") bytes live in " "$tmp/out"
	result "leaks of $d: SUMMARY is the A records' $sum bytes" $?
	# check around the live bytes.
	stats check --max-live "$((live + 1))" "$tmp/$d.dump"
	[ "$rc" -eq 0 ] && grep -q '^PASS ' "$tmp/out"
	result "check --max-live live+1 passes on $d" $?
	stats check --max-live "$((live - 1))" "$tmp/$d.dump"
	[ "$rc" -eq 1 ] && grep -q '^FAIL .*: live heap was limited to' "$tmp/out" &&
		grep -q '^    - .* allocated here:$' "$tmp/out"
	result "check --max-live live-1 fails on $d, naming sites" $?
	stats check --baseline "$tmp/$d.dump" --fail-on-increase "$tmp/$d.dump"
	[ "$rc" -eq 0 ]
	result "check against itself as baseline passes on $d" $?
done

# stats-prog: the stage table and the sites.
stats stages --format json "$tmp/sprog.dump"
[ "$rc" -eq 0 ] && json "[s['stage'] for s in j['dumps'][0]['stages']] == ['start', 'load', 'serve'] and
[(s['live_bytes'], s['live_blocks']) for s in j['dumps'][0]['stages']][1:] == [(16000, 8), (3000, 10)]"
result "stages of stats-prog: start, load (16,000 in 8), serve (3,000 in 10)" $?
stats stages "$tmp/sprog.dump"
[ "$rc" -eq 0 ] && grep -q '^      1  load .* 15.62 KiB       8$' "$tmp/out" &&
	grep -q '^      2  serve .* 2.93 KiB      10$' "$tmp/out"
result "stages of stats-prog in text" $?
stats top --format json "$tmp/sprog.dump"
[ "$rc" -eq 0 ] && json "[(r['live_bytes'], r['live_blocks']) for r in j['dumps'][0]['rows']][:3] == [(16000, 8), (3000, 10), (400, 4)]"
result "top of stats-prog: 16,000 in 8, 3,000 in 10, 400 in 4" $?
stats temporaries --format json "$tmp/sprog.dump"
if [ "$(sed -n 1p "$tmp/sprog.dump")" = "DBGALLOC-DUMP 1 0" ]; then
	stats temporaries "$tmp/sprog.dump"
	[ "$rc" -eq 0 ] && grep -q 'no temporary allocations counted in this dump (format 1.0)' "$tmp/out"
	result "temporaries of a minor-0 dump: none counted, and it says so" $?
else
	[ "$rc" -eq 0 ] && json "j['dumps'][0]['rows'][0]['temporary'] >= 50 and
any(r['temporary'] == 50 and r['allocs'] == 50 for r in j['dumps'][0]['rows'])"
	result "temporaries of stats-prog: churn's 50 of 50" $?
	[ "$rc" -eq 0 ] && json "j['dumps'][0]['life_sample'] == 256"
	result "temporaries of stats-prog: life_sample 256 in JSON" $?
	stats temporaries "$tmp/sprog.dump"
	[ "$rc" -eq 0 ] &&
		sed -n 1p "$tmp/out" | grep -q ' with temporary allocations (.*; lifetimes sampled 1 in 256 blocks)$'
	result "temporaries of stats-prog: the title says 1 in 256 sampled" $?
fi

# dump-prog known, twice: its two sites, the same in both runs.
stats top --format json "$tmp/known.dump"
[ "$rc" -eq 0 ] && json "[(r['live_bytes'], r['live_blocks']) for r in j['dumps'][0]['rows']][0] == (7000, 7) and
(72, 3) in [(r['live_bytes'], r['live_blocks']) for r in j['dumps'][0]['rows']]"
result "top of dump-prog known: 7,000 in 7 first, 72 in 3 among the rest" $?
stats diff --format json "$tmp/known.dump" "$tmp/known2.dump"
[ "$rc" -eq 0 ] && json "[r['status'] for r in j['rows'] if (r['live_bytes'], r['live_blocks']) in ((7000, 7), (72, 3))] == ['same', 'same']"
result "diff of two runs of dump-prog: the known sites are the same" $?
[ "$(sed -n 's/^M 1 \(0x[0-9a-f]*\) .*/\1/p' "$tmp/known.dump")" != \
	"$(sed -n 's/^M 1 \(0x[0-9a-f]*\) .*/\1/p' "$tmp/known2.dump")" ]
result "the two runs of dump-prog were loaded at different addresses" $?

# The version, and a dump cut short.
stats --version
[ "$rc" -eq 0 ] && grep -q '^dbgalloc-stats [0-9]' "$tmp/out"
result "--version" $?
head -c 1000 "$tmp/sprog.dump" >"$tmp/cut.dump"
stats summary "$tmp/cut.dump"
stops "dbgalloc-stats: $tmp/cut.dump: truncated: no trailer"
result "a dump cut short: one line, status 2" $?

finish
