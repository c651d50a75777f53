/*
 * audit/stop.h — stopping every other thread of the process for a moment,
 * without ptrace (so it works under gdb and strace and in containers).
 *
 * Each thread listed in /proc/self/task gets a signal (DA_STOP_SIGNAL)
 * whose handler records the thread's registers, stack pointer and thread
 * pointer, then waits on a futex until the world is resumed. A thread that
 * blocks the signal never arrives: it is counted in missed after a timeout
 * and its stack cannot be scanned. The list is read again after the first
 * round, until no new thread appears.
 *
 * The caller must hold every allocator lock (da_heap_fork_prepare) before
 * stopping, so no stopped thread holds one, and must not allocate while
 * the world is stopped.
 */
#ifndef DA_AUDIT_STOP_H
#define DA_AUDIT_STOP_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#define DA_STOP_SIGNAL (SIGRTMAX - 1)
#define DA_STOP_MAX    4096 /* threads recorded; more are missed */
#define DA_STOP_REGS   23   /* x86-64 general registers (NGREG) */

struct da_stopped {
	pid_t tid;
	uintptr_t sp; /* its stack pointer when it stopped */
	uintptr_t tp; /* its thread pointer (TLS, the TCB) */
	uintptr_t regs[DA_STOP_REGS];
	/* Its scan bound (scanbound.h) when it stopped: inside an entry of
	 * dbgalloc's, the frames below it (and the registers) are dbgalloc's;
	 * DA_SCAN_OURS for a thread of dbgalloc's own. */
	uintptr_t bound;
	int _Atomic ready;
};

struct da_world {
	unsigned n;      /* threads stopped, in t[0..n) */
	unsigned missed; /* threads that did not stop in time */
	struct da_stopped *t;
};

/* Stops every other thread; returns 0, or -1 if the signal could not be
 * installed (nothing is stopped then). */
int da_world_stop(struct da_world *w);
/* Lets them go, and waits until each has left the handler. */
void da_world_resume(struct da_world *w);

/*
 * Takes every allocator lock, stops every other thread (unless stop is
 * 0; waiting at most patience ms for them, instead of da_world_stop's 2
 * s), calls fn(w, arg), resumes them and releases the locks. Returns the
 * threads that could not be stopped, or -1 if none could be (nothing was
 * stopped: fn ran all the same, with the locks held). fn must not
 * allocate. Must be called outside any allocator operation.
 */
int da_world_run(int stop, unsigned patience,
                 void (*fn)(const struct da_world *w, void *arg), void *arg);

#endif /* DA_AUDIT_STOP_H */
