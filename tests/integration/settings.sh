#!/bin/sh
# settings.sh — the DBGALLOC_ settings end to end. The library, preloaded
# or linked (libdbgalloc.so and libdbgalloc.a), checks them before main: an
# unknown name or a malformed value ends the process with status 2 and one
# line on stderr, valid ones let it run as usual. The launcher's options of
# run export the variables to the program and its children, and
# --help-env prints the list the library was built from.
# Inherited DBGALLOC_ variables (`dbgalloc run --leaks -- make check`) are
# cleared first, so that only the ones a check sets are there; every run
# has ulimit -v 2 GiB and a timeout (limit-env.sh).
set -u

. "$(dirname "$0")/limit-env.sh"
b=$top/tests/integration
printf "leak:nothing_here\n" >"$tmp/lsan.supp"

# runs_normally: status 0, "hi" on stdout, nothing on stderr.
runs_normally() {
	[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = hi ] && [ ! -s "$tmp/err" ]
}

if [ ! -x "$launcher" ] || [ ! -r "$lib" ]; then
	fail setup "$launcher or $lib missing"
	finish
fi

# The library, preloaded.
leak='dbgalloc: unknown variable DBGALLOC_LEAK (did you mean DBGALLOC_LEAKS?)'
run env DBGALLOC_LEAK=1 LD_PRELOAD="$lib" /bin/true
stops "$leak"
result "DBGALLOC_LEAK=1, preloaded: status 2 and the suggestion" $?

run env DBGALLOC_XYZZY=1 LD_PRELOAD="$lib" /bin/true
stops 'dbgalloc: unknown variable DBGALLOC_XYZZY'
result "DBGALLOC_XYZZY=1, preloaded: status 2, no suggestion" $?

run env DBGALLOC_STACK_DEPTH=abc LD_PRELOAD="$lib" sh -c 'echo hi'
stops 'dbgalloc: DBGALLOC_STACK_DEPTH=abc: expected a number from 1 to 64'
result "DBGALLOC_STACK_DEPTH=abc: status 2 before main, one line" $?

run env DBGALLOC_POISON=Full LD_PRELOAD="$lib" /bin/true
stops 'dbgalloc: DBGALLOC_POISON=Full: expected bounded, full or off'
result "DBGALLOC_POISON=Full: status 2, the accepted words" $?

run env DBGALLOC_LEAKS_EXITCODE=256 LD_PRELOAD="$lib" /bin/true
stops 'dbgalloc: DBGALLOC_LEAKS_EXITCODE=256: expected a number from 0 to 255'
result "DBGALLOC_LEAKS_EXITCODE=256: status 2, the range" $?

run env DBGALLOC_LEAKS=all DBGALLOC_LEAKS_EXITCODE=0 \
	DBGALLOC_SUPPRESSIONS="$tmp/lsan.supp" DBGALLOC_LOG="$tmp/log.%p" \
	DBGALLOC_STACK_DEPTH=64 DBGALLOC_BREAK=9223372036854775808 \
	DBGALLOC_POISON=off DBGALLOC_ON_ERROR=report \
	DA_TEST_NOT_OURS=1 DBGALLOCX=1 LD_PRELOAD="$lib" sh -c 'echo hi'
runs_normally
result "every setting valid (and look-alike names): runs normally" $?

# The first of two entries with one name counts, as for getenv.
run env DBGALLOC_LEAKS=1 LD_PRELOAD="$lib" sh -c 'echo hi'
runs_normally
result "DBGALLOC_LEAKS=1 alone: runs normally" $?

run env LD_PRELOAD="$lib" sh -c 'DBGALLOC_LEAK=1 sh -c "echo child"; echo "status $?"'
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "status 2" ] &&
	[ "$(cat "$tmp/err")" = "$leak" ]
result "a child given a bad setting stops, its parent goes on" $?

# Linked: the constructor that reads the settings is there too, also when
# libdbgalloc.a is linked in (shim/process.c is pulled in by malloc.c).
for prog in interpose interpose-static; do
	if [ ! -x "$b/$prog" ]; then
		rc=1
		result "$prog is built" 1
		continue
	fi
	run env -u LD_PRELOAD DBGALLOC_LEAK=1 "$b/$prog"
	stops "$leak"
	result "$prog (linked), DBGALLOC_LEAK=1: status 2 and the suggestion" $?
	run env -u LD_PRELOAD DBGALLOC_STACK_DEPTH=16 "$b/$prog"
	[ "$rc" -eq 0 ] && grep -qx 'interpose: ok' "$tmp/out"
	result "$prog (linked), DBGALLOC_STACK_DEPTH=16: runs normally" $?
done

