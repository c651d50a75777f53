/*
 * dbgalloc-test.h — memory limits and leak checks for tests, in plain C.
 *
 * What pytest-memray's limit_memory and limit_leaks markers do for Python
 * tests: a check, begun before the code under test and ended after it,
 * fails when the live bytes rose more than a limit above their level at its
 * start, or (DBGALLOC_CHECK_NO_LEAKS) when a block allocated inside it is
 * still live at its end, and says so in pytest-memray's words, with the call
 * sites to blame. Header only: static inline functions over the scope API
 * of <dbgalloc.h>; a program needs -ldbgalloc (or the library preloaded),
 * nothing else. dbgalloc-cmocka.h builds cmocka assertions on it.
 *
 * A check is a scope with DBGALLOC_SCOPE_WATCH: its limit refuses nothing,
 * so the code under test runs as it would without the check. Only
 * dbgalloc_check_end writes the message, after the scope has ended, so
 * the check's own formatting is never counted.
 */
#ifndef DBGALLOC_TEST_H
#define DBGALLOC_TEST_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "dbgalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Count the calling thread's allocations and frees only. */
#define DBGALLOC_CHECK_THREAD DBGALLOC_SCOPE_THREAD
/* Fail when a block allocated inside the check is live at its end. */
#define DBGALLOC_CHECK_NO_LEAKS 0x100u

/* Call sites listed per section of a message; define before including. */
#ifndef DBGALLOC_CHECK_SITES
#define DBGALLOC_CHECK_SITES 5
#endif
/* The message buffer of DBGALLOC_CHECK_END and of dbgalloc-cmocka.h. */
#ifndef DBGALLOC_CHECK_MSG_SIZE
#define DBGALLOC_CHECK_MSG_SIZE 8192
#endif

struct dbgalloc_check {
	struct dbgalloc_scope scope; /* its figures are valid after the end */
	size_t limit;                /* bytes above the start; 0: no limit */
	unsigned flags;              /* DBGALLOC_CHECK_* */
};

/*
 * Begins a check: limit is the most the live bytes may rise above their
 * level now (0: no limit), flags DBGALLOC_CHECK_THREAD and
 * DBGALLOC_CHECK_NO_LEAKS. Checks nest like the scopes under them: a
 * thread ends its checks in the reverse order it began them, and check
 * must stay where it is until then (not on a stack frame a longjmp may
 * leave). Returns 0, or -1 with errno EINVAL for unknown flags.
 */
static inline int
dbgalloc_check_begin(struct dbgalloc_check *check, size_t limit, unsigned flags)
{
	if (flags & ~(DBGALLOC_CHECK_THREAD | DBGALLOC_CHECK_NO_LEAKS)) {
		errno = EINVAL;
		return -1;
	}
	check->limit = limit;
	check->flags = flags;
	return dbgalloc_scope_begin(
	        &check->scope,
	        DBGALLOC_SCOPE_WATCH | (flags & DBGALLOC_CHECK_THREAD), limit);
}

/*
 * Writes bytes as pytest-memray does, into buf (len bytes): below 1 KiB
 * in bytes ("48B"), else with one decimal in the largest binary unit that
 * keeps the number below 1024 ("24.0MiB", "1.5GiB"). Returns buf.
 */
static inline const char *
dbgalloc_check_size(size_t bytes, char *buf, size_t len)
{
	static const char units[][4] = {"KiB", "MiB", "GiB",
	                                "TiB", "PiB", "EiB"};
	double n = (double)bytes / 1024;
	unsigned u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%zuB", bytes);
		return buf;
	}
	while (n >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		n /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f%s", n, units[u]);
	return buf;
}

/* Appends to msg (len bytes) at *pos; output that does not fit is cut. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static inline void
dbgalloc_check_put(char *msg, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos = *pos + (size_t)n < len ? *pos + (size_t)n : len - 1;
}

/* The call sites of one section, after its headline. */
static inline void
dbgalloc_check_put_sites(const struct dbgalloc_check *check, int which,
                         char *msg, size_t len, size_t *pos)
{
	size_t n = 0;

	if (*pos + 1 < len)
		n = dbgalloc_scope_sites(&check->scope, which,
		                         DBGALLOC_CHECK_SITES, msg + *pos,
		                         len - *pos);
	*pos += n;
	if (n == 0)
		dbgalloc_check_put(msg, len, pos, "    (no call site)\n");
	else if (msg[*pos - 1] != '\n')
		dbgalloc_check_put(msg, len, pos, "\n");
}

