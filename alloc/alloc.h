/*
 * alloc/alloc.h — what alloc/ offers audit/: raw blocks, and answers about
 * them. Nothing here knows of call sites, leaks or reports.
 *
 * Blocks are 16-byte aligned. A pointer returned by da_alloc_aligned may lie
 * inside its block (the block is then DA_LIVE_ALIGNED and its first word
 * holds the distance); every query below answers for both kinds.
 *
 * No function here calls malloc, stdio or getenv, or takes a lock on the
 * common path (a thread's own small and medium blocks). All preserve errno;
 * failures are reported by return value.
 */
#ifndef DA_ALLOC_ALLOC_H
#define DA_ALLOC_ALLOC_H

#include "alloc/config.h"
#include "alloc/heap.h"
#include "alloc/large.h"
#include "alloc/pagemap.h"
#include "alloc/pages.h"

#include <stddef.h>

/* A block as the queries describe it. */
struct da_block {
	void *start; /* first byte of the block */
	void *user;  /* pointer the caller was given (start, or further in) */
	size_t size; /* usable bytes from user to the end of the block */
	int state;   /* enum da_live */
};

/* Why a pointer cannot be freed. */
enum da_free_error {
	DA_FREE_OK = 0,
	DA_FREE_FOREIGN,  /* not in memory of ours at all */
	DA_FREE_UNUSED,   /* in our memory, but no block was handed out
			     there (metadata, free units, a block start
			     never handed out) */
	DA_FREE_DOUBLE,   /* the pointer of a block handed out and freed */
	DA_FREE_INTERIOR, /* inside a block, but not the pointer handed out */
};

void *da_alloc_malloc_slow(size_t size);

/*
 * A block of at least size bytes, or NULL; *prev says whether it was freed
 * before (enum da_prev in heap.h: only class blocks are ever DA_PREV_FREED,
 * larger ones may have been given back to the OS in between) and, for a
 * class block, its size.
 */
DA_INLINE void *
da_alloc_malloc_prev(size_t size, unsigned *prev)
{
	if (da_likely(size <= DA_MEDIUM_MAX))
		return da_heap_malloc(size, prev);
	*prev = DA_PREV_NEW;
	return da_alloc_malloc_slow(size);
}

/* The fast path of da_alloc_malloc_prev alone (no call): a class block
 * from the calling thread's heap, or NULL when that needs more (then call
 * da_alloc_malloc_prev). */
DA_INLINE void *
da_alloc_pop_prev(size_t size, unsigned *prev)
{
	if (da_likely(size <= DA_MEDIUM_MAX))
		return da_heap_pop(size, prev);
	return NULL;
}

/* A block of at least size bytes, or NULL. */
DA_INLINE void *
da_alloc_malloc(size_t size)
{
	unsigned prev;
	return da_alloc_malloc_prev(size, &prev);
}

/* The calling thread's periodic work (heap.h: da_heap_tick), for callers
 * that hand out blocks: every few hundred allocations, out of the fast
 * path. Nothing for a thread without a heap of its own. */
DA_INLINE void
da_alloc_periodic(void)
{
	struct da_heap *h = da_tls_heap;
	if (h != &da_heap_empty && h != &da_heap_busy)
		da_heap_tick(h);
}

/* The size of the blocks that serve a request of size bytes, for requests
 * up to DA_MEDIUM_MAX (the class size). */
DA_INLINE size_t
da_alloc_class_size(size_t size)
{
	return da_class_size[da_class_of(size)];
}

/*
 * The common case of a free: p is the start of a live plain block of a
 * size class. Returns its slab (and its live-map byte in *live), or NULL
 * when p needs da_alloc_free (large, huge, aligned, or bad). No lock, no
 * call; nothing changes until da_alloc_free_small.
 */
DA_INLINE struct da_slab *
da_alloc_find_small(void *p, uint8_t **live)
{
	if (da_likely(da_pagemap_kind(p) == DA_PM_CHUNK)) {
		/* Units outside class slabs have area_size 0 (the metadata
		 * unit, free units, large blocks): "inside" fails for them. */
		struct da_chunk *ch =
		        (struct da_chunk *)((uintptr_t)p & ~DA_CHUNK_MASK);
		struct da_slab *s = da_chunk_slab_at(ch, p);
		size_t off = (size_t)((char *)p - s->area);
		if (da_likely(off < s->area_size && (off & 15) == 0 &&
		              s->live[off >> 4] == DA_LIVE)) {
			*live = &s->live[off >> 4];
			return s;
		}
	}
	return NULL;
}

