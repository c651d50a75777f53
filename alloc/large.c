/*
 * alloc/large.c — huge blocks (a mapping each, with a cache of freed ones
 * that are resized for reuse), and the choice between them and pages.
 */
#include "alloc/large.h"
#include "alloc/os.h"
#include "alloc/pagemap.h"

#include <string.h>

static size_t
round_up(size_t n, size_t to)
{
	return (n + to - 1) & ~(to - 1);
}

int
da_huge_grow(struct da_huge *h, size_t size)
{
	if (size > DA_MAX_REQUEST - h->data_off)
		return 0;
	size_t map_size = round_up(h->data_off + size, DA_PAGE);
	if (map_size <= h->map_size)
		return 1;
	DA_OP_ENTER();
	if (!da_lock_take(&da_chunk_lock)) {
		DA_OP_LEAVE();
		return 0;
	}
	/* Without MREMAP_MAYMOVE the mapping grows where it is or not at
	 * all; the address space after it was free, so none of the granules
	 * it now reaches belonged to another region. */
	int ok = da_os_grow_in_place(h, h->map_size, map_size);
	if (ok) {
		da_huge_live_bytes += map_size - h->map_size;
		if (da_huge_live_bytes > da_huge_peak_bytes)
			da_huge_peak_bytes = da_huge_live_bytes;
		h->map_size = map_size;
		h->usable = map_size - h->data_off;
		da_pagemap_set(h, map_size, DA_PM_HUGE);
		da_chunk_retain_budget_locked(); /* records a new peak */
	}
	da_lock_release(&da_chunk_lock);
	DA_OP_LEAVE();
	return ok;
}

static void
huge_link(struct da_huge *h)
{
	h->prev = NULL;
	h->next = da_huges;
	if (da_huges != NULL)
		da_huges->prev = h;
	da_huges = h;
}

static void
huge_unlink(struct da_huge *h)
{
	if (h->prev != NULL)
		h->prev->next = h->next;
	else
		da_huges = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
}

/*
 * Resizes cached mapping h to
 * map_size bytes, keeping its pages: shrinking gives the tail back in
 * place; growing extends it in place where the address space after it is
 * free, else moves it (mremap moves the pages, it copies nothing) to a new
 * 4 MiB-aligned place. Returns the mapping's header, wherever it is now, or
 * NULL (h unchanged). Locking: caller holds da_chunk_lock.
 */
static struct da_huge *
huge_resize_locked(struct da_huge *h, size_t map_size)
{
	size_t old = h->map_size;
	if (map_size < old) {
		/* Granules wholly past the new end stop being ours first. */
		uintptr_t end = (uintptr_t)h + map_size;
		uintptr_t cut =
		        (end + DA_CHUNK_MASK) & ~(uintptr_t)DA_CHUNK_MASK;
		uintptr_t old_end = (uintptr_t)h + old;
		if (cut < old_end &&
		    !da_pagemap_retire((void *)cut, old_end - cut, DA_PM_TAIL))
			return NULL;
		if (!da_os_shrink(h, old, map_size)) {
			if (cut < old_end)
				da_pagemap_set((void *)cut, old_end - cut,
				               DA_PM_TAIL);
			return NULL;
		}
		h->map_size = map_size;
		return h;
	}
	if (da_os_grow_in_place(h, old, map_size)) {
		h->map_size = map_size;
		da_pagemap_set(h, map_size, DA_PM_HUGE);
		return h;
	}
	void *target = da_os_reserve_aligned(map_size, DA_CHUNK_SIZE);
	if (target == NULL)
		return NULL;
	if (!da_pagemap_retire(h, old, DA_PM_HUGE)) {
		da_os_unmap(target, map_size);
		return NULL;
	}
	huge_unlink(h);
	struct da_huge *n = da_os_move(h, old, target, map_size);
	if (n == NULL) {
		da_os_unmap(target, map_size);
		da_pagemap_set(h, old, DA_PM_HUGE);
		huge_link(h);
		return NULL;
	}
	n->map_size = map_size;
	da_pagemap_set(n, map_size, DA_PM_HUGE);
	huge_link(n);
	return n;
}

/*
 * A cached mapping resized to map_size, or NULL. A freed mapping of any
 * size is worth reusing: its pages are already faulted in, and resizing
 * keeps them (reviewers measured 5x glibc's page faults when only
 * near-equal sizes were reused). The closest fit is taken: the smallest
 * one large enough, else the largest. *warm is set to how many bytes from
 * the start may hold old data. Locking: caller holds da_chunk_lock.
 */
