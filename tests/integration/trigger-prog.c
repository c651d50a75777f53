/*
 * trigger-prog — the program that triggers.sh runs under the dump and
 * leak-check triggers: built without dbgalloc, to be preloaded. Its
 * allocating functions are noinline and make no tail call, so each is one
 * call site. Commands come on standard input, one a line; "quit" (or the
 * end of the input) ends the program.
 *
 *   serve [THREADS]
 *          Leaks, on purpose and before anything else: lose_list, a list
 *          head of 96 bytes holding 3 nodes of 40 bytes from list_node
 *          (definitely lost 96, referencing 3 blocks, 120 bytes, indirectly
 *          lost), and lose_lone, 5 blocks of 72 bytes (definitely lost 360).
 *          Keeps, reachable: 10 blocks of 32 bytes from keep_global in a
 *          global array, and one of 48 bytes from worker_held in each
 *          worker's stack only. Then THREADS workers (default 4) fill and
 *          sum arrays they allocate (every size from 16 to 4,111), check
 *          each sum and free them, until quit. Prints "ready" once the
 *          workers run; at quit, "rounds N" (every worker's rounds) and
 *          "results ok", or "results BAD" if a sum was ever wrong.
 *   fork   serve without workers in a child of fork, after 1,000
 *          allocations and frees of its own: the child prints "child PID"
 *          and serves; the parent waits for it and prints "child status S".
 *   storm SECONDS THREADS
 *          serve with THREADS workers, while the main thread sends the
 *          process SIGUSR2, then SIGUSR1, every 25 ms, for SECONDS; then
 *          "sent N" (the signals sent) and the lines of quit.
 *   nocatch
 *          serve without workers, SIGUSR1 set back to its default action
 *          first (so that it would end the process).
 *   rss MIB
 *          Keeps MIB mebibytes live in blocks of 64 KiB (each page written)
 *          with 4 workers as serve, then prints "ready".
 *
 * Exit status 0, or 2 for bad arguments.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")
static volatile unsigned long calls[8];

__attribute__((noinline)) static void *
list_node(void)
{
	calls[0]++;
	void *p = malloc(40);
	KEEP(p);
	return p;
}

/* Leaves nothing pointing at the head: its address is overwritten. */
__attribute__((noinline)) static void
lose_list(void)
{
	calls[1]++;
	void **head = malloc(96);
	memset(head, 0, 96);
	for (int i = 0; i < 3; i++)
		head[i] = list_node();
	KEEP(head);
	head = NULL;
	KEEP(head);
}

__attribute__((noinline)) static void
lose_lone(void)
{
	calls[2]++;
	char *p = malloc(72);
	memset(p, 0x5a, 72);
	KEEP(p);
}

static void *kept[10];

