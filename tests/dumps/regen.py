#!/usr/bin/env python3
# tests/dumps/regen.py — writes the golden dumps of this directory, which
# tests/unit/test_dumpread.c reads and tests/fuzz/ starts from. Run it
# here after changing it, and commit what it writes. Its CRC-32C is its
# own, bit by bit, so the files do not depend on the reader's table.

import os


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def seal(body):
    """body and its trailer: the lines before it and their CRC-32C."""
    return body + b"E %d 0x%08x\n" % (body.count(b"\n"), crc32c(body))


# Every record type, strings with escapes, "-" in optional fields.
GOOD = b"""DBGALLOC-DUMP 1 0
#fields H key value
H producer dbgalloc%200.1.0
H pid 4242
H ppid 4200
H exe /usr/local/bin/img%20srv
H cmdline img%2520srv%20--port%208080
H reason signal:USR2
H dump_seq 3
H time_unix_ns 1795266552476243188
H mono_ns 5123456789
H page_size 4096
H options DBGALLOC_LIMIT=100M%20DBGALLOC_LEAKS=1
H consistency stopped
#fields T name value
T live_bytes 1048600
T live_blocks 3
T peak_bytes 2097152
T total_allocs 12
T total_bytes 3145728
T total_frees 9
T failed_allocs 0
T limit -
T rss_bytes 127205376
T rss_peak_bytes 131072000
T mapped_bytes 4194304
T generation 12
# the modules, then their loadable segments
#fields M id bias lo hi build_id path
M 1 0x55ecae0a5000 0x55ecae0a5000 0x55ecae0a9048 378a63ace770e0c38c49fa38205a3c376766b2bf /usr/local/bin/img%20srv
M 2 0x7f5ba282b000 0x7f5ba282b000 0x7f5ba2a0cf50 - /lib/x86_64-linux-gnu/libc.so.6
#fields L module vaddr memsz offset perm
L 1 0x0 0x5d8 0x0 r--
L 1 0x1000 0x2c1 0x1000 r-x
L 2 0x28000 0x155000 0x28000 r-x
#fields S id depth pc...
S 29027 3 0x55ecae0a6234 0x55ecae0a62eb 0x7f5ba285224a
S 5 1 0x55ecae0a6300
#fields X stack live_blocks live_bytes allocs alloc_bytes frees free_bytes peak_live_bytes temporary
X 29027 1 1048576 1 1048576 0 0 1048576 0
X 5 2 24 11 2097152 9 2097128 1048600 8
#fields A addr size stack gen epoch flags
A 0x7f5b9c000010 1048576 29027 10 1 -
A 0x55ecaf0002a0 16 5 3 0 nN
A 0x55ecaf0002c0 8 - 0 0 ia
#fields C epoch first_gen mono_ns name
C 0 0 - start
C 1 5 4100000000 warm%20up
#fields P mono_ns live_bytes rss_bytes
P 4000000000 1024 88080384
P 5000000000 1048600 127205376
"""


# Minor 1: every record and column it adds (K; X's totals and lifetime
# histograms; A's thread and leak verdict; C's totals and peak; P's gen and
# reason), beside "-" in each optional one.
GOOD1 = b"""DBGALLOC-DUMP 1 1
#fields H key value
H producer dbgalloc%200.1.0
H pid 4343
H exe /opt/bin/churn
H reason exit
H leak_scan yes
H temporary_threshold 0
#fields T name value
T live_bytes 1048664
T live_blocks 4
T peak_bytes 1050000
T total_allocs 40
T total_bytes 1060000
T total_frees 36
T free_bytes 11336
T peak_mono_ns 7000000000
T peak_epoch 2
T header_bytes 128
T metadata_bytes 65536
#fields M id bias lo hi build_id path
M 1 0x400000 0x400000 0x402000 - /opt/bin/churn
#fields S id depth pc...
S 1 2 0x401010 0x401100
S 2 1 0x401020
#fields K block_size slabs slab_bytes live_blocks live_bytes allocs frees peak_live_blocks
K 32 1 65536 3 88 38 35 9
K 64 0 0 0 0 1 1 -
K - 1 1052672 1 1048576 1 0 1
#fields X stack live_blocks live_bytes allocs alloc_bytes frees free_bytes peak_live_bytes temporary life_allocs life_us
X 1 1 1048576 1 1048576 0 0 1048576 0 - -
X 2 3 88 39 11424 36 11336 1424 30 30,0,4,2 12,20,0,0,0,0,0,0,0,0,0,4
#fields A addr size stack gen epoch flags thread leak
A 0x7f0000001000 1048576 1 30 2 - - d
A 0x7f0000002010 24 2 35 2 - 1 i
A 0x7f0000002030 32 2 36 2 n 2 r
A 0x7f0000002050 32 2 37 2 - 2 -
#fields C epoch first_gen mono_ns allocs alloc_bytes frees free_bytes peak_bytes name
C 0 0 - 0 0 0 0 0 start
C 1 10 5000000000 10 1000 8 800 2000 load
C 2 30 6000000000 30 10000 28 9800 1050000 serve
#fields P mono_ns live_bytes rss_bytes gen reason
P 5000000000 200 4096000 10 mark
P 7000000000 1050000 8192000 31 step
P 8000000000 1048664 8192000 40 -
"""


