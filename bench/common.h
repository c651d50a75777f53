/*
 * bench/common.h — what every benchmark program shares: a fast PRNG (so
 * the generator does not dominate the allocator under test), a bounded
 * draw, and the scale argument.
 */
#ifndef DA_BENCH_COMMON_H
#define DA_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline uint64_t
xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* A value in [0, n) from the high 32 bits of r (Lemire's reduction). */
static inline uint32_t
below(uint64_t r, uint32_t n)
{
	return (uint32_t)(((r >> 32) * (uint64_t)n) >> 32);
}

/* argv[1], a non-negative factor for the workload's size (default 1);
 * exits 2 on anything else. */
static inline double
bench_scale(const char *name, int argc, char **argv)
{
	double scale = argc > 1 ? strtod(argv[1], NULL) : 1.0;

	if (!(scale >= 0.0)) {
		fprintf(stderr, "%s: bad scale '%s'\n", name, argv[1]);
		exit(2);
	}
	return scale;
}

#endif /* DA_BENCH_COMMON_H */
