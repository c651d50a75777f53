#!/bin/sh
# leaks-programs.sh — real programs under the leak report. Each job runs
# once on the system allocator and once with LD_PRELOAD=$DA_TEST_LIB and
# DBGALLOC_LEAKS=1 (python3 also with =all, and once with the report on
# standard error); the second run must exit as the first, with the same
# stdout and stderr, and every process's report (DBGALLOC_LOG=DIR/r.%p,
# one file per process) must be well formed:
#   - each line is one of the report's shapes: the headline
#     "dbgalloc: leak report at exit (pid N)" with N the file's pid, blank
#     lines, "Leak of ... allocated from:", frames
#     "    #N 0x... in FUNCTION[ FILE:LINE] (MODULE+0x...)" numbered from 0,
#     "  first block: generation N (epoch N "LABEL")", the "Suppressions
#     used:" table, and "SUMMARY: dbgalloc: ..." last; or an empty file
#     when nothing leaked;
#   - records in class order (definitely, indirectly, possibly lost, still
#     reachable), largest first within a class; with LEAKS=1 only the
#     first two classes;
#   - the SUMMARY's total equals the sum of the definitely and indirectly
#     lost records (bytes and blocks), and each class it lists equals the
#     sum of that class's records.
#
# What the programs leak (here, Debian 12; numbers vary with versions):
#   python3   with pymalloc, ~13 KB "definitely lost" from _PyObject_Malloc:
#             blocks pointed to only from pymalloc's arenas, which are
#             mmap'd, not malloc'd, so the scan does not read them
#             (Valgrind and LSan see the same); with LEAKS=all, hundreds of
#             KB still reachable (interned objects python never frees)
#   perl      the interpreter frees its own struct at exit but not all it
#             points to (PERL_DESTRUCT_LEVEL 0): ~8 KB definitely lost
#             holding ~44 KB indirectly lost, and newlocale's blocks
#   sh        dash frees what it allocates: no report, empty files
#   git       git leaves work memory to exit on purpose (UNLEAK): a few KB
#             per command; and 304 bytes "definitely lost" from
#             allocate_dtv <- pthread_create in the commands that ran a
#             thread: the thread vector glibc keeps with a joined thread's
#             cached stack, which the scan does not read (a false report:
#             any program that joins a thread gets it)
#   sqlite3   frees everything: no report
#
# Each run is bounded by timeout and ulimit -v. LD_PRELOAD and DBGALLOC_*
# are cleared first (test-env.sh; make check-leaks runs this script with
# both inherited). A missing program is a failure, not a skip.
set -u

. "$(dirname "$0")/test-env.sh"
limit=${DA_TEST_TIMEOUT:-300}
vmem=${DA_TEST_VMEM_KB:-2097152}
# Each failure shows the files it is about itself.
shows=

