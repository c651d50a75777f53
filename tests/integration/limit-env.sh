# tests/integration/limit-env.sh — sourced by limit.sh, fail.sh, dump.sh,
# counters.sh, stats.sh and triggers.sh: the build's paths, a temporary
# directory, a clean environment (no inherited
# LD_PRELOAD or DBGALLOC_ variable; the launcher finds the build's
# library), the pass/fail counts, run, result and stops.

top=${DA_TEST_TOP_BUILDDIR:?run through make check (DA_TEST_TOP_BUILDDIR)}
lib=${DA_TEST_LIB:?run through make check (DA_TEST_LIB)}
launcher=$top/dbgalloc
prog=$top/tests/integration/limit-prog
passed=0
failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

unset LD_PRELOAD
for v in $(env | sed -n 's/^\(DBGALLOC_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$v"
done
DBGALLOC_LIBRARY=$lib
export DBGALLOC_LIBRARY

# run CMD...: runs CMD, stdout in $tmp/out, stderr in $tmp/err, status in
# $rc.
run() {
	(
		ulimit -v 2097152
		exec timeout 120 "$@"
	) >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}

# result NAME STATUS: reports the check NAME, passed if STATUS is 0; a
# failure shows the run's output.
result() {
	if [ "$2" -eq 0 ]; then
		echo "PASS $1"
		passed=$((passed + 1))
	else
		echo "FAIL $1 (status $rc)"
		sed 's/^/  stdout: /' "$tmp/out" | head -15
		sed 's/^/  stderr: /' "$tmp/err" | head -25
		failed=$((failed + 1))
	fi
}

# stops WANT: the run ended with status 2, nothing on stdout, and exactly
# the line WANT on stderr.
stops() {
	[ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] &&
		[ "$(wc -l <"$tmp/err" | tr -d ' ')" -eq 1 ] &&
		[ "$(cat "$tmp/err")" = "$1" ]
}
