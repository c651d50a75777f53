/*
 * tests/unit/dumpgen.c — writing dumps for the tests (see dumpgen.h). The
 * trailer counts the newlines written so far, which is the number of lines
 * before it when the text ends with one; a test that leaves the last line
 * open gets a wrong count, which is then what it tests.
 */
#include "tests/unit/dumpgen.h"
#include "audit/crc32c.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
grow(struct dumpgen *g, size_t add)
{
	if (g->len + add + 1 <= g->cap)
		return;
	size_t cap = g->cap ? g->cap : 4096;
	while (cap < g->len + add + 1)
		cap *= 2;
	g->buf = realloc(g->buf, cap);
	if (g->buf == NULL)
		abort();
	g->cap = cap;
}

void
dumpgen_init(struct dumpgen *g)
{
	memset(g, 0, sizeof(*g));
	grow(g, 0);
	g->buf[0] = '\0';
}

void
dumpgen_free(struct dumpgen *g)
{
	free(g->buf);
	memset(g, 0, sizeof(*g));
}

void
dumpgen_bytes(struct dumpgen *g, const void *p, size_t n)
{
	grow(g, n);
	memcpy(g->buf + g->len, p, n);
	g->len += n;
	g->buf[g->len] = '\0';
}

void
dumpgen_add(struct dumpgen *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	grow(g, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(g->buf + g->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	g->len += (size_t)n;
}

void
dumpgen_sample(struct dumpgen *g, size_t nblocks)
{
	static const char *const flags[] = {"-", "i", "n", "N", "a", "na"};
	dumpgen_add(g,
	            "DBGALLOC-DUMP 1 0\n"
	            "#fields H key value\n"
	            "H producer dbgalloc%%200.1.0\n"
	            "H pid 4242\n"
	            "H exe /usr/local/bin/img%%20srv\n"
	            "H cmdline img%%2520srv%%20--port%%208080\n"
	            "H reason exit\n"
	            "H empty %%\n"
	            "#fields T name value\n"
	            "T live_bytes 1048600\n"
	            "T live_blocks %zu\n"
	            "T limit -\n"
	            "# modules\n"
	            "#fields M id bias lo hi build_id path\n"
	            "M 1 0x55ecae0a5000 0x55ecae0a5000 0x55ecae0a9048 "
	            "378a63ace770e0c38c49fa38205a3c376766b2bf "
	            "/usr/local/bin/img%%20srv\n"
	            "M 2 0x7f5ba282b000 0x7f5ba282b000 0x7f5ba2a0cf50 - "
	            "/lib/x86_64-linux-gnu/libc.so.6\n"
	            "#fields L module vaddr memsz offset perm\n"
	            "L 1 0x0 0x5d8 0x0 r--\n"
	            "L 1 0x1000 0x2c1 0x1000 r-x\n"
	            "L 2 0x28000 0x155000 0x28000 r-x\n"
	            "#fields S id depth pc...\n"
	            "S 7 3 0x55ecae0a6234 0x55ecae0a62eb 0x7f5ba285224a\n"
	            "S 29027 1 0x55ecae0a6300\n"
	            "S 18446744073709551614 0\n"
	            "#fields X stack live_blocks live_bytes allocs "
	            "alloc_bytes frees free_bytes peak_live_bytes "
	            "temporary\n"
	            "X 7 1 1048576 1 1048576 0 0 1048576 0\n"
	            "X 29027 2 24 9 216 7 168 48 3\n"
	            "#fields A addr size stack gen epoch flags\n",
	            nblocks);
	for (size_t i = 0; i < nblocks; i++) {
		static const char *const stacks[] = {
		        "7", "29027", "18446744073709551614", "-"};
		dumpgen_add(g, "A 0x%zx %zu %s %zu %zu %s\n",
		            0x7f0000000010 + 16 * i, i + 1, stacks[i % 4], i,
		            i / 1000, flags[i % 6]);
	}
	dumpgen_add(g, "#fields C epoch first_gen mono_ns name\n"
	               "C 0 0 - start\n"
	               "C 1 100 5000000000 warm%%20up\n"
	               "#fields P mono_ns live_bytes rss_bytes\n"
	               "P 5000000000 97312768 127205376\n"
	               "P 6000000000 - 131072000\n");
}

void
dumpgen_sample1(struct dumpgen *g, size_t nblocks)
{
	static const char leak[] = "dipr-";
	dumpgen_add(g, "DBGALLOC-DUMP 1 1\n"
	               "#fields H key value\n"
	               "H producer dbgalloc%%200.1.0\n"
	               "H pid 4343\n"
	               "H leak_scan yes\n"
	               "H temporary_threshold 2\n"
	               "#fields T name value\n"
	               "T live_bytes 1048600\n"
	               "T peak_epoch 2\n"
	               "#fields M id bias lo hi build_id path\n"
	               "M 1 0x400000 0x400000 0x402000 - /opt/bin/churn\n"
	               "#fields S id depth pc...\n"
	               "S 1 2 0x401010 0x401100\n"
	               "S 2 1 0x401020\n"
	               "#fields K block_size slabs slab_bytes live_blocks "
	               "live_bytes allocs frees peak_live_blocks\n"
	               "K 16 2 131072 5 70 100 95 40\n"
	               "K 48 1 65536 0 0 7 7 3\n"
	               "K 4096 1 65536 1 4000 1 0 1\n"
	               "K - 3 3145728 2 2097152 5 3 4\n"
	               "#fields X stack live_blocks live_bytes allocs "
	               "alloc_bytes frees free_bytes peak_live_bytes "
	               "temporary life_allocs life_us\n"
	               "X 1 2 2097152 5 5242880 3 3145728 3145728 1 1,2 -\n"
	               "X 2 5 70 100 1400 95 1330 700 60 "
	               "60,20,10,5 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,"
	               "16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,"
	               "34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,"
	               "52,53,54,55,56,57,58,59,60,61,62,63\n"
	               "#fields C epoch first_gen mono_ns allocs alloc_bytes "
	               "frees free_bytes peak_bytes name\n"
	               "C 0 0 - 0 0 0 0 0 start\n"
	               "C 1 40 3000000000 40 4000 30 3000 5000 warm%%20up\n"
	               "C 2 90 - 90 9000 80 8000 - serve\n"
	               "#fields P mono_ns live_bytes rss_bytes gen reason\n"
	               "P 3000000000 1000 4096000 40 mark\n"
	               "P 4000000000 - 8192000 - -\n"
	               "#fields A addr size stack gen epoch flags thread "
	               "leak\n");
	for (size_t i = 0; i < nblocks; i++) {
		char thread[24] = "-";
		if (i % 4 != 3)
			snprintf(thread, sizeof(thread), "%zu", i % 3 + 1);
		dumpgen_add(g, "A 0x%zx %zu %s %zu %zu - %s %c\n",
		            0x7f0000000010 + 16 * i, i + 1, i % 2 ? "2" : "1",
		            i, i % 3, thread, leak[i % 5]);
	}
}

void
dumpgen_seal(struct dumpgen *g)
{
	size_t lines = 0;
	for (size_t i = 0; i < g->len; i++)
		lines += g->buf[i] == '\n';
	uint32_t crc = da_crc32c(0, g->buf, g->len);
	dumpgen_add(g, "E %zu 0x%08x\n", lines, (unsigned)crc);
}

void
dumpgen_write(const struct dumpgen *g, const char *path)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(g->buf, 1, g->len, f) != g->len ||
	    fclose(f) != 0)
		abort();
}
