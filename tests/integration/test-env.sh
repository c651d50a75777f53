# tests/integration/test-env.sh — the prologue the test scripts share,
# sourced by cmocka-helpers.sh, leaks-launcher.sh, leaks-programs.sh,
# limit-env.sh (and through it limit.sh, fail.sh, dump.sh, counters.sh,
# stats.sh, triggers.sh and settings.sh), oom-sweep.sh, preload-basic.sh,
# preload-programs.sh, startup.sh, symbolize-clang.sh, tests/leaks/run.sh,
# tests/demo/demo-test.sh and the scripts of tests/guard/, each through the
# directory of its $0 (the source tree's, in a VPATH build too).
#
# It sets top and lib (the build tree and its library, from make check),
# the counts passed and failed, and tmp, a temporary directory removed at
# exit; and it clears the environment: every inherited DBGALLOC_ variable
# (make check-leaks runs the suite under `dbgalloc run --leaks`) and
# LD_PRELOAD, unless the script set keep_preload=yes before sourcing this
# (inherited-preload.sh runs it under an inherited LD_PRELOAD to check
# that it copes).
#
# pass NAME, fail NAME [WHY] and result NAME STATUS print a check's line
# and count it; finish prints the summary line and exits. After sourcing,
# a script may set colon=: (lines "PASS: NAME"), shows (the files of $tmp
# whose head a failure prints; default "out err", where a run's output
# goes) and show_lines (how many lines of each; default 40).

top=${DA_TEST_TOP_BUILDDIR:?run through make check (DA_TEST_TOP_BUILDDIR)}
lib=${DA_TEST_LIB:?run through make check (DA_TEST_LIB)}
passed=0
failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

if [ "${keep_preload-}" != yes ]; then
	unset LD_PRELOAD
fi
for _v in $(env | sed -n 's/^\(DBGALLOC_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$_v"
done

colon=
shows="out err"
show_lines=40

# pass NAME: a check passed.
pass() {
	echo "PASS$colon $1"
	passed=$((passed + 1))
}

# show FILE LABEL: the head of FILE, each line headed by LABEL; nothing if
# FILE is missing or empty.
show() {
	[ -s "$1" ] && sed "s|^|  $2: |" "$1" | head -n "$show_lines"
	return 0
}

# fail NAME [WHY]: a check failed; then the files of $tmp named in $shows.
fail() {
	echo "FAIL$colon $1${2:+: $2}"
	for _f in $shows; do
		show "$tmp/$_f" "$_f"
	done
	failed=$((failed + 1))
}

# result NAME STATUS: pass NAME if STATUS is 0, else fail it with the
# status of the last run, $rc.
result() {
	if [ "$2" -eq 0 ]; then
		pass "$1"
	else
		fail "$1 (status $rc)"
	fi
}

# finish: the summary line; exits 0 if no check failed, else 1.
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
