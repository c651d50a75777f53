/*
 * counters-prog — programs whose allocations are known, for counters.sh to hold
 * the dump's minor-1 records to exact numbers. Built without dbgalloc, to
 * be preloaded. Each allocating function is noinline and makes no tail
 * call, so it is one call site (a return address inside it); each prints
 * "fn NAME 0xADDR" first, so the script can tell its S record (the one
 * whose frame lies in it). Nothing else is printed before the last
 * allocation of interest: stdio's buffer comes after.
 *
 *   sites PATH   three blocks of 1 MiB from big (live bytes cross high-water
 *                steps); the first two freed; then dbgalloc_dump(PATH)
 *   temporaries PATH
 *                tmp0: 100,000 blocks of 64 bytes, each freed before
 *                anything else is allocated; pair_a and pair_b: 5,000
 *                times a block from each, then both freed (pair_a's with
 *                one allocation in between, pair_b's with none); keep: 30
 *                blocks kept; then dbgalloc_dump(PATH)
 *   stages PATH  10 blocks of 1000 bytes (stage_keep), mark "build", 20 of
 *                500 (stage_build) and 5 of the first freed, mark "trim",
 *                the 20 freed, mark "done", dbgalloc_dump(PATH)
 *   threads PATTERN N
 *                4 threads allocate and free (64 blocks live each) while
 *                the main thread calls dbgalloc_dump(PATTERN) N times
 *   owner PATH   main allocates 3 blocks of 200 bytes, then a thread
 *                allocates 5 of 300 (from the 320-byte class, which main
 *                never uses) and exits; dbgalloc_dump(PATH)
 *   leaks        a lost block holding a pointer to another (definitely and
 *                indirectly lost), and one kept in a global (still
 *                reachable); exits (run with DBGALLOC_LEAKS and
 *                DBGALLOC_DUMP)
 *   busy MS      allocates and frees for MS milliseconds
 *
 * Exit status 0, or 2 for bad arguments or a failed dump.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shim/dbgalloc.h"

#pragma weak dbgalloc_dump
#pragma weak dbgalloc_mark

#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")
#define SITE(name, size)                                  \
	__attribute__((noinline)) static void *name(void) \
	{                                                 \
		void *p = malloc(size);                   \
		KEEP(p);                                  \
		return p;                                 \
	}

SITE(big, 1 << 20)
SITE(tmp0, 64)
SITE(pair_a, 64)
SITE(pair_b, 64)
SITE(keep, 64)
SITE(stage_keep, 1000)
SITE(stage_build, 500)
SITE(owner_main, 200)
SITE(owner_thread, 300)
SITE(lost_root, 32)
SITE(lost_child, 48)
SITE(reachable, 80)

#define FN(name) printf("fn %s %p\n", #name, (void *)(uintptr_t)&name)

static void
print_sites(void)
{
	FN(big);
	FN(tmp0);
	FN(pair_a);
	FN(pair_b);
	FN(keep);
	FN(stage_keep);
	FN(stage_build);
	FN(owner_main);
	FN(owner_thread);
	FN(lost_root);
	FN(lost_child);
	FN(reachable);
}

static int
dump(const char *path)
{
	if (dbgalloc_dump == NULL || dbgalloc_dump(path) != 0) {
		fprintf(stderr, "counters-prog: dump failed: %s\n",
		        strerror(errno));
		return 2;
	}
	return 0;
}

static void *kept[64];

static int
sites(const char *path)
{
	for (int i = 0; i < 3; i++)
		kept[i] = big();
	free(kept[0]);
	free(kept[1]);
	int rc = dump(path);
	print_sites();
	return rc;
}

static int
temporaries(const char *path)
{
	for (int i = 0; i < 100000; i++)
		free(tmp0());
	for (int i = 0; i < 5000; i++) {
		void *a = pair_a(), *b = pair_b();
		free(a);
		free(b);
	}
	for (int i = 0; i < 30; i++)
		kept[i] = keep();
	int rc = dump(path);
	print_sites();
	return rc;
}

static int
stages(const char *path)
{
	static void *built[20];
	for (int i = 0; i < 10; i++)
		kept[i] = stage_keep();
	dbgalloc_mark("build");
	for (int i = 0; i < 20; i++)
		built[i] = stage_build();
	for (int i = 0; i < 5; i++)
		free(kept[i]);
	dbgalloc_mark("trim");
	for (int i = 0; i < 20; i++)
		free(built[i]);
	dbgalloc_mark("done");
	int rc = dump(path);
	print_sites();
	return rc;
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
		ring[i % 64] = malloc(16 + (seed >> 8) % 2048);
		KEEP(ring[i % 64]);
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
	int rc = 0;
	for (int k = 0; k < n && rc == 0; k++) {
		nanosleep(&ts, NULL);
		rc = dump(pattern);
	}
	stop = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return rc;
}

static void *
owner_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 5; i++)
		kept[10 + i] = owner_thread();
	return NULL;
}

static int
owner(const char *path)
{
	for (int i = 0; i < 3; i++)
		kept[i] = owner_main();
	pthread_t t;
	if (pthread_create(&t, NULL, owner_worker, NULL) != 0 ||
	    pthread_join(t, NULL) != 0)
		return 2;
	int rc = dump(path);
	print_sites();
	for (int i = 0; i < 3; i++)
		printf("main %p\n", kept[i]);
	for (int i = 0; i < 5; i++)
		printf("thread %p\n", kept[10 + i]);
	return rc;
}

void *volatile global_keep;
static void *volatile sink;

__attribute__((noinline)) static void
make_leaks(void)
{
	void **root = lost_root();
	root[0] = lost_child();
	sink = root;
	sink = NULL;
	global_keep = reachable();
}

/* Overwrites what the calls above left below main's frame. */
__attribute__((noinline)) static void
scrub(void)
{
	volatile char buf[32768];
	memset((char *)buf, 0, sizeof(buf));
	__asm__ volatile("" : : "r"(buf) : "memory");
}

static int
leaks(void)
{
	make_leaks();
	scrub();
	print_sites();
	return 0;
}

static int
busy(long ms)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		for (int i = 0; i < 1000; i++)
			free(tmp0());
		clock_gettime(CLOCK_MONOTONIC, &b);
	} while ((b.tv_sec - a.tv_sec) * 1000 +
	                 (b.tv_nsec - a.tv_nsec) / 1000000 <
	         ms);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "sites") == 0)
		return sites(argv[2]);
	if (argc == 3 && strcmp(argv[1], "temporaries") == 0)
		return temporaries(argv[2]);
	if (argc == 3 && strcmp(argv[1], "stages") == 0)
		return stages(argv[2]);
	if (argc == 4 && strcmp(argv[1], "threads") == 0)
		return threads(argv[2], atoi(argv[3]));
	if (argc == 3 && strcmp(argv[1], "owner") == 0)
		return owner(argv[2]);
	if (argc == 2 && strcmp(argv[1], "leaks") == 0)
		return leaks();
	if (argc == 3 && strcmp(argv[1], "busy") == 0)
		return busy(atol(argv[2]));
	fprintf(stderr, "usage: counters-prog sites|temporaries|stages|owner "
	                "PATH, threads PATTERN N, leaks, busy MS\n");
	return 2;
}
