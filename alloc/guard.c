/*
 * alloc/guard.c — guard-page blocks (guard.h): slot sizes and their lists,
 * hand-out and free, the quarantine, lookups, the walk, statistics, fork.
 *
 * A slot moves between
 *   open list (UNUSED, pages open) -> LIVE -> QUARANTINED (closed, in the
 *   quarantine FIFO) -> FREED (closed, in its size's closed FIFO) ->
 *   TAKEN (being opened, with others of its batch) -> open list or LIVE.
 * Under mprotect a slot starts closed (UNUSED, in the closed FIFO).
 *
 * Lock order (fork takes them all in this order):
 *   size[0] .. size[NCLS-1] -> quar_lock -> region_lock
 * A thread holds at most one size lock, and takes the region lock only
 * under one; the quarantine's lock is never held with another.
 */
#include "alloc/guard.h"
#include "alloc/lock.h"
#include "alloc/os.h"

#include <errno.h>

#include <stdatomic.h>
#include <string.h>

#define NCLS 76 /* slot sizes: 1..8 pages, then 4 per doubling to 2^20 */

struct gclass {
	struct da_lock lock;
	uint32_t open;   /* LIFO of open slots */
	uint32_t closed; /* FIFO of closed slots: oldest first */
	uint32_t closed_tail;
	uint32_t nopen, nclosed;
} __attribute__((aligned(64)));

struct da_guard_config da_guard_cfg;
static _Atomic(int) ready;
static struct gclass size_list[NCLS];
static struct da_lock quar_lock = DA_LOCK_INIT;
static struct da_lock region_lock = DA_LOCK_INIT;

/* The quarantine: a FIFO through the slots' links. Under quar_lock. */
static uint32_t q_head = DA_GUARD_NIL, q_tail = DA_GUARD_NIL;
static size_t q_bytes, q_count;

static _Atomic(size_t) n_live, live_bytes, n_freed, n_quar, quar_bytes;
static _Atomic(uint64_t) n_refused, n_stranded;
/* mprotect: slots whose data pages are open, each a mapping between two
 * inaccessible ones; and the ceiling for all the mappings we make. */
static _Atomic(size_t) n_islands;
static size_t map_ceiling;

/* The data pages of slot size c. */
static size_t
cls_pages(unsigned c)
{
	if (c < 8)
		return c + 1;
	unsigned m = 3 + (c - 8) / 4, j = (c - 8) % 4 + 1;
	return ((size_t)1 << m) + ((size_t)j << (m - 2));
}

/* The smallest slot size of at least k data pages (k <= 2^20). */
static unsigned
cls_of(size_t k)
{
	if (k <= 8)
		return k == 0 ? 0 : (unsigned)k - 1;
	unsigned m = 63 - (unsigned)__builtin_clzll(k - 1); /* 2^m < k */
	size_t step = (size_t)1 << (m - 2);
	unsigned j = (unsigned)((k - ((size_t)1 << m) + step - 1) / step);
	return 8 + (m - 3) * 4 + j - 1;
}

/* The data pages a block of size bytes at alignment a needs, with the
 * header room in front: 0 if more than DA_GUARD_MAX_PAGES. */
static size_t
pages_for(size_t size, size_t a)
{
	size_t h = da_guard_cfg.header;
	if (size > DA_GUARD_MAX_PAGES * DA_PAGE)
		return 0;
	size_t need;
	if (a > DA_PAGE)
		need = size + h + a - 1;
	else if (da_guard_cfg.side == DA_GUARD_AFTER)
		need = ((size + a - 1) & ~(a - 1)) + h;
	else /* a block of 0 bytes still lies inside the slot */
		need = ((h + a - 1) & ~(a - 1)) + (size != 0 ? size : 1);
	size_t k = (need + DA_PAGE - 1) / DA_PAGE;
	if (k == 0)
		k = 1;
	return k <= DA_GUARD_MAX_PAGES ? k : 0;
}

/* The data pages of slot s: [*lo, *hi). */
static void
slot_data(const struct da_guard_slot *s, uintptr_t *lo, uintptr_t *hi)
{
	size_t bytes = cls_pages(s->cls) * DA_PAGE;
	*lo = s->base + (da_guard_cfg.side == DA_GUARD_BEFORE ? DA_PAGE : 0);
	*hi = *lo + bytes;
}

/* Where a block of size bytes at alignment a goes in slot s. */
static uintptr_t
place(const struct da_guard_slot *s, size_t size, size_t a)
{
	uintptr_t lo, hi;
	slot_data(s, &lo, &hi);
	if (da_guard_cfg.side == DA_GUARD_AFTER)
		return (hi - size) & ~(uintptr_t)(a - 1);
	return (lo + da_guard_cfg.header + a - 1) & ~(uintptr_t)(a - 1);
}

