/*
 * alloc/large.h — blocks above DA_MEDIUM_MAX: blocks of pages (pages.h)
 * up to DA_PAGES_MAX, huge blocks beyond.
 *
 * A huge block gets a 4 MiB-aligned mapping of whole pages of its own.
 * Freed ones stay mapped in a cache within the retention budget (chunk.h)
 * and are handed out again for a request of any size, resized with
 * mremap, since a fresh mapping costs a page fault per page touched; they
 * are unmapped beyond the budget and after the decay.
 */
#ifndef DA_ALLOC_LARGE_H
#define DA_ALLOC_LARGE_H

#include "alloc/chunk.h"
#include "alloc/pages.h"

/*
 * A block of at least size bytes whose start is a multiple of align (a
 * power of two), zero-filled when zero is set: of pages when it fits,
 * huge otherwise. NULL when out of memory. Locking: takes da_chunk_lock.
 */
void *da_large_malloc(size_t size, size_t align, int zero);

/*
 * A block of at least size bytes for a caller that could not get one from
 * its heap because the chunk lock was out of its reach (a signal handler
 * that interrupted its thread's slow path): a mapping of its own, made
 * without any lock, listed by the next holder. NULL if the kernel refuses.
 */
void *da_large_malloc_without_lock(size_t size);

/* Blocks of pages and huge blocks handed out since the start (both
 * functions above count them). */
extern _Atomic uint64_t da_large_allocs;

/* Grows huge block h to hold size bytes from its block start, in place.
 * 1 if it did. Locking: takes da_chunk_lock. */
int da_huge_grow(struct da_huge *h, size_t size);

/* Frees huge block h (its state already checked). Returns 0 if another
 * free of it won the race (a double free). */
int da_huge_free(struct da_huge *h);

/* Unmaps every cached huge block. Returns the bytes given back.
 * Locking: takes da_chunk_lock; the _locked form expects it held. */
size_t da_huge_cache_drop(void);
size_t da_huge_cache_drop_locked(void);

/* Finishes huge frees deferred by da_huge_free. Locking: caller holds
 * da_chunk_lock. */
void da_huge_drain_deferred_locked(void);

#endif /* DA_ALLOC_LARGE_H */
