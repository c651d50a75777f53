#!/bin/sh
# bench/run.sh — run the benchmark workloads under each allocator, each
# dbgalloc setting of interest and each debugging tool, and print tables of
# time and peak-RSS ratios against glibc (see bench/README.md).
#
#   sh bench/run.sh --builddir=DIR --srcdir=DIR --dbgalloc=LIB
#                   [--python3=PROG] [--perl=PROG] [--sqlite3=PROG]
#
# `make bench` and `make bench-smoke` call it with the paths filled in.
# Settings come from the environment:
#   BENCH_RUNS=N          runs per workload and allocator (default 5); the
#                         table shows medians
#   BENCH_ONLY=a,b        workloads to run (default all): churn churn-fp
#                         realloc prodcons xclass large python perl sqlite
#                         leakaudit
#   BENCH_ALLOCATORS=a,b  allocators, settings, guard-page allocators and
#                         tools (default all): glibc dbgalloc jemalloc
#                         mimalloc tcmalloc poison-full depth-16 limit
#                         guard-sample guard-full efence duma lsan memcheck
#                         heaptrack
#   BENCH_SCALE=F         multiply every workload's size by F (default 1)
#   BENCH_TOOL_SCALE=F    memcheck and heaptrack run the C programs at
#                         BENCH_SCALE × F (default 0.1) and at 0; their time
#                         is extrapolated to the full size
#   BENCH_GUARD_SCALE=F   guard-full (DBGALLOC_GUARD=1) runs churn at
#                         BENCH_SCALE × F (default 0.05) and at 0
#   BENCH_FENCE_SCALE=F   efence and duma run churn at BENCH_SCALE × F
#                         (default 0.001) and at 0; like memcheck's, their
#                         time is extrapolated to the full size
#   BENCH_TIMEOUT=S       kill a run after S seconds (default 300)
#
# Every run goes through bench/runone (fork, exec, wait4), which sets
# LD_PRELOAD in the child only. The allocators take turns inside each
# repetition, starting one later each time, so machine noise hits all alike.
# Each run's output must equal the first run's of the same workload at the
# same scale: a checksum that differs, a crash, a non-zero exit or a timeout
# is a failure.
# The exit status is 0 when every run succeeded, 1 when any failed, 2 for a
# usage or set-up error. Results: bench/results/ under the build directory.
set -u
export LC_ALL=C

me=bench
die() {
	echo "$me: $*" >&2
	exit 2
}

builddir=.
srcdir=
dbgalloc_lib=
python3_prog=
perl_prog=
sqlite3_prog=
for arg; do
	case $arg in
	--builddir=*) builddir=${arg#*=} ;;
	--srcdir=*) srcdir=${arg#*=} ;;
	--dbgalloc=*) dbgalloc_lib=${arg#*=} ;;
	--python3=*) python3_prog=${arg#*=} ;;
	--perl=*) perl_prog=${arg#*=} ;;
	--sqlite3=*) sqlite3_prog=${arg#*=} ;;
	-h | --help)
		sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown argument '$arg' (try --help)" ;;
	esac
done
[ -n "$srcdir" ] || srcdir=$(cd "$(dirname "$0")/.." && pwd)
[ -n "$dbgalloc_lib" ] || dbgalloc_lib=$builddir/.libs/libdbgalloc.so
builddir=$(cd "$builddir" && pwd) || die "no build directory '$builddir'"
bin=$builddir/bench
runone=$bin/runone
[ -x "$runone" ] || die "$runone is not built (run 'make bench')"
unset LD_PRELOAD

# ---- settings -------------------------------------------------------------

all_workloads="churn churn-fp realloc prodcons xclass large python perl sqlite leakaudit"
# The C programs: each takes a scale, prints the work it did as the second
# word of its line, and has a LeakSanitizer build in bench/lsan/.
c_workloads="churn churn-fp realloc prodcons xclass large leakaudit"
all_allocators="glibc dbgalloc jemalloc mimalloc tcmalloc poison-full depth-16 limit guard-sample guard-full efence duma lsan memcheck heaptrack"
# The guard-page allocators that run churn alone, scaled down (slow).
guard_workloads="churn"

# key NAME: NAME as part of a shell variable name (churn-fp: churn_fp).
key() {
	echo "$1" | tr -- - _
}

