/*
 * dbgalloc-cmocka.h — memory limits and leak checks as cmocka assertions.
 *
 * The checks of dbgalloc-test.h, ended by an assertion that fails the test
 * it runs in (print_error, then _fail: cmocka goes on with the next test)
 * with pytest-memray's message and the call sites to blame:
 *
 *   dbgalloc_limit_memory_begin(1 << 20);
 *   grow_table(t);
 *   dbgalloc_assert_limit_memory();
 *
 * The checks live here, a small stack per thread, not on the test's
 * frame: a test whose own assertion fails inside a check longjmps out of
 * it, and the scope under the check must outlive that. Tests registered
 * with dbgalloc_unit_test() have such checks ended by their teardown.
 * Include cmocka's headers first, or let this file include them.
 */
#ifndef DBGALLOC_CMOCKA_H
#define DBGALLOC_CMOCKA_H

#ifndef CMOCKA_H_
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#endif

#include <string.h>

#include "dbgalloc-test.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The checks a thread may have open at once; define before including. */
#ifndef DBGALLOC_CMOCKA_DEPTH
#define DBGALLOC_CMOCKA_DEPTH 8
#endif

/* Which begin opened a check, for the assertion that ends it. */
#define DBGALLOC_CMOCKA_MEMORY 1 /* dbgalloc_limit_memory_begin */
#define DBGALLOC_CMOCKA_LEAKS  2 /* dbgalloc_limit_leaks_begin */
#define DBGALLOC_CMOCKA_ANY    3 /* dbgalloc_limits_begin */

struct dbgalloc_cmocka_check {
	struct dbgalloc_check check;
	int kind;         /* DBGALLOC_CMOCKA_* */
	const char *file; /* where it was begun */
	int line;
};

/* This thread's open checks, innermost last. */
static __thread struct dbgalloc_cmocka_checks {
	struct dbgalloc_cmocka_check open[DBGALLOC_CMOCKA_DEPTH];
	unsigned depth;
} dbgalloc_cmocka_checks;

/*
 * Fails the running test with msg, as reported at file:line: cmocka
 * longjmps back to its runner, so this returns only outside a test.
 */
static inline void
dbgalloc_cmocka_fail(const char *msg, const char *file, int line)
{
	/* A line at a time: cmocka 1.1's print_error keeps 1,023 bytes. */
	while (*msg != '\0') {
		size_t n = strcspn(msg, "\n");

		if (n > 1000)
			n = 1000;
		print_error("%.*s%s", (int)n, msg, msg[n] == '\n' ? "\n" : "");
		msg += n + (msg[n] == '\n');
	}
	_fail(file, line);
}

static inline void
dbgalloc_cmocka_begin(size_t limit, unsigned flags, int kind, const char *file,
                      int line)
{
	struct dbgalloc_cmocka_checks *t = &dbgalloc_cmocka_checks;
	struct dbgalloc_cmocka_check *c;

	if (t->depth == DBGALLOC_CMOCKA_DEPTH) {
		dbgalloc_cmocka_fail("dbgalloc: too many checks open in this "
		                     "thread (a test that failed inside one "
		                     "leaves it open: register it with "
		                     "dbgalloc_unit_test)\n",
		                     file, line);
		return;
	}
	c = &t->open[t->depth];
	if (dbgalloc_check_begin(&c->check, limit, flags) != 0) {
		dbgalloc_cmocka_fail("dbgalloc: the check could not begin "
		                     "(unknown flags)\n",
		                     file, line);
		return;
	}
	c->kind = kind;
	c->file = file;
	c->line = line;
	t->depth++;
}

static inline void
dbgalloc_cmocka_assert(int kind, const char *file, int line)
{
	struct dbgalloc_cmocka_checks *t = &dbgalloc_cmocka_checks;
	struct dbgalloc_cmocka_check *c;
	char msg[DBGALLOC_CHECK_MSG_SIZE];
	int rc;

	if (t->depth == 0) {
		dbgalloc_cmocka_fail("dbgalloc: no check is open in this "
		                     "thread\n",
		                     file, line);
		return;
	}
	c = &t->open[t->depth - 1];
	/* Ended whatever the outcome, so that the stack stays in order. */
	rc = dbgalloc_check_end(&c->check, msg, sizeof msg);
	t->depth--;
	if (kind != DBGALLOC_CMOCKA_ANY && kind != c->kind) {
		snprintf(msg, sizeof msg, "%s (it was begun at %s:%d)\n",
		         kind == DBGALLOC_CMOCKA_MEMORY
		                 ? "dbgalloc: the innermost check is not a "
		                   "limit_memory check"
		                 : "dbgalloc: the innermost check is not a "
		                   "limit_leaks check",
		         c->file, c->line);
		rc = -1;
	}
	if (rc != 0)
		dbgalloc_cmocka_fail(msg, file, line);
}

/*
 * Begins a check in the calling thread: the test may use at most bytes
 * (the live bytes may rise that much above their level now); ended by
 * dbgalloc_assert_limit_memory().
 */
#define dbgalloc_limit_memory_begin(bytes)                                  \
	dbgalloc_cmocka_begin((bytes), 0, DBGALLOC_CMOCKA_MEMORY, __FILE__, \
	                      __LINE__)
#define dbgalloc_assert_limit_memory() \
	dbgalloc_cmocka_assert(DBGALLOC_CMOCKA_MEMORY, __FILE__, __LINE__)

/*
 * Begins a check that what the test allocates from now on is freed by
 * dbgalloc_assert_no_leaks().
 */
#define dbgalloc_limit_leaks_begin()                      \
	dbgalloc_cmocka_begin(0, DBGALLOC_CHECK_NO_LEAKS, \
	                      DBGALLOC_CMOCKA_LEAKS, __FILE__, __LINE__)
#define dbgalloc_assert_no_leaks() \
	dbgalloc_cmocka_assert(DBGALLOC_CMOCKA_LEAKS, __FILE__, __LINE__)

/*
 * Both, and DBGALLOC_CHECK_THREAD: bytes (0: no limit) and flags as for
 * dbgalloc_check_begin. dbgalloc_assert_limits() ends the innermost check,
 * whichever begin opened it, and asserts all it was begun with.
 */
#define dbgalloc_limits_begin(bytes, flags)                                    \
	dbgalloc_cmocka_begin((bytes), (flags), DBGALLOC_CMOCKA_ANY, __FILE__, \
	                      __LINE__)
#define dbgalloc_assert_limits() \
	dbgalloc_cmocka_assert(DBGALLOC_CMOCKA_ANY, __FILE__, __LINE__)

/* The checks the calling thread has open. */
static inline unsigned
dbgalloc_checks_open(void)
{
	return dbgalloc_cmocka_checks.depth;
}

/*
 * A cmocka teardown: ends, unjudged, the checks a failed test left open
 * in this thread. Call it from a teardown of your own, or register tests
 * with dbgalloc_unit_test().
 */
static inline int
dbgalloc_checks_teardown(void **state)
{
	struct dbgalloc_cmocka_checks *t = &dbgalloc_cmocka_checks;
	char msg[1];

	(void)state;
	while (t->depth != 0) {
		t->depth--;
		dbgalloc_check_end(&t->open[t->depth].check, msg, sizeof msg);
	}
	return 0;
}

#define dbgalloc_unit_test(f) \
	cmocka_unit_test_teardown(f, dbgalloc_checks_teardown)

#ifdef __cplusplus
}
#endif

#endif /* DBGALLOC_CMOCKA_H */
