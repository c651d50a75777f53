#!/bin/sh
# bench/stats.sh — how long dbgalloc-stats takes on a large dump, and how
# much memory: bench/statsdump writes a dump of BENCH_STATS_BLOCKS live
# blocks (1,000,000) over BENCH_STATS_STACKS call sites (5,000), then each
# command reads it (diff reads it twice) and the wall time and peak RSS of
# each is printed, with the dump's size per live block. Nothing is
# asserted but that every command succeeds (the issue's bound for summary
# is 1 s on a 1M-block dump).
#
#   sh bench/stats.sh --builddir=DIR        (make bench-stats)
#
# Every run has ulimit -v 4 GiB; the dump goes to a temporary directory
# (TMPDIR) and is removed at the end.
set -u
builddir=.
for arg; do
	case $arg in
	--builddir=*) builddir=${arg#*=} ;;
	*) echo "usage: sh bench/stats.sh --builddir=DIR" >&2; exit 2 ;;
	esac
done
blocks=${BENCH_STATS_BLOCKS:-1000000}
stacks=${BENCH_STATS_STACKS:-5000}
gen=$builddir/bench/statsdump
stats=$builddir/tools/dbgalloc-stats
if [ ! -x "$gen" ] || [ ! -x "$stats" ]; then
	echo "bench/stats.sh: $gen or $stats is not built" >&2
	exit 2
fi
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' INT TERM
ulimit -v 4194304

# timed NAME CMD...: runs CMD, prints NAME, wall seconds, peak RSS.
timed() {
	name=$1
	shift
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		read -r secs kib <"$tmp/time"
	else
		t0=$(date +%s.%N)
		"$@" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		secs=$(echo "$(date +%s.%N) - $t0" | bc)
		kib=0
	fi
	if [ "$rc" -gt 1 ]; then
		echo "bench/stats.sh: $name failed (status $rc):" >&2
		head -3 "$tmp/err" >&2
		exit 1
	fi
	printf '%-28s %8s s %10.1f MiB\n' "$name" "$secs" "$(echo "$kib / 1024" | bc -l)"
}

echo "dbgalloc-stats on a dump of $blocks live blocks, $stacks call sites"
timed "write the dump (statsdump)" "$gen" "$tmp/big.dump" "$blocks" "$stacks"
size=$(wc -c <"$tmp/big.dump" | tr -d ' ')
echo "dump: $size bytes, $(echo "scale=1; $size / $blocks" | bc) bytes per live block"
for cmd in summary top leaks classes stages temporaries; do
	timed "$cmd" "$stats" "$cmd" "$tmp/big.dump"
done
timed "summary --format json" "$stats" summary --format json "$tmp/big.dump"
timed "top --by function" "$stats" top --by function "$tmp/big.dump"
timed "leaks --since-stage" "$stats" leaks --since-stage 'stage 3' "$tmp/big.dump"
timed "diff (the dump twice)" "$stats" diff "$tmp/big.dump" "$tmp/big.dump"
timed "check --max-peak" "$stats" check --max-peak 1G "$tmp/big.dump"
