/*
 * audit/sitestats.c — the call sites' totals, the threads' caches of
 * counts, and the lifetime samples (see sitestats.h).
 *
 * The totals: one entry per call site, found from its depot id through an
 * index per depot chunk (a record takes at least two 8-byte units, so id
 * / 2 within a chunk names one record), entries and histograms cut from
 * pools of chunks mapped as needed. Everything is installed with a CAS and
 * updated with atomic adds: no lock, async-signal-safe, and a fork at any
 * point leaves the child a usable table (at worst an entry cut and not
 * yet published is lost, with nothing in it).
 *
 * The threads: each thread that counts registers a node (its slots are in
 * da_site_tls, its second cache here) in a list under a spin lock; the
 * dump reads the list with every other thread stopped, holding the lock,
 * which is taken before the stop (so no stopped thread holds it) and
 * never while an allocator lock is held.
 */
#include "audit/sitestats.h"
#include "alloc/alloc.h"
#include "alloc/os.h"
#include "audit/acct.h"
#include "audit/leak.h"

#include <sched.h>
#include <stdatomic.h>
#include <time.h>

/* --- The totals. --- */

struct life {
	_Atomic uint64_t allocs[DA_LIFE_BUCKETS];
	_Atomic uint64_t us[DA_LIFE_BUCKETS];
};

struct entry {
	_Atomic uint32_t site; /* 0: cut but not published (or lost) */
	_Atomic uint64_t allocs, bytes, temporary, ignored, ignored_bytes;
	_Atomic(struct life *) life;
};

#define IDX_PER_CHUNK (DA_DEPOT_CHUNK_UNITS / 2)
#define POOL_SHIFT    12 /* entries (and histograms) per pool chunk */
#define POOL_CHUNK    ((uint32_t)1 << POOL_SHIFT)
#define POOL_CHUNKS   4096 /* 16M entries: the depot's most stacks */

/* Each an array of the kind its name says, mapped when first needed. */
static _Atomic(void *) idx[DA_DEPOT_CHUNKS];
static _Atomic(void *) entries[POOL_CHUNKS];
static _Atomic uint32_t entries_cut = 1; /* entry 0 means none */
static _Atomic(void *) lives[POOL_CHUNKS];
static _Atomic uint32_t lives_cut;
static _Atomic size_t mapped;
/* The stack that did not fit (DA_DEPOT_OVERFLOW) has no depot record. */
static struct entry overflow_entry = {.site = DA_DEPOT_OVERFLOW};

/* *slot's memory of size bytes, mapped and installed if need be. */
static void *
install(_Atomic(void *) *slot, size_t size)
{
	void *p = atomic_load_explicit(slot, memory_order_acquire);
	if (p != NULL)
		return p;
	void *fresh = da_os_map(size);
	if (fresh == NULL)
		return NULL;
	if (atomic_compare_exchange_strong_explicit(slot, &p, fresh,
	                                            memory_order_acq_rel,
	                                            memory_order_acquire)) {
		atomic_fetch_add_explicit(&mapped, size, memory_order_relaxed);
		return fresh;
	}
	da_os_unmap(fresh, size);
	return p;
}

static struct entry *
entry_at(uint32_t i)
{
	struct entry *c = atomic_load_explicit(&entries[i >> POOL_SHIFT],
	                                       memory_order_acquire);
	return c != NULL ? &c[i & (POOL_CHUNK - 1)] : NULL;
}

/* Site's entry, made if need be; NULL for ids that are no call site, or
 * when the kernel refuses memory. */
static struct entry *
entry_of(uint32_t site)
{
	if (site == DA_DEPOT_OVERFLOW)
		return &overflow_entry;
	if (site == 0 || site / DA_DEPOT_CHUNK_UNITS >= DA_DEPOT_CHUNKS)
		return NULL;
	_Atomic uint32_t *ix = install(&idx[site / DA_DEPOT_CHUNK_UNITS],
	                               IDX_PER_CHUNK * sizeof(uint32_t));
	if (ix == NULL)
		return NULL;
	_Atomic uint32_t *slot = &ix[(site % DA_DEPOT_CHUNK_UNITS) / 2];
	uint32_t i = atomic_load_explicit(slot, memory_order_acquire);
	if (i != 0)
		return entry_at(i);
	i = atomic_fetch_add_explicit(&entries_cut, 1, memory_order_relaxed);
	if (i >= POOL_CHUNKS * POOL_CHUNK ||
	    install(&entries[i >> POOL_SHIFT],
	            POOL_CHUNK * sizeof(struct entry)) == NULL)
		return NULL;
	struct entry *e = entry_at(i);
	atomic_store_explicit(&e->site, site, memory_order_relaxed);
	uint32_t none = 0;
	if (atomic_compare_exchange_strong_explicit(
	            slot, &none, i, memory_order_acq_rel, memory_order_acquire))
		return e;
	/* Another thread published one first: this one stays unused. */
	atomic_store_explicit(&e->site, 0, memory_order_relaxed);
	return entry_at(none);
}

