#!/bin/sh
# Death tests: every misuse dbgalloc detects must kill the program with
# SIGABRT *and* print its diagnostic, word for word. Each case runs twice:
# linked with libdbgalloc and, for the plain build, under LD_PRELOAD. Each
# run sets LD_PRELOAD itself, whatever make check inherited: none for a
# linked program, the library under test for the plain one.
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

# expect PROGRAM PRELOAD CASE REGEX
expect() {
	prog=$1 pre=$2 case=$3 want=$4
	err=$(mktemp)
	if [ -n "$pre" ]; then
		LD_PRELOAD=$pre "$prog" "$case" 2>"$err" >/dev/null
	else
		env -u LD_PRELOAD "$prog" "$case" 2>"$err" >/dev/null
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

both() {
	expect "$linked" "" "$1" "$2"
	expect "$plain" "$lib" "$1" "$2"
}

# The harness itself: a plain abort must be seen as one (and say nothing).
expect "$linked" "" abort-only '^$|.*'
both double-free-small "^dbgalloc: double free of $hex \(32-byte block\) in free\(\)$"
both double-free-medium "^dbgalloc: double free of $hex \(5120-byte block\) in free\(\)$"
both double-free-large "^dbgalloc: double free of $hex \(303104-byte block\) in free\(\)$"
both double-free-huge "^dbgalloc: (double free of $hex \([0-9]+-byte block\)|invalid free of $hex: not allocated by dbgalloc,) in free\(\)$"
both double-free-aligned "^dbgalloc: double free of $hex \([0-9]+-byte block\) in free\(\)$"
both free-stack "^dbgalloc: invalid free of $hex: not allocated by dbgalloc, in free\(\)$"
both free-global "^dbgalloc: invalid free of $hex: not allocated by dbgalloc, in free\(\)$"
both free-interior "^dbgalloc: invalid free of $hex: 8 bytes into the 32-byte block at $hex, in free\(\)$"
both free-unaligned-interior "^dbgalloc: invalid free of $hex: 3 bytes into the 32-byte block at $hex, in free\(\)$"
both free-one-byte-in "^dbgalloc: invalid free of $hex: 1 byte into the 32-byte block at $hex, in free\(\)$"
both free-never-handed-out "^dbgalloc: invalid free of $hex: no block was handed out at this address, in free\(\)$"
both double-free-huge-exact "^dbgalloc: double free of $hex \([0-9]+-byte block\) in free\(\)$"
both free-aligned-interior "^dbgalloc: invalid free of $hex: [0-9]+ bytes into the 352-byte block at $hex, in free\(\)$"
both realloc-freed "^dbgalloc: bad pointer $hex passed to realloc\(\): freed 48-byte block$"
both realloc-foreign "^dbgalloc: bad pointer $hex passed to realloc\(\): not allocated by dbgalloc$"
both usable-size-interior "^dbgalloc: bad pointer $hex passed to malloc_usable_size\(\): 16 bytes into the 64-byte block at $hex$"
both free-sized-twice "^dbgalloc: double free of $hex \(48-byte block\) in free_sized\(\)$"
expect "$cxx" "" delete-twice "^dbgalloc: double free of $hex \(16-byte block\) in operator delete$"
expect "$cxx" "" delete-array-twice "^dbgalloc: double free of $hex \(48-byte block\) in operator delete\[\]$"
expect "$cxx" "" delete-stack "^dbgalloc: invalid free of $hex: not allocated by dbgalloc, in operator delete$"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
