/*
 * alloc/chunk.h — regions of memory taken from the OS, and the slabs in them.
 *
 * A region is a chunk (4 MiB, cut into 64 units of 64 KiB), a huge mapping
 * (one block larger than DA_PAGES_MAX) or a page region (pages.h). Both start with a
 * struct da_region, and the page map (pagemap.h) maps every 4 MiB granule
 * they cover to that start.
 *
 *   chunk:  | unit 0: struct da_chunk | unit 1 | unit 2 | ... | unit 63 |
 *                                      \___ slab (1, 8 or n units) __/
 *
 *   slab of a size class:  | live map (1 byte/16 bytes) | block | block | ...
 *                            ^ s->live                   ^ s->area
 *
 *   huge:   | page: struct da_huge | ... data_off ... | block ...      |
 *
 * The live map has one byte per 16-byte granule of the block area. The byte
 * of a block's first granule says DA_FREE (never handed out), DA_LIVE
 * (handed out, the user pointer is the block start), DA_LIVE_ALIGNED
 * (handed out by an aligned call, the user pointer is further in; the
 * block's first word holds the distance), DA_FREED (handed out, then
 * freed: a free of it is a double free) or DA_FREED_ALIGNED (the same for
 * an aligned one); the bytes of its other granules
 * are always DA_FREE. So a
 * 16-aligned pointer whose byte is DA_LIVE is the start of a live block,
 * with no division. It is written by whoever allocates or frees that block,
 * so concurrent writers never share a byte.
 *
 * Locking: free_units, dirty_units, slab_of[] and the region lists change
 * only under da_chunk_lock. A slab's free list and counters belong to its
 * owner heap; other threads touch only thread_free (heap.h says how).
 */
#ifndef DA_ALLOC_CHUNK_H
#define DA_ALLOC_CHUNK_H

#include "alloc/config.h"
#include "alloc/lock.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum da_region_kind {
	DA_REGION_CHUNK = 0x43, /* 'C' */
	DA_REGION_HUGE = 0x48,  /* 'H' */
	DA_REGION_PAGES = 0x50, /* 'P': pages.h */
};

enum da_live {
	DA_FREE = 0,          /* never handed out (or not a block start) */
	DA_LIVE = 1,          /* handed out at its start */
	DA_LIVE_ALIGNED = 2,  /* handed out further in (aligned call) */
	DA_FREED = 3,         /* handed out, then freed */
	DA_FREED_ALIGNED = 4, /* the same, for a block handed out further in
	                         (its first words are alloc's, not what the
	                         free of a plain block leaves there) */
};

/* 1 if live-map state st is a block the program holds. */
static inline int
da_live_in_use(unsigned st)
{
	return st == DA_LIVE || st == DA_LIVE_ALIGNED;
}

enum da_slab_kind {
	DA_SLAB_NONE = 0,  /* units not in use (or the metadata unit) */
	DA_SLAB_CLASS = 1, /* blocks of one size class */
};

struct da_heap;

struct da_region {
	uint32_t kind; /* enum da_region_kind */
};

/* 128 bytes (aligned), so slabs[i] is one shift away from the chunk. */
struct __attribute__((aligned(64))) da_slab {
	/* Owner-only, read on every malloc/free: one cache line. */
	void *free;         /* blocks ready to hand out */
	uint32_t used;      /* blocks handed out and not yet taken back */
	uint32_t bsize;     /* block size (large: usable bytes) */
	char *area;         /* first block */
	uint8_t *live;      /* live map */
	uint64_t recip;     /* ceil(2^48 / bsize): offset -> index */
	uint32_t area_size; /* capacity * bsize */
	uint32_t unfull_at; /* owner frees down to this many used: look */
	uint8_t kind;       /* enum da_slab_kind */
	uint8_t cls;        /* size class */
	uint8_t units;      /* units in the slab */
	uint8_t first_unit; /* index of the slab's first unit */
	_Atomic(struct da_heap *) owner; /* NULL when abandoned */

	/* Shared with other threads. */
	_Atomic(uintptr_t) thread_free; /* remote frees | DA_TF_* (heap.h) */
	uint8_t in_list; /* 0 none, 1 partial, 2 full, 3 abandoned */
	/* The number of the thread whose heap took the slab last (heap.h:
	 * its thread; 0 for the fallback heap). Kept when the slab is
	 * abandoned, changed when another heap adopts it. */
	uint32_t thread;

	/* Owner-only bookkeeping. */
	uint32_t capacity; /* blocks in the slab */
	uint32_t reserved; /* blocks carved so far (the rest is untouched) */
	struct da_slab *next, *prev; /* partial, full or abandoned list */
	struct da_slab *qnext;       /* remote queue link */
};

struct da_chunk {
	struct da_region region;
	uint32_t units_used;
	uint64_t free_units;  /* bit u: unit u is free */
	uint64_t dirty_units; /* bit u: free unit u may hold old data */
	struct da_chunk *next, *prev;
	uint8_t slab_of
	        [DA_UNITS]; /* unit -> first unit of its slab (0: none) */
	struct da_slab slabs[DA_UNITS];
};

