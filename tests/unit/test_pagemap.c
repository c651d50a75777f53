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

static void
set_find_clear(void **state)
{
	(void)state;
	size_t size = 3 * DA_CHUNK_SIZE;
	char *base = da_os_map_aligned(size, DA_CHUNK_SIZE);
	assert_non_null(base);
	assert_int_equal((uintptr_t)base & DA_CHUNK_MASK, 0);
	assert_null(da_pagemap_find(base));
	assert_int_equal(da_pagemap_set(base, size, base), 0);
	/* Every byte of every granule maps to the region start. */
	assert_ptr_equal(da_pagemap_find(base), base);
	assert_ptr_equal(da_pagemap_find(base + 1), base);
	assert_ptr_equal(da_pagemap_find(base + DA_CHUNK_SIZE + 77), base);
	assert_ptr_equal(da_pagemap_find(base + size - 1), base);
	/* Neighbours are not ours. */
	assert_null(da_pagemap_find(base + size));
	assert_null(da_pagemap_find(base - 1));
	assert_int_equal(da_pagemap_set(base, size, NULL), 0);
	assert_null(da_pagemap_find(base + DA_CHUNK_SIZE));
	da_os_unmap(base, size);
}

static void
foreign_addresses_are_not_ours(void **state)
{
	(void)state;
	int local;
	static int global;
	assert_null(da_pagemap_find(NULL));
	assert_null(da_pagemap_find(&local));
	assert_null(da_pagemap_find(&global));
	assert_null(da_pagemap_find((void *)(uintptr_t)-1));
	assert_null(da_pagemap_find((void *)((uintptr_t)1 << 47)));
	assert_null(da_pagemap_find((void *)((uintptr_t)1 << 63)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_find_clear),
		cmocka_unit_test(foreign_addresses_are_not_ours),
	};
	return cmocka_run_group_tests_name("pagemap", tests, NULL, NULL);
}
