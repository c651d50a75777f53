/*
 * thread-churn.c — threads that come and go (PITFALLS 3, 17): 2000 threads,
 * at most 8 alive at a time. Each allocates a few hundred blocks, frees
 * half itself, and hands the rest on: some to the main thread, which frees
 * them after the thread has been joined, some to the thread started after
 * it, which frees them while their maker is gone. Each thread also leaves a
 * block in thread-specific data whose destructor frees it and allocates
 * again at thread exit, after the allocator may have retired the thread's
 * cache. Every block is pattern-checked before it is freed.
 *
 *   thread-churn [--expect-dbgalloc] [THREADS [ALIVE]]
 */

#include <pthread.h>

#include "tests/integration/probe.h"

enum { NBLOCKS = 300, MAX_ALIVE = 64 };

struct block {
	void *p;
	size_t n;
	uint64_t tag;
};

struct job {
	pthread_t thread;
	long serial;
	struct block to_main[NBLOCKS / 4]; /* freed by main after join */
	struct block to_next[NBLOCKS / 4]; /* freed by the next thread */
	struct block *inherited;           /* the previous thread's to_next */
	int done;
};

static pthread_key_t key;
static long tsd_destructor_runs;

static void *(*volatile fn_malloc)(size_t) = malloc;
static void *(*volatile fn_calloc)(size_t, size_t) = calloc;
static void *(*volatile fn_realloc)(void *, size_t) = realloc;
static void (*volatile fn_free)(void *) = free;

static size_t
block_size(long serial, int i)
{
	unsigned x = (unsigned)(serial * 131 + i) * 2654435761u;

	if (x % 97 == 0)
		return 65536 + x % 200000;
	return 1 + x % 1500;
}

static void
check_and_free(struct block *b)
{
	if (b->p == NULL)
		return;
	if (!pattern_ok(b->p, b->n, b->tag))
		probe_fail(__FILE__, __LINE__, "pattern overwritten");
	if (!probe_owned(b->p))
		probe_fail(__FILE__, __LINE__, "not owned by dbgalloc");
	fn_free(b->p);
	b->p = NULL;
}

static void
tsd_destructor(void *v)
{
	struct block *b = v;
	void *p;

	check_and_free(b);
	fn_free(b);
	/* Allocating here comes after most thread-exit hooks. */
	p = fn_malloc(64);
	if (p == NULL)
		probe_fail(__FILE__, __LINE__, "malloc in TSD destructor");
	fn_free(p);
	__atomic_add_fetch(&tsd_destructor_runs, 1, __ATOMIC_RELAXED);
}

static void *
run(void *arg)
{
	struct job *job = arg;
	struct block b[NBLOCKS], *tsd;
	int i, j, k;

	for (i = 0; i < NBLOCKS; i++) {
		b[i].n = block_size(job->serial, i);
		b[i].tag = (uint64_t)job->serial << 16 | (uint64_t)i;
		b[i].p = i % 5 == 0 ? fn_calloc(1, b[i].n) : fn_malloc(b[i].n);
		if (b[i].p == NULL) {
			probe_fail(__FILE__, __LINE__, "allocation failed");
			return NULL;
		}
		pattern_fill(b[i].p, b[i].n, b[i].tag);
	}
	/* Frees of a thread that is gone, made by this live thread. */
	if (job->inherited != NULL)
		for (i = 0; i < NBLOCKS / 4; i++)
			check_and_free(&job->inherited[i]);
	/* Half freed here, a quarter to main, a quarter to the next thread. */
	for (i = j = k = 0; i < NBLOCKS; i++) {
		if (i % 2 == 0) {
			check_and_free(&b[i]);
		} else if (i % 4 == 1) {
			job->to_main[j++] = b[i];
		} else {
			b[i].p = fn_realloc(b[i].p, b[i].n + 100);
			if (b[i].p == NULL ||
			    !pattern_ok(b[i].p, b[i].n, b[i].tag)) {
				probe_fail(__FILE__, __LINE__, "realloc");
				return NULL;
			}
			job->to_next[k++] = b[i];
		}
	}
	tsd = fn_malloc(sizeof(*tsd));
	if (tsd == NULL) {
		probe_fail(__FILE__, __LINE__, "malloc(tsd)");
		return NULL;
	}
	tsd->n = 333;
	tsd->tag = (uint64_t)job->serial;
	tsd->p = fn_malloc(tsd->n);
	if (tsd->p == NULL) {
		probe_fail(__FILE__, __LINE__, "malloc(tsd block)");
		return NULL;
	}
	pattern_fill(tsd->p, tsd->n, tsd->tag);
	pthread_setspecific(key, tsd);
	__atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
	if (job->serial % 3 == 0)
		pthread_exit(NULL);
	return NULL;
}

