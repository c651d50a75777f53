/*
 * alloc/pagemap.h — which 4 MiB granules of the address space are ours.
 *
 * One byte per granule of the 47-bit user address space (2^25 granules, a
 * 32 MiB array in .bss: only the pages that describe granules we use are
 * ever touched, so it costs a page or two of memory):
 *
 *   DA_PM_NONE   not ours
 *   DA_PM_CHUNK  a chunk starts here (the granule is the whole chunk)
 *   DA_PM_HUGE   a huge mapping starts here
 *   DA_PM_TAIL   inside a huge mapping or a page region that started in
 *                an earlier granule
 *   DA_PM_PAGES  a page region starts here (pages.h)
 *   DA_PM_GUARD  guard-page slots (guard.h): every granule of that space
 *                carries this kind on its own, with no header at its
 *                start, so da_pagemap_find answers NULL for it
 *
 * So p belongs to the chunk at p & ~DA_CHUNK_MASK exactly when its byte is
 * DA_PM_CHUNK: one load. Lookups are lock-free; writers hold the chunk lock.
 * This is the ownership map of PITFALLS 10: nothing reads a header in front
 * of a pointer the map does not vouch for.
 */
#ifndef DA_ALLOC_PAGEMAP_H
#define DA_ALLOC_PAGEMAP_H

#include "alloc/config.h"
#include "alloc/lock.h"

#include <stdatomic.h>
#include <stdint.h>

#define DA_VA_BITS 47
#define DA_PM_SIZE ((size_t)1 << (DA_VA_BITS - DA_CHUNK_SHIFT))

enum da_pm_kind {
	DA_PM_NONE = 0,
	DA_PM_CHUNK = 1,
	DA_PM_HUGE = 2,
	DA_PM_TAIL = 3,
	DA_PM_PAGES = 4,
	DA_PM_GUARD = 5,
};

extern uint8_t da_pagemap[DA_PM_SIZE];

/* The map byte of p's granule. May allocate: no. Async-signal-safe. */
DA_INLINE unsigned
da_pagemap_kind(const void *p)
{
	uintptr_t g = (uintptr_t)p >> DA_CHUNK_SHIFT;
	if (da_unlikely(g >= DA_PM_SIZE))
		return DA_PM_NONE;
	return __atomic_load_n(&da_pagemap[g], __ATOMIC_ACQUIRE);
}

/* The region (chunk, page region or huge mapping) covering p, or NULL
 * (also for guard-page space, whose granules have no region header). */
void *da_pagemap_find(const void *p);

/*
 * Records [base, base+size) (base granule-aligned) as a chunk or a huge
 * mapping (kind DA_PM_CHUNK or DA_PM_HUGE), or clears it (DA_PM_NONE).
 * Locking: caller holds the chunk lock.
 */
void da_pagemap_set(void *base, size_t size, unsigned kind);

/*
 * Gives every granule of [base, base+size) kind, each on its own (no
 * tails): for space that is never given back (guard-page slots), whose
 * granules belong to nobody else, so no lock is needed. Async-signal-safe.
 */
void da_pagemap_mark(void *base, size_t size, unsigned kind);

/*
 * Lookups that may be handed any pointer (dbgalloc_owns, the diagnosis of a
 * bad free) read a region's header after the map vouched for it, while
 * another thread may be unmapping that region. They run between
 * da_pagemap_enter and da_pagemap_leave; an unmapper calls
 * da_pagemap_retire, which clears the map and then waits (briefly) until
 * no lookup that began before is under way: a lookup either saw the
 * cleared map, or finishes before the memory goes. Lookups count on one of
 * two counters; retire switches new ones to the other before it waits for
 * one, then does so again for the other, so a stream of lookups cannot
 * keep it waiting (as in SRCU).
 * All async-signal-safe.
 */
extern _Atomic(unsigned long) da_pagemap_readers[2];
extern _Atomic(unsigned) da_pagemap_epoch;
/* The calling thread's lookups under way: a retire that one of them
 * would wait for (a signal handler that interrupted the lookup, then
 * took the chunk lock) gives up at once. */
extern __thread unsigned da_pagemap_reading;

/*
 * Returns the ticket to give da_pagemap_leave. A lookup counts itself on
 * the side the epoch names, then checks the epoch still names it: one
 * that read the epoch, stalled, and counted itself after a retire looked
 * at that side would be waited for by no retire at all (a later retire
 * waits for the other side).
 */
DA_INLINE unsigned
da_pagemap_enter(void)
{
	/* A retire waits for this lookup as for a lock this thread holds:
	 * a signal handler that interrupts the lookup must not wait for the
	 * retirer's chunk lock, so the lookup counts as an operation holding
	 * a lock (lock.h). */
	da_op_depth++;
	da_locks_held++;
	da_pagemap_reading++;
	atomic_signal_fence(memory_order_seq_cst);
	for (;;) {
		unsigned i = atomic_load_explicit(&da_pagemap_epoch,
		                                  memory_order_seq_cst) &
		             1;
		atomic_fetch_add_explicit(&da_pagemap_readers[i], 1,
		                          memory_order_seq_cst);
		if ((atomic_load_explicit(&da_pagemap_epoch,
		                          memory_order_seq_cst) &
		     1) == i)
			return i;
		atomic_fetch_sub_explicit(&da_pagemap_readers[i], 1,
		                          memory_order_release);
	}
}

DA_INLINE void
da_pagemap_leave(unsigned ticket)
{
	atomic_fetch_sub_explicit(&da_pagemap_readers[ticket], 1,
	                          memory_order_release);
	atomic_signal_fence(memory_order_seq_cst);
	da_pagemap_reading--;
	da_locks_held--;
	da_op_depth--;
}

/*
 * Clears [base, base+size) from the map (it was recorded as kind) and
 * returns 1 once no lookup can still be reading it: the caller may unmap
 * it. Returns 0, with the map restored, when lookups stayed under way (a
 * signal handler's own lookup, say): the caller keeps the region for now.
 * Locking: caller holds the chunk lock.
 */
int da_pagemap_retire(void *base, size_t size, unsigned kind);

#endif /* DA_ALLOC_PAGEMAP_H */
