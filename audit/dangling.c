/*
 * audit/dangling.c — the dangling-pointer sweep (dangling.h).
 *
 * A sweep: take the noted blocks (guard.h), drop those whose slot holds a
 * block again, sort the rest by address into ranges, probe the roots and
 * the live blocks for words in them (leak.h, with the world stopped),
 * then, the world running again, report each word found. Its tables are
 * mapped from the OS for the sweep and unmapped after it: no module's data
 * and no stack frame that the probe reads holds a swept block's address.
 */
#include "audit/dangling.h"
#include "alloc/guard.h"
#include "alloc/lock.h"
#include "alloc/os.h"
#include "audit/depot.h"
#include "audit/errors.h"
#include "audit/gen.h"
#include "audit/guarded.h"
#include "audit/leak.h"
#include "audit/scanbound.h"
#include "audit/sortkey.h"
#include "audit/symbolize.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define SWEEP_MAX   DA_GUARD_EVICT_RING /* blocks a sweep takes */
#define HELD_MAX    64  /* holders a sweep reports; the rest counted */
#define PATIENCE_MS 200 /* a thread not stopped by then is not read */

/* Pace: after a probe that took t, the next sweep waits (PACE * t) unless
 * a quarter of the ring waits: a thread that frees all the time spends
 * about a tenth of its time probing. */
#define PACE 9

static _Atomic(uint64_t) reported, unswept, not_shown;
static _Atomic(uint64_t) next_at; /* CLOCK_MONOTONIC ns */
static _Atomic(int) configured;
static __thread int sweeping; /* this thread's sweep (no nesting) */

int
da_dangling_configure(void)
{
	if (da_guard_note_evictions(1) != 0) {
		struct da_line l = {.len = 0};
		da_line_str(&l, "dbgalloc: DBGALLOC_DANGLING: no memory for "
		                "the sweep's ring; no sweep");
		da_line_emit(&l);
		return -1;
	}
	atomic_store(&configured, 1);
	return 0;
}

uint64_t
da_dangling_reported(void)
{
	return atomic_load_explicit(&reported, memory_order_relaxed);
}

uint64_t
da_dangling_unswept(void)
{
	return atomic_load_explicit(&unswept, memory_order_relaxed);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* 1 if this thread may stop the world and report here. */
static int
safe_here(void)
{
	if (sweeping || da_op_depth != 0 || da_locks_held != 0)
		return 0;
	/* A signal handler on an alternate stack (one on the thread's own
	 * stack cannot be told from here). */
	stack_t ss;
	return sigaltstack(NULL, &ss) != 0 || !(ss.ss_flags & SS_ONSTACK);
}

/* Drops the blocks whose slot holds a block again (or is about to):
 * a pointer into one may be that block's. Returns how many are kept. */
static size_t
keep_unreused(struct da_guard_evicted *e, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct da_guard_hit h;
		if (da_guard_lookup((const void *)e[i].block, &h) &&
		    h.slot == e[i].slot &&
		    (h.state == DA_GUARD_LIVE || h.state == DA_GUARD_TAKEN)) {
			atomic_fetch_add_explicit(&unswept, 1,
			                          memory_order_relaxed);
			continue;
		}
		e[k++] = e[i];
	}
	return k;
}

/* Appends " (data of module NAME)": the module whose segments hold a. */
static void
module_of(struct da_line *l, uintptr_t a)
{
	struct da_sym sym;
	const char *name = "?";
	if (da_sym_resolve(a + 1, &sym) && sym.module != NULL) {
		name = sym.module;
		const char *slash = strrchr(name, '/');
		if (slash != NULL)
			name = slash + 1;
	}
	da_line_str(l, " (data of module ");
	da_line_str(l, name);
	da_line_str(l, ")");
}

