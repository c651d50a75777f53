/*
 * signal.c — signal handlers that allocate (PITFALLS 4), as crash loggers
 * and profilers do: two threads run a malloc/realloc/free loop while a
 * third sends them signals every few hundred microseconds; each handler,
 * on a small alternate stack, mallocs, fills, checks and frees blocks of its
 * own, so it often interrupts the allocator in the middle of a call. No
 * deadlock (the watchdog fails the run), no crash, no corruption (patterns
 * checked), every thread's blocks intact at the end, and no allocation in a
 * handler fails: one that may not wait for a lock the interrupted code
 * holds gets a mapping of its own (alloc/lock.h, alloc/large.c).
 *
 *   signal [--expect-dbgalloc] [SECONDS]
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "tests/integration/probe.h"

enum { NWORKERS = 2, NSLOTS = 128, ALT_STACK_SIZE = 16384 };

static pthread_t workers[NWORKERS];
static int stop;
static long handler_runs, handler_nulls, worker_ops;

static void *(*volatile fn_malloc)(size_t) = malloc;
static void *(*volatile fn_calloc)(size_t, size_t) = calloc;
static void *(*volatile fn_realloc)(void *, size_t) = realloc;
static void (*volatile fn_free)(void *) = free;

static void
on_signal(int sig)
{
	static __thread unsigned x = 7;
	void *p[4];
	size_t n[4];
	unsigned char *z;
	int i, saved = errno;

	(void)sig;
	for (i = 0; i < 4; i++) {
		x = x * 1103515245u + 12345u;
		n[i] = (x >> 8) % 64 == 0 ? 100000 : 1 + (x >> 8) % 700;
		errno = 0;
		p[i] = fn_malloc(n[i]);
		if (p[i] == NULL) {
			/* Counted; main fails the run on any. */
			if (errno != ENOMEM)
				probe_fail(__FILE__, __LINE__,
				           "malloc in handler: NULL without "
				           "ENOMEM");
			__atomic_add_fetch(&handler_nulls, 1, __ATOMIC_RELAXED);
			continue;
		}
		pattern_fill(p[i], n[i], 0xabcd + (uint64_t)i);
	}
	z = fn_calloc(1, 64);
	if (z != NULL && (z[0] != 0 || z[63] != 0))
		probe_fail(__FILE__, __LINE__, "calloc in handler not zeroed");
	fn_free(z);
	for (i = 0; i < 4; i++) {
		if (p[i] == NULL)
			continue;
		if (!pattern_ok(p[i], n[i], 0xabcd + (uint64_t)i))
			probe_fail(__FILE__, __LINE__, "pattern in handler");
		fn_free(p[i]);
	}
	__atomic_add_fetch(&handler_runs, 1, __ATOMIC_RELAXED);
	errno = saved;
}

static void *
worker(void *arg)
{
	stack_t ss;
	void *slot[NSLOTS] = {0};
	size_t size[NSLOTS];
	uint64_t tag[NSLOTS];
	unsigned x = (unsigned)(uintptr_t)arg * 48271u + 1;
	uint64_t serial = 0;
	void *q;
	int i;

	ss.ss_sp = fn_malloc(ALT_STACK_SIZE);
	ss.ss_size = ALT_STACK_SIZE;
	ss.ss_flags = 0;
	if (ss.ss_sp == NULL || sigaltstack(&ss, NULL) != 0) {
		probe_fail(__FILE__, __LINE__, "sigaltstack");
		return NULL;
	}
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		x = x * 1103515245u + 12345u;
		i = (int)((x >> 8) % NSLOTS);
		if (slot[i] == NULL) {
			size[i] = (x >> 16) % 128 == 0 ? 200000
			                               : 1 + (x >> 16) % 2000;
			tag[i] = (uint64_t)(uintptr_t)arg << 40 | ++serial;
			slot[i] = fn_malloc(size[i]);
			if (slot[i] == NULL) {
				probe_fail(__FILE__, __LINE__, "malloc");
				break;
			}
			pattern_fill(slot[i], size[i], tag[i]);
			continue;
		}
		if (!pattern_ok(slot[i], size[i], tag[i])) {
			probe_fail(__FILE__, __LINE__, "pattern");
			break;
		}
		if ((x >> 4) % 4 == 0) {
			q = fn_realloc(slot[i], size[i] / 2 + 1);
			if (q == NULL) {
				probe_fail(__FILE__, __LINE__, "realloc");
				break;
			}
			slot[i] = q;
			size[i] = size[i] / 2 + 1;
		} else {
			fn_free(slot[i]);
			slot[i] = NULL;
		}
		__atomic_add_fetch(&worker_ops, 1, __ATOMIC_RELAXED);
	}
	/* Block the signal before the alternate stack goes away. */
	{
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
	}
	for (i = 0; i < NSLOTS; i++) {
		if (slot[i] != NULL && !pattern_ok(slot[i], size[i], tag[i]))
			probe_fail(__FILE__, __LINE__, "pattern at end");
		fn_free(slot[i]);
	}
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	fn_free(ss.ss_sp);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct timespec pause = {0, 300000}, now, end;
	struct sigaction sa;
	sigset_t set;
	double seconds = 2;
	uintptr_t i;
	long sent = 0;

	probe_start(&argc, argv);
	probe_watchdog(60); /* a few seconds normally: a hang fails fast */
	if (argc > 1)
		seconds = atof(argv[1]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	/* Only the workers take the signal. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (i = 0; i < NWORKERS; i++)
		CHECK(pthread_create(&workers[i], NULL, worker,
		                     (void *)(i + 1)) == 0);
	CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0);
	if (probe_failures != 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)seconds;
	end.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	do {
		for (i = 0; i < NWORKERS; i++)
			if (pthread_kill(workers[i], SIGUSR1) == 0)
				sent++;
		nanosleep(&pause, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec ||
	         (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NWORKERS; i++)
		CHECK(pthread_join(workers[i], NULL) == 0);
	CHECK(handler_runs > 0);
	CHECK(worker_ops > 0);
	/* An allocation that may not wait for the lock its interrupted
	 * thread holds gets a mapping of its own: none fails. */
	CHECK(handler_nulls == 0);
	printf("signal: %ld signals sent, %ld handlers ran (%ld allocations "
	       "failed), %ld operations: %s\n",
	       sent, handler_runs, handler_nulls, worker_ops,
	       probe_failures ? "FAILED" : "ok");
	return probe_status();
}
