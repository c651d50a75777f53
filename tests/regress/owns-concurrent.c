/*
 * owns-concurrent.c — dbgalloc_owns() on blocks another thread is freeing.
 *
 * dbgalloc.h promises that any pointer may be passed to dbgalloc_owns(),
 * freed ones included, and that it is never dereferenced. One thread keeps
 * allocating, reallocating and freeing blocks of every kind: huge ones of
 * 100 MiB (too big to be cached, so unmapped on free) and 3-6 MiB, large
 * ones (300 KiB, 1 MiB) and small ones; it publishes the addresses. Two
 * threads ask dbgalloc_owns() about the published addresses, addresses
 * inside those blocks and just before them, all the time: every answer
 * must be 0 or 1, and the process must not crash. Defect: the lookup read
 * the region header after finding it in the page map, with nothing keeping
 * it mapped, and crashed (SIGSEGV) when the block was unmapped meanwhile.
 *
 * Without dbgalloc (the plain build run on its own) the churn runs but
 * dbgalloc_owns() cannot be called; the program says so.
 *
 *   owns-concurrent [--expect-dbgalloc]
 *   DA_TEST_SECONDS=N   how long the threads run (3; 600 under soak)
 */

#include <pthread.h>

#include "tests/regress/regress.h"

enum { NASKERS = 2, NSHARED = 8 };

#define HUGE_UNCACHED ((size_t)100 << 20)

/* The published blocks: address and size, each read without a lock. */
static char *shared_p[NSHARED];
static size_t shared_n[NSHARED];
static int stop;
static long queries, bad_answers, cycles;
static int (*owns)(const void *);

static void
publish(int i, char *p, size_t n)
{
	__atomic_store_n(&shared_n[i], n, __ATOMIC_RELAXED);
	__atomic_store_n(&shared_p[i], p, __ATOMIC_RELEASE);
}

static char *
fresh(size_t n)
{
	char *p = rg_malloc(n);

	if (p == NULL) {
		probe_fail(__FILE__, __LINE__, "malloc returned NULL");
		return NULL;
	}
	memset(p, 0x3c, n < 8192 ? n : 8192);
	return p;
}

/* Allocates, publishes, reallocates and frees, cycle after cycle. */
static void *
churn(void *arg)
{
	static const size_t sizes[NSHARED] = {
	        HUGE_UNCACHED,
	        HUGE_UNCACHED - 20 * 4096,
	        (size_t)3 << 20,
	        (size_t)1 << 20,
	        300 << 10,
	        5000,
	        64,
	        24,
	};
	char *b[NSHARED], *q;
	unsigned x = 7;
	int i, k;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < NSHARED; i++) {
			b[i] = fresh(sizes[i]);
			publish(i, b[i], sizes[i]);
		}
		/* Grow two of them in place or by moving them. */
		for (i = 2; i < 4; i++) {
			q = rg_realloc(b[i], sizes[i] * 2);
			if (q == NULL) {
				probe_fail(__FILE__, __LINE__, "realloc");
				continue;
			}
			b[i] = q;
			publish(i, q, sizes[i] * 2);
		}
		/* Free in a different order every time; keep the addresses
		 * published: freed pointers are valid questions too. */
		x = x * 1103515245u + 12345u;
		for (k = 0; k < NSHARED; k++) {
			i = (int)((x >> 8) + (unsigned)k * 3) % NSHARED;
			rg_free(b[i]);
		}
		__atomic_add_fetch(&cycles, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void
ask(const void *p)
{
	int r = owns(p);

	if (r != 0 && r != 1) {
		if (__atomic_add_fetch(&bad_answers, 1, __ATOMIC_RELAXED) < 5)
			fprintf(stderr, "FAIL: dbgalloc_owns(%p) = %d\n", p, r);
	}
}

static void *
asker(void *arg)
{
	long n = 0;
	char *p, *own;
	size_t len;
	int i, j;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		/* The huge blocks (0 to 2) are the ones unmapped. */
		for (j = 0; j < NSHARED + 6; j++) {
			i = j < NSHARED ? j : (j - NSHARED) % 3;
			p = __atomic_load_n(&shared_p[i], __ATOMIC_ACQUIRE);
			len = __atomic_load_n(&shared_n[i], __ATOMIC_RELAXED);
			if (p == NULL)
				continue;
			ask(p);
			ask(p + 4096);
			ask(p + len / 2);
			ask((const void *)((uintptr_t)p - 16));
			n += 4;
		}
		/* A block of its own must be owned, and not once freed. */
		own = rg_malloc(100);
		if (own == NULL || owns(own) != 1)
			probe_fail(__FILE__, __LINE__, "own block not owned");
		rg_free(own);
	}
	__atomic_add_fetch(&queries, n, __ATOMIC_RELAXED);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t c, a[NASKERS];
	long seconds;
	double start;
	int i, naskers = 0;

	probe_start(&argc, argv);
	seconds = rg_param("DA_TEST_SECONDS", 3, 600);
	probe_watchdog((unsigned)seconds + 120);
	if (probe_active()) {
		owns = dbgalloc_owns;
		naskers = NASKERS;
	} else {
		printf("dbgalloc absent: dbgalloc_owns() cannot be called, "
		       "only the churn runs\n");
	}
	printf("%d threads ask dbgalloc_owns() for %ld s while one thread "
	       "frees and reallocates\n",
	       naskers, seconds);
	fflush(stdout);
	start = rg_now();
	CHECK(pthread_create(&c, NULL, churn, NULL) == 0);
	for (i = 0; i < naskers; i++)
		CHECK(pthread_create(&a[i], NULL, asker, NULL) == 0);
	while (rg_now() - start < (double)seconds)
		rg_sleep_ms(50);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	CHECK(pthread_join(c, NULL) == 0);
	for (i = 0; i < naskers; i++)
		CHECK(pthread_join(a[i], NULL) == 0);
	printf("%ld queries during %ld free/realloc cycles: %ld bad answers\n",
	       queries, cycles, bad_answers);
	fflush(stdout);
	CHECK(bad_answers == 0);
	CHECK(cycles > 0);
	return probe_status();
}
