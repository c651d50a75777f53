# tests/integration/limit-env.sh — sourced by limit.sh, fail.sh, dump.sh,
# counters.sh, stats.sh, triggers.sh and settings.sh: test-env.sh (the
# build's paths, a temporary directory, a clean environment, pass, fail,
# result and finish), then the launcher, limit-prog, the library the
# launcher finds (DBGALLOC_LIBRARY), run and stops.

. "$(dirname "$0")/test-env.sh"
launcher=$top/dbgalloc
prog=$top/tests/integration/limit-prog
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

# stops WANT: the run ended with status 2, nothing on stdout, and exactly
# the line WANT on stderr.
stops() {
	[ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] &&
		[ "$(wc -l <"$tmp/err" | tr -d ' ')" -eq 1 ] &&
		[ "$(cat "$tmp/err")" = "$1" ]
}
