/*
 * The byte accounting (audit/acct.h) and scopes (audit/scope.h), through
 * the audit layer's entry points: the exact refusal point in one thread,
 * grants given back, a thread's counts outliving it, peaks, scope limits,
 * dbgalloc's own blocks left out, and the batch log of thread scopes.
 */
#include "audit/acct.h"
#include "alloc/lock.h"
#include "audit/audit.h"
#include "audit/scope.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void *
alloc(size_t n)
{
	return da_audit_malloc(n, DA_CALL());
}

static void
release(void *p)
{
	da_audit_free(p, DA_CALL());
}

static int64_t
live(void)
{
	struct da_acct_totals t;
	da_acct_totals(&t);
	return t.live;
}

/* The allocation refused is the one that would pass the limit. */
static void
exact_in_one_thread(void **state)
{
	(void)state;
	int64_t base = live();
	da_acct_set_limit(base + 1000);
	void *a = alloc(600), *b = alloc(400);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(live() == base + 1000);
	errno = 0;
	assert_null(alloc(1));
	assert_int_equal(errno, ENOMEM);
	release(a);
	a = alloc(600);
	assert_non_null(a);
	assert_null(alloc(1));
	release(a);
	release(b);
	assert_true(live() == base);
	struct da_acct_totals t;
	da_acct_totals(&t);
	assert_true(t.failed >= 2);
	da_acct_set_limit(DA_ACCT_NONE);
}

static void *held[3];

static void *
allocate_and_leave(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++)
		held[i] = alloc(1000);
	return NULL;
}

/* A thread that exits leaves its counts behind; another thread frees. */
static void
thread_counts_outlive_it(void **state)
{
	(void)state;
	struct da_acct_totals t0, t1;
	da_acct_totals(&t0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, allocate_and_leave, NULL),
	                 0);
	pthread_join(th, NULL);
	da_acct_totals(&t1);
	assert_true(t1.live == t0.live + 3000);
	assert_true(t1.live_blocks == t0.live_blocks + 3);
	assert_true(t1.allocs == t0.allocs + 3);
	for (int i = 0; i < 3; i++)
		release(held[i]);
	assert_true(live() == t0.live);
}

static int64_t room;
static void *
take_room(void *arg)
{
	(void)arg;
	return alloc((size_t)room);
}

/* A thread that freed a lot keeps at most 64 KiB of credit: another
 * thread can still take the rest of the limit. */
static void
credit_is_given_back(void **state)
{
	(void)state;
	void *p[32];
	for (int i = 0; i < 32; i++)
		p[i] = alloc(64 * 1024);
	int64_t before = live();
	for (int i = 0; i < 32; i++)
		release(p[i]);
	int64_t base = live();
	assert_true(base == before - 32 * 64 * 1024);
	da_acct_set_limit(base + 4 * DA_ACCT_CREDIT);
	/* This thread's grant went back with the new limit; the other takes
	 * everything above what is live. */
	room = 4 * DA_ACCT_CREDIT;
	pthread_t th;
	void *got;
	pthread_create(&th, NULL, take_room, NULL);
	pthread_join(th, &got);
	assert_non_null(got);
	assert_null(alloc(1));
	release(got);
	da_acct_set_limit(DA_ACCT_NONE);
}

/* A scope's peak, totals and leftovers, exact in one thread. */
static void
scope_counts(void **state)
{
	(void)state;
	struct da_scope s;
	struct da_scope_result r;
	assert_int_equal(da_scope_begin(&s, 0, 0), 0);
	void *a = alloc(5000);
	release(a);
	a = alloc(3000);
	void *kept = alloc(100);
	release(a);
	assert_int_equal(da_scope_end(&s, &r), 0);
	assert_true(r.peak == 5000);
	assert_true(r.allocated_blocks == 3 && r.allocated_bytes == 8100);
	assert_true(r.freed_blocks == 2 && r.freed_bytes == 8000);
	assert_true(r.live_blocks == 1 && r.live_bytes == 100);
	release(kept);
}

