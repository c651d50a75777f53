#!/bin/sh
# cmocka-helpers.sh — the test helpers of <dbgalloc-cmocka.h> and
# <dbgalloc-test.h>, judged from the outside, since their point is to fail
# tests: check-cmocka's tests named fail_* must be reported failed, each
# with its message and the file:line of the assertion that failed, the
# others must pass, every test must run in order (a failure does not stop
# the run) and the exit status must count the failures; check-plain's
# DBGALLOC_CHECK_END must print each failing check's message, headed by
# its file:line, and the run must go on. The call sites in the messages
# must name the function that allocated, with file:line where libdw is
# there to give it. The programs run with no inherited DBGALLOC_ setting
# or LD_PRELOAD (make check-leaks would add its report and exit status),
# which test-env.sh clears.
set -u

. "$(dirname "$0")/test-env.sh"
src=${DA_TEST_TOP_SRCDIR:?run through make check (DA_TEST_TOP_SRCDIR)}
b=$top/tests/integration
# Lines "PASS: NAME"; each failure prints what it is about itself.
colon=:
shows=

# has FILE WHAT ERE: a line of FILE matches ERE.
has() {
	if grep -Eq -- "$3" "$1"; then
		pass "$2"
	else
		fail "$2: no line matches '$3' in:"
		sed 's/^/    /' "$1"
	fi
}

# line_in FILE FUNCTION TEXT: the number of the first line holding TEXT
# after the line where FUNCTION's definition begins.
line_in() {
	awk -v f="$2(" -v t="$3" '
		index($0, f) == 1 { on = 1 }
		on && index($0, t) { print NR; exit }' "$1"
}

