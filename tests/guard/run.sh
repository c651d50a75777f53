#!/bin/sh
# tests/guard/run.sh — DBGALLOC_GUARD under LD_PRELOAD: each misuse of
# guard-prog and guard-cxx (chosen by argument) must end the way it should
# (SIGSEGV at the instruction for a guard page, SIGABRT for slack bytes
# found damaged by free, status 0 where the program goes on) and print
# dbgalloc's report word for word; correct uses of every entry point must
# give right results and no report. Then sampling (sample:N picks about one
# block in N, the same seed the same blocks, another seed others), a
# program that goes on after a recovered fault, a fault outside guard
# pages (no report), a handler the program installed before dbgalloc's
# (it still gets its own faults), and a fork.
set -u
. "$(dirname "$0")/../integration/test-env.sh"
colon=:
prog=$top/tests/guard/guard-prog
cxx=$top/tests/guard/guard-cxx
hex='0x[0-9a-f]+'
g='generation [0-9]+'

# go [NAME=VALUE...] PROGRAM ARGS...: runs PROGRAM preloaded with those
# settings; its stdout in $tmp/out, stderr in $tmp/err, status in $rc.
go() {
	timeout 60 env LD_PRELOAD="$lib" "$@" >"$tmp/out" 2>"$tmp/err" \
		</dev/null
	rc=$?
}

# expect NAME STATUS REGEX...: the last run ended with STATUS and every
# REGEX (extended) matches a line of its stderr.
expect() {
	_name=$1 _want=$2
	shift 2
	if [ "$rc" -ne "$_want" ]; then
		fail "$_name" "status $rc, want $_want"
		return
	fi
	for _re in "$@"; do
		if ! grep -Eq -- "$_re" "$tmp/err"; then
			fail "$_name" "no line of stderr matches: $_re"
			return
		fi
	done
	pass "$_name"
}

# in_order NAME FIXED...: the fixed strings start lines of the last run's
# stderr in this order.
in_order() {
	_name=$1
	shift
	_at=0
	for _s in "$@"; do
		_n=$(grep -n -F -- "$_s" "$tmp/err" | sed -n 's/:.*//p' | head -1)
		if [ -z "$_n" ] || [ "$_n" -le "$_at" ]; then
			fail "$_name" "not in order: $*"
			return
		fi
		_at=$_n
	done
	pass "$_name"
}

# The sections every guard report has: where, and the allocation's stack.
where="^  in thread [0-9]+ at:$"
allocated="^  allocated by thread [0-9]+ at \($g, epoch 0 \"start\"\):$"
in_main="^    #0 $hex in main .*guard-prog\.c:[0-9]+"
align1="DBGALLOC_GUARD=1 DBGALLOC_GUARD_ALIGN=1"

# One byte past odd-sized blocks that end at their guard page.
for n in 1 13 4095 4097; do
	sz=$(printf %s "$n" | sed 's/\(.\)\(...\)$/\1,\2/')
	go $align1 "$prog" overflow "$n"
	expect "overflow of a $n-byte block faults" 139 \
		"^dbgalloc: heap-buffer-overflow: write at $hex, 1 byte past the end of $hex \($sz-byte block, $g\)$" \
		"$where" "$allocated" "$in_main"
done
go $align1 "$prog" overflow-read 13
expect "a read past the end is a read" 139 \
	"^dbgalloc: heap-buffer-overflow: read at $hex, 1 byte past the end of $hex \(13-byte block, $g\)$"

# Overflow within the alignment slack: free finds the slack damaged.
for i in 13 14 15; do
	go DBGALLOC_GUARD=1 "$prog" slack "$i"
	expect "overflow into the slack (byte $i) found by free" 134 \
		"^dbgalloc: write past the end of $hex \(13-byte block, $g\): byte $i was overwritten, found by free\(\)$"
done
go DBGALLOC_GUARD=1 DBGALLOC_GUARD_SIDE=before "$prog" slack 14
expect "side before: overflow into the page's slack found by free" 134 \
	"^dbgalloc: write past the end of $hex \(13-byte block, $g\): byte 14 was overwritten, found by free\(\)$"

# Underflow with the guard page before the block: its header lies in
# front of it, so the first byte that faults is 17 bytes before it.
before="DBGALLOC_GUARD=1 DBGALLOC_GUARD_SIDE=before"
go $before "$prog" underflow 17
expect "underflow read faults (side before)" 139 \
	"^dbgalloc: heap-buffer-underflow: read at $hex, 17 bytes before $hex \(13-byte block, $g\)$" \
	"$where" "$allocated"
go $before "$prog" underflow-write 100
expect "underflow write faults (side before)" 139 \
	"^dbgalloc: heap-buffer-underflow: write at $hex, 100 bytes before $hex \(13-byte block, $g\)$"
