/*
 * audit/acct.c — the slow paths of the byte accounting (acct.h): the
 * registry of threads, grants under the limit, peaks, scopes' limits.
 *
 * Lock order: the registry lock is taken with no allocator lock held (from
 * the audit layer, before a block is asked for) and nothing that may
 * allocate runs under it.
 */
#include "audit/acct.h"
#include "alloc/lock.h"
#include "audit/scope.h"
#include "audit/sitestats.h"
#include "audit/gen.h"
#include "audit/steps.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

static struct {
	atomic_flag lock;
	/* base + every live thread's grant; the live bytes never exceed it,
	 * and it never exceeds the limit but by dbgalloc's own blocks and a
	 * limit lowered under it. */
	_Atomic int64_t reserved;
	_Atomic int64_t limit;     /* the effective limit, DA_ACCT_NONE */
	int64_t user_limit;        /* DBGALLOC_LIMIT, dbgalloc_limit_set */
	struct da_scope *limit_by; /* the process scope it comes from */
	/* What threads that have exited left. */
	_Atomic int64_t base;
	_Atomic uint64_t base_bytes, base_allocs, base_frees;
	_Atomic int64_t peak; /* the highest live bytes since start */
	_Atomic uint64_t peak_mono_ns;
	_Atomic unsigned peak_epoch;
	_Atomic int64_t epoch_peak; /* the highest in the current epoch */
	_Atomic uint64_t failed, injected;
	struct da_acct_state *threads;
	_Atomic unsigned nthreads;
	pthread_key_t key;
	int key_made;
} acct = {
        .lock = ATOMIC_FLAG_INIT,
        .limit = DA_ACCT_NONE,
        .user_limit = DA_ACCT_NONE,
};

struct da_scope *da_scope_process_list;

/*
 * The registry lock: a spin lock, held for a few loads and stores (a sum
 * over the threads at most). A signal handler's allocation that
 * interrupts its holder must not wait for it: in_lock tells the slow paths
 * to do only what needs no lock (reserving is a compare-and-swap). It is
 * not one of alloc's locks (lock.h): holding it does not make the
 * allocator refuse an interrupting handler's request.
 */
static void
lock(void)
{
	da_acct_tls.in_lock++;
	/* The holder may have been preempted: after a while, yield. */
	for (unsigned spins = 0; atomic_flag_test_and_set_explicit(
	             &acct.lock, memory_order_acquire);
	     spins++) {
		if (spins < 64)
			da_cpu_relax();
		else
			sched_yield();
	}
}

static void
unlock(void)
{
	atomic_flag_clear_explicit(&acct.lock, memory_order_release);
	da_acct_tls.in_lock--;
}

int
da_acct_trylock(void)
{
	da_acct_tls.in_lock++;
	if (!atomic_flag_test_and_set_explicit(&acct.lock,
	                                       memory_order_acquire))
		return 1;
	da_acct_tls.in_lock--;
	return 0;
}

/*
 * The lock for the allocation path's own work (registering the thread,
 * peaks, scopes): taken as lock() does, unless this thread holds one of
 * alloc's locks. Then this is a signal handler's allocation nested in an
 * interrupted allocator operation, and it must not wait: another thread
 * may hold the registry lock while its own handler waits for the alloc
 * lock this thread holds (a deadlock seen under signal-heavy: one thread
 * in da_pages_free holding the chunk lock, another in note_peaks holding
 * the registry; each one's handler waited for the other's lock). Only
 * tried then; 0 if busy, and the caller leaves its work to the thread's
 * next slow path. The other way round is safe: a handler nested in the
 * registry's holder may wait for an alloc lock, since no holder of an
 * alloc lock waits for the registry.
 */
static int
lock_from_alloc(void)
{
	if (da_locks_held == 0) {
		lock();
		return 1;
	}
	return da_acct_trylock();
}

void
da_acct_lock(void)
{
	lock();
}

void
da_acct_unlock(void)
{
	unlock();
}

