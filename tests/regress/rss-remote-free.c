/*
 * rss-remote-free.c — memory freed by another thread must be given back.
 *
 * The main thread (which lives for the whole run) allocates about 32 MiB of
 * blocks of one size and fills them; a consumer thread, also alive
 * throughout, frees every one of them. The next round does the same with
 * the next size class, from 16 bytes to 32 KiB. At most 32 MiB plus the
 * pointer array is ever live, so in every round the resident set must stay
 * within twice that plus 16 MiB of slack, the blocks counted with their
 * debugging overhead (a 16-byte block takes 48 bytes: a 16-byte header and
 * an 8-byte canary, rounded up to a size class, so 3 times the 32 MiB);
 * and after malloc_trim(0) it must
 * fall below 40 MiB. Defect: slabs emptied only by remote frees were never
 * released (not even by malloc_trim), so every size class kept its peak.
 *
 *   rss-remote-free [--expect-dbgalloc]
 *   DA_TEST_SWEEPS=N   passes over the size classes (3; 50 under soak)
 */

#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>

#include "tests/regress/regress.h"

#define LIVE_BYTES  ((size_t)32 << 20)
#define SLACK_MIB   16
#define TRIM_MIB    40
#define STOP_FACTOR 4 /* ends a failing run before it grows further */

static void **blocks;
static size_t nblocks, block_size;
static unsigned char round_tag;
static sem_t work, done;
static int quit;

/* The consumer: frees the round's blocks, checking their first byte. */
static void *
consumer(void *arg)
{
	size_t i, bad;

	(void)arg;
	for (;;) {
		while (sem_wait(&work) != 0)
			;
		if (__atomic_load_n(&quit, __ATOMIC_ACQUIRE))
			return NULL;
		bad = 0;
		for (i = 0; i < nblocks; i++) {
			unsigned char *b = blocks[i];

			if (b[0] != round_tag || b[block_size - 1] != round_tag)
				bad++;
			rg_free(b);
			blocks[i] = NULL;
		}
		if (bad != 0)
			probe_fail(__FILE__, __LINE__,
			           "block contents changed");
		sem_post(&done);
	}
}

/* 16 .. 128 in steps of 16, then four steps per doubling up to 32 KiB. */
static size_t
size_table(size_t *sizes, size_t max)
{
	size_t n = 0, s, base;

	for (s = 16; s <= 128 && n < max; s += 16)
		sizes[n++] = s;
	for (base = 128; base < 32768; base *= 2)
		for (s = base + base / 4; s <= 2 * base && n < max;
		     s += base / 4)
			sizes[n++] = s;
	return n;
}

int
main(int argc, char **argv)
{
	size_t sizes[64], nsizes, r, i, array_bytes;
	long sweeps, sweep, base, bound, peak = 0, trimmed;
	pthread_t t;
	double start = rg_now();
	int ok = 1, stop = 0;

	probe_start(&argc, argv);
	sweeps = rg_param("DA_TEST_SWEEPS", 3, 50);
	nsizes = size_table(sizes, sizeof(sizes) / sizeof(sizes[0]));

	base = rg_rss_mib();
	array_bytes = LIVE_BYTES / 16 * sizeof(void *);
	blocks = rg_malloc(array_bytes);
	CHECK(blocks != NULL);
	if (blocks == NULL)
		return 1;
	memset(blocks, 0, array_bytes);
	bound = base + 2 * (long)((3 * LIVE_BYTES + array_bytes) >> 20) +
	        SLACK_MIB;
	printf("%zu size classes (16 .. %zu bytes) x %ld sweeps, %zu MiB "
	       "live per round; bound %ld MiB (base %ld MiB)\n",
	       nsizes, sizes[nsizes - 1], sweeps, LIVE_BYTES >> 20, bound,
	       base);
	fflush(stdout);

	CHECK(sem_init(&work, 0, 0) == 0);
	CHECK(sem_init(&done, 0, 0) == 0);
	CHECK(pthread_create(&t, NULL, consumer, NULL) == 0);

	for (sweep = 0; sweep < sweeps && !stop; sweep++) {
		for (r = 0; r < nsizes && !stop; r++) {
			long after_alloc, after_free;

			block_size = sizes[r];
			nblocks = LIVE_BYTES / block_size;
			round_tag = (unsigned char)(r + 1);
			for (i = 0; i < nblocks; i++) {
				blocks[i] = rg_malloc(block_size);
				if (blocks[i] == NULL) {
					probe_fail(__FILE__, __LINE__,
					           "malloc returned NULL");
					nblocks = i;
					ok = 0;
					stop = 1;
					break;
				}
				memset(blocks[i], round_tag, block_size);
			}
			after_alloc = rg_rss_mib();
			sem_post(&work);
			while (sem_wait(&done) != 0)
				;
			after_free = rg_rss_mib();
			if (after_alloc > peak)
				peak = after_alloc;
			if ((after_alloc > bound || after_free > bound) && ok) {
				printf("FAIL: sweep %ld, size %zu: rss %ld MiB "
				       "with the blocks live, %ld MiB after "
				       "the other thread freed them (bound "
				       "%ld MiB)\n",
				       sweep, block_size, after_alloc,
				       after_free, bound);
				ok = 0;
			}
			if (r % 8 == 7 || r == nsizes - 1)
				printf("sweep %ld, size %5zu: rss %ld MiB "
				       "live, "
				       "%ld MiB freed\n",
				       sweep, block_size, after_alloc,
				       after_free);
			fflush(stdout);
			/* Past the bound, go on a little to show the trend. */
			if (after_alloc > STOP_FACTOR * bound) {
				printf("stopping: rss %ld MiB\n", after_alloc);
				stop = 1;
			}
		}
	}

	__atomic_store_n(&quit, 1, __ATOMIC_RELEASE);
	sem_post(&work);
	CHECK(pthread_join(t, NULL) == 0);

	malloc_trim(0);
	trimmed = rg_rss_mib();
	printf("after malloc_trim(0): rss %ld MiB (must be < %d); peak %ld "
	       "MiB; %.1f s\n",
	       trimmed, TRIM_MIB, peak, rg_now() - start);
	if (trimmed >= TRIM_MIB) {
		printf("FAIL: freed memory kept after malloc_trim(0)\n");
		ok = 0;
	}
	rg_free(blocks);
	return ok ? probe_status() : 1;
}