go $before "$prog" underflow-header 1
expect "a write to the header is found by free (side before)" 134 \
	"^dbgalloc: write before the block at $hex: its header was overwritten, found by free\(\)$"

# Use after free: the quarantine keeps the freed block's page closed.
for how in read write; do
	go DBGALLOC_GUARD=1 "$prog" uaf-$how
	expect "use after free ($how) faults" 139 \
		"^dbgalloc: use-after-free: $how at $hex, byte 3 of $hex \(13-byte block, $g\), freed$" \
		"$where" "^  freed by thread [0-9]+ at:$" "$allocated"
	if awk '/^  freed by thread [0-9]+ at:$/ { getline; print; exit }' \
		"$tmp/err" | grep -Eq "^    #0 $hex in release_block "; then
		pass "use after free ($how): the free's stack names release_block"
	else
		fail "use after free ($how): the free's stack names release_block"
	fi
done

# DBGALLOC_GUARD=size:MIN-MAX guards those sizes only; the others keep
# their canary.
go DBGALLOC_GUARD=size:4K-8K DBGALLOC_GUARD_ALIGN=1 "$prog" overflow 4097
expect "size:4K-8K guards a 4097-byte block" 139 \
	"^dbgalloc: heap-buffer-overflow: write at $hex, 1 byte past the end of $hex \(4,097-byte block, $g\)$"
go DBGALLOC_GUARD=size:4K-8K DBGALLOC_GUARD_ALIGN=1 "$prog" overflow 13
expect "size:4K-8K leaves a 13-byte block to its canary" 134 \
	"^dbgalloc: write past the end of $hex \(13-byte block, $g\): byte 13 was overwritten, found at exit$"

# The entry points used correctly: right results, nothing reported.
for settings in "DBGALLOC_GUARD=1" "$align1" "$before" \
	"DBGALLOC_GUARD=1 DBGALLOC_GUARD_ALIGN=4096"; do
	go $settings "$prog" uses
	if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "uses: right" ] &&
		[ ! -s "$tmp/err" ]; then
		pass "entry points right ($settings)"
	else
		fail "entry points right ($settings)" "status $rc"
	fi
	go $settings "$cxx" uses
	if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "cxx: right" ] &&
		[ ! -s "$tmp/err" ]; then
		pass "operator new and delete right ($settings)"
	else
		fail "operator new and delete right ($settings)" "status $rc"
	fi
done

# One byte past a block of each entry point faults (DBGALLOC_GUARD_ALIGN=1;
# the aligned calls ask for a size their alignment divides).
past() {
	_name=$1 _size=$2
	shift 2
	go $align1 "$@"
	expect "$_name: one byte past faults" 139 \
		"^dbgalloc: heap-buffer-overflow: write at $hex, 1 byte past the end of $hex \($_size-byte block, $g\)$"
}
past calloc 21 "$prog" calloc
past "realloc growing" 4,097 "$prog" realloc-grow
past "realloc shrinking" 13 "$prog" realloc-shrink
past "malloc_usable_size's last byte" 13 "$prog" usable
past "posix_memalign 64" 128 "$prog" posix_memalign 64
past "posix_memalign 4096" 8,192 "$prog" posix_memalign 4096
past "aligned_alloc 64" 64 "$prog" aligned_alloc 64
past "aligned_alloc 4096" 4,096 "$prog" aligned_alloc 4096
past "memalign 64" 192 "$prog" memalign 64
past "memalign 4096" 12,288 "$prog" memalign 4096
past valloc 4,096 "$prog" valloc
past "new char[13]" 13 "$cxx" new-array
past "new of a 13-byte struct" 13 "$cxx" new-scalar
past "new of a 64-aligned struct" 128 "$cxx" new-aligned
for a in 64 4096; do
	go $align1 "$prog" memalign-slack "$a"
	expect "memalign $a, 13 bytes: the slack is checked by free" 134 \
		"^dbgalloc: write past the end of $hex \(13-byte block, $g\): byte 13 was overwritten, found by free\(\)$"
done
go DBGALLOC_GUARD=1 "$cxx" delete-then-read
expect "a read after delete[] faults" 139 \
	"^dbgalloc: use-after-free: read at $hex, byte 0 of $hex \(13-byte block, $g\), freed$" \
	"^  freed by thread [0-9]+ at:$"

# DBGALLOC_GUARD_RECOVER: the report, then the program goes on and exits.
go $align1 DBGALLOC_GUARD_RECOVER=1 "$prog" overflow 13
expect "recover: the program goes on and exits 0" 0 \
	"^dbgalloc: heap-buffer-overflow: write at $hex, 1 byte past the end of $hex \(13-byte block, $g\)$"
