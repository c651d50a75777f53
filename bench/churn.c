/*
 * churn — the small-block hot path: 10M malloc/free pairs of 8–512 bytes
 * with a working set of 10k live blocks (the loop the speed budget in
 * bench/README.md is stated for).
 *
 *   churn [SCALE]      pairs = 10,000,000 × SCALE (default 1; 0 is allowed)
 *
 * Each step replaces a random slot: the old block's first byte is read into
 * the checksum, the block freed, a new block of a random size allocated and
 * its first byte written. The PRNG is xorshift64 and ranges use a multiply,
 * not a division, so the allocator's cost dominates the loop. The checksum
 * printed at the end depends only on the sequence of sizes, never on
 * addresses, so every allocator must print the same line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/common.h"

#define SLOTS    10000
#define PAIRS    10000000.0
#define MIN_SIZE 8
#define MAX_SIZE 512

static unsigned char *slot[SLOTS];

static unsigned char *
xmalloc(size_t n)
{
	unsigned char *p = malloc(n);

	if (p == NULL) {
		fputs("churn: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

int
main(int argc, char **argv)
{
	uint64_t pairs = (uint64_t)(PAIRS * bench_scale("churn", argc, argv));
	uint64_t state = 0x9e3779b97f4a7c15ULL, sum = 0;

	for (uint32_t i = 0; i < SLOTS; i++) {
		uint64_t r = xorshift64(&state);

		slot[i] = xmalloc(MIN_SIZE + below(r, MAX_SIZE - MIN_SIZE + 1));
		slot[i][0] = (unsigned char)i;
	}
	for (uint64_t i = 0; i < pairs; i++) {
		uint64_t r = xorshift64(&state);
		uint32_t k = below(r, SLOTS);
		size_t size =
		        MIN_SIZE + below(r << 32, MAX_SIZE - MIN_SIZE + 1);

		sum += slot[k][0];
		free(slot[k]);
		slot[k] = xmalloc(size);
		slot[k][0] = (unsigned char)i;
	}
	for (uint32_t i = 0; i < SLOTS; i++) {
		sum += slot[i][0];
		free(slot[i]);
	}
	printf("churn %llu pairs checksum %llu\n", (unsigned long long)pairs,
	       (unsigned long long)sum);
	return 0;
}
