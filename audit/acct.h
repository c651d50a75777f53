/*
 * audit/acct.h — live bytes: the counters behind dbgalloc_stats_get, the
 * limit (DBGALLOC_LIMIT, dbgalloc_limit_set, scopes' limits) and peaks.
 *
 * Bytes are the bytes the program asked for. Each thread counts its own
 * (net: what it allocated minus what it freed, which goes negative in a
 * thread that frees what others allocated), so the common path touches
 * only thread-local words and takes no lock and no atomic operation:
 *
 *   allocation of n:  net += n; bytes += n; allocs++; net > high? slow
 *   free of n:        net -= n; frees++;               net < low?  slow
 *
 * The live bytes of the process are base (what threads that have exited
 * left) plus every thread's net. high and low are set by the slow path:
 *
 * - The limit. Under a limit a thread holds a grant: bytes reserved for it
 *   in one atomic counter, reserved = base + every thread's grant <= limit,
 *   and net <= grant. So the live bytes never exceed the limit, under any
 *   number of threads. A thread whose net passes its grant reserves more
 *   (one compare-and-swap), with up to DA_ACCT_CREDIT bytes to spare (less
 *   near the limit); one whose net falls DA_ACCT_CREDIT below its grant
 *   gives the rest back. In a single thread the allocation refused is
 *   exactly the one that would take the live bytes above the limit; under
 *   threads, one may be refused while others hold unused credit (at most
 *   DA_ACCT_CREDIT each, an eighth of what is left near the limit).
 * - The peak. While one thread allocates, high is its net at the peak:
 *   every new peak takes the slow path and the peak is exact. Under
 *   threads each thread comes by every DA_ACCT_SAMPLE bytes it grows and
 *   the peak is the largest sum seen then (within DA_ACCT_SAMPLE bytes
 *   per thread).
 * - Scopes (audit/scope.h): a thread scope's limit and peak are the
 *   thread's own, exact; a process scope's are the process's, as above.
 *
 * The thread-local words are updated with single instructions on x86-64
 * (not atomic across threads, but a signal handler's allocation cannot
 * fall between a load and a store) and read by other threads only to sum
 * them, as whole 8-byte words, under the registry lock; a grant goes down
 * only under that lock, so no byte moves between two threads within a sum
 * (acct.c, thread_live).
 */
#ifndef DA_AUDIT_ACCT_H
#define DA_AUDIT_ACCT_H

#include "alloc/config.h"
#include "audit/tls.h"

#include <stdint.h>

#define DA_ACCT_CREDIT (64 * 1024)
#define DA_ACCT_SAMPLE (64 * 1024)
#define DA_ACCT_NONE   INT64_MAX /* no limit */

enum { DA_ACCT_NEW = 0, DA_ACCT_LIVE, DA_ACCT_GONE };

/* Adds v to the thread-local word *p in one instruction. */
DA_INLINE void
da_acct_add(int64_t *p, int64_t v)
{
#if defined(__x86_64__)
	__asm__("addq %1, %0" : "+m"(*p) : "er"(v));
#else
	*p += v;
#endif
}

/* Counts an allocation of n bytes; non-zero: call da_acct_over(n). */
DA_INLINE int
da_acct_charge(uint64_t n)
{
	struct da_acct_state *t = &da_acct_tls;
	da_acct_add(&t->net, (int64_t)n);
	da_acct_add((int64_t *)&t->bytes, (int64_t)n);
	da_acct_add((int64_t *)&t->allocs, 1);
	return da_unlikely(t->net > t->high);
}

/* Counts a free of n bytes; then, when da_acct_low() says so, call
 * da_acct_under(). */
DA_INLINE void
da_acct_count_free(uint64_t n)
{
	struct da_acct_state *t = &da_acct_tls;
	da_acct_add(&t->net, -(int64_t)n);
	da_acct_add((int64_t *)&t->frees, 1);
}

DA_INLINE int
da_acct_low(void)
{
	return da_unlikely(da_acct_tls.net < da_acct_tls.low);
}

