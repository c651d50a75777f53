/*
 * alloc/pages.c — page regions: blocks of whole pages (layout in pages.h).
 *
 * Placement is best fit: the smallest free run that holds the block, so
 * freed pages are reused first (they are warm: no page faults) and big
 * free runs stay whole, as in glibc's heap. Freed pages stay committed ("dirty") within the retention budget
 * of chunk.c; a purge releases them with madvise.
 */
#include "alloc/pages.h"
#include "alloc/alloc.h"
#include "alloc/os.h"
#include "alloc/pagemap.h"

#include <string.h>

struct da_pregion *da_pregions;
size_t da_pages_in_use;

#define NONE ((unsigned)-1)

static int
bit_get(const uint64_t *m, unsigned i)
{
	return (int)((m[i >> 6] >> (i & 63)) & 1);
}

/* The word of bit from, and in *mask the bits of [from, from+n) that lie
 * in it; advances from and n past them. */
static unsigned
bits_step(unsigned *from, unsigned *n, uint64_t *mask)
{
	unsigned w = *from >> 6, b = *from & 63;
	unsigned k = 64 - b < *n ? 64 - b : *n;
	*mask = (k == 64 ? ~(uint64_t)0 : (((uint64_t)1 << k) - 1)) << b;
	*from += k;
	*n -= k;
	return w;
}

/* Sets (set = 1) or clears bits [from, from+n) of m. */
static void
bits_put(uint64_t *m, unsigned from, unsigned n, int set)
{
	uint64_t mask;
	while (n > 0) {
		unsigned w = bits_step(&from, &n, &mask);
		if (set)
			m[w] |= mask;
		else
			m[w] &= ~mask;
	}
}

/* Bits of m set in [from, from+n). */
static unsigned
bits_count(const uint64_t *m, unsigned from, unsigned n)
{
	unsigned c = 0;
	uint64_t mask;
	while (n > 0) {
		unsigned w = bits_step(&from, &n, &mask);
		c += (unsigned)__builtin_popcountll(m[w] & mask);
	}
	return c;
}

/* The first index in [from, end) whose bit is want, or end. */
static unsigned
bits_next(const uint64_t *m, unsigned from, unsigned end, int want)
{
	while (from < end) {
		uint64_t w = m[from >> 6];
		if (!want)
			w = ~w;
		w &= ~(uint64_t)0 << (from & 63);
		if (w != 0) {
			unsigned i =
			        (from & ~63u) + (unsigned)__builtin_ctzll(w);
			return i < end ? i : end;
		}
		from = (from & ~63u) + 64;
	}
	return end;
}

/* The last set bit at or before i, or NONE. */
static unsigned
bits_prev_set(const uint64_t *m, unsigned i)
{
	unsigned w = i >> 6;
	uint64_t bits = m[w];
	if ((i & 63) != 63)
		bits &= ((uint64_t)1 << ((i & 63) + 1)) - 1;
	for (;;) {
		if (bits != 0)
			return w * 64 + 63 - (unsigned)__builtin_clzll(bits);
		if (w == 0)
			return NONE;
		bits = m[--w];
	}
}

/*
 * Best fit: the start of the smallest free run that holds n pages from a
 * multiple of align pages (the lowest of equals), or NONE; its length in
 * *len. Smallest first keeps the big free runs whole for big blocks and
 * for blocks that grow in place (realloc).
 */
static unsigned
find_run(const struct da_pregion *r, unsigned n, unsigned align, unsigned *len)
{
	unsigned best = NONE, best_len = ~0u;
	unsigned i = DA_PAGES_HEADER;
	while (i < DA_PAGES_NPAGES) {
		i = bits_next(r->free_map, i, DA_PAGES_NPAGES, 1);
		if (i >= DA_PAGES_NPAGES)
			break;
		unsigned end = bits_next(r->free_map, i, DA_PAGES_NPAGES, 0);
		unsigned at = (i + align - 1) & ~(align - 1);
		if (at + n <= end && end - i < best_len) {
			best = at;
			best_len = end - i;
			if (best_len == n)
				break; /* exact */
		}
		i = end;
	}
	*len = best_len;
	return best;
}

static struct da_pregion *
region_new(void)
{
	struct da_pregion *r = da_os_map_aligned(DA_PAGES_SIZE, DA_CHUNK_SIZE);
	if (r == NULL)
		return NULL;
	/* Fresh mappings read as zeros: no block starts, nothing dirty. */
	r->region.kind = DA_REGION_PAGES;
	bits_put(r->free_map, DA_PAGES_HEADER,
	         DA_PAGES_NPAGES - DA_PAGES_HEADER, 1);
	r->free_pages = DA_PAGES_NPAGES - DA_PAGES_HEADER;
	r->next = da_pregions;
	if (da_pregions != NULL)
		da_pregions->prev = r;
	da_pregions = r;
	da_pagemap_set(r, DA_PAGES_SIZE, DA_PM_PAGES);
	return r;
}

