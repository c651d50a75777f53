/*
 * alloc/pages.h — blocks of whole pages, from 32 KiB to DA_PAGES_MAX, cut
 * from page regions: mappings of 32 MiB (8 page-map granules, the first
 * DA_PM_PAGES, the rest DA_PM_TAIL) shared by blocks of every size, as a
 * heap is. So a block loses at most a page to rounding, freed pages serve
 * the next block whatever its size (they are warm: no page fault), and
 * blocks of one size pack a region to within an eighth (DA_PAGES_MAX is 4
 * MiB, an eighth of the region less its header).
 *
 *   | header pages: struct da_pregion | block | block | free | block | ...
 *
 * Per page, three bit maps: free (in no block), dirty (free, and may hold
 * old data: committed until purged), start (a block starts here: a live
 * one, or a freed one whose pages have not been reused yet). At a start
 * page, npages and state describe the block; a pointer's block is the last
 * start at or before its page, if the pointer is inside it.
 *
 * Locking: everything here changes under da_chunk_lock. Lookups read
 * without it (pagemap.h says how they stay safe against unmapping); what
 * they read is bounded (indexes are checked), never trusted.
 */
#ifndef DA_ALLOC_PAGES_H
#define DA_ALLOC_PAGES_H

#include "alloc/chunk.h"

#define DA_PAGES_SIZE   ((size_t)1 << DA_PAGES_SHIFT)
#define DA_PAGES_NPAGES (DA_PAGES_SIZE / DA_PAGE) /* 8192 */
#define DA_PAGES_WORDS  (DA_PAGES_NPAGES / 64)

struct da_pregion {
	struct da_region region; /* DA_REGION_PAGES */
	uint32_t free_pages;     /* pages in no block */
	struct da_pregion *next, *prev;
	uint64_t free_map[DA_PAGES_WORDS];
	uint64_t dirty_map[DA_PAGES_WORDS];
	uint64_t start_map[DA_PAGES_WORDS];
	uint16_t npages[DA_PAGES_NPAGES]; /* at a start: the block's pages */
	uint8_t state[DA_PAGES_NPAGES];   /* at a start: enum da_live */
};

/* Pages at the front of a region that hold its header. */
#define DA_PAGES_HEADER ((sizeof(struct da_pregion) + DA_PAGE - 1) / DA_PAGE)

extern struct da_pregion *da_pregions; /* every region */
extern size_t da_pages_in_use;         /* bytes of pages in live blocks */

/*
 * A block of at least size bytes (0 < size <= DA_PAGES_MAX) whose start is
 * a multiple of align (a power of two, at most 4 MiB), zero-filled if zero
 * is set. NULL when out of memory, or when the calling thread holds the
 * chunk lock already (a signal handler). Locking: takes da_chunk_lock.
 */
void *da_pages_malloc(size_t size, size_t align, int zero);

/*
 * The block of region r that p points into: its first page in *first, and
 * 1; or 0 if p is in no block (the header, free pages). Lock-free; the
 * answer may be stale under a concurrent free, never out of bounds.
 */
int da_pages_find(const struct da_pregion *r, const void *p, unsigned *first);

/* Frees the block starting at page first of r (its state already
 * checked). Returns 0 if another free of it won the race (a double free).
 * Defers the work when the lock is out of reach (see da_lock_take): the
 * block reads as freed at once all the same. */
int da_pages_free(struct da_pregion *r, unsigned first);

/* Grows the block at page first of r to hold size bytes, taking the free
 * pages after it. 1 if it did. Locking: takes da_chunk_lock. */
int da_pages_grow(struct da_pregion *r, unsigned first, size_t size);

/* Releases the pages of free runs (madvise), the highest first, until
 * want bytes are given back; with want SIZE_MAX all of them, and unmaps
 * every empty region but one. Returns the bytes released. Locking: caller
 * holds da_chunk_lock. */
size_t da_pages_purge_locked(size_t want);

/* Finishes frees deferred by da_pages_free. Locking: caller holds
 * da_chunk_lock. */
void da_pages_drain_deferred_locked(void);

/* Calls fn for every live block of every region (walk.c). Locking: caller
 * holds da_chunk_lock. */
struct da_block;
int da_pages_walk_locked(int (*fn)(const struct da_block *b, void *arg),
                         void *arg);

#endif /* DA_ALLOC_PAGES_H */
