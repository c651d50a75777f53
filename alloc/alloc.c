/*
 * alloc/alloc.c — the slow paths behind alloc.h: requests above the size
 * classes, zeroed and aligned blocks, every free that is not a class
 * block's, and the queries.
 */
#include "alloc/alloc.h"
#include "alloc/guard.h"

#include <stdatomic.h>
#include <string.h>

void *
da_alloc_malloc_slow(size_t size)
{
	if (size > DA_MAX_REQUEST)
		return NULL;
	return da_large_malloc(size, 0, 0);
}

void *
da_alloc_zalloc(size_t size)
{
	if (size <= DA_MEDIUM_MAX) {
		void *p = da_alloc_malloc(size);
		if (p != NULL)
			memset(p, 0, size);
		return p;
	}
	if (size > DA_MAX_REQUEST)
		return NULL;
	return da_large_malloc(size, 0, 1);
}

/* The live-map byte of the block of class slab s containing p, and that
 * block's start in *start; NULL if p is in no block of s. */
static uint8_t *
slab_block(struct da_slab *s, const void *p, char **start)
{
	uint8_t kind = __atomic_load_n(&s->kind, __ATOMIC_ACQUIRE);
	if (kind != DA_SLAB_CLASS)
		return NULL;
	size_t idx = da_slab_index(s, p);
	if (idx == SIZE_MAX)
		return NULL;
	*start = s->area + idx * s->bsize;
	return da_slab_live(s, *start);
}

/* Marks the block starting at start as handed out at user, further in:
 * the distance goes in its first word, the state in the live map (class
 * blocks) or the region (blocks of pages, huge blocks). */
static void
mark_aligned(char *start, char *user)
{
	struct da_region *r = da_pagemap_find(start);
	*(size_t *)start = (size_t)(user - start);
	if (r->kind == DA_REGION_HUGE) {
		__atomic_store_n(&((struct da_huge *)r)->state, DA_LIVE_ALIGNED,
		                 __ATOMIC_RELEASE);
	} else if (r->kind == DA_REGION_PAGES) {
		struct da_pregion *pr = (struct da_pregion *)r;
		size_t first = (size_t)(start - (char *)pr) / DA_PAGE;
		__atomic_store_n(&pr->state[first], DA_LIVE_ALIGNED,
		                 __ATOMIC_RELEASE);
	} else {
		char *b;
		struct da_chunk *ch = (struct da_chunk *)r;
		*slab_block(da_chunk_slab_at(ch, start), start, &b) =
		        DA_LIVE_ALIGNED;
	}
}

void *
da_alloc_aligned_at(size_t align, size_t off, size_t size)
{
	if (align <= DA_ALIGN)
		return da_alloc_malloc(size);
	if (size > DA_MAX_REQUEST || align > DA_MAX_REQUEST / 2)
		return NULL;
	/* Size 0 counts as 1 below: an aligned address at a block's very end
	 * would be the start of whatever follows it. */
	if (size == 0)
		size = 1;
	char *b, *p;
	if (size > DA_MEDIUM_MAX || align >= DA_PAGE) {
		/* Blocks of pages and huge blocks are placed at the
		 * alignment: with an offset, the pointer goes align - off in. */
		if (off == 0)
			return da_large_malloc(size, align, 0);
		b = da_large_malloc(size + align, align, 0);
		if (b == NULL)
			return NULL;
		p = b + align - off;
	} else {
		/* Over-allocate: a 16-aligned block of size + align - 16
		 * bytes has a pointer p, p + off aligned, with size bytes
		 * after it. */
		b = da_alloc_malloc(size + align - DA_ALIGN);
		if (b == NULL)
			return NULL;
		p = (char *)((((uintptr_t)b + off + align - 1) &
		              ~(uintptr_t)(align - 1)) -
		             off);
	}
	if (p != b)
		mark_aligned(b, p);
	return p;
}

int
da_alloc_aligned_user(struct da_block *b)
{
	size_t off = __atomic_load_n((size_t *)b->start, __ATOMIC_RELAXED);
	if (off == 0 || off >= b->size || (off & (DA_ALIGN - 1)) != 0)
		return 0;
	b->user = (char *)b->start + off;
	b->size -= off;
	return 1;
}