/* A hard scope limit refuses above the scope's start; a watched one
 * records the crossing; ending out of order is refused. */
static void
scope_limits(void **state)
{
	(void)state;
	struct da_scope outer, inner;
	struct da_scope_result r;
	assert_int_equal(da_scope_begin(&outer, DA_SCOPE_THREAD, 10000), 0);
	void *a = alloc(6000);
	assert_non_null(a);
	assert_null(alloc(5000));
	release(a);
	a = alloc(5000);
	assert_non_null(a);
	assert_int_equal(da_scope_begin(&inner, DA_SCOPE_WATCH, 1000), 0);
	assert_int_equal(da_scope_end(&outer, &r), -1);
	assert_int_equal(errno, EINVAL);
	void *b = alloc(1500); /* crosses the watched limit, allowed */
	assert_non_null(b);
	assert_int_equal(da_scope_end(&inner, &r), 0);
	assert_int_equal(r.crossed, 1);
	assert_true(r.crossed_at == 1500);
	assert_true(r.live_bytes == 1500 && r.live_blocks == 1);
	release(b);
	release(a);
	assert_int_equal(da_scope_end(&outer, &r), 0);
	assert_true(r.peak == 6500);
	assert_true(r.live_blocks == 0);
	assert_int_equal(da_scope_begin(&outer, 4, 0), -1);
}

/* dbgalloc's own blocks are neither counted nor refused. */
static void
own_blocks_not_counted(void **state)
{
	(void)state;
	struct da_acct_totals t0, t1;
	da_acct_totals(&t0);
	da_acct_set_limit(t0.live);
	da_gen_tls.site_override = DA_SITE_INTERNAL;
	void *p = alloc(4096);
	da_gen_tls.site_override = 0;
	assert_non_null(p);
	da_acct_totals(&t1);
	assert_true(t1.live == t0.live && t1.allocs == t0.allocs);
	release(p);
	da_acct_totals(&t1);
	assert_true(t1.live == t0.live && t1.frees == t0.frees);
	da_acct_set_limit(DA_ACCT_NONE);
}

/* The batch log: the numbers a thread takes while it is on. */
static void
batch_log(void **state)
{
	(void)state;
	size_t from = da_gen_log_start();
	uint64_t first = 0, last = 0;
	for (int i = 0; i < 600; i++) {
		void *p = alloc(16);
		struct da_hdr_info h;
		da_hdr_unpack((char *)p - DA_HDR, &h);
		if (i == 0)
			first = h.gen;
		last = h.gen;
		release(p);
	}
	size_t to = da_gen_log_count();
	assert_true(to - from >= 3); /* 600 numbers: three batches */
	assert_true(da_gen_log_has(from, to, first));
	assert_true(da_gen_log_has(from, to, last));
	assert_false(da_gen_log_has(from, to, first - 1));
	da_gen_log_stop();
}

/* What a new thread's first slow path left, run as a handler nested in
 * an allocator operation would run it (holding one of alloc's locks) or
 * not. */
static void *
enter_holding_alloc_lock(void *arg)
{
	unsigned n = *(unsigned *)arg;
	da_locks_held += n;
	da_acct_enter();
	da_locks_held -= n;
	return (void *)(uintptr_t)da_acct_tls.state;
}

/* While another thread holds the registry lock, a thread that holds one
 * of alloc's locks does not wait for it (its registration waits for its
 * next slow path): waiting could close a cycle through two signal
 * handlers. One that holds none waits, and is registered. */
