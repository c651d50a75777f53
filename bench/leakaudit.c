/*
 * leakaudit — what one leak check costs over a big live heap: 1,000,000
 * blocks of 16–256 bytes, reachable through one array, each holding a
 * pointer to an earlier one; one block in 16 is dropped (its address kept
 * only XOR-masked, which no conservative scan takes for a pointer).
 *
 *   leakaudit [SCALE]      blocks = 1,000,000 × SCALE (default 1; 0 allowed)
 *
 * Then one leak check, timed from inside (wall and CPU): the first that
 * exists of dbgalloc_leak_check(0) (dbgalloc preloaded or linked),
 * __lsan_do_recoverable_leak_check() (a -fsanitize=leak build) and
 * VALGRIND_DO_LEAK_CHECK (under memcheck). All are weak or client requests,
 * so the program runs on any malloc; with none of them it checks nothing.
 * One line on stderr says what was timed (N and C the wall and CPU ns the
 * call took, D "-" when the check cannot count):
 *
 *   leakaudit: scan N ns (cpu C ns) by CHECK, definitely lost D of L
 *           dropped blocks                               (one line)
 *   leakaudit: no leak check (no dbgalloc, LeakSanitizer or memcheck)
 *
 * The dropped blocks are then unmasked and freed with the others, so a
 * check at exit finds nothing. The line on stdout depends only on the sizes
 * and bytes written, never on addresses: every allocator prints the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench/common.h"
#include "shim/dbgalloc.h"

#pragma weak dbgalloc_leak_check
int __lsan_do_recoverable_leak_check(void);
#pragma weak __lsan_do_recoverable_leak_check

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_MEMCHECK 1
#endif
#endif
#ifndef HAVE_MEMCHECK
#define HAVE_MEMCHECK 0
#endif

#define BLOCKS   1000000.0
#define MIN_SIZE 16
#define MAX_SIZE 256
#define DROP     16 /* one block in DROP is dropped */

/* XORed with this, a user-space address becomes a non-canonical one. */
#define MASK UINT64_C(0xa5a5a5a5a5a5a5a5)

static void **kept;       /* the reachable blocks */
static uint64_t *dropped; /* the dropped ones, masked */

static long long
ns_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CPU time of the process and of its reaped children: LeakSanitizer scans
 * from a task of its own (a clone outside the thread group) that it reaps. */
static long long
cpu_ns(void)
{
	struct rusage ru;
	long long ns = ns_of(CLOCK_PROCESS_CPUTIME_ID);

	if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
		ns += (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
		      (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
	return ns;
}

/* What a check took: wall time, and CPU time (on a loaded machine the wall
 * time also counts the waits for a core). */
struct took {
	long long wall, cpu;
};

static void
took_start(struct took *t)
{
	t->wall = ns_of(CLOCK_MONOTONIC);
	t->cpu = cpu_ns();
}

static void
took_stop(struct took *t)
{
	t->wall = ns_of(CLOCK_MONOTONIC) - t->wall;
	t->cpu = cpu_ns() - t->cpu;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		fputs("leakaudit: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

/* Runs the first leak check there is; returns 0, or -1 when there is none.
 * *definite is the definitely lost blocks it found, or -1 if not counted. */
static int
leak_check(const char **name, struct took *t, long long *definite)
{
	*definite = -1;
	if (dbgalloc_leak_check != NULL) {
		*name = "dbgalloc_leak_check";
		took_start(t);
		struct dbgalloc_leaks l = dbgalloc_leak_check(0);
		took_stop(t);
		*definite = (long long)l.definite_blocks;
		return 0;
	}
	if (__lsan_do_recoverable_leak_check != NULL) {
		*name = "__lsan_do_recoverable_leak_check";
		took_start(t);
		__lsan_do_recoverable_leak_check();
		took_stop(t);
		return 0;
	}
#if HAVE_MEMCHECK
	if (RUNNING_ON_VALGRIND) {
		unsigned long leaked = 0, dubious = 0, reachable = 0, supp = 0;

		*name = "VALGRIND_DO_LEAK_CHECK";
		took_start(t);
		VALGRIND_DO_LEAK_CHECK;
		took_stop(t);
		/* Memcheck counts definitely and indirectly lost together;
		 * no dropped block points at another, so none is indirect. */
		VALGRIND_COUNT_LEAK_BLOCKS(leaked, dubious, reachable, supp);
		(void)dubious, (void)reachable, (void)supp;
		*definite = (long long)leaked;
		return 0;
	}
#endif
	return -1;
}

int
main(int argc, char **argv)
{
	size_t n = (size_t)(BLOCKS * bench_scale("leakaudit", argc, argv));
	size_t nkept = 0, ndropped = 0;
	uint64_t state = 0x9e3779b97f4a7c15ULL, bytes = 0, sum = 0;
	const char *name;
	struct took t;
	long long definite;

	kept = xmalloc((n + 1) * sizeof(*kept));
	dropped = xmalloc((n / DROP + 1) * sizeof(*dropped));
	for (size_t i = 0; i < n; i++) {
		uint64_t r = xorshift64(&state);
		size_t size = MIN_SIZE + below(r, MAX_SIZE - MIN_SIZE + 1);
		unsigned char *p = xmalloc(size);

		/* Bytes repeated eight times never look like an address. */
		memset(p, (int)(i & 0xff), size);
		bytes += size;
		if (i % DROP == DROP - 1) {
			dropped[ndropped++] = (uint64_t)(uintptr_t)p ^ MASK;
			continue;
		}
		/* A heap, not a list: the scan follows pointers in blocks. */
		if (nkept > 0) {
			void *to = kept[below(r << 32, (uint32_t)nkept)];
			memcpy(p, &to, sizeof(to));
		}
		kept[nkept++] = p;
	}

	if (leak_check(&name, &t, &definite) == 0) {
		char found[32] = "-";

		if (definite >= 0)
			snprintf(found, sizeof(found), "%lld", definite);
		fprintf(stderr,
		        "leakaudit: scan %lld ns (cpu %lld ns) by %s, "
		        "definitely lost %s of %zu dropped blocks\n",
		        t.wall, t.cpu, name, found, ndropped);
	} else {
		fputs("leakaudit: no leak check (no dbgalloc, LeakSanitizer "
		      "or memcheck)\n",
		      stderr);
	}

	/* Bytes 8 and 15 hold the pattern in every block: read them back. */
	for (size_t i = 0; i < ndropped; i++) {
		unsigned char *p =
		        (unsigned char *)(uintptr_t)(dropped[i] ^ MASK);

		sum += p[8] + p[15];
		free(p);
	}
	for (size_t i = 0; i < nkept; i++) {
		unsigned char *p = kept[i];

		sum += p[8] + p[15];
		free(p);
	}
	free(dropped);
	free(kept);
	printf("leakaudit %zu blocks (%zu dropped) %llu bytes checksum %llu\n",
	       n, ndropped, (unsigned long long)bytes, (unsigned long long)sum);
	return 0;
}
