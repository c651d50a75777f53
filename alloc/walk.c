/*
 * alloc/walk.c — visiting every live block, and the counts built on it.
 *
 * The walk holds the chunk lock, so no region is unmapped under it, but a
 * slab's owner frees and reuses its blocks without a lock: a block seen
 * live may be freed (and its first word become a free-list link) while it
 * is looked at. Nothing read from a block is trusted beyond its bounds.
 */
#include "alloc/alloc.h"
#include "alloc/guard.h"

#include <stdatomic.h>
#include <string.h>

static int
walk_slab(struct da_slab *s, int (*fn)(const struct da_block *, void *),
          void *arg)
{
	for (uint32_t i = 0; i < s->capacity; i++) {
		char *start = s->area + (size_t)i * s->bsize;
		uint8_t st = __atomic_load_n(da_slab_live(s, start),
		                             __ATOMIC_RELAXED);
		if (!da_live_in_use(st))
			continue;
		struct da_block b;
		b.start = start;
		b.user = b.start;
		b.size = s->bsize;
		b.state = st;
		if (st == DA_LIVE_ALIGNED && !da_alloc_aligned_user(&b))
			continue; /* freed while we looked */
		int rc = fn(&b, arg);
		if (rc)
			return rc;
	}
	return 0;
}

/* The freed blocks of class slab s (state DA_FREED: a plain block freed
 * and not handed out since). */
static int
walk_slab_freed(struct da_slab *s, int (*fn)(const struct da_block *, void *),
                void *arg)
{
	uint32_t end = s->reserved < s->capacity ? s->reserved : s->capacity;
	for (uint32_t i = 0; i < end; i++) {
		char *start = s->area + (size_t)i * s->bsize;
		uint8_t st = __atomic_load_n(da_slab_live(s, start),
		                             __ATOMIC_RELAXED);
		if (st != DA_FREED)
			continue;
		struct da_block b = {start, start, s->bsize, st};
		int rc = fn(&b, arg);
		if (rc)
			return rc;
	}
	return 0;
}

/* Calls per(s, fn, arg) for every class slab, stopping at a non-zero
 * result. Locking: caller holds da_chunk_lock. */
static int
slabs_walk(int (*per)(struct da_slab *,
                      int (*)(const struct da_block *, void *), void *),
           int (*fn)(const struct da_block *, void *), void *arg)
{
	int rc = 0;
	for (struct da_chunk *ch = da_chunks; ch != NULL && !rc; ch = ch->next)
		for (unsigned u = 1; u < DA_UNITS && !rc; u++) {
			struct da_slab *s = &ch->slabs[u];
			if (ch->slab_of[u] != u ||
			    __atomic_load_n(&s->kind, __ATOMIC_ACQUIRE) ==
			            DA_SLAB_NONE)
				continue;
			rc = per(s, fn, arg);
		}
	return rc;
}

int
da_alloc_walk_freed(int (*fn)(const struct da_block *b, void *arg), void *arg)
{
	DA_OP_ENTER();
	if (!da_lock_take(&da_chunk_lock)) {
		DA_OP_LEAVE();
		return 0;
	}
	int rc = slabs_walk(walk_slab_freed, fn, arg);
	da_lock_release(&da_chunk_lock);
	DA_OP_LEAVE();
	return rc;
}

/* Locking: caller holds da_chunk_lock. */
static int walk_large_locked(int (*fn)(const struct da_block *b, void *arg),
                             void *arg);

static int
walk_locked(int (*fn)(const struct da_block *b, void *arg), void *arg)
{
	int rc = slabs_walk(walk_slab, fn, arg);
	if (!rc)
		rc = walk_large_locked(fn, arg);
	return rc;
}

/* A guarded block (guard.h) as the walks describe blocks: from its
 * header's room (alloc.c: guard_lookup). */
struct guard_walk {
	int (*fn)(const struct da_block *b, void *arg);
	void *arg;
};

static int
guard_block(const struct da_block *g, void *arg)
{
	const struct guard_walk *w = arg;
	struct da_block b = *g;
	b.user = b.start;
	b.size += (size_t)((char *)g->user - (char *)g->start);
	return w->fn(&b, w->arg);
}

/* Locking: caller holds da_chunk_lock (the guarded blocks' walk takes
 * none). */
static int
walk_large_locked(int (*fn)(const struct da_block *b, void *arg), void *arg)
{
	struct guard_walk w = {fn, arg};
	int rc = da_guard_walk(guard_block, &w);
	if (!rc)
		rc = da_pages_walk_locked(fn, arg);
	for (struct da_huge *h = da_huges; h != NULL && !rc; h = h->next) {
		if (!da_live_in_use(h->state))
			continue;
		struct da_block b;
		b.start = (char *)h + h->data_off;
		b.user = b.start;
		b.size = h->usable;
		b.state = h->state;
		if (b.state == DA_LIVE_ALIGNED && !da_alloc_aligned_user(&b))
			continue;
		rc = fn(&b, arg);
	}
	return rc;
}