# tests/dumps/stats/a.dump, for dbgalloc-stats's golden outputs: imgsrv,
# three epochs (start, load, serve), the leak check's verdicts, size
# classes, four sites in two modules. Its numbers add up: the sites' and
# classes' totals are the T totals; the epochs' totals, differenced, give
# what each did; live is allocated less freed; the sites' bytes at the
# peak, the ignored block and the loader's add up to peak_bytes.
#
#   site  frames (module+offset)              live          allocs  temp
#   1     imgsrv+0x1100 imgsrv+0x1200         2 x 65,536        3     0
#   2     imgsrv+0x1300 imgsrv+0x1200         10 x 48         200   150
#   3     libc.so.6+0x50010 imgsrv+0x1400     3 x 20            3     0
#   4     imgsrv+0x1500                       0               500   480
#   -     ignored (100 bytes), the loader's (32 bytes)
STATS_A = b"""DBGALLOC-DUMP 1 1
#fields H key value
H producer dbgalloc%200.1.0
H pid 5150
H ppid 1
H exe /srv/bin/imgsrv
H cmdline imgsrv%20--port%208080
H reason exit
H dump_seq 1
H time_unix_ns 1795266552000000000
H mono_ns 9000000000
H page_size 4096
H consistency stopped
H leak_scan yes
H temporary_threshold 1
H life_sample 256
#fields T name value
T live_bytes 131744
T live_blocks 17
T peak_bytes 132352
T total_allocs 708
T total_bytes 270400
T total_frees 691
T free_bytes 138656
T failed_allocs 2
T limit 1048576
T rss_bytes 8388608
T rss_peak_bytes 10485760
T mapped_bytes 462848
T generation 708
T peak_mono_ns 8500000000
T peak_epoch 2
T header_bytes 272
T metadata_bytes 65536
T guard_bytes 0
T quarantine_bytes 4096
T limit_failures 2
T injected_failures 0
#fields M id bias lo hi build_id path
M 1 0x555555554000 0x555555554000 0x555555559000 4f1b2c3d4e5f60718293a4b5c6d7e8f901234567 /srv/bin/imgsrv
M 2 0x7ffff7e00000 0x7ffff7e00000 0x7ffff7f90000 - /lib/x86_64-linux-gnu/libc.so.6
#fields L module vaddr memsz offset perm
L 1 0x1000 0x4000 0x1000 r-x
L 2 0x28000 0x155000 0x28000 r-x
#fields S id depth pc...
S 1 2 0x555555555100 0x555555555200
S 2 2 0x555555555300 0x555555555200
S 3 2 0x7ffff7e50010 0x555555555400
S 4 1 0x555555555500
#fields K block_size slabs slab_bytes live_blocks live_bytes allocs frees peak_live_blocks
K 48 1 65536 4 92 4 0 4
K 64 1 65536 10 480 200 190 20
K 160 2 131072 1 100 501 500 9
K - 2 135168 2 131072 3 1 3
#fields X stack live_blocks live_bytes allocs alloc_bytes frees free_bytes peak_live_bytes temporary life_allocs life_us
X 1 2 131072 3 196608 1 65536 131072 0 0,0,0,0,0,0,1 0,0,0,0,0,0,0,0,0,0,0,0,1
X 2 10 480 200 9600 190 9120 960 150 150,20,10,10 100,50,30,10
X 3 3 60 3 60 0 0 60 0 - -
X 4 0 0 500 64000 500 64000 128 480 480,15,5 400,80,20
#fields A addr size stack gen epoch flags thread leak
A 0x7ffff0000010 65536 1 12 1 - - d
A 0x7ffff0010010 65536 1 150 2 - - r
A 0x555555600010 48 2 101 2 - 2 i
A 0x555555600050 48 2 102 2 - 2 i
A 0x555555600090 48 2 103 2 - 2 r
A 0x5555556000d0 48 2 104 2 - 2 r
A 0x555555600110 48 2 105 2 - 2 r
A 0x555555600150 48 2 106 2 - 2 r
A 0x555555600190 48 2 107 2 - 2 r
A 0x5555556001d0 48 2 108 2 - 2 r
A 0x555555600210 48 2 109 2 - 2 r
A 0x555555600250 48 2 110 2 - 2 r
A 0x555555610010 20 3 5 0 - 1 d
A 0x555555610040 20 3 11 1 - 1 d
A 0x555555610070 20 3 120 2 - 3 p
A 0x555555620010 100 - 2 0 i 1 -
A 0x555555620090 32 - 0 0 - 1 r
#fields C epoch first_gen mono_ns allocs alloc_bytes frees free_bytes peak_bytes name
C 0 0 1000000000 0 0 0 0 400 start
C 1 10 2000000000 10 1000 7 700 66000 load
C 2 100 4000000000 100 141000 91 74700 132352 serve
#fields P mono_ns live_bytes rss_bytes gen reason
P 2000000000 300 4194304 10 mark
P 4000000000 66300 6291456 100 mark
P 8500000000 132352 10485760 650 step
P 9000000000 131744 8388608 708 dump
"""

