/*
 * alloc/alloc.c — the slow paths behind alloc.h: large requests, zeroed and
 * aligned blocks, and every free that is not a thread's own plain block.
 */
#include "alloc/alloc.h"

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
		void *p = da_heap_malloc(size);
		if (p != NULL)
			memset(p, 0, size);
		return p;
	}
	if (size > DA_MAX_REQUEST)
		return NULL;
	return da_large_malloc(size, 0, 1);
}

/* The live-map byte of the block of slab s (class or large) containing p,
 * and that block's start in *start; NULL if p is in no block of s. */
static uint8_t *
slab_block(struct da_slab *s, const void *p, char **start)
{
	uint8_t kind = __atomic_load_n(&s->kind, __ATOMIC_ACQUIRE);
	if (kind == DA_SLAB_LARGE) {
		if ((size_t)((const char *)p - s->area) >= s->bsize)
			return NULL;
		*start = s->area;
		return &s->live_one;
	}
	if (kind != DA_SLAB_CLASS)
		return NULL;
	size_t idx = da_slab_index(s, p);
	if (idx == SIZE_MAX)
		return NULL;
	*start = s->area + idx * s->bsize;
	return da_slab_live(s, *start);
}

/* Marks the block starting at start as handed out at user, further in. */
static void
mark_aligned(char *start, char *user)
{
	struct da_region *r = da_pagemap_find(start);
	*(size_t *)start = (size_t)(user - start);
	if (r->kind == DA_REGION_HUGE) {
		((struct da_huge *)r)->state = DA_LIVE_ALIGNED;
		return;
	}
	char *b;
	*slab_block(da_chunk_slab_at((struct da_chunk *)r, start), start, &b) =
	        DA_LIVE_ALIGNED;
}

void *
da_alloc_aligned(size_t align, size_t size)
{
	if (align <= DA_ALIGN)
		return da_alloc_malloc(size);
	if (size > DA_MAX_REQUEST || align > DA_MAX_REQUEST / 2)
		return NULL;
	/* Size 0 counts as 1 below: an aligned address at a block's very end
	 * would be the start of whatever follows it. */
	if (size == 0)
		size = 1;
	/* Large and huge blocks can be placed at the alignment directly. */
	if (size > DA_MEDIUM_MAX || align >= DA_UNIT_SIZE)
		if (align <= DA_UNIT_SIZE || size + align > DA_LARGE_MAX)
			return da_large_malloc(size, align, 0);
	/* Otherwise over-allocate: a 16-aligned block of size + align - 16
	 * bytes has an align-aligned address with size bytes after it. */
	char *b = da_alloc_malloc(size + align - DA_ALIGN);
	if (b == NULL)
		return NULL;
	char *p =
	        (char *)(((uintptr_t)b + align - 1) & ~(uintptr_t)(align - 1));
	if (p != b)
		mark_aligned(b, p);
	return p;
}

int
da_alloc_lookup(const void *p, struct da_block *b)
{
	struct da_region *r = da_pagemap_find(p);
	if (r == NULL)
		return 0;
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
	if (state == DA_LIVE_ALIGNED) {
		size_t off = *(size_t *)start;
		if (off < size) {
			b->user = start + off;
			b->size = size - off;
		}
	}
	return 1;
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
	if (r->kind == DA_REGION_HUGE) {
		da_huge_free((struct da_huge *)r);
		return DA_FREE_OK;
	}
	struct da_slab *s = da_chunk_slab_at((struct da_chunk *)r, p);
	if (s->kind == DA_SLAB_LARGE) {
		da_large_free(s);
		return DA_FREE_OK;
	}
	da_heap_free_block(s, da_slab_live(s, b.start), b.start);
	return DA_FREE_OK;
}

int
da_alloc_diagnose(const void *p, struct da_block *b)
{
	if (!da_alloc_lookup(p, b)) {
		memset(b, 0, sizeof(*b));
		return da_pagemap_kind(p) == DA_PM_NONE ? DA_FREE_FOREIGN
		                                        : DA_FREE_UNUSED;
	}
	if (b->state == DA_FREE)
		return p == b->start ? DA_FREE_DOUBLE : DA_FREE_INTERIOR;
	return p == b->user ? DA_FREE_OK : DA_FREE_INTERIOR;
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
	if (r->kind == DA_REGION_HUGE)
		return da_huge_grow((struct da_huge *)r, need);
	struct da_slab *s = da_chunk_slab_at((struct da_chunk *)r, p);
	if (s->kind != DA_SLAB_LARGE)
		return 0;
	return da_large_grow(s, need);
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