# wellformed FILE PID MODE: 0 if FILE holds nothing, or one leak report of
# process PID in the shape described above (MODE: 1 or all). Prints what
# is wrong otherwise.
wellformed() {
	awk -v pid="$2" -v mode="$3" '
	function num(s) { gsub(/,/, "", s); return s + 0 }
	function bad(why) {
		printf "  %s line %d: %s: [%s]\n", FILENAME, FNR, why, $0
		failed = 1
		exit 1
	}
	# unit(N, WORD, ONE, MANY): WORD agrees in number with N.
	function unit(n, word, one, many) {
		if (word != (num(n) == 1 ? one : many))
			bad("\"" n " " word "\": wrong number")
	}
	BEGIN {
		cls["definitely lost"] = 1; cls["indirectly lost"] = 2
		cls["possibly lost"] = 3; cls["still reachable"] = 4
		state = "head"
	}
	state == "head" {
		want = "dbgalloc: leak report at exit (pid " pid ")"
		if ($0 != want)
			bad("not the headline \"" want "\"")
		state = "blank1"
		next
	}
	state == "blank1" {
		if ($0 != "")
			bad("no blank line after the headline")
		state = "record"
		next
	}
	state == "record" && /^Leak of / {
		re = "^Leak of [0-9][0-9,]* bytes? in [0-9][0-9,]* blocks? " \
		     "\\((definitely lost(; referencing [0-9][0-9,]* blocks?, " \
		     "[0-9][0-9,]* bytes?, indirectly lost)?|indirectly lost|" \
		     "possibly lost|still reachable)\\) allocated from:$"
		if ($0 !~ re)
			bad("malformed record headline")
		unit($3, $4, "byte", "bytes")
		unit($6, $7, "block", "blocks")
		c = substr($8, 2) " " $9
		sub(/[;)]$/, "", c)
		if (!(c in cls))
			bad("unknown class \"" c "\"")
		if (mode == "1" && cls[c] > 2)
			bad("class " c " shown with DBGALLOC_LEAKS=1")
		weight = num($3)
		if (match($0, /referencing [0-9,]+ blocks?, [0-9,]+ bytes?/)) {
			held = $0
			sub(/.*referencing [0-9,]+ blocks?, /, "", held)
			sub(/ .*/, "", held)
			weight += num(held)
		}
		if (cls[c] < lastcls || (cls[c] == lastcls && weight > lastw))
			bad("records out of order")
		lastcls = cls[c]
		lastw = weight
		bytes[c] += num($3)
		blocks[c] += num($6)
		frame = 0
		state = "frames"
		next
	}
	state == "frames" && /^    #/ {
		if ($0 !~ /^    #[0-9]+ 0x[0-9a-f]+ in .+ \([^ ()]+\+0x[0-9a-f]+\)$/)
			bad("malformed frame")
		if ($1 != "#" frame)
			bad("frame " $1 " where #" frame " was due")
		frame++
		next
	}
	state == "frames" {
		if (frame == 0)
			bad("record without frames")
		if ($0 !~ /^  first block: generation [0-9]+ \(epoch [0-9]+ ".*"\)$/)
			bad("not a frame nor the first block line")
		state = "blank2"
		next
	}
	state == "blank2" {
		if ($0 != "")
			bad("no blank line after a record")
		state = "record"
		next
	}
	state == "record" && $0 == "Suppressions used:" {
		state = "supphead"
		next
	}
	state == "supphead" {
		if ($0 != "  records      bytes pattern")
			bad("not the suppressions table heading")
		state = "supp"
		next
	}
	state == "supp" && /^ +[0-9][0-9,]* +[0-9][0-9,]* leak:.+$/ { next }
	state == "supp" {
		if ($0 != "")
			bad("malformed suppressions row")
		state = "summary"
		next
	}
	(state == "record" || state == "summary") && /^SUMMARY: dbgalloc: / {
		re = "^SUMMARY: dbgalloc: [0-9][0-9,]* bytes? leaked in " \
		     "[0-9][0-9,]* blocks?( \\([a-z ]+: [0-9][0-9,]* bytes? in " \
		     "[0-9][0-9,]* blocks?(; [a-z ]+: [0-9][0-9,]* bytes? in " \
		     "[0-9][0-9,]* blocks?)*\\))?(; suppressed: [0-9][0-9,]* " \
		     "bytes? in [0-9][0-9,]* blocks?)?$"
		if ($0 !~ re)
			bad("malformed SUMMARY")
		unit($3, $4, "byte", "bytes")
		unit($7, $8, "block", "blocks")
		lost_bytes = bytes["definitely lost"] + bytes["indirectly lost"]
		lost_blocks = blocks["definitely lost"] + blocks["indirectly lost"]
		if (num($3) != lost_bytes || num($7) != lost_blocks)
			bad("total is not the lost records, " lost_bytes \
			    " bytes in " lost_blocks " blocks")
		# Each class listed equals its records; a class not listed
		# has none.
		list = $0
		sub(/; suppressed: .*/, "", list)
		if (sub(/^[^(]*\(/, "", list)) {
			sub(/\)$/, "", list)
			n = split(list, part, /; /)
			for (i = 1; i <= n; i++) {
				split(part[i], kv, /: /)
				split(kv[2], w, / /)
				if (!(kv[1] in cls))
					bad("unknown class \"" kv[1] "\"")
				if (num(w[1]) != bytes[kv[1]] ||
				    num(w[4]) != blocks[kv[1]])
					bad(kv[1] " is not its records, " \
					    bytes[kv[1]] + 0 " bytes in " \
					    blocks[kv[1]] + 0 " blocks")
				listed[kv[1]] = 1
			}
		}
		for (c in cls)
			if (!(c in listed) && blocks[c] > 0)
				bad("class " c " has records but is not listed")
		state = "end"
		next
	}
	state == "end" { bad("a line after the SUMMARY") }
	{ bad("unexpected line (state " state ")") }
	END {
		if (!failed && NR > 0 && state != "end")
			printf "  %s: report ends before its SUMMARY\n", FILENAME
		exit failed || (NR > 0 && state != "end")
	}' "$1"
}

