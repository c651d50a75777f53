#!/bin/sh
# dump.sh — dumps end to end, preloaded and through the launcher, on
# dump-prog (see its header), each dump checked whole by dump-check:
#   - DBGALLOC_DUMP at exit: the file named by %p, the command line (its
#     arguments encoded one by one, then together), the program's known live
#     blocks as A records (sizes, one stack per call site, the main thread's
#     number, the X totals),
#     the program's path and build id (as readelf reads it) in M 1, its
#     call site inside it, nothing left beside the file;
#   - run --dump=PATTERN with %e and %n;
#   - a directory that does not exist: one line, the exit status unchanged;
#   - dbgalloc_dump while 4 threads allocate: each dump consistent (every
#     stack an A record names has its S line, X equals the A records' sums),
#     "consistency stopped";
#   - dbgalloc_dump(NULL) with and without DBGALLOC_DUMP, and the numbering
#     of the dumps of one process, and of a child of fork (its own %p, from 1);
#   - a million live blocks: the time to dump them and the bytes per block,
#     printed.
# Inherited DBGALLOC_ variables and LD_PRELOAD are cleared first; every run
# has ulimit -v 2 GiB and a timeout (limit-env.sh).
set -u

. "$(dirname "$0")/limit-env.sh"
prog=$top/tests/integration/dump-prog
check=$top/tests/integration/dump-check

# A failure shows dump-check's word on the dump too.
shows="out err check"

# checked FILE: dump-check accepts FILE and says "consistency stopped".
checked() {
	"$check" "$1" >"$tmp/check" 2>&1 &&
		grep -q ' consistency stopped$' "$tmp/check"
}

# h FILE KEY: the value of H KEY in FILE.
h() {
	sed -n "s/^H $2 //p" "$1"
}

# only NAME...: the dump directory holds exactly these files.
only() {
	want=
	for name; do
		want="$want$name "
	done
	[ "$(ls -A "$tmp/d" | LC_ALL=C sort | tr '\n' ' ')" = "$want" ]
}

fresh() {
	rm -rf "$tmp/d" && mkdir "$tmp/d" && : >"$tmp/check"
}

if [ ! -x "$prog" ] || [ ! -x "$check" ] || [ ! -r "$lib" ]; then
	fail setup "$prog, $check or $lib missing"
	finish
fi

# --- At exit, preloaded. ---
fresh
run env DBGALLOC_DUMP="$tmp/d/x.%p.dump" LD_PRELOAD="$lib" "$prog" known \
	"a b" 'c%d'