# tests/dumps/stats/b.dump: a later run of imgsrv, loaded elsewhere (other
# biases, other stack ids), no leak check: beside a.dump, site 1 grew by a
# block, site 2 is the same, site 3 is gone, site 4 still holds nothing,
# and a new one (imgsrv+0x1600) holds 2 x 1,000 bytes.
STATS_B = b"""DBGALLOC-DUMP 1 1
#fields H key value
H producer dbgalloc%200.1.0
H pid 6262
H exe /srv/bin/imgsrv
H reason api
H dump_seq 2
H time_unix_ns 1795266652000000000
H mono_ns 3000000000
H leak_scan no
H temporary_threshold 1
H life_sample 1
#fields T name value
T live_bytes 199088
T live_blocks 15
T peak_bytes 200000
T total_allocs 900
T total_bytes 300000
T total_frees 885
T free_bytes 100912
T limit -
#fields M id bias lo hi build_id path
M 1 0x565656560000 0x565656560000 0x565656565000 4f1b2c3d4e5f60718293a4b5c6d7e8f901234567 /srv/bin/imgsrv
M 2 0x7f0000000000 0x7f0000000000 0x7f0000190000 - /lib/x86_64-linux-gnu/libc.so.6
#fields S id depth pc...
S 71 2 0x565656561100 0x565656561200
S 72 2 0x565656561300 0x565656561200
S 74 1 0x565656561500
S 75 2 0x565656561600 0x565656561200
#fields X stack live_blocks live_bytes allocs alloc_bytes frees free_bytes peak_live_bytes temporary
X 71 3 196608 4 262144 1 65536 196608 0
X 72 10 480 300 14400 290 13920 960 250
X 74 0 0 590 21456 590 21456 432 500
X 75 2 2000 6 2000 4 0 2000 0
#fields A addr size stack gen epoch flags thread
A 0x7f0100000010 65536 71 20 0 - -
A 0x7f0100010010 65536 71 30 0 - -
A 0x7f0100020010 65536 71 40 0 - -
A 0x565656600010 48 72 801 0 - 1
A 0x565656600050 48 72 802 0 - 1
A 0x565656600090 48 72 803 0 - 1
A 0x5656566000d0 48 72 804 0 - 1
A 0x565656600110 48 72 805 0 - 1
A 0x565656600150 48 72 806 0 - 1
A 0x565656600190 48 72 807 0 - 1
A 0x5656566001d0 48 72 808 0 - 1
A 0x565656600210 48 72 809 0 - 1
A 0x565656600250 48 72 810 0 - 1
A 0x565656610010 1000 75 850 0 - 2
A 0x565656610410 1000 75 851 0 - 2
#fields C epoch first_gen mono_ns name
C 0 0 1000000000 start
"""