runs=${BENCH_RUNS:-5}
case $runs in
'' | *[!0-9]* | 0 | 0*) die "BENCH_RUNS must be a positive whole number (got '$runs')" ;;
esac
scale=${BENCH_SCALE:-1}
awk -v s="$scale" 'BEGIN { exit !(s ~ /^([0-9]+\.?[0-9]*|\.[0-9]+)$/ && s + 0 > 0) }' ||
	die "BENCH_SCALE must be a positive number such as 1, 0.5 or 0.02 (got '$scale')"
tool_scale=${BENCH_TOOL_SCALE:-0.1}
awk -v s="$tool_scale" 'BEGIN { exit !(s ~ /^([0-9]+\.?[0-9]*|\.[0-9]+)$/ && s + 0 > 0 && s + 0 <= 1) }' ||
	die "BENCH_TOOL_SCALE must be a number in (0, 1] such as 0.1 (got '$tool_scale')"
# The scale memcheck and heaptrack run at (their time is then extrapolated).
tscale=$(awk -v a="$scale" -v b="$tool_scale" 'BEGIN { printf "%.6g", a * b }')
guard_scale=${BENCH_GUARD_SCALE:-0.05}
awk -v s="$guard_scale" 'BEGIN { exit !(s ~ /^([0-9]+\.?[0-9]*|\.[0-9]+)$/ && s + 0 > 0 && s + 0 <= 1) }' ||
	die "BENCH_GUARD_SCALE must be a number in (0, 1] such as 0.05 (got '$guard_scale')"
gscale=$(awk -v a="$scale" -v b="$guard_scale" 'BEGIN { printf "%.6g", a * b }')
fence_scale=${BENCH_FENCE_SCALE:-0.001}
awk -v s="$fence_scale" 'BEGIN { exit !(s ~ /^([0-9]+\.?[0-9]*|\.[0-9]+)$/ && s + 0 > 0 && s + 0 <= 1) }' ||
	die "BENCH_FENCE_SCALE must be a number in (0, 1] such as 0.001 (got '$fence_scale')"
fscale=$(awk -v a="$scale" -v b="$fence_scale" 'BEGIN { printf "%.6g", a * b }')
timeout=${BENCH_TIMEOUT:-300}
case $timeout in
'' | *[!0-9]* | 0) die "BENCH_TIMEOUT must be a positive number of seconds (got '$timeout')" ;;
esac

# pick_list VARNAME "ALL" "VALUE": the members of ALL named in the comma list
# VALUE, in ALL's order; an unknown name is an error.
pick_list() {
	picked=
	for name in $(echo "$3" | tr ',' ' '); do
		case " $2 " in
		*" $name "*) ;;
		*) die "$1: unknown name '$name' (choose from: $2)" ;;
		esac
	done
	for name in $2; do
		case ",$3," in
		*",$name,"*) picked="$picked $name" ;;
		esac
	done
	[ -n "$picked" ] || die "$1 selects nothing"
	echo "${picked# }"
}
workloads=$all_workloads
[ -z "${BENCH_ONLY:-}" ] || workloads=$(pick_list BENCH_ONLY "$all_workloads" "$BENCH_ONLY") || exit 2
allocators=$all_allocators
[ -z "${BENCH_ALLOCATORS:-}" ] ||
	allocators=$(pick_list BENCH_ALLOCATORS "$all_allocators" "$BENCH_ALLOCATORS") || exit 2

results=$builddir/bench/results
mkdir -p "$results" || die "cannot create $results"
work=$(mktemp -d "$results/run.XXXXXX") || die "cannot create a directory in $results"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
tab=$(printf '\t')

# ---- allocators, settings and tools -----------------------------------------

