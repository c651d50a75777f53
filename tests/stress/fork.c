/*
 * fork.c — fork under allocation (PITFALLS 5).
 *
 * 1. Single-threaded: a signal handler forks, on a small alternate stack,
 *    between allocator calls (the child allocates) and interrupting them
 *    (neither side may hang on a lock the interrupted code held).
 * 2. Four threads allocate and free without pause while the main thread
 *    forks 50 times. Each child checks and frees blocks that the main thread
 *    and the (now absent) workers had made, allocates and frees small and
 *    large blocks, runs a thread of its own and exits 0 (exit or _exit).
 *
 * Children that hang are killed after a deadline and counted as failures; the
 * probe's watchdog ends a hung parent.   fork [--expect-dbgalloc] [FORKS]
 */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/integration/probe.h"

enum {
	NWORKERS = 4,
	NSLOTS = 256,
	NMAIN = 64,
	MAX_SIGNAL_FORKS = 50,
	CHILD_DEADLINE_MS = 20000,
	WATCHDOG_S = 60,
};

/*
 * A worker's blocks. published is 1 only while p holds a filled, live
 * block that the worker is not in the middle of changing; a child may free
 * published blocks of workers that do not exist in the child.
 */
struct slot {
	void *p;
	size_t n;
	uint64_t tag;
	int published;
};

static struct slot slots[NWORKERS][NSLOTS];
static void *main_blocks[NMAIN];
static size_t main_sizes[NMAIN];
static int stop_workers;
static int hold_workers; /* set while a child runs: it gets the CPUs */
static long worker_ops;

static void *(*volatile fn_malloc)(size_t) = malloc;
static void *(*volatile fn_calloc)(size_t, size_t) = calloc;
static void *(*volatile fn_realloc)(void *, size_t) = realloc;
static void (*volatile fn_free)(void *) = free;

static void
say(const char *msg)
{
	(void)!write(2, msg, strlen(msg));
}

/*
 * Waits for pid with a deadline; kills it if it hangs. Returns 1 if it
 * exited with status 0.
 */
static int
reap(pid_t pid, const char *what)
{
	struct timespec pause = {0, 1000000};
	int status, ms;
	pid_t r;

	for (ms = 0; ms < CHILD_DEADLINE_MS; ms++) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
				return 1;
			fprintf(stderr, "FAIL fork: %s child %ld: %s %d\n",
			        what, (long)pid,
			        WIFEXITED(status) ? "exit status" : "signal",
			        WIFEXITED(status) ? WEXITSTATUS(status)
			                          : WTERMSIG(status));
			return 0;
		}
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "FAIL fork: waitpid: %s\n",
			        strerror(errno));
			return 0;
		}
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "FAIL fork: %s child %ld hung for %d ms; killed\n",
	        what, (long)pid, CHILD_DEADLINE_MS);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return 0;
}

/*
 * Part 1: fork from a signal handler in a single-threaded process, the
 * handler running on a small alternate stack (PITFALLS 4, 5).
 *
 * 1a. The signal arrives between allocator calls (raise): the child
 *     mallocs, frees a block of its parent, frees and _exits.
 * 1b. A timer signal interrupts a malloc/free loop, so the allocator may be
 *     mid-call and hold its locks: fork's atfork handlers must not deadlock
 *     in the parent, and the child must start and _exit. (The child does not
 *     allocate here: an interrupted heap is not usable in the child, glibc's
 *     included.)
 */

enum { ALT_STACK_SIZE = 16384 };

static volatile sig_atomic_t signal_forks, child_allocates;
static pid_t signal_pids[MAX_SIGNAL_FORKS];
static void *parent_block; /* freed by the 1a children */

static void
fork_in_handler(int sig)
{
	int saved = errno;
	pid_t pid;
	void *p, *q;

	(void)sig;
	if (signal_forks >= MAX_SIGNAL_FORKS)
		return;
	pid = fork();
	if (pid == 0) {
		if (!child_allocates)
			_exit(0);
		p = fn_malloc(100);
		q = fn_malloc(300000);
		if (p == NULL || q == NULL)
			_exit(1);
		memset(p, 1, 100);
		memset(q, 2, 300000);
		if (!pattern_ok(parent_block, 5000, 55))
			_exit(2);
		fn_free(parent_block);
		fn_free(q);
		fn_free(p);
		_exit(0);
	}
	signal_pids[signal_forks] = pid;
	signal_forks = signal_forks + 1;
	errno = saved;
}

/* Reaps the children of part 1; returns how many exited 0. */
static int
reap_signal_children(void)
{
	int i, ok = 0;

	for (i = 0; i < signal_forks; i++) {
		CHECK(signal_pids[i] > 0);
		if (signal_pids[i] > 0)
			ok += reap(signal_pids[i], "signal-handler");
	}
	return ok;
}

