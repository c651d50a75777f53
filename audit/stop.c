/*
 * audit/stop.c — stop-the-world by signal (see stop.h).
 */
#include "audit/stop.h"
#include "alloc/heap.h"
#include "alloc/os.h"
#include "audit/scanbound.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static struct da_stopped *slots;     /* DA_STOP_MAX of them, mmap'd */
static _Atomic unsigned arrived;     /* slots taken by handlers */
static _Atomic unsigned inside;      /* handlers not yet gone */
static _Atomic uint32_t world_epoch; /* bumped to resume */
static _Atomic int stopping;         /* a stop is under way */
static struct sigaction old_action;  /* the program's, chained to */
static unsigned slots_dirty;         /* slots written since the mapping */
/* How long a stop waits for threads, in ms (da_world_run may shorten it;
 * set while every allocator lock is held, so stops never overlap). */
static unsigned patience_ms = 2000;
static int installed;

static long
futex(_Atomic uint32_t *addr, int op, uint32_t val)
{
	struct timespec ts = {0, 50 * 1000 * 1000};
	return syscall(SYS_futex, addr, op, val, op == FUTEX_WAIT ? &ts : NULL,
	               NULL, 0);
}

static void
stop_handler(int sig, siginfo_t *si, void *ctx)
{
	int saved = errno;
	/* The epoch first: a resume between the two loads leaves the wait
	 * below at once, and one before both is seen as "not stopping". */
	uint32_t epoch = atomic_load(&world_epoch);
	if (!atomic_load(&stopping)) {
		/* Not ours (late, or the program's own use of the signal). */
		if ((old_action.sa_flags & SA_SIGINFO) &&
		    old_action.sa_sigaction != NULL)
			old_action.sa_sigaction(sig, si, ctx);
		else if (!(old_action.sa_flags & SA_SIGINFO) &&
		         old_action.sa_handler != SIG_DFL &&
		         old_action.sa_handler != SIG_IGN)
			old_action.sa_handler(sig);
		errno = saved;
		return;
	}
	atomic_fetch_add(&inside, 1);
	unsigned i = atomic_fetch_add(&arrived, 1);
	if (i < DA_STOP_MAX) {
		struct da_stopped *t = &slots[i];
		ucontext_t *uc = (ucontext_t *)ctx;
		t->tid = (pid_t)syscall(SYS_gettid);
		for (unsigned r = 0; r < DA_STOP_REGS; r++)
			t->regs[r] = (uintptr_t)uc->uc_mcontext.gregs[r];
		t->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
		t->tp = (uintptr_t)__builtin_thread_pointer();
		t->bound = da_scan_bound();
		atomic_store(&t->ready, 1);
	}
	while (atomic_load(&world_epoch) == epoch)
		futex(&world_epoch, FUTEX_WAIT, epoch);
	atomic_fetch_sub(&inside, 1);
	errno = saved;
}

/* Thread ids of the process, read from /proc/self/task with raw calls.
 * Returns how many were stored in tids (at most max); *all counts them
 * all. */
static unsigned
list_tasks(pid_t *tids, unsigned max, unsigned *all)
{
	*all = 0;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/task",
	                      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	unsigned n = 0;
	char buf[4096];
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (got <= 0)
			break;
		for (long off = 0; off < got;) {
			struct {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (void *)(buf + off);
			long v = 0;
			const char *c = d->name;
			if (*c >= '0' && *c <= '9') {
				for (; *c >= '0' && *c <= '9'; c++)
					v = v * 10 + (*c - '0');
				if (n < max)
					tids[n++] = (pid_t)v;
				(*all)++;
			}
			off += d->reclen;
		}
	}
	syscall(SYS_close, fd);
	return n;
}

static pid_t *signalled; /* DA_STOP_MAX tids already signalled */

static int
was_signalled(pid_t tid, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (signalled[i] == tid)
			return 1;
	return 0;
}

int
da_world_stop(struct da_world *w)
{
	w->n = w->missed = 0;
	if (slots == NULL) {
		slots = da_os_map(DA_STOP_MAX * sizeof(*slots));
		signalled = da_os_map(DA_STOP_MAX * sizeof(pid_t));
		if (slots == NULL || signalled == NULL)
			return -1;
	}
	/* Only the slots an earlier stop used can be dirty (a stop taken
	 * at every high-water step must not clear DA_STOP_MAX of them). */
	unsigned dirty = atomic_load(&arrived);
	if (dirty > slots_dirty)
		slots_dirty = dirty < DA_STOP_MAX ? dirty : DA_STOP_MAX;
	memset(slots, 0, slots_dirty * sizeof(*slots));
	atomic_store(&arrived, 0);
	/* Installed once and kept: a signal still pending in a thread that
	 * blocked it must never meet the default action (termination). */
	if (!installed) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = stop_handler;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigfillset(&sa.sa_mask);
		if (sigaction(DA_STOP_SIGNAL, &sa, &old_action) != 0)
			return -1;
		installed = 1;
	}
	atomic_store(&stopping, 1);
	pid_t self = (pid_t)syscall(SYS_gettid), pid = getpid();
	unsigned sent = 0, over = 0;
	pid_t tids[DA_STOP_MAX];
	/* Rounds: a thread not yet stopped may have started another. */
	for (int round = 0; round < 100; round++) {
		unsigned all, n = list_tasks(tids, DA_STOP_MAX, &all),
		              fresh = 0;
		over = all - n; /* not even listed */
		for (unsigned i = 0; i < n; i++) {
			if (tids[i] == self || was_signalled(tids[i], sent))
				continue;
			if (sent >= DA_STOP_MAX) {
				over++; /* past the slots: not stopped */
				continue;
			}
			if (syscall(SYS_tgkill, pid, tids[i], DA_STOP_SIGNAL) ==
			    0) {
				signalled[sent++] = tids[i];
				fresh++;
			}
		}
		/* Wait for them (a thread that exits meanwhile, or blocks
		 * the signal, never arrives: up to patience_ms in all). */
		for (unsigned wait = 0; wait < patience_ms; wait++) {
			if (atomic_load(&arrived) >= sent)
				break;
			struct timespec ts = {0, 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		if (fresh == 0)
			break;
	}
	unsigned got = atomic_load(&arrived);
	w->t = slots;
	w->n = got < DA_STOP_MAX ? got : DA_STOP_MAX;
	w->missed = (sent > got ? sent - got : 0) + over;
	/* A slot whose handler has not finished recording is not used. */
	for (unsigned i = 0; i < w->n; i++)
		while (!atomic_load(&slots[i].ready))
			sched_yield();
	return 0;
}

void
da_world_resume(struct da_world *w)
{
	(void)w;
	atomic_store(&stopping, 0);
	atomic_fetch_add(&world_epoch, 1);
	futex(&world_epoch, FUTEX_WAKE, INT32_MAX);
	/* Wait until every stopped thread has left the handler, so that the
	 * slots can be used again. */
	for (int wait = 0; wait < 5000 && atomic_load(&inside) != 0; wait++) {
		futex(&world_epoch, FUTEX_WAKE, INT32_MAX);
		sched_yield();
	}
}

int
da_world_run(int stop, unsigned patience,
             void (*fn)(const struct da_world *w, void *arg), void *arg)
{
	struct da_world w = {0};
	da_heap_fork_prepare(); /* every allocator lock */
	unsigned saved = patience_ms;
	patience_ms = patience;
	int stopped = stop && da_world_stop(&w) == 0;
	patience_ms = saved;
	fn(&w, arg);
	if (stopped)
		da_world_resume(&w);
	da_heap_fork_parent();
	return stopped ? (int)w.missed : -1;
}
