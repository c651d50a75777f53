#!/bin/sh
# inherited-preload.sh — the suite passes when make check itself runs under
# dbgalloc, as `dbgalloc run -- make check` or LD_PRELOAD=... make check
# do: tests that need a run without dbgalloc clear LD_PRELOAD, tests that
# check its value set it. Running the whole suite again would take minutes
# (and recurse), so this runs a part of it that covers each kind of test,
# both ways (under the launcher, and with LD_PRELOAD in the environment):
#   startup.sh          system-allocator baselines next to linked and
#                       preloaded runs
#   preload-basic.sh    the launcher, LD_PRELOAD's exact value
#   abort/run.sh        death tests, linked and preloaded
#   preload-programs.sh its sh workload: a run with dbgalloc compared with
#                       one without
#   api, test_sizeclass cmocka programs, linked and with the internals
# About 25 s on 2 cores.
set -u

top=${DA_TEST_TOP_BUILDDIR:?run through make check (DA_TEST_TOP_BUILDDIR)}
src=${DA_TEST_TOP_SRCDIR:?run through make check (DA_TEST_TOP_SRCDIR)}
lib=${DA_TEST_LIB:?run through make check (DA_TEST_LIB)}
launcher=$top/dbgalloc
passed=0
failed=0
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
trap 'exit 1' INT TERM

# under MODE CMD...: runs CMD with dbgalloc inherited the MODE way, its
# output in $out.
under() {
	mode=$1
	shift
	if [ "$mode" = launcher ]; then
		DBGALLOC_LIBRARY=$lib timeout 600 "$launcher" run -- "$@"
	else
		LD_PRELOAD=$lib timeout 600 "$@"
	fi >"$out" 2>&1 </dev/null
}

# check MODE NAME CMD...: CMD must exit 0 when it inherits dbgalloc.
check() {
	mode=$1 name=$2
	shift 2
	start=$(date +%s)
	under "$mode" "$@"
	rc=$?
	secs=$(($(date +%s) - start))
	if [ "$rc" -eq 0 ]; then
		echo "PASS $name (inherited from $mode, ${secs} s)"
		passed=$((passed + 1))
	else
		echo "FAIL $name (inherited from $mode, ${secs} s): exit status $rc"
		grep -v '^PASS' "$out" | head -30 | sed 's/^/  /'
		failed=$((failed + 1))
	fi
}

if [ ! -x "$launcher" ] || [ ! -r "$lib" ]; then
	echo "FAIL: $launcher or $lib missing"
	echo "0 passed, 1 failed"
	exit 1
fi

for mode in launcher LD_PRELOAD; do
	# The harness first: the scripts below must really inherit dbgalloc.
	under "$mode" sh -c 'grep -c libdbgalloc /proc/$$/maps'
	if [ "$(cat "$out")" -ge 1 ] 2>/dev/null; then
		echo "PASS a script run this way has libdbgalloc ($mode)"
		passed=$((passed + 1))
	else
		echo "FAIL a script run this way has no libdbgalloc ($mode)"
		sed 's/^/  /' "$out"
		failed=$((failed + 1))
	fi
	check "$mode" startup.sh sh "$src/tests/integration/startup.sh"
	check "$mode" preload-basic.sh sh "$src/tests/integration/preload-basic.sh"
	check "$mode" abort/run.sh sh "$src/tests/abort/run.sh"
	check "$mode" "preload-programs.sh (sh)" env DA_TEST_WORKLOADS=sh \
		sh "$src/tests/integration/preload-programs.sh"
	check "$mode" api "$top/tests/integration/api"
	check "$mode" test_sizeclass "$top/tests/unit/test_sizeclass"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
