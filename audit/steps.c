/*
 * audit/steps.c — high-water steps: the snapshot walk (see steps.h).
 */
#include "audit/steps.h"
#include "audit/sortkey.h"
#include "alloc/alloc.h"
#include "alloc/os.h"
#include "audit/acct.h"
#include "audit/depot.h"
#include "audit/header.h"
#include "audit/leak.h"
#include "audit/stop.h"
#include "audit/timeline.h"

#include <sched.h>
#include <stdatomic.h>
#include <string.h>

static _Atomic int busy; /* a step is being taken */
static int nostop;       /* a thread could not be stopped: walk running */

static atomic_flag snap_lock = ATOMIC_FLAG_INIT;
static struct da_steps_site *snap; /* sorted by site */
static size_t snap_n, snap_bytes;
static int64_t snap_live = -1;

static _Atomic uint64_t class_peak[DA_NCLASSES + 1];

/* --- The walk: live bytes per site, in a table mapped from the OS. --- */

struct table {
	struct da_steps_site *t; /* site 0: an empty slot */
	size_t cap, n;           /* slots (a power of two), used */
	int failed;              /* no memory to grow */
};

static size_t
slot_of(uint32_t site, size_t cap)
{
	return (size_t)(((uint64_t)site * 0x9e3779b97f4a7c15ull) >> 32) &
	       (cap - 1);
}

static int
table_init(struct table *t, size_t want)
{
	size_t cap = 64;
	while (cap < 2 * want)
		cap *= 2;
	t->t = da_os_map(cap * sizeof(*t->t));
	t->cap = cap;
	t->n = 0;
	return t->t != NULL ? 0 : -1;
}

static inline void
table_add(struct table *t, uint32_t site, uint64_t bytes)
{
	if (2 * (t->n + 1) > t->cap) {
		struct table big;
		if (table_init(&big, t->cap) != 0) {
			t->failed = 1;
			return;
		}
		for (size_t i = 0; i < t->cap; i++) {
			const struct da_steps_site *e = &t->t[i];
			if (e->site == 0)
				continue;
			size_t k = slot_of(e->site, big.cap);
			while (big.t[k].site != 0)
				k = (k + 1) & (big.cap - 1);
			big.t[k] = *e;
		}
		big.n = t->n;
		da_os_unmap(t->t, t->cap * sizeof(*t->t));
		*t = big;
	}
	for (size_t k = slot_of(site, t->cap);; k = (k + 1) & (t->cap - 1)) {
		struct da_steps_site *e = &t->t[k];
		if (e->site == 0) {
			e->site = site;
			t->n++;
		}
		if (e->site == site) {
			e->bytes += bytes;
			return;
		}
	}
}

struct walk {
	struct table sites;
	uint64_t classes[DA_NCLASSES + 1];
	uint32_t last_site;  /* the site note_block saw last, 0: none */
	uint64_t last_bytes; /* its bytes, not yet in the table */
};

/* One live block at blk, usable bytes from it: its header's site and size
 * (in flight, no header yet: left out). Consecutive blocks of a slab often
 * share a site: the last one's bytes are kept at hand. */
static inline void
note_block(struct walk *k, const char *blk, size_t usable)
{
	const struct da_hdr *h = (const struct da_hdr *)blk;
	if (usable < DA_HDR_EXTRA || !da_hdr_intact(h))
		return;
	uint64_t size = h->w0 & DA_HDR_SIZE_MAX;
	uint32_t site = (uint32_t)h->w1;
	if (size > usable - DA_HDR_EXTRA || site == 0 ||
	    site == DA_SITE_IGNORED || site == DA_SITE_INTERNAL)
		return;
	if (site != k->last_site) {
		if (k->last_site != 0)
			table_add(&k->sites, k->last_site, k->last_bytes);
		k->last_site = site;
		k->last_bytes = 0;
	}
	k->last_bytes += size;
}

/* A class slab: its live blocks, read in one loop. */
static void
per_slab(const struct da_slab_view *v, void *arg)
{
	struct walk *k = arg;
	uint64_t live = 0;
	size_t off = 0;
	for (uint32_t i = 0; i < v->end; i++, off += v->bsize) {
		uint8_t st =
		        __atomic_load_n(&v->live[off >> 4], __ATOMIC_RELAXED);
		if (st == DA_LIVE) {
			live++;
			note_block(k, v->area + off, v->bsize);
		} else if (st == DA_LIVE_ALIGNED) {
			struct da_block b = {v->area + off, v->area + off,
			                     v->bsize, st};
			live++;
			if (da_alloc_aligned_user(&b))
				note_block(k, b.user, b.size);
		}
	}
	k->classes[v->cls] += live;
}