# find_lib SONAME...: the first of the libraries found, looked for in the
# usual directories (Debian's multiarch one first), then in ld.so's cache.
find_lib() {
	multiarch=$(uname -m)-linux-gnu
	for so; do
		for dir in /usr/lib/$multiarch /lib/$multiarch /usr/lib64 \
			/usr/lib /usr/local/lib; do
			if [ -r "$dir/$so" ]; then
				echo "$dir/$so"
				return 0
			fi
		done
		path=$({ ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null |
			awk -v so="$so" '$1 == so && $NF ~ /^\// { print $NF; exit }')
		if [ -n "$path" ] && [ -r "$path" ]; then
			echo "$path"
			return 0
		fi
	done
	return 1
}

# For each allocator, setting and tool (K: key NAME): kind_K (alloc,
# setting, guard or tool), lib_K (preloaded; empty for glibc and the
# tools), env_K (runone -e options), wrap_K (words before the program, each
# followed by a tab), dir_K (where the C programs are), xs_K (a scale: runs
# the C programs at it and at 0, time extrapolated; empty: at full size),
# only_K (the workloads it runs; empty: all), desc_K (for the table's
# header) and note_K (why it is not measured, empty when it is).
glibc_version=$(getconf GNU_LIBC_VERSION 2>/dev/null || echo glibc)
active=
for a in $allocators; do
	lib='' note='' env='' wrap='' dir=$bin kind=alloc xs='' only='' desc=''
	case $a in
	glibc) desc="no preload ($glibc_version)" ;;
	dbgalloc | poison-full | depth-16 | limit | guard-sample | guard-full)
		lib=$dbgalloc_lib
		[ -r "$lib" ] || die "dbgalloc library not found: $lib (build it with 'make', or leave it out with BENCH_ALLOCATORS)"
		case $a in
		poison-full) kind=setting env="-e${tab}DBGALLOC_POISON=full" ;;
		depth-16) kind=setting env="-e${tab}DBGALLOC_STACK_DEPTH=16" ;;
		limit) kind=setting env="-e${tab}DBGALLOC_LIMIT=16G" ;;
		guard-sample) kind=setting env="-e${tab}DBGALLOC_GUARD=sample:1000" ;;
		guard-full)
			kind=guard xs=$gscale only=$guard_workloads
			env="-e${tab}DBGALLOC_GUARD=1"
			;;
		esac
		;;
	# Electric Fence and DUMA as a user gets them: their defaults (no
	# EF_/DUMA_ settings; churn never asks for 0 bytes). Tens of us per
	# pair: churn only, at fscale.
	efence)
		kind=guard xs=$fscale only=$guard_workloads
		lib=$(find_lib libefence.so.0) || note="not installed (libefence.so.0 not found; Debian package electric-fence)"
		;;
	duma)
		kind=guard xs=$fscale only=$guard_workloads
		lib=$(find_lib libduma.so.0) || note="not installed (libduma.so.0 not found; Debian package duma)"
		;;
	jemalloc) lib=$(find_lib libjemalloc.so.2) || note="not installed (libjemalloc.so.2 not found; Debian package libjemalloc2)" ;;
	mimalloc) lib=$(find_lib libmimalloc.so.2) || note="not installed (libmimalloc.so.2 not found; Debian package libmimalloc2.0)" ;;
	tcmalloc) lib=$(find_lib libtcmalloc_minimal.so.4 libtcmalloc.so.4) ||
		note="not installed (libtcmalloc_minimal.so.4 not found; Debian package libgoogle-perftools4)" ;;
	lsan)
		kind=tool dir=$bin/lsan
		probe=$(cat "$bin/lsan/probe.txt" 2>/dev/null) || probe="bench/lsan/ is not built (run 'make bench')"
		if [ "$probe" != ok ]; then
			note="no LeakSanitizer builds: $probe"
		else
			cc=$(readelf -p .comment "$dir/churn" 2>/dev/null |
				sed -n 's/.*\(clang version [0-9.]*\).*/\1/p' | head -n 1)
			desc="bench/lsan/*: the C programs built -O2 -fsanitize=leak${cc:+ by $cc}, LSan linked in"
		fi
		;;
	memcheck)
		kind=tool xs=$tscale
		if command -v valgrind >/dev/null 2>&1; then
			wrap="valgrind$tab--leak-check=full$tab"
			desc="$(valgrind --version) --leak-check=full, at scale $tscale and 0"
		else
			note="not installed (valgrind not found; Debian package valgrind)"
		fi
		;;
	heaptrack)
		kind=tool xs=$tscale
		if command -v heaptrack >/dev/null 2>&1; then
			wrap="heaptrack$tab-o$tab$work/heaptrack$tab"
			desc="$(heaptrack --version) (recording, interpreted and compressed as it runs), at scale $tscale and 0"
		else
			note="not installed (heaptrack not found; Debian package heaptrack)"
		fi
		;;
	esac
	if [ -n "$lib" ] && [ -z "$note" ]; then
		# ld.so only warns about a library it cannot preload and goes on
		# with glibc's malloc: catch that here, not in the table.
		err=$("$runone" -p "$lib" -- "$bin/churn" 0 2>&1 >/dev/null)
		case $err in
		*"cannot be preloaded"*)
			[ "$a" = dbgalloc ] && die "dbgalloc library cannot be preloaded: $lib"
			note="cannot be preloaded: $lib"
			;;
		esac
	fi
	if [ "$kind" = tool ] && [ -z "$note" ]; then
		# A tool that is installed but cannot work here (ptrace denied,
		# a broken install) is noted, not counted as a failure.
		old_ifs=$IFS
		IFS=$tab
		# shellcheck disable=SC2086 # wrap is a tab-separated word list
		line=$("$runone" -t 120 -o "$work/trial.out" -- $wrap$dir/churn 0 2>"$work/trial.err")
		IFS=$old_ifs
		case $line in
		*" ok") ;;
		*) note="does not run here (${line##* }): $(grep -v '^$' "$work/trial.err" | tail -n 1)" ;;
		esac
		rm -f "$work"/heaptrack.*
	fi
	[ -n "$note" ] || desc=${desc:-LD_PRELOAD=$lib}
	[ -n "$note" ] || [ -z "$env" ] || desc="$desc $(echo "$env" | sed "s/-e$tab//g" | tr "$tab" ' ')"
	[ -n "$note" ] || [ "$kind" != guard ] || desc="$desc; $only only, at scale $xs and 0"
	k=$(key "$a")
	eval "kind_$k=\$kind lib_$k=\$lib env_$k=\$env wrap_$k=\$wrap dir_$k=\$dir xs_$k=\$xs only_$k=\$only desc_$k=\$desc note_$k=\$note"
	[ -n "$note" ] || active="$active $a"
