/*
 * Unit tests of slabs and thread heaps (alloc/heap.c): distinct aligned
 * blocks, reuse, slabs given back when empty, frees from other threads,
 * threads that exit with blocks still out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"

#define N 5000

static int
cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

static int
owns(void *p)
{
	struct da_block b;
	return da_alloc_owns(p, &b);
}

static void
blocks_are_distinct_aligned_and_live(void **state)
{
	(void)state;
	static void *p[N];
	for (int i = 0; i < N; i++) {
		p[i] = da_alloc_malloc(24);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % DA_ALIGN, 0);
		assert_true(owns(p[i]));
		memset(p[i], 0xab, 24);
	}
	void *sorted[N];
	memcpy(sorted, p, sizeof(sorted));
	qsort(sorted, N, sizeof(void *), cmp_ptr);
	for (int i = 1; i < N; i++)
		assert_true((char *)sorted[i] - (char *)sorted[i - 1] >= 32);
	for (int i = 0; i < N; i++) {
		struct da_block bad;
		assert_int_equal(da_alloc_free(p[i], &bad), DA_FREE_OK);
		assert_false(owns(p[i]));
	}
}

static void
freed_block_is_reused_first(void **state)
{
	(void)state;
	void *p = da_alloc_malloc(100);
	struct da_block bad;
	assert_int_equal(da_alloc_free(p, &bad), DA_FREE_OK);
	void *q = da_alloc_malloc(100);
	assert_ptr_equal(p, q);
	assert_int_equal(da_alloc_free(q, &bad), DA_FREE_OK);
}

/* Blocks spanning several slabs: once all are freed, the slabs that are not
 * the class's current one go back to their chunk. */
static void
empty_slabs_are_given_back(void **state)
{
	(void)state;
	static void *p[4 * N];
	for (int i = 0; i < 4 * N; i++)
		p[i] = da_alloc_malloc(200);
	struct da_heap *h = da_tls_heap;
	unsigned c = da_class_of(200);
	struct da_block bad;
	for (int i = 0; i < 4 * N; i++)
		assert_int_equal(da_alloc_free(p[i], &bad), DA_FREE_OK);
	int given_back = 0;
	for (int i = 0; i < 4 * N; i++) {
		struct da_chunk *ch = (struct da_chunk *)da_pagemap_find(p[i]);
		struct da_slab *s = da_chunk_slab_at(ch, p[i]);
		if (s == h->cur[c])
			continue;
		assert_true(s->kind != DA_SLAB_CLASS || s->cls != c);
		given_back++;
	}
	assert_true(given_back > 3 * N);
	assert_null(h->partial[c].head);
	assert_null(h->full[c].head);
}

struct handoff {
	void **p;
	int n;
};

static void *
free_all(void *arg)
{
	struct handoff *h = arg;
	struct da_block bad;
	for (int i = 0; i < h->n; i++)
		if (da_alloc_free(h->p[i], &bad) != DA_FREE_OK)
			return (void *)1;
	return NULL;
}

static int
in_set(void **sorted, int n, void *p)
{
	return bsearch(&p, sorted, (size_t)n, sizeof(void *), cmp_ptr) != NULL;
}

/* Another thread frees our blocks; we get them back on later mallocs. */
static void
remote_frees_are_collected(void **state)
{
	(void)state;
	static void *p[N], *q[N], *sorted[N];
	for (int i = 0; i < N; i++)
		p[i] = da_alloc_malloc(64);
	memcpy(sorted, p, sizeof(sorted));
	qsort(sorted, N, sizeof(void *), cmp_ptr);
	struct handoff h = {p, N};
	pthread_t t;
	void *rc;
	assert_int_equal(pthread_create(&t, NULL, free_all, &h), 0);
	assert_int_equal(pthread_join(t, &rc), 0);
	assert_null(rc);
	for (int i = 0; i < N; i++)
		assert_false(owns(p[i]));
	/* The memory comes back: emptied slabs are given back and taken
	 * again, the current one collects its blocks; nothing grows by more
	 * than the slab the owner was carving. */
	size_t units = da_units_in_use;
	int reused = 0;
	for (int i = 0; i < N; i++) {
		q[i] = da_alloc_malloc(64);
		reused += in_set(sorted, N, q[i]);
	}
	assert_true(da_units_in_use <= units + 1);
	assert_true(reused > N / 2);
	struct da_block bad;
	for (int i = 0; i < N; i++)
		assert_int_equal(da_alloc_free(q[i], &bad), DA_FREE_OK);
}