struct da_huge {
	struct da_region region;
	uint8_t state;   /* enum da_live; DA_FREED from its free on */
	uint8_t cached;  /* kept for reuse (its free is complete) */
	size_t map_size; /* bytes mapped from base */
	size_t data_off; /* block start = base + data_off */
	size_t usable;   /* bytes from block start to the end */
	struct da_huge *next, *prev;
	struct da_huge *dnext; /* deferred free link */
	struct da_huge *pnext; /* made without the lock: not yet listed */
};

extern struct da_lock da_chunk_lock;
/* Locking: the counters below change under da_chunk_lock. */
extern size_t da_units_in_use;      /* units of all chunks in slabs */
extern size_t da_pages_in_use;      /* bytes of page-region blocks */
extern size_t da_huge_live_bytes;   /* mapped bytes of live huge blocks */
extern size_t da_huge_cached_bytes; /* mapped bytes of freed huge blocks */
extern size_t da_huge_live_blocks;  /* live huge blocks */
extern size_t da_huge_peak_blocks, da_huge_peak_bytes; /* high-water */
extern size_t da_dirty_bytes;      /* free units and pages not purged */
extern size_t da_peak_in_use;      /* highest units + huge live bytes */
extern struct da_chunk *da_chunks; /* every chunk */
extern struct da_huge *da_huges;   /* every huge block, cached ones too */

_Static_assert(sizeof(struct da_slab) == 128, "da_slab is 128 bytes");

/* The slab that holds address p of chunk ch. */
DA_INLINE struct da_slab *
da_chunk_slab_at(struct da_chunk *ch, const void *p)
{
	unsigned u =
	        (unsigned)(((uintptr_t)p & DA_CHUNK_MASK) >> DA_UNIT_SHIFT);
	return &ch->slabs[ch->slab_of[u]];
}

static inline struct da_chunk *
da_slab_chunk(const struct da_slab *s)
{
	return (struct da_chunk *)((uintptr_t)s & ~DA_CHUNK_MASK);
}

/*
 * Block index of any address p in class slab s, or SIZE_MAX when p is
 * outside the area: off * ceil(2^48 / bsize) >> 48 is off / bsize exactly
 * for every off < 2^19 (see tests/unit/test_sizeclass.c).
 */
/* The live-map byte of block start b of class slab s. */
DA_INLINE uint8_t *
da_slab_live(const struct da_slab *s, const void *b)
{
	return s->live + ((size_t)((const char *)b - s->area) >> 4);
}

DA_INLINE size_t
da_slab_index(const struct da_slab *s, const void *p)
{
	size_t off = (size_t)((const char *)p - s->area);
	if (off >= s->area_size)
		return SIZE_MAX;
	return (size_t)(((uint64_t)off * s->recip) >> 48);
}

/*
 * Takes a run of units free units from some chunk (mapping a new chunk if
 * none has room) and returns the slab metadata of its first unit, with
 * kind, units, first_unit and area set; *zeroed says whether the whole run
 * reads as zeros. NULL with no memory, or when the calling thread already
 * holds the chunk lock (a signal handler re-entering a slow path).
 * Locking: takes da_chunk_lock.
 */
struct da_slab *da_chunk_take_units(unsigned units, int *zeroed);

/* Gives the units of s back; they stay committed (dirty) until a purge.
 * Locking: takes da_chunk_lock, or, when that could deadlock (see
 * da_lock_take), leaves the work to the next holder. */
void da_chunk_give_units(struct da_slab *s);

/* Purges every dirty free unit and unmaps empty chunks but one. Returns
 * the bytes given back. Locking: takes da_chunk_lock. */
size_t da_chunk_trim(void);

/* Purges dirty free units (and pages, pages.h) until want bytes are given
 * back; with want SIZE_MAX, all of them, and unmaps every empty chunk but
 * one. Returns the bytes given back. Locking: caller holds da_chunk_lock. */
size_t da_chunk_purge_dirty_locked(size_t want);

/* Finishes the frees that were deferred because the lock was out of reach.
 * Locking: caller holds da_chunk_lock. */
void da_chunk_drain_deferred_locked(void);

/* How much freed memory may stay committed now: the distance from the
 * memory in use to its peak, plus DA_RETAIN_FLOOR. Updates the peak.
 * Locking: caller holds da_chunk_lock. */
size_t da_chunk_retain_budget_locked(void);

/* The periodic check (heap.c calls it about twice a second while any
 * thread allocates): finishes deferred frees and lets retained memory
 * decay. Locking: takes da_chunk_lock if it is free, else does nothing. */
void da_chunk_decay(void);

/* Purges dirty units (and drops cached huge blocks, through
 * da_huge_cache_drop_locked) when retained memory is over the budget or
 * has not been purged for DA_RETAIN_DECAY_MS. Locking: caller holds
 * da_chunk_lock. */
void da_chunk_retain_check_locked(void);

#endif /* DA_ALLOC_CHUNK_H */
