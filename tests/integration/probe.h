/*
 * probe.h — shared by the integration and stress programs that are built
 * twice: linked with libdbgalloc (DA_TEST_LINKED defined) and plain, to be
 * run under LD_PRELOAD. It tells a program whether dbgalloc is in the
 * process, so a preloaded run can prove that the preload took effect, and
 * gives every program the same CHECK() that counts failures.
 *
 * Plain builds reference dbgalloc_version/dbgalloc_owns weakly: they are
 * NULL without dbgalloc and resolve to the preloaded library with it. Linked
 * builds reference them strongly, so a static link pulls them in.
 */
#ifndef DA_TEST_PROBE_H
#define DA_TEST_PROBE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/dbgalloc.h"

#ifndef DA_TEST_LINKED
#pragma weak dbgalloc_version
#pragma weak dbgalloc_owns
#endif

/* Failures seen by CHECK(); a program exits 1 when it is not zero. */
static int probe_failures;
/* 1 when the run must have dbgalloc: linked, or --expect-dbgalloc given. */
static int probe_expect;

#define CHECK(cond)                                            \
	do {                                                   \
		if (!(cond))                                   \
			probe_fail(__FILE__, __LINE__, #cond); \
	} while (0)

static inline void
probe_fail(const char *file, int line, const char *what)
{
	char buf[512];
	int n;

	/* write(2), not stdio: CHECK() is also used in forked children. */
	n = snprintf(buf, sizeof(buf), "FAIL %s:%d: %s (pid %ld)\n", file, line,
	             what, (long)getpid());
	if (n > 0)
		(void)!write(2, buf,
		             (size_t)n < sizeof(buf) ? (size_t)n
		                                     : sizeof(buf) - 1);
	__atomic_add_fetch(&probe_failures, 1, __ATOMIC_RELAXED);
}

/* 1 if dbgalloc's own functions are reachable in this process. */
static inline int
probe_active(void)
{
#ifdef DA_TEST_LINKED
	return 1;
#else
	return dbgalloc_version != NULL && dbgalloc_owns != NULL;
#endif
}

/*
 * 1 if p is a live dbgalloc block. Without dbgalloc (a plain baseline run)
 * it answers 1, so the same assertions hold with and without it.
 */
static inline int
probe_owned(const void *p)
{
	return probe_active() ? dbgalloc_owns(p) == 1 : 1;
}

/* 1 if p is not a live dbgalloc block (always 1 without dbgalloc). */
static inline int
probe_not_owned(const void *p)
{
	return probe_active() ? dbgalloc_owns(p) == 0 : 1;
}

static inline void
probe_watchdog_fired(int sig)
{
	static const char msg[] =
	        "FAIL: watchdog: the program did not end in time (deadlock?)\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

/* Ends the process with a message if it is still running after s seconds. */
static inline void
probe_watchdog(unsigned s)
{
	signal(SIGALRM, probe_watchdog_fired);
	alarm(s);
}

/*
 * Reads --expect-dbgalloc from argv (removing it) and, when dbgalloc is
 * expected, stops the program unless it is there. Prints one line saying
 * which allocator serves the run; the driver scripts look for it. Arms a
 * 300 s watchdog, so a deadlock fails the test instead of hanging it.
 */
static inline void
probe_start(int *argc, char **argv)
{
	int i, j;

#ifdef DA_TEST_LINKED
	probe_expect = 1;
#endif
	for (i = j = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--expect-dbgalloc") == 0)
			probe_expect = 1;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	*argc = j;
	if (probe_expect && !probe_active()) {
		fprintf(stderr,
		        "FAIL: dbgalloc expected but not in the process "
		        "(LD_PRELOAD not effective?)\n");
		exit(1);
	}
	probe_watchdog(300);
	if (probe_active())
		printf("allocator: dbgalloc %s\n", dbgalloc_version());
	else
		printf("allocator: system\n");
	fflush(stdout);
}

/* Exit status for the end of main: 0 only if no CHECK() failed. */
static inline int
probe_status(void)
{
	return __atomic_load_n(&probe_failures, __ATOMIC_RELAXED) ? 1 : 0;
}

/*
 * The test pattern: byte i of a block tagged tag is byte i % 8 (little
 * endian) of the word pattern_word(tag, i / 8). It depends on the offset and
 * not on the block's length, so a prefix can be checked after realloc.
 */
static inline uint64_t
pattern_word(uint64_t tag, size_t k)
{
	return (tag + 1) * 0x9e3779b97f4a7c15ull + k * 0x100000001b3ull;
}

static inline unsigned char
pattern_byte(uint64_t tag, size_t i)
{
	return (unsigned char)(pattern_word(tag, i / 8) >> (8 * (i % 8)));
}

/* Fills bytes [from, n) of the block p with its pattern. */
static inline void
pattern_fill_from(void *p, size_t from, size_t n, uint64_t tag)
{
	unsigned char *b = p;
	uint64_t *q = p;
	size_t i = from;

	for (; i < n && i % 8 != 0; i++)
		b[i] = pattern_byte(tag, i);
	for (; i + 8 <= n; i += 8)
		q[i / 8] = pattern_word(tag, i / 8);
	for (; i < n; i++)
		b[i] = pattern_byte(tag, i);
}

static inline void
pattern_fill(void *p, size_t n, uint64_t tag)
{
	pattern_fill_from(p, 0, n, tag);
}

/* The offset of the first byte in [from, n) not holding the pattern, or n. */
static inline size_t
pattern_check_from(const void *p, size_t from, size_t n, uint64_t tag)
{
	const unsigned char *b = p;
	const uint64_t *q = p;
	size_t i = from;

	for (; i < n && i % 8 != 0; i++)
		if (b[i] != pattern_byte(tag, i))
			return i;
	for (; i + 8 <= n; i += 8)
		if (q[i / 8] != pattern_word(tag, i / 8))
			break;
	for (; i < n; i++)
		if (b[i] != pattern_byte(tag, i))
			return i;
	return n;
}

/* 1 if the first n bytes at p hold the pattern for tag. */
static inline int
pattern_ok(const void *p, size_t n, uint64_t tag)
{
	return pattern_check_from(p, 0, n, tag) == n;
}

#endif /* DA_TEST_PROBE_H */
