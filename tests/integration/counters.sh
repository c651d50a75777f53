#!/bin/sh
# counters.sh — the dump's minor-1 records held to exact numbers, on
# counters-prog (see its header) preloaded, each dump read whole by
# dump-check, and columns found by their #fields names:
#   - call sites: allocations and bytes, frees (the allocations less the
#     live blocks), peak_live_bytes from the high-water step below the peak,
#     the page-run line of K, the step samples of the timeline;
#   - temporaries: with DBGALLOC_TEMPORARY unset and 1, the blocks freed
#     with none (or one) allocation of the thread in between; lifetimes in
#     allocations sampled one block in 256 (bucket 0 or 1 alone), as many
#     timed;
#   - stages: each epoch's totals at its start and its peak, the mark
#     samples;
#   - 4 threads allocating while 5 dumps are written: each whole, stopped,
#     its counters adding up;
#   - the thread column: main's blocks 1, a second thread's 2;
#   - the exit dump under DBGALLOC_LEAKS: each block's verdict (d, i, r)
#     and H leak_scan yes, the leak report still written;
#   - DBGALLOC_SAMPLE_INTERVAL: interval samples;
#   - real programs (python3, perl, sort) preloaded with DBGALLOC_DUMP:
#     whole dumps (skipped when one is not installed).
set -u

. "$(dirname "$0")/limit-env.sh"
prog=$top/tests/integration/counters-prog
check=$top/tests/integration/dump-check

if [ ! -x "$prog" ] || [ ! -x "$check" ] || [ ! -r "$lib" ]; then
	fail setup "$prog, $check or $lib missing"
	finish
fi

# checked FILE: dump-check accepts FILE and says "consistency stopped".
checked() {
	"$check" "$1" >"$tmp/check" 2>&1 &&
		grep -q ' consistency stopped$' "$tmp/check"
}

# val FILE NAME: the H or T value NAME of FILE.
val() {
	"$check" -v "$2" "$1"
}

# site NAME: the stack id of function NAME of the last run: the S record
# (depth 1) whose frame lies between NAME's address and the next function's.
site() {
	start=$(($(sed -n "s/^fn $1 //p" "$tmp/out")))
	next=-1
	for a in $(sed -n 's/^fn [^ ]* //p' "$tmp/out"); do
		a=$((a))
		if [ "$a" -gt "$start" ] && { [ "$next" -lt 0 ] || [ "$a" -lt "$next" ]; }; then
			next=$a
		fi
	done
	sed -n 's/^S \([0-9]*\) 1 \(0x[0-9a-f]*\)$/\1 \2/p' "$dumpf" |
		while read -r id pc; do
			pc=$((pc))
			if [ "$pc" -gt "$start" ] &&
				{ [ "$next" -lt 0 ] || [ "$pc" -lt "$next" ]; }; then
				echo "$id"
			fi
		done
}

# rec TYPE KEY [COLUMN...]: the named columns of the TYPE records whose
# first column is KEY (all of them for KEY "*"), as the #fields line of
# TYPE names them, separated by spaces.
rec() {
	t=$1 key=$2
	shift 2
	awk -v t="$t" -v key="$key" -v cols="$*" '
		$1 == "#fields" && $2 == t {
			for (i = 3; i <= NF; i++)
				at[$i] = i - 1
		}
		$1 == t && (key == "*" || $2 == key) {
			n = split(cols, c, " ")
			line = ""
			for (i = 1; i <= n; i++)
				line = line (i > 1 ? " " : "") $(at[c[i]])
			print line
		}' "$dumpf"
}

# --- Call sites, page runs, steps. ---
dumpf=$tmp/sites.dump
run env LD_PRELOAD="$lib" "$prog" sites "$dumpf"
big=$(site big)
[ "$rc" -eq 0 ] && checked "$dumpf" && [ -n "$big" ] &&
	[ "$(rec X "$big" live_blocks live_bytes allocs alloc_bytes frees free_bytes temporary)" = \
		"1 1048576 3 3145728 2 2097152 0" ]
result "X: a site's allocations, frees, bytes (3 blocks of 1 MiB, 2 freed)" $?
[ "$(rec X "$big" peak_live_bytes)" = 3145728 ]
result "X peak_live_bytes: the site's bytes at the step below the peak" $?
# The steps: one per MiB crossed (the third MiB's step is the peak's),
# each a P record of live bytes in the MiB it crossed; then the dump's.
steps=$(rec P '*' reason live_bytes | awk '$1 == "step" { print int($2 / 1048576) }' | tr '\n' ' ')
last=$(rec P '*' reason live_bytes | tail -1)
[ "$steps" = "1 2 3 " ] &&
	[ "$last" = "dump $(val "$dumpf" live_bytes)" ] &&
	[ "$(val "$dumpf" peak_bytes)" -ge 3145728 ]