static void
signal_fork_test(void)
{
	static char alt_stack[ALT_STACK_SIZE];
	stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof(alt_stack)};
	struct sigaction sa;
	struct sigevent sev;
	struct itimerspec its = {{0, 2000000}, {0, 2000000}};
	timer_t timer;
	void *p[16] = {0};
	unsigned x = 1;
	long loops = 0;
	int i, ok;

	CHECK(sigaltstack(&ss, NULL) == 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fork_in_handler;
	sa.sa_flags = SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	probe_watchdog(WATCHDOG_S);

	/* 1a: between allocator calls; the child allocates. */
	child_allocates = 1;
	parent_block = fn_malloc(5000);
	CHECK(parent_block != NULL);
	if (parent_block == NULL)
		return;
	pattern_fill(parent_block, 5000, 55);
	for (i = 0; i < MAX_SIGNAL_FORKS; i++) {
		fn_free(p[i % 16]);
		p[i % 16] = fn_malloc((size_t)i * 1000 + 1);
		raise(SIGUSR1);
	}
	ok = reap_signal_children();
	CHECK(ok == MAX_SIGNAL_FORKS);
	CHECK(pattern_ok(parent_block, 5000, 55));
	fn_free(parent_block);
	printf("fork: %d forks from a signal handler, child allocates: %s\n",
	       MAX_SIGNAL_FORKS, ok == MAX_SIGNAL_FORKS ? "ok" : "FAILED");
	fflush(stdout);

	/* 1b: a timer interrupts malloc and free. */
	child_allocates = 0;
	signal_forks = 0;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR1;
	CHECK(timer_create(CLOCK_MONOTONIC, &sev, &timer) == 0);
	CHECK(timer_settime(timer, 0, &its, NULL) == 0);
	while (signal_forks < MAX_SIGNAL_FORKS) {
		x = x * 1103515245u + 12345u;
		i = (int)((x >> 8) % 16);
		fn_free(p[i]);
		p[i] = (x >> 4) % 64 == 0 ? fn_calloc(1, 200000)
		                          : fn_malloc((x >> 12) % 3000);
		loops++;
	}
	its.it_value.tv_nsec = 0;
	its.it_interval.tv_nsec = 0;
	CHECK(timer_settime(timer, 0, &its, NULL) == 0);
	CHECK(timer_delete(timer) == 0);
	signal(SIGUSR1, SIG_IGN);
	for (i = 0; i < 16; i++)
		fn_free(p[i]);
	ok = reap_signal_children();
	CHECK(ok == MAX_SIGNAL_FORKS);
	printf("fork: %d forks from a signal handler interrupting malloc "
	       "(%ld allocations): %s\n",
	       MAX_SIGNAL_FORKS, loops,
	       ok == MAX_SIGNAL_FORKS ? "ok" : "FAILED");
	fflush(stdout);
}

/* Part 2: fork while threads allocate. */

/* Mostly small; page faults are what makes fork expensive, keep few. */
static size_t
worker_size(unsigned x)
{
	if (x % 4096 == 0)
		return ((size_t)512 << 10) + x % 4096;
	if (x % 32 == 0)
		return 1 + x % 65536;
	return 1 + x % 512;
}

static void *
worker(void *arg)
{
	struct timespec pause = {0, 100000};
	struct slot *mine = slots[(uintptr_t)arg];
	unsigned x = (unsigned)(uintptr_t)arg * 7919u + 17u;
	uint64_t serial = 0;
	struct slot *s;
	size_t n;
	void *q;
	int i;

	while (!__atomic_load_n(&stop_workers, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&hold_workers, __ATOMIC_ACQUIRE))
			nanosleep(&pause, NULL);
		x = x * 1103515245u + 12345u;
		s = &mine[(x >> 8) % NSLOTS];
		__atomic_store_n(&s->published, 0, __ATOMIC_SEQ_CST);
		if (s->p != NULL && !pattern_ok(s->p, s->n, s->tag))
			probe_fail(__FILE__, __LINE__, "worker pattern");
		if (s->p != NULL && (x >> 20) % 4 == 0) {
			n = worker_size(x >> 3);
			q = fn_realloc(s->p, n);
			if (q == NULL) {
				probe_fail(__FILE__, __LINE__, "realloc");
				continue;
			}
			s->p = q;
			pattern_fill(q, n, s->tag);
			s->n = n;
		} else if (s->p != NULL) {
			fn_free(s->p);
			s->p = NULL;
			continue;
		} else {
			s->n = worker_size(x >> 3);
			s->tag = (uint64_t)(uintptr_t)arg << 40 | ++serial;
			s->p = fn_malloc(s->n);
			if (s->p == NULL) {
				probe_fail(__FILE__, __LINE__, "malloc");
				continue;
			}
			pattern_fill(s->p, s->n, s->tag);
		}
		__atomic_store_n(&s->published, 1, __ATOMIC_SEQ_CST);
		/* Bursts with short pauses leave the children some CPU. */
		if (__atomic_add_fetch(&worker_ops, 1, __ATOMIC_RELAXED) % 64 ==
		    0)
			nanosleep(&pause, NULL);
	}
	for (i = 0; i < NSLOTS; i++) {
		if (mine[i].p != NULL &&
		    !pattern_ok(mine[i].p, mine[i].n, mine[i].tag))
			probe_fail(__FILE__, __LINE__, "worker pattern");
		fn_free(mine[i].p);
		mine[i].p = NULL;
	}
	return NULL;
}