/* Site's entry if it has one (no memory is mapped). */
static inline struct entry *
entry_find(uint32_t site)
{
	if (da_unlikely(site / DA_DEPOT_CHUNK_UNITS >= DA_DEPOT_CHUNKS))
		return site == DA_DEPOT_OVERFLOW ? &overflow_entry : NULL;
	_Atomic uint32_t *ix = atomic_load_explicit(
	        &idx[site / DA_DEPOT_CHUNK_UNITS], memory_order_acquire);
	if (ix == NULL)
		return NULL;
	uint32_t i = atomic_load_explicit(
	        &ix[(site % DA_DEPOT_CHUNK_UNITS) / 2], memory_order_acquire);
	return i != 0 ? entry_at(i) : NULL;
}

static struct life *
life_of(struct entry *e)
{
	struct life *l = atomic_load_explicit(&e->life, memory_order_acquire);
	if (l != NULL)
		return l;
	uint32_t i =
	        atomic_fetch_add_explicit(&lives_cut, 1, memory_order_relaxed);
	if (i >= POOL_CHUNKS * POOL_CHUNK)
		return NULL;
	struct life *c = install(&lives[i >> POOL_SHIFT],
	                         POOL_CHUNK * sizeof(struct life));
	if (c == NULL)
		return NULL;
	struct life *mine = &c[i & (POOL_CHUNK - 1)];
	if (atomic_compare_exchange_strong_explicit(&e->life, &l, mine,
	                                            memory_order_acq_rel,
	                                            memory_order_acquire))
		return mine;
	return l; /* another thread's: this one stays unused */
}

static void
add(_Atomic uint64_t *p, uint64_t v)
{
	if (v != 0)
		atomic_fetch_add_explicit(p, v, memory_order_relaxed);
}

static void
to_totals(uint32_t site, uint64_t allocs, uint64_t bytes, uint64_t temporary)
{
	if (allocs == 0 && temporary == 0)
		return;
	struct entry *e = entry_of(site);
	if (e == NULL)
		return;
	add(&e->allocs, allocs);
	add(&e->bytes, bytes);
	add(&e->temporary, temporary);
}

/* --- The threads. --- */

#define SIDE 64

/* A thread's second cache (counts that do not come through a slot), and
 * its place in the list of threads. */
struct node {
	uint32_t site[SIDE];
	uint64_t allocs[SIDE], bytes[SIDE], temporary[SIDE];
	struct da_site_cache *slots;
	struct node *prev, *next;
	unsigned state;
};
enum { NODE_NEW = 0, NODE_REGISTERING, NODE_LIVE, NODE_GONE };

static __thread struct node me;
static struct node *threads;
static atomic_flag threads_lock = ATOMIC_FLAG_INIT;

static void
lock(void)
{
	for (unsigned spins = 0; atomic_flag_test_and_set_explicit(
	             &threads_lock, memory_order_acquire);
	     spins++)
		if (spins > 64)
			sched_yield();
}

static void
unlock(void)
{
	atomic_flag_clear_explicit(&threads_lock, memory_order_release);
}

void
da_sitestats_lock(void)
{
	lock();
}

void
da_sitestats_unlock(void)
{
	unlock();
}

/* Puts the calling thread in the list, once; it leaves it at its exit
 * (the accounting's, which this registration makes sure of). */
