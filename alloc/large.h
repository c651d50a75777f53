/*
 * alloc/large.h — blocks above DA_MEDIUM_MAX.
 *
 * Large blocks (up to DA_LARGE_MAX) are runs of 64 KiB units inside chunks,
 * one block per slab, so they are 64 KiB-aligned and their units return to
 * the chunk (and, past the dirty budget, to the OS) when freed. Huge blocks
 * get a 4 MiB-aligned mapping each; freed ones are kept mapped in a small
 * cache (DA_HUGE_CACHE_BUDGET bytes at most) and unmapped beyond it, since a
 * fresh mapping costs a page fault per page touched.
 */
#ifndef DA_ALLOC_LARGE_H
#define DA_ALLOC_LARGE_H

#include "alloc/chunk.h"

/*
 * A block of at least size bytes whose start is a multiple of align (a
 * power of two, at most 4 MiB unless the block is huge), zero-filled when
 * zero is set. NULL when out of memory. Locking: takes da_chunk_lock.
 */
void *da_large_malloc(size_t size, size_t align, int zero);

/* Grows large slab s to hold size bytes from its start, taking the free
 * units after it. 1 if it did. Locking: takes da_chunk_lock. */
int da_large_grow(struct da_slab *s, size_t size);

/* Grows huge block h to hold size bytes from its block start, in place.
 * 1 if it did. Locking: takes da_chunk_lock. */
int da_huge_grow(struct da_huge *h, size_t size);

/* Frees large slab s (its live byte already checked). */
void da_large_free(struct da_slab *s);

/* Frees huge block h (its state already checked). */
void da_huge_free(struct da_huge *h);

/* Unmaps every cached huge block. Returns the bytes given back.
 * Locking: takes da_chunk_lock; the _locked form expects it held. */
size_t da_huge_cache_drop(void);
size_t da_huge_cache_drop_locked(void);

/* Finishes huge frees deferred by da_huge_free. Locking: caller holds
 * da_chunk_lock. */
void da_huge_drain_deferred_locked(void);

#endif /* DA_ALLOC_LARGE_H */
