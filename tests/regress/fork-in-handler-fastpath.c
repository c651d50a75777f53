/*
 * fork-in-handler-fastpath.c — fork() from a signal handler that interrupted
 * malloc or free: the child goes on allocating from the interrupted heap.
 *
 * A single-threaded loop calls malloc(32), writes the block and frees it;
 * an interval timer (setitimer ITIMER_REAL, a few hundred microseconds)
 * raises SIGALRM, whose handler forks. The child returns from the handler
 * into the interrupted malloc or free, finishes it, runs the loop for a
 * while more and calls _exit(0); a child that aborts, crashes or hangs
 * fails the test. fork is async-signal-safe and glibc's malloc survives
 * this. Defect: the child's fork handler abandoned the forking thread's
 * own heap while the interrupted call was still using it, and the child
 * later aborted with a false "invalid free".
 *
 *   fork-in-handler-fastpath [--expect-dbgalloc]
 *   DA_TEST_ROUNDS=N       rounds (2; 40 under soak), each of
 *   DA_TEST_CHILDREN=N     children (500), reaped at the end of the round
 *   DA_TEST_CHILD_LOOPS=N  malloc/free pairs in each child (20000)
 */

#include <sys/time.h>

#include "tests/regress/regress.h"

enum { CHILD_DEADLINE_MS = 10000, MAX_BAD = 5 };

static volatile sig_atomic_t in_child, nforked, fork_errors;
static pid_t *pids;
static long want;

static void
on_timer(int sig)
{
	int saved = errno;
	pid_t pid;

	(void)sig;
	if (in_child || nforked >= want)
		return;
	pid = fork();
	if (pid == 0) {
		in_child = 1;
	} else if (pid > 0) {
		pids[nforked] = pid;
		nforked = nforked + 1;
	} else {
		fork_errors = fork_errors + 1;
	}
	errno = saved;
}

/*
 * One round: want forks from the handler, then every child reaped (at most
 * want children alive at once: pids are few on a shared machine). Adds to
 * *loops, *bad and *hung.
 */
static void
round_of_forks(long child_loops, long *loops, long *bad, long *hung)
{
	struct itimerval on = {{0, 300}, {0, 300}}, off = {{0, 0}, {0, 0}};
	const char *what;
	long left = -1, k;
	char *p;

	nforked = 0;
	CHECK(setitimer(ITIMER_REAL, &on, NULL) == 0);
	while (nforked < want && fork_errors < MAX_BAD) {
		p = rg_malloc(32);
		if (p == NULL) {
			static const char msg[] = "FAIL: malloc(32) = NULL\n";

			(void)!write(2, msg, sizeof(msg) - 1);
			_exit(in_child ? 4 : 1);
		}
		memset(p, (int)(*loops & 0xff), 32);
		if (p[31] != (char)(*loops & 0xff))
			_exit(5);
		rg_free(p);
		++*loops;
		if (in_child) {
			/* The timer is not inherited: only this loop runs. */
			if (left < 0)
				left = child_loops;
			if (--left == 0)
				_exit(0);
		}
	}
	CHECK(setitimer(ITIMER_REAL, &off, NULL) == 0);
	for (k = 0; k < nforked; k++) {
		/* The first few bad children are described, not all. */
		what = *bad + *hung < MAX_BAD ? "fork-in-handler-fastpath"
		                              : NULL;
		switch (rg_reap(pids[k], CHILD_DEADLINE_MS, what)) {
		case RG_CHILD_OK:
			break;
		case RG_CHILD_HUNG:
			++*hung;
			break;
		default:
			++*bad;
			break;
		}
	}
}

int
main(int argc, char **argv)
{
	long rounds, r, child_loops, loops = 0, bad = 0, hung = 0;
	struct sigaction sa;
	double start;

	probe_start(&argc, argv);
	want = rg_param("DA_TEST_CHILDREN", 500, 500);
	rounds = rg_param("DA_TEST_ROUNDS", 2, 40);
	child_loops = rg_param("DA_TEST_CHILD_LOOPS", 20000, 20000);
	pids = rg_calloc((size_t)want, sizeof(*pids));
	CHECK(pids != NULL);
	if (pids == NULL)
		return 1;
	printf("%ld x %ld forks from a SIGALRM handler interrupting "
	       "malloc(32)/free, %ld more pairs in each child\n",
	       rounds, want, child_loops);
	fflush(stdout);
	start = rg_now();

	/* The timer replaces probe.h's alarm() watchdog; timeout(1) stays. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_timer;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	for (r = 0; r < rounds && bad + hung == 0 && fork_errors == 0; r++)
		round_of_forks(child_loops, &loops, &bad, &hung);
	signal(SIGALRM, SIG_DFL);
	CHECK(fork_errors == 0);
	printf("%ld children forked in a signal handler (%ld parent loops, "
	       "%.1f s): %ld failed, %ld hung\n",
	       r * want, loops, rg_now() - start, bad, hung);
	rg_free(pids);
	return bad + hung == 0 ? probe_status() : 1;
}