static void
enroll(void)
{
	/* Not from a signal handler inside the allocator (a dump may hold
	 * the lock, waiting for an allocator lock this thread holds): later. */
	if (me.state != NODE_NEW || da_locks_held > 0 || da_acct_tls.in_lock)
		return;
	me.state = NODE_REGISTERING; /* a signal handler's call waits */
	/* The accounting's registration is what calls
	 * da_sitestats_thread_exit. */
	da_acct_enter();
	me.slots = &da_site_tls;
	lock();
	me.prev = NULL;
	me.next = threads;
	if (threads != NULL)
		threads->prev = &me;
	threads = &me;
	unlock();
	me.state = NODE_LIVE;
}

int
da_sitestats_thread_live(void)
{
	return me.state != NODE_GONE;
}

/* The side cache's slot of site. */
static unsigned
side_slot(uint32_t site)
{
	return (unsigned)((site * 0x9e3779b9u) >> 26) & (SIDE - 1);
}

/* Side slot k, emptied of whatever site held it, for site. */
static unsigned
side_take(uint32_t site)
{
	unsigned k = side_slot(site);
	if (me.site[k] != site) {
		uint32_t old = me.site[k];
		uint64_t a = me.allocs[k], b = me.bytes[k], t = me.temporary[k];
		me.site[k] = 0;
		me.allocs[k] = me.bytes[k] = me.temporary[k] = 0;
		atomic_signal_fence(memory_order_seq_cst);
		if (old != 0)
			to_totals(old, a, b, t);
		me.site[k] = site;
	}
	return k;
}

uint32_t
da_sitestats_capture_slow(uintptr_t ret, uintptr_t fp, unsigned depth,
                          uint64_t size)
{
	uint32_t site = da_site_capture_slow(ret, fp, depth);
	unsigned k = da_site_slot(ret);
	if (depth == 1 && da_site_tls.pc[k] == ret &&
	    da_site_tls.id[k] == site) {
		/* Installed just now (an exited thread installs nothing). */
		da_sitestats_count_slot(k, size);
		return site;
	}
	if (me.state == NODE_NEW)
		enroll();
	if (me.state != NODE_LIVE) {
		to_totals(site, 1, size, 0);
		return site;
	}
	k = side_take(site);
	me.allocs[k]++;
	me.bytes[k] += size;
	return site;
}

void
da_sitestats_evict_slot(unsigned k)
{
	if (me.state == NODE_NEW)
		enroll();
	uint32_t site = da_site_tls.id[k];
	uint64_t a = da_site_tls.allocs[k], b = da_site_tls.bytes[k];
	da_site_tls.allocs[k] = da_site_tls.bytes[k] = 0;
	if (da_site_tls.pc[k] != 0)
		to_totals(site, a, b, 0);
}

/* Hands every count of node n to the totals. */
static void
node_flush(struct node *n)
{
	struct da_site_cache *c = n->slots;
	if (c != NULL) {
		uint32_t site = c->tmp_site;
		uint64_t t = c->tmp_count;
		c->tmp_site = 0;
		c->tmp_count = 0;
		if (site != 0)
			to_totals(site, 0, 0, t);
	}
	for (unsigned k = 0; c != NULL && k < DA_SITE_CACHE; k++) {
		uint64_t a = c->allocs[k], b = c->bytes[k];
		c->allocs[k] = c->bytes[k] = 0;
		if (c->pc[k] != 0)
			to_totals(c->id[k], a, b, 0);
	}
	for (unsigned k = 0; k < SIDE; k++) {
		uint32_t site = n->site[k];
		uint64_t a = n->allocs[k], b = n->bytes[k], t = n->temporary[k];
		n->site[k] = 0;
		n->allocs[k] = n->bytes[k] = n->temporary[k] = 0;
		if (site != 0)
			to_totals(site, a, b, t);
	}
}

static void
node_unlink(struct node *n)
{
	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		threads = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	n->prev = n->next = NULL;
}

void
da_sitestats_thread_exit(void)
{
	if (me.state == NODE_GONE)
		return;
	me.slots = &da_site_tls;
	int listed = me.state == NODE_LIVE;
	lock();
	if (listed)
		node_unlink(&me);
	/* From now on the slots are not read: later allocations (in later
	 * destructors) miss them and count straight to the totals. */
	me.state = NODE_GONE;
	atomic_signal_fence(memory_order_seq_cst);
	node_flush(&me);
	for (unsigned k = 0; k < DA_SITE_CACHE; k++)
		da_site_tls.pc[k] = 0;
	unlock();
}

