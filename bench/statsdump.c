/*
 * bench/statsdump.c — writes a large dump (doc/dump-format.md, minor 1)
 * for timing dbgalloc-stats: NBLOCKS live blocks over NSTACKS call sites
 * of depth 8 in three modules, every record type, the numbers consistent
 * (the sites', classes' and blocks' totals are the T counters). Written
 * line by line through stdio, the CRC-32C kept as it goes, so its memory
 * does not grow with the dump.
 *
 *   statsdump FILE NBLOCKS [NSTACKS]
 *
 * Exit status 0, 1 when the file cannot be written, 2 for bad arguments.
 */
#include "audit/crc32c.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH    8
#define NEPOCHS  4
#define NCLASSES 8

static FILE *out;
static uint32_t crc;
static uint64_t nlines;

static void
line(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 1)
		abort();
	buf[n++] = '\n';
	crc = da_crc32c(crc, buf, (size_t)n);
	nlines++;
	if (fwrite(buf, 1, (size_t)n, out) != (size_t)n) {
		perror("statsdump");
		exit(1);
	}
}

/* The size of block i: small ones mostly, a large one now and then. */
static uint64_t
size_of(uint64_t i)
{
	static const uint64_t sizes[] = {16, 24, 32, 48, 64, 100, 256, 1000};
	return i % 1000 == 999 ? 65536 : sizes[(i * 7) % 8];
}

static const uint64_t class_size[NCLASSES] = {32,  48,  64,   80,
                                              128, 288, 1040, 0};

static unsigned
class_of(uint64_t size)
{
	for (unsigned k = 0; k + 1 < NCLASSES; k++)
		if (size + 16 <= class_size[k])
			return k;
	return NCLASSES - 1;
}