# tests/dumps/stats/bare.dump: a dump with nothing but its header, which
# every command must still read (and check refuse: no counter to check).
STATS_BARE = b"""DBGALLOC-DUMP 1 1
#fields H key value
H pid 7
"""


# tests/dumps/stats/sample-zero.dump, sample-over.dump: a header whose
# life_sample is no number of blocks (0; 2^64, past 64 bits), which
# temporaries refuses.
STATS_SAMPLE_ZERO = STATS_BARE + b"H life_sample 0\n"
STATS_SAMPLE_OVER = STATS_BARE + b"H life_sample 18446744073709551616\n"


# tests/dumps/stats/huge.dump: numbers at the edge of 64 bits, sums that
# would wrap, empty names, a module of no name, an epoch named with control
# bytes and bytes that are not UTF-8: every command must read it, its sums
# saturated, its text one line per line, its JSON valid.
M = b"18446744073709551614"  # "@" below; "@L" a list of 64 of them
STATS_HUGE = b"""DBGALLOC-DUMP 1 1
#fields H key value
H pid 99999999999999999999999
H exe /
H dump_seq x
H time_unix_ns 99999999999999999999
H mono_ns 5
H leak_scan yes
H temporary_threshold @
H life_sample @
#fields T name value
T live_bytes @
T live_blocks @
T peak_bytes @
T total_allocs 3
T total_bytes @
T total_frees @
T free_bytes 1
T limit 1
T peak_mono_ns @
T peak_epoch @
#fields M id bias lo hi build_id path
M 1 @ 0 @ - %
M 2 0 @ 1 - -
#fields S id depth pc...
S 1 3 0x0 0x1 0xfffffffffffffffe
S @ 0
#fields K block_size slabs slab_bytes live_blocks live_bytes allocs frees peak_live_blocks
K @ @ 0 @ @ @ @ @
K - 1 1 @ @ @ @ @
#fields X stack live_blocks live_bytes allocs alloc_bytes frees free_bytes peak_live_bytes temporary life_allocs life_us
X 1 @ @ 0 @ @ @ @ @ @L @L
X 1 @ @ @ @ @ @ @ @ - -
X @ 0 0 0 0 0 0 0 0 0 0
#fields A addr size stack gen epoch flags thread leak
A 0x0 @ 1 @ @ nNa @ d
A 0x1 @ @ 0 0 - 0 i
A 0x2 @ - @ 3 i - d
#fields C epoch first_gen mono_ns allocs alloc_bytes frees free_bytes peak_bytes name
C @ 0 @ @ @ @ @ @ %
C 0 0 0 0 0 0 0 0 -
C 3 0 1 5 5 5 5 5 a%0Ab%09c%FF%C3
#fields P mono_ns live_bytes rss_bytes gen reason
P @ @ @ @ x
""".replace(b"@L", b",".join([M] * 64)).replace(b"@", M)


def lines(data):
    return data.splitlines(keepends=True)


def after(data, prefix, extra):
    """data with extra inserted after the first line starting with prefix."""
    out = []
    for line in lines(data):
        out.append(line)
        if line.startswith(prefix) and extra is not None:
            out.append(extra)
            extra = None
    return b"".join(out)


def replace(data, old, new):
    assert old in data, old
    return data.replace(old, new, 1)


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