in_order "recover: report, then the page opened, then the program" \
	"dbgalloc: heap-buffer-overflow: write" \
	"dbgalloc: DBGALLOC_GUARD_RECOVER: the page is open now and the program goes on" \
	"guard-prog: overflow went on"

# sample:N: blocks read one byte past their end under RECOVER. The count
# of reports must lie within a wide bound of M/N; the same seed must pick
# the same blocks, another seed other blocks; each report is recovered
# from, and the program ends normally with its own last line.
m=4000
sample() { # sample N SEED: $count reports; the blocks' numbers in $tmp/picked.N.SEED
	go DBGALLOC_GUARD=sample:$1 DBGALLOC_GUARD_RECOVER=1 \
		DBGALLOC_GUARD_SEED=$2 "$prog" sample $m
	count=$(grep -Ec "^dbgalloc: heap-buffer-overflow: read at $hex, 1 byte past the end of" "$tmp/err")
	recovered=$(grep -c "^dbgalloc: DBGALLOC_GUARD_RECOVER: the page is open now" "$tmp/err")
	awk '/^block [0-9]+$/ { b = $2 } /^dbgalloc: heap-buffer-overflow/ { print b }' \
		"$tmp/err" >"$tmp/picked.$1.$2"
	last=$(tail -n 1 "$tmp/err")
	_name="sample:$1 seed $2: $count of $m blocks reported"
	if [ "$rc" -ne 0 ]; then
		fail "$_name" "status $rc"
	elif [ "$last" != "guard-prog: $m blocks read past their end" ]; then
		fail "$_name" "the program's last line is missing"
	elif [ "$recovered" -ne "$count" ]; then
		fail "$_name" "$recovered recovered"
	elif [ "$count" -lt $((m / $1 / 2)) ] || [ "$count" -gt $((2 * m / $1)) ]; then
		fail "$_name" "want $((m / $1 / 2)) to $((2 * m / $1))"
	else
		pass "$_name, each recovered, then a normal exit"
	fi
}
for n in 40 7; do
	for seed in 1 2 3; do
		sample $n $seed
	done
	cp "$tmp/picked.$n.1" "$tmp/picked.$n.1.first"
	count1=$(wc -l <"$tmp/picked.$n.1")
	sample $n 1
	if cmp -s "$tmp/picked.$n.1" "$tmp/picked.$n.1.first" &&
		[ "$(wc -l <"$tmp/picked.$n.1")" -eq "$count1" ]; then
		pass "sample:$n: the same seed picks the same blocks"
	else
		fail "sample:$n: the same seed picks the same blocks"
	fi
	if ! cmp -s "$tmp/picked.$n.1" "$tmp/picked.$n.2" &&
		! cmp -s "$tmp/picked.$n.1" "$tmp/picked.$n.3" &&
		! cmp -s "$tmp/picked.$n.2" "$tmp/picked.$n.3"; then
		pass "sample:$n: other seeds pick other blocks"
	else
		fail "sample:$n: other seeds pick other blocks"
	fi
done

# A fault outside guard-page space is not dbgalloc's: SIGSEGV, no report
# (the shell may say "Segmentation fault" on the run's stderr).
go DBGALLOC_GUARD=1 "$prog" null
if [ "$rc" -eq 139 ] && ! grep -q dbgalloc "$tmp/err"; then
	pass "a NULL dereference dies by SIGSEGV without a report"
else
	fail "a NULL dereference dies by SIGSEGV without a report" "status $rc"
fi

# A SIGSEGV handler installed before dbgalloc's (from .preinit_array)
# still catches its own faults; a fault in a guard page is still reported.
go $align1 "$prog" chain
expect "the program's own handler, installed first, is chained" 139 \
	"^guard-prog: own handler caught 3 faults$" \
	"^dbgalloc: heap-buffer-overflow: write at $hex, 1 byte past the end of $hex \(13-byte block, $g\)$"
in_order "the program's faults first, then dbgalloc's report" \
	"guard-prog: own handler caught 3 faults" \
	"dbgalloc: heap-buffer-overflow"

# fork: the child uses and frees a guarded block of its parent's, then
# overflows one of its own, reported in the child, which dies by SIGSEGV.
go $align1 "$prog" fork
if [ "$rc" -eq 0 ] && grep -qx "child: block inherited" "$tmp/out" &&
	grep -qx "parent: child died by signal 11" "$tmp/out"; then
	pass "fork: the child uses its parent's guarded block"
else
	fail "fork: the child uses its parent's guarded block" "status $rc"
fi
expect "fork: the child's overflow is reported" 0 \
	"^dbgalloc: heap-buffer-overflow: write at $hex, 1 byte past the end of $hex \(21-byte block, $g\)$" \
	"$where"

finish