/*
 * Ends the check and returns 0 when it held, else -1 with the reasons in
 * msg (len bytes, always NUL-terminated, each line ending in '\n'; cut
 * short if too long). Over the limit:
 *
 *   Test was limited to 1.0MiB but allocated 2.0MiB
 *   List of allocations:
 *       <the sites live when the limit was crossed>
 *
 * "allocated" is the scope's peak above the start. With a leak:
 *
 *   Test was allowed to leak 0B but leaked 48B in 2 blocks
 *   List of leaked allocations:
 *       <the sites of the blocks allocated in the check and still live>
 *
 * Both sections when both failed. A check that is not the thread's
 * innermost open one (or was never begun) is not ended: -1, errno EINVAL,
 * and a message that says so.
 */
static inline int
dbgalloc_check_end(struct dbgalloc_check *check, char *msg, size_t len)
{
	const struct dbgalloc_scope *s = &check->scope;
	char limit[16], used[16];
	size_t pos = 0, peak;
	int over, leaked;

	if (len != 0)
		msg[0] = '\0';
	if (dbgalloc_scope_end(&check->scope) != 0) {
		dbgalloc_check_put(msg, len, &pos,
		                   "dbgalloc: check ended out of order: it is "
		                   "not the innermost check open in this "
		                   "thread\n");
		errno = EINVAL;
		return -1;
	}
	/* Under threads peak_bytes is sampled; crossed_at is not. */
	peak = s->peak_bytes > s->crossed_at ? s->peak_bytes : s->crossed_at;
	over = check->limit != 0 && (s->limit_crossed || peak > check->limit);
	leaked = (check->flags & DBGALLOC_CHECK_NO_LEAKS) && s->live_blocks;
	if (over) {
		dbgalloc_check_put(
		        msg, len, &pos,
		        "Test was limited to %s but allocated %s\n"
		        "List of allocations:\n",
		        dbgalloc_check_size(check->limit, limit, sizeof limit),
		        dbgalloc_check_size(peak, used, sizeof used));
		dbgalloc_check_put_sites(check, DBGALLOC_SITES_AT_LIMIT, msg,
		                         len, &pos);
	}
	if (leaked) {
		dbgalloc_check_put(
		        msg, len, &pos,
		        "Test was allowed to leak 0B but leaked %s in %zu "
		        "block%s\n"
		        "List of leaked allocations:\n",
		        dbgalloc_check_size(s->live_bytes, used, sizeof used),
		        s->live_blocks, s->live_blocks == 1 ? "" : "s");
		dbgalloc_check_put_sites(check, DBGALLOC_SITES_LIVE, msg, len,
		                         &pos);
	}
	return over || leaked ? -1 : 0;
}

/*
 * dbgalloc_check_end for DBGALLOC_CHECK_END: on failure, writes
 * "FILE:LINE: " and the message to standard error and returns 1; else 0.
 */
static inline int
dbgalloc_check_end_print(struct dbgalloc_check *check, const char *file,
                         int line)
{
	char msg[DBGALLOC_CHECK_MSG_SIZE];

	if (dbgalloc_check_end(check, msg, sizeof msg) == 0)
		return 0;
	fprintf(stderr, "%s:%d: %s", file, line, msg);
	return 1;
}

/*
 * The form for plain C programs:
 *
 *   struct dbgalloc_check chk;
 *
 *   DBGALLOC_CHECK_BEGIN(&chk, 24 << 20, DBGALLOC_CHECK_NO_LEAKS);
 *   run_the_code_under_test();
 *   if (DBGALLOC_CHECK_END(&chk))
 *           failures++;
 *
 * DBGALLOC_CHECK_BEGIN evaluates to dbgalloc_check_begin's 0 or -1;
 * DBGALLOC_CHECK_END to 0 when the check held, else 1 after printing the
 * message to standard error, headed by the file and line of the END.
 */
#define DBGALLOC_CHECK_BEGIN(check, limit, flags) \
	dbgalloc_check_begin((check), (limit), (flags))
#define DBGALLOC_CHECK_END(check) \
	dbgalloc_check_end_print((check), __FILE__, __LINE__)

#ifdef __cplusplus
}
#endif

#endif /* DBGALLOC_TEST_H */
