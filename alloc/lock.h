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

struct da_lock {
	atomic_int locked;
	_Atomic(uintptr_t) holder; /* address of the holder's TLS marker */
};

#define DA_LOCK_INIT \
	{            \
		0, 0 \
	}

extern __thread char da_thread_marker;

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

static inline void
da_lock_acquire(struct da_lock *l)
{
	for (;;) {
		if (!atomic_exchange_explicit(&l->locked, 1,
		                              memory_order_acquire))
			break;
		for (int spin = 0;
		     atomic_load_explicit(&l->locked, memory_order_relaxed);
		     spin++) {
			if (spin < 64)
				da_cpu_relax();
			else
				sched_yield();
		}
	}
	atomic_store_explicit(&l->holder, da_self(), memory_order_relaxed);
}

static inline void
da_lock_release(struct da_lock *l)
{
	atomic_store_explicit(&l->holder, 0, memory_order_relaxed);
	atomic_store_explicit(&l->locked, 0, memory_order_release);
}

/* After fork, in the child: whoever held it no longer exists. */
static inline void
da_lock_reset(struct da_lock *l)
{
	atomic_store_explicit(&l->holder, 0, memory_order_relaxed);
	atomic_store_explicit(&l->locked, 0, memory_order_relaxed);
}

#endif /* DA_ALLOC_LOCK_H */