int
da_alloc_lookup(const void *p, struct da_block *b)
{
	struct da_region *r = da_pagemap_find(p);
	if (r == NULL)
		return da_guard_owns(p) ? da_guard_extent(p, b) : 0;
	char *start;
	size_t size;
	int state;
	if (r->kind == DA_REGION_HUGE) {
		struct da_huge *h = (struct da_huge *)r;
		start = (char *)h + h->data_off;
		if ((const char *)p < start ||
		    (const char *)p >= (char *)h + h->map_size)
			return 0;
		size = h->usable;
		state = __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
	} else if (r->kind == DA_REGION_PAGES) {
		struct da_pregion *pr = (struct da_pregion *)r;
		unsigned first;
		if (!da_pages_find(pr, p, &first))
			return 0;
		start = (char *)pr + (size_t)first * DA_PAGE;
		size = (size_t)__atomic_load_n(&pr->npages[first],
		                               __ATOMIC_RELAXED) *
		       DA_PAGE;
		state = __atomic_load_n(&pr->state[first], __ATOMIC_ACQUIRE);
	} else {
		struct da_slab *s = da_chunk_slab_at((struct da_chunk *)r, p);
		uint8_t *live = slab_block(s, p, &start);
		if (live == NULL)
			return 0;
		size = s->bsize;
		state = __atomic_load_n(live, __ATOMIC_RELAXED);
	}
	b->start = start;
	b->user = start;
	b->size = size;
	b->state = state;
	if (state == DA_LIVE_ALIGNED)
		da_alloc_aligned_user(b);
	return 1;
}

int
da_alloc_owns_any(const void *p, struct da_block *b)
{
	unsigned ticket = da_pagemap_enter();
	int owns = da_alloc_owns(p, b);
	da_pagemap_leave(ticket);
	return owns;
}

/*
 * Large and huge blocks recently freed: their memory leaves the page map
 * or becomes free units, so the live map cannot tell a second free of one
 * from a pointer that was never handed out. A small ring remembers the
 * last DA_FREED_RING of them (racy by design: read only to word reports).
 */
#define DA_FREED_RING 64
static struct {
	_Atomic(uintptr_t) user;
	_Atomic(size_t) size;
} freed_ring[DA_FREED_RING];
static _Atomic(unsigned) freed_next;

static void
freed_ring_add(const struct da_block *b)
{
	unsigned i =
	        atomic_fetch_add_explicit(&freed_next, 1, memory_order_relaxed);
	i %= DA_FREED_RING;
	atomic_store_explicit(&freed_ring[i].user, 0, memory_order_relaxed);
	atomic_store_explicit(&freed_ring[i].size, b->size,
	                      memory_order_relaxed);
	atomic_store_explicit(&freed_ring[i].user, (uintptr_t)b->user,
	                      memory_order_release);
}

/* The size of the block most recently freed at p, or 0. */
static size_t
freed_ring_find(const void *p)
{
	unsigned next = atomic_load_explicit(&freed_next, memory_order_relaxed);
	for (unsigned k = 1; k <= DA_FREED_RING; k++) {
		unsigned i = (next - k) % DA_FREED_RING;
		if (atomic_load_explicit(&freed_ring[i].user,
		                         memory_order_acquire) == (uintptr_t)p)
			return atomic_load_explicit(&freed_ring[i].size,
			                            memory_order_relaxed);
	}
	return 0;
}

/* 1 if no slab holds p now (so a ring entry for p still describes it). */
static int
nothing_there_now(const void *p)
{
	struct da_region *r = da_pagemap_find(p);
	unsigned first;
	if (r == NULL)
		return 1;
	if (r->kind == DA_REGION_PAGES)
		return !da_pages_find((struct da_pregion *)r, p, &first);
	if (r->kind != DA_REGION_CHUNK)
		return 0;
	struct da_slab *s = da_chunk_slab_at((struct da_chunk *)r, p);
	return __atomic_load_n(&s->kind, __ATOMIC_ACQUIRE) == DA_SLAB_NONE &&
	       ((uintptr_t)p & DA_CHUNK_MASK) >= DA_UNIT_SIZE;
}

/*
 * An aligned block's pointer lies inside the block, so a second free of it
 * looks like an interior pointer. When such a block is freed, its second
 * word (the first becomes a free-list link) gets this tag of its start and
 * user pointer; it lasts until the block is handed out again.
 */
static uintptr_t
aligned_tag(const void *start, const void *user)
{
	return ((uintptr_t)start ^ 0x5bd1e9955bd1e995u) +
	       (uintptr_t)((const char *)user - (const char *)start);
}