static struct da_huge *
huge_cache_take(size_t map_size, size_t align, size_t *warm)
{
	if (align > DA_CHUNK_SIZE)
		return NULL;
	struct da_huge *fit = NULL, *biggest = NULL;
	for (struct da_huge *h = da_huges; h != NULL; h = h->next) {
		if (!h->cached)
			continue;
		if (h->map_size >= map_size &&
		    (fit == NULL || h->map_size < fit->map_size))
			fit = h;
		if (biggest == NULL || h->map_size > biggest->map_size)
			biggest = h;
	}
	struct da_huge *h = fit != NULL ? fit : biggest;
	if (h == NULL)
		return NULL;
	size_t old = h->map_size;
	/* Up to twice the size: used as it is, no system call (the rest
	 * stays mapped, as the rest of a split free chunk stays in glibc's
	 * heap, and goes back at the decay or when the block is freed and
	 * dropped). Larger: its tail goes back. */
	if (!(old >= map_size && old / 2 <= map_size)) {
		struct da_huge *r = huge_resize_locked(h, map_size);
		if (r == NULL && old < map_size)
			return NULL;
		if (r != NULL)
			h = r;
	}
	da_huge_cached_bytes -= old;
	h->cached = 0;
	*warm = old < h->map_size ? old : h->map_size;
	return h;
}

/* A fresh mapping for a huge block of map_size bytes whose data starts at
 * off, aligned to align. Needs no lock: its granules of the page map are
 * new, so no other writer touches them. */
static struct da_huge *
huge_map_new(size_t map_size, size_t off, size_t align)
{
	size_t base_align = align > DA_CHUNK_SIZE ? align : DA_CHUNK_SIZE;
	struct da_huge *h = da_os_map_aligned(map_size, base_align);
	if (h == NULL)
		return NULL;
	h->region.kind = DA_REGION_HUGE;
	h->map_size = map_size;
	h->data_off = off;
	h->usable = map_size - off;
	da_pagemap_set(h, map_size, DA_PM_HUGE);
	return h;
}

/* Counts live huge block h in. Locking: caller holds da_chunk_lock. */
static void
huge_account_locked(struct da_huge *h)
{
	da_huge_live_bytes += h->map_size;
	if (++da_huge_live_blocks > da_huge_peak_blocks)
		da_huge_peak_blocks = da_huge_live_blocks;
	if (da_huge_live_bytes > da_huge_peak_bytes)
		da_huge_peak_bytes = da_huge_live_bytes;
	da_chunk_retain_budget_locked(); /* records a new peak */
}

/* Huge blocks made while the chunk lock was out of reach, linked through
 * pnext; the next holder lists and counts them. */
static _Atomic(struct da_huge *) pending_huges;

/*
 * A block for a signal handler that interrupted its thread while it held
 * the chunk lock (or a nested operation that may not wait for it): a
 * mapping of its own, made without the lock. Costs a few system calls,
 * which is why only such callers come here. NULL if the kernel refuses.
 */
static void *
huge_without_lock(size_t size, size_t align)
{
	size_t off = align > DA_HUGE_HEADER ? align : DA_HUGE_HEADER;
	if (size > DA_MAX_REQUEST - off)
		return NULL;
	struct da_huge *h =
	        huge_map_new(round_up(off + size, DA_PAGE), off, align);
	if (h == NULL)
		return NULL;
	__atomic_store_n(&h->state, DA_LIVE, __ATOMIC_RELEASE);
	struct da_huge *head =
	        atomic_load_explicit(&pending_huges, memory_order_relaxed);
	do
		h->pnext = head;
	while (!atomic_compare_exchange_weak_explicit(&pending_huges, &head, h,
	                                              memory_order_release,
	                                              memory_order_relaxed));
	return (char *)h + off; /* fresh pages: zeros */
}

static void *
huge_malloc(size_t size, size_t align, int zero)
{
	size_t off = align > DA_HUGE_HEADER ? align : DA_HUGE_HEADER;
	if (size > DA_MAX_REQUEST - off)
		return NULL;
	size_t map_size = round_up(off + size, DA_PAGE);
	size_t warm = 0; /* bytes from the start that may hold old data */
	if (!da_lock_take(&da_chunk_lock))
		return huge_without_lock(size, align);
	da_chunk_drain_deferred_locked();
	da_chunk_retain_check_locked();
	struct da_huge *h = huge_cache_take(map_size, align, &warm);
	if (h == NULL) {
		h = huge_map_new(map_size, off, align);
		if (h == NULL) {
			da_lock_release(&da_chunk_lock);
			return NULL;
		}
		huge_link(h);
	}
	h->data_off = off;
	h->usable = h->map_size - off;
	huge_account_locked(h);
	__atomic_store_n(&h->state, DA_LIVE, __ATOMIC_RELEASE);
	da_lock_release(&da_chunk_lock);
	char *p = (char *)h + off;
	if (zero && warm > off)
		memset(p, 0, warm - off < size ? warm - off : size);
	return p;
}