/* The headline's end: where the pointer is held. */
static void
held_where(struct da_line *l, const struct da_leak_held *h)
{
	if (h->in == DA_HELD_BLOCK) {
		da_line_str(l, ": held at offset ");
		da_line_count(l, h->at - h->holder.user);
		da_line_str(l, " of ");
		da_line_hex(l, h->holder.user);
		da_line_str(l, " (");
		da_line_count(l, h->holder.size);
		da_line_str(l, "-byte block, generation ");
		da_line_dec(l, h->holder.gen);
		da_line_str(l, ")");
		return;
	}
	if (h->in == DA_HELD_REGS) {
		da_line_str(l, ": held in a register of thread ");
		da_line_dec(l, (unsigned long)h->tid);
		return;
	}
	da_line_str(l, ": held in a root at ");
	da_line_hex(l, h->at);
	if (h->in == DA_HELD_DATA) {
		module_of(l, h->at);
		return;
	}
	da_line_str(l, h->in == DA_HELD_STACK ? " (stack of thread "
	                                      : " (TLS of thread ");
	da_line_dec(l, (unsigned long)h->tid);
	da_line_str(l, ")");
}

static void
report(const struct da_leak_held *h, const struct da_guard_evicted *e)
{
	struct da_err er;
	memset(&er, 0, sizeof(er));
	da_line_str(&er.head, "dbgalloc: dangling pointer to ");
	if (h->value != e->block) {
		da_line_str(&er.head, "byte ");
		da_line_count(&er.head, h->value - e->block);
		da_line_str(&er.head, " of ");
	}
	da_line_hex(&er.head, e->block);
	er.have_info = 1;
	er.info.size = e->size;
	er.info.gen = e->meta[DA_GM_GEN];
	er.info.site = (uint32_t)e->meta[DA_GM_SITE];
	er.alloc_tid = (uint32_t)e->meta[DA_GM_THREADS];
	er.free_site = (uint32_t)e->meta[DA_GM_FREE];
	er.free_tid = (uint32_t)(e->meta[DA_GM_THREADS] >> 32);
	da_err_block(&er, e->size);
	/* "(13-byte block, generation 5)" becomes "..., freed)". */
	er.head.len--;
	da_line_str(&er.head, ", freed)");
	held_where(&er.head, h);
	da_err_write(&er);
	if (h->in == DA_HELD_BLOCK) {
		struct da_line l = {.len = 0};
		da_line_str(&l, "  the holder was allocated at (");
		da_line_generation(&l, h->holder.gen);
		da_line_str(&l, "):");
		da_line_emit(&l);
		da_site_emit(h->holder.site);
	}
}

/*
 * 1 if the word at h->at held h->value at an earlier report: the same
 * stale pointer, whose block's slot was reused and freed again since, is
 * reported once. A table of hashes of (address, value), mapped at the
 * first report; when it is full (or unmapped), every word is new.
 * Locking: none (the sweeps of two threads may both report one word).
 */
#define SEEN_SLOTS 4096
static _Atomic(uint64_t) *seen;

static int
seen_before(const struct da_leak_held *h)
{
	if (seen == NULL) {
		_Atomic(uint64_t) *t = da_os_map(SEEN_SLOTS * sizeof(*t));
		_Atomic(uint64_t) *none = NULL;
		if (t != NULL &&
		    !atomic_compare_exchange_strong(&seen, &none, t))
			da_os_unmap(t, SEEN_SLOTS * sizeof(*t));
		if (seen == NULL)
			return 0;
	}
	uint64_t k = (h->at ^ (h->value * UINT64_C(0x9e3779b97f4a7c15))) | 1;
	for (unsigned i = 0; i < 16; i++) {
		_Atomic(uint64_t) *c = &seen[(k + i) % SEEN_SLOTS];
		uint64_t v = atomic_load_explicit(c, memory_order_relaxed);
		if (v == k)
			return 1;
		if (v == 0 && atomic_compare_exchange_strong(c, &v, k))
			return 0;
		if (v == k)
			return 1;
	}
	return 0;
}

/* One sweep of the blocks waiting; returns the time its probe took (ns).
 * Locking: none held. */
