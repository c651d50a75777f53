/*
 * alloc/pagemap.c — writing the granule map, and finding a huge mapping's
 * start from any of its granules.
 */
#include "alloc/pagemap.h"

uint8_t da_pagemap[DA_PM_SIZE];

void *
da_pagemap_find(const void *p)
{
	uintptr_t g = (uintptr_t)p >> DA_CHUNK_SHIFT;
	if (g >= DA_PM_SIZE)
		return NULL;
	for (;;) {
		unsigned k = __atomic_load_n(&da_pagemap[g], __ATOMIC_ACQUIRE);
		if (k == DA_PM_NONE)
			return NULL;
		if (k != DA_PM_TAIL)
			return (void *)(g << DA_CHUNK_SHIFT);
		g--; /* a tail always follows its start */
	}
}

void
da_pagemap_set(void *base, size_t size, unsigned kind)
{
	uintptr_t g = (uintptr_t)base >> DA_CHUNK_SHIFT;
	uintptr_t end =
	        ((uintptr_t)base + size + DA_CHUNK_MASK) >> DA_CHUNK_SHIFT;
	if (end > DA_PM_SIZE)
		end = DA_PM_SIZE;
	/* Tails first, start last: a racing lookup that sees the start
	 * finds the tails in place. Clearing goes the other way. */
	if (kind != DA_PM_NONE) {
		for (uintptr_t t = g + 1; t < end; t++)
			__atomic_store_n(&da_pagemap[t], DA_PM_TAIL,
			                 __ATOMIC_RELAXED);
		__atomic_store_n(&da_pagemap[g], (uint8_t)kind,
		                 __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&da_pagemap[g], DA_PM_NONE, __ATOMIC_RELEASE);
		for (uintptr_t t = g + 1; t < end; t++)
			__atomic_store_n(&da_pagemap[t], DA_PM_NONE,
			                 __ATOMIC_RELAXED);
	}
}