void
da_alloc_walk_slabs(void (*fn)(const struct da_slab_view *v, void *arg),
                    void *arg)
{
	DA_OP_ENTER();
	if (!da_lock_take(&da_chunk_lock)) {
		DA_OP_LEAVE();
		return;
	}
	for (struct da_chunk *ch = da_chunks; ch != NULL; ch = ch->next)
		for (unsigned u = 1; u < DA_UNITS; u++) {
			struct da_slab *s = &ch->slabs[u];
			if (ch->slab_of[u] != u ||
			    __atomic_load_n(&s->kind, __ATOMIC_ACQUIRE) !=
			            DA_SLAB_CLASS)
				continue;
			/* A block past reserved may be live: one carved and
			 * handed out whose count a stopped owner had not
			 * stored yet (heap.c: slab_rebuild). */
			struct da_slab_view v = {s->area, s->live, s->bsize,
			                         s->capacity, s->cls};
			fn(&v, arg);
		}
	da_lock_release(&da_chunk_lock);
	DA_OP_LEAVE();
}

/* walk(fn, arg) under the chunk lock; 0 if the lock could not be taken
 * (a nested operation, lock.h). */
static int
walk_taking_lock(int (*walk)(int (*fn)(const struct da_block *b, void *arg),
                             void *arg),
                 int (*fn)(const struct da_block *b, void *arg), void *arg)
{
	DA_OP_ENTER();
	if (!da_lock_take(&da_chunk_lock)) {
		DA_OP_LEAVE();
		return 0;
	}
	int rc = walk(fn, arg);
	da_lock_release(&da_chunk_lock);
	DA_OP_LEAVE();
	return rc;
}

int
da_alloc_walk_large(int (*fn)(const struct da_block *b, void *arg), void *arg)
{
	return walk_taking_lock(walk_large_locked, fn, arg);
}

int
da_alloc_walk(int (*fn)(const struct da_block *b, void *arg), void *arg)
{
	return walk_taking_lock(walk_locked, fn, arg);
}

static int
count_block(const struct da_block *b, void *arg)
{
	struct da_alloc_stats *st = arg;
	st->live_blocks++;
	st->live_bytes += b->size;
	return 0;
}

/* Locking: caller holds da_chunk_lock. */
static size_t
mapped_locked(void)
{
	size_t n = 0;
	for (struct da_chunk *ch = da_chunks; ch != NULL; ch = ch->next)
		n += DA_CHUNK_SIZE;
	for (struct da_pregion *r = da_pregions; r != NULL; r = r->next)
		n += DA_PAGES_SIZE;
	for (struct da_huge *h = da_huges; h != NULL; h = h->next)
		n += h->map_size;
	return n;
}

size_t
da_alloc_mapped(void)
{
	DA_OP_ENTER();
	if (!da_lock_take(&da_chunk_lock)) {
		DA_OP_LEAVE();
		return 0;
	}
	size_t n = mapped_locked();
	da_lock_release(&da_chunk_lock);
	DA_OP_LEAVE();
	return n;
}

void
da_alloc_stats(struct da_alloc_stats *st)
{
	memset(st, 0, sizeof(*st));
	DA_OP_ENTER();
	if (!da_lock_take(&da_chunk_lock)) {
		DA_OP_LEAVE();
		return;
	}
	walk_locked(count_block, st);
	st->mapped = mapped_locked();
	for (struct da_chunk *ch = da_chunks; ch != NULL; ch = ch->next)
		st->arena += DA_CHUNK_SIZE;
	for (struct da_pregion *r = da_pregions; r != NULL; r = r->next)
		st->arena += DA_PAGES_SIZE;
	for (struct da_huge *h = da_huges; h != NULL; h = h->next) {
		if (h->cached) {
			st->huge_cached += h->map_size;
		} else if (da_live_in_use(h->state)) {
			st->huge_blocks++;
			st->huge_bytes += h->map_size;
			st->huge_usable += h->usable;
		}
	}
	st->huge_peak_blocks = da_huge_peak_blocks;
	st->huge_peak_bytes = da_huge_peak_bytes;
	da_lock_release(&da_chunk_lock);
	DA_OP_LEAVE();
}

/* --- The size classes, for statistics. --- */

