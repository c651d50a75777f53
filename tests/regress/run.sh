#!/bin/sh
# run.sh — the regression tier: one program per defect found in review,
# each run linked with libdbgalloc and (its -plain build) preloaded with
# LD_PRELOAD=$DA_TEST_LIB --expect-dbgalloc; static-fork, a fully static
# program, runs as it is; double-free-kinds is a death test run once per
# case, which must end in SIGABRT with the expected diagnostic. One line per
# run, "PASS name (mode, N s)" or "FAIL ..." followed by the end of the
# program's output, then "N passed, N failed"; exit status 1 on any failure.
# A program that exits 77 is skipped (its reason is shown).
#
#   run.sh          as make check runs it (with DA_TEST_LIB and
#                   DA_TEST_TOP_BUILDDIR from AM_TESTS_ENVIRONMENT)
#   run.sh --glibc  the plain builds alone: checks the tests themselves
#                   against glibc's malloc, under which they must pass
#                   (death tests: the misuse must kill the program)
# Environment:
#   DA_TEST_ONLY="a b"   run only these programs
#   DA_TEST_TIMEOUT=S    limit per run in seconds (300; 7200 under soak)
#   DA_TEST_SOAK=1       much larger counts (make soak); passed on to the
#                        programs, as are their own DA_TEST_* sizes
set -u

top=${DA_TEST_TOP_BUILDDIR:?run through make check (DA_TEST_TOP_BUILDDIR)}
b=$top/tests/regress
glibc=0
[ "${1:-}" = --glibc ] && glibc=1
if [ "$glibc" -eq 0 ]; then
	lib=${DA_TEST_LIB:?run through make check (DA_TEST_LIB)}
else
	lib=
fi
if [ "${DA_TEST_SOAK:-0}" != 0 ]; then
	limit=${DA_TEST_TIMEOUT:-7200}
else
	limit=${DA_TEST_TIMEOUT:-300}
fi
hex='0x[0-9a-f]+'
passed=0
failed=0
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
trap 'exit 1' INT TERM

unset LD_PRELOAD

if [ "$glibc" -eq 0 ] && [ ! -r "$lib" ]; then
	echo "FAIL: $lib does not exist"
	echo "0 passed, 1 failed"
	exit 1
fi

wanted() {
	[ -z "${DA_TEST_ONLY:-}" ] && return 0
	for w in $DA_TEST_ONLY; do
		[ "$w" = "$1" ] && return 0
	done
	return 1
}

# verdict NAME MODE SECONDS STATUS [REASON]: STATUS pass, fail or skip.
verdict() {
	case $4 in
	pass)
		echo "PASS $1 ($2, $3 s)"
		passed=$((passed + 1))
		;;
	skip)
		echo "SKIP $1 ($2, $3 s): $(grep '^SKIP' "$out" | head -1)"
		;;
	*)
		echo "FAIL $1 ($2, $3 s): $5"
		tail -n 25 "$out" | sed 's/^/    /'
		failed=$((failed + 1))
		;;
	esac
}

# why RC: the reason a run with exit status RC failed, in words.
why() {
	case $1 in
	124 | 137) echo "timed out after $limit s" ;;
	0) echo "exit status 0, but the output says FAIL" ;;
	*)
		if [ "$1" -gt 128 ]; then
			echo "killed by signal $(($1 - 128)) ($(kill -l $(($1 - 128)) 2>/dev/null))"
		else
			echo "exit status $1"
		fi
		;;
	esac
}

# launch PRELOAD SECONDS PROGRAM [ARGS...]: runs PROGRAM (preloading
# PRELOAD unless it is empty) for at most SECONDS, its output in $out, and
# sets rc to its exit status (128 + N for signal N, 124 or 137 for the time
# limit). In a subshell that exits normally, so that a shell's own "Aborted"
# notice goes to $out, not to the log.
launch() {
	(
		if [ -n "$1" ]; then
			LD_PRELOAD=$1
			export LD_PRELOAD
		fi
		lim=$2
		shift 2
		timeout -k 10 "$lim" "$@"
		exit $?
	) >"$out" 2>&1 </dev/null
	rc=$?
}

