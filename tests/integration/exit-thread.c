/*
 * exit-thread.c — ways a process ends while threads allocate (PITFALLS 12,
 * 13): _exit from a worker thread, _exit from main, exit() and a return
 * from main with workers still busy, and main leaving through pthread_exit
 * so the last worker runs exit processing. The process must end with the
 * status it asked for: no hang, no crash, no changed status.
 *
 *   exit-thread MODE [--expect-dbgalloc]
 *   MODE: thread-_exit (42) main-_exit (43) exit-busy (44) return-busy (0)
 *         main-pthread_exit (0)
 */

#include <pthread.h>
#include <sched.h>

#include "tests/integration/probe.h"

enum { NWORKERS = 4, NSLOTS = 64 };

static int mode_thread_exit; /* worker 0 calls _exit(42) */
static long finite_ops;      /* > 0: workers stop after this many */
static long progress;        /* operations done by all workers */
static void *exit_block;     /* freed by the atexit handler */

static void *(*volatile fn_malloc)(size_t) = malloc;
static void (*volatile fn_free)(void *) = free;

static void *
worker(void *arg)
{
	uint64_t tag[NSLOTS];
	size_t size[NSLOTS];
	void *slot[NSLOTS] = {0};
	unsigned x = (unsigned)(uintptr_t)arg * 2654435761u + 1;
	long ops;
	int i;

	for (ops = 0; finite_ops == 0 || ops < finite_ops; ops++) {
		x = x * 1103515245u + 12345u;
		i = (int)((x >> 8) % NSLOTS);
		if (slot[i] != NULL) {
			if (!pattern_ok(slot[i], size[i], tag[i]))
				probe_fail(__FILE__, __LINE__, "pattern");
			fn_free(slot[i]);
			slot[i] = NULL;
		} else {
			size[i] =
			        (x >> 16) % 64 == 0 ? 100000 : (x >> 16) % 2000;
			tag[i] = (uint64_t)ops << 8 | (uintptr_t)arg;
			slot[i] = fn_malloc(size[i]);
			if (slot[i] == NULL)
				probe_fail(__FILE__, __LINE__, "malloc");
			else
				pattern_fill(slot[i], size[i], tag[i]);
		}
		__atomic_add_fetch(&progress, 1, __ATOMIC_RELAXED);
		if (mode_thread_exit && arg == NULL && ops == 20000)
			_exit(42);
	}
	for (i = 0; i < NSLOTS; i++)
		fn_free(slot[i]);
	return NULL;
}

static void
free_exit_block(void)
{
	if (!pattern_ok(exit_block, 777, 77))
		_exit(5);
	fn_free(exit_block);
	exit_block = fn_malloc(10);
	fn_free(exit_block);
}

/* Waits until the workers have done some work, so they are mid-stream. */
static void
wait_progress(long ops)
{
	while (__atomic_load_n(&progress, __ATOMIC_RELAXED) < ops)
		sched_yield();
}

int
main(int argc, char **argv)
{
	pthread_t t[NWORKERS];
	const char *mode;
	intptr_t i;

	probe_start(&argc, argv);
	if (argc != 2) {
		fprintf(stderr,
		        "usage: exit-thread MODE [--expect-dbgalloc]\n");
		return 2;
	}
	mode = argv[1];
	mode_thread_exit = strcmp(mode, "thread-_exit") == 0;
	if (strcmp(mode, "main-pthread_exit") == 0)
		finite_ops = 50000;

	exit_block = fn_malloc(777);
	CHECK(exit_block != NULL);
	if (exit_block == NULL)
		return 1;
	pattern_fill(exit_block, 777, 77);
	CHECK(atexit(free_exit_block) == 0);
	for (i = 0; i < NWORKERS; i++)
		CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
	if (probe_failures != 0)
		return 1;

	if (mode_thread_exit) {
		pthread_join(t[0], NULL); /* never returns: _exit(42) */
		return 1;
	}
	wait_progress(40000);
	if (probe_failures != 0)
		return 1;
	if (strcmp(mode, "main-_exit") == 0)
		_exit(43);
	if (strcmp(mode, "exit-busy") == 0)
		exit(44);
	if (strcmp(mode, "return-busy") == 0)
		return 0;
	if (strcmp(mode, "main-pthread_exit") == 0)
		pthread_exit(NULL); /* the last worker to end runs exit(0) */
	fprintf(stderr, "exit-thread: unknown mode '%s'\n", mode);
	return 2;
}
