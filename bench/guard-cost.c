/*
 * bench/guard-cost.c — what a guarded block costs, and where the time
 * goes: the churn loop of bench/churn.c (8-512 bytes, 10k live, each step
 * frees a random block and allocates another) through da_guard_alloc and
 * da_guard_free directly, every block guarded, the default quarantine
 * (64 MiB). Each new block gets a 16-byte header written in front of it
 * and its first byte written, as audit and the program would.
 *
 *   bench/guard-cost [scale [madvise|mprotect]]
 *                     200,000 pairs x scale per mechanism (both, or one)
 *
 * Per mechanism (madvise guard regions, then forced mprotect; each in a
 * child process, after 50,000 pairs of warm-up):
 *   all in     us per malloc/free pair, the loop untimed, and how much
 *              of it the process spent in user and in system time
 *   split      the same loop with the clock read around each part: us in
 *              da_guard_free (the close system call and the quarantine),
 *              in da_guard_alloc (lists, batched reopening, carving), in
 *              the first writes (the page fault), less the clock's cost
 *   counts     protection system calls and minor page faults per pair
 * Then the kernel's prices on their own (a page fault, a guard install
 * over a written page, a batched guard removal, mprotect) and glibc's
 * malloc/free on the same loop, for scale.
 *
 * It links the core library's internals; run by hand (make check builds
 * it so that it keeps compiling).
 */
#include "alloc/guard.h"
#include "bench/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SLOTS    10000
#define PAIRS    200000.0
#define WARMUP   50000
#define MIN_SIZE 8
#define MAX_SIZE 512
#define HDR      16

static char *slot[SLOTS];
static uint64_t state = 0x9e3779b97f4a7c15ULL;

static double
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Minor faults, and user and system time in us, so far. */
static long
usage(double *user, double *sys)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec;
	*sys = (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
	return ru.ru_minflt;
}

static char *
xguard(size_t n)
{
	char *p = da_guard_malloc(n);
	if (p == NULL) {
		fputs("guard-cost: da_guard_malloc failed\n", stderr);
		exit(1);
	}
	return p;
}

/* What audit and the program write in a new block. */
static void
touch(char *p, uint32_t k)
{
	memset(p - HDR, 0, HDR);
	p[0] = (char)k;
}

static void
fill(int guarded)
{
	for (uint32_t i = 0; i < SLOTS; i++) {
		uint64_t r = xorshift64(&state);
		size_t n = MIN_SIZE + below(r, MAX_SIZE - MIN_SIZE + 1);
		slot[i] = guarded ? xguard(n) : malloc(n + HDR) + HDR;
		touch(slot[i], i);
	}
}

/* The next step of the churn: the slot whose block goes, and the size of
 * the one that takes its place. */
static uint32_t
pick(size_t *size)
{
	uint64_t r = xorshift64(&state);
	*size = MIN_SIZE + below(r << 32, MAX_SIZE - MIN_SIZE + 1);
	return below(r, SLOTS);
}

/* n pairs, untimed. Returns a checksum. */
static uint64_t
loop(uint64_t n, int guarded)
{
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i++) {
		size_t size;
		uint32_t k = pick(&size);
		sum += (unsigned char)slot[k][0];
		if (guarded) {
			da_guard_free(slot[k]);
			slot[k] = xguard(size);
		} else {
			free(slot[k] - HDR);
			slot[k] = (char *)malloc(size + HDR) + HDR;
		}
		touch(slot[k], k);
	}
	return sum;
}

/* n pairs with the clock read around each part: us per pair in t[3]
 * (free, alloc, first writes). */
static uint64_t
loop_split(uint64_t n, double t[3])
{
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i++) {
		size_t size;
		uint32_t k = pick(&size);
		sum += (unsigned char)slot[k][0];
		double a = now_us();
		da_guard_free(slot[k]);
		double b = now_us();
		slot[k] = xguard(size);
		double c = now_us();
		touch(slot[k], k);
		double d = now_us();
		t[0] += b - a;
		t[1] += c - b;
		t[2] += d - c;
	}
	return sum;
}

/* The cost of one clock read, in us. */
static double
clock_cost(void)
{
	volatile double x;
	double a = now_us();
	for (int i = 0; i < 100000; i++)
		x = now_us();
	(void)x;
	return (now_us() - a) / 100000;
}

