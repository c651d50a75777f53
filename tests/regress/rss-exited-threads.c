/*
 * rss-exited-threads.c — blocks of threads that have exited, freed by the
 * main thread, must be given back without malloc_trim.
 *
 * Each round starts a worker that allocates about 16 MiB of blocks of one
 * size, fills them and exits; once it is joined, the main thread frees them.
 * The size changes every round (16 bytes .. 16 KiB). At most 16 MiB plus
 * the pointer array is live, so the resident set must stay within twice
 * that plus 16 MiB in every round, with no malloc_trim; at the end,
 * malloc_trim(0) must bring it below 40 MiB. Defect: slabs left by exited
 * threads and emptied by other threads were only released by malloc_trim
 * or when a thread happened to adopt a slab of that very class.
 *
 *   rss-exited-threads [--expect-dbgalloc]
 *   DA_TEST_ROUNDS=N   worker threads (100; 3000 under soak)
 */

#include <malloc.h>
#include <pthread.h>

#include "tests/regress/regress.h"

#define LIVE_BYTES  ((size_t)16 << 20)
#define SLACK_MIB   16
#define TRIM_MIB    40
#define STOP_FACTOR 4 /* ends a failing run before it grows further */

static const size_t sizes[] = {
        16,   24,   32,   48,   64,   96,    128,   160,   192,  256,
        320,  384,  512,  640,  768,  1024,  1280,  1536,  2048, 2560,
        3072, 4096, 5120, 6144, 8192, 10240, 12288, 16384, 40,   80,
        112,  224,  448,  896,  1792, 3584,  7168,  14336,
};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

struct job {
	void **blocks;
	size_t n, size;
	unsigned char tag;
};

static void *
worker(void *arg)
{
	struct job *j = arg;
	size_t i;

	for (i = 0; i < j->n; i++) {
		j->blocks[i] = rg_malloc(j->size);
		if (j->blocks[i] == NULL) {
			probe_fail(__FILE__, __LINE__, "malloc returned NULL");
			j->n = i;
			break;
		}
		memset(j->blocks[i], j->tag, j->size);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct job j;
	size_t i, array_bytes, bad;
	long rounds, r, base, bound, rss, peak = 0, trimmed;
	double start = rg_now();
	pthread_t t;
	int ok = 1;

	probe_start(&argc, argv);
	rounds = rg_param("DA_TEST_ROUNDS", 100, 3000);

	base = rg_rss_mib();
	array_bytes = LIVE_BYTES / sizes[0] * sizeof(void *);
	j.blocks = rg_malloc(array_bytes);
	CHECK(j.blocks != NULL);
	if (j.blocks == NULL)
		return 1;
	memset(j.blocks, 0, array_bytes);
	bound = base + 2 * (long)((LIVE_BYTES + array_bytes) >> 20) + SLACK_MIB;
	printf("%ld rounds: a thread allocates %zu MiB of one size and exits, "
	       "main frees; bound %ld MiB (base %ld MiB)\n",
	       rounds, LIVE_BYTES >> 20, bound, base);
	fflush(stdout);

	for (r = 0; r < rounds; r++) {
		j.size = sizes[r % NSIZES];
		j.n = LIVE_BYTES / j.size;
		j.tag = (unsigned char)(r | 1);
		if (pthread_create(&t, NULL, worker, &j) != 0) {
			probe_fail(__FILE__, __LINE__, "pthread_create");
			break;
		}
		CHECK(pthread_join(t, NULL) == 0);
		bad = 0;
		for (i = 0; i < j.n; i++) {
			unsigned char *b = j.blocks[i];

			if (b[0] != j.tag || b[j.size - 1] != j.tag)
				bad++;
			rg_free(b);
		}
		CHECK(bad == 0);
		rss = rg_rss_mib();
		if (rss > peak)
			peak = rss;
		if (rss > bound && ok) {
			printf("FAIL: round %ld (size %zu): rss %ld MiB after "
			       "freeing the blocks of exited threads (bound "
			       "%ld MiB)\n",
			       r + 1, j.size, rss, bound);
			ok = 0;
		}
		if (r % 20 == 19 || r == rounds - 1)
			printf("round %ld: rss %ld MiB\n", r + 1, rss);
		fflush(stdout);
		/* Past the bound, go on a little to show the trend. */
		if (rss > STOP_FACTOR * bound) {
			printf("stopping at round %ld: rss %ld MiB\n", r + 1,
			       rss);
			break;
		}
	}

	malloc_trim(0);
	trimmed = rg_rss_mib();
	printf("after malloc_trim(0): rss %ld MiB (must be < %d); peak %ld "
	       "MiB; %.1f s\n",
	       trimmed, TRIM_MIB, peak, rg_now() - start);
	if (trimmed >= TRIM_MIB) {
		printf("FAIL: freed memory kept after malloc_trim(0)\n");
		ok = 0;
	}
	rg_free(j.blocks);
	return ok ? probe_status() : 1;
}