result "P: a step sample per high-water step, the dump's last" $?
# Page runs: 3 handed out, 2 freed, 1 live; its peak 3 (seen at the step).
[ "$(rec K - allocs frees live_blocks live_bytes peak_live_blocks)" = "3 2 1 1048576 3" ]
result "K -: the blocks of pages, with their peak" $?

# --- Temporaries. ---
dumpf=$tmp/tmp0.dump
run env LD_PRELOAD="$lib" "$prog" temporaries "$dumpf"
t0=$(site tmp0) pa=$(site pair_a) pb=$(site pair_b) kp=$(site keep)
[ "$rc" -eq 0 ] && checked "$dumpf" &&
	[ "$(val "$dumpf" temporary_threshold)" = 0 ] &&
	[ "$(rec X "$t0" allocs frees temporary)" = "100000 100000 100000" ] &&
	[ "$(rec X "$pa" allocs frees temporary)" = "5000 5000 0" ] &&
	[ "$(rec X "$pb" allocs frees temporary)" = "5000 5000 5000" ] &&
	[ "$(rec X "$kp" allocs live_blocks temporary)" = "30 30 0" ]
result "X temporary: freed before the thread allocated anything else" $?
# Lifetimes: one block in 256 is sampled (about 390 of tmp0's 100,000),
# each of lifetime 0 allocations; each of pair_a's 1; as many timed.
set -- $(rec X "$t0" life_allocs life_us)
la=$1 lu=$2
set -- $(rec X "$pa" life_allocs)
[ "$(echo "$la" | tr -d 0-9)" = "" ] && [ "$la" -ge 370 ] &&
	[ "$la" -le 410 ] &&
	[ "$(echo "$lu" | tr ',' '\n' | awk '{ s += $1 } END { print s }')" = "$la" ] &&
	echo "$1" | grep -q '^0,[0-9][0-9]*$' && [ "$(rec X "$kp" life_allocs)" = - ] &&
	[ "$(val "$dumpf" life_sample)" = 256 ]
result "X life_allocs, life_us: one block in 256, in its bucket" $?
run env DBGALLOC_TEMPORARY=1 LD_PRELOAD="$lib" "$prog" temporaries "$dumpf"
t0=$(site tmp0) pa=$(site pair_a) pb=$(site pair_b)
[ "$rc" -eq 0 ] && checked "$dumpf" &&
	[ "$(val "$dumpf" temporary_threshold)" = 1 ] &&
	[ "$(rec X "$t0" temporary)" = 100000 ] &&
	[ "$(rec X "$pa" temporary)" = 5000 ] &&
	[ "$(rec X "$pb" temporary)" = 5000 ]
result "DBGALLOC_TEMPORARY=1: one allocation in between is temporary" $?

# --- Stages. ---
dumpf=$tmp/stages.dump
run env LD_PRELOAD="$lib" "$prog" stages "$dumpf"
[ "$rc" -eq 0 ] && checked "$dumpf" &&
	[ "$(rec C '*' epoch allocs alloc_bytes frees free_bytes peak_bytes name | tr '\n' '|')" = \
		"0 0 0 0 0 10000 start|1 10 10000 0 0 20000 build|2 30 20000 5 5000 15000 trim|3 30 20000 25 15000 5000 done|" ]
result "C: each stage's totals at its start, and its peak" $?
[ "$(rec P '*' reason live_bytes | tr '\n' '|')" = "mark 10000|mark 15000|mark 5000|dump 5000|" ] &&
	[ "$(val "$dumpf" peak_bytes)" = 20000 ] &&
	[ "$(val "$dumpf" peak_epoch)" = 1 ]
result "P mark samples; the peak and its epoch" $?

# --- While 4 threads allocate. ---
rm -f "$tmp"/t.*.dump
run env LD_PRELOAD="$lib" "$prog" threads "$tmp/t.%n.dump" 5
ok=$rc
for n in 1 2 3 4 5; do
	dumpf=$tmp/t.$n.dump
	checked "$dumpf" || { ok=1; break; }
	# A thread stopped inside an allocation or a free may be counted and
	# not listed: at most 4 apart.
	a=$(grep -c '^A ' "$dumpf")
	l=$(val "$dumpf" live_blocks)
	x=$(rec X '*' live_blocks | awk '{ s += $1 } END { print s + 0 }')
	xa=$(rec X '*' allocs | awk '{ s += $1 } END { print s + 0 }')
	ka=$(rec K '*' allocs | awk '{ s += $1 } END { print s + 0 }')
	[ $((a - l)) -le 4 ] && [ $((l - a)) -le 4 ] &&
		[ "$x" -le "$a" ] &&
		[ "$xa" -le "$(val "$dumpf" total_allocs)" ] &&
		[ "$(val "$dumpf" total_allocs)" -le $((ka + 4)) ] &&
		[ "$(rec A '*' thread | sort -u | grep -c .)" -ge 4 ] || ok=1
