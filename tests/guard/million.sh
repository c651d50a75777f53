#!/bin/sh
# tests/guard/million.sh — a million guarded blocks live at once under
# LD_PRELOAD with DBGALLOC_GUARD=1 (tests/guard/million.c), while
# /proc/self/maps stays a few lines long.
#
# Each block costs a page of memory however little of it is written (its
# header is written by the allocation itself), about 4,170 bytes with its
# record: a million take some 4.1 GB resident (measured: 4,072,952 kB of
# VmRSS) and some 16 GB of address space (15,836,000 kB of VmSize). So the
# test runs a million blocks only when MemAvailable has room for them and
# 1 GiB more; if it has room for 100,000 only, it runs 100,000 (still three
# times what one mapping per guard page allows under the default
# vm.max_map_count), and says so; with less it is skipped (status 77).
# The run is bounded: ulimit -v, and a watch on its VmRSS that kills it
# past the memory it was given. DA_TEST_GUARD_BLOCKS sets the count.
set -u
. "$(dirname "$0")/../integration/test-env.sh"
colon=:
prog=$top/tests/guard/million
per_block=4400 # bytes of memory a block may cost, with margin
want=${DA_TEST_GUARD_BLOCKS:-1000000}

avail=$(sed -n 's/^MemAvailable: *\([0-9]*\) kB$/\1/p' /proc/meminfo)
avail=${avail:-0}
# need N: the kB N blocks need, with 1 GiB to spare.
need() { echo $(($1 * per_block / 1024 + 1048576)); }
n=$want
if [ "$avail" -lt "$(need "$n")" ]; then
	n=100000
	if [ "$avail" -lt "$(need "$n")" ]; then
		echo "SKIP: MemAvailable is $avail kB: $(need "$n") kB wanted" \
			"even for $n blocks"
		exit 77
	fi
	echo "MemAvailable is $avail kB, $(need "$want") kB wanted for $want" \
		"blocks: $n blocks instead"
fi
rss_limit=$((n * per_block / 1024 + 262144))
vm_limit=$((n * 20 + 2097152)) # kB; a million blocks reserve ~16 GB

(
	ulimit -v "$vm_limit"
	exec timeout 120 env LD_PRELOAD="$lib" DBGALLOC_GUARD=1 "$prog" "$n"
) >"$tmp/out" 2>"$tmp/err" &
pid=$!
peak=0
killed=
# The watch reads timeout's child's VmRSS; timeout itself is small.
while kill -0 "$pid" 2>/dev/null; do
	for c in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null ||
		pgrep -P "$pid"); do
		r=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' \
			"/proc/$c/status" 2>/dev/null)
		r=${r:-0}
		[ "$r" -gt "$peak" ] && peak=$r
		if [ "$r" -gt "$rss_limit" ]; then
			kill -KILL "$c" 2>/dev/null
			killed=$r
		fi
	done
	sleep 0.2
done
wait "$pid"
rc=$?
cat "$tmp/out"
echo "peak VmRSS seen: $peak kB (limit $rss_limit kB), ulimit -v $vm_limit kB"
name="$n guarded blocks live at once, few mappings"
if [ -n "$killed" ]; then
	fail "$name" "killed at $killed kB of VmRSS, past $rss_limit kB"
elif [ "$rc" -ne 0 ] || ! grep -qx "million: right" "$tmp/out"; then
	fail "$name" "status $rc"
else
	pass "$name"
fi

# mprotect's guards split mappings: near 3/4 of vm.max_map_count (65530 by
# default: 30,000 blocks pass it) one line says guarding goes on sampled,
# and no allocation fails.
maps_max=$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 65530)
m=$((maps_max / 2))
env LD_PRELOAD="$lib" DBGALLOC_GUARD=1 DBGALLOC_GUARD_MPROTECT=1 \
	"$prog" "$m" any-maps >"$tmp/out" 2>"$tmp/err"
rc=$?
cat "$tmp/out" "$tmp/err"
live_maps=$(sed -n 's/.* \([0-9]*\) live, .*/\1/p' "$tmp/out")
if [ "$rc" -eq 0 ] && grep -qx "million: right" "$tmp/out" &&
	[ "$(wc -l <"$tmp/err")" -eq 1 ] &&
	grep -qx "dbgalloc: DBGALLOC_GUARD: the kernel's map count (vm.max_map_count) is nearly used up; from now on one block in 1,000 is guarded" "$tmp/err" &&
	[ "${live_maps:-0}" -gt $((maps_max / 2)) ]; then
	pass "mprotect's guards: $m blocks, one line near the map count, sampled on"
else
	fail "mprotect's guards: $m blocks, one line near the map count, sampled on" "status $rc"
fi
finish