/* Both at once; non-zero: call da_acct_under(). */
DA_INLINE int
da_acct_discharge(uint64_t n)
{
	struct da_acct_state *t = &da_acct_tls;
	da_acct_add(&t->net, -(int64_t)n);
	da_acct_add((int64_t *)&t->frees, 1);
	return da_unlikely(t->net < t->low);
}

/*
 * The slow path of an allocation of n bytes already counted: registers
 * the thread, follows the peak, reserves under the limit. Returns 0, or
 * the reason it is refused (the count undone): DA_ACCT_REFUSED_LIMIT
 * (DBGALLOC_LIMIT or dbgalloc_limit_set), DA_ACCT_REFUSED_SCOPE (a scope's
 * limit; *scope says which). internal: dbgalloc's own allocation, never
 * refused.
 */
enum { DA_ACCT_OK = 0, DA_ACCT_REFUSED_LIMIT, DA_ACCT_REFUSED_SCOPE };
int da_acct_over(uint64_t n, int internal, struct da_scope **scope);

/* The slow path of a free already counted: gives credit back. */
void da_acct_under(void);

/* Undoes a charge of n bytes whose allocation then failed. */
void da_acct_uncharge(uint64_t n);

/* The process's counters now (sums over the threads). */
struct da_acct_totals {
	int64_t live;
	uint64_t live_blocks;
	int64_t peak;
	uint64_t allocs, bytes, frees, failed;
	int64_t limit; /* DA_ACCT_NONE: none */
	/* When the peak was reached: CLOCK_MONOTONIC_COARSE (ns; 0 before
	 * any), and the epoch then (gen.h). */
	uint64_t peak_mono_ns;
	unsigned peak_epoch;
	uint64_t limit_failures, injected_failures; /* failed, by kind */
	int64_t epoch_peak; /* the most live bytes in the current epoch */
};
void da_acct_totals(struct da_acct_totals *out);
void da_acct_totals_locked(struct da_acct_totals *out);

/* Registers the calling thread if it is not yet (a scope begins). */
void da_acct_enter(void);

/* One more allocation refused: by the limit (injected 0) or by fault
 * injection (1). */
void da_acct_count_failure(int injected);

/*
 * A new epoch begins (dbgalloc_mark): fills *t with the totals now and
 * returns the peak of the epoch that ends; the new epoch's peak starts at
 * the live bytes now. Epoch peaks follow the process peak's logic: exact
 * while one thread allocates (every new peak of the epoch takes the slow
 * path), sampled under threads.
 */
int64_t da_acct_epoch_begin(struct da_acct_totals *t);

/* The high-water steps of live bytes (audit/steps.h): an allocation whose
 * slow path sees the live bytes at or above da_acct_next_step asks for a
 * step (gen.h: DA_WORK_STEP), taken once it is finished. */
extern _Atomic int64_t da_acct_next_step;

/* DBGALLOC_LIMIT and dbgalloc_limit_set: DA_ACCT_NONE removes it. Returns
 * the limit it replaces. */
int64_t da_acct_set_limit(int64_t limit);
int64_t da_acct_get_limit(void);

/*
 * For audit/scope.c, under the registry lock (da_acct_lock/unlock): the
 * live bytes now (the sum), and making the calling thread's high and low
 * follow a change of peaks, scopes or limits.
 */
void da_acct_lock(void);
void da_acct_unlock(void);
/* Takes the registry lock if it is free now: 1 if so. For a reader with
 * the other threads stopped (one of them may hold it). */
int da_acct_trylock(void);
int64_t da_acct_live_locked(void);
void da_acct_retune(struct da_acct_state *t);
/* The process peak since the innermost process scope began, and setting
 * it (a scope begins: the live bytes; ends: the outer scope's). */
int64_t da_acct_peak_locked(void);
void da_acct_set_peak_locked(int64_t peak);
/* Recomputes the effective limit from DBGALLOC_LIMIT and the process
 * scopes' limits (their list: scope.h). */
void da_acct_limits_changed_locked(void);

/* The calling thread leaves (its counts go to base), and fork's child
 * (the other threads' counts go to base; the lock is reset). */
void da_acct_thread_exit(void);
void da_acct_fork_child(void);

#endif /* DA_AUDIT_ACCT_H */
