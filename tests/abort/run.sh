#!/bin/sh
# Death tests: every misuse dbgalloc detects must kill the program with
# SIGABRT *and* print its diagnostic, word for word. Each case runs twice:
# linked with libdbgalloc and, for the plain build, under LD_PRELOAD. Each
# run sets LD_PRELOAD itself, whatever make check inherited: none for a
# linked program, the library under test for the plain one. A case may
# name DBGALLOC_ settings to run with (DBGALLOC_LIMIT_ACTION=abort).
#   case | expected stderr (an extended regular expression)
set -u
top=${DA_TEST_TOP_BUILDDIR:?}
lib=${DA_TEST_LIB:?}
linked="$top/tests/abort/misuse"
plain="$top/tests/abort/misuse-plain"
cxx="$top/tests/abort/misuse-cxx"
hex='0x[0-9a-f]+'
pass=0
fail=0

# expect PROGRAM PRELOAD CASE REGEX [NAME=VALUE...]: the settings given
# are in the program's environment.
expect() {
	prog=$1 pre=$2 case=$3 want=$4
	shift 4
	err=$(mktemp)
	if [ -n "$pre" ]; then
		env LD_PRELOAD="$pre" "$@" "$prog" "$case" 2>"$err" >/dev/null
	else
		env -u LD_PRELOAD "$@" "$prog" "$case" 2>"$err" >/dev/null
	fi
	rc=$?
	got=$(grep -E "$want" "$err" | head -1)
	if [ "$rc" -eq 134 ] && [ -n "$got" ]; then
		pass=$((pass + 1))
		echo "PASS: $case ${pre:+(preloaded)}: $got"
	else
		fail=$((fail + 1))
		echo "FAIL: $case ${pre:+(preloaded)}: exit status $rc (want 134, SIGABRT), stderr:"
		sed 's/^/    /' "$err"
		echo "    wanted: $want"
	fi
	rm -f "$err"
}

# both CASE REGEX [NAME=VALUE...]
both() {
	c=$1 w=$2
	shift 2
	expect "$linked" "" "$c" "$w" "$@"
	expect "$plain" "$lib" "$c" "$w" "$@"
}