/* The slot containing address a (its guard page included), with its
 * span; NULL if a is in no slot (not ours, or in a span's tail). */
static struct da_guard_slot *
slot_at(uintptr_t a, struct da_guard_span *sp, uint32_t *n)
{
	if (!da_guardspace_find(a, sp))
		return NULL;
	size_t i = (a - sp->base) / sp->slot_bytes;
	if (i >= sp->nslots)
		return NULL;
	*n = sp->first + (uint32_t)i;
	return da_guardspace_slot(*n);
}

static struct da_guard_slot *
slot(uint32_t n)
{
	return da_guardspace_slot(n);
}

static unsigned
state_of(const struct da_guard_slot *s)
{
	return atomic_load_explicit(&s->state, memory_order_acquire);
}

static void
set_state(struct da_guard_slot *s, unsigned st)
{
	atomic_store_explicit(&s->state, (uint8_t)st, memory_order_release);
}

/* ---- the lists of one slot size (under its lock) ---- */

static void
open_push(struct gclass *g, uint32_t n)
{
	slot(n)->next = g->open;
	g->open = n;
	g->nopen++;
}

static uint32_t
open_pop(struct gclass *g)
{
	uint32_t n = g->open;
	if (n != DA_GUARD_NIL) {
		g->open = slot(n)->next;
		g->nopen--;
	}
	return n;
}

static void
closed_append(struct gclass *g, uint32_t n)
{
	slot(n)->next = DA_GUARD_NIL;
	if (g->closed == DA_GUARD_NIL)
		g->closed = n;
	else
		slot(g->closed_tail)->next = n;
	g->closed_tail = n;
	g->nclosed++;
}

static uint32_t
closed_pop(struct gclass *g)
{
	uint32_t n = g->closed;
	if (n != DA_GUARD_NIL) {
		g->closed = slot(n)->next;
		g->nclosed--;
	}
	return n;
}

/* ---- set-up ---- */

int
da_guard_init(const struct da_guard_config *c)
{
	if (atomic_load(&ready))
		return EBUSY;
	if (c->side > DA_GUARD_BEFORE || c->align == 0 ||
	    (c->align & (c->align - 1)) != 0 || c->align > DA_PAGE ||
	    c->header > 1024)
		return EINVAL;
	da_guard_cfg = *c;
	da_guardprot_init(c->force_mprotect);
	/* Leave a quarter of the mappings (1024 at least) to the program. */
	size_t spare = da_guardprot_max_maps / 4;
	if (spare < 1024)
		spare = 1024;
	map_ceiling = da_guardprot_max_maps > spare
	                      ? da_guardprot_max_maps - spare
	                      : 0;
	for (unsigned i = 0; i < NCLS; i++) {
		size_list[i].open = DA_GUARD_NIL;
		size_list[i].closed = DA_GUARD_NIL;
		size_list[i].closed_tail = DA_GUARD_NIL;
	}
	atomic_store_explicit(&ready, 1, memory_order_release);
	return 0;
}

/* The mappings we may have made: two per open island under mprotect (it
 * splits an inaccessible mapping in three), and a reservation, its table
 * and the slot table's chunks (counted high: one per 16384 slots). */
static size_t
maps_made(void)
{
	unsigned nres;
	(void)da_guardspace_reserved(&nres);
	return 2 * atomic_load_explicit(&n_islands, memory_order_relaxed) +
	       2 * nres + da_guardspace_nslots() / 16384 + 1;
}

/* ---- hand-out ---- */

/* Carves a span of size c and lists its slots. Locking: g's lock held. */
static int
carve(struct gclass *g, unsigned c, unsigned *why)
{
	struct da_guard_span sp;
	if (!da_lock_take(&region_lock)) {
		*why = DA_GUARD_BUSY;
		return 0;
	}
	int err = da_guardspace_carve(
	        cls_pages(c) + 1, da_guard_cfg.side == DA_GUARD_BEFORE, c, &sp);
	da_lock_release(&region_lock);
	if (err != 0) {
		*why = DA_GUARD_SPACE;
		return 0;
	}
	/* The lowest address comes out first. */
	if (da_guardprot_mech == DA_GUARD_MECH_MADVISE) {
		for (uint32_t i = sp.nslots; i-- > 0;)
			open_push(g, sp.first + i);
	} else {
		for (uint32_t i = 0; i < sp.nslots; i++)
			closed_append(g, sp.first + i);
	}
	return 1;
}

