/*
 * Unit tests of the granule -> region map (alloc/pagemap.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alloc/os.h"
#include "alloc/pagemap.h"

/* A chunk: one granule, found from every byte of it. */
static void
chunk_granule(void **state)
{
	(void)state;
	char *base = da_os_map_aligned(DA_CHUNK_SIZE, DA_CHUNK_SIZE);
	assert_non_null(base);
	assert_int_equal((uintptr_t)base & DA_CHUNK_MASK, 0);
	assert_int_equal(da_pagemap_kind(base), DA_PM_NONE);
	assert_null(da_pagemap_find(base));
	da_pagemap_set(base, DA_CHUNK_SIZE, DA_PM_CHUNK);
	assert_int_equal(da_pagemap_kind(base), DA_PM_CHUNK);
	assert_int_equal(da_pagemap_kind(base + DA_CHUNK_SIZE - 1),
	                 DA_PM_CHUNK);
	assert_ptr_equal(da_pagemap_find(base + 12345), base);
	assert_int_equal(da_pagemap_kind(base + DA_CHUNK_SIZE), DA_PM_NONE);
	da_pagemap_set(base, DA_CHUNK_SIZE, DA_PM_NONE);
	assert_int_equal(da_pagemap_kind(base), DA_PM_NONE);
	da_os_unmap(base, DA_CHUNK_SIZE);
}

/* A huge mapping over several granules, its last one partly: every byte
 * leads back to the start; neighbours are not ours. */
static void
huge_granules(void **state)
{
	(void)state;
	size_t size = 2 * DA_CHUNK_SIZE + 4096;
	char *base = da_os_map_aligned(size, DA_CHUNK_SIZE);
	assert_non_null(base);
	da_pagemap_set(base, size, DA_PM_HUGE);
	assert_int_equal(da_pagemap_kind(base), DA_PM_HUGE);
	assert_int_equal(da_pagemap_kind(base + DA_CHUNK_SIZE), DA_PM_TAIL);
	assert_ptr_equal(da_pagemap_find(base), base);
	assert_ptr_equal(da_pagemap_find(base + 1), base);
	assert_ptr_equal(da_pagemap_find(base + DA_CHUNK_SIZE + 77), base);
	assert_ptr_equal(da_pagemap_find(base + size - 1), base);
	assert_null(da_pagemap_find(base - 1));
	assert_null(da_pagemap_find(base + 3 * DA_CHUNK_SIZE));
	da_pagemap_set(base, size, DA_PM_NONE);
	assert_null(da_pagemap_find(base + DA_CHUNK_SIZE));
	assert_null(da_pagemap_find(base + size - 1));
	da_os_unmap(base, size);
}

/* Guard-page space: every granule is marked on its own (no tails), and
 * has no region header, so da_pagemap_find answers NULL for it. */
static void
guard_granules(void **state)
{
	(void)state;
	size_t size = 2 * DA_CHUNK_SIZE;
	char *base = da_os_reserve_aligned(size, DA_CHUNK_SIZE);
	assert_non_null(base);
	da_pagemap_mark(base, size, DA_PM_GUARD);
	assert_int_equal(da_pagemap_kind(base), DA_PM_GUARD);
	assert_int_equal(da_pagemap_kind(base + DA_CHUNK_SIZE), DA_PM_GUARD);
	assert_int_equal(da_pagemap_kind(base + size - 1), DA_PM_GUARD);
	assert_int_equal(da_pagemap_kind(base + size), DA_PM_NONE);
	assert_null(da_pagemap_find(base));
	assert_null(da_pagemap_find(base + DA_CHUNK_SIZE + 5));
	da_pagemap_mark(base, size, DA_PM_NONE);
	assert_int_equal(da_pagemap_kind(base + DA_CHUNK_SIZE), DA_PM_NONE);
	da_os_unmap(base, size);
}

static void
foreign_addresses_are_not_ours(void **state)
{
	(void)state;
	int local;
	static int global;
	assert_null(da_pagemap_find(NULL));
	assert_int_equal(da_pagemap_kind((void *)(uintptr_t)-1), DA_PM_NONE);
	assert_null(da_pagemap_find(&local));
	assert_null(da_pagemap_find(&global));
	assert_null(da_pagemap_find((void *)(uintptr_t)-1));
	assert_null(da_pagemap_find((void *)((uintptr_t)1 << 47)));
	assert_null(da_pagemap_find((void *)((uintptr_t)1 << 63)));
}

/* Retiring a region waits for the lookups under way; but a lookup of the
 * retiring thread itself (a signal handler nested in it) never ends while
 * it waits: the retire gives up at once, without switching the lookups'
 * side, and leaves the map as it was. With no lookup under way it
 * succeeds, switching sides twice. */
static void
retire_inside_own_lookup(void **state)
{
	(void)state;
	char *base = da_os_map_aligned(DA_CHUNK_SIZE, DA_CHUNK_SIZE);
	assert_non_null(base);
	da_pagemap_set(base, DA_CHUNK_SIZE, DA_PM_CHUNK);

	unsigned ticket = da_pagemap_enter();
	unsigned epoch = atomic_load(&da_pagemap_epoch);
	assert_int_equal(da_pagemap_retire(base, DA_CHUNK_SIZE, DA_PM_CHUNK),
	                 0);
	assert_int_equal(atomic_load(&da_pagemap_epoch), epoch);
	assert_int_equal(da_pagemap_kind(base), DA_PM_CHUNK);
	da_pagemap_leave(ticket);
	assert_int_equal(da_pagemap_reading, 0);

	assert_int_equal(da_pagemap_retire(base, DA_CHUNK_SIZE, DA_PM_CHUNK),
	                 1);
	assert_int_equal(atomic_load(&da_pagemap_epoch), epoch + 2);
	assert_int_equal(da_pagemap_kind(base), DA_PM_NONE);
	da_os_unmap(base, DA_CHUNK_SIZE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(chunk_granule),
	        cmocka_unit_test(huge_granules),
	        cmocka_unit_test(guard_granules),
	        cmocka_unit_test(foreign_addresses_are_not_ours),
	        cmocka_unit_test(retire_inside_own_lookup),
	};
	return cmocka_run_group_tests_name("pagemap", tests, NULL, NULL);
}