/* Takes pages [first, first+n) of r for a block. Copies which of them were
 * dirty into dirty (for zeroing). Locking: caller holds the chunk lock. */
static void
take_run(struct da_pregion *r, unsigned first, unsigned n,
         uint64_t dirty[DA_PAGES_MAX / DA_PAGE / 64 + 1])
{
	memset(dirty, 0, (DA_PAGES_MAX / DA_PAGE / 64 + 1) * sizeof(*dirty));
	for (unsigned i = 0; i < n; i++)
		if (bit_get(r->dirty_map, first + i))
			dirty[i >> 6] |= (uint64_t)1 << (i & 63);
	unsigned d = bits_count(r->dirty_map, first, n);
	da_dirty_bytes -= (size_t)d * DA_PAGE;
	bits_put(r->free_map, first, n, 0);
	bits_put(r->dirty_map, first, n, 0);
	bits_put(r->start_map, first, n, 0);
	bits_put(r->start_map, first, 1, 1);
	r->npages[first] = (uint16_t)n;
	r->free_pages -= n;
	da_pages_in_use += (size_t)n * DA_PAGE;
	da_chunk_retain_budget_locked(); /* records a new peak */
}

void *
da_pages_malloc(size_t size, size_t align, int zero)
{
	unsigned n = (unsigned)((size + DA_PAGE - 1) / DA_PAGE);
	unsigned ap = align > DA_PAGE ? (unsigned)(align / DA_PAGE) : 1;
	uint64_t dirty[DA_PAGES_MAX / DA_PAGE / 64 + 1];
	if (n == 0)
		n = 1;
	DA_OP_ENTER();
	if (!da_lock_take(&da_chunk_lock)) {
		DA_OP_LEAVE();
		return NULL;
	}
	da_chunk_drain_deferred_locked();
	da_chunk_retain_check_locked();
	struct da_pregion *r = NULL;
	unsigned first = NONE, best_len = ~0u;
	for (struct da_pregion *q = da_pregions; q != NULL; q = q->next) {
		unsigned at, len;
		if (q->free_pages < n ||
		    (at = find_run(q, n, ap, &len)) == NONE || len >= best_len)
			continue;
		r = q;
		first = at;
		best_len = len;
		if (len == n)
			break;
	}
	if (r == NULL) {
		r = region_new();
		if (r != NULL)
			first = find_run(r, n, ap, &best_len);
	}
	if (r == NULL || first == NONE) {
		da_lock_release(&da_chunk_lock);
		DA_OP_LEAVE();
		return NULL;
	}
	take_run(r, first, n, dirty);
	/* Published last: a lookup that sees the state sees the rest. */
	__atomic_store_n(&r->state[first], DA_LIVE, __ATOMIC_RELEASE);
	da_lock_release(&da_chunk_lock);
	DA_OP_LEAVE();
	char *p = (char *)r + (size_t)first * DA_PAGE;
	if (zero) {
		/* Pages never used, or purged, read as zeros already. */
		for (unsigned i = 0; i < n; i++) {
			if (!bit_get(dirty, i))
				continue;
			size_t at = (size_t)i * DA_PAGE;
			memset(p + at, 0,
			       size - at < DA_PAGE ? size - at : DA_PAGE);
		}
	}
	return p;
}

int
da_pages_find(const struct da_pregion *r, const void *p, unsigned *first)
{
	size_t page = (size_t)((const char *)p - (const char *)r) / DA_PAGE;
	if (page < DA_PAGES_HEADER || page >= DA_PAGES_NPAGES)
		return 0;
	unsigned s = bits_prev_set(r->start_map, (unsigned)page);
	if (s == NONE || s < DA_PAGES_HEADER)
		return 0;
	unsigned n = __atomic_load_n(&r->npages[s], __ATOMIC_RELAXED);
	if (page >= (size_t)s + n)
		return 0;
	*first = s;
	return 1;
}

/* Locking: caller holds the chunk lock. */
static void
free_run_locked(struct da_pregion *r, unsigned first)
{
	unsigned n = r->npages[first];
	bits_put(r->free_map, first, n, 1);
	bits_put(r->dirty_map, first, n, 1);
	r->free_pages += n;
	da_pages_in_use -= (size_t)n * DA_PAGE;
	da_dirty_bytes += (size_t)n * DA_PAGE;
}

/* Frees that found the lock out of reach (a signal handler's, while its
 * thread held it): each block's first word links them; the next holder
 * finishes them. */
static _Atomic(uintptr_t) deferred_blocks;

void
da_pages_drain_deferred_locked(void)
{
	if (atomic_load_explicit(&deferred_blocks, memory_order_relaxed) == 0)
		return;
	uintptr_t b = atomic_exchange_explicit(&deferred_blocks, 0,
	                                       memory_order_acquire);
	while (b != 0) {
		uintptr_t next = *(uintptr_t *)b;
		struct da_pregion *r = da_pagemap_find((void *)b);
		free_run_locked(r, (unsigned)((b - (uintptr_t)r) / DA_PAGE));
		b = next;
	}
}

