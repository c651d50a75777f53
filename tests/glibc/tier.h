/*
 * tier.h — shared by the glibc tier: our own programs checking what glibc's
 * malloc/tst-* tests for fork, signals, cancellation and thread exit check.
 * On top of probe.h: a watchdog that also kills the program's children (a
 * child hung inside fork would outlive a parent that gave up on it),
 * output for signal handlers (write(2), no stdio, no allocation) and the
 * length of a program's timed phase (DA_TEST_SECONDS).
 *
 * Everything here that a signal handler calls is async-signal-safe: the
 * child table is a fixed array changed with atomic compare-and-swap.
 */
#ifndef DA_TEST_GLIBC_TIER_H
#define DA_TEST_GLIBC_TIER_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/types.h>

#include "tests/integration/probe.h"

enum { TIER_MAX_PIDS = 64 };

/* Children to kill if the watchdog fires; 0 marks a free entry. */
static pid_t tier_pids[TIER_MAX_PIDS];
/* Called (async-signal-safe) by the watchdog before it ends the run. */
static void (*volatile tier_on_timeout)(void);
static const char *tier_name = "test";

/* Writes s to stderr. Async-signal-safe; preserves errno. */
static inline void
tier_say(const char *s)
{
	int saved = errno;

	(void)!write(2, s, strlen(s));
	errno = saved;
}

/* Writes "<prefix><n><suffix>" to stderr. Async-signal-safe. */
static inline void
tier_say_num(const char *prefix, long n, const char *suffix)
{
	char digits[24], *d = digits + sizeof(digits);
	unsigned long u = n < 0 ? 0ul - (unsigned long)n : (unsigned long)n;

	*--d = '\0';
	do {
		*--d = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (n < 0)
		*--d = '-';
	tier_say(prefix);
	tier_say(d);
	tier_say(suffix);
}

/*
 * Prints "FAIL: <message>" on stderr and counts a failure, as CHECK() does.
 * Uses stdio: not for signal handlers or forked children.
 */
static inline void __attribute__((format(printf, 1, 2)))
tier_failf(const char *fmt, ...)
{
	va_list ap;

	fputs("FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	__atomic_add_fetch(&probe_failures, 1, __ATOMIC_RELAXED);
}

/*
 * probe_fail() for failures that may repeat in every thread: only the
 * first few are printed, the rest only counted.
 */
static inline void
tier_fail(const char *file, int line, const char *what)
{
	static int printed;

	if (__atomic_add_fetch(&printed, 1, __ATOMIC_RELAXED) <= 10)
		probe_fail(file, line, what);
	else
		__atomic_add_fetch(&probe_failures, 1, __ATOMIC_RELAXED);
}

/* Remembers a child for the watchdog. Async-signal-safe. */
static inline void
tier_track(pid_t pid)
{
	int i;

	for (i = 0; i < TIER_MAX_PIDS; i++) {
		pid_t free_ = 0;
		if (__atomic_compare_exchange_n(&tier_pids[i], &free_, pid, 0,
		                                __ATOMIC_SEQ_CST,
		                                __ATOMIC_RELAXED))
			return;
	}
}

/* Forgets a child that has been reaped. Async-signal-safe. */
static inline void
tier_untrack(pid_t pid)
{
	int i;

	for (i = 0; i < TIER_MAX_PIDS; i++) {
		pid_t p = pid;
		if (__atomic_compare_exchange_n(&tier_pids[i], &p, 0, 0,
		                                __ATOMIC_SEQ_CST,
		                                __ATOMIC_RELAXED))
			return;
	}
}

/* SIGKILLs every tracked child. Async-signal-safe. */
static inline void
tier_kill_children(void)
{
	int i;

	for (i = 0; i < TIER_MAX_PIDS; i++) {
		pid_t p = __atomic_load_n(&tier_pids[i], __ATOMIC_SEQ_CST);
		if (p > 0)
			kill(p, SIGKILL);
	}
}

static inline void
tier_watchdog_fired(int sig)
{
	void (*hook)(void) = tier_on_timeout;

	(void)sig;
	tier_say("FAIL: watchdog: ");
	tier_say(tier_name);
	tier_say(" did not end in time (deadlock?)\n");
	if (hook != NULL)
		hook();
	tier_kill_children();
	_exit(1);
}

/*
 * Ends the process, and every tracked child, with a FAIL line if it is
 * still running after s seconds; a later call re-arms it.
 */
static inline void
tier_watchdog(unsigned s)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tier_watchdog_fired;
	sigfillset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(s);
}

/*
 * The length in seconds of a program's timed phase: DA_TEST_SECONDS if set
 * (1 to 60), otherwise dflt.
 */
static inline unsigned
tier_seconds(unsigned dflt)
{
	const char *s = getenv("DA_TEST_SECONDS");
	long v;

	if (s == NULL || *s == '\0')
		return dflt;
	v = strtol(s, NULL, 10);
	if (v < 1 || v > 60) {
		fprintf(stderr, "DA_TEST_SECONDS=%s: want 1 to 60; using %u\n",
		        s, dflt);
		return dflt;
	}
	return (unsigned)v;
}

/* Starts a program of the tier: probe_start, then names it for messages. */
static inline void
tier_start(int *argc, char **argv, const char *name)
{
	tier_name = name;
	probe_start(argc, argv);
}

#endif /* DA_TEST_GLIBC_TIER_H */
