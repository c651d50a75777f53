/*
 * large — big blocks: 64 KiB to 8 MiB, a few live at a time.
 *
 *   large [SCALE]      operations = 2,500 × SCALE (at least 1)
 *
 * Each operation picks one of SLOTS slots; the block there (if any) is
 * checked and freed, and a new block allocated whose size is log-uniform in
 * [64 KiB, 8 MiB] (a random power of two times 1 to 2, plus an odd tail),
 * so each doubling of the size is equally common. Every new block is touched: one byte written
 * per 4 KiB page, so the cost of faulting fresh pages in (or of reusing
 * pages already mapped) is part of the measure, as it is in real programs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/common.h"

#define OPS      2500.0
#define SLOTS    4
#define MIN_LOG2 16 /* 64 KiB */
#define MAX_LOG2 23 /* 8 MiB */
#define PAGE     4096

struct block {
	unsigned char *p;
	size_t size;
};

static struct block slot[SLOTS];

/* Reads back the bytes touch() wrote, then frees the block. */
static uint64_t
release(struct block *b)
{
	uint64_t sum = 0;

	if (b->p == NULL)
		return 0;
	for (size_t at = 0; at < b->size; at += PAGE)
		sum += b->p[at];
	sum += b->p[b->size - 1];
	free(b->p);
	b->p = NULL;
	return sum;
}

static void
touch(struct block *b, unsigned char v)
{
	for (size_t at = 0; at < b->size; at += PAGE)
		b->p[at] = v;
	b->p[b->size - 1] = v;
}

int
main(int argc, char **argv)
{
	double scaled = OPS * bench_scale("large", argc, argv);
	unsigned ops = scaled < 1.0 ? 1 : (unsigned)(scaled + 0.5);
	uint64_t state = 0x853c49e6748fea9bULL, sum = 0, bytes = 0;

	for (unsigned i = 0; i < ops; i++) {
		uint64_t r = xorshift64(&state);
		struct block *b = &slot[r % SLOTS];
		size_t base = (size_t)1
		              << (MIN_LOG2 + (r >> 8) % (MAX_LOG2 - MIN_LOG2));

		sum += release(b);
		b->size = base + (size_t)(((r >> 32) * base) >> 32) +
		          ((r >> 20) & 0xfff);
		b->p = malloc(b->size);
		if (b->p == NULL) {
			fputs("large: out of memory\n", stderr);
			return 1;
		}
		touch(b, (unsigned char)(i | 1));
		bytes += b->size;
	}
	for (unsigned i = 0; i < SLOTS; i++)
		sum += release(&slot[i]);
	printf("large %u ops %llu MiB checksum %llu\n", ops,
	       (unsigned long long)(bytes >> 20), (unsigned long long)sum);
	return 0;
}