# The launcher's options: each exports its variable. The command is env,
# so nothing but the environment is looked at.
# option_sets NAME WANT ARGS...: `dbgalloc run ARGS -- env` has exactly the
# DBGALLOC_ variables WANT (lines, sorted) besides DBGALLOC_LIBRARY.
option_sets() {
	name=$1 want=$2
	shift 2
	run "$launcher" run "$@" -- env
	printf '%s\n' "$want" >"$tmp/want"
	grep '^DBGALLOC_' "$tmp/out" | grep -v '^DBGALLOC_LIBRARY=' | sort >"$tmp/got"
	[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && cmp -s "$tmp/want" "$tmp/got"
	result "$name" $?
	if ! cmp -s "$tmp/want" "$tmp/got"; then
		sed 's/^/  got: /' "$tmp/got"
	fi
}

option_sets "--leaks sets DBGALLOC_LEAKS=1" "DBGALLOC_LEAKS=1" --leaks
option_sets "--leaks=all" "DBGALLOC_LEAKS=all" --leaks=all
option_sets "--leaks-exitcode=N" "DBGALLOC_LEAKS_EXITCODE=3" --leaks-exitcode=3
option_sets "--suppressions=FILE" "DBGALLOC_SUPPRESSIONS=$tmp/lsan.supp" \
	--suppressions="$tmp/lsan.supp"
option_sets "--log=PATH (%p passed on as it is)" "DBGALLOC_LOG=$tmp/r.%p" \
	--log="$tmp/r.%p"
option_sets "--stack-depth=N" "DBGALLOC_STACK_DEPTH=16" --stack-depth=16
option_sets "--poison=MODE" "DBGALLOC_POISON=full" --poison=full
option_sets "--on-error=MODE" "DBGALLOC_ON_ERROR=report" --on-error=report
# (Settings take effect in env itself: a break past its allocations.)
option_sets "--break=N" "DBGALLOC_BREAK=999999999" --break=999999999
option_sets "--stack-depth N (value as the next argument)" \
	"DBGALLOC_STACK_DEPTH=12" --stack-depth 12
option_sets "--log= (empty: none)" "DBGALLOC_LOG=" --log=
option_sets "the last of two options counts" "DBGALLOC_STACK_DEPTH=16" \
	--stack-depth=4 --stack-depth=16
option_sets "every option at once" "DBGALLOC_BREAK=999999999
DBGALLOC_LEAKS=1
DBGALLOC_LEAKS_EXITCODE=0
DBGALLOC_LOG=$tmp/log.%p
DBGALLOC_ON_ERROR=abort
DBGALLOC_POISON=bounded
DBGALLOC_STACK_DEPTH=2
DBGALLOC_SUPPRESSIONS=$tmp/lsan.supp" --leaks --leaks-exitcode=0 \
	--suppressions="$tmp/lsan.supp" --log="$tmp/log.%p" --stack-depth=2 \
	--poison=bounded --on-error=abort --break=999999999

# The launcher itself under an inherited preload: its own helper commands
# must not run with the settings it exports (--break=1 would trap them).
run env LD_PRELOAD="$lib" "$launcher" run --break=1 --stack-depth=4 -- \
	/bin/true
! grep -q "unknown variable" "$tmp/err"
result "the launcher under an inherited LD_PRELOAD" $?

run env DBGALLOC_STACK_DEPTH=4 DBGALLOC_POISON=off "$launcher" run \
	--stack-depth=16 -- env
grep -qx 'DBGALLOC_STACK_DEPTH=16' "$tmp/out" &&
	grep -qx 'DBGALLOC_POISON=off' "$tmp/out"
result "an option replaces an inherited variable; others are kept" $?

run "$launcher" run --leaks -- sh -c 'sh -c "env" | grep "^DBGALLOC_LEAKS="'
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "DBGALLOC_LEAKS=1" ]
result "the variable reaches the program's children" $?

run "$launcher" run --leaks sh -c 'echo hi'
runs_normally
result "options without -- before the program" $?

run "$launcher" run --stack-depth=abc -- sh -c 'echo hi'
stops 'dbgalloc: DBGALLOC_STACK_DEPTH=abc: expected a number from 1 to 64'
result "a bad value is passed on and refused by the library" $?

for arg in --frob=1 --frob --library=x --help-env=1 -z; do
	run "$launcher" run "$arg" -- true
	stops "dbgalloc: unknown option '$arg' for run (try 'dbgalloc --help')"
	result "unknown option $arg: one line, status 2" $?
done

run "$launcher" run --log
stops "dbgalloc: option '--log' needs a value (--log=VALUE or --log VALUE)"
result "an option without its value: one line, status 2" $?

# --help-env: the generator's text, every variable of the list.
"$top/doc/settings-gen" help >"$tmp/help"
for args in --help-env "run --help-env" "run --leaks --help-env"; do
	run "$launcher" $args
	[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && cmp -s "$tmp/help" "$tmp/out"
	result "'dbgalloc $args' prints the settings, status 0" $?
done
run "$launcher" --help-env
ok=0
for v in LEAKS LEAKS_EXITCODE SUPPRESSIONS LOG STACK_DEPTH BREAK POISON \
	ON_ERROR LIBRARY OOM_SWEEP; do
	grep -q "^DBGALLOC_$v=" "$tmp/out" || ok=1
done
grep -q 'Accepts 0, 1 or all; default: 0\.' "$tmp/out" || ok=1
grep -q '^DBGALLOC_STACK_DEPTH=n  (run --stack-depth=n)$' "$tmp/out" || ok=1
result "--help-env lists every variable, with option and default" $ok

# --help-env works without a library to preload.
run env DBGALLOC_LIBRARY="$tmp/none.so" "$launcher" run --help-env
[ "$rc" -eq 0 ] && cmp -s "$tmp/help" "$tmp/out"
result "--help-env needs no library" $?

finish
