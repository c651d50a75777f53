/*
 * remote-free-release.c — a slab emptied only by another thread's frees
 * must be given back while its owner lives on, without malloc_trim.
 *
 * The main thread (the owner, alive throughout) allocates 64 MiB of
 * 1 KiB blocks and fills them; a second thread, which also stays alive,
 * frees them all. The owner then goes on allocating and freeing blocks of
 * other size classes (48 bytes, 6 KiB) for up to 3 s; once it has done so
 * for 2 s the resident set must be back within 16 MiB of what it was
 * before the 64 MiB were allocated. No malloc_trim is called. (1 KiB is
 * above glibc's fastbin sizes, so glibc merges the chunks and trims the
 * heap top on free, as soon as they are freed.) Defect: only the owner's
 * own frees could release a slab; slabs emptied by remote frees stayed on
 * the owner's lists for good.
 *
 *   remote-free-release [--expect-dbgalloc]
 *   DA_TEST_CYCLES=N   allocate/free-remotely/check cycles (1; 20 soak)
 */

#include <pthread.h>
#include <semaphore.h>

#include "tests/regress/regress.h"

#define LIVE_BYTES  ((size_t)64 << 20)
#define BLOCK_BYTES 1024
#define NBLOCKS     (LIVE_BYTES / BLOCK_BYTES)
#define SLACK_MIB   16
#define SETTLE_S    2.0
#define GIVE_UP_S   3.0

static void *blocks[NBLOCKS];
static sem_t go, freed;
static int quit;

/* The remote freer: frees every block when told, then waits again. */
static void *
freer(void *arg)
{
	size_t i, bad;

	(void)arg;
	for (;;) {
		while (sem_wait(&go) != 0)
			;
		if (__atomic_load_n(&quit, __ATOMIC_ACQUIRE))
			return NULL;
		bad = 0;
		for (i = 0; i < NBLOCKS; i++) {
			unsigned char *b = blocks[i];

			if (b[0] != 0xa5 || b[BLOCK_BYTES - 1] != 0xa5)
				bad++;
			rg_free(b);
			blocks[i] = NULL;
		}
		if (bad != 0)
			probe_fail(__FILE__, __LINE__,
			           "block contents changed");
		sem_post(&freed);
	}
}

/* Owner activity in other size classes: some allocations, a pause. */
static void
other_classes(void **keep, size_t nkeep, unsigned *x)
{
	size_t i, k;

	for (i = 0; i < 64; i++) {
		*x = *x * 1103515245u + 12345u;
		k = (*x >> 8) % nkeep;
		rg_free(keep[k]);
		keep[k] = rg_malloc(k % 2 ? 48 : 6144);
		if (keep[k] == NULL)
			probe_fail(__FILE__, __LINE__, "malloc");
		else
			memset(keep[k], 1, 48);
	}
	rg_sleep_ms(10);
}

/* One cycle; 0 if the remotely freed memory came back. */
static int
cycle(long c)
{
	void *keep[128] = {0};
	long before, full, rss = -1;
	double t0, t;
	unsigned x = 1;
	size_t i;

	before = rg_rss_mib();
	for (i = 0; i < NBLOCKS; i++) {
		blocks[i] = rg_malloc(BLOCK_BYTES);
		if (blocks[i] == NULL) {
			probe_fail(__FILE__, __LINE__, "malloc(1 KiB)");
			return -1;
		}
		memset(blocks[i], 0xa5, BLOCK_BYTES);
	}
	full = rg_rss_mib();
	sem_post(&go);
	while (sem_wait(&freed) != 0)
		;
	t0 = rg_now();
	for (t = 0; t < GIVE_UP_S; t = rg_now() - t0) {
		other_classes(keep, sizeof(keep) / sizeof(keep[0]), &x);
		rss = rg_rss_mib();
		if (t >= SETTLE_S && rss <= before + SLACK_MIB)
			break;
	}
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		rg_free(keep[i]);
	printf("cycle %ld: rss %ld MiB before, %ld MiB with the blocks, %ld "
	       "MiB %.1f s after the other thread freed them\n",
	       c, before, full, rss, rg_now() - t0);
	if (rss > before + SLACK_MIB) {
		printf("FAIL: %ld MiB freed by another thread still resident "
		       "(limit %ld MiB)\n",
		       rss - before, (long)SLACK_MIB);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	long cycles, c;
	pthread_t t;
	int ok = 1;

	probe_start(&argc, argv);
	cycles = rg_param("DA_TEST_CYCLES", 1, 20);
	printf("%ld x: the owner allocates %zu MiB of %d-byte blocks, another "
	       "thread frees them, the owner goes on in other classes\n",
	       cycles, LIVE_BYTES >> 20, BLOCK_BYTES);
	fflush(stdout);
	CHECK(sem_init(&go, 0, 0) == 0);
	CHECK(sem_init(&freed, 0, 0) == 0);
	CHECK(pthread_create(&t, NULL, freer, NULL) == 0);
	for (c = 0; c < cycles && ok; c++)
		ok = cycle(c) == 0;
	__atomic_store_n(&quit, 1, __ATOMIC_RELEASE);
	sem_post(&go);
	CHECK(pthread_join(t, NULL) == 0);
	return ok ? probe_status() : 1;
}