static int64_t
ld(const int64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* A thread's live bytes, as another thread may read them: its net, but
 * never above its grant. An allocation is counted before the limit lets
 * it through, so a net read in between may include one being refused;
 * the grant is what the thread has been let through (and between a
 * reservation and the grant's update, the sum is short by that one
 * allocation).
 *
 * The sum over the threads (da_acct_live_locked) is read one thread after
 * another, so it is no snapshot: bytes freed in a thread already read and
 * allocated in one read later would count twice. Under a limit they
 * cannot move while the registry lock is held: a grant and base go down,
 * and reserved with them, only under the lock (da_acct_under, gone,
 * leave_locked, da_acct_limits_changed_locked); without it they only go
 * up, each after reserved went up by as much (reserve). So while the lock
 * is held, what each thread contributes is at most its grant at the end
 * of the sum, base likewise, and the sum is at most reserved then, which
 * reserve() keeps within the limit. (Without that, a sampled sum passed
 * the limit by 18 KiB once in 7 million samples, 8 threads at the
 * limit.) */
static int64_t
thread_live(const struct da_acct_state *t)
{
	int64_t net = ld(&t->net), grant = ld(&t->grant);
	return net < grant ? net : grant;
}

int64_t
da_acct_live_locked(void)
{
	int64_t live = atomic_load_explicit(&acct.base, memory_order_relaxed);
	for (struct da_acct_state *t = acct.threads; t != NULL; t = t->next)
		live += thread_live(t);
	return live;
}

/* The credit to leave a thread when the reserved bytes will be r. */
static int64_t
credit(int64_t limit, int64_t r)
{
	if (limit == DA_ACCT_NONE)
		return DA_ACCT_CREDIT;
	int64_t left = (limit - r) / 8;
	return left <= 0 ? 0 : left < DA_ACCT_CREDIT ? left : DA_ACCT_CREDIT;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* The live bytes while t is the only thread that counts. */
static int
alone(void)
{
	return atomic_load_explicit(&acct.nthreads, memory_order_relaxed) <= 1;
}

void
da_acct_retune(struct da_acct_state *t)
{
	int64_t high = t->grant;
	for (struct da_scope *s = t->top; s != NULL; s = s->outer) {
		if (!(s->flags & DA_SCOPE_THREAD))
			continue;
		/* Follow the thread's peak; stop at a limit not yet
		 * crossed. */
		high = min64(high, s->peak);
		if (s->limit != DA_ACCT_NONE &&
		    (!(s->flags & DA_SCOPE_WATCH) || !s->crossed))
			high = min64(high, s->start + s->limit);
	}
	if (alone()) {
		/* Every new peak of the process comes here. */
		int64_t base =
		        atomic_load_explicit(&acct.base, memory_order_relaxed);
		/* The epoch's peak is at most the process's. */
		high = min64(high, atomic_load_explicit(&acct.epoch_peak,
		                                        memory_order_relaxed) -
		                           base);
		for (struct da_scope *s = da_scope_process_list; s != NULL;
		     s = s->pnext)
			high = min64(high, s->peak - base);
	}
	__atomic_store_n(&t->high, high, __ATOMIC_RELAXED);
	__atomic_store_n(&t->low, t->grant - t->keep - DA_ACCT_CREDIT,
	                 __ATOMIC_RELAXED);
}

static void
thread_key_destructor(void *arg)
{
	(void)arg;
	da_acct_thread_exit();
}

/* Puts t in the registry; leaves it out (for its next slow path) when
 * the lock cannot be waited for (lock_from_alloc). */
static void
register_thread(struct da_acct_state *t)
{
	if (!lock_from_alloc())
		return;
	if (!acct.key_made)
		acct.key_made = pthread_key_create(&acct.key,
		                                   thread_key_destructor) == 0;
	if (acct.key_made)
		pthread_setspecific(acct.key, t);
	t->prev = NULL;
	t->next = acct.threads;
	if (acct.threads != NULL)
		acct.threads->prev = t;
	acct.threads = t;
	atomic_fetch_add_explicit(&acct.nthreads, 1, memory_order_relaxed);
	t->state = DA_ACCT_LIVE;
	unlock();
}

/* Moves t's counts to base (t leaves the registry, or has left). */
static void
fold(struct da_acct_state *t)
{
	atomic_fetch_add_explicit(&acct.base, ld(&t->net),
	                          memory_order_relaxed);
	atomic_fetch_add_explicit(&acct.base_bytes, t->bytes,
	                          memory_order_relaxed);
	atomic_fetch_add_explicit(&acct.base_allocs, t->allocs,
	                          memory_order_relaxed);
	atomic_fetch_add_explicit(&acct.base_frees, t->frees,
	                          memory_order_relaxed);
	__atomic_store_n(&t->net, 0, __ATOMIC_RELAXED);
	t->bytes = t->allocs = t->frees = 0;
}

/* Reserves need bytes more for t, with credit to spare. Returns 0, or -1
 * if that would pass the limit. */
static int
reserve(struct da_acct_state *t, int64_t need, int internal)
{
	int64_t r = atomic_load_explicit(&acct.reserved, memory_order_relaxed);
	for (;;) {
		int64_t lim =
		        atomic_load_explicit(&acct.limit, memory_order_relaxed);
		if (!internal && lim != DA_ACCT_NONE && r + need > lim)
			return -1;
		int64_t extra =
		        t->state == DA_ACCT_LIVE ? credit(lim, r + need) : 0;
		if (atomic_compare_exchange_weak_explicit(
		            &acct.reserved, &r, r + need + extra,
		            memory_order_relaxed, memory_order_relaxed)) {
			/* Read by others (thread_live): one store. */
			__atomic_store_n(&t->grant, t->grant + need + extra,
			                 __ATOMIC_RELAXED);
			t->keep = extra;
			return 0;
		}
	}
}

/* The live bytes may have passed a peak: under threads, sum them. A
 * nested allocation that finds the registry busy skips it (see
 * lock_from_alloc): the peak under threads is sampled anyway. Returns the
 * live bytes, or INT64_MIN when skipped. */
static int64_t
note_peaks(struct da_acct_state *t, struct da_scope **crossed, int64_t *above)
{
	int64_t live;
	*crossed = NULL;
	if (alone()) {
		live = atomic_load_explicit(&acct.base, memory_order_relaxed) +
		       t->net;
	} else {
		if (!lock_from_alloc())
			return INT64_MIN;
		live = da_acct_live_locked();
		unlock();
	}
	int64_t p = atomic_load_explicit(&acct.peak, memory_order_relaxed);
	while (live > p && !atomic_compare_exchange_weak_explicit(
	                           &acct.peak, &p, live, memory_order_relaxed,
	                           memory_order_relaxed))
		;
	if (live > p) {
		/* A new peak: when (a coarse clock: the slow path of every
		 * allocation that grows the peak comes here), and in which
		 * epoch. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		atomic_store_explicit(&acct.peak_mono_ns,
		                      (uint64_t)ts.tv_sec * 1000000000u +
		                              (uint64_t)ts.tv_nsec,
		                      memory_order_relaxed);
		atomic_store_explicit(&acct.peak_epoch, da_gen_epochs() - 1,
		                      memory_order_relaxed);
	}
	int64_t ep =
	        atomic_load_explicit(&acct.epoch_peak, memory_order_relaxed);
	while (live > ep && !atomic_compare_exchange_weak_explicit(
	                            &acct.epoch_peak, &ep, live,
	                            memory_order_relaxed, memory_order_relaxed))
		;
	if (da_scope_process_list == NULL || !lock_from_alloc())
		return live;
	for (struct da_scope *s = da_scope_process_list; s != NULL;
	     s = s->pnext) {
		if (live > s->peak)
			s->peak = live;
		if ((s->flags & DA_SCOPE_WATCH) && !s->crossed &&
		    s->limit != DA_ACCT_NONE && live - s->start > s->limit &&
		    *crossed == NULL) {
			s->crossed = 1; /* claimed: reported once */
			*crossed = s;
			*above = live - s->start;
		}
	}
	unlock();
	return live;
}

static void
undo(struct da_acct_state *t, uint64_t n)
{
	da_acct_add(&t->net, -(int64_t)n);
	t->bytes -= n;
	t->allocs--;
}

/* A thread that has exited allocates or frees (a later destructor):
 * straight to base and reserved. */
static int
gone(struct da_acct_state *t, int internal)
{
	int64_t net = ld(&t->net);
	if (net > 0) {
		/* Up: reserved first, then base (see thread_live). */
		if (reserve(t, net, internal) != 0)
			return -1;
		__atomic_store_n(&t->grant, 0, __ATOMIC_RELAXED);
		fold(t);
	} else if (lock_from_alloc()) {
		/* Down: under the lock. When it cannot be waited for, the
		 * bytes stay counted as live until this thread's next
		 * allocation or free (more, never less). */
		__atomic_store_n(&t->grant, 0, __ATOMIC_RELAXED);
		fold(t);
		atomic_fetch_add_explicit(&acct.reserved, net,
		                          memory_order_relaxed);
		unlock();
	}
	return 0;
}

int
da_acct_over(uint64_t n, int internal, struct da_scope **which)
{
	struct da_acct_state *t = &da_acct_tls;
	*which = NULL;
	if (t->state == DA_ACCT_GONE) {
		if (gone(t, internal) == 0)
			return DA_ACCT_OK;
		undo(t, n);
		return DA_ACCT_REFUSED_LIMIT;
	}
	if (t->in_lock) {
		/* Interrupting this thread's own locked work (a signal
		 * handler): the grant only. Registration, peaks and scopes
		 * wait for the next slow path. */
		if (t->net > t->grant &&
		    reserve(t, t->net - t->grant, internal) != 0) {
			undo(t, n);
			return DA_ACCT_REFUSED_LIMIT;
		}
		return DA_ACCT_OK;
	}
	if (t->state == DA_ACCT_NEW)
		register_thread(t);
	internal |= t->in_slow;
	struct da_scope *crossed = NULL;
	int64_t above = 0;
	/* The thread's scopes: their limits, their peaks. */
	for (struct da_scope *s = t->top; s != NULL && !internal;
	     s = s->outer) {
		if (!(s->flags & DA_SCOPE_THREAD))
			continue;
		int64_t up = t->net - s->start;
		if (s->limit != DA_ACCT_NONE && up > s->limit) {
			if (!(s->flags & DA_SCOPE_WATCH)) {
				undo(t, n);
				*which = s;
				return DA_ACCT_REFUSED_SCOPE;
			}
			if (crossed == NULL && !s->crossed) {
				s->crossed = 1;
				crossed = s;
				above = up;
			}
		}
	}
	for (struct da_scope *s = t->top; s != NULL; s = s->outer)
		if ((s->flags & DA_SCOPE_THREAD) && t->net > s->peak)
			s->peak = t->net;
	int grew = 0;
	if (t->net > t->grant) {
		if (reserve(t, t->net - t->grant, internal) != 0) {
			undo(t, n);
			*which = acct.limit_by;
			da_acct_retune(t);
			return acct.limit_by != NULL ? DA_ACCT_REFUSED_SCOPE
			                             : DA_ACCT_REFUSED_LIMIT;
		}
		grew = 1;
	}
	int64_t live = INT64_MIN;
	if (!internal && (grew || alone())) {
		struct da_scope *pc = NULL;
		live = note_peaks(t, &pc, &above);
		if (crossed == NULL)
			crossed = pc;
	}
	da_acct_retune(t);
	if (crossed != NULL) {
		t->in_slow = 1;
		da_scope_crossed(crossed, above);
		t->in_slow = 0;
	}
	/* Taken once the allocation is finished (audit.c), so that the
	 * snapshot holds its block. */
	if (da_unlikely(live >= atomic_load_explicit(&da_acct_next_step,
	                                             memory_order_relaxed)))
		da_gen_tls.work |= DA_WORK_STEP;
	return DA_ACCT_OK;
}

void
da_acct_under(void)
{
	struct da_acct_state *t = &da_acct_tls;
	if (t->state == DA_ACCT_GONE) {
		gone(t, 1);
		return;
	}
	if (t->in_lock)
		return; /* as in da_acct_over */
	if (t->state == DA_ACCT_NEW)
		register_thread(t);
	int64_t lim = atomic_load_explicit(&acct.limit, memory_order_relaxed);
	int64_t r = atomic_load_explicit(&acct.reserved, memory_order_relaxed);
	int64_t keep = credit(lim, r - (t->grant - t->net));
	int64_t grant = t->net + keep;
	/* Given back under the lock (see thread_live); when it cannot be
	 * waited for, at the next free that comes here. */
	if (grant < t->grant && lock_from_alloc()) {
		int64_t back = t->grant - grant;
		__atomic_store_n(&t->grant, grant, __ATOMIC_RELAXED);
		atomic_fetch_sub_explicit(&acct.reserved, back,
		                          memory_order_relaxed);
		t->keep = keep;
		unlock();
	}
	da_acct_retune(t);
}

void
da_acct_uncharge(uint64_t n)
{
	struct da_acct_state *t = &da_acct_tls;
	undo(t, n);
	if (t->net < t->low)
		da_acct_under();
}

void
da_acct_count_failure(int injected)
{
	atomic_fetch_add_explicit(injected ? &acct.injected : &acct.failed, 1,
	                          memory_order_relaxed);
}

_Atomic int64_t da_acct_next_step = DA_STEPS_FIRST;

int64_t
da_acct_epoch_begin(struct da_acct_totals *o)
{
	lock();
	da_acct_totals_locked(o);
	int64_t ended = atomic_exchange_explicit(&acct.epoch_peak, o->live,
	                                         memory_order_relaxed);
	if (da_acct_tls.state == DA_ACCT_LIVE)
		da_acct_retune(&da_acct_tls);
	unlock();
	return ended > o->live ? ended : o->live;
}

void
da_acct_enter(void)
{
	if (da_acct_tls.state == DA_ACCT_NEW) {
		register_thread(&da_acct_tls);
		da_acct_retune(&da_acct_tls);
	}
}

void
da_acct_totals(struct da_acct_totals *o)
{
	lock();
	da_acct_totals_locked(o);
	unlock();
}

void
da_acct_totals_locked(struct da_acct_totals *o)
{
	o->live = da_acct_live_locked();
	o->bytes = atomic_load_explicit(&acct.base_bytes, memory_order_relaxed);
	o->allocs =
	        atomic_load_explicit(&acct.base_allocs, memory_order_relaxed);
	o->frees = atomic_load_explicit(&acct.base_frees, memory_order_relaxed);
	for (struct da_acct_state *t = acct.threads; t != NULL; t = t->next) {
		o->bytes += __atomic_load_n(&t->bytes, __ATOMIC_RELAXED);
		o->allocs += __atomic_load_n(&t->allocs, __ATOMIC_RELAXED);
		o->frees += __atomic_load_n(&t->frees, __ATOMIC_RELAXED);
	}
	o->limit = acct.user_limit;
	/* The calling thread's own counts were read whole; another thread's
	 * free may be counted before its allocation. */
	o->live_blocks = o->allocs > o->frees ? o->allocs - o->frees : 0;
	if (o->live < 0)
		o->live = 0;
	o->peak = atomic_load_explicit(&acct.peak, memory_order_relaxed);
	o->peak_mono_ns =
	        atomic_load_explicit(&acct.peak_mono_ns, memory_order_relaxed);
	o->peak_epoch =
	        atomic_load_explicit(&acct.peak_epoch, memory_order_relaxed);
	if (o->peak < o->live) {
		/* Not seen yet (under threads, within a thread's sample). */
		o->peak = o->live;
		o->peak_epoch = da_gen_epochs() - 1;
	}
	o->epoch_peak =
	        atomic_load_explicit(&acct.epoch_peak, memory_order_relaxed);
	if (o->epoch_peak < o->live)
		o->epoch_peak = o->live;
	o->limit_failures =
	        atomic_load_explicit(&acct.failed, memory_order_relaxed);
	o->injected_failures =
	        atomic_load_explicit(&acct.injected, memory_order_relaxed);
	o->failed = o->limit_failures + o->injected_failures;
}

void
da_acct_limits_changed_locked(void)
{
	int64_t lim = acct.user_limit;
	struct da_scope *by = NULL;
	for (struct da_scope *s = da_scope_process_list; s != NULL;
	     s = s->pnext) {
		if ((s->flags & DA_SCOPE_WATCH) || s->limit == DA_ACCT_NONE)
			continue;
		int64_t l = s->start + s->limit;
		if (l < lim) {
			lim = l;
			by = s;
		}
	}
	acct.limit_by = by;
	atomic_store_explicit(&acct.limit, lim, memory_order_relaxed);
	/* Other threads look again at their next allocation; the calling
	 * thread gives its credit back now (a lowered limit may leave no room
	 * for it). */
	for (struct da_acct_state *t = acct.threads; t != NULL; t = t->next)
		if (t != &da_acct_tls)
			__atomic_store_n(&t->high, INT64_MIN, __ATOMIC_RELAXED);
	struct da_acct_state *me = &da_acct_tls;
	if (me->state == DA_ACCT_LIVE) {
		atomic_fetch_sub_explicit(&acct.reserved, me->grant - me->net,
		                          memory_order_relaxed);
		__atomic_store_n(&me->grant, me->net, __ATOMIC_RELAXED);
		me->keep = 0;
		da_acct_retune(me);
	}
}

int64_t
da_acct_set_limit(int64_t limit)
{
	lock();
	int64_t old = acct.user_limit;
	acct.user_limit = limit;
	da_acct_limits_changed_locked();
	unlock();
	return old;
}

int64_t
da_acct_get_limit(void)
{
	lock();
	int64_t l = acct.user_limit;
	unlock();
	return l;
}

int64_t
da_acct_peak_locked(void)
{
	return atomic_load_explicit(&acct.peak, memory_order_relaxed);
}

void
da_acct_set_peak_locked(int64_t peak)
{
	int64_t p = atomic_load_explicit(&acct.peak, memory_order_relaxed);
	if (peak > p)
		atomic_store_explicit(&acct.peak, peak, memory_order_relaxed);
}

/* Takes t out of the registry, its counts to base (registry lock held). */
static void
leave_locked(struct da_acct_state *t)
{
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		acct.threads = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	atomic_fetch_sub_explicit(&acct.nthreads, 1, memory_order_relaxed);
	/* Its grant leaves reserved; its net stays, as part of base. */
	atomic_fetch_sub_explicit(&acct.reserved, t->grant - ld(&t->net),
	                          memory_order_relaxed);
	__atomic_store_n(&t->grant, 0, __ATOMIC_RELAXED);
	t->keep = 0;
	fold(t);
	da_scope_thread_exit(t);
	t->top = NULL;
	t->state = DA_ACCT_GONE;
	/* From now on every allocation and free of it comes by gone(). */
	__atomic_store_n(&t->high, INT64_MIN, __ATOMIC_RELAXED);
	__atomic_store_n(&t->low, INT64_MAX, __ATOMIC_RELAXED);
}

void
da_acct_thread_exit(void)
{
	struct da_acct_state *t = &da_acct_tls;
	if (t->state != DA_ACCT_LIVE)
		return;
	lock();
	leave_locked(t);
	unlock();
	da_sitestats_thread_exit();
}

void
da_acct_fork_child(void)
{
	/* One thread is left: the others' counts are base now. */
	atomic_flag_clear_explicit(&acct.lock, memory_order_relaxed);
	struct da_acct_state *me = &da_acct_tls, *next;
	for (struct da_acct_state *t = acct.threads; t != NULL; t = next) {
		next = t->next;
		if (t != me)
			leave_locked(t);
	}
	if (me->state == DA_ACCT_LIVE)
		da_acct_retune(me);
}
