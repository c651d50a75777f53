/*
 * alloc/pagemap.h — which 4 MiB granules of the address space are ours.
 *
 * A two-level radix map over the 47-bit user address space:
 *
 *   address bits  46 ........ 35 | 34 ....... 22 | 21 ...... 0
 *                 root index     | leaf index    | inside the granule
 *                 (4096 slots,   | (8192 slots,  |
 *                  static)       |  one mmap'd   |
 *                                |  64 KiB leaf) |
 *
 * Each leaf slot holds the base of the region (chunk or huge mapping) that
 * covers the granule, or NULL. Lookups are lock-free (two dependent loads);
 * writers hold the chunk lock. Leaves are never freed, so a racing reader
 * never touches unmapped memory. This is the ownership map of PITFALLS 10:
 * nothing reads a header in front of a pointer the map does not vouch for.
 */
#ifndef DA_ALLOC_PAGEMAP_H
#define DA_ALLOC_PAGEMAP_H

#include "alloc/config.h"

#include <stdatomic.h>
#include <stdint.h>

#define DA_VA_BITS 47
#define DA_PM_LEAF_BITS 13
#define DA_PM_ROOT_BITS (DA_VA_BITS - DA_CHUNK_SHIFT - DA_PM_LEAF_BITS)

typedef _Atomic(void *) da_pm_leaf[1 << DA_PM_LEAF_BITS];
extern _Atomic(da_pm_leaf *) da_pagemap_root[1 << DA_PM_ROOT_BITS];

/* The region covering p, or NULL. May allocate: no. Async-signal-safe. */
static inline void *
da_pagemap_find(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	if (da_unlikely(a >> DA_VA_BITS))
		return NULL;
	da_pm_leaf *leaf = atomic_load_explicit(
		&da_pagemap_root[a >> (DA_CHUNK_SHIFT + DA_PM_LEAF_BITS)],
		memory_order_acquire);
	if (da_unlikely(leaf == NULL))
		return NULL;
	return atomic_load_explicit(
		&(*leaf)[(a >> DA_CHUNK_SHIFT) & ((1u << DA_PM_LEAF_BITS) - 1)],
		memory_order_acquire);
}

/*
 * Records [base, base+size) (granule-aligned) as the region at base, or
 * clears it when region is NULL. Returns 0, or ENOMEM when a leaf cannot be
 * mapped (nothing is recorded then). Locking: caller holds the chunk lock.
 */
int da_pagemap_set(void *base, size_t size, void *region);

#endif /* DA_ALLOC_PAGEMAP_H */
