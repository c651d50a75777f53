#!/bin/sh
# triggers.sh — the dump triggers and the live leak check end to end, on
# trigger-prog (see its header) and limit-prog, preloaded:
#   - DBGALLOC_DUMP_SIGNAL: a dump per signal while 4 threads work, each
#     whole (dump-check), reason signal:USR2, numbered; the program's
#     results right; nothing left beside the dumps;
#   - DBGALLOC_DUMP_INTERVAL=100ms: at least 5 dumps in 1.5 s, each whole;
#   - the limit: one dump (reason limit) for 2 refusals, holding the 10
#     blocks live at the refusal; under DBGALLOC_LIMIT_ACTION=abort, the
#     dump before the abort;
#   - a dump that cannot be written: its one line, the program goes on;
#   - a child of fork: its own dumper thread, its own dumps and live check;
#   - DBGALLOC_LEAKS_SIGNAL with `dbgalloc-stats leaks --pid`
#     (dbgalloc-stats leaks --pid): the known leaks exactly (blocks, bytes, call
#     sites, the order), twice, while the program runs on, its results
#     right, the copy reaped; the report read from a log file, from a
#     standard error that is a file, and sent to one that is a pipe;
#   - the tool's errors: no such process, not under dbgalloc, no
#     DBGALLOC_LEAKS_SIGNAL, a signal not caught, no report in time, bad
#     options, permission denied (as another user, when root);
#   - bad settings: one line and status 2, preloaded and by the launcher;
#   - python3 and perl under DBGALLOC_DUMP_INTERVAL=100ms, dumps whole, and
#     a live check of python3;
#   - signals and live checks sent every 50 ms to 8 working threads (4 s;
#     DA_TEST_SOAK_SECONDS, 600 under make soak), every dump and report
#     whole, the dump file whole whenever a reader looks.
# The pauses of the live checks are printed. Inherited DBGALLOC_ variables
# and LD_PRELOAD are cleared first; every program has ulimit -v 2 GiB.
set -u

. "$(dirname "$0")/limit-env.sh"
prog=$top/tests/integration/trigger-prog
limitprog=$top/tests/integration/limit-prog
check=$top/tests/integration/dump-check
stats=$top/tools/dbgalloc-stats
# dbgalloc-stats leaks --pid PID [OPTIONS]
driver() { "$stats" leaks "$@"; }
soak=${DA_TEST_SOAK_SECONDS:-4}

