/*
 * decay-fastpath.c — memory freed after a burst must be given back even if
 * the program then only makes small allocations.
 *
 * A program allocates 1 GiB in 1 MiB blocks, touches every page and frees
 * it all; from then on it only makes malloc(64)/free pairs from a slab that
 * already exists (a few thousand a second, as a server between bursts or
 * an idle loop would). Within 5 s the resident set must fall below
 * 100 MiB, with no malloc_trim. Defect: the decay that gives retained
 * memory back was evaluated only on the allocator's slow paths, which such
 * a program never reaches, so the whole gigabyte stayed resident.
 *
 * Skipped (exit 77) when the address-space limit or the available memory
 * could not hold the burst.
 *
 *   decay-fastpath [--expect-dbgalloc]
 *   DA_TEST_BURST_MIB=N   size of the burst in MiB (1024)
 *   DA_TEST_CYCLES=N      bursts, each followed by the check (1; 10 soak)
 */

#include <sys/resource.h>

#include "tests/regress/regress.h"

#define LIMIT_MIB   100
#define WAIT_S      5.0
#define BLOCK_BYTES ((size_t)1 << 20)

/* 0 if n MiB can be mapped and made resident here, else prints why. */
static int
room_for(long mib)
{
	struct rlimit rl;
	long avail;

	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rl.rlim_cur >> 20) < (rlim_t)mib * 2 + 512) {
		printf("SKIP: ulimit -v is %lu MiB, the burst needs %ld MiB "
		       "and room\n",
		       (unsigned long)(rl.rlim_cur >> 20), mib);
		return -1;
	}
	avail = rg_meminfo_kib("MemAvailable");
	if (avail >= 0 && avail / 1024 < mib * 2 + 512) {
		printf("SKIP: %ld MiB available, the burst needs %ld MiB and "
		       "room\n",
		       avail / 1024, mib);
		return -1;
	}
	return 0;
}

/* One burst and the wait; 0 if the memory came back in time. */
static int
burst(void **b, long nblocks, long cycle)
{
	long i, pairs = 0, peak, rss = -1;
	double freed_at, t;
	char *p;

	for (i = 0; i < nblocks; i++) {
		b[i] = rg_malloc(BLOCK_BYTES);
		if (b[i] == NULL) {
			probe_fail(__FILE__, __LINE__, "malloc(1 MiB)");
			nblocks = i;
			break;
		}
		memset(b[i], 1 + (int)(i % 200), BLOCK_BYTES);
	}
	peak = rg_rss_mib();
	for (i = 0; i < nblocks; i++)
		rg_free(b[i]);
	freed_at = rg_now();
	/* Only fast paths from here: 64-byte blocks, a few per millisecond. */
	for (t = 0; t < WAIT_S; t = rg_now() - freed_at) {
		for (i = 0; i < 20; i++) {
			p = rg_malloc(64);
			if (p == NULL) {
				probe_fail(__FILE__, __LINE__, "malloc(64)");
				return -1;
			}
			p[0] = (char)i;
			rg_free(p);
		}
		pairs += 20;
		rg_sleep_ms(5);
		rss = rg_rss_mib();
		if (rss < LIMIT_MIB)
			break;
	}
	printf("burst %ld: peak %ld MiB; %.2f s and %ld malloc(64)/free "
	       "pairs after freeing it: rss %ld MiB\n",
	       cycle, peak, rg_now() - freed_at, pairs, rss);
	fflush(stdout);
	if (rss >= LIMIT_MIB) {
		printf("FAIL: freed memory still resident after %.0f s of "
		       "small allocations (rss %ld MiB, limit %d MiB)\n",
		       WAIT_S, rss, LIMIT_MIB);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	long mib, cycles, c;
	void **b, *warm;
	int ok = 1;

	probe_start(&argc, argv);
	mib = rg_param("DA_TEST_BURST_MIB", 1024, 1024);
	cycles = rg_param("DA_TEST_CYCLES", 1, 10);
	if (room_for(mib) != 0)
		return RG_SKIP;
	printf("%ld x: allocate and touch %ld MiB in 1 MiB blocks, free it, "
	       "then only malloc(64)/free for up to %.0f s\n",
	       cycles, mib, WAIT_S);
	fflush(stdout);
	b = rg_calloc((size_t)mib, sizeof(*b));
	warm = rg_malloc(64); /* the 64-byte slab exists before the burst */
	CHECK(b != NULL && warm != NULL);
	if (b == NULL || warm == NULL)
		return 1;
	for (c = 0; c < cycles && ok; c++)
		ok = burst(b, mib, c) == 0;
	rg_free(warm);
	rg_free(b);
	return ok ? probe_status() : 1;
}
