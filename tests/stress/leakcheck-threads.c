/*
 * leakcheck-threads — dbgalloc_leak_check while 4 threads allocate and
 * free as fast as they can, each keeping 2,000 blocks reachable through
 * its own array (on its stack) and handing some to another thread (a
 * global queue) to free. Nothing is ever lost, so every check must find
 * nothing definitely or indirectly lost: a block the snapshot caught in
 * flight, or a thread's registers and stack missed, would show up as a
 * leak. 200 checks; the threads run throughout.
 */
#include "shim/dbgalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define KEEP    2000
#define CHECKS  200

static atomic_int stop;
static _Atomic(void *) handoff[64];

static void *
worker(void *arg)
{
	void *keep[KEEP] = {0};
	uint64_t x = (uintptr_t)arg * 0x9e3779b97f4a7c15u + 1;
	while (!atomic_load(&stop)) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		unsigned i = (unsigned)(x % KEEP);
		size_t size = 8 + (size_t)((x >> 20) % 600);
		void *old = keep[i];
		keep[i] = malloc(size);
		if (keep[i] != NULL)
			memset(keep[i], 0, size < 16 ? size : 16);
		/* Some blocks go to another thread through the queue. */
		unsigned q = (unsigned)((x >> 40) % 64);
		if (old != NULL)
			old = atomic_exchange(&handoff[q], old);
		free(old);
	}
	for (unsigned i = 0; i < KEEP; i++)
		free(keep[i]);
	return NULL;
}

int
main(void)
{
	pthread_t t[THREADS];
	for (uintptr_t i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(i + 1)) != 0)
			return 1;
	int bad = 0;
	for (int c = 0; c < CHECKS; c++) {
		struct dbgalloc_leaks l = dbgalloc_leak_check(0);
		if (l.definite_blocks + l.indirect_blocks != 0) {
			fprintf(stderr,
			        "check %d: %zu definitely and %zu indirectly "
			        "lost "
			        "blocks while nothing was lost\n",
			        c, l.definite_blocks, l.indirect_blocks);
			bad = 1;
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int q = 0; q < 64; q++)
		free(atomic_load(&handoff[q]));
	printf("%d leak checks under 4 allocating threads: %s\n", CHECKS,
	       bad ? "FAIL" : "ok");
	return bad;
}
