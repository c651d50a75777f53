/*
 * Unit tests of the live-block walk and the counts built on it
 * (alloc/walk.c), and of giving memory back (trim, huge cache).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"

#define N 3000

static int
cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

struct seen {
	void **p;
	size_t *size;
	int n, cap;
};

static int
collect(const struct da_block *b, void *arg)
{
	struct seen *s = arg;
	if (s->n < s->cap) {
		s->p[s->n] = b->user;
		s->size[s->n] = b->size;
	}
	s->n++;
	return 0;
}

static size_t
size_of(int i)
{
	switch (i % 7) {
	case 0: return 40000 + (size_t)i;
	case 1: return (size_t)i % 1000 + 1;
	case 2: return 3000;
	case 3: return i % 100 == 3 ? (3u << 20) : 16;
	default: return 200;
	}
}

/* The walk visits exactly the live blocks, each once, with their sizes. */
static void
walk_sees_exactly_the_live_blocks(void **state)
{
	(void)state;
	static void *p[N], *expect[N], *got[N + 100];
	static size_t got_size[N + 100];
	struct da_block bad;
	struct da_alloc_stats before;
	da_alloc_stats(&before);
	for (int i = 0; i < N; i++) {
		p[i] = i % 11 == 5 ? da_alloc_aligned(256, size_of(i))
				   : da_alloc_malloc(size_of(i));
		assert_non_null(p[i]);
	}
	int live = 0;
	for (int i = 0; i < N; i++) {
		if (i % 3 == 0)
			assert_int_equal(da_alloc_free(p[i], &bad), DA_FREE_OK);
		else
			expect[live++] = p[i];
	}
	struct seen s = {got, got_size, 0, N + 100};
	assert_int_equal(da_alloc_walk(collect, &s), 0);
	/* Blocks live before the test (none, in this process) add to it. */
	assert_int_equal(s.n, live + (int)before.live_blocks);
	qsort(expect, (size_t)live, sizeof(void *), cmp_ptr);
	int found = 0;
	for (int i = 0; i < s.n; i++)
		if (bsearch(&got[i], expect, (size_t)live, sizeof(void *),
			    cmp_ptr) != NULL)
			found++;
	assert_int_equal(found, live);
	struct da_alloc_stats st;
	da_alloc_stats(&st);
	assert_int_equal(st.live_blocks, before.live_blocks + (size_t)live);
	assert_true(st.mapped >= st.live_bytes);
	for (int i = 0; i < N; i++)
		if (i % 3 != 0)
			assert_int_equal(da_alloc_free(p[i], &bad), DA_FREE_OK);
	da_alloc_stats(&st);
	assert_int_equal(st.live_blocks, before.live_blocks);
}

static int
stop_at_third(const struct da_block *b, void *arg)
{
	(void)b;
	return ++*(int *)arg == 3 ? 42 : 0;
}

static void
walk_stops_when_asked(void **state)
{
	(void)state;
	void *p[5];
	struct da_block bad;
	for (int i = 0; i < 5; i++)
		p[i] = da_alloc_malloc(100);
	int calls = 0;
	assert_int_equal(da_alloc_walk(stop_at_third, &calls), 42);
	assert_int_equal(calls, 3);
	for (int i = 0; i < 5; i++)
		assert_int_equal(da_alloc_free(p[i], &bad), DA_FREE_OK);
}

/* A freed huge block is kept for reuse; trim unmaps it. */
static void
huge_cache_and_trim(void **state)
{
	(void)state;
	struct da_block b, bad;
	char *p = da_alloc_malloc(6u << 20);
	memset(p, 1, 6u << 20);
	assert_int_equal(da_alloc_free(p, &bad), DA_FREE_OK);
	char *q = da_alloc_zalloc(6u << 20);
	assert_ptr_equal(p, q);
	for (size_t i = 0; i < (6u << 20); i += 4096)
		assert_int_equal(q[i], 0);
	assert_int_equal(da_alloc_free(q, &bad), DA_FREE_OK);
	assert_true(da_alloc_trim() >= (6u << 20));
	assert_int_equal(da_alloc_lookup(p, &b), 0);
}

/* Large blocks' units are reused, and calloc of reused units is zeroed. */
static void
large_units_reused_and_zeroed(void **state)
{
	(void)state;
	struct da_block bad;
	char *p = da_alloc_malloc(300000);
	memset(p, 0x5a, 300000);
	assert_int_equal(da_alloc_free(p, &bad), DA_FREE_OK);
	char *q = da_alloc_zalloc(300000);
	assert_ptr_equal(p, q);
	for (size_t i = 0; i < 300000; i++)
		if (q[i] != 0)
			fail_msg("byte %zu not zero", i);
	assert_int_equal(da_alloc_free(q, &bad), DA_FREE_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walk_sees_exactly_the_live_blocks),
		cmocka_unit_test(walk_stops_when_asked),
		cmocka_unit_test(huge_cache_and_trim),
		cmocka_unit_test(large_units_reused_and_zeroed),
	};
	return cmocka_run_group_tests_name("walk", tests, NULL, NULL);
}