/* Opens closed slots of g: under madvise a batch of up to DA_GUARD_BATCH
 * in one call (all but one go to the open list), under mprotect one.
 * Returns the slot to hand out (TAKEN), or DA_GUARD_NIL. Locking: g's
 * lock held (the calls are made under it: slots in a batch are in no
 * list meanwhile). */
static uint32_t
open_some(struct gclass *g, unsigned c, unsigned *why)
{
	struct da_guard_range r[DA_GUARD_BATCH];
	uint32_t taken[DA_GUARD_BATCH];
	unsigned want =
	        da_guardprot_mech == DA_GUARD_MECH_MADVISE ? DA_GUARD_BATCH : 1;
	if (da_guardprot_mech == DA_GUARD_MECH_MPROTECT) {
		if (maps_made() + 2 > map_ceiling) {
			*why = DA_GUARD_MAPS;
			return DA_GUARD_NIL;
		}
		atomic_fetch_add_explicit(&n_islands, 1, memory_order_relaxed);
	}
	unsigned n = 0;
	while (n < want) {
		uint32_t k = closed_pop(g);
		if (k == DA_GUARD_NIL)
			break;
		struct da_guard_slot *s = slot(k);
		if (state_of(s) == DA_GUARD_FREED)
			atomic_fetch_sub_explicit(&n_freed, 1,
			                          memory_order_relaxed);
		set_state(s, DA_GUARD_TAKEN);
		uintptr_t lo, hi;
		slot_data(s, &lo, &hi);
		r[n].p = (void *)lo;
		r[n].len = hi - lo;
		taken[n++] = k;
	}
	(void)c;
	int err = da_guardprot_open_many(r, n);
	if (err != 0) {
		/* Back to the front of nothing: they stay closed, at the
		 * end of the FIFO. Under mprotect ENOMEM is the map limit. */
		for (unsigned i = 0; i < n; i++) {
			set_state(slot(taken[i]), DA_GUARD_UNUSED);
			closed_append(g, taken[i]);
		}
		if (da_guardprot_mech == DA_GUARD_MECH_MPROTECT)
			atomic_fetch_sub_explicit(&n_islands, 1,
			                          memory_order_relaxed);
		*why = err == ENOMEM && da_guardprot_mech ==
		                                DA_GUARD_MECH_MPROTECT
		               ? DA_GUARD_MAPS
		               : DA_GUARD_SPACE;
		return DA_GUARD_NIL;
	}
	/* Each slot's page that its next block certainly writes (the one
	 * beside the guard page after the data, or the header's first page
	 * before it) is faulted in with the batch, not by the write. */
	for (unsigned i = 0; i < n; i++) {
		if (da_guard_cfg.side == DA_GUARD_AFTER)
			r[i].p = (char *)r[i].p + r[i].len - DA_PAGE;
		r[i].len = DA_PAGE;
	}
	da_guardprot_populate_many(r, n);
	for (unsigned i = n; i-- > 1;) {
		set_state(slot(taken[i]), DA_GUARD_UNUSED);
		open_push(g, taken[i]);
	}
	return taken[0];
}

/* A slot of size c, TAKEN and open; or DA_GUARD_NIL with *why. */
static uint32_t
take_slot(unsigned c, unsigned *why)
{
	struct gclass *g = &size_list[c];
	if (!da_lock_take(&g->lock)) {
		*why = DA_GUARD_BUSY;
		return DA_GUARD_NIL;
	}
	uint32_t n;
	for (;;) {
		n = open_pop(g);
		if (n != DA_GUARD_NIL &&
		    atomic_load_explicit(&slot(n)->retired,
		                         memory_order_relaxed))
			continue; /* opened after a fault: dropped */
		if (n != DA_GUARD_NIL) {
			set_state(slot(n), DA_GUARD_TAKEN);
			break;
		}
		if (g->nclosed > 0) {
			n = open_some(g, c, why);
			break;
		}
		if (!carve(g, c, why))
			break;
	}
	da_lock_release(&g->lock);
	return n;
}