/* Frees p, found by da_alloc_find_small. About 15 instructions. */
DA_INLINE void
da_alloc_free_small(struct da_slab *s, uint8_t *live, void *p)
{
	da_heap_free_block(s, live, p);
}

/* 1 if the calling thread's heap owns the class slab s. */
DA_INLINE int
da_alloc_owns_small(const struct da_slab *s)
{
	return da_heap_owns(s);
}

/* da_alloc_free_small for a slab the calling thread owns
 * (da_alloc_owns_small): it makes no call but as its last act. */
DA_INLINE void
da_alloc_free_owned(struct da_slab *s, uint8_t *live, void *p)
{
	da_heap_free_owned(s, live, p);
}

/* The size of the blocks of slab s (a class slab). */
DA_INLINE size_t
da_alloc_slab_block_size(const struct da_slab *s)
{
	return s->bsize;
}

/* Both in one: returns 1 when it freed p, 0 when p needs da_alloc_free. */
DA_INLINE int
da_alloc_free_fast(void *p)
{
	uint8_t *live;
	struct da_slab *s = da_alloc_find_small(p, &live);
	if (s == NULL)
		return 0;
	da_alloc_free_small(s, live, p);
	return 1;
}

/*
 * Frees p (not NULL), whatever kind of block. Returns DA_FREE_OK, or why
 * not, with the block that p points into (if any) described in *bad;
 * nothing is changed then.
 */
int da_alloc_free(void *p, struct da_block *bad);

/*
 * Grows the live block whose pointer is p, in place, so that it holds at
 * least size bytes: a block of pages takes the free pages after it, a huge
 * block is extended with mremap where the address space after it is free.
 * Returns 1 if it did (the contents stay), 0 if the block must move.
 */
int da_alloc_grow(void *p, size_t size);

/*
 * What to allocate when a block of usable size old must move to hold size
 * bytes: size itself, or for a block of pages that grows, half as much
 * again (up to DA_PAGES_MAX), so that a buffer grown step by step moves a
 * few times instead of at every page it cannot take in place.
 */
DA_INLINE size_t
da_alloc_growth_size(size_t old, size_t size)
{
	if (size <= old || size <= DA_MEDIUM_MAX || size >= DA_PAGES_MAX)
		return size;
	size_t more = size + size / 2;
	return more < DA_PAGES_MAX ? more : DA_PAGES_MAX;
}

/*
 * For a caller whose allocation failed because a lock was out of its reach
 * (a signal handler that interrupted its thread's slow path): a block of
 * fresh (zero) pages mapped on its own, without any lock. NULL if the
 * kernel refuses.
 */
DA_INLINE void *
da_alloc_malloc_without_lock(size_t size)
{
	return size <= DA_MAX_REQUEST ? da_large_malloc_without_lock(size)
	                              : NULL;
}

/* A zero-filled block (fresh pages are not written again). */
void *da_alloc_zalloc(size_t size);

/*
 * A block whose user pointer u has u + off a multiple of align (a power of
 * two; off a multiple of DA_ALIGN and below align, or 0): audit puts its
 * off-byte header before the pointer it hands out. size counts from u.
 */
void *da_alloc_aligned_at(size_t align, size_t off, size_t size);

/* A block whose user pointer is a multiple of align (a power of two). */
static inline void *
da_alloc_aligned(size_t align, size_t size)
{
	return da_alloc_aligned_at(align, 0, size);
}

/*
 * Describes the block containing address p in *b (any state) and returns
 * 1; returns 0 if p is not inside a block of ours. Never reads memory that
 * the page map does not vouch for. May allocate: no. Lock-free.
 */
int da_alloc_lookup(const void *p, struct da_block *b);

/* Why p is not a live block's pointer (an enum da_free_error, never
 * DA_FREE_OK when p is not one), describing its block in *b if any. */
int da_alloc_diagnose(const void *p, struct da_block *b);

/*
 * 1 if p is the pointer handed out for a live block; *b describes it. For
 * a pointer the program holds (free, realloc, malloc_usable_size): the
 * block cannot go away during the call. For any pointer:
 * da_alloc_owns_any.
 */
DA_INLINE int
da_alloc_owns(const void *p, struct da_block *b)
{
	return da_alloc_lookup(p, b) && da_live_in_use((unsigned)b->state) &&
	       b->user == p;
}

/* The same for any pointer at all, even one another thread is freeing
 * (its region may be unmapped meanwhile: pagemap.h). */