static void
run_mech(int force_mprotect, uint64_t pairs)
{
	struct da_guard_config c = {
	        .side = DA_GUARD_AFTER,
	        .align = 16,
	        .header = HDR,
	        .quarantine = (size_t)64 << 20,
	        .force_mprotect = force_mprotect,
	};
	if (da_guard_init(&c) != 0) {
		fputs("guard-cost: da_guard_init failed\n", stderr);
		exit(1);
	}
	const char *name = da_guardprot_mech == DA_GUARD_MECH_MADVISE
	                           ? "madvise"
	                           : "mprotect";
	fill(1);
	uint64_t sum = loop(WARMUP, 1);

	struct da_guard_stats s0, s1;
	da_guard_stats(&s0);
	double u0, u1, k0, k1;
	long f0 = usage(&u0, &k0);
	double t0 = now_us();
	sum += loop(pairs, 1);
	double all = (now_us() - t0) / (double)pairs;
	long f1 = usage(&u1, &k1);
	da_guard_stats(&s1);

	double t[3] = {0, 0, 0};
	double ck = clock_cost();
	sum += loop_split(pairs, t);
	for (int i = 0; i < 3; i++)
		t[i] = t[i] / (double)pairs - ck;

	printf("%-9s all in %6.3f us/pair (user %.3f, system %.3f) | split: "
	       "free %6.3f  alloc %6.3f  first write %6.3f us | %.3f syscalls, "
	       "%.3f faults per pair\n",
	       name, all, (u1 - u0) / (double)pairs, (k1 - k0) / (double)pairs,
	       t[0], t[1], t[2],
	       (double)(s1.syscalls - s0.syscalls) / (double)pairs,
	       (double)(f1 - f0) / (double)pairs);
	printf("%-9s slots %zu, live %zu, quarantined %zu (%zu MiB), "
	       "pushed out %zu, reserved %zu MiB, mappings %zu (checksum "
	       "%llu)\n",
	       "", s1.slots, s1.live, s1.quarantined, s1.quarantine_bytes >> 20,
	       s1.freed_closed, s1.reserved >> 20, s1.maps,
	       (unsigned long long)sum);
	for (uint32_t i = 0; i < SLOTS; i++)
		da_guard_free(slot[i]);
}

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE  103
#endif

/* The kernel's prices, each on its own, over n pages of one mapping. */
static void
kernel_prices(void)
{
	enum { N = 8192 };
	size_t P = 4096;
	char *m = mmap(NULL, 2 * N * P, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return;
	int guards = madvise(m + P, P, MADV_GUARD_INSTALL) == 0;
	for (size_t i = 0; i < N && guards; i++)
		madvise(m + (2 * i + 1) * P, P, MADV_GUARD_INSTALL);
	double t0 = now_us();
	for (size_t i = 0; i < N; i++)
		m[2 * i * P] = 1;
	double fault = (now_us() - t0) / N;
	printf("kernel    page fault (first write to a fresh page) %.3f us\n",
	       fault);
	if (guards) {
		t0 = now_us();
		for (size_t i = 0; i < N; i++)
			madvise(m + 2 * i * P, P, MADV_GUARD_INSTALL);
		double inst = (now_us() - t0) / N;
		struct iovec v[64];
		t0 = now_us();
		for (size_t i = 0; i < N; i += 64) {
			for (int j = 0; j < 64; j++) {
				v[j].iov_base = m + 2 * (i + j) * P;
				v[j].iov_len = P;
			}
			syscall(SYS_process_madvise, -10001, v, 64,
			        MADV_GUARD_REMOVE, 0);
		}
		double rem = (now_us() - t0) / N;
		t0 = now_us();
		for (size_t i = 0; i < N; i++)
			madvise(m + 2 * i * P, P, MADV_GUARD_INSTALL);
		double inst0 = (now_us() - t0) / N;
		printf("kernel    guard install over a written page %.3f us, "
		       "over an unwritten one %.3f us; removal batched 64 per "
		       "call %.3f us a page\n",
		       inst, inst0, rem);
	}
	munmap(m, 2 * N * P);
	m = mmap(NULL, 2 * N * P, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return;
	for (size_t i = 0; i < N; i++) {
		m[2 * i * P] = 1;
		mprotect(m + (2 * i + 1) * P, P, PROT_NONE);
	}
	t0 = now_us();
	for (size_t i = 0; i < N; i++)
		mprotect(m + 2 * i * P, P, PROT_NONE);
	double close = (now_us() - t0) / N;
	t0 = now_us();
	for (size_t i = 0; i < N; i++)
		mprotect(m + 2 * i * P, P, PROT_READ | PROT_WRITE);
	double open = (now_us() - t0) / N;
	printf("kernel    mprotect of one page: to PROT_NONE %.3f us, back "
	       "%.3f us\n",
	       close, open);
	munmap(m, 2 * N * P);
}

int
main(int argc, char **argv)
{
	uint64_t pairs =
	        (uint64_t)(PAIRS * bench_scale("guard-cost", argc, argv));
	if (pairs == 0)
		pairs = 1;
	printf("churn of %d live blocks of %d-%d bytes, %llu pairs per "
	       "mechanism, side after, align 16, quarantine 64 MiB\n",
	       SLOTS, MIN_SIZE, MAX_SIZE, (unsigned long long)pairs);
	fflush(stdout);
	for (int mech = 0; mech < 2; mech++) {
		if (argc > 2 && strcmp(argv[2], mech ? "mprotect" : "madvise"))
			continue;
		pid_t pid = fork();
		if (pid == 0) {
			run_mech(mech, pairs);
			fflush(stdout);
			_exit(0);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			return 1;
	}
	kernel_prices();
	fill(0);
	uint64_t sum = loop(WARMUP, 0);
	double t0 = now_us();
	sum += loop(pairs, 0);
	printf("glibc     all in %6.3f us/pair (checksum %llu)\n",
	       (now_us() - t0) / (double)pairs, (unsigned long long)sum);
	return 0;
}