# run NAME MODE PRELOAD PROGRAM [ARGS...]: a program that exits 0 on success.
run() {
	name=$1 mode=$2 pre=$3
	shift 3
	start=$(date +%s)
	launch "$pre" "$limit" "$@"
	secs=$(($(date +%s) - start))
	if [ "$rc" -eq 77 ]; then
		verdict "$name" "$mode" "$secs" skip
	elif [ "$rc" -eq 0 ] && ! grep -q '^FAIL' "$out"; then
		verdict "$name" "$mode" "$secs" pass
	else
		verdict "$name" "$mode" "$secs" fail "$(why "$rc")"
	fi
}

# both NAME: the linked build, then the plain one preloaded (or, with
# --glibc, the plain one alone).
both() {
	wanted "$1" || return 0
	if [ "$glibc" -eq 1 ]; then
		run "$1" glibc "" "$b/$1-plain"
		return
	fi
	run "$1" linked "" "$b/$1"
	run "$1" preloaded "$lib" "$b/$1-plain" --expect-dbgalloc
}

# death CASE REGEX [UNWANTED]: double-free-kinds CASE must die of SIGABRT
# with an output line matching REGEX (an extended regular expression; empty:
# any output) and no line matching UNWANTED.
death() {
	wanted double-free-kinds || return 0
	if [ "$glibc" -eq 1 ]; then
		death_run "$1" glibc "" "$b/double-free-kinds-plain" '' ''
		return
	fi
	death_run "$1" linked "" "$b/double-free-kinds" "$2" "${3:-}"
	death_run "$1" preloaded "$lib" "$b/double-free-kinds-plain" "$2" "${3:-}"
}

death_run() {
	case=$1 mode=$2 pre=$3 prog=$4 want=$5 unwanted=$6
	name=double-free-kinds/$case
	start=$(date +%s)
	launch "$pre" 60 "$prog" "$case"
	secs=$(($(date +%s) - start))
	if [ "$mode" = glibc ]; then
		# glibc's words differ and some of its checks crash instead
		# of aborting: the misuse must only kill the program.
		if [ "$rc" -gt 128 ] && [ "$rc" -ne 137 ]; then
			verdict "$name" "$mode" "$secs" pass
		else
			verdict "$name" "$mode" "$secs" fail "$(why "$rc") (want death by a signal)"
		fi
		return
	fi
	if [ "$rc" -ne 134 ]; then
		verdict "$name" "$mode" "$secs" fail "$(why "$rc") (want 134, SIGABRT)"
	elif [ -n "$want" ] && ! grep -Eq "$want" "$out"; then
		verdict "$name" "$mode" "$secs" fail "no line matches: $want"
	elif [ -n "$unwanted" ] && grep -Eq "$unwanted" "$out"; then
		verdict "$name" "$mode" "$secs" fail "a line matches: $unwanted"
	else
		verdict "$name" "$mode" "$secs" pass
	fi
}

# Cheapest first, so that a failure shows early.
both impossible-alloc
both impossible-alloc-cxx
both mallinfo-concurrent
both owns-concurrent
both fork-in-handler-fastpath
both rss-remote-free
both rss-exited-threads
both remote-free-release
both decay-fastpath
if wanted static-fork; then
	if [ "$glibc" -eq 1 ]; then
		run static-fork glibc "" "$b/static-fork-plain"
	else
		run static-fork static "" "$b/static-fork"
	fi
fi
both fork-mt

double="^dbgalloc: double free of $hex \([0-9,]+-byte block(, generation [0-9]+)?\) in free\(\)$"
death abort-only '' # the harness sees a bare abort
death huge-twice "$double"
death aligned-twice "$double"
death large-twice "$double"
death never-given "^dbgalloc: invalid free of $hex: .*, in free\(\)$" 'double free'
death interior-1 "^dbgalloc: invalid free of $hex: 1 byte into the [0-9]+-byte block at $hex, in free\(\)$"
death interior-2 "^dbgalloc: invalid free of $hex: 2 bytes into the [0-9]+-byte block at $hex, in free\(\)$"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
