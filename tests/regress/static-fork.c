/*
 * static-fork.c — a fully static program (-static, libdbgalloc.a) must get
 * dbgalloc's fork handling too: threads allocate while the main thread
 * forks, and every child must allocate and exit.
 *
 * Three threads allocate and free blocks of every kind (small, large, huge,
 * calloc and realloc), a fourth watches the heap with mallinfo2() as a
 * monitoring thread would; the main thread forks, and each child allocates
 * blocks that need the allocator's slow paths (and so its locks), then
 * calls _exit(0). A child still running after 5 s is killed and counted as
 * hung; the run stops after 3 bad children. Defect: in a static link the
 * object holding the only pthread_atfork() call was not pulled out of
 * libdbgalloc.a, so children inherited locks held by other threads and
 * spun forever.
 *
 * Built twice: fully static with libdbgalloc.a (static-fork, run as is) and
 * fully static with glibc's malloc (static-fork-plain, the baseline).
 *
 *   static-fork
 *   DA_TEST_FORKS=N    forks (200; 10000 under soak)
 */

#include <malloc.h>
#include <pthread.h>

#include "tests/regress/regress.h"

enum {
	NWORKERS = 3,
	NSLOTS = 32,
	CHILD_DEADLINE_MS = 5000,
	MAX_BAD = 3,
};

static int stop;
static long ops;

static size_t
pick_size(unsigned r)
{
	switch (r % 16) {
	case 0:
		return ((size_t)3 << 20) + r % 65536;
	case 1:
	case 2:
	case 3:
		return ((size_t)128 << 10) + r % (900 << 10);
	default:
		return 1 + r % 4000;
	}
}

static void *
worker(void *arg)
{
	struct timespec nap = {0, 100000};
	unsigned x = (unsigned)(uintptr_t)arg * 48271u + 11;
	void *slot[NSLOTS] = {0}, *p;
	unsigned long i;
	unsigned r;

	for (i = 0; !__atomic_load_n(&stop, __ATOMIC_ACQUIRE); i++) {
		x = x * 1103515245u + 12345u;
		r = x >> 4;
		p = slot[r % NSLOTS];
		if (p != NULL && r % 5 == 0)
			p = rg_realloc(p, pick_size(r >> 5));
		else {
			rg_free(p);
			p = r % 3 == 0 ? rg_calloc(1, pick_size(r >> 5))
			               : rg_malloc(pick_size(r >> 5));
		}
		if (p == NULL)
			probe_fail(__FILE__, __LINE__, "allocation failed");
		else
			*(volatile char *)p = 1;
		slot[r % NSLOTS] = p;
		if (i % 64 == 0) {
			__atomic_add_fetch(&ops, 64, __ATOMIC_RELAXED);
			nanosleep(&nap, NULL);
		}
	}
	for (i = 0; i < NSLOTS; i++)
		rg_free(slot[i]);
	return NULL;
}

static void *
monitor(void *arg)
{
	struct timespec nap = {0, 500000};
	volatile size_t sink = 0;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		struct mallinfo2 mi = mallinfo2();

		sink += mi.uordblks;
		nanosleep(&nap, NULL);
	}
	(void)sink;
	return NULL;
}

static void
child(void)
{
	void *a, *b, *c;

	a = rg_malloc((size_t)1 << 20);
	b = rg_malloc((size_t)5 << 20);
	c = rg_calloc(100, 300);
	if (a == NULL || b == NULL || c == NULL)
		_exit(3);
	memset(a, 1, 4096);
	memset(b, 2, 4096);
	rg_free(c);
	rg_free(b);
	rg_free(a);
	_exit(0);
}

int
main(int argc, char **argv)
{
	struct timespec nap = {0, 50000};
	pthread_t t[NWORKERS + 1];
	long forks, k, before, hung = 0, died = 0, done = 0;
	double start;
	void *p;
	pid_t pid;
	int i;

	probe_start(&argc, argv);
	forks = rg_param("DA_TEST_FORKS", 200, 10000);
	p = rg_malloc(100);
	CHECK(p != NULL && probe_owned(p));
	rg_free(p);
	printf("%ld forks while %d threads allocate (static link)\n", forks,
	       NWORKERS);
	fflush(stdout);
	start = rg_now();

	for (i = 0; i < NWORKERS; i++)
		CHECK(pthread_create(&t[i], NULL, worker,
		                     (void *)(uintptr_t)i) == 0);
	CHECK(pthread_create(&t[NWORKERS], NULL, monitor, NULL) == 0);
	for (k = 0; k < forks && hung + died < MAX_BAD; k++) {
		probe_watchdog(60);
		before = __atomic_load_n(&ops, __ATOMIC_RELAXED);
		while (__atomic_load_n(&ops, __ATOMIC_RELAXED) < before + 64)
			nanosleep(&nap, NULL);
		pid = fork();
		if (pid == 0)
			child();
		if (pid < 0) {
			fprintf(stderr, "FAIL: fork: %s\n", strerror(errno));
			died++;
			continue;
		}
		switch (rg_reap(pid, CHILD_DEADLINE_MS, "static-fork")) {
		case RG_CHILD_OK:
			break;
		case RG_CHILD_HUNG:
			hung++;
			break;
		default:
			died++;
			break;
		}
		done++;
	}
	probe_watchdog(60);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i <= NWORKERS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	printf("%ld forks in %.1f s: %ld children hung, %ld failed\n", done,
	       rg_now() - start, hung, died);
	return hung + died == 0 && done == forks ? probe_status() : 1;
}