done
[ -n "$active" ] || die "no allocator to measure"

# ---- workloads ------------------------------------------------------------

# scaled BASE: BASE × BENCH_SCALE, rounded, at least 1.
scaled() {
	awk -v b="$1" -v s="$scale" 'BEGIN { n = int(b * s + 0.5); print n < 1 ? 1 : n }'
}

resolve() { # resolve VALUE NAME: the configured program, else NAME on PATH
	if [ -n "$1" ]; then echo "$1"; else command -v "$2" 2>/dev/null; fi
}
python3_prog=$(resolve "$python3_prog" python3)
perl_prog=$(resolve "$perl_prog" perl)
sqlite3_prog=$(resolve "$sqlite3_prog" sqlite3)
# A wrapper such as a pyenv shim is a shell script: preloading the allocator
# into the wrapper would measure the wrapper too. Run the interpreter itself.
if [ -n "$python3_prog" ]; then
	python3_prog=$("$python3_prog" -c 'import sys; print(sys.executable)' 2>/dev/null) ||
		python3_prog=
fi

# For each workload: cmd_W (the command line, words separated by tabs; the
# C programs' is made per run), in_W (standard input), env_W (runone -e
# options), skip_W (why not run).
programs=
for w in $workloads; do
	cmd=
	in=/dev/null
	env=
	skip=
	case $w in
	churn | churn-fp | realloc | prodcons | xclass | large) ;;
	leakaudit)
		# The report of dbgalloc's check: timed, never read.
		env="-e${tab}DBGALLOC_LOG=/dev/null"
		;;
	python)
		if [ -z "$python3_prog" ]; then
			skip="python3 not installed"
		else
			cmd="$python3_prog$tab-s$tab$srcdir/bench/pyjson.py$tab$(scaled 75000)${tab}2"
			env="-e${tab}PYTHONMALLOC=malloc$tab-e${tab}PYTHONHASHSEED=0$tab-e${tab}PYTHONDONTWRITEBYTECODE=1"
			programs="$programs, python3 $("$python3_prog" -c 'import platform; print(platform.python_version())') ($python3_prog)"
		fi
		;;
	perl)
		if [ -z "$perl_prog" ]; then
			skip="perl not installed"
		else
			cmd="$perl_prog$tab$srcdir/bench/perlhash.pl$tab$(scaled 650000)"
			env="-e${tab}PERL_HASH_SEED=0$tab-e${tab}PERL_PERTURB_KEYS=0"
			programs="$programs, perl $("$perl_prog" -e 'print substr($^V, 1)') ($perl_prog)"
		fi
		;;
	sqlite)
		if [ -z "$sqlite3_prog" ]; then
			skip="sqlite3 not installed"
		else
			in=$work/sqlite.sql
			sed "s/@ROWS@/$(scaled 200000)/g" "$srcdir/bench/sqlite.sql" >"$in" ||
				die "cannot read $srcdir/bench/sqlite.sql"
			cmd="$sqlite3_prog$tab:memory:"
			programs="$programs, sqlite3 $("$sqlite3_prog" -version | awk '{ print $1 }') ($sqlite3_prog)"
		fi
		;;
	esac
	k=$(key "$w")
	eval "cmd_$k=\$cmd in_$k=\$in env_$k=\$env skip_$k=\$skip"
