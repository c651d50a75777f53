# tests/integration/limit-env.sh — sourced by limit.sh, fail.sh and dump.sh: the
# build's paths, a temporary directory, a clean environment (no inherited
# LD_PRELOAD or DBGALLOC_ variable; the launcher finds the build's
# library), the pass/fail counts, and run.

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