/* Live blocks of class slab s, from its live map. */
static uint64_t
slab_live_blocks(const struct da_slab *s)
{
	uint64_t n = 0;
	uint32_t end = s->reserved < s->capacity ? s->reserved : s->capacity;
	for (uint32_t i = 0; i < end; i++)
		n += da_live_in_use(
		        __atomic_load_n(&s->live[((size_t)i * s->bsize) >> 4],
		                        __ATOMIC_RELAXED));
	return n;
}

/* Live blocks of page region r. */
static uint64_t
region_live_blocks(const struct da_pregion *r)
{
	uint64_t n = 0;
	for (unsigned w = 0; w < DA_PAGES_WORDS; w++) {
		uint64_t m = r->start_map[w];
		while (m != 0) {
			unsigned i = w * 64 + (unsigned)__builtin_ctzll(m);
			m &= m - 1;
			n += da_live_in_use(r->state[i]);
		}
	}
	return n;
}

/* Locking: caller holds da_chunk_lock. */
static void
class_live_locked(uint64_t live[DA_NCLASSES + 1], struct da_class_stats *st,
                  uint64_t *metadata)
{
	for (struct da_chunk *ch = da_chunks; ch != NULL; ch = ch->next) {
		if (metadata != NULL)
			*metadata += DA_UNIT_SIZE;
		for (unsigned u = 1; u < DA_UNITS; u++) {
			struct da_slab *s = &ch->slabs[u];
			if (ch->slab_of[u] != u ||
			    __atomic_load_n(&s->kind, __ATOMIC_ACQUIRE) !=
			            DA_SLAB_CLASS)
				continue;
			live[s->cls] += slab_live_blocks(s);
			if (st != NULL) {
				st[s->cls].slabs++;
				st[s->cls].slab_bytes +=
				        (uint64_t)s->units * DA_UNIT_SIZE;
			}
			if (metadata != NULL)
				*metadata +=
				        (uint64_t)(s->area - (char *)s->live);
		}
	}
	for (struct da_pregion *r = da_pregions; r != NULL; r = r->next) {
		live[DA_CLASS_LARGE] += region_live_blocks(r);
		if (st != NULL) {
			st[DA_CLASS_LARGE].slabs++;
			st[DA_CLASS_LARGE].slab_bytes += DA_PAGES_SIZE;
		}
		if (metadata != NULL)
			*metadata += DA_PAGES_HEADER * DA_PAGE;
	}
	for (struct da_huge *h = da_huges; h != NULL; h = h->next) {
		if (!da_live_in_use(h->state))
			continue;
		live[DA_CLASS_LARGE]++;
		if (st != NULL) {
			st[DA_CLASS_LARGE].slabs++;
			st[DA_CLASS_LARGE].slab_bytes += h->map_size;
		}
		if (metadata != NULL)
			*metadata += h->data_off;
	}
}

void
da_alloc_class_live(uint64_t live[DA_NCLASSES + 1])
{
	DA_OP_ENTER();
	if (da_lock_take(&da_chunk_lock)) {
		class_live_locked(live, NULL, NULL);
		da_lock_release(&da_chunk_lock);
	}
	DA_OP_LEAVE();
}

void
da_alloc_class_stats(struct da_class_stats st[DA_NCLASSES + 1],
                     uint64_t *metadata)
{
	uint64_t live[DA_NCLASSES + 1] = {0}, allocs[DA_NCLASSES] = {0};
	memset(st, 0, (DA_NCLASSES + 1) * sizeof(*st));
	*metadata = 0;
	da_heap_class_allocs(allocs);
	DA_OP_ENTER();
	if (da_lock_take(&da_chunk_lock)) {
		class_live_locked(live, st, metadata);
		da_lock_release(&da_chunk_lock);
	}
	DA_OP_LEAVE();
	for (unsigned c = 0; c <= DA_NCLASSES; c++) {
		st[c].live_blocks = live[c];
		st[c].allocs =
		        c < DA_NCLASSES
		                ? allocs[c]
		                : atomic_load_explicit(&da_large_allocs,
		                                       memory_order_relaxed);
	}
}

void
da_alloc_block_owner(const void *start, unsigned *cls, uint32_t *thread)
{
	*cls = DA_CLASS_LARGE;
	*thread = 0;
	if (da_pagemap_kind(start) != DA_PM_CHUNK)
		return;
	struct da_chunk *ch =
	        (struct da_chunk *)((uintptr_t)start & ~DA_CHUNK_MASK);
	struct da_slab *s = da_chunk_slab_at(ch, start);
	if (__atomic_load_n(&s->kind, __ATOMIC_ACQUIRE) != DA_SLAB_CLASS ||
	    (size_t)((const char *)start - s->area) >= s->area_size)
		return;
	*cls = s->cls;
	*thread = s->thread;
}
