/*
 * Unit tests of the size-class table and slab geometry (alloc/sizeclass.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alloc/sizeclass.h"

/* Every request maps to the smallest class that holds it. */
static void
class_of_is_smallest_fit(void **state)
{
	(void)state;
	for (size_t n = 0; n <= DA_MEDIUM_MAX; n++) {
		unsigned c = da_class_of(n);
		assert_true(c < DA_NCLASSES);
		assert_true(da_class_size[c] >= (n ? n : 1));
		if (c > 0)
			assert_true(da_class_size[c - 1] < n);
	}
	assert_int_equal(da_class_of(DA_MEDIUM_MAX), DA_NCLASSES - 1);
	assert_int_equal(da_class_of(DA_SMALL_MAX), DA_SMALL_CLASSES - 1);
}

/* Classes are multiples of 16, increasing, and above 128 bytes each step
 * is at most 12.5 % of the class below (below that, 16 is the quantum). */
static void
class_steps_are_bounded(void **state)
{
	(void)state;
	for (unsigned c = 0; c < DA_NCLASSES; c++) {
		assert_int_equal(da_class_size[c] % DA_ALIGN, 0);
		if (c == 0)
			continue;
		uint32_t lo = da_class_size[c - 1], hi = da_class_size[c];
		assert_true(hi > lo);
		if (lo >= 128)
			assert_true((uint64_t)(hi - lo) * 8 <= lo);
		else
			assert_int_equal(hi - lo, 16);
	}
}

/* The live map (a byte per 16 bytes of blocks) and the blocks fit in the
 * slab, no further block would, blocks stay 16-aligned, and the reciprocal
 * turns every offset in the area into its block index. */
static void
geometry_fits_and_indexes_exactly(void **state)
{
	(void)state;
	for (unsigned c = 0; c < DA_NCLASSES; c++) {
		struct da_class_geom g;
		da_class_geom(c, &g);
		uint32_t size = da_class_size[c];
		uint64_t bytes = (uint64_t)g.units * DA_UNIT_SIZE;
		uint64_t area = (uint64_t)g.capacity * size;
		assert_true(g.capacity > 0);
		assert_int_equal(g.map_len % DA_ALIGN, 0);
		assert_true((uint64_t)g.map_len * 16 >= area);
		assert_true(area + g.map_len <= bytes);
		assert_true(area + size + g.map_len > bytes);
		/* Waste inside the slab stays under an eighth. */
		assert_true((bytes - area) * 8 <= bytes);
		for (uint64_t off = 0; off < area; off++)
			if (((off * g.recip) >> 48) != off / size)
				fail_msg("class %u offset %llu", c,
				         (unsigned long long)off);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(class_of_is_smallest_fit),
	        cmocka_unit_test(class_steps_are_bounded),
	        cmocka_unit_test(geometry_fits_and_indexes_exactly),
	};
	return cmocka_run_group_tests_name("sizeclass", tests, NULL, NULL);
}
