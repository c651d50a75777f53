#!/bin/sh
# limit.sh — DBGALLOC_LIMIT end to end, preloaded and through the launcher
# (dbgalloc run --limit): the one report of the first refusal, word for
# word, and silence at the next; malformed values and a limit below what
# is live at start-up stopping the process with status 2 and one line; the
# size forms accepted; a budget per process; real programs unchanged under
# a generous limit and failing cleanly (no crash) under a tiny one.
# limit-prog (see its header) makes the allocations; it is built plain.
# Inherited DBGALLOC_ variables and LD_PRELOAD are cleared first. Every
# run has ulimit -v 2 GiB and a timeout.
set -u

. "$(dirname "$0")/limit-env.sh"
b=$top/tests/integration

# grabbed OK NULL: limit-prog grab printed OK lines "I ok" then NULL lines
# "I NULL", and exited 0.
grabbed() {
	: >"$tmp/want"
	i=0
	while [ "$i" -lt "$1" ]; do
		echo "$i ok" >>"$tmp/want"
		i=$((i + 1))
	done
	while [ "$i" -lt $(($1 + $2)) ]; do
		echo "$i NULL" >>"$tmp/want"
		i=$((i + 1))
	done
	[ "$rc" -eq 0 ] && cmp -s "$tmp/want" "$tmp/out"
}