void *
da_guard_alloc(size_t size, size_t align, unsigned *why)
{
	*why = DA_GUARD_OK;
	if (!atomic_load_explicit(&ready, memory_order_acquire)) {
		*why = DA_GUARD_OFF;
		return NULL;
	}
	size_t a = da_guard_cfg.align;
	while (a < align && a <= DA_GUARD_MAX_PAGES * DA_PAGE)
		a *= 2; /* odd alignments round up, as memalign's */
	size_t k = a > DA_GUARD_MAX_PAGES * DA_PAGE ? 0 : pages_for(size, a);
	if (k == 0) {
		*why = DA_GUARD_TOO_BIG;
		atomic_fetch_add_explicit(&n_refused, 1, memory_order_relaxed);
		return NULL;
	}
	unsigned c = cls_of(k);
	DA_OP_ENTER();
	uint32_t n = take_slot(c, why);
	DA_OP_LEAVE();
	if (n == DA_GUARD_NIL) {
		atomic_fetch_add_explicit(&n_refused, 1, memory_order_relaxed);
		return NULL;
	}
	struct da_guard_slot *s = slot(n);
	uintptr_t u = place(s, size, a);
	for (unsigned i = 0; i < DA_GUARD_META; i++)
		atomic_store_explicit(&s->meta[i], 0, memory_order_relaxed);
	atomic_store_explicit(&s->block, u, memory_order_relaxed);
	atomic_store_explicit(&s->size, size, memory_order_relaxed);
	set_state(s, DA_GUARD_LIVE);
	atomic_fetch_add_explicit(&n_live, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&live_bytes, size, memory_order_relaxed);
	return (void *)u;
}

/* ---- free and the quarantine ---- */

/* Notes slot n, pushed out of the quarantine, for da_guard_take_evicted
 * (when asked to: da_guard_note_evictions). Lock-free. */
static void eviction_note(uint32_t n);

/* Puts slots pushed out of the quarantine on their sizes' closed FIFOs. */
static void
evicted_list(const uint32_t *ev, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct gclass *g = &size_list[slot(ev[i])->cls];
		if (atomic_load_explicit(&slot(ev[i])->retired,
		                         memory_order_relaxed))
			continue; /* its pages stay as the fault left them */
		if (!da_lock_take(&g->lock)) {
			/* A signal handler nested in this size's slow path:
			 * the slot stays closed, in no list, for good. */
			atomic_fetch_add_explicit(&n_stranded, 1,
			                          memory_order_relaxed);
			continue;
		}
		eviction_note(ev[i]);
		closed_append(g, ev[i]);
		da_lock_release(&g->lock);
	}
}

/* Enters closed slot n (bytes of data pages) into the quarantine and
 * pushes the oldest out while it holds more than its budget. */
static void
quarantine_push(uint32_t n, size_t bytes)
{
	uint32_t ev[DA_GUARD_BATCH];
	struct da_guard_slot *s = slot(n);
	if (!da_lock_take(&quar_lock)) {
		set_state(s, DA_GUARD_FREED);
		atomic_fetch_add_explicit(&n_freed, 1, memory_order_relaxed);
		evicted_list(&n, 1);
		return;
	}
	s->next = DA_GUARD_NIL;
	if (q_head == DA_GUARD_NIL)
		q_head = n;
	else
		slot(q_tail)->next = n;
	q_tail = n;
	q_bytes += bytes;
	q_count++;
	atomic_fetch_add_explicit(&n_quar, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&quar_bytes, bytes, memory_order_relaxed);
	for (;;) {
		unsigned m = 0;
		while (q_bytes > da_guard_cfg.quarantine &&
		       m < DA_GUARD_BATCH) {
			uint32_t h = q_head;
			struct da_guard_slot *o = slot(h);
			size_t ob = cls_pages(o->cls) * DA_PAGE;
			q_head = o->next;
			if (q_head == DA_GUARD_NIL)
				q_tail = DA_GUARD_NIL;
			q_bytes -= ob;
			q_count--;
			atomic_fetch_sub_explicit(&n_quar, 1,
			                          memory_order_relaxed);
			atomic_fetch_sub_explicit(&quar_bytes, ob,
			                          memory_order_relaxed);
			atomic_fetch_add_explicit(&n_freed, 1,
			                          memory_order_relaxed);
			set_state(o, DA_GUARD_FREED);
			ev[m++] = h;
		}
		int more = q_bytes > da_guard_cfg.quarantine;
		da_lock_release(&quar_lock);
		evicted_list(ev, m);
		if (!more || !da_lock_take(&quar_lock))
			return;
	}
}