static int
per_large(const struct da_block *b, void *arg)
{
	struct walk *k = arg;
	k->classes[DA_CLASS_LARGE]++;
	note_block(k, b->user, b->size);
	return 0;
}

static void
walk_stopped(const struct da_world *w, void *arg)
{
	(void)w;
	struct walk *k = arg;
	da_alloc_walk_slabs(per_slab, k);
	da_alloc_walk_large(per_large, k);
	if (k->last_site != 0)
		table_add(&k->sites, k->last_site, k->last_bytes);
}

/* da_sort_by_key reads the site as each record's key. */
_Static_assert(offsetof(struct da_steps_site, site) == 0 &&
                       sizeof(((struct da_steps_site *)0)->site) == 4 &&
                       sizeof(struct da_steps_site) <= DA_SORT_RECORD_MAX,
               "a steps site begins with its 32-bit id");

static void
snap_take_lock(void)
{
	while (atomic_flag_test_and_set_explicit(&snap_lock,
	                                         memory_order_acquire))
		sched_yield();
}

void
da_steps_reached(int64_t live)
{
	int64_t next =
	        atomic_load_explicit(&da_acct_next_step, memory_order_relaxed);
	/* Not inside an operation of the allocator (a signal handler's
	 * allocation), nor while another step is taken. */
	if (live < next || da_op_depth > 0 || da_locks_held > 0 ||
	    atomic_exchange_explicit(&busy, 1, memory_order_acquire))
		return;
	int64_t step = next;
	while (step <= live)
		step += step >> DA_STEPS_SHIFT;
	if (!atomic_compare_exchange_strong_explicit(&da_acct_next_step, &next,
	                                             step, memory_order_relaxed,
	                                             memory_order_relaxed)) {
		atomic_store_explicit(&busy, 0, memory_order_release);
		return;
	}
	struct walk k = {.sites = {0}};
	if (table_init(&k.sites, (size_t)da_depot_count() + 64) == 0) {
		/* A thread that blocks the stop signal is waited for 50 ms
		 * once, not at every step. */
		if (da_world_run(!nostop, 50, walk_stopped, &k) > 0)
			nostop = 1;
		da_steps_note_classes(k.classes);
		if (!k.sites.failed) {
			/* Packed at the front, sorted: the new snapshot. */
			size_t n = 0;
			for (size_t i = 0; i < k.sites.cap; i++)
				if (k.sites.t[i].site != 0)
					k.sites.t[n++] = k.sites.t[i];
			da_sort_by_key(k.sites.t, n, sizeof(*k.sites.t));
			snap_take_lock();
			struct da_steps_site *old = snap;
			size_t old_bytes = snap_bytes;
			snap = k.sites.t;
			snap_n = n;
			snap_bytes = k.sites.cap * sizeof(*k.sites.t);
			snap_live = live;
			atomic_flag_clear_explicit(&snap_lock,
			                           memory_order_release);
			if (old != NULL)
				da_os_unmap(old, old_bytes);
		} else {
			da_os_unmap(k.sites.t,
			            k.sites.cap * sizeof(*k.sites.t));
		}
	}
	da_timeline_add(DA_SAMPLE_STEP, live);
	atomic_store_explicit(&busy, 0, memory_order_release);
}

void
da_steps_lock(const struct da_steps_site **sites, size_t *n, int64_t *live)
{
	snap_take_lock();
	*sites = snap;
	*n = snap_n;
	*live = snap_live;
}

void
da_steps_unlock(void)
{
	atomic_flag_clear_explicit(&snap_lock, memory_order_release);
}

uint64_t
da_steps_bytes_of(const struct da_steps_site *sites, size_t n, uint32_t site)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sites[mid].site < site)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && sites[lo].site == site ? sites[lo].bytes : 0;
}

void
da_steps_class_peaks(uint64_t out[DA_NCLASSES + 1])
{
	for (unsigned c = 0; c <= DA_NCLASSES; c++)
		out[c] = atomic_load_explicit(&class_peak[c],
		                              memory_order_relaxed);
}

void
da_steps_note_classes(const uint64_t live[DA_NCLASSES + 1])
{
	for (unsigned c = 0; c <= DA_NCLASSES; c++) {
		uint64_t p = atomic_load_explicit(&class_peak[c],
		                                  memory_order_relaxed);
		while (live[c] > p &&
		       !atomic_compare_exchange_weak_explicit(
		               &class_peak[c], &p, live[c],
		               memory_order_relaxed, memory_order_relaxed))
			;
	}
}

size_t
da_steps_bytes(void)
{
	return snap_bytes;
}

void
da_steps_fork_child(void)
{
	atomic_store_explicit(&busy, 0, memory_order_relaxed);
	atomic_flag_clear_explicit(&snap_lock, memory_order_relaxed);
}
