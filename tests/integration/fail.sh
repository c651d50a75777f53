#!/bin/sh
# fail.sh — fault injection end to end (DBGALLOC_FAIL_AT, _RATE, _SEED,
# _SITE, _LOG), preloaded and through the launcher, on limit-prog (built
# plain; see its header): `fail N` makes N allocations, the Ith of 999 + I
# bytes from numbered_alloc, before anything else in the process, so that
# allocation I is the process's Ith, and prints one character per
# allocation (X: NULL with ENOMEM); `sites N` alternates parse_record and
# load_table. Checked: the count at exit, which allocations fail and the
# log naming them, replay of a rate's failures by number, seeds, call-site
# patterns, the same numbering with and without the log, bad values.
# Inherited DBGALLOC_ variables and LD_PRELOAD are cleared first.
set -u

. "$(dirname "$0")/limit-env.sh"

# inject SETTING... -- ARGS...: limit-prog ARGS, preloaded, with the
# settings (NAME=VALUE) in its environment.
inject() {
	for a; do
		shift
		if [ "$a" = -- ]; then
			set -- "$@" LD_PRELOAD="$lib" "$prog"
		else
			set -- "$@" "$a"
		fi
	done
	run env "$@"
}

# pattern N FAILING...: the line limit-prog fail N prints when exactly the
# allocations FAILING (numbers from 1) fail.
pattern() {
	awk -v n="$1" -v list="$*" 'BEGIN {
		k = split(list, f, " ")
		for (i = 2; i <= k; i++)
			x[f[i]] = 1
		for (i = 1; i <= n; i++)
			printf "%s", (i in x) ? "X" : "."
		printf "\n"
	}'
}

# failing: the numbers of the X's in the pattern line of $tmp/out.
failing() {
	awk 'NR == 1 {
		for (i = 1; i <= length($0); i++)
			if (substr($0, i, 1) == "X")
				printf "%s%d", (n++ ? " " : ""), i
		printf "\n"
	}' "$tmp/out"
}

# logged: the numbers of the injected failures in $tmp/err's log, in order.
logged() {
	sed -n 's/^dbgalloc: injected failure of allocation \([0-9]*\): .*/\1/p' \
		"$tmp/err" | tr '\n' ' ' | sed 's/ $//'
}

# exit_line N F: the last line of stderr is the count at exit, with F
# failures and at least N allocations numbered.
exit_line() {
	tail -1 "$tmp/err" | awk -v n="$1" -v f="$2" '
		{ ok = $0 ~ /^dbgalloc: [0-9]+ allocations numbered, [0-9]+ failures? injected$/ &&
		       $2 + 0 >= n && $5 + 0 == f &&
		       ($5 == 1) == ($0 ~ /failure injected$/) }
		END { exit !ok }'
}

if [ ! -x "$launcher" ] || [ ! -r "$lib" ] || [ ! -x "$prog" ]; then
	fail setup "$launcher, $lib or $prog missing"
	finish
fi

# --- DBGALLOC_FAIL_LOG alone: the count ----------------------------------
inject DBGALLOC_FAIL_LOG=1 -- fail 20
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$(pattern 20)" ] &&
	[ "$(wc -l <"$tmp/err" | tr -d ' ')" -eq 1 ] && exit_line 20 0
result "DBGALLOC_FAIL_LOG=1: no failure, one line at exit with the count" $?

inject DBGALLOC_FAIL_LOG=0 -- fail 20
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$(pattern 20)" ] &&
	[ ! -s "$tmp/err" ]
result "DBGALLOC_FAIL_LOG=0: nothing" $?

