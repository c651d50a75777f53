#!/bin/sh
# bench/livecheck.sh — the pause of the live leak check (DBGALLOC_LEAKS_
# SIGNAL) of a process holding MIB mebibytes live (default 1024, in blocks
# of 64 KiB, every page written) while 4 threads allocate: RUNS checks
# (default 10), each waited for, and the pauses the reports state (the
# threads stopped, and the fork's share), sorted; then the same for a
# process holding 16 MiB. Needs about 2.5 x MIB of memory (ulimit -v
# bounds it). Run from the build tree: `make bench-livecheck`.
set -u
top=${DA_TEST_TOP_BUILDDIR:-.}
lib=${DA_TEST_LIB:-$top/.libs/libdbgalloc.so}
prog=$top/tests/integration/trigger-prog
mib=${BENCH_MIB:-1024}
runs=${BENCH_RUNS:-10}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# reports: how many reports the log holds.
reports() {
	n=$(grep -c '^SUMMARY' "$tmp/log" 2>/dev/null)
	echo "${n:-0}"
}

one() {
	size=$1
	rm -f "$tmp/in" "$tmp/log" "$tmp/out" && mkfifo "$tmp/in"
	exec 3<>"$tmp/in"
	(
		ulimit -v $((size * 2560 + 1048576))
		exec env DBGALLOC_LEAKS_SIGNAL=USR1 DBGALLOC_LOG="$tmp/log" \
			LD_PRELOAD="$lib" "$prog" rss "$size"
	) <"$tmp/in" >"$tmp/out" 2>&1 &
	pid=$!
	i=0
	until grep -q '^ready$' "$tmp/out" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
		[ "$i" -gt 1200 ] && echo "no ready from trigger-prog" && exit 1
	done
	rss=$(sed -n "s/^VmRSS:[[:space:]]*//p" "/proc/$pid/status")
	k=0
	while [ "$k" -lt "$runs" ]; do
		k=$((k + 1))
		kill -USR1 "$pid"
		i=0
		until [ "$(reports)" -ge "$k" ]; do
			sleep 0.1
			i=$((i + 1))
			[ "$i" -gt 1200 ] && echo "no report $k" && break
		done
	done
	echo quit >&3
	exec 3>&-
	wait "$pid"
	echo "$size MiB live (VmRSS $rss), $runs live checks:"
	sed -n 's/.*stopped for \([0-9.]*\) ms; the fork took \([0-9.]*\) ms.*/\1 \2/p' \
		"$tmp/log" | sort -n | awk '
		{ p[NR] = $1; f[NR] = $2 }
		END {
			printf "  paused (ms):"
			for (i = 1; i <= NR; i++) printf " %s", p[i]
			printf "\n  of which the fork (ms, same order):"
			for (i = 1; i <= NR; i++) printf " %s", f[i]
			printf "\n  median pause %s ms\n", p[int((NR + 1) / 2)]
		}'
}

uptime
one "$mib"
one 16