done
[ "$ok" -eq 0 ]
result "5 dumps while 4 threads allocate: whole, their counts adding up" $?

# --- Threads' numbers. ---
dumpf=$tmp/owner.dump
run env LD_PRELOAD="$lib" "$prog" owner "$dumpf"
ok=$rc
for a in $(sed -n 's/^main //p' "$tmp/out"); do
	[ "$(rec A "$a" thread)" = 1 ] || ok=1
done
for a in $(sed -n 's/^thread //p' "$tmp/out"); do
	[ "$(rec A "$a" thread)" = 2 ] || ok=1
done
[ "$ok" -eq 0 ] && checked "$dumpf" &&
	[ "$(sed -n 's/^thread //p' "$tmp/out" | wc -l)" -eq 5 ]
result "A thread: the main thread 1, the second thread to allocate 2" $?

# --- Leak verdicts at exit. ---
dumpf=$tmp/leaks.dump
run env DBGALLOC_LEAKS=1 DBGALLOC_DUMP="$dumpf" LD_PRELOAD="$lib" "$prog" leaks
root=$(site lost_root) child=$(site lost_child) reach=$(site reachable)
[ "$rc" -eq 0 ] && checked "$dumpf" && [ "$(val "$dumpf" leak_scan)" = yes ] &&
	[ "$(rec A '*' stack leak | awk -v s="$root" '$1 == s { print $2 }')" = d ] &&
	[ "$(rec A '*' stack leak | awk -v s="$child" '$1 == s { print $2 }')" = i ] &&
	[ "$(rec A '*' stack leak | awk -v s="$reach" '$1 == s { print $2 }')" = r ] &&
	grep -q '^SUMMARY: dbgalloc: 80 bytes leaked in 2 blocks' "$tmp/err"
result "the exit dump under DBGALLOC_LEAKS: each block's verdict" $?
dumpf=$tmp/noleaks.dump
run env DBGALLOC_DUMP="$dumpf" LD_PRELOAD="$lib" "$prog" leaks
[ "$rc" -eq 0 ] && checked "$dumpf" && [ "$(val "$dumpf" leak_scan)" = no ] &&
	[ "$(rec A '*' leak | sort -u)" = - ]
result "without the leak check: H leak_scan no, every verdict -" $?

# --- The interval. ---
dumpf=$tmp/busy.dump
run env DBGALLOC_SAMPLE_INTERVAL=10ms DBGALLOC_DUMP="$dumpf" LD_PRELOAD="$lib" \
	"$prog" busy 300
n=$(rec P '*' reason | grep -c '^interval$')
[ "$rc" -eq 0 ] && checked "$dumpf" && [ "$n" -ge 5 ] && [ "$n" -le 60 ]
result "DBGALLOC_SAMPLE_INTERVAL=10ms: interval samples ($n in 300 ms)" $?

# --- Real programs. ---
real() {
	name=$1
	shift
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "SKIP $name: $1 is not installed"
		return
	fi
	dumpf=$tmp/real.dump
	rm -f "$dumpf"
	run env DBGALLOC_DUMP="$dumpf" LD_PRELOAD="$lib" "$@"
	[ "$rc" -eq 0 ] && checked "$dumpf" &&
		[ "$(grep -c '^X ' "$dumpf")" -ge 1 ] &&
		[ "$(grep -c '^K ' "$dumpf")" -ge 2 ] &&
		[ "$(rec X '*' allocs | awk '{ s += $1 } END { print s + 0 }')" -ge \
			"$(grep -c '^A ' "$dumpf")" ]
	result "$name under DBGALLOC_DUMP: a whole dump" $?
}
seq 1 20000 | sed 's/^/x/' >"$tmp/lines"
real "python3" python3 -c 'import json; d = {str(i): [i] * 10 for i in range(20000)}; print(len(json.dumps(d)))'
real "python3 (PYTHONMALLOC=malloc)" env PYTHONMALLOC=malloc python3 -c 'print(sum(len(str(i)) for i in range(100000)))'
real "perl" perl -e 'my %h; $h{$_} = [$_] for 1 .. 20000; print scalar(keys %h), "\n"'
real "sort" sort -r "$tmp/lines"

finish
