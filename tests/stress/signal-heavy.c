/*
 * signal-heavy.c — signal handlers that allocate while eight threads spend
 * most of their time inside the allocator's slow paths (blocks up to
 * 200 KB: pages, with the chunk lock held). Each handler mallocs blocks up
 * to 100 KB, checks and frees them. A handler that interrupts its thread
 * while that thread holds the chunk lock cannot wait for it: dbgalloc gives
 * it a mapping of its own instead. No allocation in a handler may fail, no
 * deadlock (watchdog), no corruption (patterns).
 *
 *   signal-heavy [--expect-dbgalloc] [SECONDS]
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "tests/integration/probe.h"

#define NWORKERS 8
#define NSLOTS   64

static void *(*volatile fn_malloc)(size_t) = malloc;
static void (*volatile fn_free)(void *) = free;
static volatile int stop;
static long handler_allocs, handler_nulls, worker_ops;
static __thread unsigned seed;

static void
on_signal(int sig)
{
	int saved = errno;
	void *p[6];
	size_t n[6];
	(void)sig;
	for (int i = 0; i < 6; i++) {
		seed = seed * 1103515245u + 12345u;
		n[i] = 16 + (size_t)i * i * i * 800 + (seed >> 16) % 64;
		p[i] = fn_malloc(n[i]);
		__atomic_add_fetch(&handler_allocs, 1, __ATOMIC_RELAXED);
		if (p[i] == NULL) {
			__atomic_add_fetch(&handler_nulls, 1, __ATOMIC_RELAXED);
			continue;
		}
		pattern_fill(p[i], n[i], (uint64_t)(uintptr_t)p[i]);
	}
	for (int i = 0; i < 6; i++) {
		if (p[i] == NULL)
			continue;
		if (!pattern_ok(p[i], n[i], (uint64_t)(uintptr_t)p[i]))
			probe_fail(__FILE__, __LINE__, "pattern in handler");
		fn_free(p[i]);
	}
	errno = saved;
}

static void *
worker(void *arg)
{
	void *slot[NSLOTS] = {0};
	size_t size[NSLOTS];
	long ops = 0;
	seed = (unsigned)(uintptr_t)arg * 2654435761u + 1;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		seed = seed * 1103515245u + 12345u;
		int i = (int)((seed >> 8) % NSLOTS);
		if (slot[i] != NULL) {
			if (!pattern_ok(slot[i], size[i], (uint64_t)i))
				probe_fail(__FILE__, __LINE__, "pattern");
			fn_free(slot[i]);
		}
		size[i] = 1 + (seed >> 12) % 200000;
		slot[i] = fn_malloc(size[i]);
		if (slot[i] == NULL) {
			probe_fail(__FILE__, __LINE__, "malloc");
			break;
		}
		pattern_fill(slot[i], size[i], (uint64_t)i);
		ops++;
	}
	for (int i = 0; i < NSLOTS; i++)
		fn_free(slot[i]);
	__atomic_add_fetch(&worker_ops, ops, __ATOMIC_RELAXED);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t workers[NWORKERS];
	struct sigaction sa;
	long sent = 0;
	probe_start(&argc, argv);
	unsigned seconds = argc > 1 ? (unsigned)atoi(argv[1]) : 3;
	probe_watchdog(seconds + 120);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	for (long i = 0; i < NWORKERS; i++)
		CHECK(pthread_create(&workers[i], NULL, worker, (void *)i) ==
		      0);
	struct timespec pause = {0, 200000}, now, end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += seconds;
	do {
		for (int i = 0; i < NWORKERS; i++)
			if (pthread_kill(workers[i], SIGUSR1) == 0)
				sent++;
		nanosleep(&pause, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec ||
	         (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < NWORKERS; i++)
		CHECK(pthread_join(workers[i], NULL) == 0);
	CHECK(handler_allocs > 0);
	CHECK(handler_nulls == 0);
	printf("signal-heavy: %ld signals sent, %ld allocations in handlers "
	       "(%ld failed), %ld operations: %s\n",
	       sent, handler_allocs, handler_nulls, worker_ops,
	       probe_failures ? "FAILED" : "ok");
	return probe_status();
}
