/*
 * mallocfork3.c — what glibc's malloc/tst-mallocfork3 checks: _Fork (no
 * atfork handlers, async-signal-safe in glibc >= 2.34) from a signal
 * handler of a multithreaded process. Five threads send the main thread
 * SIGUSR1 while it runs _Fork (one iteration in seven), free and malloc of
 * up to 70,000 bytes over 1009 slots, a barrier lining the signals up with
 * those calls; the handler calls _Fork. Children only _exit(0). Every
 * malloc must succeed, every block keep its contents, and at the end every
 * kind of allocation, a new thread and a fork must still work.
 *
 * Runs glibc's 10,000 iterations or DA_TEST_SECONDS (4 s), whichever is
 * shorter.   mallocfork3 [--expect-dbgalloc] [ITERATIONS]
 */

#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/glibc/tier.h"
#include "tests/glibc/mallocfork.h"

#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
#define HAVE_UNDERSCORE_FORK 1
#else
#define HAVE_UNDERSCORE_FORK 0
#endif

enum {
	OBJECTS = 1009,
	MAX_SIZE = 70000,
	SENDERS = 5,
	ITERATIONS = 10000,
	GRACE_S = 20,
	SKIP = 77, /* the automake convention */
};

static pthread_barrier_t barrier;
static pthread_t main_thread, senders[SENDERS];
static int stop;
static volatile sig_atomic_t got_signal, handler_failed, handler_forks;
static int iteration;

static void *objects[OBJECTS];
static size_t sizes[OBJECTS];
static uint64_t tags[OBJECTS];

#if HAVE_UNDERSCORE_FORK
static pid_t
raw_fork(void)
{
	return _Fork();
}
#else
static pid_t
raw_fork(void)
{
	errno = ENOSYS;
	return -1;
}
#endif

static void
show_progress(void)
{
	tier_say_num("  iteration: ", iteration, "\n");
	tier_say_num("  _Fork calls in the signal handler: ", handler_forks,
	             "\n");
}

static void
on_usr1(int sig)
{
	int saved = errno;
	pid_t pid;

	(void)sig;
	got_signal = 1;
	pid = raw_fork();
	if (pid == 0)
		_exit(0);
	if (pid < 0) {
		tier_say("FAIL: _Fork in the SIGUSR1 handler\n");
		handler_failed = 1;
	} else {
		tier_track(pid);
		if (reap(pid) != 0) {
			tier_say("FAIL: child of the SIGUSR1 handler did not "
			         "exit 0\n");
			handler_failed = 1;
		}
		handler_forks = handler_forks + 1;
	}
	errno = saved;
}

/* A sender thread: one SIGUSR1 to the main thread per iteration. */
static void *
sender(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_barrier_wait(&barrier);
		if (__atomic_load_n(&stop, __ATOMIC_SEQ_CST))
			return NULL;
		if (pthread_kill(main_thread, SIGUSR1) != 0)
			tier_say("FAIL: pthread_kill\n");
		pthread_barrier_wait(&barrier);
	}
}

int
main(int argc, char **argv)
{
	unsigned seconds, seed = 1;
	unsigned fork_signals = 0, free_signals = 0, malloc_signals = 0;
	int iterations = ITERATIONS, slot, do_fork, failed = 0, i, e;
	struct sigaction sa;
	double end;
	size_t size;
	pid_t pid;

	tier_start(&argc, argv, "mallocfork3");
	if (!HAVE_UNDERSCORE_FORK) {
		puts("mallocfork3: SKIP: no _Fork (glibc < 2.34)");
		return SKIP;
	}
	if (argc > 1)
		iterations = atoi(argv[1]);
	seconds = tier_seconds(4);
	tier_on_timeout = show_progress;
	tier_watchdog(seconds + GRACE_S);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	main_thread = pthread_self();
	pthread_barrier_init(&barrier, NULL, SENDERS + 1);
	for (i = 0; i < SENDERS; i++)
		if (pthread_create(&senders[i], NULL, sender, NULL) != 0) {
			puts("FAIL: cannot start the signal senders");
			return 1;
		}

	end = now() + seconds;
	for (i = 0; i < iterations && !failed && now() < end; i++) {
		iteration = i;
		slot = (int)(rand_r(&seed) % OBJECTS);
		size = (size_t)rand_r(&seed) % MAX_SIZE;
		do_fork = rand_r(&seed) % 7 == 0;
		if (objects[slot] != NULL &&
		    !pattern_ok(objects[slot], sizes[slot], tags[slot]))
			tier_failf("iteration %d: the block of slot %d changed",
			           i, slot);

		pthread_barrier_wait(&barrier);
		if (do_fork) {
			got_signal = 0;
			pid = raw_fork();
			if (pid == 0)
				_exit(0);
			if (got_signal)
				fork_signals++;
			CHECK(pid > 0);
			if (pid > 0) {
				tier_track(pid);
				CHECK(reap(pid) == 0);
			}
		}
		got_signal = 0;
		fn_free(objects[slot]);
		if (got_signal)
			free_signals++;
		got_signal = 0;
		errno = 0;
		objects[slot] = fn_malloc(size);
		e = errno;
		if (got_signal)
			malloc_signals++;
		pthread_barrier_wait(&barrier);

		if (objects[slot] == NULL) {
			tier_failf("iteration %d: malloc(%zu) = NULL, %s", i,
			           size, strerror(e));
			failed = 1;
		} else {
			sizes[slot] = size;
			tags[slot] = (uint64_t)i;
			pattern_fill(objects[slot], size, tags[slot]);
		}
		if (handler_failed) {
			probe_fail(__FILE__, __LINE__, "signal handler");
			failed = 1;
		}
	}
	/* The senders are at the first barrier: let them see stop. */
	__atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
	pthread_barrier_wait(&barrier);
	for (e = 0; e < SENDERS; e++)
		CHECK(pthread_join(senders[e], NULL) == 0);
	signal(SIGUSR1, SIG_IGN);
	for (slot = 0; slot < OBJECTS; slot++) {
		if (objects[slot] != NULL)
			CHECK(pattern_ok(objects[slot], sizes[slot],
			                 tags[slot]));
		fn_free(objects[slot]);
	}
	check_allocator_works();

	printf("mallocfork3: %d iterations, %d _Fork calls in the handler; "
	       "signals during _Fork %u, free %u, malloc %u\n",
	       i, (int)handler_forks, fork_signals, free_signals,
	       malloc_signals);
	CHECK(i > 0);
	if (probe_status() == 0)
		puts("mallocfork3: ok");
	return probe_status();
}
