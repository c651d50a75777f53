#!/bin/sh
# bench/run.sh — run the benchmark workloads under each allocator and print
# one table of time and peak-RSS ratios against glibc (see bench/README.md).
#
#   sh bench/run.sh --builddir=DIR --srcdir=DIR --dbgalloc=LIB
#                   [--python3=PROG] [--perl=PROG] [--sqlite3=PROG]
#
# `make bench` and `make bench-smoke` call it with the paths filled in.
# Settings come from the environment:
#   BENCH_RUNS=N          runs per workload and allocator (default 5); the
#                         table shows medians
#   BENCH_ONLY=a,b        workloads to run (default all): churn realloc
#                         prodcons xclass large python perl sqlite
#   BENCH_ALLOCATORS=a,b  allocators (default all): glibc dbgalloc jemalloc
#                         mimalloc tcmalloc
#   BENCH_SCALE=F         multiply every workload's size by F (default 1)
#   BENCH_TIMEOUT=S       kill a run after S seconds (default 300)
#
# Every run goes through bench/runone (fork, exec, wait4), which sets
# LD_PRELOAD in the child only. The allocators take turns inside each
# repetition, starting one later each time, so machine noise hits all alike.
# Each run's output must equal the first run's of the same workload: a
# checksum that differs, a crash, a non-zero exit or a timeout is a failure.
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

all_workloads="churn realloc prodcons xclass large python perl sqlite"
all_allocators="glibc dbgalloc jemalloc mimalloc tcmalloc"

runs=${BENCH_RUNS:-5}
case $runs in
'' | *[!0-9]* | 0 | 0*) die "BENCH_RUNS must be a positive whole number (got '$runs')" ;;
esac
scale=${BENCH_SCALE:-1}
awk -v s="$scale" 'BEGIN { exit !(s ~ /^([0-9]+\.?[0-9]*|\.[0-9]+)$/ && s + 0 > 0) }' ||
	die "BENCH_SCALE must be a positive number such as 1, 0.5 or 0.02 (got '$scale')"
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

# ---- allocators -----------------------------------------------------------

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

# For each allocator: lib_NAME (empty for glibc) and note_NAME (why it is
# not measured, empty when it is).
active=
for a in $allocators; do
	lib=
	note=
	case $a in
	glibc) ;;
	dbgalloc)
		lib=$dbgalloc_lib
		[ -r "$lib" ] || die "dbgalloc library not found: $lib (build it with 'make', or leave it out with BENCH_ALLOCATORS)"
		;;
	jemalloc) lib=$(find_lib libjemalloc.so.2) || note="not installed (libjemalloc.so.2 not found; Debian package libjemalloc2)" ;;
	mimalloc) lib=$(find_lib libmimalloc.so.2) || note="not installed (libmimalloc.so.2 not found; Debian package libmimalloc2.0)" ;;
	tcmalloc) lib=$(find_lib libtcmalloc_minimal.so.4 libtcmalloc.so.4) ||
		note="not installed (libtcmalloc_minimal.so.4 not found; Debian package libgoogle-perftools4)" ;;
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
	eval "lib_$a=\$lib note_$a=\$note"
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

results=$builddir/bench/results
mkdir -p "$results" || die "cannot create $results"
work=$(mktemp -d "$results/run.XXXXXX") || die "cannot create a directory in $results"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# For each workload: cmd_W (the command line, words separated by tabs),
# in_W (standard input), env_W (runone -e options), skip_W (why not run).
tab=$(printf '\t')
programs=
for w in $workloads; do
	cmd=
	in=/dev/null
	env=
	skip=
	case $w in
	churn | realloc | prodcons | xclass | large) cmd="$bin/$w$tab$scale" ;;
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
	eval "cmd_$w=\$cmd in_$w=\$in env_$w=\$env skip_$w=\$skip"
done

# ---- runs -----------------------------------------------------------------

raw=$results/runs.csv
failures=$results/failures.txt
echo "workload,allocator,run,elapsed_ns,maxrss_kib,user_ns,sys_ns,status" >"$raw"
: >"$failures"
rm -rf "$results/failed"

# run_one W A R: one measured run; appends to $raw, and to $failures when it
# went wrong (keeping its standard error in results/failed/).
run_one() {
	w=$1 a=$2 r=$3
	eval "cmd=\$cmd_$w in=\$in_$w env=\$env_$w lib=\$lib_$a"
	out=$work/out.$w.$a
	err=$work/err.$w.$a
	old_ifs=$IFS
	IFS=$tab
	# shellcheck disable=SC2086 # cmd and env are tab-separated word lists
	line=$("$runone" -t "$timeout" -p "$lib" -i "$in" -o "$out" $env -- $cmd 2>"$err")
	IFS=$old_ifs
	# shellcheck disable=SC2086 # split the five fields of runone's line
	set -- $line
	if [ $# -ne 5 ]; then
		set -- 0 0 0 0 "runone-failed"
	fi
	status=$5
	if [ "$status" = ok ] && grep -q "cannot be preloaded" "$err"; then
		status=not-preloaded
	fi
	if [ "$status" = ok ]; then
		if [ ! -f "$work/ref.$w" ]; then
			cp "$out" "$work/ref.$w"
			echo "$a" >"$work/refby.$w"
		elif ! cmp -s "$out" "$work/ref.$w"; then
			status=wrong-output
		fi
	fi
	echo "$w,$a,$r,$1,$2,$3,$4,$status" >>"$raw"
	if [ "$status" != ok ]; then
		mkdir -p "$results/failed"
		keep=$results/failed/$w.$a.$r
		cp "$err" "$keep.stderr"
		cp "$out" "$keep.stdout" 2>/dev/null
		[ "$status" = wrong-output ] &&
			cp "$work/ref.$w" "$keep.expected-stdout"
		echo "$w $a run $r: $status (stderr: $keep.stderr)" >>"$failures"
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
		eval "skip=\$skip_$w"
		[ -z "$skip" ] || continue
		printf ' %s' "$w" >&2
		for a in $order; do
			run_one "$w" "$a" "$r"
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
	printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf 'kernel\t%s\n' "$(uname -sr) $(uname -m), $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') cpus"
	printf 'glibc\t%s\n' "$(getconf GNU_LIBC_VERSION 2>/dev/null || echo glibc)"
	printf 'seconds\t%s\n' "$elapsed"
	printf 'programs\t%s\n' "${programs#, }"
	printf 'settings\t%s\n' "$(env | grep '^DBGALLOC_' | sort | tr '\n' ' ')"
	for a in $allocators; do
		eval "printf 'alloc\t%s\t%s\t%s\n' \"\$a\" \"\$lib_$a\" \"\$note_$a\""
	done
	for w in $workloads; do
		eval "printf 'work\t%s\t%s\n' \"\$w\" \"\$skip_$w\""
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
	while read -r w a _ r _; do
		r=${r%:}
		f=$results/failed/$w.$a.$r.stderr
		if [ -s "$f" ]; then
			echo "--- last lines of $f"
			tail -n 5 "$f"
		fi
	done <"$failures"
	exit 1
fi
exit 0
