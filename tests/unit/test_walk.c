/*
 * Unit tests of the live-block walk and the counts built on it
 * (alloc/walk.c), and of giving memory back (trim, huge cache).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	case 0:
		return 40000 + (size_t)i;
	case 1:
		return (size_t)i % 1000 + 1;
	case 2:
		return 3000;
	case 3:
		return i % 100 == 3 ? (3u << 20) : 16;
	default:
		return 200;
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

/* A freed huge block is kept for reuse while the memory in use is below
 * its peak; trim unmaps it. */
static void
huge_cache_and_trim(void **state)
{
	(void)state;
	struct da_block b, bad;
	void *keep[32];
	da_alloc_trim();
	for (int i = 0; i < 32; i++) /* 64 MiB in use */
		keep[i] = da_alloc_malloc(2u << 20);
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
	for (int i = 0; i < 32; i++)
		assert_int_equal(da_alloc_free(keep[i], &bad), DA_FREE_OK);
}

/* A large block grows in place into the free units after it, and stops
 * where another block begins; a huge block grows with mremap when it can.
 * The freed 2 MiB run is the warmest free run, so the next large blocks
 * are placed at its start, one after the other. */
static void
large_blocks_grow_in_place(void **state)
{
	(void)state;
	struct da_block b, bad;
	char *x = da_alloc_malloc(2u << 20);
	assert_int_equal(da_alloc_free(x, &bad), DA_FREE_OK);
	char *a = da_alloc_malloc(100000);
	assert_ptr_equal(a, x);
	memset(a, 0x3c, 100000);
	assert_int_equal(da_alloc_grow(a, 1u << 20), 1);
	assert_true(da_alloc_owns(a, &b));
	assert_true(b.size >= (1u << 20));
	assert_int_equal(da_alloc_lookup(a + 900000, &b), 1);
	assert_ptr_equal(b.start, a);
	for (size_t i = 0; i < 100000; i++)
		if (a[i] != 0x3c)
			fail_msg("byte %zu changed", i);
	char *c = da_alloc_malloc(64u << 10);
	assert_ptr_equal(c, a + (1u << 20));
	assert_int_equal(da_alloc_grow(a, (1u << 20) + 1), 0);
	assert_int_equal(da_alloc_grow(c, 5000), 1); /* already holds it */
	assert_int_equal(da_alloc_free(c, &bad), DA_FREE_OK);
	assert_int_equal(da_alloc_free(a, &bad), DA_FREE_OK);
	/* A small block never grows in place. */
	char *s = da_alloc_malloc(100);
	assert_int_equal(da_alloc_grow(s, 200), 0);
	assert_int_equal(da_alloc_free(s, &bad), DA_FREE_OK);
	/* A huge block: whether the space after it is free is the
	 * kernel's choice, but a yes must mean a bigger, intact block. */
	char *h = da_alloc_malloc(5u << 20);
	h[(5u << 20) - 1] = 7;
	if (da_alloc_grow(h, 9u << 20)) {
		assert_true(da_alloc_owns(h, &b));
		assert_true(b.size >= (9u << 20));
		h[(9u << 20) - 1] = 8;
		assert_int_equal(h[(5u << 20) - 1], 7);
		assert_int_equal(da_alloc_lookup(h + (8u << 20), &b), 1);
		assert_ptr_equal(b.user, h);
	}
	assert_int_equal(da_alloc_free(h, &bad), DA_FREE_OK);
}

static size_t
rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, rss = 0;
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lu %lu", &size, &rss), 2);
	fclose(f);
	return rss * 4096;
}

/* A program that frees its memory gives it back: after 256 MiB of blocks
 * of every kind are touched and freed, and the retention decay has passed
 * (the next slow-path call purges), RSS is back within the retention floor
 * (plus slack for metadata and current slabs) of where it started. */
static void
freed_memory_goes_back_to_the_os(void **state)
{
	(void)state;
	enum { NBLK = 4096 };
	static char *p[NBLK];
	struct da_block bad;
	size_t before = rss_bytes();
	size_t total = 0;
	for (int i = 0; i < NBLK && total < (256u << 20); i++) {
		size_t n = i % 4 == 0   ? (size_t)64 << 10
		           : i % 4 == 1 ? (size_t)600 << 10
		           : i % 4 == 2 ? (size_t)3 << 20
		                        : (size_t)(i % 500) * 16 + 16;
		p[i] = da_alloc_malloc(n);
		assert_non_null(p[i]);
		memset(p[i], 1, n);
		total += n;
	}
	assert_true(rss_bytes() > before + (200u << 20));
	for (int i = 0; i < NBLK; i++)
		if (p[i] != NULL)
			assert_int_equal(da_alloc_free(p[i], &bad), DA_FREE_OK);
	long ms = DA_RETAIN_DECAY_MS + 100;
	struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
	assert_int_equal(nanosleep(&pause, NULL), 0);
	assert_int_equal(da_alloc_free(da_alloc_malloc(1u << 20), &bad),
	                 DA_FREE_OK);
	size_t after = rss_bytes();
	if (after > before + DA_RETAIN_FLOOR + (8u << 20))
		fail_msg("RSS %zu KiB before, %zu KiB after freeing",
		         before >> 10, after >> 10);
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
	        cmocka_unit_test(large_blocks_grow_in_place),
	        cmocka_unit_test(freed_memory_goes_back_to_the_os),
	};
	return cmocka_run_group_tests_name("walk", tests, NULL, NULL);
}