f=$(ls "$tmp/d"/x.*.dump 2>/dev/null | head -1)
pid=${f##*/x.}
pid=${pid%.dump}
[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && [ -n "$f" ] &&
	only "x.$pid.dump" && checked "$f" &&
	[ "$(h "$f" pid)" = "$pid" ] && [ "$(h "$f" reason)" = exit ] &&
	[ "$(h "$f" dump_seq)" = 1 ] && [ "$(h "$f" exe)" = "$prog" ] &&
	[ "$(h "$f" options)" = "DBGALLOC_DUMP=$(echo "$tmp/d/x.%p.dump" |
		sed 's/%/%25/g')" ]
result "DBGALLOC_DUMP at exit: one whole file named by %p, nothing else" $?
[ "$(h "$f" cmdline)" = "$(echo "$prog" |
	sed 's/%/%2525/g')%20known%20a%2520b%20c%2525d" ]
result "H cmdline: each argument encoded, then the whole" $?

# The known blocks: 7 of 1000 bytes from one stack, 3 of 24 from another,
# and the X records of those stacks.
ok=0
for a in $(sed -n 's/^kilo //p' "$tmp/out"); do
	grep -q "^A $a 1000 [0-9][0-9]* [0-9][0-9]* 0 - 1 -\$" "$f" || ok=1
done
for a in $(sed -n 's/^small //p' "$tmp/out"); do
	grep -q "^A $a 24 [0-9][0-9]* [0-9][0-9]* 0 - 1 -\$" "$f" || ok=1
done
kilo=$(awk '$1 == "A" && $3 == 1000 { print $4 }' "$f" | sort -u)
small=$(awk '$1 == "A" && $3 == 24 { print $4 }' "$f" | sort -u)
[ "$ok" -eq 0 ] && [ "$(grep -c '^A 0x[0-9a-f]* 1000 ' "$f")" -eq 7 ] &&
	[ "$(echo "$kilo" | wc -w)" -eq 1 ] &&
	[ "$(echo "$small" | wc -w)" -eq 1 ] && [ "$kilo" != "$small" ] &&
	grep -q "^X $kilo 7 7000 7 7000 0 0 7000 0 - -\$" "$f" &&
	grep -q "^X $small 3 72 3 72 0 0 72 0 - -\$" "$f"
result "the live blocks as A records (thread 1), their stacks' totals as X" $?

# The program is module 1, with the build id the linker wrote, and the
# call site of its blocks lies inside it.
set -- $(grep '^M 1 ' "$f")
lo=$4 hi=$5 build=$6 path=$7
pc=$(sed -n "s/^S $kilo [0-9]* \\(0x[0-9a-f]*\\).*/\\1/p" "$f")
want=$build
if command -v readelf >/dev/null 2>&1; then
	want=$(readelf -n "$prog" | sed -n 's/.*Build ID: *//p')
fi
[ "$path" = "$prog" ] && [ -n "$want" ] && [ "$build" = "$want" ] &&
	[ -n "$pc" ] && [ $((pc >= lo)) -eq 1 ] && [ $((pc < hi)) -eq 1 ] &&
	[ "$(grep -c '^L 1 ' "$f")" -ge 2 ]
result "M 1 is the program, its build id as readelf -n reads it" $?

# --- Through the launcher: %e and %n. ---
fresh
run "$launcher" run --dump="$tmp/d/l.%e.%n.dump" -- "$prog" known
[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && only l.dump-prog.1.dump &&
	checked "$tmp/d/l.dump-prog.1.dump" &&
	[ "$(grep -c '^A 0x[0-9a-f]* 1000 ' "$tmp/d/l.dump-prog.1.dump")" -eq 7 ]
result "dbgalloc run --dump=DIR/l.%e.%n.dump" $?

# --- A directory that does not exist. ---
fresh
run env DBGALLOC_DUMP="$tmp/d/none/x.dump" LD_PRELOAD="$lib" "$prog" known
[ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 10 ] &&
	[ "$(cat "$tmp/err")" = "dbgalloc: cannot write the dump $tmp/d/none/x.dump: No such file or directory" ] &&
	only
result "a missing directory: one line, exit status 0, no file" $?

# --- While 4 threads allocate. ---
fresh
run env LD_PRELOAD="$lib" "$prog" threads "$tmp/d/t.%n.dump" 5
ok=0
for n in 1 2 3 4 5; do
	checked "$tmp/d/t.$n.dump" || { ok=1; break; }
	[ "$(h "$tmp/d/t.$n.dump" dump_seq)" = "$n" ] || ok=1
	[ "$(h "$tmp/d/t.$n.dump" reason)" = api ] || ok=1
	# The workers' blocks are there (up to 4 x 64, and at least some).
	[ "$(awk '$1 == "A" && $3 >= 16 && $3 < 4112' "$tmp/d/t.$n.dump" |
		wc -l)" -ge 4 ] || ok=1
done
[ "$rc" -eq 0 ] && [ "$ok" -eq 0 ] &&
	[ "$(grep -c '^dump 0$' "$tmp/out")" -eq 5 ] &&
	only t.1.dump t.2.dump t.3.dump t.4.dump t.5.dump
result "dbgalloc_dump under 4 allocating threads: 5 consistent dumps" $?

# --- dbgalloc_dump(NULL), the numbering. ---
fresh
run env DBGALLOC_DUMP="$tmp/d/a.%n.dump" LD_PRELOAD="$lib" "$prog" api \
	"$tmp/d/b.%n.dump"
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out" | tr '\n' ' ')" = "null 0 0 path 0 0 " ] &&
	only a.1.dump a.3.dump b.2.dump && checked "$tmp/d/a.1.dump" &&
	checked "$tmp/d/b.2.dump" && checked "$tmp/d/a.3.dump" &&
	[ "$(h "$tmp/d/a.1.dump" reason)" = api ] &&
	[ "$(h "$tmp/d/a.3.dump" reason)" = exit ] &&
	[ "$(h "$tmp/d/b.2.dump" dump_seq)" = 2 ]
result "dbgalloc_dump(NULL) uses DBGALLOC_DUMP; %n counts every dump" $?
fresh
run env LD_PRELOAD="$lib" "$prog" api "$tmp/d/b.%n.dump"
[ "$rc" -eq 0 ] && [ "$(cat "$tmp/out" | tr '\n' ' ')" = "null -1 22 path 0 0 " ] &&
	only b.1.dump
result "dbgalloc_dump(NULL) without DBGALLOC_DUMP: -1, EINVAL" $?

# --- A child of fork: its own file, numbered from 1. ---
fresh
run env DBGALLOC_DUMP="$tmp/d/f.%p.%n.dump" LD_PRELOAD="$lib" "$prog" fork
ok=1
if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "child status 0" ] &&
	[ "$(ls "$tmp/d" | wc -l)" -eq 2 ]; then
	ok=0
	for g in "$tmp"/d/f.*.1.dump; do
		checked "$g" || ok=1
	done
	child=$(grep -l '^A 0x[0-9a-f]* 50 ' "$tmp"/d/f.*.1.dump)
	parent=$(grep -L '^A 0x[0-9a-f]* 50 ' "$tmp"/d/f.*.1.dump)
	[ -n "$child" ] && [ -n "$parent" ] &&
		[ "$(h "$child" ppid)" = "$(h "$parent" pid)" ] &&
		[ "$(grep -c '^A 0x[0-9a-f]* 40 ' "$child")" -eq 2 ] || ok=1
fi
[ "$ok" -eq 0 ]
result "fork: the child writes its own dump, number 1, with its block" $?

# --- A million live blocks: the time, printed. ---
fresh
run env LD_PRELOAD="$lib" "$prog" million "$tmp/d/m.dump"
size=$(wc -c <"$tmp/d/m.dump" 2>/dev/null || echo 0)
[ "$rc" -eq 0 ] && grep -q '^dumped 1000000 live blocks in ' "$tmp/out" &&
	checked "$tmp/d/m.dump" &&
	[ "$(grep -c '^A 0x[0-9a-f]* 16 ' "$tmp/d/m.dump")" -ge 1000000 ]
result "a dump of a million live blocks" $?
echo "# $(cat "$tmp/out"), $size bytes ($((size / 1000000)) bytes per block)"

finish
