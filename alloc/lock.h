/*
 * alloc/lock.h — the allocator's one kind of lock: a test-and-test-and-set
 * spin lock that yields the CPU when it cannot get in. Locks guard only slow
 * paths (new slabs, large blocks, thread start and exit), never the common
 * malloc/free.
 *
 * The lock remembers its holder's thread so that a signal handler that
 * re-enters a slow path of the thread it interrupted can see that it would
 * deadlock (PITFALLS 4) and fail the allocation instead.
 */
#ifndef DA_ALLOC_LOCK_H
#define DA_ALLOC_LOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

/* The lock word is its holder's identity (0: free), set in one CAS: a
 * signal that arrives while its thread is taking or holding the lock sees
 * it held by "me", with no window in between. */
/*
 * A lock taken by a fork prepare handler may be taken again by its holder
 * (depth counts that): other prepare, parent and child handlers run on the
 * forking thread while it holds every lock, and may allocate (PITFALLS 5).
 * That is safe because fork took the lock while it was free: no operation
 * of this thread is half-way through the structure it guards. Both fields
 * are touched only by the holder.
 */
struct da_lock {
	_Atomic(uintptr_t) holder; /* address of the holder's TLS marker */
	unsigned depth;            /* times taken again by its holder */
	unsigned char fork_taken;  /* held for fork: may be taken again */
};

#define DA_LOCK_INIT \
	{            \
		0    \
	}

extern __thread char da_thread_marker;

/* Locks the calling thread holds, or is trying to take, and page-map
 * lookups it is inside (pagemap.h): what others may be waiting for. */
extern __thread unsigned da_locks_held;

/* A hint to the CPU that we are spinning. */
static inline void
da_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static inline uintptr_t
da_self(void)
{
	return (uintptr_t)&da_thread_marker;
}

/* 1 if the calling thread holds l (it is inside a slow path). */
static inline int
da_lock_held_by_me(struct da_lock *l)
{
	return atomic_load_explicit(&l->holder, memory_order_relaxed) ==
	       da_self();
}

/* 1 (and taken once more) if l is held for fork by this thread. */
static inline int
da_lock_reenter(struct da_lock *l)
{
	if (!da_lock_held_by_me(l) || !l->fork_taken)
		return 0;
	l->depth++;
	da_locks_held++;
	return 1;
}

static inline void
da_lock_acquire(struct da_lock *l)
{
	uintptr_t self = da_self();
	if (da_lock_reenter(l))
		return;
	da_locks_held++;
	atomic_signal_fence(memory_order_seq_cst);
	for (;;) {
		uintptr_t free_ = 0;
		if (atomic_compare_exchange_weak_explicit(
		            &l->holder, &free_, self, memory_order_acquire,
		            memory_order_relaxed))
			return;
		for (int spin = 0;
		     atomic_load_explicit(&l->holder, memory_order_relaxed);
		     spin++) {
			if (spin < 64)
				da_cpu_relax();
			else
				sched_yield();
		}
	}
}

static inline void
da_lock_release(struct da_lock *l)
{
	if (l->depth > 0) {
		l->depth--;
	} else {
		l->fork_taken = 0;
		atomic_store_explicit(&l->holder, 0, memory_order_release);
	}
	atomic_signal_fence(memory_order_seq_cst);
	da_locks_held--;
}

/* Takes l if it is free now (or held for fork by this thread). 1 if so. */
static inline int
da_lock_try(struct da_lock *l)
{
	if (da_lock_held_by_me(l))
		return da_lock_reenter(l);
	da_locks_held++;
	atomic_signal_fence(memory_order_seq_cst);
	uintptr_t free_ = 0;
	if (atomic_compare_exchange_strong_explicit(
	            &l->holder, &free_, da_self(), memory_order_acquire,
	            memory_order_relaxed))
		return 1;
	atomic_signal_fence(memory_order_seq_cst);
	da_locks_held--;
	return 0;
}

/*
 * Slow-path operations the calling thread is inside. One that begins while
 * another is under way on the same thread is nearly always a signal
 * handler's (PITFALLS 4). If the interrupted operation holds a lock (or is
 * taking one), the nested one must never wait for a lock: two threads'
 * handlers could wait on each other's interrupted locks. If it holds none,
 * waiting is safe: a deadlock needs every thread in the cycle to hold a
 * lock another waits for, and within one operation locks are taken in the
 * lock order (heap.c). DA_OP_ENTER/LEAVE bracket every slow path.
 */
extern __thread unsigned da_op_depth;

#define DA_OP_ENTER()                                      \
	do {                                               \
		da_op_depth++;                             \
		atomic_signal_fence(memory_order_seq_cst); \
	} while (0)
#define DA_OP_LEAVE()                                      \
	do {                                               \
		atomic_signal_fence(memory_order_seq_cst); \
		da_op_depth--;                             \
	} while (0)

/*
 * Takes l and returns 1, or returns 0 where waiting could deadlock: the
 * thread holds l already, or this is a nested operation (see da_op_depth)
 * while the thread holds some lock, and l is taken. Callers fail the
 * allocation, or defer the free.
 */
static inline int
da_lock_take(struct da_lock *l)
{
	if (da_lock_held_by_me(l))
		return da_lock_reenter(l);
	if (da_op_depth > 1 && da_locks_held > 0)
		return da_lock_try(l);
	da_lock_acquire(l);
	return 1;
}

/* After fork, in the child: whoever held it no longer exists. */
static inline void
da_lock_reset(struct da_lock *l)
{
	l->depth = 0;
	l->fork_taken = 0;
	atomic_store_explicit(&l->holder, 0, memory_order_relaxed);
}

#endif /* DA_ALLOC_LOCK_H */