int
da_guard_free(void *p)
{
	struct da_guard_span sp;
	uint32_t n;
	struct da_guard_slot *s = slot_at((uintptr_t)p, &sp, &n);
	if (s == NULL)
		return DA_FREE_UNUSED;
	unsigned st = state_of(s);
	uintptr_t blk = atomic_load_explicit(&s->block, memory_order_relaxed);
	size_t size = atomic_load_explicit(&s->size, memory_order_relaxed);
	if (st == DA_GUARD_LIVE && blk == (uintptr_t)p) {
		uint8_t live = DA_GUARD_LIVE;
		if (!atomic_compare_exchange_strong_explicit(
		            &s->state, &live, DA_GUARD_QUARANTINED,
		            memory_order_acq_rel, memory_order_acquire))
			return DA_FREE_DOUBLE; /* another free came first */
	} else if ((st == DA_GUARD_QUARANTINED || st == DA_GUARD_FREED) &&
	           blk == (uintptr_t)p) {
		return DA_FREE_DOUBLE;
	} else if (st == DA_GUARD_LIVE && (uintptr_t)p - blk < size) {
		return DA_FREE_INTERIOR;
	} else {
		return DA_FREE_UNUSED;
	}
	atomic_fetch_sub_explicit(&n_live, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&live_bytes, size, memory_order_relaxed);
	uintptr_t lo, hi;
	slot_data(s, &lo, &hi);
	DA_OP_ENTER();
	/* Without a quarantine the pages stay open and the slot is reused
	 * as it is: overflows still fault, a use after free does not. */
	if (da_guard_cfg.quarantine == 0 ||
	    da_guardprot_close((void *)lo, hi - lo) != 0) {
		/* Still open: no quarantine for it; the slot is reused. */
		struct gclass *g = &size_list[s->cls];
		s->dirty = 1;
		set_state(s, DA_GUARD_UNUSED);
		if (da_lock_take(&g->lock)) {
			open_push(g, n);
			da_lock_release(&g->lock);
		} else {
			atomic_fetch_add_explicit(&n_stranded, 1,
			                          memory_order_relaxed);
		}
	} else {
		/* madvise's close takes the pages away (they read as zero
		 * when opened again); mprotect's keeps them. */
		s->dirty = da_guardprot_mech == DA_GUARD_MECH_MPROTECT;
		if (da_guardprot_mech == DA_GUARD_MECH_MPROTECT)
			atomic_fetch_sub_explicit(&n_islands, 1,
			                          memory_order_relaxed);
		quarantine_push(n, hi - lo);
	}
	DA_OP_LEAVE();
	return DA_FREE_OK;
}

/* ---- queries ---- */

/* 1 if slot state st has a block to describe. */
static int
has_block(unsigned st)
{
	return st == DA_GUARD_LIVE || st == DA_GUARD_QUARANTINED ||
	       st == DA_GUARD_FREED;
}

/* Live block p's slot, or NULL. */
static struct da_guard_slot *
live_slot(const void *p)
{
	struct da_guard_span sp;
	uint32_t n;
	struct da_guard_slot *s = slot_at((uintptr_t)p, &sp, &n);
	if (s == NULL || state_of(s) != DA_GUARD_LIVE ||
	    atomic_load_explicit(&s->block, memory_order_relaxed) !=
	            (uintptr_t)p)
		return NULL;
	return s;
}

/* Bytes from block u of slot s to the first byte that faults. */
static size_t
usable_in(const struct da_guard_slot *s, uintptr_t u)
{
	uintptr_t lo, hi;
	slot_data(s, &lo, &hi);
	return hi > u ? hi - u : 0;
}

size_t
da_guard_usable(const void *p)
{
	struct da_guard_slot *s = live_slot(p);
	return s == NULL ? 0 : usable_in(s, (uintptr_t)p);
}

int
da_guard_block(const void *p, struct da_block *b)
{
	struct da_guard_slot *s = live_slot(p);
	if (s == NULL)
		return 0;
	b->start = (char *)p - da_guard_cfg.header;
	b->user = (void *)p;
	b->size = usable_in(s, (uintptr_t)p);
	b->state = DA_LIVE;
	return 1;
}

int
da_guard_extent(const void *p, struct da_block *b)
{
	struct da_guard_span sp;
	uint32_t n;
	uintptr_t a = (uintptr_t)p, lo, hi;
	struct da_guard_slot *s = slot_at(a, &sp, &n);
	if (s == NULL)
		return 0;
	slot_data(s, &lo, &hi);
	unsigned st = state_of(s);
	if (a < lo || a >= hi || !has_block(st))
		return 0;
	uintptr_t blk = atomic_load_explicit(&s->block, memory_order_relaxed);
	size_t size =
	        st == DA_GUARD_LIVE
	                ? usable_in(s, blk)
	                : atomic_load_explicit(&s->size, memory_order_relaxed);
	uintptr_t start = blk - da_guard_cfg.header;
	size += da_guard_cfg.header;
	if (a < start || a - start >= size)
		return 0;
	b->start = b->user = (void *)start;
	b->size = size;
	b->state = st == DA_GUARD_LIVE ? DA_LIVE : DA_FREED;
	return 1;
}