def main():
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    good = seal(GOOD)
    write("good.dump", good)
    # Cut in the middle of an A line: no trailer.
    write("truncated.dump", good[: good.index(b"A 0x55ecaf0002a0") + 9])
    # One digit changed after sealing.
    write("bad-checksum.dump", replace(good, b"A 0x55ecaf0002c0 8 ", b"A 0x55ecaf0002c0 9 "))
    # A record type this reader does not know, with and without columns.
    write("unknown-record.dump", seal(after(GOOD, b"X 5 ",
          b"#fields R arena kind size_class util\nR 0 small 64 1.000\n#fields Q\nQ\n")))
    # Columns this reader does not know, and the known ones reordered.
    unk = replace(GOOD, b"#fields A addr size stack gen epoch flags\n",
                  b"#fields A tid size addr flags note gen stack epoch\n")
    unk = replace(unk, b"A 0x7f5b9c000010 1048576 29027 10 1 -\n",
                  b"A 4242 1048576 0x7f5b9c000010 - big 10 29027 1\n")
    unk = replace(unk, b"A 0x55ecaf0002a0 16 5 3 0 nN\n",
                  b"A 4242 16 0x55ecaf0002a0 nN x 3 5 0\n")
    unk = replace(unk, b"A 0x55ecaf0002c0 8 - 0 0 ia\n",
                  b"A 4243 8 0x55ecaf0002c0 ia 0.5 0 - 0\n")
    unk = replace(unk, b"#fields S id depth pc...\n", b"#fields S id thread depth ip\xe2\x80\xa6\n")
    unk = replace(unk, b"S 29027 3 ", b"S 29027 1 3 ")
    unk = replace(unk, b"S 5 1 ", b"S 5 2 1 ")
    write("unknown-columns.dump", seal(unk))
    # A later minor version: a new header, a new record type, new columns.
    minor = replace(GOOD, b"DBGALLOC-DUMP 1 0\n", b"DBGALLOC-DUMP 1 7\n")
    minor = after(minor, b"H consistency", b"H unwinder fp\n")
    minor = replace(minor, b"#fields P mono_ns live_bytes rss_bytes\n",
                    b"#fields P mono_ns live_bytes rss_bytes mapped_bytes\n")
    minor = replace(minor, b"P 4000000000 1024 88080384\n", b"P 4000000000 1024 88080384 4194304\n")
    minor = replace(minor, b"P 5000000000 1048600 127205376\n",
                    b"P 5000000000 1048600 127205376 4194304\n#fields F ip func file line\nF 0x55ecae0a6234 big_buffer /src/img.c 11\n")
    write("minor-version.dump", seal(minor))
    write("major-version.dump", seal(b"DBGALLOC-DUMP 2 0\n#fields H key value\nH pid 1\n"))
    # Line 13 is 65,537 bytes long, its newline in.
    write("overlong-line.dump", seal(after(GOOD, b"H page_size", b"H options " + b"x" * 65526 + b"\n")))
    write("before-fields.dump", seal(replace(GOOD, b"#fields A addr size stack gen epoch flags\n", b"") +
                                     b"#fields A addr size stack gen epoch flags\n"))
    write("bad-number.dump", seal(replace(GOOD, b"A 0x55ecaf0002a0 16 ", b"A 0x55ecaf0002a0 1O ")))
    write("empty.dump", b"")
    good1 = seal(GOOD1)
    write("good-minor1.dump", good1)
    # 65 buckets: one more than a reader keeps.
    write("long-histogram.dump", seal(replace(GOOD1, b" 30,0,4,2 ", b" " + b",".join([b"1"] * 65) + b" ")))
    os.makedirs("stats", exist_ok=True)
    write("stats/a.dump", seal(STATS_A))
    write("stats/b.dump", seal(STATS_B))
    write("stats/bare.dump", seal(STATS_BARE))
    write("stats/huge.dump", seal(STATS_HUGE))
    write("stats/sample-zero.dump", seal(STATS_SAMPLE_ZERO))
    write("stats/sample-over.dump", seal(STATS_SAMPLE_OVER))
    write("bad-histogram.dump", seal(replace(GOOD1, b" 30,0,4,2 ", b" 30,,4,2 ")))
    # An ELF header: the start of a program, not a dump.
    write("foreign.dump", b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x03\x00\x3e\x00\x01\x00\x00\x00" + bytes(40))


main()