static void *
child_thread(void *arg)
{
	void *p[100];
	int i;

	(void)arg;
	for (i = 0; i < 100; i++) {
		p[i] = fn_malloc((size_t)i * 97 + 1);
		if (p[i] == NULL)
			return (void *)1;
		pattern_fill(p[i], (size_t)i * 97 + 1, (uint64_t)i);
	}
	for (i = 0; i < 100; i++) {
		if (!pattern_ok(p[i], (size_t)i * 97 + 1, (uint64_t)i))
			return (void *)2;
		fn_free(p[i]);
	}
	return NULL;
}

/* The child of part 2. Exit status: 0 or the number of the failed step. */
static int
child(void)
{
	static const size_t sizes[] = {1, 64, 1000, 40000, 300000, 2 << 20};
	struct slot *s;
	pthread_t t;
	void *r, *p;
	unsigned char *z;
	size_t i, w;

	for (i = 0; i < NMAIN; i++) {
		if (!pattern_ok(main_blocks[i], main_sizes[i], 900 + i))
			return 1;
		if (!probe_owned(main_blocks[i]))
			return 2;
		fn_free(main_blocks[i]);
	}
	/* Blocks of workers that do not exist in this process. */
	for (w = 0; w < NWORKERS; w++) {
		for (i = 0; i < NSLOTS; i++) {
			s = &slots[w][i];
			if (!__atomic_load_n(&s->published, __ATOMIC_SEQ_CST) ||
			    s->p == NULL)
				continue;
			if (!pattern_ok(s->p, s->n, s->tag))
				return 3;
			fn_free(s->p);
		}
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = fn_malloc(sizes[i]);
		if (p == NULL)
			return 4;
		pattern_fill(p, sizes[i], i);
		p = fn_realloc(p, sizes[i] * 2);
		if (p == NULL || !pattern_ok(p, sizes[i], i))
			return 5;
		fn_free(p);
		z = fn_calloc(1, sizes[i]);
		if (z == NULL || z[0] != 0 || z[sizes[i] - 1] != 0)
			return 6;
		fn_free(z);
	}
	if (pthread_create(&t, NULL, child_thread, NULL) != 0)
		return 7;
	if (pthread_join(t, &r) != 0 || r != NULL)
		return 8;
	return 0;
}

static void
thread_fork_test(int forks)
{
	pthread_t t[NWORKERS];
	struct timespec pause = {0, 2000000};
	long before;
	pid_t pid;
	int i, k, rc, ok = 0;

	for (i = 0; i < NMAIN; i++) {
		main_sizes[i] = (size_t)i * i * 31 + 1;
		main_blocks[i] = fn_malloc(main_sizes[i]);
		CHECK(main_blocks[i] != NULL);
		if (main_blocks[i] == NULL)
			return;
		pattern_fill(main_blocks[i], main_sizes[i], 900 + (size_t)i);
	}
	for (i = 0; i < NWORKERS; i++)
		CHECK(pthread_create(&t[i], NULL, worker,
		                     (void *)(uintptr_t)i) == 0);
	for (k = 0; k < forks; k++) {
		probe_watchdog(WATCHDOG_S); /* per fork: a hang ends the run */
		before = __atomic_load_n(&worker_ops, __ATOMIC_RELAXED);
		while (__atomic_load_n(&worker_ops, __ATOMIC_RELAXED) <
		       before + 2000)
			nanosleep(&pause, NULL);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			rc = child();
			if (rc != 0) {
				char msg[80];
				snprintf(msg, sizeof(msg),
				         "FAIL fork: child %d: step %d\n", k,
				         rc);
				say(msg);
			}
			if (k % 2 == 0)
				exit(rc);
			_exit(rc);
		}
		if (pid > 0) {
			/* The fork is done: let the child run undisturbed. */
			__atomic_store_n(&hold_workers, 1, __ATOMIC_RELEASE);
			ok += reap(pid, "threaded");
			__atomic_store_n(&hold_workers, 0, __ATOMIC_RELEASE);
		}
		/* The parent's copies are untouched by the child. */
		for (i = 0; i < NMAIN; i++)
			CHECK(pattern_ok(main_blocks[i], main_sizes[i],
			                 900 + (size_t)i));
	}
	__atomic_store_n(&stop_workers, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NWORKERS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	for (i = 0; i < NMAIN; i++)
		fn_free(main_blocks[i]);
	CHECK(ok == forks);
	printf("fork: %d forks while %d threads allocate (%ld operations): "
	       "%s\n",
	       forks, NWORKERS, worker_ops, ok == forks ? "ok" : "FAILED");
}

int
main(int argc, char **argv)
{
	int forks = 50;

	probe_start(&argc, argv);
	if (argc > 1)
		forks = atoi(argv[1]);
	signal_fork_test();
	thread_fork_test(forks);
	return probe_status();
}
