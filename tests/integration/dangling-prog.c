/*
 * dangling-prog — DBGALLOC_DANGLING's sweep (dangling.sh), built plain to
 * be preloaded with DBGALLOC_GUARD=1 (or size:13-13) and a 64 KiB
 * quarantine: a 13-byte block A is allocated by make_victim and its
 * pointer stored at offset 8 of a live 64-byte block B (make_holder) and
 * in the global stale_global; free_victim frees A, then push_out frees
 * enough other 13-byte blocks to push A out of the quarantine. Prints
 * "A 0x... B 0x... G 0x..." (G: stale_global's address) first and "done"
 * last.
 *
 *   dangling-prog stale        as above: the sweep must report B and G
 *   dangling-prog clean        both copies cleared before A is freed
 *   dangling-prog thread       as clean, but a second thread keeps a copy
 *                              of A in its stack, blocked on a pipe while
 *                              A leaves the quarantine: the sweep must stop
 *                              it and read its stack ("T tid" printed);
 *                              that stack is 256 MiB, so that no other
 *                              root's span can hide it
 *   dangling-prog bench N      as clean, with N more live blocks of 64
 *                              bytes (each holding a pointer to the
 *                              next), and "sweep: MS ms, N live blocks":
 *                              the slowest free of push_out, the one
 *                              whose sweep read them all (and found
 *                              nothing)
 *
 * All the work is in functions of their own, so that main's frame holds
 * no copy of A (the sweep reads the stack from free's caller up), and
 * scrub_stack clears the stale words set_up's frames left below main's.
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *volatile stale_global;
static char **volatile holder;

__attribute__((noinline)) static char *
make_victim(void)
{
	return malloc(13);
}

__attribute__((noinline)) static char **
make_holder(void)
{
	char **b = malloc(64);
	memset(b, 0, 64);
	return b;
}

__attribute__((noinline)) static void
free_victim(void)
{
	free(holder[1] != NULL ? holder[1] : stale_global);
}

__attribute__((noinline)) static void
set_up(int clean)
{
	holder = make_holder();
	char *a = make_victim();
	strcpy(a, "the victim");
	holder[1] = a;
	stale_global = a;
	printf("A %p B %p G %p\n", (void *)a, (void *)holder,
	       (void *)&stale_global);
	fflush(stdout);
	if (clean) {
		stale_global = NULL;
		free(a);
		holder[1] = NULL;
	}
}

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Frees enough 13-byte blocks (a page each) to push A out of a 64 KiB
 * quarantine (16 of them), and more; returns the slowest free's time. */
__attribute__((noinline)) static double
push_out(void)
{
	double worst = 0;
	for (int i = 0; i < 40; i++) {
		char *volatile p = malloc(13);
		double t0 = now_ms();
		free(p);
		double t = now_ms() - t0;
		if (t > worst)
			worst = t;
	}
	return worst;
}

__attribute__((noinline)) static void
scrub_stack(void)
{
	volatile char junk[16384];
	memset((char *)junk, 0, sizeof(junk));
}

/* n live blocks in a chain (kept live through the global). */
static void **volatile chain;

__attribute__((noinline)) static void
build_heap(long n)
{
	void **prev = NULL;
	for (long i = 0; i < n; i++) {
		void **b = malloc(64);
		memset(b, 0, 64);
		b[0] = prev;
		prev = b;
	}
	chain = prev;
}

static int pipe_fd[2];
static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;
static int ready;

/* Keeps a copy of A in its own frame until the pipe has a byte. */
static void *
keeper(void *arg)
{
	char *volatile copy = arg;
	printf("T %ld\n", (long)syscall(SYS_gettid));
	fflush(stdout);
	pthread_mutex_lock(&ready_lock);
	ready = 1;
	pthread_cond_signal(&ready_cond);
	pthread_mutex_unlock(&ready_lock);
	char c;
	while (read(pipe_fd[0], &c, 1) < 0)
		;
	return (void *)copy;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "stale";
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
	int thread = strcmp(mode, "thread") == 0;
	int clean = strcmp(mode, "clean") == 0 || strcmp(mode, "bench") == 0 ||
	            thread;
	if (!clean && strcmp(mode, "stale") != 0) {
		fprintf(stderr,
		        "usage: dangling-prog stale|clean|thread|bench N\n");
		return 2;
	}
	if (n > 0)
		build_heap(n);
	pthread_t th;
	if (thread) {
		/* A stands in the keeper's frame before it is freed. */
		if (pipe(pipe_fd) != 0)
			return 1;
		holder = make_holder();
		holder[1] = make_victim();
		printf("A %p B %p G %p\n", (void *)holder[1], (void *)holder,
		       (void *)&stale_global);
		/* A stack far larger than the default: an offset of a
		 * module's TLS taken wrongly (a heap block's, below the
		 * main thread's pointer) would reach into the keeper's
		 * frames and call them TLS. */
		pthread_attr_t attr;
		if (pthread_attr_init(&attr) != 0 ||
		    pthread_attr_setstacksize(&attr, (size_t)256 << 20) != 0 ||
		    pthread_create(&th, &attr, keeper, holder[1]) != 0)
			return 1;
		pthread_attr_destroy(&attr);
		pthread_mutex_lock(&ready_lock);
		while (!ready)
			pthread_cond_wait(&ready_cond, &ready_lock);
		pthread_mutex_unlock(&ready_lock);
		free(holder[1]);
		holder[1] = NULL;
	} else {
		set_up(clean);
	}
	if (!clean)
		free_victim();
	scrub_stack();
	double worst = push_out();
	if (strcmp(mode, "bench") == 0)
		printf("sweep: %.3f ms, %ld live blocks\n", worst, n);
	if (thread) {
		char c = 1;
		if (write(pipe_fd[1], &c, 1) != 1 ||
		    pthread_join(th, NULL) != 0)
			return 1;
	}
	printf("done\n");
	return 0;
}
