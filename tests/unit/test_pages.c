/*
 * Unit tests of page regions (alloc/pages.c): blocks of whole pages from
 * 32 KiB to DA_PAGES_MAX, first fit, reuse of freed pages whatever the next
 * size, growth in place, alignment, lookups and the purge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "alloc/alloc.h"

static struct da_pregion *
region_of(const void *p)
{
	struct da_region *r = da_pagemap_find(p);
	assert_non_null(r);
	assert_int_equal(r->kind, DA_REGION_PAGES);
	return (struct da_pregion *)r;
}

/* Every size from just above the classes to DA_PAGES_MAX is whole pages,
 * page-aligned, in a page region; one byte above is huge. */
static void
sizes_and_kinds(void **state)
{
	(void)state;
	size_t sizes[] = {DA_MEDIUM_MAX + 1, 40000,       65536, 100000,
	                  1u << 20,          DA_PAGES_MAX};
	struct da_block b, bad;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *p = da_alloc_malloc(sizes[i]);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % DA_PAGE, 0);
		(void)region_of(p);
		assert_true(da_alloc_owns(p, &b));
		assert_int_equal(b.size,
		                 (sizes[i] + DA_PAGE - 1) / DA_PAGE * DA_PAGE);
		memset(p, 0x5a, sizes[i]);
		assert_int_equal(da_alloc_free(p, &bad), DA_FREE_OK);
	}
	char *h = da_alloc_malloc(DA_PAGES_MAX + 1);
	assert_int_equal(((struct da_region *)da_pagemap_find(h))->kind,
	                 DA_REGION_HUGE);
	assert_int_equal(da_alloc_free(h, &bad), DA_FREE_OK);
}

/* Freed pages are the first fit for the next block of any size: a smaller
 * block takes the front of a freed bigger one. */
static void
freed_pages_are_reused_whatever_the_size(void **state)
{
	(void)state;
	struct da_block bad;
	char *a = da_alloc_malloc(1u << 20);
	char *fence = da_alloc_malloc(40000); /* keeps a's run closed */
	assert_int_equal(da_alloc_free(a, &bad), DA_FREE_OK);
	char *b = da_alloc_malloc(300000);
	assert_ptr_equal(b, a);
	char *c = da_alloc_malloc(200000);
	assert_ptr_equal(c, a + 303104); /* 74 pages on */
	assert_int_equal(da_alloc_free(b, &bad), DA_FREE_OK);
	assert_int_equal(da_alloc_free(c, &bad), DA_FREE_OK);
	assert_int_equal(da_alloc_free(fence, &bad), DA_FREE_OK);
}

/* Interior pointers name their block; the header pages and free pages are
 * no block; a freed block's start reads as freed (double free). */
static void
lookups(void **state)
{
	(void)state;
	struct da_block b, bad;
	char *p = da_alloc_malloc(100000);
	char *q = da_alloc_malloc(50000);
	struct da_pregion *r = region_of(p);
	assert_int_equal(da_alloc_lookup(r, &b), 0);
	assert_int_equal(da_alloc_lookup((char *)r + DA_PAGE, &b), 0);
	assert_int_equal(da_alloc_lookup(p + 99999, &b), 1);
	assert_ptr_equal(b.start, p);
	assert_int_equal(da_alloc_free(p + 5, &bad), DA_FREE_INTERIOR);
	assert_int_equal(da_alloc_free(p, &bad), DA_FREE_OK);
	assert_int_equal(da_alloc_free(p, &bad), DA_FREE_DOUBLE);
	assert_int_equal(bad.size, 102400);
	assert_int_equal(da_alloc_free(q, &bad), DA_FREE_OK);
}

/* A block grows into the free pages after it and stops at the next block;
 * its contents stay. */
static void
grows_in_place(void **state)
{
	(void)state;
	struct da_block b, bad;
	char *x = da_alloc_malloc(1u << 20);
	char *fence = da_alloc_malloc(40000);
	assert_int_equal(da_alloc_free(x, &bad), DA_FREE_OK);
	char *a = da_alloc_malloc(50000);
	assert_ptr_equal(a, x);
	memset(a, 0x3c, 50000);
	assert_int_equal(da_alloc_grow(a, 600000), 1);
	assert_true(da_alloc_owns(a, &b));
	assert_true(b.size >= 600000);
	for (size_t i = 0; i < 50000; i++)
		if (a[i] != 0x3c)
			fail_msg("byte %zu changed", i);
	assert_int_equal(da_alloc_grow(a, (1u << 20) + 1), 0);
	assert_int_equal(da_alloc_grow(a, 1u << 20), 1);
	assert_int_equal(da_alloc_free(a, &bad), DA_FREE_OK);
	assert_int_equal(da_alloc_free(fence, &bad), DA_FREE_OK);
}

/* Aligned requests are placed at their alignment, up to 4 MiB. */
static void
alignment(void **state)
{
	(void)state;
	struct da_block b, bad;
	for (size_t align = DA_PAGE; align <= DA_CHUNK_SIZE; align *= 4) {
		char *p = da_alloc_aligned(align, 70000);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % align, 0);
		assert_true(da_alloc_owns(p, &b));
		assert_int_equal(da_alloc_free(p, &bad), DA_FREE_OK);
	}
}

/* A zeroed block reads as zeros even on reused (dirty) pages. */
static void
zeroed_on_reuse(void **state)
{
	(void)state;
	struct da_block bad;
	char *p = da_alloc_malloc(200000);
	char *fence = da_alloc_malloc(40000);
	memset(p, 0xff, 200000);
	assert_int_equal(da_alloc_free(p, &bad), DA_FREE_OK);
	char *q = da_alloc_zalloc(150000);
	assert_ptr_equal(q, p);
	for (size_t i = 0; i < 150000; i++)
		if (q[i] != 0)
			fail_msg("byte %zu is %d", i, q[i]);
	assert_int_equal(da_alloc_free(q, &bad), DA_FREE_OK);
	assert_int_equal(da_alloc_free(fence, &bad), DA_FREE_OK);
}

/* The walk sees every live block of pages once, at its size. */
static int
count_pages_blocks(const struct da_block *b, void *arg)
{
	struct da_region *r = da_pagemap_find(b->start);
	if (r->kind == DA_REGION_PAGES)
		*(size_t *)arg += b->size;
	return 0;
}

static void
walk_and_trim(void **state)
{
	(void)state;
	struct da_block bad;
	void *p[40];
	size_t before = 0, during = 0, after = 0;
	da_alloc_walk(count_pages_blocks, &before);
	for (int i = 0; i < 40; i++)
		p[i] = da_alloc_malloc(40960 * (size_t)(i + 1));
	da_alloc_walk(count_pages_blocks, &during);
	assert_int_equal(during - before, 40960 * (size_t)(40 * 41 / 2));
	for (int i = 0; i < 40; i++)
		assert_int_equal(da_alloc_free(p[i], &bad), DA_FREE_OK);
	da_alloc_walk(count_pages_blocks, &after);
	assert_int_equal(after, before);
	assert_true(da_alloc_trim() > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(sizes_and_kinds),
	        cmocka_unit_test(freed_pages_are_reused_whatever_the_size),
	        cmocka_unit_test(lookups),
	        cmocka_unit_test(grows_in_place),
	        cmocka_unit_test(alignment),
	        cmocka_unit_test(zeroed_on_reuse),
	        cmocka_unit_test(walk_and_trim),
	};
	return cmocka_run_group_tests_name("pages", tests, NULL, NULL);
}
