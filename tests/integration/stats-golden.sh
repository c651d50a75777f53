#!/bin/sh
# stats-golden.sh — dbgalloc-stats against its golden outputs: each case of
# tests/dumps/stats/cases (NAME STATUS ARGUMENTS) is run in tests/dumps, and
# its exit status, standard output and standard error must be exactly
# STATUS, stats/NAME.out and stats/NAME.err (empty when there is no such
# file). A JSON output must parse too, no object naming a key twice (with
# python3, when configure found it). A case of status 2 must print nothing on stdout and one
# line on stderr.
#
# With DA_STATS_GOLDEN_UPDATE=1 the outputs are written instead of
# compared (review them with git diff); the statuses are still checked.
set -u
build=${DA_TEST_TOP_BUILDDIR:?run through make check (DA_TEST_TOP_BUILDDIR)}
src=${DA_TEST_TOP_SRCDIR:?run through make check (DA_TEST_TOP_SRCDIR)}
stats=$build/tools/dbgalloc-stats
dir=$src/tests/dumps/stats
update=${DA_STATS_GOLDEN_UPDATE:-}
LC_ALL=C
export LC_ALL
passed=0
failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

if [ ! -x "$stats" ] || [ ! -r "$dir/cases" ]; then
	echo "FAIL: $stats or $dir/cases missing"
	exit 1
fi
cd "$src/tests/dumps" || exit 1

bad() {
	echo "FAIL $name: $1"
	failed=$((failed + 1))
}

while read -r name status args; do
	case $name in '' | '#'*) continue ;; esac
	# shellcheck disable=SC2086 # the arguments are words
	"$stats" $args >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ "$rc" -ne "$status" ]; then
		bad "exit status $rc, not $status"
		sed 's/^/  stderr: /' "$tmp/err" | head -5
		continue
	fi
	if [ "$status" -eq 2 ] && { [ -s "$tmp/out" ] ||
		[ "$(wc -l <"$tmp/err" | tr -d ' ')" -ne 1 ]; }; then
		bad "status 2 with output, or not one line of error"
		continue
	fi
	case " $args " in
	*" --format json "* | *" --format=json "*)
		if [ -n "${PYTHON3:-}" ] && ! "$PYTHON3" -c '
import json, sys
def pairs(p):
    keys = [k for k, v in p]
    if len(keys) != len(set(keys)):
        sys.exit("a key twice in one object: %s" % keys)
    return dict(p)
json.load(open(sys.argv[1]), object_pairs_hook=pairs)' "$tmp/out"; then
			bad "the JSON does not parse, or names a key twice"
			continue
		fi
		;;
	esac
	if [ -n "$update" ]; then
		cp "$tmp/out" "$dir/$name.out"
		if [ -s "$tmp/err" ]; then
			cp "$tmp/err" "$dir/$name.err"
		else
			rm -f "$dir/$name.err"
		fi
		echo "WROTE $name"
		passed=$((passed + 1))
		continue
	fi
	[ -r "$dir/$name.err" ] || : >"$tmp/want-err"
	[ -r "$dir/$name.err" ] && cp "$dir/$name.err" "$tmp/want-err"
	if ! cmp -s "$tmp/out" "$dir/$name.out"; then
		bad "stdout differs from stats/$name.out"
		diff -u "$dir/$name.out" "$tmp/out" | head -20
	elif ! cmp -s "$tmp/err" "$tmp/want-err"; then
		bad "stderr differs"
		diff -u "$tmp/want-err" "$tmp/err" | head -10
	else
		echo "PASS $name"
		passed=$((passed + 1))
	fi
done <"$dir/cases"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