int
da_guard_zeroed(const void *p)
{
	struct da_guard_slot *s = live_slot(p);
	return s != NULL && !s->dirty;
}

_Atomic(uint64_t) *
da_guard_meta(const void *p)
{
	struct da_guard_slot *s = live_slot(p);
	return s == NULL ? NULL : s->meta;
}

/* Fills hit for address a and slot n (or no slot). */
static void
describe(uintptr_t a, uint32_t n, int in_guard, struct da_guard_hit *hit)
{
	memset(hit, 0, sizeof(*hit));
	hit->slot = DA_GUARD_NIL;
	hit->in_guard = in_guard;
	struct da_guard_slot *s = n == DA_GUARD_NIL ? NULL : slot(n);
	if (s == NULL)
		return;
	unsigned st = state_of(s);
	hit->slot = n;
	hit->state = st;
	if (!has_block(st))
		return;
	uintptr_t blk = atomic_load_explicit(&s->block, memory_order_relaxed);
	size_t size = atomic_load_explicit(&s->size, memory_order_relaxed);
	hit->block = (char *)blk;
	hit->size = size;
	hit->offset = (ptrdiff_t)(a - blk);
	hit->freed = st != DA_GUARD_LIVE;
	hit->where = a < blk          ? DA_GUARD_BELOW
	             : a - blk < size ? DA_GUARD_IN
	                              : DA_GUARD_ABOVE;
	for (unsigned i = 0; i < DA_GUARD_META; i++)
		hit->meta[i] =
		        atomic_load_explicit(&s->meta[i], memory_order_relaxed);
}

/* The slot whose data pages hold address a, with a block: its number, or
 * DA_GUARD_NIL. */
static uint32_t
block_slot_at(uintptr_t a)
{
	struct da_guard_span sp;
	uint32_t n;
	struct da_guard_slot *s = slot_at(a, &sp, &n);
	uintptr_t lo, hi;
	if (s == NULL)
		return DA_GUARD_NIL;
	slot_data(s, &lo, &hi);
	if (a < lo || a >= hi || !has_block(state_of(s)))
		return DA_GUARD_NIL;
	return n;
}

int
da_guard_lookup(const void *addr, struct da_guard_hit *hit)
{
	uintptr_t a = (uintptr_t)addr;
	struct da_guard_span sp;
	uint32_t n = DA_GUARD_NIL;
	if (!da_guardspace_find(a, &sp))
		return 0;
	struct da_guard_slot *s = slot_at(a, &sp, &n);
	uintptr_t lo, hi, run_lo, run_hi;
	if (s != NULL) {
		slot_data(s, &lo, &hi);
		if (a >= lo && a < hi) {
			describe(a, n, 0, hit);
			return 1;
		}
		/* Its guard page. */
		run_lo = a & ~(uintptr_t)(DA_PAGE - 1);
		run_hi = run_lo + DA_PAGE;
	} else {
		/* The span's tail, after its last slot. */
		run_lo = sp.base + sp.nslots * sp.slot_bytes;
		run_hi = sp.end;
	}
	/* The blocks on either side of the inaccessible run. */
	uint32_t below = block_slot_at(run_lo - 1);
	uint32_t above = block_slot_at(run_hi);
	struct da_guard_hit hb, ha;
	describe(a, below, 1, &hb);
	describe(a, above, 1, &ha);
	if (hb.block == NULL && ha.block == NULL) {
		describe(a, DA_GUARD_NIL, 1, hit);
		return 1;
	}
	size_t db = hb.block != NULL ? a - ((uintptr_t)hb.block + hb.size)
	                             : SIZE_MAX;
	size_t da = ha.block != NULL ? (uintptr_t)ha.block - a : SIZE_MAX;
	*hit = db <= da ? hb : ha;
	return 1;
}

int
da_guard_recover(const void *addr)
{
	struct da_guard_span sp;
	uint32_t n;
	uintptr_t a = (uintptr_t)addr, page = a & ~(uintptr_t)(DA_PAGE - 1);
	if (!da_guardspace_find(a, &sp))
		return -1;
	/* The slot the page belongs to: its data pages or its guard page
	 * (slot_at finds neither in the span's tail, which no slot owns). */
	struct da_guard_slot *s = slot_at(a, &sp, &n);
	if (s != NULL)
		atomic_store_explicit(&s->retired, 1, memory_order_relaxed);
	struct da_guard_range r = {(void *)page, DA_PAGE};
	return da_guardprot_open_many(&r, 1) == 0 ? 0 : -1;
}