static uint64_t
sweep(void)
{
	uint64_t spent = 0;
	size_t ebytes = SWEEP_MAX * sizeof(struct da_guard_evicted);
	size_t rbytes = 2 * SWEEP_MAX * sizeof(uintptr_t);
	struct da_guard_evicted *e = da_os_map(ebytes);
	uintptr_t *r = da_os_map(rbytes);
	if (e == NULL || r == NULL)
		goto out; /* they wait for the next sweep */
	uint64_t missed;
	size_t n = da_guard_take_evicted(e, SWEEP_MAX, &missed);
	atomic_fetch_add_explicit(&unswept, missed, memory_order_relaxed);
	n = keep_unreused(e, n);
	if (n == 0)
		goto out;
	da_sort_by_addr(e, n, sizeof(*e));
	struct da_leak_probe p = {
	        .lo = r,
	        .hi = r + SWEEP_MAX,
	        .n = n,
	        .max = HELD_MAX,
	        .patience_ms = PATIENCE_MS,
	};
	for (size_t i = 0; i < n; i++) {
		r[i] = e[i].block;
		r[SWEEP_MAX + i] = e[i].block + (e[i].size ? e[i].size : 1);
	}
	/* What the probe and the reports allocate (the symbolizer's tables)
	 * is dbgalloc's own: never guarded, so never swept itself. */
	int cancel;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	uint32_t saved = da_gen_tls.site_override;
	da_gen_tls.site_override = DA_SITE_INTERNAL;
	uint64_t t0 = now_ns();
	da_leak_probe(&p);
	spent = now_ns() - t0;
	uint64_t shown = 0;
	for (size_t i = 0; i < p.nfound; i++) {
		if (seen_before(&p.found[i]))
			continue;
		report(&p.found[i], &e[p.found[i].range]);
		shown++;
	}
	atomic_fetch_add_explicit(&reported, shown + p.total - p.nfound,
	                          memory_order_relaxed);
	if (p.total > p.nfound)
		atomic_fetch_add_explicit(&not_shown, p.total - p.nfound,
		                          memory_order_relaxed);
	da_leak_probe_free(&p);
	da_gen_tls.site_override = saved;
	pthread_setcancelstate(cancel, NULL);
out:
	if (e != NULL) {
		memset(e, 0, ebytes);
		da_os_unmap(e, ebytes);
	}
	if (r != NULL)
		da_os_unmap(r, rbytes);
	return spent;
}

/* 1 if the blocks waiting are to be swept now: the pace is kept, or so
 * many wait that the ring may soon be full. */
static int
due(size_t waiting, int force)
{
	return force || waiting >= DA_GUARD_EVICT_RING / 4 ||
	       now_ns() >= atomic_load_explicit(&next_at, memory_order_relaxed);
}

static void
sweep_now(struct da_call c, int force)
{
	size_t waiting = da_guard_evicted_waiting();
	if (waiting == 0 || !due(waiting, force) || !safe_here())
		return;
	sweeping = 1;
	int entered = c.fp != 0 ? da_scan_bound_enter(c.fp) : 0;
	uint64_t spent = sweep();
	atomic_store_explicit(&next_at, now_ns() + PACE * spent,
	                      memory_order_relaxed);
	da_scan_bound_leave(entered);
	sweeping = 0;
}

void
da_dangling_sweep_evicted(struct da_call c)
{
	sweep_now(c, 0);
}

void
da_dangling_exit(void)
{
	if (!atomic_load(&configured))
		return;
	sweep_now((struct da_call){0, 0}, 1);
	struct da_line l = {.len = 0};
	uint64_t n = da_dangling_reported(), u = da_dangling_unswept();
	uint64_t hidden = atomic_load(&not_shown);
	if (n > 0) {
		da_line_str(&l, "dbgalloc: DBGALLOC_DANGLING: ");
		da_line_count(&l, n);
		da_line_str(&l, n == 1 ? " dangling pointer found"
		                       : " dangling pointers found");
		if (hidden > 0) {
			da_line_str(&l, " (");
			da_line_count(&l, hidden);
			da_line_str(&l, " not shown: at most 64 a sweep)");
		}
		da_line_emit(&l);
	}
	if (u > 0) {
		da_line_str(&l, "dbgalloc: DBGALLOC_DANGLING: ");
		da_line_count(&l, u);
		da_line_str(&l, u == 1 ? " freed block" : " freed blocks");
		da_line_str(&l, " left the quarantine unswept (too many at "
		                "once, or reused first)");
		da_line_emit(&l);
	}
}