# --- DBGALLOC_FAIL_AT ------------------------------------------------------
for k in 1 7 20; do
	inject DBGALLOC_FAIL_AT=$k -- fail 20
	[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$(pattern 20 $k)" ] &&
		[ ! -s "$tmp/err" ]
	result "DBGALLOC_FAIL_AT=$k: allocation $k alone fails, silently" $?

	inject DBGALLOC_FAIL_AT=$k DBGALLOC_FAIL_LOG=1 -- fail 20
	[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$(pattern 20 $k)" ] &&
		[ "$(sed -n 1p "$tmp/err")" = "dbgalloc: injected failure of allocation $k: malloc() of $((999 + k)) bytes, from:" ] &&
		sed -n 2p "$tmp/err" |
		grep -Eq '^    #0 0x[0-9a-f]+ in numbered_alloc .*limit-prog' &&
		[ "$(grep -c '^dbgalloc:' "$tmp/err")" -eq 2 ] &&
		exit_line 20 1
	result "DBGALLOC_FAIL_AT=$k, logged: its number, size and numbered_alloc" $?
done

inject DBGALLOC_FAIL_AT=17,3,5,5 DBGALLOC_FAIL_LOG=1 -- fail 20
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$(pattern 20 3 5 17)" ] &&
	[ "$(logged)" = "3 5 17" ] && exit_line 20 3
result "DBGALLOC_FAIL_AT=17,3,5,5: 3, 5 and 17, each once" $?

inject DBGALLOC_FAIL_AT=100000 DBGALLOC_FAIL_LOG=1 -- fail 20
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$(pattern 20)" ] &&
	exit_line 20 0
result "DBGALLOC_FAIL_AT past the last allocation: none fails" $?

run "$launcher" run --fail-at=7 --fail-log=1 -- "$prog" fail 20
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$(pattern 20 7)" ] &&
	[ "$(logged)" = 7 ] && exit_line 20 1
result "dbgalloc run --fail-at=7 --fail-log=1: the same" $?

# --- DBGALLOC_FAIL_RATE and _SEED, replayed by number ----------------------
inject DBGALLOC_FAIL_RATE=10% DBGALLOC_FAIL_SEED=7 DBGALLOC_FAIL_LOG=1 -- \
	fail 200
cp "$tmp/out" "$tmp/rate7"
log7=$(logged)
n7=$(echo "$log7" | wc -w | tr -d ' ')
# Allocation 201 (stdio's buffer, after the pattern was made) may fail too.
[ "$rc" -eq 0 ] && [ "$(failing)" = "$(echo "$log7" |
	awk '{ for (i = 1; i <= NF; i++) if ($i <= 200) printf "%s%s", (n++ ? " " : ""), $i; printf "\n" }')" ] &&
	[ "$n7" -ge 5 ] && [ "$n7" -le 40 ] && exit_line 200 "$n7"
result "DBGALLOC_FAIL_RATE=10% SEED=7: $n7 failures, the log names each" $?

inject DBGALLOC_FAIL_AT="$(echo "$log7" | tr ' ' ,)" -- fail 200
[ "$rc" -eq 0 ] && cmp -s "$tmp/rate7" "$tmp/out"
result "replay: DBGALLOC_FAIL_AT=<the logged numbers> fails the same ones" $?

inject DBGALLOC_FAIL_RATE=10% DBGALLOC_FAIL_SEED=7 -- fail 200
[ "$rc" -eq 0 ] && cmp -s "$tmp/rate7" "$tmp/out" && [ ! -s "$tmp/err" ]
result "the same seed again, without the log: the same failures" $?

inject DBGALLOC_FAIL_RATE=0.1 DBGALLOC_FAIL_SEED=7 -- fail 200
[ "$rc" -eq 0 ] && cmp -s "$tmp/rate7" "$tmp/out"
result "DBGALLOC_FAIL_RATE=0.1 is 10%" $?

run "$launcher" run --fail-rate=10% --fail-seed=7 -- "$prog" fail 200
[ "$rc" -eq 0 ] && cmp -s "$tmp/rate7" "$tmp/out"
result "dbgalloc run --fail-rate=10% --fail-seed=7: the same failures" $?

inject DBGALLOC_FAIL_RATE=10% DBGALLOC_FAIL_SEED=8 -- fail 200
n8=$(failing | wc -w | tr -d ' ')
[ "$rc" -eq 0 ] && ! cmp -s "$tmp/rate7" "$tmp/out" && [ "$n8" -ge 5 ] &&
	[ "$n8" -le 40 ]
result "another seed (8): other failures, about as many ($n8)" $?

inject DBGALLOC_FAIL_RATE=10% -- fail 200
cp "$tmp/out" "$tmp/rate1"
inject DBGALLOC_FAIL_RATE=10% DBGALLOC_FAIL_SEED=1 -- fail 200
[ "$rc" -eq 0 ] && cmp -s "$tmp/rate1" "$tmp/out"
result "DBGALLOC_FAIL_SEED defaults to 1" $?

inject DBGALLOC_FAIL_RATE=1 -- fail 50
[ "$rc" -eq 0 ] && [ "$(sed -n 1p "$tmp/out")" = "$(pattern 50 $(seq 1 50))" ]
result "DBGALLOC_FAIL_RATE=1: every allocation fails" $?

inject DBGALLOC_FAIL_RATE=0 DBGALLOC_FAIL_LOG=1 -- fail 50
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$(pattern 50)" ] &&
	exit_line 50 0
result "DBGALLOC_FAIL_RATE=0: none" $?

# --- DBGALLOC_FAIL_SITE ----------------------------------------------------
# sites COUNT: "parse_record PATTERN" and "load_table PATTERN".
sites() {
	[ "$rc" -eq 0 ] && [ "$(sed -n 1p "$tmp/out")" = "parse_record $1" ] &&
		[ "$(sed -n 2p "$tmp/out")" = "load_table $2" ] &&
		[ "$(wc -l <"$tmp/out" | tr -d ' ')" -eq 2 ]
}

inject DBGALLOC_FAIL_SITE=parse_record -- sites 20
sites XXXXXXXXXX ..........
result "DBGALLOC_FAIL_SITE=parse_record alone: all of parse_record's fail" $?

inject 'DBGALLOC_FAIL_SITE=load_*' -- sites 20
sites .......... XXXXXXXXXX
result "DBGALLOC_FAIL_SITE='load_*': all of load_table's, none of the others" $?

inject DBGALLOC_FAIL_SITE=no_such_function -- sites 20
sites .......... ..........
result "DBGALLOC_FAIL_SITE matching nothing: none" $?

inject DBGALLOC_FAIL_SITE=parse_record DBGALLOC_FAIL_AT=1,2,3,4 -- sites 20
sites XX........ ..........
result "DBGALLOC_FAIL_SITE with FAIL_AT=1,2,3,4: only 1 and 3 (parse_record's)" $?

inject DBGALLOC_FAIL_SITE=parse_record DBGALLOC_FAIL_RATE=50% \
	DBGALLOC_FAIL_SEED=3 DBGALLOC_FAIL_LOG=1 -- sites 200
nx=$(sed -n 1p "$tmp/out" | tr -cd X | wc -c | tr -d ' ')
[ "$rc" -eq 0 ] && [ "$nx" -ge 20 ] && [ "$nx" -le 80 ] &&
	[ "$(sed -n 2p "$tmp/out")" = "load_table $(pattern 100 | tr X .)" ] &&
	[ "$(grep -c '^dbgalloc: injected failure' "$tmp/err")" -eq "$nx" ] &&
	[ "$(grep -c '^    #0 0x[0-9a-f]* in parse_record ' "$tmp/err")" -eq "$nx" ]
result "DBGALLOC_FAIL_SITE with FAIL_RATE=50%: $nx of parse_record's, logged as such" $?

run "$launcher" run --fail-site=parse_record -- "$prog" sites 20
sites XXXXXXXXXX ..........
result "dbgalloc run --fail-site=parse_record: the same" $?

# --- Bad values --------------------------------------------------------
at='allocation numbers from 1, separated by commas (5 or 5,17,200)'
for v in 0 x 3, 1,,2 -1; do
	inject DBGALLOC_FAIL_AT="$v" -- fail 5
	stops "dbgalloc: DBGALLOC_FAIL_AT=$v: expected $at"
	result "DBGALLOC_FAIL_AT='$v': status 2, one line with the accepted forms" $?
done

rate='a fraction from 0 to 1 (0.01) or a percentage (1%)'
for v in 2 101% 1.5 -0.1 0.0000000001 x; do
	inject DBGALLOC_FAIL_RATE="$v" -- fail 5
	stops "dbgalloc: DBGALLOC_FAIL_RATE=$v: expected $rate"
	result "DBGALLOC_FAIL_RATE='$v': status 2, one line with the accepted forms" $?
done

# Empty, as unset: no failure.
inject DBGALLOC_FAIL_AT= DBGALLOC_FAIL_RATE= DBGALLOC_FAIL_SITE= -- fail 20
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$(pattern 20)" ] &&
	[ ! -s "$tmp/err" ]
result "DBGALLOC_FAIL_AT=, _RATE=, _SITE= (empty): none" $?

inject DBGALLOC_FAIL_SEED=abc -- fail 5
stops "dbgalloc: DBGALLOC_FAIL_SEED=abc: expected a number from 0 to 18446744073709551614"
result "DBGALLOC_FAIL_SEED=abc: status 2, the range" $?

inject DBGALLOC_FAIL_LOG=yes -- fail 5
stops "dbgalloc: DBGALLOC_FAIL_LOG=yes: expected 0 or 1"
result "DBGALLOC_FAIL_LOG=yes: status 2, the accepted words" $?

run "$launcher" run --fail-at=0 -- "$prog" fail 5
stops "dbgalloc: DBGALLOC_FAIL_AT=0: expected $at"
result "dbgalloc run --fail-at=0: passed on and refused by the library" $?

finish