int da_alloc_owns_any(const void *p, struct da_block *b);

/*
 * Completes b, a block whose state is DA_LIVE_ALIGNED, from the distance
 * stored in its first word: sets b->user and b->size. Returns 0 (b
 * unchanged) when that word cannot be the distance, because the block was
 * freed while we looked.
 */
int da_alloc_aligned_user(struct da_block *b);

/*
 * Calls fn for every live block, stopping early when fn returns non-zero
 * (which is then returned). Holds the chunk lock throughout, so blocks do
 * not come and go in other threads' slow paths, and fn must not allocate:
 * an allocation that needs a new slab fails while the walk runs.
 */
int da_alloc_walk(int (*fn)(const struct da_block *b, void *arg), void *arg);

/*
 * The same for every freed block of a size class that was handed out and
 * not handed out again since (DA_FREED: its contents are what its free
 * left), with the same locking.
 */
int da_alloc_walk_freed(int (*fn)(const struct da_block *b, void *arg),
                        void *arg);

/* Gives free memory back to the OS. Returns the bytes given back. */
size_t da_alloc_trim(void);

struct da_alloc_stats {
	size_t mapped;      /* bytes mapped: the arena and every huge one */
	size_t arena;       /* bytes of chunks and page regions */
	size_t live_blocks; /* blocks handed out and not freed */
	size_t live_bytes;  /* their usable bytes */
	size_t huge_blocks; /* live huge blocks */
	size_t huge_bytes;  /* their mapped bytes */
	size_t huge_usable; /* their usable bytes (part of live_bytes) */
	size_t huge_cached; /* bytes of freed huge blocks kept mapped */
	size_t huge_peak_blocks, huge_peak_bytes; /* highest since start */
};

/* Counts by walking; slow (every block), for mallinfo2 and tests. */
void da_alloc_stats(struct da_alloc_stats *st);

/*
 * The size classes as the dump's K records show them: per class c (and
 * at DA_NCLASSES, the blocks of pages and huge blocks together), the
 * slabs (page regions and huge mappings) and their bytes, the blocks live
 * now (alloc's view: every block handed out and not freed, dbgalloc's own
 * and those in flight included), and the blocks handed out since the
 * start. metadata: the bytes of alloc's own tables (the chunks' metadata
 * units, the page regions' headers, huge blocks' header pages, the slabs'
 * live maps).
 */
struct da_class_stats {
	uint64_t slabs, slab_bytes, live_blocks, allocs;
};
#define DA_CLASS_LARGE DA_NCLASSES
void da_alloc_class_stats(struct da_class_stats st[DA_NCLASSES + 1],
                          uint64_t *metadata);

/*
 * For walks that read every live block's first bytes quickly (statistics):
 * fn is called once per class slab with its geometry, and reads the live
 * map itself (a block i is live when live[(i * bsize) >> 4] is DA_LIVE, or
 * DA_LIVE_ALIGNED: then da_alloc_aligned_user tells its pointer), then
 * da_alloc_walk_large's fn once per block of pages and huge block. Locking:
 * as da_alloc_walk.
 */
struct da_slab_view {
	char *area;          /* the first block */
	const uint8_t *live; /* the live map */
	uint32_t bsize;      /* block size */
	uint32_t end;        /* blocks carved (the others were never live) */
	unsigned cls;        /* the size class */
};
void da_alloc_walk_slabs(void (*fn)(const struct da_slab_view *v, void *arg),
                         void *arg);
int da_alloc_walk_large(int (*fn)(const struct da_block *b, void *arg),
                        void *arg);

/* The live blocks of each class (at DA_CLASS_LARGE, the others), added to
 * live[], counted from the live maps: a few bytes a block. Locking: takes
 * the chunk lock (held already under a stop: lock.h). */
void da_alloc_class_live(uint64_t live[DA_NCLASSES + 1]);

/*
 * For the block starting at start (a live block's start, as the walk gives
 * it): its size class (DA_CLASS_LARGE if it is not a class block) and the
 * number of the thread whose heap holds its slab (heap.h; 0 when none: a
 * large block, the fallback heap's). Lock-free.
 */
void da_alloc_block_owner(const void *start, unsigned *cls, uint32_t *thread);

/* Bytes mapped from the OS for blocks (da_alloc_stats' mapped), without
 * the walk: a few list steps under the chunk lock. 0 if the lock could
 * not be taken (a signal handler inside the allocator). */
size_t da_alloc_mapped(void);

#endif /* DA_ALLOC_ALLOC_H */
