/*
 * fork-mt.c — fork() from a multithreaded program that allocates and uses
 * stdio: every child must come back from fork(), allocate, and exit.
 *
 * Eight threads allocate and free blocks of mixed sizes (small to a few
 * MiB), fill slabs of one size class and empty them again, pass blocks to
 * each other through a mailbox so that many frees are cross-thread, and
 * use stdio the way programs do: each writes to its own
 * /dev/null stream (reopened now and then, so the stream buffer is
 * allocated under the stream's lock), one grows an open_memstream buffer
 * (realloc under the stream's lock) and all of them call fflush(NULL) from
 * time to time. Meanwhile the main thread forks; each child allocates and
 * frees a few blocks of several sizes and calls _exit(0). A child that has
 * not ended after 10 s is killed and counted as hung; the run stops after
 * 3 bad children. A parent stuck in fork() is ended by the watchdog.
 * Defects: the child could hang inside fork() (the child handler walked
 * heap lists copied mid-update), and the allocator's prepare handler could
 * deadlock against glibc's stdio locks.
 *
 *   fork-mt [--expect-dbgalloc]
 *   DA_TEST_FORKS=N    forks (see FORKS below; 100000 under soak)
 */

#include <pthread.h>

#include "tests/regress/regress.h"

enum {
	NTHREADS = 8,
	NSLOTS = 64,
	NMAILBOX = 32,
	CHILD_DEADLINE_MS = 10000,
	FORK_WATCHDOG_S = 60,
	MAX_BAD = 3,
};

/*
 * make check's count. On the 2-core development machine, shared with other
 * jobs, 10,000 forks took 22 s (load 4) to 42 s (load 10) with glibc's
 * malloc; with dbgalloc a fork costs about 5.5 ms when no child hangs (150
 * forks in 0.8 s), so about 55 s. DA_TEST_FORKS lowers it.
 */
#define FORKS 10000

static void *mailbox[NMAILBOX];
static int stop;
static int hold; /* set while a child runs, so that it gets the CPUs */
static long ops;