# Frames name the function; with libdw, its file and line too.
lines=no
if grep -q '^#define HAVE_LIBDW_H 1' "$top/config.h"; then
	for d in /lib /lib64 /usr/lib /usr/lib64 /lib/*-linux-gnu \
		/usr/lib/*-linux-gnu; do
		[ -e "$d/libdw.so.1" ] && lines=yes
	done
fi
# frame FUNCTION FILE LINE: the ERE of its frame in a list of sites.
frame() {
	if [ "$lines" = yes ]; then
		printf '%s\n' "^    #0 0x[0-9a-f]+ in $1 [^ ]*$2:$3 [(].*[)]\$"
	else
		printf '%s\n' "^    #0 0x[0-9a-f]+ in $1( [^ ]*)? [(].*[)]\$"
	fi
}
site='^  [0-9,]+ bytes? in [0-9,]+ blocks? allocated from:$'

# --- cmocka -------------------------------------------------------------
c=$src/tests/integration/check-cmocka.c
timeout 300 "$b/check-cmocka" >"$tmp/out" 2>&1 </dev/null
rc=$?
if [ "$rc" -eq 5 ]; then
	pass "check-cmocka: exit status 5 (its five fail_ tests)"
else
	fail "check-cmocka: exit status $rc, expected 5"
fi

# The tests in the order they are registered, each run.
sed -n 's/^[[:space:]]*dbgalloc_unit_test(\([a-z_]*\)),$/\1/p' "$c" \
	>"$tmp/want"
sed -n 's/^\[ RUN      \] //p' "$tmp/out" >"$tmp/ran"
if [ -s "$tmp/want" ] && cmp -s "$tmp/want" "$tmp/ran"; then
	pass "check-cmocka: all $(wc -l <"$tmp/want") tests ran, in order"
else
	fail "check-cmocka: tests run (right) differ from those registered:"
	diff "$tmp/want" "$tmp/ran" | sed 's/^/    /'
fi

# block NAME: the lines of test NAME, from its RUN line to its verdict.
block() {
	awk -v name="$1" '
		$0 == "[ RUN      ] " name { on = 1 }
		on { print }
		on && ($0 == "[       OK ] " name ||
		       $0 == "[  FAILED  ] " name) { exit }' "$tmp/out"
}

while read -r t; do
	block "$t" >"$tmp/$t"
	case $t in
	fail_*) verdict="[  FAILED  ] $t" ;;
	*) verdict="[       OK ] $t" ;;
	esac
	if [ "$(tail -n 1 "$tmp/$t")" = "$verdict" ]; then
		pass "check-cmocka: $verdict"
	else
		fail "check-cmocka: $t: expected '$verdict', got:"
		sed 's/^/    /' "$tmp/$t"
	fi
done <"$tmp/want"

# failed_at TEST TEXT: TEST failed at its first line holding TEXT.
failed_at() {
	n=$(line_in "$c" "$1" "$2")
	has "$tmp/$1" "check-cmocka: $1 failed at line $n ($2)" \
		"\\[   LINE   \\] --- [^ ]*check-cmocka\\.c:$n: error: Failure!\$"
}
# The lines of the calls to malloc, which frames must name.
c_grow=$(line_in "$c" grow_table "fn_malloc(")
c_leak=$(line_in "$c" leak_two "fn_malloc(")

# Over the limit: the message, the list, a site and grow_table's frame.
t=fail_over_limit
has "$tmp/$t" "check-cmocka: $t: headline" \
	'^Test was limited to 1\.0MiB but allocated 2\.0MiB$'
grep -A1 -x 'Test was limited to 1.0MiB but allocated 2.0MiB' "$tmp/$t" |
	tail -n 1 >"$tmp/next"
has "$tmp/next" "check-cmocka: $t: then 'List of allocations:'" \
	'^List of allocations:$'
has "$tmp/$t" "check-cmocka: $t: a site" "$site"
has "$tmp/$t" "check-cmocka: $t: grow_table's frame" \
	"$(frame grow_table 'check-cmocka\.c' "$c_grow")"
failed_at $t dbgalloc_assert_limit_memory

t=fail_leaks
has "$tmp/$t" "check-cmocka: $t: headline" \
	'^Test was allowed to leak 0B but leaked 48B in 2 blocks$'
has "$tmp/$t" "check-cmocka: $t: 'List of leaked allocations:'" \
	'^List of leaked allocations:$'
has "$tmp/$t" "check-cmocka: $t: the site of 48 bytes in 2 blocks" \
	'^  48 bytes in 2 blocks allocated from:$'
has "$tmp/$t" "check-cmocka: $t: leak_two's frame" \
	"$(frame leak_two 'check-cmocka\.c' "$c_leak")"
failed_at $t dbgalloc_assert_no_leaks
if grep -q 'Test was limited' "$tmp/$t"; then
	fail "check-cmocka: $t: a memory limit was reported, none was set"
else
	pass "check-cmocka: $t: no memory limit reported"
fi

# Nested: the inner check fails the test, at the first of the two asserts.
t=fail_nested_inner
has "$tmp/$t" "check-cmocka: $t: headline" \
	'^Test was limited to 1\.0MiB but allocated 2\.0MiB$'
n=$(grep -c '^Test was' "$tmp/$t")
if [ "$n" -eq 1 ]; then
	pass "check-cmocka: $t: only the inner check failed"
else
	fail "check-cmocka: $t: $n messages, expected 1"
fi
failed_at $t dbgalloc_assert_limit_memory

t=fail_inside_check
has "$tmp/$t" "check-cmocka: $t: cmocka's own message" \
	'^\[  ERROR   \] --- 0x1 != 0x2$'
failed_at $t "assert_int_equal(dbgalloc_checks_open(), 2)"

t=fail_wrong_kind
n=$(line_in "$c" $t dbgalloc_limit_memory_begin)
has "$tmp/$t" "check-cmocka: $t: names the kind and where it began" \
	"^dbgalloc: the innermost check is not a limit_leaks check [(]it was begun at [^ ]*check-cmocka\\.c:$n[)]\$"
failed_at $t dbgalloc_assert_no_leaks

has "$tmp/out" "check-cmocka: the summary counts 5 failures" \
	'^\[  FAILED  \] 5 test\(s\), listed below:$'

# --- plain C ------------------------------------------------------------
p=$src/tests/integration/check-plain.c
timeout 300 "$b/check-plain" >"$tmp/out" 2>&1 </dev/null
rc=$?
if [ "$rc" -eq 4 ]; then
	pass "check-plain: exit status 4 (its four failing checks)"
else
	fail "check-plain: exit status $rc, expected 4"
fi
for verdict in "within: held" "over-limit: failed" "leak: failed" \
	"both: failed" "nested-inner: failed" "nested-outer: held" \
	"thread: held"; do
	has "$tmp/out" "check-plain: case $verdict" "^case $verdict\$"
done

# plain CASE: the lines printed after the verdict before CASE's, to it.
plain() {
	awk -v name="$1" '
		index($0, "case " name ":") == 1 { found = 1; exit }
		/^case / { n = 0; next }
		{ lines[++n] = $0 }
		END { if (found) for (i = 1; i <= n; i++) print lines[i] }' \
		"$tmp/out"
}
for k in within over-limit leak both nested-inner nested-outer thread; do
	plain $k >"$tmp/p-$k"
done

# The file and line of each END(), where DBGALLOC_CHECK_END expands, head
# the messages.
end_at() {
	grep -nF "END(\"$1\"," "$p" | head -1 | cut -d: -f1
}
p_grow=$(line_in "$p" grow_table "fn_malloc(")
p_leak=$(line_in "$p" leak_two "fn_malloc(")
for k in over-limit both nested-inner; do
	has "$tmp/p-$k" "check-plain: $k: headline with file:line" \
		"^[^ ]*check-plain\\.c:$(end_at $k): Test was limited to 1\\.0MiB but allocated 2\\.0MiB\$"
	has "$tmp/p-$k" "check-plain: $k: grow_table's frame" \
		"$(frame grow_table 'check-plain\.c' "$p_grow")"
done
has "$tmp/p-leak" "check-plain: leak: headline with file:line" \
	"^[^ ]*check-plain\\.c:$(end_at leak): Test was allowed to leak 0B but leaked 48B in 2 blocks\$"
for k in leak both; do
	has "$tmp/p-$k" "check-plain: $k: leak_two's frame" \
		"$(frame leak_two 'check-plain\.c' "$p_leak")"
done
# both: the limit, then the leaks (the table's 2 MiB too), most bytes first.
sed -n '/^Test was allowed/,$p' "$tmp/p-both" >"$tmp/p-both-leaks"
has "$tmp/p-both-leaks" "check-plain: both: the leaks after the limit" \
	'^Test was allowed to leak 0B but leaked 2\.0MiB in 10 blocks$'
sed -n 's/^  \([0-9,]*\) bytes* in .*/\1/p' "$tmp/p-both-leaks" |
	tr '\n' ' ' >"$tmp/p-both-sizes"
if [ "$(cat "$tmp/p-both-sizes")" = "2,097,152 48 " ]; then
	pass "check-plain: both: the leaked sites, most bytes first"
else
	fail "check-plain: both: leaked sites of $(cat "$tmp/p-both-sizes")bytes, expected 2,097,152 then 48"
fi
for k in within nested-outer thread; do
	if [ -s "$tmp/p-$k" ]; then
		fail "check-plain: $k printed:"
		sed 's/^/    /' "$tmp/p-$k"
	else
		pass "check-plain: $k printed nothing"
	fi
done

finish
