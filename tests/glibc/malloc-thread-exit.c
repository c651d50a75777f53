/*
 * malloc-thread-exit.c — what glibc's malloc/tst-malloc-thread-exit checks
 * (races between thread exit and the allocator's per-thread state), plus
 * allocation in thread-specific-data destructors. Two outer threads start
 * and join rounds of four short-lived threads: half allocate before a
 * barrier and free after it, half allocate after it, so threads attach and
 * leave together. Each also leaves blocks in two pthread keys whose
 * destructors run after the thread's own code (and perhaps after the
 * allocator's thread-exit handler): one checks and frees its block, then
 * allocates and frees small, medium and large blocks; the other sets a new
 * block once, forcing a second round of destructors, and frees it there.
 *
 * Runs DA_TEST_SECONDS (3 s). Fails on a NULL allocation, a changed block,
 * a destructor that did not run, a hang (watchdog), or a resident set that
 * grows past RSS_LIMIT_MB (which also keeps a leak per thread from taking
 * the machine's memory).   malloc-thread-exit [--expect-dbgalloc]
 */

#include <malloc.h>
#include <pthread.h>
#include <time.h>

#include "tests/glibc/tier.h"

enum {
	OUTER_THREADS = 2,
	INNER_THREADS = 4,
	SMALL = 32, /* glibc's size */
	GRACE_S = 15,
	RSS_LIMIT_MB = 256,
};

static int stop;
static pthread_key_t key_frees, key_again;
static long threads_run, frees_dtor_runs, again_dtor_runs;

static void *(*volatile fn_malloc)(size_t) = malloc;
static void (*volatile fn_free)(void *) = free;

static void
show_progress(void)
{
	tier_say_num("  threads run: ",
	             __atomic_load_n(&threads_run, __ATOMIC_RELAXED), "\n");
}

static int
stopping(void)
{
	return __atomic_load_n(&stop, __ATOMIC_RELAXED);
}

/* A filled block of n bytes, or NULL after reporting the failure. */
static void *
block(size_t n, uint64_t tag)
{
	void *p = fn_malloc(n);

	if (p == NULL) {
		tier_fail(__FILE__, __LINE__, "malloc returned NULL");
		return NULL;
	}
	pattern_fill(p, n, tag);
	return p;
}

static void
unblock(void *p, size_t n, uint64_t tag)
{
	if (p != NULL && !pattern_ok(p, n, tag))
		tier_fail(__FILE__, __LINE__, "block changed");
	fn_free(p);
}

/* Destructor of key_frees: frees the thread's block, then allocates. */
static void
frees_and_allocates(void *v)
{
	static const size_t sizes[] = {SMALL, 5000, 100000};
	void *p[3];
	size_t i;

	unblock(v, 48, 48);
	for (i = 0; i < 3; i++)
		p[i] = block(sizes[i], i);
	for (i = 0; i < 3; i++)
		unblock(p[i], sizes[i], i);
	__atomic_add_fetch(&frees_dtor_runs, 1, __ATOMIC_RELAXED);
}

/*
 * Destructor of key_again: the first run sets a new block (glibc then
 * runs another round of destructors), the second frees it.
 */
static void
allocates_again(void *v)
{
	if (*(char *)v == 1) {
		fn_free(v);
		v = block(200, 200);
		if (v != NULL) {
			*(char *)v = 2;
			pthread_setspecific(key_again, v);
		}
	} else {
		if (*(char *)v != 2)
			tier_fail(__FILE__, __LINE__, "block changed");
		fn_free(v);
	}
	__atomic_add_fetch(&again_dtor_runs, 1, __ATOMIC_RELAXED);
}

static void
set_keys(void)
{
	void *a = block(48, 48), *b = fn_malloc(1);

	if (a != NULL)
		pthread_setspecific(key_frees, a);
	if (b != NULL) {
		*(char *)b = 1;
		pthread_setspecific(key_again, b);
	}
}

static void *
malloc_first(void *barrier)
{
	void *p = block(SMALL, 1);

	set_keys();
	pthread_barrier_wait(barrier);
	unblock(p, SMALL, 1);
	__atomic_add_fetch(&threads_run, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *
wait_first(void *barrier)
{
	void *p;

	pthread_barrier_wait(barrier);
	p = block(SMALL, 2);
	unblock(p, SMALL, 2);
	set_keys();
	__atomic_add_fetch(&threads_run, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *
outer(void *arg)
{
	pthread_t t[INNER_THREADS];
	pthread_barrier_t barrier;
	int i, e;

	(void)arg;
	while (!stopping()) {
		pthread_barrier_init(&barrier, NULL, INNER_THREADS + 1);
		for (i = 0; i < INNER_THREADS; i++) {
			e = pthread_create(&t[i], NULL,
			                   i % 2 == 0 ? malloc_first
			                              : wait_first,
			                   &barrier);
			if (e != 0) {
				/* The barrier cannot be passed: give up. */
				tier_say("FAIL: pthread_create failed\n");
				_exit(1);
			}
		}
		pthread_barrier_wait(&barrier);
		for (i = 0; i < INNER_THREADS; i++)
			CHECK(pthread_join(t[i], NULL) == 0);
		pthread_barrier_destroy(&barrier);
	}
	return NULL;
}

/* The resident set in MiB (from /proc/self/statm), or -1. */
static long
rss_mb(void)
{
	long pages = -1, resident = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1
	                    : resident * (sysconf(_SC_PAGESIZE) / 1024) / 1024;
}

int
main(int argc, char **argv)
{
	struct timespec tick = {0, 100000000};
	pthread_t t[OUTER_THREADS];
	unsigned seconds = tier_seconds(3), ticks;
	long rss, rss_start, rss_max = 0;
	int i;

	tier_start(&argc, argv, "malloc-thread-exit");
	tier_on_timeout = show_progress;
	tier_watchdog(seconds + GRACE_S);
	/* glibc's test lowers the arena limit; the call must be accepted. */
	CHECK(mallopt(M_ARENA_MAX, 8) != 0);
	CHECK(pthread_key_create(&key_frees, frees_and_allocates) == 0);
	CHECK(pthread_key_create(&key_again, allocates_again) == 0);
	rss_start = rss_mb();
	for (i = 0; i < OUTER_THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, outer, NULL) == 0);
	for (ticks = 0; ticks < seconds * 10; ticks++) {
		nanosleep(&tick, NULL);
		rss = rss_mb();
		if (rss > rss_max)
			rss_max = rss;
		if (rss > RSS_LIMIT_MB) {
			tier_failf("resident set %ld MiB after %ld threads "
			           "(limit %d MiB): memory kept per exited "
			           "thread?",
			           rss, threads_run, RSS_LIMIT_MB);
			break;
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < OUTER_THREADS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);

	printf("malloc-thread-exit: %ld threads in %u s; destructor runs %ld "
	       "and %ld; resident set %ld MiB at start, %ld MiB at most\n",
	       threads_run, seconds, frees_dtor_runs, again_dtor_runs,
	       rss_start, rss_max);
	CHECK(threads_run > 0);
	/* Every thread's destructors ran: one run, and two rounds. */
	CHECK(frees_dtor_runs == threads_run);
	CHECK(again_dtor_runs == 2 * threads_run);
	if (probe_status() == 0)
		puts("malloc-thread-exit: ok");
	return probe_status();
}