# one_report: stderr is one limit report, of limit-prog grab 100000 12
# under a limit of 1 MiB: the headline, the limit line naming
# DBGALLOC_LIMIT, the refusing stack from grab_block through main, and the
# one call site holding the live memory. Nothing else: the second refusal
# is silent.
one_report() {
	awk '
		function want(cond) { if (!cond) bad = bad " " NR }
		NR == 1 { want($0 == "dbgalloc: memory limit reached: malloc() of 100,000 bytes refused"); next }
		NR == 2 { want($0 == "  limit 1,048,576 bytes (DBGALLOC_LIMIT); live 1,000,000 bytes in 10 blocks; peak 1,000,000 bytes"); next }
		NR == 3 { want($0 == "  refused at:"); next }
		NR == 4 { want($0 ~ /^    #0 0x[0-9a-f]+ in grab_block .*limit-prog/); next }
		state == 0 && /^    #[0-9]+ 0x[0-9a-f]+ in main / { main = 1; next }
		state == 0 && /^    #[0-9]+ / { next }
		state == 0 { want($0 == "  the 1 call site holding the most live memory:"); state = 1; next }
		state == 1 { want($0 == "  1,000,000 bytes in 10 blocks allocated from:"); state = 2; next }
		state == 2 { want($0 ~ /^    #0 0x[0-9a-f]+ in grab_block .*limit-prog/); state = 3; next }
		{ want(0) }
		END {
			if (!main || state != 3 || bad != "") {
				print "one_report: bad lines:" bad ", main " main ", state " state
				exit 1
			}
		}' "$tmp/err"
}

if [ ! -x "$launcher" ] || [ ! -r "$lib" ] || [ ! -x "$prog" ]; then
	fail setup "$launcher, $lib or $prog missing"
	finish
fi

# --- The report --------------------------------------------------------
run env DBGALLOC_LIMIT=1M LD_PRELOAD="$lib" "$prog" grab 100000 12
grabbed 10 2 && one_report
result "preloaded, 1M: 10 blocks of 100,000, then NULL; one report, exact" $?

run "$launcher" run --limit 1M -- "$prog" grab 100000 12
grabbed 10 2 && one_report
result "dbgalloc run --limit 1M: the same report" $?

run "$launcher" run --limit=1M -- "$prog" grab 100000 30
grabbed 10 20 && one_report
result "dbgalloc run --limit=1M: 20 refusals, still one report" $?

# DBGALLOC_LIMIT_ACTION=fail is the default.
run env DBGALLOC_LIMIT=1M DBGALLOC_LIMIT_ACTION=fail LD_PRELOAD="$lib" \
	"$prog" grab 100000 12
grabbed 10 2 && one_report
result "DBGALLOC_LIMIT_ACTION=fail: the same" $?

# --limit-action=abort: the same report, then SIGABRT (tests/abort/ has
# the death tests, linked and preloaded).
# (The braces keep the shell's own "Aborted" out of the log.)
{ run "$launcher" run --limit 1M --limit-action=abort -- "$prog" grab \
	100000 12; } 2>/dev/null
[ "$rc" -eq 134 ] && [ ! -s "$tmp/out" ] && one_report
result "dbgalloc run --limit-action=abort: the report, then SIGABRT" $?

# Nothing live before main in limit-prog: a limit of 1 byte lets the
# program start, and its one byte through.
run env DBGALLOC_LIMIT=1 LD_PRELOAD="$lib" "$prog" grab 1 2
grabbed 1 1 && [ "$(grep -c '^dbgalloc:' "$tmp/err")" -eq 1 ] &&
	grep -qx 'dbgalloc: memory limit reached: malloc() of 1 byte refused' \
		"$tmp/err" &&
	grep -qx '  limit 1 byte (DBGALLOC_LIMIT); live 1 byte in 1 block; peak 1 byte' \
		"$tmp/err"
result "DBGALLOC_LIMIT=1 in a program with nothing live: 1 byte, then NULL" $?

# --- Bad values ----------------------------------------------------------
sizes='a size from 0 to 1048576T (bytes, or with K, M, G or T; K = 1024)'
for v in 12Q 1.5M -1 100Mb ' 5M' ''; do
	run env DBGALLOC_LIMIT="$v" LD_PRELOAD="$lib" "$prog" limit
	stops "dbgalloc: DBGALLOC_LIMIT=$v: expected $sizes"
	result "DBGALLOC_LIMIT='$v': status 2, one line with the accepted forms" $?
done

for v in x Abort ''; do
	run env DBGALLOC_LIMIT_ACTION="$v" LD_PRELOAD="$lib" "$prog" limit
	stops "dbgalloc: DBGALLOC_LIMIT_ACTION=$v: expected fail or abort"
	result "DBGALLOC_LIMIT_ACTION='$v': status 2, the accepted words" $?
done

run "$launcher" run --limit=12Q -- "$prog" limit
stops "dbgalloc: DBGALLOC_LIMIT=12Q: expected $sizes"
result "dbgalloc run --limit=12Q: passed on and refused by the library" $?

# A limit below what is live before main (libstdc++'s emergency pool).
below='^dbgalloc: DBGALLOC_LIMIT=1 is below the [0-9,]+ bytes live at start-up$'
for p in "$b/cxx-plain" "$b/limit-cxx"; do
	if [ "$p" = "$b/cxx-plain" ]; then
		run env DBGALLOC_LIMIT=1 LD_PRELOAD="$lib" "$p"
	else
		run env DBGALLOC_LIMIT=1 "$p"
	fi
	[ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] &&
		[ "$(wc -l <"$tmp/err" | tr -d ' ')" -eq 1 ] &&
		grep -Eq "$below" "$tmp/err"
	result "DBGALLOC_LIMIT=1 below the live bytes at start-up (${p##*/}): status 2, one line" $?
done

# --- The forms of a size ---------------------------------------------------
for pair in 100M=104857600 100MiB=104857600 100MB=104857600 \
	512K=524288 512k=524288 1G=1073741824 1000000=1000000 \
	123456789=123456789 0=0; do
	v=${pair%%=*}
	run env DBGALLOC_LIMIT="$v" LD_PRELOAD="$lib" "$prog" limit
	[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "limit ${pair#*=}" ] &&
		[ ! -s "$tmp/err" ]
	result "DBGALLOC_LIMIT=$v is ${pair#*=} bytes" $?
done

run "$launcher" run --limit 100MiB -- "$prog" limit
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "limit 104857600" ]
result "dbgalloc run --limit 100MiB: 104857600 bytes" $?

# --- A budget per process ------------------------------------------------
run env DBGALLOC_LIMIT=1M LD_PRELOAD="$lib" sh -c \
	"'$prog' grab 100000 10 && '$prog' grab 100000 10"
[ "$rc" -eq 0 ] && [ "$(grep -c ' ok$' "$tmp/out")" -eq 20 ] &&
	! grep -q NULL "$tmp/out" && [ ! -s "$tmp/err" ]
result "sh -c running limit-prog twice under 1M: each gets its 10 blocks" $?

run env DBGALLOC_LIMIT=1M LD_PRELOAD="$lib" "$prog" hold 900000 \
	"$prog" grab 100000 10
[ "$rc" -eq 0 ] && [ "$(grep -c ' ok$' "$tmp/out")" -eq 10 ] &&
	grep -qx 'held 900000' "$tmp/out" &&
	grep -qx 'child status 0' "$tmp/out" && ! grep -q NULL "$tmp/out" &&
	[ ! -s "$tmp/err" ]
result "a parent holding 900,000 of 1M: its child still gets 1,000,000" $?

run "$launcher" run --limit 1M -- "$prog" hold 900000 "$prog" grab 100000 11
[ "$rc" -eq 0 ] && [ "$(grep -c ' ok$' "$tmp/out")" -eq 10 ] &&
	grep -qx '10 NULL' "$tmp/out" &&
	[ "$(grep -c '^dbgalloc: memory limit reached' "$tmp/err")" -eq 1 ]
result "the same through the launcher; the child's own limit still holds" $?

# --- Real programs -------------------------------------------------------
PYTHON3=${PYTHON3-python3}
PERL=${PERL-perl}

# need NAME PATH: 0 if PATH (configure's find, or NAME) is installed, else a
# failure is counted.
need() {
	if [ -n "$2" ] && command -v "$2" >/dev/null 2>&1; then
		return 0
	fi
	rc=1
	result "$1: not installed (the CI installs python3 perl)" 1
	return 1
}

# same_as_without NAME LIMIT CMD...: CMD under DBGALLOC_LIMIT=LIMIT prints
# what it prints without dbgalloc, exits 0 and reports nothing.
same_as_without() {
	name=$1 lim=$2
	shift 2
	run "$@"
	if [ "$rc" -ne 0 ]; then
		result "$name: runs without dbgalloc" 1
		return
	fi
	mv "$tmp/out" "$tmp/base"
	run env DBGALLOC_LIMIT="$lim" LD_PRELOAD="$lib" "$@"
	[ "$rc" -eq 0 ] && cmp -s "$tmp/base" "$tmp/out" && [ ! -s "$tmp/err" ]
	result "$name under DBGALLOC_LIMIT=$lim: the same output, status 0" $?
}

seq 1 200000 | awk '{ print ($1 * 7919) % 100003, $1 }' >"$tmp/big.txt"
head -2000 "$tmp/big.txt" >"$tmp/small.txt"

if need python3 "$PYTHON3"; then
	# The pyenv shim is a shell script: run the real interpreter.
	python=$("$PYTHON3" -c 'import sys; print(sys.executable)')
	same_as_without "python3 json of 100k objects" 256M "$python" -c '
import json
d = [{"k": i, "v": str(i) * 3} for i in range(100000)]
print(len(json.dumps(d)), sum(x["k"] for x in json.loads(json.dumps(d))))'
	run env DBGALLOC_LIMIT=4M LD_PRELOAD="$lib" "$python" -c '
x = [bytes(1000) for i in range(100000)]
print("not reached")'
	[ "$rc" -eq 1 ] && [ ! -s "$tmp/out" ] &&
		grep -q '^MemoryError' "$tmp/err" &&
		grep -Eq '^dbgalloc: memory limit reached: [a-z_]+\(\) of [0-9,]+ bytes? refused$' \
			"$tmp/err" &&
		[ "$(grep -c '^dbgalloc: memory limit reached' "$tmp/err")" -eq 1 ]
	result "python3 under DBGALLOC_LIMIT=4M: MemoryError, status 1, one report" $?
	run "$launcher" run --limit 2M -- "$python" -c 'bytearray(50000000)'
	[ "$rc" -eq 1 ] && grep -q '^MemoryError' "$tmp/err"
	result "python3 bytearray(50000000) under dbgalloc run --limit 2M: MemoryError" $?
fi

if need perl "$PERL"; then
	same_as_without "perl hash of 200k keys" 256M "$PERL" -e '
my %h; $h{$_} = $_ x 3 for 1 .. 200000;
my $n = 0; $n += length($h{$_}) for keys %h; print scalar(keys %h), " $n\n"'
	run env DBGALLOC_LIMIT=2M LD_PRELOAD="$lib" "$PERL" -e '
my @a; push @a, "x" x 1000 for 1 .. 100000; print scalar(@a), "\n"'
	[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && [ ! -s "$tmp/out" ] &&
		grep -q '^Out of memory' "$tmp/err" &&
		grep -q '^dbgalloc: memory limit reached' "$tmp/err"
	result "perl under DBGALLOC_LIMIT=2M: 'Out of memory!', non-zero, no signal" $?
fi

same_as_without "sort of 200,000 lines" 256M sort "$tmp/big.txt"
# Under 64 KiB sort's first buffer is refused: it sorts a small file in
# a smaller one, and gives up on a large one with its own message.
sort "$tmp/small.txt" >"$tmp/base"
run env DBGALLOC_LIMIT=64K LD_PRELOAD="$lib" sort "$tmp/small.txt"
[ "$rc" -eq 0 ] && cmp -s "$tmp/base" "$tmp/out" &&
	[ "$(grep -c '^dbgalloc: memory limit reached' "$tmp/err")" -eq 1 ]
result "sort of 2,000 lines under 64K: its buffer refused, the same output" $?
run env DBGALLOC_LIMIT=64K LD_PRELOAD="$lib" sort "$tmp/big.txt"
[ "$rc" -eq 2 ] && grep -q '^sort: memory exhausted' "$tmp/err" &&
	[ "$(grep -c '^dbgalloc: memory limit reached' "$tmp/err")" -eq 1 ]
result "sort of 200,000 lines under 64K: 'memory exhausted', status 2" $?

same_as_without "sh: a loop with command substitution" 256M sh -c '
i=0; s=; while [ $i -lt 2000 ]; do s="$s$(echo $i)"; i=$((i + 1)); done
echo ${#s}'

run "$launcher" run --limit 256M -- sh -c "sort '$tmp/big.txt' | tail -1"
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$(sort "$tmp/big.txt" | tail -1)" ] &&
	[ ! -s "$tmp/err" ]
result "dbgalloc run --limit 256M -- sh -c 'sort | tail': unchanged" $?

finish