static void
registry_never_waited_for_under_alloc_lock(void **state)
{
	(void)state;
	pthread_t t;
	void *got;
	unsigned holding = 1;
	alarm(20); /* a wait here is the bug: die rather than hang */
	da_acct_lock();
	assert_int_equal(
	        pthread_create(&t, NULL, enter_holding_alloc_lock, &holding),
	        0);
	assert_int_equal(pthread_join(t, &got), 0);
	da_acct_unlock();
	assert_int_equal((int)(uintptr_t)got, DA_ACCT_NEW);

	holding = 0;
	assert_int_equal(
	        pthread_create(&t, NULL, enter_holding_alloc_lock, &holding),
	        0);
	assert_int_equal(pthread_join(t, &got), 0);
	assert_int_equal((int)(uintptr_t)got, DA_ACCT_LIVE);
	alarm(0);
}

/* The room a thread frees does not move to another thread while the
 * registry lock is held (as dbgalloc_stats_get holds it to sum the
 * threads, one after another): the freeing thread gives its grant back
 * only when the lock is free. Before, 8 threads at the limit made a
 * sampled sum pass the limit (rarely: once in 7 million samples). */
enum { MOVE = 1 << 20 };
static struct da_acct_state *_Atomic giver;
static atomic_int give_now, taker_ready, take_now, take_result = -1;

static void *
give_back(void *arg)
{
	(void)arg;
	void *p = alloc(MOVE);
	atomic_store(&giver, &da_acct_tls);
	while (!atomic_load(&give_now))
		usleep(1000);
	release(p);
	return p;
}

static void *
take(void *arg)
{
	(void)arg;
	struct da_scope *which;
	da_acct_enter();
	atomic_store(&taker_ready, 1);
	for (int round = 1; round <= 2; round++) {
		while (atomic_load(&take_now) < round)
			usleep(1000);
		int r = DA_ACCT_OK;
		if (da_acct_charge(MOVE))
			r = da_acct_over(MOVE, 0, &which);
		if (r == DA_ACCT_OK)
			da_acct_uncharge(MOVE);
		atomic_store(&take_result, r);
	}
	return NULL;
}

static void
no_move_while_summing(void **state)
{
	(void)state;
	pthread_t g, t;
	alarm(20); /* a wait here is a bug: die rather than hang */
	da_acct_set_limit(live() + MOVE + 2 * DA_ACCT_CREDIT);
	assert_int_equal(pthread_create(&g, NULL, give_back, NULL), 0);
	assert_int_equal(pthread_create(&t, NULL, take, NULL), 0);
	while (atomic_load(&giver) == NULL || !atomic_load(&taker_ready))
		usleep(1000);
	da_acct_lock();
	atomic_store(&give_now, 1);
	/* The free is counted (without the lock); its grant waits. */
	for (int i = 0; i < 2000 && __atomic_load_n(&atomic_load(&giver)->net,
	                                            __ATOMIC_RELAXED) >= MOVE;
	     i++)
		usleep(1000);
	usleep(100000);
	atomic_store(&take_now, 1);
	int first = -1;
	for (int i = 0; i < 2000 && (first = atomic_load(&take_result)) < 0;
	     i++)
		usleep(1000);
	int64_t summed = da_acct_live_locked();
	da_acct_unlock();
	/* Refused while the room was still the giver's (-1: let through,
	 * the taker then waited for the lock to note the peak). */
	assert_int_equal(first, DA_ACCT_REFUSED_LIMIT);
	assert_true(summed <= da_acct_get_limit());
	assert_int_equal(pthread_join(g, NULL), 0);
	/* Given back once the lock was free: now it fits. */
	atomic_store(&take_result, -1);
	atomic_store(&take_now, 2);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(atomic_load(&take_result), DA_ACCT_OK);
	da_acct_set_limit(DA_ACCT_NONE);
	alarm(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(exact_in_one_thread),
	        cmocka_unit_test(thread_counts_outlive_it),
	        cmocka_unit_test(credit_is_given_back),
	        cmocka_unit_test(scope_counts),
	        cmocka_unit_test(scope_limits),
	        cmocka_unit_test(own_blocks_not_counted),
	        cmocka_unit_test(batch_log),
	        cmocka_unit_test(registry_never_waited_for_under_alloc_lock),
	        cmocka_unit_test(no_move_while_summing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
