/*
 * Unit tests of the address -> block query and of bad frees
 * (alloc/alloc.c): every kind of block, interior, freed and foreign
 * addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "alloc/alloc.h"

static int global_object;

/* A block of size bytes: lookups of its start and of interior bytes find
 * it; after free its start is a double free, not foreign. */
static void
check_block_kind(size_t size)
{
	char *p = da_alloc_malloc(size);
	assert_non_null(p);
	struct da_block b;
	assert_int_equal(da_alloc_lookup(p, &b), 1);
	assert_ptr_equal(b.start, p);
	assert_ptr_equal(b.user, p);
	assert_true(b.size >= size);
	assert_int_equal(b.state, DA_LIVE);
	assert_true(da_alloc_owns(p, &b));
	size_t mids[] = {1, size / 2, size - 1};
	for (int i = 0; i < 3; i++) {
		if (mids[i] == 0 || mids[i] >= size)
			continue;
		assert_int_equal(da_alloc_lookup(p + mids[i], &b), 1);
		assert_ptr_equal(b.start, p);
		assert_false(da_alloc_owns(p + mids[i], &b));
		struct da_block bad;
		assert_int_equal(da_alloc_free(p + mids[i], &bad),
		                 DA_FREE_INTERIOR);
		assert_ptr_equal(bad.start, p);
	}
	struct da_block bad;
	assert_int_equal(da_alloc_free(p, &bad), DA_FREE_OK);
	int known = da_alloc_lookup(p, &b);
	if (known && size <= DA_MEDIUM_MAX)
		assert_int_equal(b.state, DA_FREED);
	if (size <= DA_MEDIUM_MAX)
		assert_int_equal(known, 1); /* a small block's slab stays */
	/* Freeing again is a double free, whatever became of the memory
	 * (large units and huge mappings are remembered for a while). */
	assert_int_equal(da_alloc_free(p, &bad), DA_FREE_DOUBLE);
	if (bad.size < size)
		print_error("size %zu bad.size %zu\n", size, bad.size);
	assert_int_equal(bad.size >= size, 1);
}

static void
small_medium_large_huge(void **state)
{
	(void)state;
	size_t sizes[] = {
	        1,        16,    17,     100,      1024,           1025,
	        32768,    32769, 100000, 2u << 20, (2u << 20) + 1, 5u << 20,
	        64u << 20};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_block_kind(sizes[i]);
}

static void
foreign_pointers(void **state)
{
	(void)state;
	int local = 0;
	struct da_block b, bad;
	void *g = malloc(32); /* glibc's */
	assert_int_equal(da_alloc_lookup(&local, &b), 0);
	assert_int_equal(da_alloc_lookup(&global_object, &b), 0);
	assert_int_equal(da_alloc_lookup(g, &b), 0);
	assert_int_equal(da_alloc_free(&local, &bad), DA_FREE_FOREIGN);
	assert_int_equal(da_alloc_free(g, &bad), DA_FREE_FOREIGN);
	free(g);
}

/* The metadata unit of a chunk and a slab's live map are ours but no
 * block: the query says "not a block" and never misreads them. */
static void
metadata_is_not_a_block(void **state)
{
	(void)state;
	char *p = da_alloc_malloc(64);
	struct da_block b, bad;
	char *chunk = (char *)((uintptr_t)p & ~DA_CHUNK_MASK);
	assert_int_equal(da_alloc_lookup(chunk, &b), 0);
	assert_int_equal(da_alloc_lookup(chunk + 100, &b), 0);
	struct da_slab *s = da_chunk_slab_at((struct da_chunk *)chunk, p);
	assert_int_equal(da_alloc_lookup(s->live, &b), 0);
	assert_int_equal(da_alloc_free(s->live, &bad), DA_FREE_UNUSED);
	assert_int_equal(da_alloc_free(chunk, &bad), DA_FREE_UNUSED);
	assert_int_equal(da_alloc_free(p, &bad), DA_FREE_OK);
}

static void
aligned_blocks(void **state)
{
	(void)state;
	size_t aligns[] = {32, 64, 256, 4096, 65536, 1u << 20, 8u << 20};
	size_t sizes[] = {0, 1, 100, 5000, 40000, 3u << 20};
	for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++)
		for (size_t j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			char *p = da_alloc_aligned(aligns[i], sizes[j]);
			assert_non_null(p);
			assert_int_equal((uintptr_t)p % aligns[i], 0);
			struct da_block b, bad;
			assert_true(da_alloc_owns(p, &b));
			assert_true(b.size >= sizes[j]);
			assert_int_equal(da_alloc_lookup(b.start, &b), 1);
			assert_ptr_equal(b.user, p);
			if (sizes[j] > 0)
				p[sizes[j] - 1] = 1;
			if (b.start != p)
				assert_int_equal(da_alloc_free(b.start, &bad),
				                 DA_FREE_INTERIOR);
			assert_int_equal(da_alloc_free(p, &bad), DA_FREE_OK);
			assert_false(da_alloc_owns(p, &b));
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(small_medium_large_huge),
	        cmocka_unit_test(foreign_pointers),
	        cmocka_unit_test(metadata_is_not_a_block),
	        cmocka_unit_test(aligned_blocks),
	};
	return cmocka_run_group_tests_name("lookup", tests, NULL, NULL);
}
