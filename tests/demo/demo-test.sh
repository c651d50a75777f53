#!/bin/sh
# The demo, run through the launcher as `make demo` does, prints each of
# its promises and exits 0; the child's double free reaches stderr.
set -u
top=${DA_TEST_TOP_BUILDDIR:?}
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
DBGALLOC_LIBRARY=${DA_TEST_LIB:?} "$top/dbgalloc" run -- "$top/tests/demo/demo" >"$out" 2>"$err"
rc=$?
pass=0 fail=0
check() {
	if grep -qE "$2" "$3"; then
		pass=$((pass + 1)); echo "PASS: $1"
	else
		fail=$((fail + 1)); echo "FAIL: $1 (no line matching '$2')"
	fi
}
check "runs under dbgalloc" '^demo: malloc is dbgalloc [0-9]+\.[0-9]+\.[0-9]+$' "$out"
check "blocks are dbgalloc's" '^demo: kept 100000 of 200000 strings, 100000 of them in dbgalloc blocks$' "$out"
check "heap figures" '^demo: heap in use [0-9]+ bytes of [0-9]+ mapped$' "$out"
check "double free stopped" '^demo: the child was stopped with SIGABRT, as it should be$' "$out"
check "diagnostic printed" '^dbgalloc: double free of 0x[0-9a-f]+ \(24-byte block, generation [0-9]+\) in free\(\)$' "$err"
if [ "$rc" -eq 0 ]; then pass=$((pass + 1)); echo "PASS: exit status 0"
else fail=$((fail + 1)); echo "FAIL: exit status $rc"; cat "$out" "$err"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
