/*
 * bench/unwind-cost.c — what a call-site capture costs, to choose the
 * default depth: ns per da_unwind on a frame-pointer chain at depths 1, 4,
 * 8 and 16, and on the wrapper path (ret0 inside libc: qsort's comparator
 * plays malloc called by strdup); ns per da_depot_put of a stack already
 * stored; and the wall time of 8 threads inserting and looking up stacks.
 *
 *   bench/unwind-cost [scale]        the table (medians of 7 runs)
 *   bench/unwind-cost one WHAT N     N operations of one kind, for
 *       valgrind --tool=callgrind --toggle-collect=one_loop; WHAT is
 *       fp1 fp4 fp8 fp16 wrap1 wrap8 put1 put2 put8
 *
 * It links the core library's internals (not the allocator: malloc here
 * is glibc's) and is built with frame pointers, like the library.
 */
#include "audit/depot.h"
#include "audit/unwind.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOINLINE  __attribute__((noinline, noclone))
#define BARRIER() __asm__ __volatile__("" ::: "memory")
#define RUNS      7

static double
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* What one measurement does: kind, depth, count. */
enum kind { FP, WRAP, PUT };
static enum kind what;
static unsigned depth;
static long count;
static volatile unsigned sink;

static uintptr_t put_pcs[8];

/* The measured loop, alone in its function for --toggle-collect. For FP
 * and WRAP it runs inside the entry point (ret0, fp are its caller's). */
static NOINLINE void
one_loop(uintptr_t ret0, uintptr_t fp)
{
	uintptr_t pcs[DA_DEPOT_MAX_FRAMES];
	unsigned acc = 0;
	if (what == PUT) {
		for (long i = 0; i < count; i++) {
			acc += da_depot_put(put_pcs, depth);
			BARRIER();
		}
	} else {
		for (long i = 0; i < count; i++) {
			acc += da_unwind(pcs, depth, ret0, fp);
			BARRIER();
		}
	}
	sink = acc;
}

/* Plays the exported entry point: captures start at its caller. */
static NOINLINE void
entry(void)
{
	one_loop((uintptr_t)__builtin_return_address(0),
	         (uintptr_t)__builtin_frame_address(0));
	BARRIER();
}

/* levels frames of the program's own code above the entry point. */
static NOINLINE void
chain(int levels)
{
	if (levels > 0)
		chain(levels - 1);
	else
		entry();
	BARRIER();
}

/* qsort's comparator as the entry point: its caller is libc's. */
static int cmp_started;

static int
cmp_entry(const void *a, const void *b)
{
	if (!cmp_started) {
		cmp_started = 1;
		one_loop((uintptr_t)__builtin_return_address(0),
		         (uintptr_t)__builtin_frame_address(0));
	}
	BARRIER();
	return *(const int *)a - *(const int *)b;
}

static NOINLINE void
wrapper_call(void)
{
	int v[8] = {3, 1, 4, 1, 5, 9, 2, 6};
	cmp_started = 0;
	qsort(v, 8, sizeof(*v), cmp_entry);
	BARRIER();
}

static void
run_once(void)
{
	switch (what) {
	case FP:
		chain(24);
		break;
	case WRAP:
		wrapper_call();
		break;
	case PUT:
		one_loop(0, 0);
		break;
	}
}

/* ns per operation, median of RUNS runs of n operations. */
static double
measure(enum kind k, unsigned d, long n)
{
	double v[RUNS];
	what = k;
	depth = d;
	count = n;
	run_once(); /* warm: bounds, caches, the depot's record */
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns();
		run_once();
		v[r] = (now_ns() - t0) / (double)n;
	}
	return median(v, RUNS);
}

/* 8 threads: each inserts the same set of stacks in its own order, then
 * looks every one up again, LOOKUPS times. */
#define SET     50000
#define LOOKUPS 10
static pthread_barrier_t go;

static void
set_stack(unsigned k, uintptr_t *pcs)
{
	for (unsigned i = 0; i < 8; i++)
		pcs[i] = 0x400000 + (uintptr_t)k * 64 + i * 8 +
		         ((uintptr_t)k * 2654435761u % 977) * 4096;
}

static unsigned set_base;