void
da_sitestats_fork_child(void)
{
	atomic_flag_clear_explicit(&threads_lock, memory_order_relaxed);
	struct node *next;
	for (struct node *n = threads; n != NULL; n = next) {
		next = n->next;
		if (n == &me)
			continue;
		node_unlink(n);
		node_flush(n);
		n->state = NODE_GONE;
	}
}

/* --- Temporaries and lifetimes. --- */

static uint64_t
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

/* The bucket of lifetime v. */
static unsigned
bucket(uint64_t v)
{
	unsigned k = v == 0 ? 0 : 64u - (unsigned)__builtin_clzll(v);
	return k < DA_LIFE_BUCKETS ? k : DA_LIFE_BUCKETS - 1;
}

void
da_sitestats_stamp(char *blk, uint64_t size, uint64_t gen, size_t bsize)
{
	if (bsize == 0) {
		struct da_block b;
		if (!da_alloc_lookup(blk, &b) || b.user != blk)
			return;
		bsize = b.size;
	}
	if (bsize < DA_HDR_EXTRA + 8 || size > bsize - DA_HDR_EXTRA - 8)
		return; /* no room: no note, and no lifetime in time */
	uint64_t us = now_us() & ((UINT64_C(1) << 48) - 1);
	uint64_t note = us << 16 | da_life_note_check(us, gen, blk);
	memcpy(blk + DA_HDR_EXTRA + size, &note, sizeof(note));
}

/* The lifetime in microseconds of the block blk, stamped (its header
 * whole, bsize usable bytes), into *us; 0 if it has no note. */
static int
stamp_read(const char *blk, const struct da_hdr_info *i, size_t bsize,
           uint64_t *us)
{
	uint64_t note;
	if (bsize < DA_HDR_EXTRA + 8 || i->size > bsize - DA_HDR_EXTRA - 8)
		return 0;
	memcpy(&note, blk + DA_HDR_EXTRA + i->size, sizeof(note));
	uint64_t then = note >> 16;
	if ((note & 0xffff) != da_life_note_check(then, i->gen, blk))
		return 0;
	uint64_t now = now_us() & ((UINT64_C(1) << 48) - 1);
	*us = now >= then ? now - then : 0;
	return 1;
}

/* A freed block of site, generation gen, is temporary. */
static void
count_temporary(uint32_t site)
{
	if (me.state == NODE_NEW)
		enroll();
	if (me.state == NODE_LIVE)
		me.temporary[side_take(site)]++;
	else
		to_totals(site, 0, 0, 1);
}

void
da_sitestats_temporary_hit(const char *blk)
{
	uint32_t site = da_hdr_site(blk);
	if (site == DA_SITE_IGNORED || site == 0)
		return;
	uint32_t old = da_site_tls.tmp_site;
	uint64_t n = da_site_tls.tmp_count;
	da_site_tls.tmp_site = 0;
	da_site_tls.tmp_count = 0;
	atomic_signal_fence(memory_order_seq_cst);
	if (old != 0 && n != 0) {
		if (me.state == NODE_LIVE)
			me.temporary[side_take(old)] += n;
		else
			to_totals(old, 0, 0, n);
	}
	if (me.state == NODE_NEW)
		enroll();
	if (me.state != NODE_LIVE) {
		to_totals(site, 0, 0, 1);
		return;
	}
	da_site_tls.tmp_count = 1;
	atomic_signal_fence(memory_order_seq_cst);
	da_site_tls.tmp_site = site;
}

/* The lifetimes of a sampled block (da_sitestats_freed: da_life_stamped),
 * age allocations in between (UINT64_MAX: numbered after this thread's
 * batch). */
static void
life_sample(const char *blk, const struct da_hdr_info *i, uint64_t age,
            size_t bsize)
{
	if (age == UINT64_MAX) {
		uint64_t top = da_gen_top();
		age = top > i->gen ? top - 1 - i->gen : 0;
	}
	struct entry *e = entry_find(i->site);
	if (da_unlikely(e == NULL) && (e = entry_of(i->site)) == NULL)
		return;
	struct life *l = atomic_load_explicit(&e->life, memory_order_acquire);
	if (da_unlikely(l == NULL) && (l = life_of(e)) == NULL)
		return;
	atomic_fetch_add_explicit(&l->allocs[bucket(age)], 1,
	                          memory_order_relaxed);
	uint64_t us;
	if (stamp_read(blk, i, bsize, &us))
		atomic_fetch_add_explicit(&l->us[bucket(us)], 1,
		                          memory_order_relaxed);
}