/*
 * Joins the oldest thread and frees what it handed to main. Its
 * predecessor's hand-over has now been freed by it, so the predecessor's
 * job (passed as prev) is freed too; returns job, the next predecessor.
 */
static struct job *
retire(struct job *job, struct job *prev, long *ok_jobs)
{
	int i;

	CHECK(pthread_join(job->thread, NULL) == 0);
	if (__atomic_load_n(&job->done, __ATOMIC_ACQUIRE))
		(*ok_jobs)++;
	for (i = 0; i < NBLOCKS / 4; i++)
		check_and_free(&job->to_main[i]);
	if (prev != NULL) {
		/* Left over only if job failed before it freed them. */
		for (i = 0; i < NBLOCKS / 4; i++)
			check_and_free(&prev->to_next[i]);
		fn_free(prev);
	}
	return job;
}

int
main(int argc, char **argv)
{
	struct job *jobs[MAX_ALIVE] = {0}, *prev = NULL, *retired = NULL;
	struct job *job;
	long nthreads = 2000, alive = 8, serial, ok_jobs = 0;
	int i, slot;

	probe_start(&argc, argv);
	probe_watchdog(120); /* a few seconds normally: a hang fails fast */
	if (argc > 1)
		nthreads = strtol(argv[1], NULL, 10);
	if (argc > 2)
		alive = strtol(argv[2], NULL, 10);
	if (nthreads <= 0 || alive <= 0 || alive > MAX_ALIVE) {
		fprintf(stderr, "usage: thread-churn [--expect-dbgalloc] "
		                "[THREADS [ALIVE <= 64]]\n");
		return 2;
	}
	CHECK(pthread_key_create(&key, tsd_destructor) == 0);
	for (serial = 0; serial < nthreads + alive; serial++) {
		/* Threads are retired in the order they were started. */
		slot = (int)(serial % alive);
		if (jobs[slot] != NULL) {
			retired = retire(jobs[slot], retired, &ok_jobs);
			jobs[slot] = NULL;
		}
		if (serial >= nthreads)
			continue;
		job = fn_calloc(1, sizeof(*job));
		CHECK(job != NULL);
		if (job == NULL)
			break;
		job->serial = serial;
		job->inherited = prev != NULL ? prev->to_next : NULL;
		CHECK(pthread_create(&job->thread, NULL, run, job) == 0);
		jobs[slot] = job;
		prev = job;
	}
	/* The last thread's hand-over has no successor: main frees it. */
	if (retired != NULL) {
		for (i = 0; i < NBLOCKS / 4; i++)
			check_and_free(&retired->to_next[i]);
		fn_free(retired);
	}
	CHECK(ok_jobs == nthreads);
	CHECK(tsd_destructor_runs == nthreads);
	printf("thread-churn: %ld threads (at most %ld alive), %ld TSD "
	       "destructors: %s\n",
	       nthreads, alive, tsd_destructor_runs,
	       probe_failures == 0 ? "ok" : "FAILED");
	return probe_status();
}
