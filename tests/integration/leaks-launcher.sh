#!/bin/sh
# leaks-launcher.sh — `dbgalloc run --leaks -- sh -c 'CMD1; CMD2'` reaches
# every process of the command: each program the shell starts prints its
# own report, named by its pid. leak-hundred leaks 100 bytes in 1 block
# (from leak_one_block) and prints its pid; leak-none leaks nothing and
# prints its pid; the shell (dash or bash) leaks nothing either. Checked:
# the reports by pid, --leaks-exitcode=N (the status is N when the last
# command leaks, the program's own when it does not) and --log=FILE.%p
# (one file per process, nothing on stderr).
set -u

# Only the launcher's options count here, not what this script inherited
# (make check-leaks runs it under dbgalloc with DBGALLOC_LEAKS set): the
# environment is cleared (test-env.sh).
. "$(dirname "$0")/test-env.sh"
launcher=$top/dbgalloc
leak=$top/tests/integration/leak-hundred
none=$top/tests/integration/leak-none

# launch OPTIONS... -- CMD...: the launcher, stdout and stderr to
# $tmp/out and $tmp/err, status in $rc.
launch() {
	(
		ulimit -v 1048576
		DBGALLOC_LIBRARY=$lib timeout 120 "$launcher" run "$@"
	) >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}

# pids NAME: the pids that the programs called NAME printed, in order.
pids() {
	sed -n "s/^$1 \\([0-9][0-9]*\\)\$/\\1/p" "$tmp/out"
}

# leaked FILE PID: FILE holds PID's report, and it is leak-hundred's one
# block, from leak_one_block.
leaked() {
	awk -v pid="$2" '
		$0 == "dbgalloc: leak report at exit (pid " pid ")" { on = 1; next }
		on && $0 == "Leak of 100 bytes in 1 block (definitely lost) allocated from:" { rec = 1; next }
		on && rec && /^    #[0-9]+ 0x[0-9a-f]+ in leak_one_block / { site = 1 }
		on && /^SUMMARY: / {
			sum = $0 == "SUMMARY: dbgalloc: 100 bytes leaked in 1 block (definitely lost: 100 bytes in 1 block)"
			on = 0
		}
		END { exit !(rec && site && sum) }' "$1"
}

if [ ! -x "$launcher" ] || [ ! -r "$lib" ] || [ ! -x "$leak" ] ||
	[ ! -x "$none" ]; then
	fail setup "$launcher, $lib, $leak or $none missing"
	finish
fi

# The programs by themselves: leak-hundred's report, leak-none's silence.
launch --leaks -- "$leak"
if [ "$rc" -eq 0 ] && leaked "$tmp/err" "$(pids leak-hundred)" &&
	[ "$(grep -c '^SUMMARY: ' "$tmp/err")" -eq 1 ]; then
	pass "leak-hundred alone: its 100 bytes in 1 block, from leak_one_block"
else
	fail "leak-hundred alone" "status $rc, or not the one report expected"
fi
launch --leaks -- "$none"
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && [ -n "$(pids leak-none)" ]; then
	pass "leak-none alone: no report"
else
	fail "leak-none alone" "status $rc, or something on stderr"
fi

# Every process of the command: two leak-hundreds report, one each; the
# shell and leak-none report nothing. (`true` last keeps the shell from
# running the last program in its own process.)
launch --leaks -- sh -c "'$leak'; '$none'; '$leak'; true"
leaks=$(pids leak-hundred)
nleaks=$(echo "$leaks" | grep -c .)
nsum=$(grep -c '^SUMMARY: ' "$tmp/err")
nhead=$(grep -c '^dbgalloc: leak report at exit (pid [0-9]*)$' "$tmp/err")
ok=1
[ "$rc" -eq 0 ] && [ "$nleaks" -eq 2 ] && [ "$nsum" -eq 2 ] &&
	[ "$nhead" -eq 2 ] || ok=0
for pid in $leaks; do
	leaked "$tmp/err" "$pid" || ok=0
done
first=$(echo "$leaks" | head -1)
last=$(echo "$leaks" | tail -1)
[ "$first" != "$last" ] || ok=0
if [ $ok = 1 ]; then
	pass "sh -c 'leak; none; leak': a report from each leak-hundred ($first, $last), none from the others"
else
	fail "sh -c 'leak; none; leak'" "status $rc, $nleaks leak-hundred pids, $nhead reports, $nsum SUMMARY lines (want 0, 2, 2, 2)"
fi

# --leaks-exitcode=N: a process that leaks exits with N, so the shell's
# status is N when its last command leaked, and its own when not.
launch --leaks --leaks-exitcode=23 -- sh -c "'$none'; '$leak'"
if [ "$rc" -eq 23 ] && [ "$(grep -c '^SUMMARY: ' "$tmp/err")" -eq 1 ]; then
	pass "--leaks-exitcode=23: status 23 when the last command leaks"
else
	fail "--leaks-exitcode=23, leaking last" "status $rc, want 23"
fi
launch --leaks --leaks-exitcode=23 -- sh -c "'$leak'; '$none'"
if [ "$rc" -eq 0 ] && [ "$(grep -c '^SUMMARY: ' "$tmp/err")" -eq 1 ]; then
	pass "--leaks-exitcode=23: status 0 when the last command does not leak"
else
	fail "--leaks-exitcode=23, clean last" "status $rc, want 0"
fi
launch --leaks-exitcode=23 -- "$leak"
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ]; then
	pass "--leaks-exitcode without --leaks: no report, status 0"
else
	fail "--leaks-exitcode without --leaks" "status $rc, want 0 and no report"
fi

# --log=FILE.%p: one file per process that reports, named by its pid (it
# is made at the first report): the leaking processes' files hold their
# reports; the others leave none.
mkdir "$tmp/logs"
launch --leaks --log="$tmp/logs/r.%p" -- sh -c "'$leak'; '$none'; '$leak'; true"
leaks=$(pids leak-hundred)
nonepid=$(pids leak-none)
nfiles=$(ls "$tmp/logs" | grep -c '^r\.[0-9][0-9]*$')
ok=1
[ "$rc" -eq 0 ] && [ "$nfiles" -eq 2 ] && [ ! -s "$tmp/err" ] || ok=0
for pid in $leaks; do
	[ -f "$tmp/logs/r.$pid" ] && leaked "$tmp/logs/r.$pid" "$pid" &&
		[ "$(grep -c '^SUMMARY: ' "$tmp/logs/r.$pid")" -eq 1 ] || ok=0
done
[ -n "$nonepid" ] && [ ! -e "$tmp/logs/r.$nonepid" ] || ok=0
if [ $ok = 1 ]; then
	pass "--log=DIR/r.%p: 2 files, the two leak-hundreds' with their reports"
else
	fail "--log=DIR/r.%p" "status $rc, $nfiles files, want 2"
	ls -l "$tmp/logs" | sed 's/^/  /'
fi

finish
