#!/bin/sh
# preload-programs.sh — real programs under LD_PRELOAD=$DA_TEST_LIB: each
# workload runs once on the system allocator and once preloaded; stdout and
# exit status must be identical, and the preloaded run must not make
# dbgalloc write to stderr. Before that, each program is shown to bind
# malloc to dbgalloc when preloaded (LD_DEBUG=bindings), and python to hand
# its own blocks to dbgalloc (dbgalloc_owns through ctypes). A missing
# program is a failure, not a skip.
#
# Workloads: python3 json round-trips of 100k objects (pymalloc and
# PYTHONMALLOC=malloc), a perl hash of 250k keys, sh loops with command
# substitution and subshells, sort of a generated 50+ MB file, git (init,
# 200 files, commits, log, gc) and sqlite3 (100k inserts in a transaction,
# aggregate queries).
#
# The runs "without dbgalloc" clear LD_PRELOAD: make check may itself run
# under dbgalloc (`dbgalloc run -- make check`), and a baseline that
# inherits it would compare dbgalloc with itself. DA_TEST_WORKLOADS
# (default: all of "python3 perl sh sort git sqlite3") picks workloads;
# tests/integration/inherited-preload.sh runs the sh one alone.
set -u

# dbgalloc must be silent here by default: settings inherited from
# `dbgalloc run --leaks -- make check` (make check-leaks) would make it
# report. test-env.sh clears them, and keeps LD_PRELOAD:
# inherited-preload.sh runs this script under it.
keep_preload=yes
. "$(dirname "$0")/test-env.sh"
limit=${DA_TEST_TIMEOUT:-300}
programs=${DA_TEST_WORKLOADS:-python3 perl sh sort git sqlite3}
# Each failure shows the files it is about itself.
shows=

# wanted NAME: 0 if the workload NAME is in DA_TEST_WORKLOADS.
wanted() {
	case " $programs " in
	*" $1 "*) return 0 ;;
	*) return 1 ;;
	esac
}

# without CMD...: runs CMD on the system allocator, whatever LD_PRELOAD
# this script inherited.
without() {
	(
		unset LD_PRELOAD
		exec "$@"
	)
}

# binds CMD...: 0 if CMD, preloaded, binds malloc to dbgalloc.
binds() {
	LD_DEBUG=bindings LD_PRELOAD=$lib timeout 120 "$@" \
		>/dev/null 2>"$tmp/bindings" </dev/null
	grep -F "to $lib [0]: normal symbol \`malloc'" "$tmp/bindings" \
		>/dev/null
}

# compare NAME CMD...: runs CMD in a fresh empty directory, first without,
# then with dbgalloc preloaded, and compares exit status and stdout.
compare() {
	name=$1
	shift
	for mode in plain preload; do
		rm -rf "$tmp/work"
		mkdir "$tmp/work" || return 1
		if [ $mode = plain ]; then
			(cd "$tmp/work" && without timeout "$limit" "$@") \
				>"$tmp/$name.$mode.out" 2>"$tmp/$name.$mode.err"
		else
			(cd "$tmp/work" && LD_PRELOAD=$lib timeout "$limit" "$@") \
				>"$tmp/$name.$mode.out" 2>"$tmp/$name.$mode.err"
		fi
		echo $? >"$tmp/$name.$mode.rc"
	done
	rm -rf "$tmp/work"
	rc_plain=$(cat "$tmp/$name.plain.rc")
	rc_preload=$(cat "$tmp/$name.preload.rc")
	if [ "$rc_plain" != 0 ]; then
		fail "$name" "fails without dbgalloc too (status $rc_plain): test broken"
		show "$tmp/$name.plain.err" stderr
	elif [ "$rc_preload" != "$rc_plain" ]; then
		fail "$name" "exit status $rc_preload under dbgalloc, $rc_plain without"
		show "$tmp/$name.preload.err" stderr
	elif ! cmp -s "$tmp/$name.plain.out" "$tmp/$name.preload.out"; then
		fail "$name" "stdout differs under dbgalloc"
		diff "$tmp/$name.plain.out" "$tmp/$name.preload.out" |
			head -20 | sed 's/^/  /'
	elif [ ! -s "$tmp/$name.plain.out" ]; then
		fail "$name" "no output: test broken"
	elif grep -i dbgalloc "$tmp/$name.preload.err" >/dev/null &&
		! grep -i dbgalloc "$tmp/$name.plain.err" >/dev/null; then
		fail "$name" "dbgalloc reported something on stderr"
		grep -i -m 10 dbgalloc "$tmp/$name.preload.err" | sed 's/^/  /'
	else
		pass "$name"
		rm -f "$tmp/$name".*
		return 0
	fi
	rm -f "$tmp/$name".*
	return 1
}

# need NAME PATH: 0 if PATH (configure's find, or NAME) is installed, else a
# failure is counted.
need() {
	if [ -n "$2" ] && command -v "$2" >/dev/null 2>&1; then
		return 0
	fi
	fail "$1" "not installed (the CI installs python3 perl git sqlite3)"
	return 1
}

