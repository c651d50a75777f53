/*
 * tools/sweeprun.c — the batch of runs behind oom-sweep (see sweeprun.h).
 *
 * One loop: start runs while a slot is free, then sleep in sigtimedwait
 * until a child ends, a signal asks us to stop, or the nearest deadline
 * passes. A run that ends is looked at with waitid(WNOWAIT) first, so its
 * pid, which is also its group's id, cannot be reused while the group's
 * stragglers are killed; only then is it reaped.
 */
#include "tools/sweeprun.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

/* A run in progress. */
struct slot {
	int busy;
	struct da_run run;
	double start;
};

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
wait_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGPIPE);
}

int
da_runs_init(void)
{
	sigset_t set;
	wait_set(&set);
	/* An inherited SIG_IGN would have the kernel reap our children. */
	signal(SIGCHLD, SIG_DFL);
	return sigprocmask(SIG_BLOCK, &set, NULL) != 0 ? errno : 0;
}

/*
 * Starts run i in s. The child gets an empty signal mask, a group of its
 * own and /dev/null for its standard streams. Returns 0, or the errno of
 * a failed start (also left in s->run.spawn_err).
 */
static int
start(const struct da_runs *spec, struct slot *s, unsigned long i)
{
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	sigset_t none;
	memset(s, 0, sizeof(*s));
	s->run.index = i;
	s->start = now();
	sigemptyset(&none);
	int err = posix_spawnattr_init(&attr);
	if (err != 0)
		goto out;
	err = posix_spawn_file_actions_init(&fa);
	if (err != 0) {
		posix_spawnattr_destroy(&attr);
		goto out;
	}
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	                                        POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	err = posix_spawnp(&s->run.pid, spec->argv[0], &fa, &attr, spec->argv,
	                   spec->env(i, spec->arg));
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
out:
	s->run.spawn_err = err;
	s->busy = err == 0;
	return err;
}

/* Reaps every run that has ended. */
static void
reap(const struct da_runs *spec, struct slot *slots, unsigned *running)
{
	for (;;) {
		siginfo_t si;
		si.si_pid = 0;
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 ||
		    si.si_pid == 0)
			return;
		/* What it left running dies with it. */
		kill(-si.si_pid, SIGKILL);
		int status;
		while (waitpid(si.si_pid, &status, 0) < 0 && errno == EINTR)
			;
		for (unsigned j = 0; j < spec->jobs; j++) {
			struct slot *s = &slots[j];
			if (!s->busy || s->run.pid != si.si_pid)
				continue;
			s->busy = 0;
			s->run.status = status;
			s->run.seconds = now() - s->start;
			(*running)--;
			spec->done(&s->run, spec->arg);
		}
	}
}

/* Kills the groups of the runs past their deadline. */
static void
expire(const struct da_runs *spec, struct slot *slots)
{
	double t = now();
	for (unsigned j = 0; j < spec->jobs; j++) {
		struct slot *s = &slots[j];
		if (s->busy && !s->run.timed_out &&
		    t - s->start >= spec->timeout) {
			s->run.timed_out = 1;
			kill(-s->run.pid, SIGKILL);
		}
	}
}

/* How long to sleep: until the nearest deadline, or a while. */
static struct timespec
nap(const struct da_runs *spec, const struct slot *slots)
{
	double wait = 3600;
	double t = now();
	for (unsigned j = 0; spec->timeout > 0 && j < spec->jobs; j++) {
		const struct slot *s = &slots[j];
		if (!s->busy || s->run.timed_out)
			continue;
		double left = s->start + spec->timeout - t;
		if (left < wait)
			wait = left > 0 ? left : 0;
	}
	/* A little past the deadline, so that expire() sees it passed. */
	wait += 0.001;
	struct timespec ts;
	ts.tv_sec = (time_t)wait;
	ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
	return ts;
}

/* Stops the batch: kills every group still running and reaps it. */
static void
stop_all(const struct da_runs *spec, struct slot *slots)
{
	for (unsigned j = 0; j < spec->jobs; j++) {
		struct slot *s = &slots[j];
		if (!s->busy)
			continue;
		kill(-s->run.pid, SIGKILL);
		while (waitpid(s->run.pid, NULL, 0) < 0 && errno == EINTR)
			;
		s->busy = 0;
	}
}

int
da_runs(const struct da_runs *spec)
{
	struct slot *slots = calloc(spec->jobs, sizeof(*slots));
	if (slots == NULL)
		return -1;
	sigset_t set;
	wait_set(&set);
	unsigned long next = 0;
	unsigned running = 0;
	int sig = 0;
	while (next < spec->n || running > 0) {
		for (unsigned j = 0; j < spec->jobs && next < spec->n; j++) {
			if (slots[j].busy)
				continue;
			if (start(spec, &slots[j], next++) == 0)
				running++;
			else
				spec->done(&slots[j].run, spec->arg);
		}
		if (running == 0)
			continue;
		struct timespec ts = nap(spec, slots);
		int got = sigtimedwait(&set, NULL, &ts);
		if (got == SIGINT || got == SIGTERM || got == SIGHUP ||
		    got == SIGPIPE) {
			sig = got;
			stop_all(spec, slots);
			break;
		}
		reap(spec, slots, &running);
		if (spec->timeout > 0)
			expire(spec, slots);
	}
	free(slots);
	return sig;
}
