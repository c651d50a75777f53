/*
 * limit-threads.c — threads under dbgalloc_limit_set for a while: rounds
 * of about a second, each with 2 to 8 threads of
 * tests/integration/limitload.h and a room of 16 to 144 KiB per thread
 * (each would hold about 180 KiB) (malloc, calloc, realloc,
 * aligned_alloc, frees by other threads). Each round checks the invariant
 * (the workers' own count of their live bytes never above the room, and
 * dbgalloc_stats_get's live_bytes, sampled every 100 us, never above the
 * limit), that every refusal was ENOMEM and some happened, none of them
 * a shrinking realloc, that no block lost its size or check byte, and
 * that once the threads are gone the whole room is there again to the
 * byte.
 *
 *   limit-threads [--expect-dbgalloc]
 *   DA_TEST_SECONDS=N   how long (3; 600 under DA_TEST_SOAK=1, make soak)
 *
 * Built linked and plain (preload.sh runs it under LD_PRELOAD; the plain
 * build finds dbgalloc_limit_set and dbgalloc_stats_get in the preloaded
 * library).
 */

#include <pthread.h>
#include <time.h>

#include "tests/integration/limitload.h"
#include "tests/integration/probe.h"

#ifndef DA_TEST_LINKED
#pragma weak dbgalloc_limit_set
#pragma weak dbgalloc_stats_get
#endif

enum { MAX_THREADS = 8 };

/* The room per thread. */
static const size_t rooms[] = {16 << 10, 48 << 10, 96 << 10, 144 << 10};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
live_bytes(void)
{
	struct dbgalloc_stats st;

	dbgalloc_stats_get(&st);
	return st.live_bytes;
}

/* One round: threads workers under a room of room bytes for secs. */
static void
round_run(int round, int threads, size_t room, double secs)
{
	static struct limitload l;
	struct limitload_worker_arg a[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	size_t limit;

	memset(&l, 0, sizeof(l));
	l.ops = 0;
	l.room = room;
	limit = live_bytes() + room;
	dbgalloc_limit_set(limit);
	if (limitload_start(&l, threads, t, a, (uint64_t)round) != 0) {
		CHECK(!"pthread_create");
		atomic_store(&l.stop, 1);
		return;
	}
	struct timespec step = {0, 100 * 1000};
	unsigned long samples = 0, over = 0;
	for (double end = now() + secs; now() < end; samples++) {
		if (live_bytes() > limit)
			over++;
		nanosleep(&step, NULL);
	}
	atomic_store(&l.stop, 1);
	for (int i = 0; i < threads; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	limitload_drain(&l);

	CHECK(atomic_load(&l.over) == 0);
	CHECK(over == 0);
	CHECK(samples > 0);
	CHECK(atomic_load(&l.bad_errno) == 0);
	CHECK(atomic_load(&l.shrink_refused) == 0);
	CHECK(atomic_load(&l.corrupt) == 0);
	CHECK(atomic_load(&l.refused) > 0);
	CHECK(atomic_load(&l.refused) < atomic_load(&l.allocs));
	CHECK(atomic_load(&l.live) == 0);

	/* The threads are gone: the room is all there, and not a byte more. */
	size_t left = limit - live_bytes();
	CHECK(left + (64 << 10) >= room);
	void *p = malloc(left);
	CHECK(p != NULL);
	CHECK(malloc(1) == NULL);
	free(p);
	dbgalloc_limit_set(0);

	printf("round %d: %d threads, room %zu: %lu allocations, %lu "
	       "refused; %lu samples, %lu above the limit\n",
	       round, threads, room, atomic_load(&l.allocs),
	       atomic_load(&l.refused), samples, over);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	const char *s = getenv("DA_TEST_SECONDS");
	int soak = getenv("DA_TEST_SOAK") != NULL &&
	           strcmp(getenv("DA_TEST_SOAK"), "0") != 0;
	double seconds = s != NULL ? atof(s) : soak ? 600 : 3;

	probe_start(&argc, argv);
	if (!probe_active()) {
		printf("FAIL: the limit needs dbgalloc (run with "
		       "LD_PRELOAD)\n");
		return 1;
	}
	probe_watchdog((unsigned)seconds + 120);
	double end = now() + seconds;
	int round = 0;
	do {
		int threads = 2 + round % (MAX_THREADS - 1);
		size_t room = (size_t)threads *
		              rooms[round % (sizeof(rooms) / sizeof(rooms[0]))];

		round_run(round, threads, room, seconds < 1 ? seconds : 1);
		round++;
	} while (now() < end && probe_failures == 0);
	printf("%d rounds: %s\n", round, probe_failures ? "FAILED" : "ok");
	return probe_status();
}