done

is_c() { # is_c W: W is one of the C programs
	case " $c_workloads " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

runs_w() { # runs_w A W: A runs workload W (at some scale)
	eval "kind=\$kind_$(key "$1") only=\$only_$(key "$1")"
	case " ${only:-$2} " in
	*" $2 "*) ;;
	*) return 1 ;;
	esac
	[ "$kind" != tool ] || is_c "$2"
}

# scales A W: the scales A runs W at (nothing: A does not run W). The tools
# run the C programs only; memcheck and heaptrack at tscale and 0, the
# guard-page allocators churn at gscale or fscale and 0. glibc runs each
# such workload at those scales too, for the references and the RSS at the
# same size; on a workload of the guard-page table (churn) glibc, dbgalloc
# and guard-sample run at 0 as well, for their time per pair.
scales() {
	runs_w "$1" "$2" || return 0
	eval "xs=\$xs_$(key "$1")"
	if is_c "$2" && [ -n "$xs" ]; then
		echo "$xs 0"
		return 0
	fi
	list=$scale
	if is_c "$2"; then
		for b in $active; do
			eval "bxs=\$xs_$(key "$b") bkind=\$kind_$(key "$b")"
			[ -n "$bxs" ] && runs_w "$b" "$2" || continue
			case $1 in
			glibc) list="$list $bxs 0" ;;
			dbgalloc | guard-sample) [ "$bkind" != guard ] || list="$list 0" ;;
			esac
		done
	fi
	# Each scale once, in the order first named.
	echo "$list" | tr ' ' '\n' | awk '!seen[$0]++' | tr '\n' ' '
}

# The heaptrack command's own lines on standard output, around the program's.
heaptrack_filter() {
	sed -e '/^heaptrack output will be written to /d' \
		-e '/libheaptrack_preload\.so$/d' \
		-e '/^starting application, this might take some time\.\.\.$/d' \
		-e '/^Heaptrack finished! /d' -e '/^  heaptrack --analyze /d' \
		-e '/^$/d' "$1"
}

# ---- runs -----------------------------------------------------------------

raw=$results/runs.csv
failures=$results/failures.txt
echo "workload,allocator,run,elapsed_ns,maxrss_kib,user_ns,sys_ns,status,scale,work,scan_ns,scan_cpu_ns" >"$raw"
: >"$failures"
rm -rf "$results/failed"