/* xorshift: cheap per-thread randomness. */
static unsigned
next_rand(unsigned *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/*
 * Mostly small; some medium and large; a rare huge block. fork() costs
 * about 70 us per resident MiB on the 2-core development machine, so the
 * big blocks are few and barely touched.
 */
static size_t
pick_size(unsigned r)
{
	switch (r % 256) {
	case 0:
		return ((size_t)3 << 20) + (r >> 8) % 4096;
	case 1:
	case 2:
	case 3:
	case 4:
		return ((size_t)128 << 10) + (r >> 8) % (384 << 10);
	default:
		if (r % 16 == 5)
			return 2048 + (r >> 8) % 30000;
		return 1 + (r >> 8) % 1024;
	}
}

/*
 * Fills slabs of one size class and empties them again: the moves between
 * a heap's slab lists that a fork must not catch half done. One block in
 * 16 goes to the mailbox, to be freed by another thread.
 */
static void
burst(unsigned r)
{
	void *b[160];
	size_t size = 16 + (r % 64) * 16;
	unsigned k, n = 32 + (r >> 6) % 128;
	void *p;

	for (k = 0; k < n; k++) {
		b[k] = rg_malloc(size);
		if (b[k] == NULL) {
			probe_fail(__FILE__, __LINE__, "malloc returned NULL");
			n = k;
			break;
		}
		*(volatile char *)b[k] = 1;
	}
	for (k = 0; k < n; k++) {
		if (k % 16 == 15) {
			p = __atomic_exchange_n(&mailbox[(r + k) % NMAILBOX],
			                        b[k], __ATOMIC_ACQ_REL);
			rg_free(p);
		} else {
			rg_free(b[k]);
		}
	}
}

static void *
worker(void *arg)
{
	struct timespec nap = {0, 100000};
	unsigned id = (unsigned)(uintptr_t)arg;
	unsigned x = id * 2654435761u + 1;
	void *slot[NSLOTS] = {0};
	char *membuf = NULL;
	size_t memlen = 0;
	FILE *null, *mem = NULL;
	unsigned long i;
	unsigned r;
	size_t size;
	void *p;

	null = fopen("/dev/null", "w");
	if (null == NULL) {
		probe_fail(__FILE__, __LINE__, "fopen /dev/null");
		return NULL;
	}
	if (id == 0)
		mem = open_memstream(&membuf, &memlen);
	for (i = 0; !__atomic_load_n(&stop, __ATOMIC_ACQUIRE); i++) {
		while (__atomic_load_n(&hold, __ATOMIC_ACQUIRE))
			nanosleep(&nap, NULL);
		r = next_rand(&x);
		p = slot[r % NSLOTS];
		if (p != NULL)
			rg_free(p);
		size = pick_size(r >> 8);
		p = (r >> 6) % 3 == 0 && size < 4096 ? rg_calloc(1, size)
		                                     : rg_malloc(size);
		if (p == NULL) {
			probe_fail(__FILE__, __LINE__, "malloc returned NULL");
			slot[r % NSLOTS] = NULL;
			continue;
		}
		*(volatile char *)p = (char)i;
		slot[r % NSLOTS] = p;
		if ((r >> 3) % 4 == 0) {
			/* Hand a block on; free whatever was waiting. */
			p = __atomic_exchange_n(&mailbox[(r >> 12) % NMAILBOX],
			                        slot[(r >> 20) % NSLOTS],
			                        __ATOMIC_ACQ_REL);
			slot[(r >> 20) % NSLOTS] = NULL;
			rg_free(p);
		}
		if (i % 8 == 0) {
			burst(next_rand(&x));
			nanosleep(&nap, NULL); /* leave the forks some CPU */
		}
		fprintf(null, "thread %u op %lu size %zu\n", id, i, size);
		if (mem != NULL) {
			fprintf(mem, "%lu %08x %s\n", i, r,
			        "memstream line that makes the buffer grow");
			if (memlen > ((size_t)256 << 10))
				rewind(mem);
		}
		if (i % 997 == 0) {
			fclose(null);
			null = fopen("/dev/null", "w");
			if (null == NULL) {
				probe_fail(__FILE__, __LINE__, "fopen");
				break;
			}
		}
		if (i % 211 == 0)
			fflush(NULL);
		if (i % 16 == 0)
			__atomic_add_fetch(&ops, 16, __ATOMIC_RELAXED);
	}
	for (i = 0; i < NSLOTS; i++)
		rg_free(slot[i]);
	if (mem != NULL)
		fclose(mem);
	free(membuf);
	if (null != NULL)
		fclose(null);
	return NULL;
}

/* The child: allocate, use and free a few blocks, then _exit. */
static void
child(void)
{
	static const size_t sizes[] = {24,    200,    3000,
	                               40000, 300000, (size_t)3 << 20};
	void *p[sizeof(sizes) / sizeof(sizes[0])];
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p[i] = rg_malloc(sizes[i]);
		if (p[i] == NULL)
			_exit(3);
		memset(p[i], 0x5a, sizes[i] < 4096 ? sizes[i] : 4096);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		rg_free(p[i]);
	_exit(0);
}

int
main(int argc, char **argv)
{
	pthread_t t[NTHREADS];
	long forks, k, hung = 0, died = 0, done = 0;
	double start;
	struct timespec nap = {0, 20000};
	long before;
	pid_t pid;
	int i, rc;

	probe_start(&argc, argv);
	forks = rg_param("DA_TEST_FORKS", FORKS, 100000);
	printf("%ld forks while %d threads allocate and use stdio\n", forks,
	       NTHREADS);
	fflush(stdout);
	start = rg_now();

	for (i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&t[i], NULL, worker,
		                     (void *)(uintptr_t)i) == 0);
	for (k = 0; k < forks && hung + died < MAX_BAD; k++) {
		probe_watchdog(FORK_WATCHDOG_S);
		/* Fork while the workers are busy, not while they wake up. */
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
		/* The copy is taken: pause the workers while the child runs. */
		__atomic_store_n(&hold, 1, __ATOMIC_RELEASE);
		rc = rg_reap(pid, CHILD_DEADLINE_MS, "fork-mt");
		__atomic_store_n(&hold, 0, __ATOMIC_RELEASE);
		switch (rc) {
		case RG_CHILD_OK:
			break;
		case RG_CHILD_HUNG:
			fprintf(stderr, "fork %ld: child hung\n", k);
			hung++;
			break;
		default:
			fprintf(stderr, "fork %ld: child failed\n", k);
			died++;
			break;
		}
		done++;
		if (done % 2000 == 0) {
			printf("%ld forks, %.1f s\n", done, rg_now() - start);
			fflush(stdout);
		}
	}
	probe_watchdog(FORK_WATCHDOG_S);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NTHREADS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	for (i = 0; i < NMAILBOX; i++)
		rg_free(mailbox[i]);
	printf("%ld forks in %.1f s (%ld worker operations): %ld children "
	       "hung, %ld failed\n",
	       done, rg_now() - start, ops, hung, died);
	return hung + died == 0 && done == forks ? probe_status() : 1;
}
