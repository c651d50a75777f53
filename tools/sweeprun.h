/*
 * tools/sweeprun.h — running one command many times, a few at a time, for
 * oom-sweep. Each run is started with posix_spawnp in a process group of
 * its own, stdin, stdout and stderr on /dev/null, and the environment the
 * caller gives for it; a run that outlives its timeout has its whole group
 * killed (SIGKILL), and so do the processes a run leaves behind when its
 * first process exits. Runs are numbered 0..n-1; they end in any order.
 *
 * SIGINT, SIGTERM and SIGHUP stop the whole batch, and so does SIGPIPE
 * (our standard output has gone): every group still running is killed
 * and reaped before da_runs returns. The caller must have called
 * da_runs_init first, which blocks those signals and SIGCHLD (they are
 * waited for with sigtimedwait, never handled; a write to a closed pipe
 * then fails with EPIPE and leaves SIGPIPE pending).
 */
#ifndef DA_TOOLS_SWEEPRUN_H
#define DA_TOOLS_SWEEPRUN_H

#include <sys/types.h>

/* How one run ended. */
struct da_run {
	unsigned long index;
	pid_t pid;      /* of its first process; also its group */
	int spawn_err;  /* errno from posix_spawnp; 0 if it started */
	int status;     /* from waitpid, when it started */
	int timed_out;  /* killed by us after the timeout */
	double seconds; /* wall-clock time */
};

struct da_runs {
	char *const *argv; /* argv[0] is looked up in PATH */
	unsigned long n;   /* runs 0..n-1 */
	unsigned jobs;     /* at most this many at once */
	double timeout;    /* seconds; 0 for none */
	/* The environment of run i; used only while it is being started. */
	char *const *(*env)(unsigned long i, void *arg);
	/* Called once per run, as each ends, in the order they end. */
	void (*done)(const struct da_run *r, void *arg);
	void *arg;
};

/* Blocks SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGPIPE. Returns 0 or an errno
 * value. */
int da_runs_init(void);

/*
 * Runs them all. Returns 0, the number of the signal that stopped the
 * batch (the runs that had not ended then are not passed to done), or -1
 * when there is no memory for the batch (nothing was run).
 */
int da_runs(const struct da_runs *spec);

#endif
