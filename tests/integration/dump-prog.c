/*
 * dump-prog — the program that dump.sh runs under DBGALLOC_DUMP: built
 * without dbgalloc, preloaded or run by the launcher. Its allocating
 * functions are noinline and make no tail call, so each is one call site.
 *
 *   known [ARGS...]
 *                7 blocks of 1000 bytes from keep_kilo and 3 of 24 from
 *                keep_small, kept to the end; 10 more allocated and freed.
 *                One line per kept block: "kilo 0xADDR" or "small 0xADDR".
 *                ARGS are ignored (they show in the dump's command line)
 *   threads PATTERN N
 *                4 threads allocate and free (64 blocks live each, sizes
 *                16 to 4,111) while the main thread calls
 *                dbgalloc_dump(PATTERN) N times: "dump 0" per success,
 *                "dump -1 ERRNO" otherwise
 *   api PATTERN  dbgalloc_dump(NULL), then dbgalloc_dump(PATTERN): one line
 *                each, "null RC ERRNO" and "path RC ERRNO" (ERRNO 0 after
 *                a success)
 *   fork         2 blocks from parent_block, then a child (which adds one
 *                from child_block and exits) waited for: "child status S"
 *   million PATTERN
 *                1,000,000 blocks of 16 bytes from keep_million, then one
 *                dbgalloc_dump(PATTERN), timed: "dumped 1000000 live
 *                blocks in S s"
 *
 * Exit status 0, or 2 for bad arguments.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shim/dbgalloc.h"

#pragma weak dbgalloc_dump

#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")
static volatile unsigned long calls[6];

__attribute__((noinline)) static void *
keep_kilo(void)
{
	void *p = malloc(1000);
	calls[0]++;
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *
keep_small(void)
{
	void *p = malloc(24);
	calls[1]++;
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *
work_alloc(size_t n)
{
	void *p = malloc(n);
	calls[2]++;
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *
parent_block(void)
{
	void *p = malloc(40);
	calls[3]++;
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *
child_block(void)
{
	void *p = malloc(50);
	calls[4]++;
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *
keep_million(void)
{
	void *p = malloc(16);
	calls[5]++;
	KEEP(p);
	return p;
}

static void *kept[16];

static int
known(void)
{
	void *tmp[10];
	for (int i = 0; i < 7; i++)
		kept[i] = keep_kilo();
	for (int i = 0; i < 10; i++)
		tmp[i] = work_alloc(100);
	for (int i = 0; i < 3; i++)
		kept[7 + i] = keep_small();
	for (int i = 0; i < 10; i++)
		free(tmp[i]);
	for (int i = 0; i < 10; i++)
		printf("%s %p\n", i < 7 ? "kilo" : "small", kept[i]);
	return 0;
}

static volatile int stop;

static void *
worker(void *arg)
{
	void *ring[64] = {0};
	unsigned seed = (unsigned)(uintptr_t)arg, i = 0;
	while (!stop) {
		seed = seed * 1103515245u + 12345u;
		free(ring[i % 64]);
		ring[i % 64] = work_alloc(16 + (seed >> 8) % 4096);
		i++;
	}
	for (i = 0; i < 64; i++)
		free(ring[i]);
	return NULL;
}

static int
threads(const char *pattern, int n)
{
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, worker,
		                   (void *)(uintptr_t)(i + 1)) != 0)
			return 2;
	struct timespec ts = {0, 20 * 1000 * 1000};
	for (int k = 0; k < n; k++) {
		nanosleep(&ts, NULL);
		int rc = dbgalloc_dump(pattern);
		if (rc == 0)
			printf("dump 0\n");
		else
			printf("dump %d %s\n", rc, strerror(errno));
	}
	stop = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static int
api(const char *pattern)
{
	errno = 0;
	int rc = dbgalloc_dump(NULL);
	printf("null %d %d\n", rc, rc == 0 ? 0 : errno);
	errno = 0;
	rc = dbgalloc_dump(pattern);
	printf("path %d %d\n", rc, rc == 0 ? 0 : errno);
	return 0;
}

static int
forked(void)
{
	kept[0] = parent_block();
	kept[1] = parent_block();
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		kept[2] = child_block();
		exit(0);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return 2;
	printf("child status %d\n", status);
	return 0;
}

static int
million(const char *pattern)
{
	static void *p[1000000];
	for (int i = 0; i < 1000000; i++)
		p[i] = keep_million();
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int rc = dbgalloc_dump(pattern);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (rc != 0) {
		printf("dump %d %s\n", rc, strerror(errno));
		return 0;
	}
	printf("dumped 1000000 live blocks in %.3f s\n",
	       (double)(b.tv_sec - a.tv_sec) +
	               (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	for (int i = 0; i < 1000000; i++)
		free(p[i]);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "known") == 0)
		return known();
	if (argc == 4 && strcmp(argv[1], "threads") == 0)
		return threads(argv[2], atoi(argv[3]));
	if (argc == 3 && strcmp(argv[1], "api") == 0)
		return api(argv[2]);
	if (argc == 2 && strcmp(argv[1], "fork") == 0)
		return forked();
	if (argc == 3 && strcmp(argv[1], "million") == 0)
		return million(argv[2]);
	fprintf(stderr, "usage: dump-prog known|threads PATTERN N|api "
	                "PATTERN|fork|million PATTERN\n");
	return 2;
}