__attribute__((noinline)) static void *
keep_global(void)
{
	calls[3]++;
	void *p = malloc(32);
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *
worker_held(void)
{
	calls[4]++;
	void *p = malloc(48);
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *
big_block(size_t n)
{
	calls[5]++;
	char *p = malloc(n);
	if (p != NULL)
		for (size_t i = 0; i < n; i += 4096)
			p[i] = 1;
	KEEP(p);
	return p;
}

static atomic_int quitting;
static atomic_ulong rounds;
static atomic_int bad;

static void *
worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	volatile uintptr_t held = (uintptr_t)worker_held();
	while (!atomic_load(&quitting)) {
		size_t n = 16 + (seed = seed * 1103515245u + 12345u) % 4096;
		unsigned char *a = malloc(n);
		if (a == NULL) {
			atomic_store(&bad, 1);
			break;
		}
		unsigned long want = 0, got = 0;
		for (size_t i = 0; i < n; i++) {
			a[i] = (unsigned char)(i * 7 + n);
			want += (unsigned char)(i * 7 + n);
		}
		for (size_t i = 0; i < n; i++)
			got += a[i];
		if (got != want)
			atomic_store(&bad, 1);
		free(a);
		atomic_fetch_add(&rounds, 1);
	}
	free((void *)held);
	return NULL;
}

/* Reads commands until quit or the end of the input. */
static void
serve_input(void)
{
	char line[128];
	while (fgets(line, sizeof(line), stdin) != NULL)
		if (strncmp(line, "quit", 4) == 0)
			break;
}

static pthread_t workers[16];

/* The leaks, the kept blocks, the workers; then "ready". */
static int
serve_start(int threads, int leaks)
{
	if (leaks) {
		lose_list();
		for (int i = 0; i < 5; i++)
			lose_lone();
	}
	for (int i = 0; i < 10; i++)
		kept[i] = keep_global();
	for (int i = 0; i < threads; i++)
		if (pthread_create(&workers[i], NULL, worker,
		                   (void *)(uintptr_t)(i + 1)) != 0)
			return 1;
	printf("ready\n");
	fflush(stdout);
	return 0;
}

static int
serve_stop(int threads)
{
	atomic_store(&quitting, 1);
	for (int i = 0; i < threads; i++)
		pthread_join(workers[i], NULL);
	printf("rounds %lu\nresults %s\n", atomic_load(&rounds),
	       atomic_load(&bad) ? "BAD" : "ok");
	for (int i = 0; i < 10; i++)
		free(kept[i]);
	return 0;
}

static int
serve(int threads, int leaks)
{
	if (serve_start(threads, leaks) != 0)
		return 1;
	serve_input();
	return serve_stop(threads);
}

/* serve, with the process sending itself SIGUSR2 then SIGUSR1 every 25
 * ms (each) for the time given, then quitting. */
static int
storm(double seconds, int threads)
{
	if (serve_start(threads, 1) != 0)
		return 1;
	struct timespec t0, now, gap = {0, 25 * 1000 * 1000};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned long sent = 0;
	do {
		kill(getpid(), sent % 2 ? SIGUSR1 : SIGUSR2);
		sent++;
		nanosleep(&gap, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((double)(now.tv_sec - t0.tv_sec) +
	                 (double)(now.tv_nsec - t0.tv_nsec) / 1e9 <
	         seconds);
	printf("sent %lu\n", sent);
	return serve_stop(threads);
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "serve") == 0) {
		int threads = argc >= 3 ? atoi(argv[2]) : 4;
		if (threads < 0 || threads > 16)
			return 2;
		return serve(threads, 1);
	}
	if (argc == 2 && strcmp(argv[1], "fork") == 0) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			for (int i = 0; i < 1000; i++)
				free(keep_global());
			printf("child %d\n", (int)getpid());
			fflush(stdout);
			exit(serve(0, 0));
		}
		int status = 0;
		waitpid(pid, &status, 0);
		printf("child status %d\n", status);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "storm") == 0) {
		double seconds = atof(argv[2]);
		int threads = atoi(argv[3]);
		if (seconds <= 0 || threads < 0 || threads > 16)
			return 2;
		return storm(seconds, threads);
	}
	if (argc == 2 && strcmp(argv[1], "nocatch") == 0) {
		signal(SIGUSR1, SIG_DFL);
		return serve(0, 0);
	}
	if (argc == 3 && strcmp(argv[1], "rss") == 0) {
		long mib = atol(argv[2]);
		if (mib <= 0 || mib > 4096)
			return 2;
		size_t n = (size_t)mib * 16;
		void **b = malloc(n * sizeof(void *));
		for (size_t i = 0; i < n; i++)
			if ((b[i] = big_block(64 * 1024)) == NULL)
				return 1;
		int rc = serve(4, 0);
		for (size_t i = 0; i < n; i++)
			free(b[i]);
		free(b);
		return rc;
	}
	fprintf(stderr,
	        "usage: trigger-prog serve [THREADS] | fork | nocatch | "
	        "storm SECONDS THREADS | "
	        "rss MIB\n");
	return 2;
}
