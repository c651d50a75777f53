/*
 * alloc/pagemap.c — writing the granule map, and finding a huge mapping's
 * start from any of its granules.
 */
#include "alloc/pagemap.h"
#include "alloc/lock.h"

#include <sched.h>

uint8_t da_pagemap[DA_PM_SIZE];

void *
da_pagemap_find(const void *p)
{
	uintptr_t g = (uintptr_t)p >> DA_CHUNK_SHIFT;
	if (g >= DA_PM_SIZE)
		return NULL;
	for (;;) {
		unsigned k = __atomic_load_n(&da_pagemap[g], __ATOMIC_ACQUIRE);
		if (k == DA_PM_NONE || k == DA_PM_GUARD)
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

void
da_pagemap_mark(void *base, size_t size, unsigned kind)
{
	uintptr_t g = (uintptr_t)base >> DA_CHUNK_SHIFT;
	uintptr_t end =
	        ((uintptr_t)base + size + DA_CHUNK_MASK) >> DA_CHUNK_SHIFT;
	if (end > DA_PM_SIZE)
		end = DA_PM_SIZE;
	for (; g < end; g++)
		__atomic_store_n(&da_pagemap[g], (uint8_t)kind,
		                 __ATOMIC_RELEASE);
}

_Atomic(unsigned long) da_pagemap_readers[2];
_Atomic(unsigned) da_pagemap_epoch;
__thread unsigned da_pagemap_reading;

/* Switches new lookups to the other counter and waits (briefly) until no
 * lookup counted on the one they leave is under way. 1 if none is. */
static int
flip_and_wait(void)
{
	unsigned old = atomic_fetch_add_explicit(&da_pagemap_epoch, 1,
	                                         memory_order_seq_cst) &
	               1;
	for (int spin = 0; spin < 256; spin++) {
		if (atomic_load_explicit(&da_pagemap_readers[old],
		                         memory_order_seq_cst) == 0)
			return 1;
		if (spin < 192)
			da_cpu_relax();
		else
			sched_yield();
	}
	return 0;
}

int
da_pagemap_retire(void *base, size_t size, unsigned kind)
{
	/* This thread's own lookup, interrupted, cannot end while we wait:
	 * the region stays (seen under signal-heavy: a handler nested in
	 * da_alloc_diagnose held the chunk lock through hundreds of retires
	 * of cached huge regions, each waiting out its spins, while every
	 * other thread waited for the lock). */
	if (da_pagemap_reading != 0)
		return 0;
	da_pagemap_set(base, size, DA_PM_NONE);
	atomic_thread_fence(memory_order_seq_cst);
	/* A lookup that read the map before the clear is counted on either
	 * side: on the current one, or, if an earlier retire gave up after
	 * its flip, on the other. Waiting out both sides in turn covers it;
	 * a lookup counted after a flip entered after the clear, and sees it
	 * (da_pagemap_enter checks its side is current after counting). */
	if (flip_and_wait() && flip_and_wait())
		return 1;
	da_pagemap_set(base, size, kind);
	return 0;
}