void
da_sitestats_freed(const char *blk, size_t bsize)
{
	struct da_hdr_info i;
	da_hdr_unpack(blk, &i);
	if (i.site == DA_SITE_IGNORED || i.site == DA_SITE_INTERNAL ||
	    i.site == 0)
		return;
	uint64_t next = da_gen_tls.next;
	uint64_t age = next > i.gen ? next - 1 - i.gen : UINT64_MAX;
	if (da_unlikely(age < da_temporary_limit))
		count_temporary(i.site);
	if (da_life_stamped(i.gen))
		life_sample(blk, &i, age, bsize);
}

void
da_sitestats_ignored(uint32_t site, uint64_t size)
{
	struct entry *e = entry_of(site);
	if (e == NULL)
		return;
	add(&e->ignored, 1);
	add(&e->ignored_bytes, size);
}

/* --- Reading. --- */

static void
entry_row(struct entry *e, void (*fn)(const struct da_sitestats_row *, void *),
          void *arg)
{
	uint32_t site = atomic_load_explicit(&e->site, memory_order_relaxed);
	if (site == 0)
		return;
	struct life *l = atomic_load_explicit(&e->life, memory_order_acquire);
	if (l == NULL &&
	    atomic_load_explicit(&e->allocs, memory_order_relaxed) == 0 &&
	    atomic_load_explicit(&e->temporary, memory_order_relaxed) == 0 &&
	    atomic_load_explicit(&e->ignored, memory_order_relaxed) == 0)
		return; /* nothing yet (or all in a thread's cache) */
	struct da_sitestats_row r = {
	        .site = site,
	        .allocs =
	                atomic_load_explicit(&e->allocs, memory_order_relaxed),
	        .bytes = atomic_load_explicit(&e->bytes, memory_order_relaxed),
	        .temporary = atomic_load_explicit(&e->temporary,
	                                          memory_order_relaxed),
	        .ignored =
	                atomic_load_explicit(&e->ignored, memory_order_relaxed),
	        .ignored_bytes = atomic_load_explicit(&e->ignored_bytes,
	                                              memory_order_relaxed),
	        .life_allocs = l != NULL ? (const uint64_t *)l->allocs : NULL,
	        .life_us = l != NULL ? (const uint64_t *)l->us : NULL,
	};
	fn(&r, arg);
}

void
da_sitestats_each(void (*fn)(const struct da_sitestats_row *r, void *arg),
                  void *arg)
{
	entry_row(&overflow_entry, fn, arg);
	uint32_t n = atomic_load_explicit(&entries_cut, memory_order_acquire);
	if (n > POOL_CHUNKS * POOL_CHUNK)
		n = POOL_CHUNKS * POOL_CHUNK;
	for (uint32_t i = 1; i < n; i++) {
		struct entry *e = entry_at(i);
		if (e != NULL)
			entry_row(e, fn, arg);
	}
	for (struct node *t = threads; t != NULL; t = t->next) {
		struct da_site_cache *c = t->slots;
		if (c != NULL && c->tmp_site != 0 && c->tmp_count != 0) {
			struct da_sitestats_row r = {.site = c->tmp_site,
			                             .temporary = c->tmp_count};
			fn(&r, arg);
		}
		for (unsigned k = 0; c != NULL && k < DA_SITE_CACHE; k++) {
			if (c->pc[k] == 0 || c->allocs[k] == 0)
				continue;
			struct da_sitestats_row r = {.site = c->id[k],
			                             .allocs = c->allocs[k],
			                             .bytes = c->bytes[k]};
			fn(&r, arg);
		}
		for (unsigned k = 0; k < SIDE; k++) {
			if (t->site[k] == 0)
				continue;
			struct da_sitestats_row r = {
			        .site = t->site[k],
			        .allocs = t->allocs[k],
			        .bytes = t->bytes[k],
			        .temporary = t->temporary[k],
			};
			fn(&r, arg);
		}
	}
}

size_t
da_sitestats_bytes(void)
{
	return atomic_load_explicit(&mapped, memory_order_relaxed);
}