/* Frees huge block h: keeps it mapped for reuse if the retention budget
 * allows, else unmaps it. Locking: caller holds da_chunk_lock. */
static void
huge_free_locked(struct da_huge *h)
{
	da_huge_live_bytes -= h->map_size;
	da_huge_live_blocks--;
	if ((h->map_size > DA_HUGE_CACHE_MAX ||
	     da_dirty_bytes + da_huge_cached_bytes + h->map_size >
	             da_chunk_retain_budget_locked()) &&
	    da_pagemap_retire(h, h->map_size, DA_PM_HUGE)) {
		huge_unlink(h);
		da_os_unmap(h, h->map_size);
		return;
	}
	da_huge_cached_bytes += h->map_size; /* kept for reuse */
	h->cached = 1;
}

/* Huge frees that found the lock out of reach (a signal handler's while
 * its thread held it): the next holder finishes them. */
static _Atomic(struct da_huge *) deferred_huges;

void
da_huge_drain_deferred_locked(void)
{
	/* The frees first, then the blocks made without the lock: a block
	 * is made (and queued as pending) before anyone can free it, so each
	 * block on the frees taken here is on the pending list taken after,
	 * or on one taken before, and is listed before it is freed. */
	struct da_huge *freed = NULL, *made = NULL;
	if (atomic_load_explicit(&deferred_huges, memory_order_relaxed))
		freed = atomic_exchange_explicit(&deferred_huges, NULL,
		                                 memory_order_acquire);
	if (atomic_load_explicit(&pending_huges, memory_order_relaxed))
		made = atomic_exchange_explicit(&pending_huges, NULL,
		                                memory_order_acquire);
	while (made != NULL) {
		struct da_huge *next = made->pnext;
		huge_link(made);
		huge_account_locked(made);
		made = next;
	}
	while (freed != NULL) {
		struct da_huge *next = freed->dnext;
		huge_free_locked(freed);
		freed = next;
	}
}

int
da_huge_free(struct da_huge *h)
{
	/* Marked freed at once, even when the rest is deferred: a second
	 * free reads as one, and is never queued twice. */
	unsigned was =
	        __atomic_exchange_n(&h->state, DA_FREED, __ATOMIC_ACQ_REL);
	if (!da_live_in_use(was))
		return 0;
	DA_OP_ENTER();
	if (!da_lock_take(&da_chunk_lock)) {
		struct da_huge *head = atomic_load_explicit(
		        &deferred_huges, memory_order_relaxed);
		do
			h->dnext = head;
		while (!atomic_compare_exchange_weak_explicit(
		        &deferred_huges, &head, h, memory_order_release,
		        memory_order_relaxed));
		DA_OP_LEAVE();
		return 1;
	}
	da_chunk_drain_deferred_locked(); /* h may be pending still */
	huge_free_locked(h);
	da_chunk_retain_check_locked();
	da_lock_release(&da_chunk_lock);
	DA_OP_LEAVE();
	return 1;
}

_Atomic uint64_t da_large_allocs;

void *
da_large_malloc(size_t size, size_t align, int zero)
{
	void *p;
	if (size == 0)
		size = 1; /* a block, not an empty run of pages */
	DA_OP_ENTER();
	if (size <= DA_PAGES_MAX && align <= DA_CHUNK_SIZE) {
		p = da_pages_malloc(size, align, zero);
		/* The chunk lock out of reach (a signal handler's call): a
		 * mapping of its own instead. */
		if (p == NULL && da_op_depth > 1)
			p = huge_without_lock(size, align);
	} else {
		p = huge_malloc(size, align, zero);
	}
	if (p != NULL)
		atomic_fetch_add_explicit(&da_large_allocs, 1,
		                          memory_order_relaxed);
	DA_OP_LEAVE();
	return p;
}

void *
da_large_malloc_without_lock(size_t size)
{
	DA_OP_ENTER();
	void *p = huge_without_lock(size == 0 ? 1 : size, 0);
	if (p != NULL)
		atomic_fetch_add_explicit(&da_large_allocs, 1,
		                          memory_order_relaxed);
	DA_OP_LEAVE();
	return p;
}

size_t
da_huge_cache_drop_locked(void)
{
	size_t given = 0;
	struct da_huge *next;
	for (struct da_huge *h = da_huges; h != NULL; h = next) {
		next = h->next;
		if (!h->cached ||
		    !da_pagemap_retire(h, h->map_size, DA_PM_HUGE))
			continue;
		huge_unlink(h);
		da_huge_cached_bytes -= h->map_size;
		given += h->map_size;
		da_os_unmap(h, h->map_size);
	}
	return given;
}

size_t
da_huge_cache_drop(void)
{
	if (!da_lock_take(&da_chunk_lock))
		return 0;
	size_t given = da_huge_cache_drop_locked();
	da_lock_release(&da_chunk_lock);
	return given;
}
