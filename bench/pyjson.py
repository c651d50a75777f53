# bench/pyjson.py — the "python" workload: JSON round-trips of small objects.
#
#   python3 pyjson.py [N] [ROUNDS]     (defaults: 75000 objects, 2 rounds)
#
# Builds N small dicts (ints, floats, strings, a short list), then ROUNDS
# times serialises the whole list with json.dumps and parses it back with
# json.loads, so the heap churns through millions of small objects and a
# few large strings. run.sh runs it with PYTHONMALLOC=malloc, so every
# object goes through the malloc under test rather than pymalloc's arenas.
# Prints one line that depends only on the data, the same under any malloc.
import json
import os
import sys

# run.sh sets PYTHONMALLOC=malloc: fail rather than measure pymalloc if the
# interpreter did not take it (where _testcapi can tell).
want = os.environ.get("PYTHONMALLOC")
if want:
    try:
        import _testcapi

        got = _testcapi.pymem_getallocatorsname()
    except (ImportError, AttributeError):
        got = want
    if got != want:
        sys.exit("pyjson.py: PYTHONMALLOC=%s, but the allocator is %s" % (want, got))

n = int(sys.argv[1]) if len(sys.argv) > 1 else 75000
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2

objs = [
    {
        "id": i,
        "name": "item-%d" % i,
        "score": i * 0.25,
        "ok": i % 3 == 0,
        "tags": ["t%d" % (i % 7), "u%d" % (i % 11), None],
        "pos": {"x": i % 101, "y": -(i % 53)},
    }
    for i in range(n)
]
size = 0
for _ in range(rounds):
    text = json.dumps(objs)
    size += len(text)
    objs = json.loads(text)
    del text
check = sum(o["id"] + o["pos"]["x"] - o["pos"]["y"] for o in objs)
print("python %d objects %d rounds %d chars check %d" % (n, rounds, size, check))
