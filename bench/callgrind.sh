#!/bin/sh
# bench/callgrind.sh — instruction counts of the churn loop under callgrind,
# per allocator: unlike wall time, they repeat exactly from run to run.
#
#   sh bench/callgrind.sh --builddir=DIR --dbgalloc=LIB
#
# `make bench-callgrind` calls it. For glibc, dbgalloc, (when installed)
# jemalloc, mimalloc and tcmalloc, and dbgalloc with DBGALLOC_POISON=full
# (poison-full), with DBGALLOC_STACK_DEPTH=16 (depth-16), with
# DBGALLOC_LIMIT=16G (limit) and with DBGALLOC_GUARD=sample:1000
# (guard-sample) it runs
# bench/churn twice under `valgrind --tool=callgrind`: with CALLGRIND_PAIRS
# malloc/free pairs (default 1000000) and with none (start-up, the 10k-block
# fill, exit); then glibc, dbgalloc and depth-16 on bench/churn-fp, the same
# loop built with frame pointers. It prints the total instructions (Ir) of
# the full run and the difference divided by the pairs — the instructions
# of one malloc/free pair and its loop step — each with its ratio to glibc
# on the same program. BENCH_ALLOCATORS picks a subset as in run.sh (the
# tools and the guard-page allocators guard-full, efence and duma in it are
# left out: tools do not run under callgrind, and the guard pages' cost is
# system calls and page faults, which callgrind does not count). Exit status:
# 0, 1 if a run failed, 2 for a set-up error.
set -u
export LC_ALL=C

me=bench-callgrind
die() {
	echo "$me: $*" >&2
	exit 2
}

builddir=.
dbgalloc_lib=
for arg; do
	case $arg in
	--builddir=*) builddir=${arg#*=} ;;
	--dbgalloc=*) dbgalloc_lib=${arg#*=} ;;
	-h | --help)
		sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown argument '$arg' (try --help)" ;;
	esac
done
[ -n "$dbgalloc_lib" ] || dbgalloc_lib=$builddir/.libs/libdbgalloc.so
builddir=$(cd "$builddir" && pwd) || die "no build directory '$builddir'"
for p in churn churn-fp; do
	[ -x "$builddir/bench/$p" ] || die "$builddir/bench/$p is not built (run 'make bench-callgrind')"
done
command -v valgrind >/dev/null 2>&1 ||
	die "valgrind not found (Debian package valgrind)"
unset LD_PRELOAD

pairs=${CALLGRIND_PAIRS:-1000000}
case $pairs in
'' | *[!0-9]* | 0) die "CALLGRIND_PAIRS must be a positive whole number (got '$pairs')" ;;
esac
# churn takes a scale: its default is 10,000,000 pairs.
scale=$(awk -v p="$pairs" 'BEGIN { printf "%.7f", p / 10000000 }')

all="glibc dbgalloc jemalloc mimalloc tcmalloc poison-full depth-16 limit guard-sample"
tools="guard-full efence duma lsan memcheck heaptrack"
allocators=$all
if [ -n "${BENCH_ALLOCATORS:-}" ]; then
	allocators=
	for a in $(echo "$BENCH_ALLOCATORS" | tr ',' ' '); do
		case " $all " in
		*" $a "*) allocators="$allocators $a" ;;
		*)
			case " $tools " in
			*" $a "*) ;;
			*) die "BENCH_ALLOCATORS: unknown name '$a' (choose from: $all $tools)" ;;
			esac
			;;
		esac
	done
fi

find_lib() {
	for so; do
		for dir in "/usr/lib/$(uname -m)-linux-gnu" "/lib/$(uname -m)-linux-gnu" \
			/usr/lib64 /usr/lib /usr/local/lib; do
			[ -r "$dir/$so" ] && echo "$dir/$so" && return 0
		done
	done
	return 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/callgrind.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# ir PROG LIB SETTING PAIRS-SCALE NAME: runs bench/PROG under callgrind with
# LIB preloaded (none: glibc) and SETTING (NAME=VALUE, or empty) in its
# environment, prints its total Ir.
ir() {
	out=$work/$5.out
	stdout=$work/$5.stdout
	stderr=$work/$5.stderr
	ir_lib=$2 ir_set=$3
	set -- valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$builddir/bench/$1" "$4"
	[ -z "$ir_set" ] || set -- "$ir_set" "$@"
	[ -z "$ir_lib" ] || set -- LD_PRELOAD="$ir_lib" "$@"
	env "$@" >"$stdout" 2>"$stderr" || return 1
	awk '$1 == "totals:" || $1 == "summary:" { print $2; exit }' "$out"
}

printf '%s: churn under valgrind --tool=callgrind, %s malloc/free pairs; %s\n' \
	"$me" "$pairs" "$(valgrind --version)"
status=0
for prog in churn churn-fp; do
	if [ "$prog" = churn ]; then
		printf '%-12s %16s %8s %12s %8s\n' allocator "Ir (total)" "x glibc" "Ir per pair" "x glibc"
	else
		printf '%s (churn built with -fno-omit-frame-pointer):\n' "$prog"
	fi
	base_total=
	base_pair=
	for a in $allocators; do
		lib=
		setting=
		case $a in
		glibc) ;;
		dbgalloc | poison-full | depth-16 | limit | guard-sample)
			lib=$dbgalloc_lib
			[ -r "$lib" ] || die "dbgalloc library not found: $lib (build it with 'make', or leave it out with BENCH_ALLOCATORS)"
			case $a in
			poison-full) setting=DBGALLOC_POISON=full ;;
			depth-16) setting=DBGALLOC_STACK_DEPTH=16 ;;
			limit) setting=DBGALLOC_LIMIT=16G ;;
			guard-sample) setting=DBGALLOC_GUARD=sample:1000 ;;
			esac
			;;
		jemalloc) lib=$(find_lib libjemalloc.so.2) ;;
		mimalloc) lib=$(find_lib libmimalloc.so.2) ;;
		tcmalloc) lib=$(find_lib libtcmalloc_minimal.so.4 libtcmalloc.so.4) ;;
		esac
		# On churn-fp only what frame pointers may change.
		if [ "$prog" = churn-fp ]; then
			case $a in
			glibc | dbgalloc | depth-16) ;;
			*) continue ;;
			esac
		fi
		if [ "$a" != glibc ] && [ -z "$lib" ]; then
			printf '%-12s %16s   (not installed)\n' "$a" "-"
			continue
		fi
		full=$(ir "$prog" "$lib" "$setting" "$scale" "$prog.$a")
		fixed=$(ir "$prog" "$lib" "$setting" 0 "$prog.$a.0")
		if [ -z "$full" ] || [ -z "$fixed" ]; then
			printf '%-12s %16s   (run failed, see below)\n' "$a" FAIL
			tail -n 5 "$work/$prog.$a.stderr" "$work/$prog.$a.0.stderr" 2>/dev/null | sed 's/^/    /'
			status=1
			continue
		fi
		if [ "$a" = glibc ]; then
			base_total=$full
			base_pair=$(awk -v f="$full" -v z="$fixed" -v p="$pairs" 'BEGIN { print (f - z) / p }')
		fi
		awk -v a="$a" -v f="$full" -v z="$fixed" -v p="$pairs" \
			-v bt="$base_total" -v bp="$base_pair" 'BEGIN {
			pp = (f - z) / p
			printf "%-12s %16.0f %8s %12.1f %8s\n", a, f,
				bt == "" ? "-" : sprintf("%.2f", f / bt), pp,
				bp == "" ? "-" : sprintf("%.2f", pp / bp)
		}'
	done
done
exit $status