# The harness itself: a plain abort must be seen as one (and say nothing).
expect "$linked" "" abort-only '^$|.*'
g='generation [0-9]+'
both double-free-small "^dbgalloc: double free of $hex \(24-byte block, $g\) in free\(\)$"
both double-free-medium "^dbgalloc: double free of $hex \(5,000-byte block, $g\) in free\(\)$"
both double-free-large "^dbgalloc: double free of $hex \((300,000-byte block, $g|[0-9,]+-byte block)\) in free\(\)$"
both double-free-huge "^dbgalloc: (double free of $hex \([0-9,]+-byte block(, $g)?\)|invalid free of $hex: not allocated by dbgalloc,) in free\(\)$"
both double-free-aligned "^dbgalloc: double free of $hex \([0-9,]+-byte block(, $g)?\) in free\(\)$"
both free-stack "^dbgalloc: invalid free of $hex: not allocated by dbgalloc, in free\(\)$"
both free-global "^dbgalloc: invalid free of $hex: not allocated by dbgalloc, in free\(\)$"
both free-interior "^dbgalloc: invalid free of $hex: 8 bytes into the 32-byte block at $hex, in free\(\)$"
both free-unaligned-interior "^dbgalloc: invalid free of $hex: 3 bytes into the 32-byte block at $hex, in free\(\)$"
both free-one-byte-in "^dbgalloc: invalid free of $hex: 1 byte into the 32-byte block at $hex, in free\(\)$"
both free-never-handed-out "^dbgalloc: invalid free of $hex: no block was handed out at this address, in free\(\)$"
both double-free-huge-exact "^dbgalloc: double free of $hex \([0-9,]+-byte block(, $g)?\) in free\(\)$"
both free-aligned-interior "^dbgalloc: invalid free of $hex: 16 bytes into the 100-byte block at $hex, in free\(\)$"
both realloc-freed "^dbgalloc: use after free of $hex \(40-byte block, $g\) in realloc\(\)$"
both realloc-foreign "^dbgalloc: bad pointer $hex passed to realloc\(\): not allocated by dbgalloc$"
both usable-size-interior "^dbgalloc: bad pointer $hex passed to malloc_usable_size\(\): 16 bytes into the 64-byte block at $hex$"
both free-sized-twice "^dbgalloc: double free of $hex \(48-byte block, $g\) in free_sized\(\)$"
both free-sized-wrong "^dbgalloc: mismatched size in free_sized\(\) of $hex \(41-byte block, $g\): released as 40 bytes$"
both overflow-one "^dbgalloc: write past the end of $hex \(41-byte block, $g\): byte 41 was overwritten, found by free\(\)$"
both overflow-realloc "^dbgalloc: write past the end of $hex \(41-byte block, $g\): byte 44 was overwritten, found by realloc\(\)$"
both underflow-one "^dbgalloc: write before the block at $hex: its header was overwritten, found by free\(\)$"
both write-after-free "^dbgalloc: write to freed memory at $hex: 20 bytes into the freed block at $hex \(41-byte block, $g\), found by malloc\(\)$"
both write-after-free-tail "^dbgalloc: write to freed memory at $hex: 100 bytes into the freed block at $hex \(200-byte block, $g\), found by malloc\(\)$" DBGALLOC_POISON=full
both write-after-free-sampled "^dbgalloc: write to freed memory at $hex: 100 bytes into the freed block at $hex \(200-byte block, $g\), found by malloc\(\)$"
both write-after-free-first "^dbgalloc: write to freed memory in the first 16 bytes of the freed block at $hex, found by malloc\(\)$"
both write-before-freed "^dbgalloc: write to freed memory at $hex: 16 bytes before the freed block at $hex"
both overflow-at-exit "^dbgalloc: write past the end of $hex \(41-byte block, $g\): byte 43 was overwritten, found at exit$"
both underflow-at-exit "^dbgalloc: write before the block at $hex: its header was overwritten, found at exit$"
both write-after-free-at-exit "^dbgalloc: write to freed memory at $hex: 30 bytes into the freed block at $hex \(41-byte block, $g\), found at exit$"
both double-free-after-reuse "^dbgalloc: double free of $hex \(41-byte block, $g\) in free\(\)$"
# DBGALLOC_LIMIT_ACTION=abort: the report of the refusal, then SIGABRT.
limit_abort="DBGALLOC_LIMIT=1M DBGALLOC_LIMIT_ACTION=abort"
both limit-abort "^dbgalloc: memory limit reached: malloc\(\) of 100,000 bytes refused$" $limit_abort
both limit-abort "^  limit 1,048,576 bytes \(DBGALLOC_LIMIT\); live 1,000,000 bytes in 10 blocks; peak 1,000,000 bytes$" $limit_abort
both scope-limit-abort "^dbgalloc: memory limit reached: malloc\(\) of 6,000 bytes refused$" DBGALLOC_LIMIT_ACTION=abort
both scope-limit-abort "^  limit 10,000 bytes above the scope's start \(dbgalloc_scope_begin\); " DBGALLOC_LIMIT_ACTION=abort
expect "$cxx" "" delete-twice "^dbgalloc: double free of $hex \(4-byte block, $g\) in operator delete$"
expect "$cxx" "" delete-array-twice "^dbgalloc: double free of $hex \(40-byte block, $g\) in operator delete\[\]$"
expect "$cxx" "" delete-stack "^dbgalloc: invalid free of $hex: not allocated by dbgalloc, in operator delete$"
expect "$cxx" "" malloc-delete "^dbgalloc: mismatched free of $hex \(4-byte block, $g\): allocated by malloc\(\), released by operator delete$"
expect "$cxx" "" new-free "^dbgalloc: mismatched free of $hex \(4-byte block, $g\): allocated by operator new, released by free\(\)$"
expect "$cxx" "" new-array-delete "^dbgalloc: mismatched free of $hex \(40-byte block, $g\): allocated by operator new\[\], released by operator delete$"
expect "$cxx" "" new-delete-array "^dbgalloc: mismatched free of $hex \(4-byte block, $g\): allocated by operator new, released by operator delete\[\]$"
expect "$cxx" "" sized-delete-wrong "^dbgalloc: mismatched size in operator delete of $hex \(40-byte block, $g\): released as 32 bytes$"

# Every report names the allocation site: the misuse program's main.
expect_site() {
	err=$(mktemp)
	env -u LD_PRELOAD "$linked" "$1" 2>"$err" >/dev/null
	if grep -q "^  allocated at (generation [0-9]*, epoch 0 \"start\"):" "$err" &&
	   grep -Eq "^    #0 $hex in (run|main) .*misuse" "$err"; then
		pass=$((pass + 1)); echo "PASS: $1 names its allocation site"
	else
		fail=$((fail + 1)); echo "FAIL: $1 does not name its allocation site:"; sed 's/^/    /' "$err"
	fi
	rm -f "$err"
}
expect_site double-free-small
expect_site overflow-one

# DBGALLOC_ON_ERROR=report: both errors reported, the program goes on.
err=$(mktemp)
out=$(DBGALLOC_ON_ERROR=report env -u LD_PRELOAD "$linked" write-after-free-report 2>"$err")
rc=$?
if [ "$rc" -eq 0 ] && [ "$out" = survived ] &&
   grep -q "^dbgalloc: write to freed memory" "$err" &&
   grep -q "^dbgalloc: double free of" "$err"; then
	pass=$((pass + 1)); echo "PASS: DBGALLOC_ON_ERROR=report goes on"
else
	fail=$((fail + 1)); echo "FAIL: DBGALLOC_ON_ERROR=report: status $rc, out '$out', stderr:"; sed 's/^/    /' "$err"
fi
rm -f "$err"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