static void *
depot_thread(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	uintptr_t pcs[8];
	unsigned acc = 0;
	pthread_barrier_wait(&go);
	for (unsigned j = 0; j < SET; j++) {
		unsigned k = (j * 7919u + t * (SET / 8)) % SET;
		set_stack(set_base + k, pcs);
		acc += da_depot_put(pcs, 8);
	}
	pthread_barrier_wait(&go);
	for (int l = 0; l < LOOKUPS; l++)
		for (unsigned j = 0; j < SET; j++) {
			unsigned k = (j * 104729u + t) % SET;
			set_stack(set_base + k, pcs);
			acc += da_depot_put(pcs, 8);
		}
	pthread_barrier_wait(&go);
	sink = acc;
	return NULL;
}

static void
depot_threads(unsigned threads)
{
	pthread_t th[8];
	pthread_barrier_init(&go, NULL, threads + 1);
	uint32_t before = da_depot_count();
	for (unsigned t = 0; t < threads; t++)
		pthread_create(&th[t], NULL, depot_thread,
		               (void *)(uintptr_t)t);
	pthread_barrier_wait(&go);
	double t0 = now_ns();
	pthread_barrier_wait(&go);
	double t1 = now_ns();
	pthread_barrier_wait(&go);
	double t2 = now_ns();
	for (unsigned t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&go);
	uint32_t added = da_depot_count() - before;
	printf("  %u thread%s: insert %u stacks (8 frames) %.1f ms "
	       "(%.0f ns/put), %d lookups each %.1f ms (%.0f ns/put)%s\n",
	       threads, threads > 1 ? "s" : " ", SET, (t1 - t0) / 1e6,
	       (t1 - t0) / SET / threads, LOOKUPS, (t2 - t1) / 1e6,
	       (t2 - t1) / ((double)SET * LOOKUPS * threads),
	       added == SET ? "" : "  WRONG COUNT");
	set_base += SET;
}

/* Runs the measurement on a thread of its own: under valgrind the main
 * thread's stack is not the kernel's "[stack]", and libunwind would not
 * be given room on it. */
static void *
one_thread(void *arg)
{
	count = 1;
	run_once();
	count = (long)(uintptr_t)arg;
	run_once();
	return NULL;
}

static int
one(const char *w, long n)
{
	static const struct {
		const char *name;
		enum kind k;
		unsigned d;
	} kinds[] = {
	        {"fp1", FP, 1},   {"fp4", FP, 4},     {"fp8", FP, 8},
	        {"fp16", FP, 16}, {"wrap1", WRAP, 1}, {"wrap8", WRAP, 8},
	        {"put1", PUT, 1}, {"put2", PUT, 2},   {"put8", PUT, 8},
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
		if (strcmp(w, kinds[i].name) == 0) {
			what = kinds[i].k;
			depth = kinds[i].d;
			pthread_t th;
			pthread_create(&th, NULL, one_thread,
			               (void *)(uintptr_t)n);
			pthread_join(th, NULL);
			return 0;
		}
	fprintf(stderr, "unwind-cost: unknown measurement %s\n", w);
	return 2;
}

int
main(int argc, char **argv)
{
	for (unsigned i = 0; i < 8; i++)
		put_pcs[i] = (uintptr_t)&main + 16 * i;
	da_unwind_init();
	if (argc == 4 && strcmp(argv[1], "one") == 0)
		return one(argv[2], atol(argv[3]));
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	long n = (long)(200000 * scale) + 1;
	printf("da_unwind, ns per capture (median of %d runs of %ld)\n", RUNS,
	       n);
	static const unsigned depths[] = {1, 4, 8, 16};
	for (size_t i = 0; i < sizeof(depths) / sizeof(*depths); i++)
		printf("  frame pointers, depth %2u: %7.1f\n", depths[i],
		       measure(FP, depths[i], n));
	printf("  wrapper (libunwind: %s), depth 1: %7.1f\n",
	       da_unwind_has_dwarf() ? "yes" : "no", measure(WRAP, 1, n / 4));
	printf("  wrapper (libunwind: %s), depth 8: %7.1f\n",
	       da_unwind_has_dwarf() ? "yes" : "no", measure(WRAP, 8, n / 4));
	printf("da_depot_put of a stored stack, ns\n");
	static const unsigned frames[] = {1, 2, 8};
	for (size_t i = 0; i < sizeof(frames) / sizeof(*frames); i++)
		printf("  %u frame%s: %5.1f\n", frames[i],
		       frames[i] > 1 ? "s" : " ",
		       measure(PUT, frames[i], n * 5));
	printf("da_depot_put, threads at once (wall time)\n");
	depot_threads(1);
	depot_threads(8);
	printf("depot: %u stacks, %zu bytes mapped\n", da_depot_count(),
	       da_depot_bytes());
	return 0;
}