# run NAME MODE CMD...: runs CMD in a fresh empty directory without
# dbgalloc, then preloaded with DBGALLOC_LEAKS=MODE and the reports in
# $tmp/logs/NAME/r.PID (MODE "1-stderr": LEAKS=1, reports on stderr),
# and checks what the header says. Sets $reports to the number of
# processes that wrote a report.
run() {
	name=$1 mode=$2
	shift 2
	logs=$tmp/logs/$name
	rm -rf "$logs"
	mkdir -p "$logs" || return 1
	reports=0
	for how in plain leaks; do
		rm -rf "$tmp/work"
		mkdir "$tmp/work" || return 1
		(
			cd "$tmp/work" || exit 1
			ulimit -v "$vmem" || exit 1
			if [ $how = plain ]; then
				timeout "$limit" "$@"
			elif [ "$mode" = 1-stderr ]; then
				timeout "$limit" env LD_PRELOAD="$lib" \
					DBGALLOC_LEAKS=1 "$@"
			else
				timeout "$limit" env LD_PRELOAD="$lib" \
					DBGALLOC_LEAKS="$mode" \
					DBGALLOC_LOG="$logs/r.%p" "$@"
			fi
		) >"$tmp/$how.out" 2>"$tmp/$how.err" </dev/null
		echo $? >"$tmp/$how.rc"
	done
	rm -rf "$tmp/work"
	rc_plain=$(cat "$tmp/plain.rc")
	rc_leaks=$(cat "$tmp/leaks.rc")
	if [ "$mode" = 1-stderr ]; then
		# The report is all the program writes to stderr here.
		mv "$tmp/leaks.err" "$logs/r.stderr"
		: >"$tmp/leaks.err"
		mode=1
	fi
	if [ "$rc_plain" != 0 ]; then
		fail "$name" "fails without dbgalloc too (status $rc_plain): test broken"
		show "$tmp/plain.err" stderr
		return 1
	elif [ ! -s "$tmp/plain.out" ]; then
		fail "$name" "no output: test broken"
		return 1
	elif [ "$rc_leaks" != 0 ]; then
		fail "$name" "exit status $rc_leaks under DBGALLOC_LEAKS=$mode"
		show "$tmp/leaks.err" stderr
		return 1
	elif ! cmp -s "$tmp/plain.out" "$tmp/leaks.out"; then
		fail "$name" "stdout differs under DBGALLOC_LEAKS=$mode"
		diff "$tmp/plain.out" "$tmp/leaks.out" | head -20 | sed 's/^/  /'
		return 1
	elif ! cmp -s "$tmp/plain.err" "$tmp/leaks.err"; then
		fail "$name" "stderr differs under DBGALLOC_LEAKS=$mode"
		diff "$tmp/plain.err" "$tmp/leaks.err" | head -20 | sed 's/^/  /'
		return 1
	fi
	files=0
	for f in "$logs"/r.*; do
		[ -e "$f" ] || continue
		files=$((files + 1))
		pid=${f##*/r.}
		if [ "$pid" = stderr ]; then
			pid=$(sed -n '1s/.*(pid \([0-9]*\)).*/\1/p' "$f")
		fi
		if ! wellformed "$f" "$pid" "$mode"; then
			fail "$name" "a malformed report"
			show "$f" report
			return 1
		fi
		[ -s "$f" ] && reports=$((reports + 1))
	done
	# The log file is made at a process's first report: none at all means
	# no process had a lost block to report (that the library is loaded
	# in these programs, preload-programs.sh checks).
	if [ "$files" -eq 0 ]; then
		pass "$name: runs as without dbgalloc; no process had a leak to report"
		return 0
	fi
	pass "$name: runs as without dbgalloc; $reports of $files processes reported leaks, all well formed"
	return 0
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

PYTHON3=${PYTHON3-python3}
PERL=${PERL-perl}
GIT=${GIT-git}
SQLITE3=${SQLITE3-sqlite3}

if [ ! -r "$lib" ]; then
	fail library "$lib does not exist"
	finish
fi

# --- The checker itself, on reports made up to break each rule ---------
cat >"$tmp/good" <<'EOF'
dbgalloc: leak report at exit (pid 42)

Leak of 48 bytes in 1 block (definitely lost; referencing 2 blocks, 96 bytes, indirectly lost) allocated from:
    #0 0x401000 in make_list leaky.c:12 (leaky+0x1000)
    #1 0x401100 in ?? (leaky+0x1100)
  first block: generation 7 (epoch 0 "start")

Leak of 24 bytes in 1 block (definitely lost) allocated from:
    #0 0x401300 in make_name leaky.c:30 (leaky+0x1300)
  first block: generation 11 (epoch 0 "start")

Leak of 96 bytes in 2 blocks (indirectly lost) allocated from:
    #0 0x401000 in make_list leaky.c:12 (leaky+0x1000)
  first block: generation 8 (epoch 0 "start")

Leak of 80 bytes in 1 block (still reachable) allocated from:
    #0 0x401200 in std::vector<int>::push(int) (leaky+0x1200)
  first block: generation 9 (epoch 1 "stage")

Suppressions used:
  records      bytes pattern
        1         24 leak:make_name

SUMMARY: dbgalloc: 168 bytes leaked in 4 blocks (definitely lost: 72 bytes in 2 blocks; indirectly lost: 96 bytes in 2 blocks; still reachable: 80 bytes in 1 block); suppressed: 24 bytes in 1 block
EOF
if wellformed "$tmp/good" 42 all >"$tmp/why"; then
	pass "checker: accepts a report with every shape"
else
	fail checker "rejects a good report"
	show "$tmp/why" checker
fi
# broken SED-SCRIPT WHAT: the checker must reject good with SED-SCRIPT
# applied.
broken() {
	sed "$1" "$tmp/good" >"$tmp/bad"
	if wellformed "$tmp/bad" 42 all >/dev/null; then
		fail checker "accepts a report with $2"
	else
		pass "checker: rejects $2"
	fi
}
broken 's/^SUMMARY: dbgalloc: 168/SUMMARY: dbgalloc: 169/' "a wrong total"
broken 's/indirectly lost: 96 bytes in 2/indirectly lost: 96 bytes in 3/' "a wrong class sum"
broken 's/(pid 42)/(pid 43)/' "another process's headline"
broken 's/    #1 0x401100/    #2 0x401100/' "a skipped frame number"
broken 's/(leaky+0x1100)/(<unknown module>)/' "a frame without its module"
broken '/^  first block: generation 8/d' "a record without its first block"
broken '$a\
junk' "a line after the SUMMARY"
broken '/^Leak of 80 bytes/,/^$/d' "a class listed without records"
broken 's/^Leak of 24 bytes/Leak of 200 bytes/
	s/^SUMMARY: dbgalloc: 168 bytes leaked in 4 blocks (definitely lost: 72/SUMMARY: dbgalloc: 344 bytes leaked in 4 blocks (definitely lost: 248/' \
	"records out of order"
broken 's/in 1 block (still/in 1 blocks (still/' "a wrong plural"
if wellformed "$tmp/good" 42 1 >/dev/null; then
	fail checker "accepts still reachable blocks with LEAKS=1"
else
	pass "checker: rejects still reachable blocks with LEAKS=1"
fi
: >"$tmp/empty"
if wellformed "$tmp/empty" 42 1; then
	pass "checker: accepts no report"
else
	fail checker "rejects an empty file"
fi

# --- python3 -----------------------------------------------------------
# The pyenv shim is a shell script: run the real interpreter directly.
python_job='
import hashlib, json
objs = [{"id": i, "name": "item-%d" % i, "tags": ["t%d" % (i % 7)],
         "nested": {"a": [i, str(i)], "b": None}} for i in range(20000)]
s = json.dumps(objs, sort_keys=True)
assert json.loads(s) == objs
print(len(s), hashlib.sha256(s.encode()).hexdigest())
'
if need python3 "$PYTHON3"; then
	python=$("$PYTHON3" -c 'import sys; print(sys.executable)')
	run python3 1 "$python" -c "$python_job"
	if run python3-all all "$python" -c "$python_job" &&
		! grep -q '^Leak of .* (still reachable) allocated from:$' \
			"$tmp/logs/python3-all"/r.*; then
		fail python3-all "no still reachable blocks reported"
	fi
	run python3-PYTHONMALLOC=malloc 1 env PYTHONMALLOC=malloc \
		"$python" -c "$python_job"
	if run python3-stderr 1-stderr "$python" -c "$python_job" &&
		[ "$reports" -ne 1 ]; then
		fail python3-stderr "$reports reports on stderr, not 1"
	fi
fi

# --- perl ------------------------------------------------------------------
perl_job='
use strict; use warnings; use Digest::MD5;
my %h;
$h{"key$_"} = "value" . ($_ * 7 % 1000) . ("x" x ($_ % 50)) for 0 .. 49999;
my $md5 = Digest::MD5->new;
$md5->add($_, "=", $h{$_}, "\n") for sort keys %h;
print scalar(keys %h), " ", $md5->hexdigest, "\n";
'
if need perl "$PERL"; then
	run perl 1 "$PERL" -e "$perl_job"
fi

# --- sh --------------------------------------------------------------------
# Command substitutions and pipelines fork the shell; wc, printf and cat
# are programs of their own, each preloaded.
sh_job='
i=0 sum=0 text=
while [ $i -lt 300 ]; do
	v=$(echo "$i")
	sum=$((sum + v))
	if [ $((i % 30)) -eq 0 ]; then
		text="$text$( (echo a; echo "$v") | { read -r x; read -r y; echo "$x$y"; })"
		sum=$((sum + $(printf "%s\n" a b c | cat | wc -l)))
	fi
	i=$((i + 1))
done
echo "$sum $text"
'
if need sh sh; then
	run sh 1 sh -c "$sh_job"
fi

# --- git -------------------------------------------------------------------
git_job='
set -e
git() { command "$DA_GIT" "$@"; }
git init -q -b main repo
cd repo
git config gc.auto 0
for i in 0 1 2 3 4 5 6 7 8 9; do seq 1 $((i * 20 + 5)) >"f$i.txt"; done
git add -A
git commit -q -m "ten files"
seq 1 3 >>f1.txt
git rm -q f9.txt
git commit -q -a -m "change two"
git log --stat --format="%H %s"
git gc --quiet
git fsck --no-progress --full
git ls-files | wc -l
'
if need git "$GIT"; then
	mkdir -p "$tmp/home"
	run git 1 env DA_GIT="$GIT" HOME="$tmp/home" GIT_CONFIG_NOSYSTEM=1 \
		GIT_CONFIG_GLOBAL=/dev/null GIT_AUTHOR_NAME=dbgalloc \
		GIT_AUTHOR_EMAIL=dbgalloc@example.org \
		GIT_AUTHOR_DATE=2024-01-01T00:00:00Z GIT_COMMITTER_NAME=dbgalloc \
		GIT_COMMITTER_EMAIL=dbgalloc@example.org \
		GIT_COMMITTER_DATE=2024-01-01T00:00:00Z sh -c "$git_job"
fi

# --- sqlite3 -----------------------------------------------------------------
if need sqlite3 "$SQLITE3"; then
	{
		echo 'CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER);'
		echo 'BEGIN;'
		awk 'BEGIN { for (i = 0; i < 20000; i++)
			printf "INSERT INTO t VALUES(%d, '\''name-%d'\'', %d);\n", i, i, i % 97 }'
		echo 'COMMIT;'
		echo 'CREATE INDEX t_grp ON t(grp);'
		echo 'SELECT grp, count(*), max(id) FROM t GROUP BY grp ORDER BY grp LIMIT 5;'
		echo 'DELETE FROM t WHERE id % 3 = 0;'
		echo 'VACUUM;'
		echo 'SELECT count(*), sum(length(name)) FROM t;'
	} >"$tmp/load.sql"
	run sqlite3 1 sh -c '"$1" db.sqlite <"$2"' sh "$SQLITE3" "$tmp/load.sql"
fi

finish