int
main(int argc, char **argv)
{
	char *end;
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: statsdump FILE NBLOCKS [NSTACKS]\n");
		return 2;
	}
	uint64_t nblocks = strtoull(argv[2], &end, 10);
	uint64_t nstacks = argc == 4 ? strtoull(argv[3], NULL, 10) : 5000;
	if (*end != '\0' || nstacks == 0) {
		fprintf(stderr, "statsdump: bad NBLOCKS or NSTACKS\n");
		return 2;
	}
	out = fopen(argv[1], "w");
	if (out == NULL) {
		fprintf(stderr, "statsdump: %s: %s\n", argv[1],
		        strerror(errno));
		return 1;
	}

	/* First the totals the records will add up to. */
	uint64_t live = 0, cls_blocks[NCLASSES] = {0},
	         cls_bytes[NCLASSES] = {0};
	uint64_t *site_blocks = calloc(nstacks, sizeof(uint64_t));
	uint64_t *site_bytes = calloc(nstacks, sizeof(uint64_t));
	if (site_blocks == NULL || site_bytes == NULL)
		abort();
	for (uint64_t i = 0; i < nblocks; i++) {
		uint64_t s = size_of(i);
		live += s;
		site_blocks[i % nstacks]++;
		site_bytes[i % nstacks] += s;
		cls_blocks[class_of(s)]++;
		cls_bytes[class_of(s)] += s;
	}
	/* Each site allocated 3 blocks and freed 2 for each it keeps. */
	uint64_t allocs = 3 * nblocks, total = 3 * live;
	uint64_t gens = allocs;

	line("DBGALLOC-DUMP 1 1");
	line("#fields H key value");
	line("H producer dbgalloc%%20bench");
	line("H pid 4242");
	line("H exe /usr/local/bin/bigserver");
	line("H reason api");
	line("H dump_seq 1");
	line("H time_unix_ns 1795266552000000000");
	line("H mono_ns 100000000000");
	line("H leak_scan yes");
	line("H temporary_threshold 0");
	line("#fields T name value");
	line("T live_bytes %" PRIu64, live);
	line("T live_blocks %" PRIu64, nblocks);
	line("T peak_bytes %" PRIu64, live + live / 10);
	line("T total_allocs %" PRIu64, allocs);
	line("T total_bytes %" PRIu64, total);
	line("T total_frees %" PRIu64, allocs - nblocks);
	line("T free_bytes %" PRIu64, total - live);
	line("T generation %" PRIu64, gens);
	line("T peak_mono_ns 90000000000");
	line("T peak_epoch 3");
	line("T rss_bytes %" PRIu64, live * 2);
	line("#fields M id bias lo hi build_id path");
	line("M 1 0x555555554000 0x555555554000 0x555555654000 - "
	     "/usr/local/bin/bigserver");
	line("M 2 0x7ffff7a00000 0x7ffff7a00000 0x7ffff7b80000 - "
	     "/usr/lib/libstore.so");
	line("M 3 0x7ffff7e00000 0x7ffff7e00000 0x7ffff7f90000 - "
	     "/lib/x86_64-linux-gnu/libc.so.6");
	line("#fields S id depth pc...");
	for (uint64_t s = 0; s < nstacks; s++) {
		char pcs[DEPTH * 20 + 1];
		size_t o = 0;
		for (unsigned k = 0; k < DEPTH; k++) {
			uint64_t base = k == 0 && s % 3 == 0 ? 0x7ffff7e00000
			                : k < 3              ? 0x7ffff7a00000
			                                     : 0x555555554000;
			uint64_t pc =
			        base + 0x1000 + (s * 131 + k * 17) % 0xf0000;
			o += (size_t)snprintf(pcs + o, sizeof(pcs) - o,
			                      " 0x%" PRIx64, pc);
		}
		line("S %" PRIu64 " %d%s", s + 1, DEPTH, pcs);
	}
	line("#fields K block_size slabs slab_bytes live_blocks live_bytes "
	     "allocs frees peak_live_blocks");
	for (unsigned k = 0; k < NCLASSES; k++) {
		uint64_t slab =
		        cls_blocks[k] * (class_size[k] ? class_size[k] : 65552);
		if (k + 1 < NCLASSES)
			line("K %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			     " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
			     class_size[k], slab / 65536 + 1, slab,
			     cls_blocks[k], cls_bytes[k], 3 * cls_blocks[k],
			     2 * cls_blocks[k], cls_blocks[k] + 1);
		else
			line("K - %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			     " %" PRIu64 " %" PRIu64 " %" PRIu64,
			     cls_blocks[k], slab, cls_blocks[k], cls_bytes[k],
			     3 * cls_blocks[k], 2 * cls_blocks[k],
			     cls_blocks[k]);
	}
	line("#fields X stack live_blocks live_bytes allocs alloc_bytes frees "
	     "free_bytes peak_live_bytes temporary life_allocs life_us");
	for (uint64_t s = 0; s < nstacks; s++) {
		uint64_t b = site_blocks[s], n = site_bytes[s];
		line("X %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
		     " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
		     " %" PRIu64 ",%" PRIu64 ",0,%" PRIu64 " %" PRIu64
		     ",%" PRIu64 ",0,0,0,0,0,0,0,0,0,%" PRIu64,
		     s + 1, b, n, 3 * b, 3 * n, 2 * b, 2 * n, n + n / 10, b, b,
		     b / 2, b - b / 2, b, b / 2, b - b / 2);
	}
	line("#fields A addr size stack gen epoch flags thread leak");
	for (uint64_t i = 0; i < nblocks; i++) {
		uint64_t gen = 3 * i + 2;
		line("A 0x%" PRIx64 " %" PRIu64 " %" PRIu64 " %" PRIu64
		     " %" PRIu64 " - %" PRIu64 " %c",
		     0x7f0000000010 + 32 * i, size_of(i), i % nstacks + 1, gen,
		     gen * NEPOCHS / (gens + 1), i % 4 + 1, "dirr"[i % 4]);
	}
	line("#fields C epoch first_gen mono_ns allocs alloc_bytes frees "
	     "free_bytes peak_bytes name");
	for (unsigned e = 0; e < NEPOCHS; e++) {
		uint64_t a = allocs * e / NEPOCHS, ab = total * e / NEPOCHS;
		uint64_t f = (allocs - nblocks) * e / NEPOCHS;
		uint64_t fb = (total - live) * e / NEPOCHS;
		line("C %u %" PRIu64 " %u000000000 %" PRIu64 " %" PRIu64
		     " %" PRIu64 " %" PRIu64 " %" PRIu64 " stage%%20%u",
		     e, (gens + 1) * e / NEPOCHS, 1 + 20 * e, a, ab, f, fb,
		     live * (e + 1) / NEPOCHS, e);
	}
	line("#fields P mono_ns live_bytes rss_bytes gen reason");
	for (unsigned p = 0; p < 100; p++)
		line("P %u000000000 %" PRIu64 " %" PRIu64 " %" PRIu64
		     " interval",
		     p + 1, live * p / 100, live * p / 50, gens * p / 100);
	if (fprintf(out, "E %" PRIu64 " 0x%08x\n", nlines, (unsigned)crc) < 0 ||
	    fclose(out) != 0) {
		perror("statsdump");
		return 1;
	}
	free(site_blocks);
	free(site_bytes);
	return 0;
}
