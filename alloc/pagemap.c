/*
 * alloc/pagemap.c — writing the granule → region map (reads are inline in
 * pagemap.h).
 */
#include "alloc/pagemap.h"
#include "alloc/os.h"

#include <errno.h>

_Atomic(da_pm_leaf *) da_pagemap_root[1 << DA_PM_ROOT_BITS];

static da_pm_leaf *
leaf_for(uintptr_t a, int create)
{
	size_t r = a >> (DA_CHUNK_SHIFT + DA_PM_LEAF_BITS);
	da_pm_leaf *leaf =
		atomic_load_explicit(&da_pagemap_root[r], memory_order_acquire);
	if (leaf == NULL && create) {
		leaf = da_os_map(sizeof(da_pm_leaf));
		if (leaf != NULL)
			atomic_store_explicit(&da_pagemap_root[r], leaf,
					      memory_order_release);
	}
	return leaf;
}

int
da_pagemap_set(void *base, size_t size, void *region)
{
	uintptr_t lo = (uintptr_t)base, hi = lo + size;
	if (hi >> DA_VA_BITS)
		return ENOMEM;
	/* Make every leaf first, so a failure records nothing. */
	for (uintptr_t a = lo; a < hi; a += DA_CHUNK_SIZE)
		if (leaf_for(a, region != NULL) == NULL && region != NULL)
			return ENOMEM;
	for (uintptr_t a = lo; a < hi; a += DA_CHUNK_SIZE) {
		da_pm_leaf *leaf = leaf_for(a, 0);
		if (leaf != NULL)
			atomic_store_explicit(
				&(*leaf)[(a >> DA_CHUNK_SHIFT) &
					 ((1u << DA_PM_LEAF_BITS) - 1)],
				region, memory_order_release);
	}
	return 0;
}
