#!/bin/sh
# tests/guard/workloads.sh — python3 and perl under LD_PRELOAD with
# DBGALLOC_GUARD=1: every block they allocate with malloc has a guard page
# (and, with PYTHONMALLOC=malloc, every python object), yet each workload
# gives the same output as without dbgalloc, status 0 and nothing on
# stderr. Then python forks: the child works on its parent's guarded
# blocks and exits normally. Kept short (a few seconds each): a guarded
# block costs a page and its free a system call. A missing interpreter is
# a failure (the CI installs both), as in preload-programs.sh.
set -u
. "$(dirname "$0")/../integration/test-env.sh"
colon=:
PYTHON3=${PYTHON3-python3}
PERL=${PERL-perl}
limit=120

# compare NAME CMD...: CMD without dbgalloc, then preloaded under
# DBGALLOC_GUARD=1 (settings may lead CMD through env); same stdout,
# status 0 both times, nothing on the guarded run's stderr.
compare() {
	_name=$1
	shift
	timeout $limit "$@" >"$tmp/plain" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "$_name" "fails without dbgalloc too: test broken"
		return
	fi
	timeout $limit env LD_PRELOAD="$lib" DBGALLOC_GUARD=1 "$@" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "$_name" "status $rc"
	elif [ -s "$tmp/err" ]; then
		fail "$_name" "something on stderr"
	elif ! cmp -s "$tmp/plain" "$tmp/out"; then
		fail "$_name" "output differs: $(head -c 200 "$tmp/plain") vs" \
			"$(head -c 200 "$tmp/out")"
	else
		pass "$_name: $(head -c 60 "$tmp/out" | tr "\n" " ")"
	fi
}

# --- python3 -----------------------------------------------------------
python_json='
import hashlib, json, sys
n = int(sys.argv[1])
objs = [{"id": i, "name": "item-%d" % i, "tags": ["t%d" % (i % 7), "u%d" % (i % 13)],
         "value": i * 0.25, "text": "x" * (i % 61),
         "nested": {"a": [i, str(i)], "b": None, "c": i % 2 == 0}}
        for i in range(n)]
s = json.dumps(objs, sort_keys=True)
back = json.loads(s)
if back != objs:
    sys.exit("json round trip changed the data")
del objs
words = {}
for o in back:
    for t in o["tags"]:
        words[t] = words.get(t, 0) + len(o["text"])
again = json.dumps(back, sort_keys=True)
if again != s:
    sys.exit("second json round trip changed the text")
print(len(s), sorted(words.items())[:3], hashlib.sha256(again.encode()).hexdigest())
'
# The blocks python gets from malloc end at their guard page: 32 bytes,
# a multiple of the default alignment.
python_guarded='
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
p = libc.malloc(32)
print("guarded" if (p + 32) % 4096 == 0 else "not guarded: %#x" % p)
'
python_fork='
import os, sys
data = [("k%d" % i, [i] * (i % 9)) for i in range(3000)]
pid = os.fork()
if pid == 0:
    total = sum(len(v) for k, v in data)
    data.append(("child", [total]))
    print("child", total, len(data), flush=True)
    os._exit(0)
_, status = os.waitpid(pid, 0)
print("parent", os.WIFEXITED(status) and os.WEXITSTATUS(status), len(data))
'
if ! command -v "$PYTHON3" >/dev/null 2>&1; then
	fail python3 "not installed"
else
	python=$("$PYTHON3" -c 'import sys; print(sys.executable)')
	out=$(env LD_PRELOAD="$lib" DBGALLOC_GUARD=1 "$python" -c \
		"$python_guarded" 2>&1)
	if [ "$out" = guarded ]; then
		pass "python3's malloc blocks end at a guard page"
	else
		fail "python3's malloc blocks end at a guard page" "$out"
	fi
	compare "python3 json (pymalloc)" "$python" -c "$python_json" 5000
	compare "python3 json (PYTHONMALLOC=malloc)" \
		env PYTHONMALLOC=malloc "$python" -c "$python_json" 400
	compare "python3 fork" "$python" -c "$python_fork"
fi

# --- perl ------------------------------------------------------------------
perl_hash='
use strict; use warnings; use Digest::MD5;
my $n = shift;
my %h;
for my $i (0 .. $n - 1) {
    $h{"key$i"} = "value" . ($i * 7 % 1000) . ("x" x ($i % 50));
}
my $md5 = Digest::MD5->new;
$md5->add($_, "=", $h{$_}, "\n") for sort keys %h;
delete $h{"key$_"} for grep { $_ % 3 } 0 .. $n - 1;
my @a = map { [$_, length $h{$_}] } sort keys %h;
my $s = join ",", map { "$_->[0]:$_->[1]" } @a;
(my $t = $s) =~ s/key(\d+)/k$1/g;
print scalar(keys %h), " ", $md5->hexdigest, " ", length($t), "\n";
'
if ! command -v "$PERL" >/dev/null 2>&1; then
	fail perl "not installed"
else
	compare "perl hash" "$PERL" -e "$perl_hash" 20000
fi

finish