# configure's AC_PATH_PROG results, exported by make check; the bare name
# when run by hand. Set but empty means configure did not find it.
PYTHON3=${PYTHON3-python3}
PERL=${PERL-perl}
GIT=${GIT-git}
SQLITE3=${SQLITE3-sqlite3}

# preloaded NAME CMD...: counts a failure unless CMD binds malloc to dbgalloc.
preloaded() {
	name=$1
	shift
	if binds "$@"; then
		return 0
	fi
	fail "$name" "dbgalloc is not preloaded into $1"
	grep -m 5 "symbol \`malloc'" "$tmp/bindings" | sed 's/^/  /'
	return 1
}

if [ ! -r "$lib" ]; then
	fail library "$lib does not exist"
	finish
fi

for name in $programs; do
	case $name in
	python3 | perl | sh | sort | git | sqlite3) ;;
	*) fail "$name" "unknown workload in DA_TEST_WORKLOADS" ;;
	esac
done

# The baseline runs must not have dbgalloc, even when this script does.
maps=$(without sh -c 'grep -c libdbgalloc /proc/$$/maps')
if [ "$maps" = 0 ]; then
	pass "runs without dbgalloc have no libdbgalloc mapped"
else
	fail baseline "a run without dbgalloc has libdbgalloc mapped ($maps lines)"
fi

# --- python3 -----------------------------------------------------------
# The pyenv shim is a shell script: run the real interpreter directly.
python_json='
import hashlib, json, sys
objs = [{"id": i, "name": "item-%d" % i, "tags": ["t%d" % (i % 7), "u%d" % (i % 13)],
         "value": i * 0.25, "text": "x" * (i % 61),
         "nested": {"a": [i, str(i)], "b": None, "c": i % 2 == 0}}
        for i in range(100000)]
s = json.dumps(objs, sort_keys=True)
back = json.loads(s)
if back != objs:
    sys.exit("json round trip changed the data")
del objs
again = json.dumps(back, sort_keys=True)
if again != s:
    sys.exit("second json round trip changed the text")
print(len(s), hashlib.sha256(again.encode()).hexdigest())
'
# dbgalloc must be in the process, and hold the blocks python allocates
# with malloc (PyMem_RawMalloc) and, under PYTHONMALLOC=malloc, its objects.
python_owns='
import ctypes, os, sys
lib = ctypes.CDLL(None)
lib.dbgalloc_version.restype = ctypes.c_char_p
lib.dbgalloc_owns.argtypes = [ctypes.c_void_p]
api = ctypes.pythonapi
names = ["PyMem_RawMalloc"]
if os.environ.get("PYTHONMALLOC") == "malloc":
    names += ["PyMem_Malloc", "PyObject_Malloc"]
for name in names:
    alloc = getattr(api, name)
    alloc.restype = ctypes.c_void_p
    alloc.argtypes = [ctypes.c_size_t]
    p = alloc(100)
    if lib.dbgalloc_owns(p) != 1:
        sys.exit("%s block not owned by dbgalloc" % name)
print("dbgalloc", lib.dbgalloc_version().decode())
'
if wanted python3 && need python3 "$PYTHON3"; then
	python=$("$PYTHON3" -c 'import sys; print(sys.executable)')
	for pymalloc in default malloc; do
		if [ $pymalloc = malloc ]; then
			name=python3-json-PYTHONMALLOC=malloc
			set -- env PYTHONMALLOC=malloc "$python"
		else
			name=python3-json
			set -- "$python"
		fi
		if ! preloaded "$name" "$@" -c pass; then
			continue
		fi
		if ! out=$(LD_PRELOAD=$lib "$@" -c "$python_owns" 2>&1); then
			fail "$name" "dbgalloc does not own python's blocks: $out"
			continue
		fi
		compare "$name" "$@" -c "$python_json"
	done
fi

# --- perl ------------------------------------------------------------------
perl_hash='
use strict; use warnings; use Digest::MD5;
my %h;
for my $i (0 .. 249999) {
    $h{"key$i"} = "value" . ($i * 7 % 1000) . ("x" x ($i % 50));
}
my $md5 = Digest::MD5->new;
$md5->add($_, "=", $h{$_}, "\n") for sort keys %h;
delete $h{"key$_"} for grep { $_ % 3 } 0 .. 249999;
my $rest = join ",", map { length $h{$_} } sort keys %h;
print scalar(keys %h), " ", $md5->hexdigest, " ", length($rest), "\n";
'
perl_maps='open my $f, "<", "/proc/self/maps" or die; print grep { /libdbgalloc/ } <$f>;'
if wanted perl && need perl "$PERL" && preloaded perl "$PERL" -e 1; then
	if [ -z "$(LD_PRELOAD=$lib "$PERL" -e "$perl_maps")" ]; then
		fail perl "libdbgalloc not in perl's /proc/self/maps"
	else
		compare perl-hash "$PERL" -e "$perl_hash"
	fi
fi

