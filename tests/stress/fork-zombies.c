/*
 * fork-zombies.c — a child of a multithreaded process lives on with the
 * blocks the parent's other threads allocated: it checks them, frees them,
 * allocates again in the same size classes (dbgalloc rebuilds those
 * threads' slabs from their live maps and reuses them while the child has
 * one thread), then starts a thread that frees the rest while the main
 * thread allocates (no rebuild then). Every block keeps its pattern, no
 * block is handed out twice (each new block's pattern is checked when it
 * is freed), and the child's heap does not grow past what the parent held.
 *
 *   fork-zombies [--expect-dbgalloc] [ROUNDS]
 */

#include <pthread.h>
#include <sys/wait.h>

#include "tests/integration/probe.h"

#define NTHREADS 4
#define PER      20000

static void *(*volatile fn_malloc)(size_t) = malloc;
static void (*volatile fn_free)(void *) = free;

struct blk {
	unsigned char *p;
	size_t n;
};

static struct blk held[NTHREADS][PER];
static pthread_barrier_t ready, done;

static size_t
size_of(unsigned i)
{
	return 16 + (i * 2654435761u >> 7) % 1000;
}

static void *
parent_worker(void *arg)
{
	long t = (long)arg;
	for (unsigned i = 0; i < PER; i++) {
		size_t n = size_of(i + (unsigned)t * PER);
		held[t][i].p = fn_malloc(n);
		held[t][i].n = n;
		CHECK(held[t][i].p != NULL);
		pattern_fill(held[t][i].p, n,
		             (uint64_t)(uintptr_t)held[t][i].p);
	}
	/* Free a third: the slabs have free blocks of both kinds. */
	for (unsigned i = 0; i < PER; i += 3) {
		fn_free(held[t][i].p);
		held[t][i].p = NULL;
	}
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&done); /* the parent forks meanwhile */
	return NULL;
}

static int
check_and_free(struct blk *b)
{
	if (b->p == NULL)
		return 1;
	int ok = pattern_ok(b->p, b->n, (uint64_t)(uintptr_t)b->p);
	fn_free(b->p);
	b->p = NULL;
	return ok;
}

static void *
child_freer(void *arg)
{
	(void)arg;
	for (int t = NTHREADS / 2; t < NTHREADS; t++)
		for (unsigned i = 0; i < PER; i++)
			if (!check_and_free(&held[t][i]))
				probe_fail(__FILE__, __LINE__,
				           "pattern (thread)");
	return NULL;
}

enum { NFRESH = 60000 };
static struct blk fresh[NFRESH];

static void
allocate_fresh(unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++) {
		size_t n = size_of(i * 7 + 3);
		fresh[i].p = fn_malloc(n);
		fresh[i].n = n;
		if (fresh[i].p == NULL) {
			probe_fail(__FILE__, __LINE__, "malloc in child");
			return;
		}
		pattern_fill(fresh[i].p, n, (uint64_t)(uintptr_t)fresh[i].p);
	}
}

static int
child(void)
{
	/* One thread: the parent's threads' blocks are intact; free half
	 * of them and allocate as many again (slabs rebuilt and reused). */
	for (int t = 0; t < NTHREADS / 2; t++)
		for (unsigned i = 0; i < PER; i++)
			CHECK(check_and_free(&held[t][i]));
	allocate_fresh(0, NFRESH / 2);
	/* Two threads: one frees the other half while this one allocates. */
	pthread_t t;
	CHECK(pthread_create(&t, NULL, child_freer, NULL) == 0);
	allocate_fresh(NFRESH / 2, NFRESH);
	CHECK(pthread_join(t, NULL) == 0);
	for (unsigned i = 0; i < NFRESH; i++)
		CHECK(check_and_free(&fresh[i]));
	return probe_status();
}

int
main(int argc, char **argv)
{
	pthread_t th[NTHREADS];
	probe_start(&argc, argv);
	int rounds = argc > 1 ? atoi(argv[1]) : 20;
	for (int r = 0; r < rounds; r++) {
		pthread_barrier_init(&ready, NULL, NTHREADS + 1);
		pthread_barrier_init(&done, NULL, NTHREADS + 1);
		for (long i = 0; i < NTHREADS; i++)
			CHECK(pthread_create(&th[i], NULL, parent_worker,
			                     (void *)i) == 0);
		pthread_barrier_wait(&ready);
		pid_t pid = fork();
		if (pid == 0)
			_exit(child());
		pthread_barrier_wait(&done);
		int status = 0;
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			probe_fail(__FILE__, __LINE__, "child failed");
		for (int i = 0; i < NTHREADS; i++)
			CHECK(pthread_join(th[i], NULL) == 0);
		for (int t = 0; t < NTHREADS; t++)
			for (unsigned i = 0; i < PER; i++)
				CHECK(check_and_free(&held[t][i]));
		pthread_barrier_destroy(&ready);
		pthread_barrier_destroy(&done);
	}
	printf("fork-zombies: %d rounds: %s\n", rounds,
	       probe_failures ? "FAILED" : "ok");
	return probe_status();
}
