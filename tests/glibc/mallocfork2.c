/*
 * mallocfork2.c — what glibc's malloc/tst-mallocfork2 checks: in a
 * single-threaded process, fork is async-signal-safe as far as malloc is
 * concerned. Five other processes send SIGUSR1 while the program runs
 * fork (one iteration in seven), free and malloc of up to 70,000 bytes over
 * 1009 slots; a barrier in shared memory lines the signals up with those
 * calls. The handler forks too, so it also lands inside the outer fork,
 * between the allocator's prepare and parent handlers. Every malloc must
 * succeed, every child exit 0, every block keep its contents, and at the
 * end allocations of every kind, a thread and a fork must still work.
 *
 * Runs glibc's 10,000 iterations or DA_TEST_SECONDS (6 s), whichever is
 * shorter; the watchdog catches a hang.   mallocfork2 [--expect-dbgalloc]
 * [ITERATIONS]
 */

#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/glibc/tier.h"
#include "tests/glibc/mallocfork.h"

enum {
	OBJECTS = 1009,
	MAX_SIZE = 70000,
	SENDERS = 5,
	ITERATIONS = 10000,
	GRACE_S = 20,
};

/* Shared with the sender processes. */
struct shared {
	pthread_barrier_t barrier;
	int stop;
};

static struct shared *shared;
static pid_t senders[SENDERS];
static volatile sig_atomic_t got_signal, handler_failed, handler_forks;
static int iteration;

static void *objects[OBJECTS];
static size_t sizes[OBJECTS];
static uint64_t tags[OBJECTS];

static void
show_progress(void)
{
	tier_say_num("  iteration: ", iteration, "\n");
	tier_say_num("  forks in the signal handler: ", handler_forks, "\n");
}

static void
on_usr1(int sig)
{
	int saved = errno;
	pid_t pid;

	(void)sig;
	got_signal = 1;
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid < 0) {
		tier_say("FAIL: fork in the SIGUSR1 handler\n");
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

/* A sender process: one SIGUSR1 per iteration, between the barriers. */
static void
sender(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	for (;;) {
		pthread_barrier_wait(&shared->barrier);
		if (__atomic_load_n(&shared->stop, __ATOMIC_SEQ_CST))
			_exit(0);
		if (kill(parent, SIGUSR1) != 0)
			_exit(1);
		pthread_barrier_wait(&shared->barrier);
	}
}

static int
start_senders(void)
{
	pthread_barrierattr_t attr;
	pid_t parent = getpid();
	int i;

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
	              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return -1;
	pthread_barrierattr_init(&attr);
	pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&shared->barrier, &attr, SENDERS + 1);
	pthread_barrierattr_destroy(&attr);
	for (i = 0; i < SENDERS; i++) {
		senders[i] = fork();
		if (senders[i] < 0)
			return -1;
		if (senders[i] == 0)
			sender(parent);
		tier_track(senders[i]);
	}
	return 0;
}

/* Called at the first barrier of an iteration: the senders end. */
static void
stop_senders(void)
{
	int i, status;

	__atomic_store_n(&shared->stop, 1, __ATOMIC_SEQ_CST);
	pthread_barrier_wait(&shared->barrier);
	for (i = 0; i < SENDERS; i++) {
		CHECK(waitpid(senders[i], &status, 0) == senders[i]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		tier_untrack(senders[i]);
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

	tier_start(&argc, argv, "mallocfork2");
	if (argc > 1)
		iterations = atoi(argv[1]);
	seconds = tier_seconds(6);
	tier_on_timeout = show_progress;
	tier_watchdog(seconds + GRACE_S);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1; /* no SA_RESTART, as in glibc's test */
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	if (start_senders() != 0) {
		puts("FAIL: cannot start the signal senders");
		tier_kill_children();
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

		pthread_barrier_wait(&shared->barrier);
		if (do_fork) {
			got_signal = 0;
			pid = fork();
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
		pthread_barrier_wait(&shared->barrier);

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
	stop_senders();
	signal(SIGUSR1, SIG_IGN);
	for (slot = 0; slot < OBJECTS; slot++) {
		if (objects[slot] != NULL)
			CHECK(pattern_ok(objects[slot], sizes[slot],
			                 tags[slot]));
		fn_free(objects[slot]);
	}
	check_allocator_works();

	printf("mallocfork2: %d iterations, %d forks in the handler; "
	       "signals during fork %u, free %u, malloc %u\n",
	       i, (int)handler_forks, fork_signals, free_signals,
	       malloc_signals);
	CHECK(i > 0);
	if (probe_status() == 0)
		puts("mallocfork2: ok");
	return probe_status();
}