static void *
alloc_and_exit(void *arg)
{
	struct handoff *h = arg;
	for (int i = 0; i < h->n; i++)
		h->p[i] = da_alloc_malloc(48);
	return NULL;
}

/* A thread exits with blocks out: others free them, a new thread adopts
 * the abandoned slabs, and the exited thread's heap is free for reuse. */
static void
exited_threads_slabs_are_adopted(void **state)
{
	(void)state;
	static void *p[N], *q[N], *sorted[N];
	unsigned before = da_heap_live_count();
	struct handoff h = {p, N};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, alloc_and_exit, &h), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(da_heap_live_count(), before);
	for (int i = 0; i < N; i++) {
		assert_true(owns(p[i]));
		if (i % 2 == 0) {
			struct da_block bad;
			assert_int_equal(da_alloc_free(p[i], &bad), DA_FREE_OK);
		}
	}
	memcpy(sorted, p, sizeof(sorted));
	qsort(sorted, N, sizeof(void *), cmp_ptr);
	struct handoff h2 = {q, N / 2};
	assert_int_equal(pthread_create(&t, NULL, alloc_and_exit, &h2), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	int reused = 0;
	for (int i = 0; i < N / 2; i++)
		reused += in_set(sorted, N, q[i]);
	assert_true(reused > N / 4);
	struct da_block bad;
	for (int i = 0; i < N; i++)
		if (i % 2)
			assert_int_equal(da_alloc_free(p[i], &bad), DA_FREE_OK);
	for (int i = 0; i < N / 2; i++)
		assert_int_equal(da_alloc_free(q[i], &bad), DA_FREE_OK);
}

/* Random sizes and a random free order keep the live maps exact. */
static void
random_churn_keeps_live_maps_exact(void **state)
{
	(void)state;
	enum { SLOTS = 4096, STEPS = 200000 };
	static void *slot[SLOTS];
	static size_t len[SLOTS];
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < STEPS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int k = (int)(x % SLOTS);
		struct da_block bad;
		if (slot[k] != NULL) {
			unsigned char *b = slot[k];
			assert_int_equal(b[0], (unsigned char)k);
			assert_int_equal(b[len[k] - 1], (unsigned char)k);
			assert_int_equal(da_alloc_free(slot[k], &bad),
			                 DA_FREE_OK);
			assert_false(owns(slot[k]));
			slot[k] = NULL;
		} else {
			len[k] = 1 +
			         (x >> 20) % ((x >> 40) % 8 == 0 ? 40000 : 600);
			slot[k] = da_alloc_malloc(len[k]);
			assert_non_null(slot[k]);
			assert_true(owns(slot[k]));
			memset(slot[k], k, len[k]);
		}
	}
	for (int k = 0; k < SLOTS; k++) {
		struct da_block bad;
		if (slot[k] != NULL)
			assert_int_equal(da_alloc_free(slot[k], &bad),
			                 DA_FREE_OK);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(blocks_are_distinct_aligned_and_live),
	        cmocka_unit_test(freed_block_is_reused_first),
	        cmocka_unit_test(empty_slabs_are_given_back),
	        cmocka_unit_test(remote_frees_are_collected),
	        cmocka_unit_test(exited_threads_slabs_are_adopted),
	        cmocka_unit_test(random_churn_keeps_live_maps_exact),
	};
	return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