# --- sh --------------------------------------------------------------------
sh_loops='
i=0 sum=0 lines=0 text=
while [ $i -lt 2000 ]; do
	v=$(echo "$i")
	sum=$((sum + v))
	if [ $((i % 10)) -eq 0 ]; then
		w=$( (echo a; echo "$v") | { read -r x; read -r y; echo "$x$y"; })
		sum=$((sum + ${#w}))
		text="${text}${w%?}"
		[ ${#text} -gt 500 ] && text=${text#??????????}
	fi
	if [ $((i % 100)) -eq 0 ]; then
		lines=$((lines + $(printf "%s\n" a b c | wc -l)))
	fi
	i=$((i + 1))
done
echo "$sum $lines ${#text} $text"
'
if wanted sh && need sh sh && preloaded sh sh -c 'echo "$(echo x)"'; then
	compare sh-loops sh -c "$sh_loops"
fi

# --- sort ------------------------------------------------------------------
if wanted sort && need sort sort && preloaded sort sort /dev/null; then
	awk 'BEGIN {
		srand(42)
		for (i = 0; i < 1000000; i++)
			printf "%09d %s%07d %s\n", int(rand() * 1e9),
				substr("abcdefghijklmnopqrstuvwxyz", i % 26 + 1, 5),
				int(rand() * 1e7), "padding-padding-padding-padding"
	}' >"$tmp/sort.in"
	size=$(wc -c <"$tmp/sort.in" | tr -d ' ')
	if [ "$size" -lt 50000000 ]; then
		fail sort "generated input is only $size bytes"
	else
		# A small buffer forces temporary files and merges.
		compare sort-50MB env LC_ALL=C sort -S 16M --parallel=2 \
			-k2,2 -k1,1n "$tmp/sort.in"
	fi
	rm -f "$tmp/sort.in"
fi

# --- git -------------------------------------------------------------------
git_work='
set -e
git() { command "$DA_GIT" "$@"; }
git init -q -b main repo
cd repo
git config gc.auto 0
git config pack.threads 1
mkdir d0 d1 d2 d3 d4 d5 d6 d7 d8 d9
awk "BEGIN { for (i = 0; i < 200; i++) { f = sprintf(\"d%d/f%03d.txt\", i % 10, i)
	for (j = 0; j < 40 + i; j++) print \"line\", j, i * j > f; close(f) } }"
git add -A
git commit -q -m "200 files"
for f in d1/*.txt d5/*.txt; do echo change >>"$f"; done
git rm -q d9/f009.txt
git commit -q -a -m "change 40 files"
git log --stat --format="%H %an %s"
git diff --stat HEAD~1 HEAD
git gc --quiet
git count-objects -v | grep -E "^(count|in-pack|packs|garbage):"
git fsck --no-progress --full
git ls-files | wc -l
git log -p | cksum
'
if wanted git && need git "$GIT" && preloaded git "$GIT" --version; then
	mkdir -p "$tmp/home"
	compare git env DA_GIT="$GIT" HOME="$tmp/home" GIT_CONFIG_NOSYSTEM=1 \
		GIT_CONFIG_GLOBAL=/dev/null GIT_AUTHOR_NAME=dbgalloc \
		GIT_AUTHOR_EMAIL=dbgalloc@example.org \
		GIT_AUTHOR_DATE=2024-01-01T00:00:00Z GIT_COMMITTER_NAME=dbgalloc \
		GIT_COMMITTER_EMAIL=dbgalloc@example.org \
		GIT_COMMITTER_DATE=2024-01-01T00:00:00Z sh -c "$git_work"
fi

# --- sqlite3 -----------------------------------------------------------------
if wanted sqlite3 && need sqlite3 "$SQLITE3" &&
	preloaded sqlite3 "$SQLITE3" :memory: 'select 1;'; then
	{
		echo 'CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, val REAL, data BLOB);'
		echo 'BEGIN;'
		awk 'BEGIN { for (i = 0; i < 100000; i++)
			printf "INSERT INTO t VALUES(%d, '\''name-%d-%s'\'', %d, %d.25, zeroblob(%d));\n",
				i, i, substr("abcdefghij", 1, i % 10), i % 97, i, i % 200 }'
		echo 'COMMIT;'
		echo 'CREATE INDEX t_grp ON t(grp);'
		echo 'SELECT grp, count(*), sum(val), avg(length(name)), max(id), sum(length(data)) FROM t GROUP BY grp ORDER BY grp;'
		echo "SELECT count(*), sum(val) FROM t WHERE name LIKE 'name-1%';"
		echo 'SELECT group_concat(id) FROM (SELECT id FROM t WHERE grp = 5 ORDER BY val DESC LIMIT 20);'
		echo 'DELETE FROM t WHERE id % 3 = 0;'
		echo 'VACUUM;'
		echo 'SELECT count(*), total(val) FROM t;'
		echo 'PRAGMA integrity_check;'
	} >"$tmp/load.sql"
	compare sqlite3 sh -c '"$1" db.sqlite <"$2"' sh "$SQLITE3" "$tmp/load.sql"
	rm -f "$tmp/load.sql"
fi

finish