bg=
watchdog=
cleanup() {
	[ -n "$bg" ] && kill -KILL "$bg" 2>/dev/null
	[ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -x "$prog" ] || [ ! -x "$check" ] || [ ! -x "$stats" ] ||
	[ ! -x "$limitprog" ] || [ ! -r "$lib" ]; then
	fail setup "$prog, $check, $stats, $limitprog or $lib missing"
	finish
fi

# wait_for FILE PATTERN SECONDS: FILE has a line matching PATTERN (grep).
wait_for() {
	i=0
	while [ "$i" -lt $(($3 * 20)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# wait_file FILE SECONDS: FILE exists.
wait_file() {
	i=0
	while [ "$i" -lt $(($2 * 20)) ]; do
		[ -e "$1" ] && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# start CMD...: runs CMD in the background (ulimit -v 2 GiB, killed after
# 300 s), stdin from a fifo held on descriptor 3, stdout in $tmp/out,
# stderr in $tmp/err (or $errto); $bg is its pid. Waits for "ready" or
# "child" on its stdout.
start() {
	# The old output goes first: the child truncates it only once it runs,
	# and a "ready" left from the last process would be taken for its own.
	rm -f "$tmp/in" "$tmp/out" "$tmp/err" && mkfifo "$tmp/in" && exec 3<>"$tmp/in"
	(
		ulimit -v 2097152
		exec "$@"
	) <"$tmp/in" >"$tmp/out" 2>"${errto:-$tmp/err}" &
	bg=$!
	(
		sleep 300
		kill -KILL "$bg"
	) >/dev/null 2>&1 &
	watchdog=$!
	wait_for "$tmp/out" '^ready$\|^child ' 60
}

# quit: says quit, waits; the status in $rc.
quit() {
	echo quit >&3
	exec 3>&-
	wait "$bg"
	rc=$?
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	bg= watchdog=
}

# checked FILE REASON: a whole dump, consistent, with that reason.
checked() {
	"$check" "$1" >"$tmp/check" 2>&1 &&
		grep -q ' consistency stopped$' "$tmp/check" &&
		[ "$(sed -n 's/^H reason //p' "$1")" = "$2" ]
}

# h FILE KEY: the value of H KEY in FILE.
h() {
	sed -n "s/^H $2 //p" "$1"
}

fresh() {
	rm -rf "$tmp/d" && mkdir "$tmp/d" && : >"$tmp/check"
}

# --- DBGALLOC_DUMP_SIGNAL. ---
fresh
start env DBGALLOC_DUMP="$tmp/d/s.%p.%n.dump" DBGALLOC_DUMP_SIGNAL=USR2 \
	LD_PRELOAD="$lib" "$prog" serve
ok=$?
pid=$bg
for n in 1 2 3; do
	[ "$ok" -eq 0 ] && kill -USR2 "$pid" &&
		wait_file "$tmp/d/s.$pid.$n.dump" 20 || ok=1
done
quit
all_ok=0
for n in 1 2 3; do
	f=$tmp/d/s.$pid.$n.dump
	checked "$f" signal:USR2 && [ "$(h "$f" dump_seq)" = "$n" ] &&
		[ "$(grep -c '^A 0x[0-9a-f]* 72 ' "$f")" -eq 5 ] || all_ok=1
done
[ "$ok" -eq 0 ] && [ "$all_ok" -eq 0 ] && [ "$rc" -eq 0 ] &&
	[ ! -s "$tmp/err" ] && grep -q '^results ok$' "$tmp/out" &&
	checked "$tmp/d/s.$pid.4.dump" exit &&
	[ "$(ls -A "$tmp/d" | wc -l)" -eq 4 ]
result "DUMP_SIGNAL: a whole dump per signal while 4 threads work" $?

# --- DBGALLOC_DUMP_INTERVAL. ---
fresh
start env DBGALLOC_DUMP="$tmp/d/i.%n.dump" DBGALLOC_DUMP_INTERVAL=100ms \
	LD_PRELOAD="$lib" "$prog" serve
ok=$?
sleep 1.5
quit
n=$(ls "$tmp/d" | grep -c '^i\.[0-9]*\.dump$')
all_ok=0
k=1
while [ "$k" -lt "$n" ]; do
	checked "$tmp/d/i.$k.dump" interval || all_ok=1
	k=$((k + 1))
done
echo "  $((n - 1)) interval dumps in 1.5 s"
[ "$ok" -eq 0 ] && [ "$n" -ge 6 ] && [ "$all_ok" -eq 0 ] &&
	checked "$tmp/d/i.$n.dump" exit && [ "$rc" -eq 0 ] &&
	[ ! -s "$tmp/err" ] && grep -q '^results ok$' "$tmp/out" &&
	[ "$(ls -A "$tmp/d" | wc -l)" -eq "$n" ]
result "DUMP_INTERVAL=100ms: at least 5 whole dumps in 1.5 s" $?

# --- The limit. ---
fresh
run env DBGALLOC_LIMIT=1M DBGALLOC_DUMP="$tmp/d/l.%n.dump" \
	LD_PRELOAD="$lib" "$limitprog" grab 100000 12
f=$tmp/d/l.1.dump
[ "$rc" -eq 0 ] && [ "$(grep -c ' ok$' "$tmp/out")" -eq 10 ] &&
	[ "$(grep -c ' NULL$' "$tmp/out")" -eq 2 ] && checked "$f" limit &&
	[ "$(grep -c '^A 0x[0-9a-f]* 100000 ' "$f")" -eq 10 ] &&
	checked "$tmp/d/l.2.dump" exit && [ "$(ls -A "$tmp/d" | wc -l)" -eq 2 ] &&
	grep -q '^dbgalloc: memory limit reached: ' "$tmp/err"
result "the limit: one dump, reason limit, the 10 blocks live at the refusal" $?

fresh
run env DBGALLOC_LIMIT=1M DBGALLOC_LIMIT_ACTION=abort \
	DBGALLOC_DUMP="$tmp/d/l.%n.dump" LD_PRELOAD="$lib" "$limitprog" \
	grab 100000 12
f=$tmp/d/l.1.dump
[ "$rc" -eq 134 ] && checked "$f" limit &&
	[ "$(grep -c '^A 0x[0-9a-f]* 100000 ' "$f")" -eq 10 ] &&
	[ "$(ls -A "$tmp/d" | wc -l)" -eq 1 ]
result "LIMIT_ACTION=abort: the limit's dump is written before the abort" $?

# --- A dump that cannot be written. ---
fresh
start env DBGALLOC_DUMP="$tmp/d/none/x.dump" DBGALLOC_DUMP_SIGNAL=USR2 \
	LD_PRELOAD="$lib" "$prog" serve 2
ok=$?
kill -USR2 "$bg"
wait_for "$tmp/err" 'cannot write' 20 || ok=1
quit
line="dbgalloc: cannot write the dump $tmp/d/none/x.dump: No such file or directory"
[ "$ok" -eq 0 ] && [ "$rc" -eq 0 ] && grep -q '^results ok$' "$tmp/out" &&
	[ "$(grep -c . "$tmp/err")" -eq 2 ] &&
	[ "$(grep -cxF "$line" "$tmp/err")" -eq 2 ]
result "a dump that fails: its one line, the program goes on" $?

# --- A child of fork: its own thread, dumps and live check. ---
fresh
start env DBGALLOC_DUMP="$tmp/d/f.%p.%n.dump" DBGALLOC_DUMP_SIGNAL=USR2 \
	DBGALLOC_LEAKS_SIGNAL=USR1 DBGALLOC_LOG="$tmp/d/log.%p" \
	LD_PRELOAD="$lib" "$prog" fork
ok=$?
parent=$bg
child=$(sed -n 's/^child //p' "$tmp/out")
threads=$(ls "/proc/$child/task" 2>/dev/null | wc -l)
[ -n "$child" ] && kill -USR2 "$child" &&
	wait_file "$tmp/d/f.$child.1.dump" 20 || ok=1
driver --pid "$child" >"$tmp/report" 2>"$tmp/derr" || ok=1
quit
# The parent waits in waitpid: its dumper thread is its second.
[ "$ok" -eq 0 ] && [ "$rc" -eq 0 ] && [ "$threads" -eq 2 ] &&
	checked "$tmp/d/f.$child.1.dump" signal:USR2 &&
	[ "$(h "$tmp/d/f.$child.1.dump" pid)" = "$child" ] &&
	checked "$tmp/d/f.$child.2.dump" exit &&
	grep -q "^dbgalloc: live leak check of pid $child at .* (1 thread stopped for [0-9.]* ms; the fork took [0-9.]* ms)\$" "$tmp/report" &&
	grep -q '^SUMMARY: dbgalloc: 0 bytes leaked in 0 blocks$' \
		"$tmp/report" && checked "$tmp/d/f.$parent.1.dump" exit &&
	[ "$(ls -A "$tmp/d" | grep -c 'dump$')" -eq 3 ]
result "a child of fork starts its own dumper: its dump, its live check" $?

# --- The live leak check, through dbgalloc-stats leaks --pid. ---

# The report of trigger-prog serve, addresses and numbers aside.
cat >"$tmp/want" <<'EOF'
dbgalloc: live leak check of pid PID at DATE TIME UTC (5 threads stopped for MS ms; the fork took MS ms)

Leak of 360 bytes in 5 blocks (definitely lost) allocated from:
    #0 0xADDR in lose_lone trigger-prog.c:LINE (trigger-prog+0xADDR)
  first block: generation N (epoch 0 "start")

Leak of 96 bytes in 1 block (definitely lost; referencing 3 blocks, 120 bytes, indirectly lost) allocated from:
    #0 0xADDR in lose_list trigger-prog.c:LINE (trigger-prog+0xADDR)
  first block: generation N (epoch 0 "start")

Leak of 120 bytes in 3 blocks (indirectly lost) allocated from:
    #0 0xADDR in list_node trigger-prog.c:LINE (trigger-prog+0xADDR)
  first block: generation N (epoch 0 "start")

SUMMARY: dbgalloc: 576 bytes leaked in 9 blocks (definitely lost: 456 bytes in 6 blocks; indirectly lost: 120 bytes in 3 blocks)
EOF

# normal FILE: the report with the pid, time, pause, addresses, source
# directories, lines and generations replaced by words.
normal() {
	sed -e 's/of pid [0-9]* at [0-9-]* [0-9:]* UTC/of pid PID at DATE TIME UTC/' \
		-e 's/stopped for [0-9.]* ms; the fork took [0-9.]* ms/stopped for MS ms; the fork took MS ms/' \
		-e 's/0x[0-9a-f]*/0xADDR/g' \
		-e 's/ [^ ]*trigger-prog\.c:[0-9]* / trigger-prog.c:LINE /' \
		-e 's/generation [0-9]*/generation N/' "$1"
}

# pause FILE: the pause a report states, in ms.
pause() {
	sed -n 's/^dbgalloc: live leak check .* stopped for \([0-9.]* ms; the fork took [0-9.]* ms\).*/\1/p' "$1"
}

fresh
start env DBGALLOC_LEAKS_SIGNAL=USR1 DBGALLOC_LOG="$tmp/d/log.%p" \
	LD_PRELOAD="$lib" "$prog" serve
ok=$?
pid=$bg
driver --pid "$pid" >"$tmp/r1" 2>"$tmp/derr" || ok=1
alive1=$(kill -0 "$pid" 2>/dev/null && echo yes)
driver --pid "$pid" --timeout 60 >"$tmp/r2" 2>>"$tmp/derr" || ok=1
# The copies are reaped: no child left.
reaped=1
for i in $(seq 100); do
	[ -z "$(ps -o pid= --ppid "$pid" 2>/dev/null)" ] && reaped=0 && break
	sleep 0.05
done
quit
echo "  live checks of 5 threads: stopped for $(pause "$tmp/r1"); $(pause "$tmp/r2")"
normal "$tmp/r1" >"$tmp/n1"
normal "$tmp/r2" >"$tmp/n2"
[ "$ok" -eq 0 ] && cmp -s "$tmp/want" "$tmp/n1" && cmp -s "$tmp/want" "$tmp/n2"
result "leaks --pid: the known leaks exactly, twice" $?
[ "$ok" -eq 0 ] && [ "$alive1" = yes ] && [ "$reaped" -eq 0 ] &&
	[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && [ ! -s "$tmp/derr" ] &&
	grep -q '^results ok$' "$tmp/out" &&
	[ "$(grep -c '^dbgalloc: live leak check of pid' "$tmp/d/log.$pid")" -eq 2 ] &&
	[ "$(grep -c '^SUMMARY' "$tmp/d/log.$pid")" -eq 2 ]
result "leaks --pid: the program ran on, results right, copies reaped" $?
if [ "$ok" -ne 0 ] || ! cmp -s "$tmp/want" "$tmp/n1"; then
	diff "$tmp/want" "$tmp/n1" | sed 's/^/  /' | head -20
	sed 's/^/  derr: /' "$tmp/derr"
fi

# Standard error a file: read there.
fresh
errto=$tmp/d/stderr
start env DBGALLOC_LEAKS_SIGNAL=USR1 LD_PRELOAD="$lib" "$prog" serve
ok=$?
errto=
driver --pid "$bg" >"$tmp/r1" 2>"$tmp/derr" || ok=1
quit
normal "$tmp/r1" >"$tmp/n1"
[ "$ok" -eq 0 ] && [ "$rc" -eq 0 ] && cmp -s "$tmp/want" "$tmp/n1" &&
	[ ! -s "$tmp/derr" ] && normal "$tmp/d/stderr" | cmp -s "$tmp/want" -
result "leaks --pid: no DBGALLOC_LOG, standard error a file: read there" $?

# Standard error a pipe: the signal sent, the tool says where it went.
fresh
mkfifo "$tmp/errpipe"
cat "$tmp/errpipe" >"$tmp/d/piped" &
reader=$!
errto=$tmp/errpipe
start env DBGALLOC_LEAKS_SIGNAL=USR1 LD_PRELOAD="$lib" "$prog" serve
ok=$?
errto=
driver --pid "$bg" >"$tmp/r1" 2>"$tmp/derr"
drc=$?
wait_for "$tmp/d/piped" '^SUMMARY' 30 || ok=1
quit
wait "$reader"
normal "$tmp/d/piped" >"$tmp/n1"
[ "$ok" -eq 0 ] && [ "$drc" -eq 0 ] && [ ! -s "$tmp/r1" ] &&
	grep -q "^dbgalloc-stats: pid [0-9]* has no DBGALLOC_LOG: its leak report goes to its standard error ($tmp/errpipe), which is not a file this tool can read\$" "$tmp/derr" &&
	cmp -s "$tmp/want" "$tmp/n1"
result "leaks --pid: standard error a pipe: the report there, the tool says so" $?

# --- The tool's errors: one line, status 2, nothing sent. ---
tool_fails() {
	[ "$drc" -eq 2 ] && [ ! -s "$tmp/r1" ] &&
		[ "$(wc -l <"$tmp/derr" | tr -d ' ')" -eq 1 ] &&
		grep -q "$1" "$tmp/derr"
}
gone=4194000
while [ -e "/proc/$gone" ]; do gone=$((gone + 1)); done
driver --pid "$gone" >"$tmp/r1" 2>"$tmp/derr"
drc=$?
tool_fails "^dbgalloc-stats: no process with pid $gone\$"
result "leaks --pid: no such process" $?

fresh
start sh -c 'echo ready; read x'
driver --pid "$bg" >"$tmp/r1" 2>"$tmp/derr"
drc=$?
tool_fails "^dbgalloc-stats: pid $bg is not running under dbgalloc (no libdbgalloc is loaded in it)\$" &&
	kill -0 "$bg"
r=$?
quit
result "leaks --pid: not running under dbgalloc" $r

fresh
start env LD_PRELOAD="$lib" "$prog" serve 1
driver --pid "$bg" >"$tmp/r1" 2>"$tmp/derr"
drc=$?
tool_fails "^dbgalloc-stats: pid $bg was started without DBGALLOC_LEAKS_SIGNAL (start it with DBGALLOC_LEAKS_SIGNAL=USR1 to check it while it runs)\$"
r=$?
quit
result "leaks --pid: no DBGALLOC_LEAKS_SIGNAL" $r

fresh
start env DBGALLOC_LEAKS_SIGNAL=USR1 LD_PRELOAD="$lib" "$prog" nocatch
driver --pid "$bg" >"$tmp/r1" 2>"$tmp/derr"
drc=$?
tool_fails "^dbgalloc-stats: pid $bg does not catch SIGUSR1 (its DBGALLOC_LEAKS_SIGNAL): not sent, it could end the process\$" &&
	kill -0 "$bg"
r=$?
quit
result "leaks --pid: a signal the process does not catch is not sent" $r

fresh
start env DBGALLOC_LEAKS_SIGNAL=USR1 DBGALLOC_LOG="$tmp/d/log" \
	LD_PRELOAD="$lib" "$prog" serve 1
# The signal is sent only once the process is stopped: a SIGUSR1 pending
# beside a SIGSTOP not yet acted on is taken first (lower number), and the
# check it starts could finish before the stop.
kill -STOP "$bg"
i=0
while [ "$i" -lt 400 ] && [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$bg/stat")" != T ]; do
	sleep 0.05
	i=$((i + 1))
done
driver --pid "$bg" --timeout=1 >"$tmp/r1" 2>"$tmp/derr"
drc=$?
tool_fails "^dbgalloc-stats: no leak report from pid $bg in 1 s (in $tmp/d/log)\$"
r=$?
[ "$r" -eq 0 ] || sed "s/^/  derr (status $drc): /" "$tmp/derr"
kill -CONT "$bg"
driver --pid "$bg" --timeout 3 --format text >"$tmp/r2" 2>"$tmp/derr2"
r2=$?
quit
result "leaks --pid: no report in time (a stopped process)" $r
[ "$r2" -eq 0 ] && grep -q '^SUMMARY' "$tmp/r2"
result "leaks --pid: --timeout 3 --format text" $?

for bad in "--timeout 0" "--timeout=x" "--format json" "--colour" "--timeout"; do
	# shellcheck disable=SC2086
	driver --pid 1 $bad >"$tmp/r1" 2>"$tmp/derr"
	drc=$?
	tool_fails '^dbgalloc-stats: leaks --pid: ' || break
done
result "leaks --pid: bad options, one line each" $?

# Permission denied: as another user (root runs it as nobody), or pid 1.
fresh
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	start env DBGALLOC_LEAKS_SIGNAL=USR1 LD_PRELOAD="$lib" "$prog" serve 1
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$stats" leaks --pid "$bg" >"$tmp/r1" 2>"$tmp/derr"
	drc=$?
	target=$bg
	quit
else
	driver --pid 1 >"$tmp/r1" 2>"$tmp/derr"
	drc=$?
	target=1
fi
tool_fails "^dbgalloc-stats: pid $target: permission denied (cannot read /proc/$target/environ)\$"
result "leaks --pid: permission denied" $?

# --- Bad settings: one line, status 2. ---
for case in \
	"DBGALLOC_DUMP_INTERVAL=30|dbgalloc: DBGALLOC_DUMP_INTERVAL=30: expected a time from 10ms to 1440m with its unit, ms, s or m (100ms, 30s, 5m)" \
	"DBGALLOC_DUMP_SIGNAL=USR3|dbgalloc: DBGALLOC_DUMP_SIGNAL=USR3: expected a signal's name or number (USR2, SIGUSR2, RTMIN+2 or 12)" \
	"DBGALLOC_LEAKS_SIGNAL=SEGV|dbgalloc: DBGALLOC_LEAKS_SIGNAL=SEGV: expected a signal's name or number (USR1, SIGUSR1, RTMIN+2 or 10)" \
	"DBGALLOC_DUMP_SIGNAL=USR2|dbgalloc: DBGALLOC_DUMP_SIGNAL needs DBGALLOC_DUMP, the file to write the dumps to" \
	"DBGALLOC_DUMP_INTERVAL=1s|dbgalloc: DBGALLOC_DUMP_INTERVAL needs DBGALLOC_DUMP, the file to write the dumps to"; do
	setting=${case%%|*}
	want=${case#*|}
	run env "$setting" LD_PRELOAD="$lib" "$prog" serve 0
	stops "$want"
	result "$setting: one line, status 2" $?
done
run env DBGALLOC_DUMP=x DBGALLOC_DUMP_SIGNAL=USR1 \
	DBGALLOC_LEAKS_SIGNAL=SIGUSR1 LD_PRELOAD="$lib" "$prog" serve 0
stops "dbgalloc: DBGALLOC_DUMP_SIGNAL and DBGALLOC_LEAKS_SIGNAL name the same signal, SIGUSR1"
result "the same signal twice: one line, status 2" $?
run "$launcher" run --dump-interval=30 -- "$prog" serve 0
stops "dbgalloc: DBGALLOC_DUMP_INTERVAL=30: expected a time from 10ms to 1440m with its unit, ms, s or m (100ms, 30s, 5m)"
result "run --dump-interval=30: the library's line, status 2" $?

# --- Real programs. ---
# real NAME CMD...: CMD under DBGALLOC_DUMP_INTERVAL=100ms for about a
# second: at least 3 interval dumps and the exit's, each whole.
real() {
	name=$1
	shift
	fresh
	run env DBGALLOC_DUMP="$tmp/d/p.%n.dump" DBGALLOC_DUMP_INTERVAL=100ms \
		LD_PRELOAD="$lib" "$@"
	n=$(ls "$tmp/d" | grep -c '^p\.[0-9]*\.dump$')
	all_ok=0
	k=1
	while [ "$k" -lt "$n" ]; do
		checked "$tmp/d/p.$k.dump" interval || all_ok=1
		k=$((k + 1))
	done
	echo "  $name: $((n - 1)) interval dumps"
	[ "$rc" -eq 0 ] && [ "$n" -ge 4 ] && [ "$all_ok" -eq 0 ] &&
		checked "$tmp/d/p.$n.dump" exit && [ ! -s "$tmp/err" ] &&
		[ "$(ls -A "$tmp/d" | wc -l)" -eq "$n" ]
	result "$name under DBGALLOC_DUMP_INTERVAL=100ms: whole dumps" $?
}
# The executable itself: a wrapper script (pyenv's) that runs under the
# preload and execs python while its own dumper writes would leave that
# dump's temporary file behind (see dbgalloc(3), DUMPS).
py=${PYTHON3:-}
[ -n "$py" ] && py=$("$py" -c 'import sys; print(sys.executable)')
if [ -n "$py" ]; then
	script='import time
t = time.time()
keep = []
while time.time() - t < 1.0:
    keep.append(bytearray(100))
    keep = keep[-5000:]
print("done")'
	real python3 "$py" -c "$script"
	PYTHONMALLOC=malloc real "python3 (PYTHONMALLOC=malloc)" \
		env PYTHONMALLOC=malloc "$py" -c "$script"
	fresh
	start env DBGALLOC_LEAKS_SIGNAL=USR1 DBGALLOC_LOG="$tmp/d/log" \
		LD_PRELOAD="$lib" "$py" -c 'import sys
print("ready", flush=True)
keep = [str(i) * 10 for i in range(100000)]
sys.stdin.readline()
print(len(keep))'
	driver --pid "$bg" >"$tmp/r1" 2>"$tmp/derr"
	drc=$?
	quit
	[ "$drc" -eq 0 ] && [ "$rc" -eq 0 ] &&
		grep -q '^100000$' "$tmp/out" &&
		head -1 "$tmp/r1" | grep -q '^dbgalloc: live leak check of pid [0-9]* at .* UTC (1 thread stopped for [0-9.]* ms; the fork took [0-9.]* ms)$' &&
		tail -1 "$tmp/r1" | grep -q '^SUMMARY: dbgalloc: [0-9,]* bytes leaked in [0-9,]* blocks'
	result "python3: a live leak check, the program unaffected" $?
else
	echo "SKIP python3 (not found)"
fi
pl=${PERL:-}
if [ -n "$pl" ]; then
	real perl "$pl" -e 'my @k; my $t = time; my $n = 0;
		while (time - $t < 2) { push @k, "x" x 50; shift @k if @k > 5000; $n++ }
		print "done\n"'
else
	echo "SKIP perl (not found)"
fi

# --- Signals and live checks every 50 ms to 8 working threads. ---
# One dump name, replaced at each dump, while a reader checks it every
# 0.2 s: it must always find the previous dump or the new one, whole.
fresh
(
	bad=0 reads=0
	while [ ! -e "$tmp/d/stop" ]; do
		if [ -e "$tmp/d/k.dump" ]; then
			reads=$((reads + 1))
			"$check" "$tmp/d/k.dump" >/dev/null 2>&1 || bad=$((bad + 1))
		fi
		sleep 0.2
	done
	echo "$reads $bad" >"$tmp/reader"
) &
reader=$!
(
	ulimit -v 2097152
	exec timeout $((soak + 120)) env DBGALLOC_DUMP="$tmp/d/k.dump" \
		DBGALLOC_DUMP_SIGNAL=USR2 DBGALLOC_LEAKS_SIGNAL=USR1 \
		DBGALLOC_LOG="$tmp/log" LD_PRELOAD="$lib" "$prog" storm "$soak" 8
) >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
touch "$tmp/d/stop"
wait "$reader"
read -r reads bad <"$tmp/reader"
dumps=$(h "$tmp/d/k.dump" dump_seq)
# The last live check's copy may outlive the program: give it up to 30 s
# (on a loaded machine) to finish its report.
w=0
while :; do
	heads=$(grep -c '^dbgalloc: live leak check of pid' "$tmp/log")
	sums=$(grep -c '^SUMMARY: dbgalloc: 576 bytes leaked in 9 blocks' \
		"$tmp/log")
	[ "$sums" -eq "$heads" ] || [ "$w" -ge 300 ] && break
	sleep 0.1
	w=$((w + 1))
done
echo "  ${soak} s: $(sed -n 's/^sent //p' "$tmp/out") signals, $dumps dumps, $heads live checks, $reads reads of the dump"
[ "$rc" -eq 0 ] && grep -q '^results ok$' "$tmp/out" &&
	[ "$bad" -eq 0 ] && [ "$reads" -ge 1 ] && [ "${dumps:-0}" -ge 3 ] &&
	[ "$heads" -ge 2 ] && [ "$sums" -eq "$heads" ] && [ ! -s "$tmp/err" ] &&
	checked "$tmp/d/k.dump" exit && [ "$(ls -A "$tmp/d" | wc -l)" -eq 2 ]
result "signals every 50 ms to 8 threads for ${soak} s: dumps and reports whole" $?

finish