# run_one W A R S: one measured run at scale S; appends to $raw, and to
# $failures when it went wrong (keeping its standard error in
# results/failed/).
run_one() {
	w=$1 a=$2 r=$3 s=$4
	wk=$(key "$w") k=$(key "$a")
	wenv=''
	eval "cmd=\$cmd_$wk in=\$in_$wk wenv=\$env_$wk"
	eval "lib=\$lib_$k aenv=\$env_$k wrap=\$wrap_$k dir=\$dir_$k"
	is_c "$w" && cmd="$wrap$dir/$w$tab$s"
	env=$wenv
	[ -z "$aenv" ] || env="${env:+$env$tab}$aenv"
	out=$work/out.$w.$a
	err=$work/err.$w.$a
	old_ifs=$IFS
	IFS=$tab
	# shellcheck disable=SC2086 # cmd and env are tab-separated word lists
	line=$("$runone" -t "$timeout" -p "$lib" -i "$in" -o "$out" $env -- $cmd 2>"$err")
	IFS=$old_ifs
	if [ "$a" = heaptrack ]; then
		heaptrack_filter "$out" >"$out.f" && mv "$out.f" "$out"
		rm -f "$work"/heaptrack.*
	fi
	# shellcheck disable=SC2086 # split the five fields of runone's line
	set -- $line
	if [ $# -ne 5 ]; then
		set -- 0 0 0 0 "runone-failed"
	fi
	status=$5
	if [ "$status" = ok ] && grep -q "cannot be preloaded" "$err"; then
		status=not-preloaded
	fi
	ref=$work/ref.$w.$s
	if [ "$status" = ok ]; then
		if [ ! -f "$ref" ]; then
			cp "$out" "$ref"
		elif ! cmp -s "$out" "$ref"; then
			status=wrong-output
		fi
	fi
	units=
	is_c "$w" && units=$(awk 'NR == 1 { print $2 }' "$out")
	scan=$(sed -n 's/^leakaudit: scan \([0-9]*\) ns (cpu \([0-9]*\) ns).*/\1,\2/p' "$err" | head -n 1)
	echo "$w,$a,$r,$1,$2,$3,$4,$status,$s,$units,${scan:-,}" >>"$raw"
	if [ "$status" != ok ]; then
		mkdir -p "$results/failed"
		keep=$results/failed/$w.$a.$r
		[ "$s" = "$scale" ] || keep=$keep.scale$s
		cp "$err" "$keep.stderr"
		cp "$out" "$keep.stdout" 2>/dev/null
		[ "$status" = wrong-output ] &&
			cp "$ref" "$keep.expected-stdout"
		echo "$w $a run $r, scale $s: $status (stderr: $keep.stderr)" >>"$failures"
		printf '!' >&2
	else
		printf '.' >&2
	fi
}

# shellcheck disable=SC2086 # active is a list of words
nact=$(set -- $active && echo $#)
started=$(date +%s)
r=1
while [ "$r" -le "$runs" ]; do
	printf '%s: run %d/%d:' "$me" "$r" "$runs" >&2
	# Rotate the order: run r starts with allocator (r-1) mod n.
	# shellcheck disable=SC2086
	set -- $active
	i=1
	while [ "$i" -lt $(((r - 1) % nact + 1)) ]; do
		first=$1
		shift
		set -- "$@" "$first"
		i=$((i + 1))
	done
	order=$*
	for w in $workloads; do
		eval "skip=\$skip_$(key "$w")"
		[ -z "$skip" ] || continue
		printf ' %s' "$w" >&2
		for a in $order; do
			for s in $(scales "$a" "$w"); do
				run_one "$w" "$a" "$r" "$s"
			done
		done
	done
	echo >&2
	r=$((r + 1))
done
elapsed=$(($(date +%s) - started))

# ---- table ----------------------------------------------------------------

# Meta-data for the report, one "key<TAB>values" line each.
meta=$work/meta
{
	printf 'runs\t%s\n' "$runs"
	printf 'scale\t%s\n' "$scale"
	printf 'tscale\t%s\n' "$tscale"
	printf 'gscale\t%s\n' "$gscale"
	printf 'fscale\t%s\n' "$fscale"
	printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf 'kernel\t%s\n' "$(uname -sr) $(uname -m), $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') cpus"
	printf 'glibc\t%s\n' "$glibc_version"
	printf 'seconds\t%s\n' "$elapsed"
	printf 'programs\t%s\n' "${programs#, }"
	printf 'settings\t%s\n' "$(env | grep '^DBGALLOC_' | sort | tr '\n' ' ')"
	for a in $allocators; do
		k=$(key "$a")
		eval "printf 'alloc\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \"\$a\" \"\$lib_$k\" \"\$note_$k\" \"\$kind_$k\" \"\$desc_$k\" \"\$xs_$k\" \"\$only_$k\""
	done
	for w in $workloads; do
		c=''
		is_c "$w" && c=1
		eval "printf 'work\t%s\t%s\t%s\n' \"\$w\" \"\$skip_$(key "$w")\" \"$c\""
	done
} >"$meta"

table=$results/latest.txt
csv=$results/latest.csv
awk -F '\t' -v csv="$csv" -f "$srcdir/bench/table.awk" "$meta" FS=, "$raw" >"$table" ||
	die "could not summarise $raw"
cat "$table"
if [ -s "$failures" ]; then
	echo
	echo "FAILED runs ($(wc -l <"$failures")):"
	sed 's/^/  /' "$failures"
	sed -n 's/.*(stderr: \(.*\))$/\1/p' "$failures" | while read -r f; do
		if [ -s "$f" ]; then
			echo "--- last lines of $f"
			tail -n 5 "$f"
		fi
	done
	exit 1
fi
exit 0
