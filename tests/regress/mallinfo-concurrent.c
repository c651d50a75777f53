/*
 * mallinfo-concurrent.c — mallinfo2() must tell the truth while other
 * threads free aligned blocks.
 *
 * Two threads allocate and free aligned blocks all the time
 * (aligned_alloc with alignments 64 .. 4096, mostly small blocks, filled
 * with user data), keeping 64 each live; the main thread
 * calls mallinfo2() in a loop. Every reading must have uordblks <= arena,
 * and neither may be absurd (over 1 TiB). Defect: the heap walk read an
 * aligned block's offset word after the owner had freed the block (the
 * word was by then a free-list link or user data) and subtracted it from
 * the block's size, so uordblks wrapped to about 2^64.
 *
 *   mallinfo-concurrent [--expect-dbgalloc]
 *   DA_TEST_SECONDS=N   how long mallinfo2() is called (3; 600 under soak)
 */

#include <malloc.h>
#include <pthread.h>

#include "tests/regress/regress.h"

enum { NWORKERS = 2, NLIVE = 64, MAX_REPORTS = 5 };

#define ABSURD ((size_t)1 << 40)

static int stop;
static long worker_ops;

static void *
worker(void *arg)
{
	void *live[NLIVE] = {0};
	unsigned x = (unsigned)(uintptr_t)arg * 69069u + 3;
	size_t align, size;
	unsigned long i;
	unsigned r;
	void *p;

	for (i = 0; !__atomic_load_n(&stop, __ATOMIC_ACQUIRE); i++) {
		x = x * 1103515245u + 12345u;
		r = x >> 6;
		if (r % 8 != 0) {
			/* Mostly small blocks in a slab of a size class. */
			align = (size_t)64 << (r % 3); /* 64 .. 256 */
			size = 16 * (1 + (r >> 3) % 32);
		} else {
			align = (size_t)512 << ((r >> 3) % 4); /* .. 4096 */
			size = align + (r >> 5) % 64;
		}
		rg_free(live[(r >> 12) % NLIVE]);
		p = rg_aligned_alloc(align, size);
		if (p == NULL || (uintptr_t)p % align != 0) {
			probe_fail(__FILE__, __LINE__, "aligned_alloc");
			live[(r >> 12) % NLIVE] = NULL;
			continue;
		}
		/* User data that makes a wild size if read as an offset. */
		memset(p, 0x41 + (int)(i % 16), size < 256 ? size : 256);
		live[(r >> 12) % NLIVE] = p;
		if (i % 256 == 0)
			__atomic_add_fetch(&worker_ops, 256, __ATOMIC_RELAXED);
	}
	for (i = 0; i < NLIVE; i++)
		rg_free(live[i]);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t[NWORKERS];
	long seconds, readings = 0, bad = 0;
	size_t worst = 0;
	struct mallinfo2 mi;
	void *keep[500];
	double start;
	int i;

	probe_start(&argc, argv);
	seconds = rg_param("DA_TEST_SECONDS", 3, 600);
	probe_watchdog((unsigned)seconds + 120);
	printf("mallinfo2() for %ld s while %d threads free aligned blocks\n",
	       seconds, NWORKERS);
	fflush(stdout);
	/* Some blocks of the main thread, so the heap is not only theirs. */
	for (i = 0; i < 500; i++) {
		keep[i] = rg_malloc((size_t)(i % 50) * 16 + 16);
		CHECK(keep[i] != NULL);
	}
	for (i = 0; i < NWORKERS; i++)
		CHECK(pthread_create(&t[i], NULL, worker,
		                     (void *)(uintptr_t)i) == 0);
	start = rg_now();
	while (rg_now() - start < (double)seconds) {
		mi = mallinfo2();
		readings++;
		if (mi.uordblks > worst)
			worst = mi.uordblks;
		if (mi.uordblks > mi.arena || mi.uordblks > ABSURD ||
		    mi.arena > ABSURD) {
			if (++bad <= MAX_REPORTS)
				printf("FAIL: mallinfo2: uordblks %zu, arena "
				       "%zu, fordblks %zu\n",
				       mi.uordblks, mi.arena, mi.fordblks);
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NWORKERS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	for (i = 0; i < 500; i++)
		rg_free(keep[i]);
	printf("%ld readings (%ld aligned allocations): largest uordblks %zu, "
	       "%ld bad\n",
	       readings, worker_ops, worst, bad);
	fflush(stdout);
	CHECK(bad == 0);
	return probe_status();
}
