/*
 * regress.h — shared by the regression programs (tests/regress/), each of
 * which pins down one defect found in review. On top of probe.h (CHECK(),
 * the dbgalloc probe, --expect-dbgalloc) it gives them the allocator calls
 * through volatile pointers (so gcc cannot fold or reject them, PITFALLS
 * 20), the resident set size read without allocating, a monotonic clock,
 * run sizes from the environment (DA_TEST_SOAK=1 for `make soak`) and a
 * wait for a child with a deadline.
 *
 * Exit status of every program: 0 pass, 1 fail, 77 skipped (with a line
 * "SKIP: why" on standard output).
 */
#ifndef DA_TEST_REGRESS_H
#define DA_TEST_REGRESS_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/integration/probe.h"

#define RG_UNUSED __attribute__((unused))

enum { RG_SKIP = 77 };

/* Not every program calls every one of them. */
RG_UNUSED static void *(*volatile rg_malloc)(size_t) = malloc;
RG_UNUSED static void *(*volatile rg_calloc)(size_t, size_t) = calloc;
RG_UNUSED static void *(*volatile rg_realloc)(void *, size_t) = realloc;
RG_UNUSED static void *(*volatile rg_aligned_alloc)(size_t,
                                                    size_t) = aligned_alloc;
RG_UNUSED static void (*volatile rg_free)(void *) = free;

/* Seconds on the monotonic clock. */
static inline double
rg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void
rg_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * The resident set in MiB from /proc/self/statm, read with open/read:
 * stdio would allocate and disturb what is being measured. -1 on error.
 */
static inline long
rg_rss_mib(void)
{
	char buf[160], *p, *end;
	long pages;
	ssize_t n;
	int fd;

	fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	(void)strtol(buf, &p, 10); /* total program size */
	pages = strtol(p, &end, 10);
	if (end == p)
		return -1;
	return pages * (sysconf(_SC_PAGESIZE) / 1024) / 1024;
}

/* A field of /proc/meminfo in KiB ("MemTotal", ...), or -1. */
static inline long
rg_meminfo_kib(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long v = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* 1 when DA_TEST_SOAK is set to a non-zero number (make soak). */
static inline int
rg_soak(void)
{
	const char *s = getenv("DA_TEST_SOAK");

	return s != NULL && atoi(s) != 0;
}

/*
 * A run size: the environment variable name if it is set, else soak when
 * DA_TEST_SOAK is on, else dflt. Every program prints the sizes it uses.
 */
static inline long
rg_param(const char *name, long dflt, long soak)
{
	const char *s = getenv(name);

	if (s != NULL && *s != '\0')
		return strtol(s, NULL, 10);
	return rg_soak() ? soak : dflt;
}

enum { RG_CHILD_OK, RG_CHILD_FAILED, RG_CHILD_HUNG };

/*
 * Waits up to deadline_ms for the child pid. A child still running then is
 * killed (SIGKILL) and reaped. Returns RG_CHILD_OK if it exited 0, else
 * RG_CHILD_FAILED or RG_CHILD_HUNG after saying why on standard error
 * (unless what is NULL: a caller that has said enough already).
 */
static inline int
rg_reap(pid_t pid, long deadline_ms, const char *what)
{
	double end = rg_now() + (double)deadline_ms / 1000;
	struct timespec nap = {0, 0};
	long nap_us = 20;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			if (what != NULL)
				fprintf(stderr, "FAIL %s: waitpid(%ld): %s\n",
				        what, (long)pid, strerror(errno));
			return RG_CHILD_FAILED;
		}
		if (rg_now() > end) {
			if (what != NULL)
				fprintf(stderr,
				        "FAIL %s: child %ld still running "
				        "after %ld ms: hung, killed\n",
				        what, (long)pid, deadline_ms);
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return RG_CHILD_HUNG;
		}
		nap.tv_nsec = nap_us * 1000;
		nanosleep(&nap, NULL);
		if (nap_us < 5000)
			nap_us *= 2;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return RG_CHILD_OK;
	if (what == NULL)
		return RG_CHILD_FAILED;
	if (WIFEXITED(status))
		fprintf(stderr, "FAIL %s: child %ld exited with status %d\n",
		        what, (long)pid, WEXITSTATUS(status));
	else
		fprintf(stderr, "FAIL %s: child %ld killed by signal %d (%s)\n",
		        what, (long)pid, WTERMSIG(status),
		        strsignal(WTERMSIG(status)));
	return RG_CHILD_FAILED;
}

#endif /* DA_TEST_REGRESS_H */