int
da_alloc_free(void *p, struct da_block *bad)
{
	struct da_block b;
	int err = da_alloc_diagnose(p, &b);
	if (err != DA_FREE_OK) {
		*bad = b;
		return err;
	}
	struct da_region *r = da_pagemap_find(p);
	if (r == NULL) { /* guard-page space: its pointer is past the room */
		err = da_guard_free((char *)p + da_guard_cfg.header);
		if (err != DA_FREE_OK) {
			b.state = DA_FREED;
			*bad = b;
		}
		return err;
	}
	if (r->kind == DA_REGION_HUGE || r->kind == DA_REGION_PAGES) {
		int freed;
		freed_ring_add(&b);
		if (r->kind == DA_REGION_HUGE)
			freed = da_huge_free((struct da_huge *)r);
		else
			freed = da_pages_free(
			        (struct da_pregion *)r,
			        (unsigned)(((char *)b.start - (char *)r) /
			                   DA_PAGE));
		if (!freed) { /* another free of it came first */
			b.state = DA_FREED;
			*bad = b;
			return DA_FREE_DOUBLE;
		}
		return DA_FREE_OK;
	}
	struct da_slab *s = da_chunk_slab_at((struct da_chunk *)r, p);
	if (b.state == DA_LIVE_ALIGNED)
		((uintptr_t *)b.start)[1] = aligned_tag(b.start, b.user);
	da_heap_free_block_as(s, da_slab_live(s, b.start), b.start,
	                      b.state == DA_LIVE_ALIGNED ? DA_FREED_ALIGNED
	                                                 : DA_FREED);
	return DA_FREE_OK;
}

/* diagnose for a block b that is not in use (a FREE or FREED state). */
static int
diagnose_free_block(const void *p, struct da_block *b)
{
	if (p == b->start && b->state == DA_FREED)
		return DA_FREE_DOUBLE;
	if (p != b->start && b->state == DA_FREED_ALIGNED &&
	    (size_t)((const char *)p - (char *)b->start) < b->size &&
	    b->size >= 2 * sizeof(uintptr_t) &&
	    ((uintptr_t *)b->start)[1] == aligned_tag(b->start, p)) {
		b->size -= (size_t)((const char *)p - (char *)b->start);
		b->user = (void *)p;
		return DA_FREE_DOUBLE;
	}
	return p == b->start ? DA_FREE_UNUSED : DA_FREE_INTERIOR;
}

int
da_alloc_diagnose(const void *p, struct da_block *b)
{
	int err;
	unsigned ticket = da_pagemap_enter();
	if (!da_alloc_lookup(p, b)) {
		memset(b, 0, sizeof(*b));
		size_t ring = nothing_there_now(p) ? freed_ring_find(p) : 0;
		if (ring != 0) {
			b->start = b->user = (void *)p;
			b->size = ring;
			b->state = DA_FREED;
			err = DA_FREE_DOUBLE;
		} else {
			err = da_pagemap_kind(p) == DA_PM_NONE ? DA_FREE_FOREIGN
			                                       : DA_FREE_UNUSED;
		}
	} else if (da_live_in_use((unsigned)b->state)) {
		err = p == b->user ? DA_FREE_OK : DA_FREE_INTERIOR;
	} else {
		err = diagnose_free_block(p, b);
	}
	da_pagemap_leave(ticket);
	return err;
}

int
da_alloc_grow(void *p, size_t size)
{
	struct da_block b;
	if (!da_alloc_owns(p, &b))
		return 0;
	size_t need = size + (size_t)((char *)b.user - (char *)b.start);
	if (need < size)
		return 0;
	struct da_region *r = da_pagemap_find(p);
	if (r == NULL)
		return 0; /* a guarded block ends at its guard page */
	if (r->kind == DA_REGION_HUGE)
		return da_huge_grow((struct da_huge *)r, need);
	if (r->kind == DA_REGION_PAGES)
		return da_pages_grow(
		        (struct da_pregion *)r,
		        (unsigned)(((char *)b.start - (char *)r) / DA_PAGE),
		        need);
	return 0; /* a class block never grows in place */
}

size_t
da_alloc_trim(void)
{
	DA_OP_ENTER();
	size_t given = da_heap_trim();
	given += da_huge_cache_drop();
	given += da_chunk_trim();
	DA_OP_LEAVE();
	return given;
}
