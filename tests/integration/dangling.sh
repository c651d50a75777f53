#!/bin/sh
# dangling.sh — DBGALLOC_DANGLING end to end, on dangling-prog (see its
# header) preloaded with DBGALLOC_GUARD and a 64 KiB quarantine:
#   - a stale pointer planted at offset 8 of a live block and one in a
#     global are each reported once when the freed block leaves the
#     quarantine, with the freed block's free and allocation sites and the
#     holder's allocation site; the program goes on (status 0) and the
#     count is said at exit;
#   - the same with only the 13-byte blocks guarded (the holder is an
#     ordinary block);
#   - no report when the copies were cleared, nor without DBGALLOC_DANGLING;
#   - a copy in the stack of a second thread, blocked meanwhile, is found
#     (the sweep stops it and reads its stack) and said to be in its stack
#     (a 256 MiB one: no TLS offset taken from a heap block may span it);
#   - a sweep over 10,000 more live blocks finds nothing and prints its
#     time.
set -u

. "$(dirname "$0")/test-env.sh"
prog=$top/tests/integration/dangling-prog

if [ ! -x "$prog" ] || [ ! -r "$lib" ]; then
	fail setup "$prog or $lib missing"
	finish
fi

# run GUARD DANGLING ARGS...: runs the program preloaded; stdout in
# $tmp/out, stderr in $tmp/err, status in $rc.
run() {
	_g=$1 _d=$2
	shift 2
	LD_PRELOAD=$lib DBGALLOC_GUARD=$_g DBGALLOC_DANGLING=$_d \
		DBGALLOC_QUARANTINE=64K timeout 120 "$prog" "$@" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# addr NAME: the address the program printed for NAME (A, B or G).
addr() {
	sed -n "s/^A \(0x[0-9a-f]*\) B \(0x[0-9a-f]*\) G \(0x[0-9a-f]*\)$/\1 \2 \3/p" \
		"$tmp/out" | {
		read -r a b g
		case $1 in A) echo "$a" ;; B) echo "$b" ;; G) echo "$g" ;; esac
	}
}

# section KEY TITLE FRAME: the report whose headline contains KEY has a
# section whose title starts with TITLE and whose first frame contains
# FRAME (fixed strings all).
section() {
	awk -v k="$1" -v t="$2" -v f="$3" '
		/^dbgalloc: / { inrep = index($0, k) > 0; intitle = 0; next }
		inrep && /^  [^ ]/ { intitle = index($0, t) == 1; first = 1; next }
		inrep && intitle && first { first = 0; if (index($0, f)) ok = 1 }
		END { exit !ok }' "$tmp/err"
}

# count RE: lines of stderr matching RE.
count() {
	grep -c -- "$1" "$tmp/err"
}

stale_checks() {
	_what=$1
	a=$(addr A) b=$(addr B) g=$(addr G)
	[ "$rc" -eq 0 ] && grep -qx done "$tmp/out"
	result "$_what: the program goes on" $?
	held="^dbgalloc: dangling pointer to $a (13-byte block, generation [0-9]*, freed): held at offset 8 of $b (64-byte block, generation [0-9]*)\$"
	[ "$(count "$held")" -eq 1 ]
	result "$_what: the holder block and offset, once" $?
	key="held at offset 8 of $b ("
	section "$key" '  the holder was allocated at (generation ' ' in make_holder '
	result "$_what: the holder's allocation site" $?
	section "$key" '  freed by thread ' ' in free_victim '
	result "$_what: the freed block's free site" $?
	section "$key" '  allocated by thread ' ' in make_victim '
	result "$_what: the freed block's allocation site" $?
	root="^dbgalloc: dangling pointer to $a (13-byte block, generation [0-9]*, freed): held in a root at $g (data of module dangling-prog)\$"
	[ "$(count "$root")" -eq 1 ]
	result "$_what: the global root" $?
	section "held in a root at $g (" '  freed by thread ' ' in free_victim '
	result "$_what: the global root's report has the free site" $?
	n=$(sed -n 's/^dbgalloc: DBGALLOC_DANGLING: \([0-9,]*\) dangling pointers found$/\1/p' "$tmp/err")
	[ -n "$n" ] && [ "$n" -ge 2 ] &&
		[ "$n" -eq "$(count '^dbgalloc: dangling pointer to ')" ]
	result "$_what: the count at exit ($n)" $?
	! grep -q 'unswept' "$tmp/err"
	result "$_what: no block left unswept" $?
}

run 1 1 stale
stale_checks "every block guarded"

run size:13-13 1 stale
stale_checks "13-byte blocks guarded"

run 1 1 clean
[ "$rc" -eq 0 ] && grep -qx done "$tmp/out" && ! grep -q dangling "$tmp/err"
result "copies cleared: no report" $?

run 1 0 stale
[ "$rc" -eq 0 ] && grep -qx done "$tmp/out" && ! grep -q dangling "$tmp/err"
result "DBGALLOC_DANGLING=0: no sweep" $?

run 1 1 thread
a=$(addr A)
t=$(sed -n 's/^T \([0-9]*\)$/\1/p' "$tmp/out")
[ "$rc" -eq 0 ] && grep -qx done "$tmp/out" && [ -n "$t" ] &&
	grep -q "^dbgalloc: dangling pointer to $a (13-byte block, generation [0-9]*, freed): held in a root at 0x[0-9a-f]* (stack of thread $t)\$" "$tmp/err"
result "a copy in another thread's stack, read with the thread stopped" $?

run size:13-13 1 bench 10000
ms=$(sed -n 's/^sweep: \([0-9.]*\) ms, 10000 live blocks$/\1/p' "$tmp/out")
[ "$rc" -eq 0 ] && [ -n "$ms" ] && ! grep -q dangling "$tmp/err"
result "a sweep over 10,000 live blocks: $ms ms, nothing found" $?

finish
