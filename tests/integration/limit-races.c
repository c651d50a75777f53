/*
 * limit-races.c — what the limit promises under threads, linked with
 * libdbgalloc (cmocka). Both failed before the accounting was fixed:
 *
 * 1. dbgalloc_stats_get() sampled while 8 threads allocate at the limit
 *    reported live_bytes above the limit: an allocation's bytes are added
 *    to its thread's count before the limit refuses it, and the sum over
 *    the threads saw them in between (now each thread counts at most its
 *    grant).
 * 2. A realloc to a smaller size was refused (NULL, ENOMEM) under
 *    threads: realloc gave the old size back to the shared reserve before
 *    it counted the new one, and another thread took it in between.
 * In one thread neither happens (limit.c checks both exactly there).
 */

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shim/dbgalloc.h"
#include "tests/integration/limitload.h" /* limitload_next */

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

enum { THREADS = 8 };

static void *(*volatile fn_malloc)(size_t) = malloc;
static void *(*volatile fn_realloc)(void *, size_t) = realloc;
static void (*volatile fn_free)(void *) = free;

static struct dbgalloc_stats
stats(void)
{
	struct dbgalloc_stats st;

	dbgalloc_stats_get(&st);
	return st;
}

static int
no_limit(void **state)
{
	(void)state;
	dbgalloc_limit_set(0);
	return 0;
}

static atomic_int big_done;

/* Keeps up to 4 blocks of 64 to 128 KiB, freeing and allocating them at
 * random: at a limit of 1 MiB, 8 of these are refused again and again. */
static void *
big_worker(void *arg)
{
	void *held[4] = {0};
	uint64_t s = (uintptr_t)arg;

	for (int i = 0; i < 200000; i++) {
		uint64_t x = limitload_next(&s);
		unsigned k = (unsigned)(x % 4);

		if (held[k] != NULL) {
			fn_free(held[k]);
			held[k] = NULL;
		} else {
			held[k] = fn_malloc(64 * KiB +
			                    (size_t)((x >> 8) % (64 * KiB)));
		}
	}
	for (int k = 0; k < 4; k++)
		fn_free(held[k]);
	atomic_fetch_add(&big_done, 1);
	return NULL;
}

/* Samples dbgalloc_stats_get() while 8 big_workers run at a limit of
 * 1 MiB: live_bytes never above the limit, nor peak_bytes after. */
static void
test_sampled_live_within_limit(void **state)
{
	pthread_t t[THREADS];
	unsigned long samples = 0, over = 0;
	size_t limit, highest = 0;

	(void)state;
	assert_true(stats().peak_bytes < MiB);
	limit = stats().live_bytes + MiB;
	dbgalloc_limit_set(limit);
	for (uintptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, big_worker,
		                                (void *)(i + 1)),
		                 0);
	while (atomic_load(&big_done) < THREADS) {
		struct dbgalloc_stats st = stats();

		samples++;
		if (st.live_bytes > limit)
			over++;
		if (st.live_bytes > highest)
			highest = st.live_bytes;
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	print_message("limit %zu: %lu of %lu samples above it, the highest "
	              "%zu; peak_bytes %zu\n",
	              limit, over, samples, highest, stats().peak_bytes);
	assert_int_equal(over, 0);
	assert_true(stats().peak_bytes <= limit);
}

static atomic_ulong shrinks, shrinks_refused;

/* Allocates blocks of 64 to 256 KiB and shrinks each by one byte. */
static void *
shrink_worker(void *arg)
{
	uint64_t s = (uintptr_t)arg;

	for (int i = 0; i < 200000; i++) {
		size_t n =
		        64 * KiB + (size_t)(limitload_next(&s) % (192 * KiB));
		void *p = fn_malloc(n), *q;

		if (p == NULL)
			continue;
		atomic_fetch_add(&shrinks, 1);
		q = fn_realloc(p, n - 1);
		if (q == NULL) {
			atomic_fetch_add(&shrinks_refused, 1);
			q = p;
		}
		fn_free(q);
	}
	return NULL;
}

/* Under a limit of 1 MiB, 8 threads: a shrinking realloc is never
 * refused (it takes the live bytes down, never up). */
static void
test_shrinking_realloc_never_refused(void **state)
{
	pthread_t t[THREADS];

	(void)state;
	dbgalloc_limit_set(stats().live_bytes + MiB);
	for (uintptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, shrink_worker,
		                                (void *)(i + 1)),
		                 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	print_message("%lu of %lu shrinking reallocs refused\n",
	              atomic_load(&shrinks_refused), atomic_load(&shrinks));
	assert_true(atomic_load(&shrinks) > 0);
	assert_int_equal(atomic_load(&shrinks_refused), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_sampled_live_within_limit,
	                                  no_limit),
	        cmocka_unit_test_teardown(test_shrinking_realloc_never_refused,
	                                  no_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