int
da_pages_free(struct da_pregion *r, unsigned first)
{
	unsigned was = __atomic_exchange_n(&r->state[first], DA_FREED,
	                                   __ATOMIC_ACQ_REL);
	if (!da_live_in_use(was))
		return 0;
	DA_OP_ENTER();
	if (!da_lock_take(&da_chunk_lock)) {
		uintptr_t b = (uintptr_t)r + (uintptr_t)first * DA_PAGE;
		uintptr_t head = atomic_load_explicit(&deferred_blocks,
		                                      memory_order_relaxed);
		do
			*(uintptr_t *)b = head;
		while (!atomic_compare_exchange_weak_explicit(
		        &deferred_blocks, &head, b, memory_order_release,
		        memory_order_relaxed));
		DA_OP_LEAVE();
		return 1;
	}
	free_run_locked(r, first);
	da_chunk_drain_deferred_locked();
	da_chunk_retain_check_locked();
	da_lock_release(&da_chunk_lock);
	DA_OP_LEAVE();
	return 1;
}

int
da_pages_grow(struct da_pregion *r, unsigned first, size_t size)
{
	if (size > DA_PAGES_MAX)
		return 0;
	unsigned n = (unsigned)((size + DA_PAGE - 1) / DA_PAGE);
	unsigned have = r->npages[first];
	if (n <= have)
		return 1;
	if (first + n > DA_PAGES_NPAGES)
		return 0;
	DA_OP_ENTER();
	if (!da_lock_take(&da_chunk_lock)) {
		DA_OP_LEAVE();
		return 0;
	}
	unsigned more = n - have;
	int ok = bits_count(r->free_map, first + have, more) == more;
	if (ok) {
		unsigned d = bits_count(r->dirty_map, first + have, more);
		da_dirty_bytes -= (size_t)d * DA_PAGE;
		bits_put(r->free_map, first + have, more, 0);
		bits_put(r->dirty_map, first + have, more, 0);
		bits_put(r->start_map, first + have, more, 0);
		r->free_pages -= more;
		da_pages_in_use += (size_t)more * DA_PAGE;
		__atomic_store_n(&r->npages[first], (uint16_t)n,
		                 __ATOMIC_RELEASE);
		da_chunk_retain_budget_locked(); /* records a new peak */
	}
	da_lock_release(&da_chunk_lock);
	DA_OP_LEAVE();
	return ok;
}

size_t
da_pages_purge_locked(size_t want)
{
	size_t given = 0;
	int kept_empty = 0;
	struct da_pregion *next;
	for (struct da_pregion *r = da_pregions; r != NULL && given < want;
	     r = next) {
		next = r->next;
		if (want == SIZE_MAX &&
		    r->free_pages == DA_PAGES_NPAGES - DA_PAGES_HEADER &&
		    kept_empty++ > 0 &&
		    da_pagemap_retire(r, DA_PAGES_SIZE, DA_PM_PAGES)) {
			unsigned d =
			        bits_count(r->dirty_map, 0, DA_PAGES_NPAGES);
			da_dirty_bytes -= (size_t)d * DA_PAGE;
			given += (size_t)d * DA_PAGE;
			if (r->prev != NULL)
				r->prev->next = r->next;
			else
				da_pregions = r->next;
			if (r->next != NULL)
				r->next->prev = r->prev;
			da_os_unmap(r, DA_PAGES_SIZE);
			continue;
		}
		/* From the top down: best fit reuses low, small runs first. */
		unsigned i = DA_PAGES_NPAGES;
		while (given < want && i > 0) {
			unsigned last = bits_prev_set(r->dirty_map, i - 1);
			if (last == NONE)
				break;
			unsigned start = last;
			while (start > 0 && bit_get(r->dirty_map, start - 1))
				start--;
			unsigned n = last + 1 - start;
			da_os_purge((char *)r + (size_t)start * DA_PAGE,
			            (size_t)n * DA_PAGE);
			bits_put(r->dirty_map, start, n, 0);
			da_dirty_bytes -= (size_t)n * DA_PAGE;
			given += (size_t)n * DA_PAGE;
			i = start;
		}
	}
	return given;
}

int
da_pages_walk_locked(int (*fn)(const struct da_block *b, void *arg), void *arg)
{
	for (struct da_pregion *r = da_pregions; r != NULL; r = r->next) {
		unsigned s = DA_PAGES_HEADER;
		while ((s = bits_next(r->start_map, s, DA_PAGES_NPAGES, 1)) <
		       DA_PAGES_NPAGES) {
			unsigned st =
			        __atomic_load_n(&r->state[s], __ATOMIC_ACQUIRE);
			if (da_live_in_use(st)) {
				struct da_block b;
				b.start = (char *)r + (size_t)s * DA_PAGE;
				b.user = b.start;
				b.size = (size_t)r->npages[s] * DA_PAGE;
				b.state = (int)st;
				int rc = fn(&b, arg);
				if (rc)
					return rc;
			}
			s++;
		}
	}
	return 0;
}