int
da_guard_walk(int (*fn)(const struct da_block *b, void *arg), void *arg)
{
	uint32_t total = da_guardspace_nslots();
	for (uint32_t n = 0; n < total; n++) {
		struct da_guard_slot *s = slot(n);
		if (state_of(s) != DA_GUARD_LIVE)
			continue;
		uintptr_t u =
		        atomic_load_explicit(&s->block, memory_order_relaxed);
		struct da_block b = {
		        .start = (char *)u - da_guard_cfg.header,
		        .user = (void *)u,
		        .size = usable_in(s, u),
		        .state = DA_LIVE,
		};
		int rc = fn(&b, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void
da_guard_stats(struct da_guard_stats *st)
{
	unsigned nres;
	memset(st, 0, sizeof(*st));
	st->mech = da_guardprot_mech;
	st->slots = da_guardspace_nslots();
	st->live = atomic_load_explicit(&n_live, memory_order_relaxed);
	st->live_bytes =
	        atomic_load_explicit(&live_bytes, memory_order_relaxed);
	st->quarantined = atomic_load_explicit(&n_quar, memory_order_relaxed);
	st->quarantine_bytes =
	        atomic_load_explicit(&quar_bytes, memory_order_relaxed);
	st->freed_closed = atomic_load_explicit(&n_freed, memory_order_relaxed);
	st->guard_bytes = st->slots * DA_PAGE;
	st->reserved = da_guardspace_reserved(&nres);
	st->maps = maps_made();
	st->max_maps = da_guardprot_max_maps;
	st->map_ceiling = map_ceiling;
	st->refused = atomic_load_explicit(&n_refused, memory_order_relaxed);
	st->syscalls =
	        atomic_load_explicit(&da_guardprot_calls, memory_order_relaxed);
	st->stranded = atomic_load_explicit(&n_stranded, memory_order_relaxed);
}

/* ---- fork ---- */

#define NLOCKS      (NCLS + 2)
#define FORK_LEVELS 16
static __thread unsigned fork_level;
static __thread uint64_t fork_took[FORK_LEVELS][2];

static struct da_lock *
lock_at(unsigned i)
{
	if (i < NCLS)
		return &size_list[i].lock;
	return i == NCLS ? &quar_lock : &region_lock;
}

/* As heap.c's: a lock this thread holds not for fork means fork() from a
 * signal handler that interrupted a slow path here: skipped (the child
 * resets it); one an outer fork level took is taken again. */
void
da_guard_fork_prepare(void)
{
	unsigned level = fork_level++;
	uint64_t took[2] = {0, 0};
	for (unsigned i = 0; i < NLOCKS; i++) {
		struct da_lock *l = lock_at(i);
		if (da_lock_held_by_me(l) && !l->fork_taken)
			continue;
		da_lock_acquire(l);
		l->fork_taken = 1;
		took[i / 64] |= (uint64_t)1 << (i % 64);
	}
	if (level < FORK_LEVELS) {
		fork_took[level][0] = took[0];
		fork_took[level][1] = took[1];
	}
}

void
da_guard_fork_parent(void)
{
	unsigned level = --fork_level;
	for (unsigned i = NLOCKS; i-- > 0;) {
		uint64_t bit = (uint64_t)1 << (i % 64);
		if (level < FORK_LEVELS && (fork_took[level][i / 64] & bit) &&
		    da_lock_held_by_me(lock_at(i)))
			da_lock_release(lock_at(i));
	}
}

static void evictions_fork_child(void);

void
da_guard_fork_child(void)
{
	evictions_fork_child();
	fork_level--;
	/* As heap.c's: holds fork took end here; those of an interrupted
	 * operation end when it releases them. */
	for (unsigned i = 0; i < NLOCKS; i++) {
		struct da_lock *l = lock_at(i);
		if (da_lock_held_by_me(l) && l->fork_taken)
			da_locks_held -= l->depth + 1;
		da_lock_reset(l);
	}
	da_guardprot_fork_child();
}

/* ---- evictions noted for a caller (da_guard_note_evictions) ----
 *
 * A bounded lock-free queue (Vyukov's): cell i of the ring is free for
 * the producer at position pos when its seq is pos, holds an entry for
 * the consumer at pos when it is pos + 1, and is free again for the
 * producer a lap later when the consumer sets it to pos + EV_CAP. The
 * ring is mapped from the OS, so no module's data (a root of the leak
 * scan, when dbgalloc is linked statically) holds the blocks' addresses.
 */
#define EV_CAP DA_GUARD_EVICT_RING

struct ev_cell {
	_Atomic(size_t) seq;
	struct da_guard_evicted e;
};

static struct ev_cell *ev_ring;
static _Atomic(int) ev_on;
static _Atomic(size_t) ev_in, ev_out;
static _Atomic(uint64_t) ev_missed;

static void
ev_reset(void)
{
	for (size_t i = 0; i < EV_CAP; i++)
		atomic_store_explicit(&ev_ring[i].seq, i, memory_order_relaxed);
	atomic_store_explicit(&ev_in, 0, memory_order_relaxed);
	atomic_store_explicit(&ev_out, 0, memory_order_release);
}

int
da_guard_note_evictions(int on)
{
	if (on && ev_ring == NULL) {
		ev_ring = da_os_map(EV_CAP * sizeof(*ev_ring));
		if (ev_ring == NULL)
			return ENOMEM;
		ev_reset();
	}
	atomic_store_explicit(&ev_on, on != 0, memory_order_release);
	return 0;
}

static void
eviction_note(uint32_t n)
{
	if (!atomic_load_explicit(&ev_on, memory_order_acquire))
		return;
	const struct da_guard_slot *s = slot(n);
	size_t pos = atomic_load_explicit(&ev_in, memory_order_relaxed);
	struct ev_cell *c;
	for (;;) {
		c = &ev_ring[pos % EV_CAP];
		size_t seq =
		        atomic_load_explicit(&c->seq, memory_order_acquire);
		intptr_t d = (intptr_t)(seq - pos);
		if (d == 0 &&
		    atomic_compare_exchange_weak_explicit(&ev_in, &pos, pos + 1,
		                                          memory_order_relaxed,
		                                          memory_order_relaxed))
			break;
		if (d < 0) { /* full: the caller has not taken them yet */
			atomic_fetch_add_explicit(&ev_missed, 1,
			                          memory_order_relaxed);
			return;
		}
		if (d > 0)
			pos = atomic_load_explicit(&ev_in,
			                           memory_order_relaxed);
	}
	c->e.block = atomic_load_explicit(&s->block, memory_order_relaxed);
	c->e.size = atomic_load_explicit(&s->size, memory_order_relaxed);
	c->e.slot = n;
	for (unsigned i = 0; i < DA_GUARD_META; i++)
		c->e.meta[i] =
		        atomic_load_explicit(&s->meta[i], memory_order_relaxed);
	atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
}

size_t
da_guard_evicted_waiting(void)
{
	if (ev_ring == NULL)
		return 0;
	size_t out = atomic_load_explicit(&ev_out, memory_order_relaxed);
	size_t in = atomic_load_explicit(&ev_in, memory_order_relaxed);
	return in > out ? in - out : 0;
}

size_t
da_guard_take_evicted(struct da_guard_evicted *out, size_t max,
                      uint64_t *missed)
{
	size_t got = 0;
	if (missed != NULL)
		*missed = atomic_exchange_explicit(&ev_missed, 0,
		                                   memory_order_relaxed);
	if (ev_ring == NULL)
		return 0;
	size_t pos = atomic_load_explicit(&ev_out, memory_order_relaxed);
	while (got < max) {
		struct ev_cell *c = &ev_ring[pos % EV_CAP];
		size_t seq =
		        atomic_load_explicit(&c->seq, memory_order_acquire);
		intptr_t d = (intptr_t)(seq - (pos + 1));
		if (d < 0)
			break; /* empty (or an entry still being written) */
		if (d > 0) {
			pos = atomic_load_explicit(&ev_out,
			                           memory_order_relaxed);
			continue;
		}
		if (!atomic_compare_exchange_weak_explicit(
		            &ev_out, &pos, pos + 1, memory_order_relaxed,
		            memory_order_relaxed))
			continue;
		out[got++] = c->e;
		/* No copy of the address stays behind to be found. */
		memset(&c->e, 0, sizeof(c->e));
		atomic_store_explicit(&c->seq, pos + EV_CAP,
		                      memory_order_release);
		pos++;
	}
	return got;
}

/* A fork child has only the forking thread: an entry another thread was
 * writing would never be finished, so the ring starts again (what waited
 * in it counts as missed). */
static void
evictions_fork_child(void)
{
	if (ev_ring == NULL)
		return;
	size_t in = atomic_load_explicit(&ev_in, memory_order_relaxed);
	size_t out = atomic_load_explicit(&ev_out, memory_order_relaxed);
	atomic_fetch_add_explicit(&ev_missed, in - out, memory_order_relaxed);
	memset(ev_ring, 0, EV_CAP * sizeof(*ev_ring));
	ev_reset();
}
