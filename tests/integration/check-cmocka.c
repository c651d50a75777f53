/*
 * check-cmocka.c — the cmocka helpers of <dbgalloc-cmocka.h>, linked with
 * libdbgalloc. Some tests must pass and some must fail with dbgalloc's
 * message; cmocka-helpers.sh runs this program and checks which, the
 * messages and that the run goes on after a failure: the tests named
 * fail_* are the ones expected to fail. The others also check the plain
 * dbgalloc_check_end's verdicts and messages directly, nesting and
 * DBGALLOC_CHECK_THREAD. Built with -g and frame pointers, and the
 * allocating helpers kept out of line, so sites name them.
 */

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shim/dbgalloc-cmocka.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* Opaque to gcc, so no allocation is folded away. */
static void *(*volatile fn_malloc)(size_t) = malloc;
static void (*volatile fn_free)(void *) = free;

#define TABLE_ROWS 8
static void *table[TABLE_ROWS];
static void *kept[2];
/* Read at run time, so gcc does not unroll the loops: one call site. */
static volatile int table_rows = TABLE_ROWS, kept_blocks = 2;

/* Fills table with TABLE_ROWS blocks of row bytes. */
__attribute__((noinline)) static void
grow_table(size_t row)
{
	for (int i = 0; i < table_rows; i++) {
		table[i] = fn_malloc(row);
		if (table[i] == NULL)
			abort(); /* no assert: a plain check may be open */
		memset(table[i], i, row);
	}
}

static void
free_table(void)
{
	for (int i = 0; i < TABLE_ROWS; i++) {
		fn_free(table[i]);
		table[i] = NULL;
	}
}

/* Two 24-byte blocks the caller frees, or not. */
__attribute__((noinline)) static void
leak_two(void)
{
	for (int i = 0; i < kept_blocks; i++) {
		kept[i] = fn_malloc(24);
		if (kept[i] == NULL)
			abort();
	}
}

static void
free_kept(void)
{
	fn_free(kept[0]);
	fn_free(kept[1]);
	kept[0] = kept[1] = NULL;
}

static void
test_size_format(void **state)
{
	char b[16];

	(void)state;
	assert_string_equal(dbgalloc_check_size(0, b, sizeof b), "0B");
	assert_string_equal(dbgalloc_check_size(48, b, sizeof b), "48B");
	assert_string_equal(dbgalloc_check_size(1023, b, sizeof b), "1023B");
	assert_string_equal(dbgalloc_check_size(1024, b, sizeof b), "1.0KiB");
	assert_string_equal(dbgalloc_check_size(1536, b, sizeof b), "1.5KiB");
	assert_string_equal(dbgalloc_check_size(24 * MiB, b, sizeof b),
	                    "24.0MiB");
	/* 30.1 MiB, as in pytest-memray's example */
	assert_string_equal(
	        dbgalloc_check_size(30 * MiB + 105 * KiB, b, sizeof b),
	        "30.1MiB");
	/* memray's rule: the unit is chosen before rounding */
	assert_string_equal(dbgalloc_check_size(MiB - 1, b, sizeof b),
	                    "1024.0KiB");
	assert_string_equal(dbgalloc_check_size((size_t)3 << 30, b, sizeof b),
	                    "3.0GiB");
	assert_string_equal(dbgalloc_check_size(SIZE_MAX, b, sizeof b),
	                    "16.0EiB");
}

static void
test_within_limit(void **state)
{
	(void)state;
	dbgalloc_limit_memory_begin(1 * MiB);
	grow_table(64 * KiB); /* 512 KiB */
	free_table();
	dbgalloc_assert_limit_memory();
}

/* Expected to fail: 2 MiB live under a 1 MiB limit. */
static void
fail_over_limit(void **state)
{
	(void)state;
	dbgalloc_limit_memory_begin(1 * MiB);
	grow_table(256 * KiB);
	free_table();
	dbgalloc_assert_limit_memory();
}

static void
test_no_leaks(void **state)
{
	(void)state;
	dbgalloc_limit_leaks_begin();
	leak_two();
	free_kept();
	dbgalloc_assert_no_leaks();
}

/* Expected to fail: two 24-byte blocks still live. */
static void
fail_leaks(void **state)
{
	(void)state;
	dbgalloc_limit_leaks_begin();
	leak_two();
	dbgalloc_assert_no_leaks();
}

/* Runs after the failures: they must not have stopped the run. */
static void
test_after_failures(void **state)
{
	(void)state;
	free_kept(); /* what fail_leaks left */
	assert_int_equal(dbgalloc_checks_open(), 0);
	dbgalloc_limits_begin(1 * MiB, DBGALLOC_CHECK_NO_LEAKS);
	leak_two();
	free_kept();
	dbgalloc_assert_limits();
}

/* A block from before the check, freed in it, is not the check's. */
static void
test_frees_older_blocks(void **state)
{
	void *old = fn_malloc(2 * MiB);

	(void)state;
	assert_non_null(old);
	dbgalloc_limits_begin(1 * MiB, DBGALLOC_CHECK_NO_LEAKS);
	fn_free(old);
	grow_table(64 * KiB);
	free_table();
	dbgalloc_assert_limits();
}

/*
 * The inner check fails, the outer one holds: its limit is higher and the
 * blocks left in the inner one are freed before it ends. With the plain
 * functions nothing may fail between a begin and its end (cmocka would
 * longjmp out, the scope left open on a dead frame), so the verdicts are
 * asserted after both.
 */
static void
test_nested(void **state)
{
	struct dbgalloc_check outer, inner;
	char msg[DBGALLOC_CHECK_MSG_SIZE], outer_msg[DBGALLOC_CHECK_MSG_SIZE];
	int begun_outer, begun_inner, ended_inner, ended_outer;

	(void)state;
	begun_outer =
	        dbgalloc_check_begin(&outer, 4 * MiB, DBGALLOC_CHECK_NO_LEAKS);
	begun_inner =
	        dbgalloc_check_begin(&inner, 1 * MiB, DBGALLOC_CHECK_NO_LEAKS);
	grow_table(256 * KiB);
	free_table();
	leak_two();
	ended_inner = dbgalloc_check_end(&inner, msg, sizeof msg);
	free_kept();
	ended_outer = dbgalloc_check_end(&outer, outer_msg, sizeof outer_msg);

	assert_int_equal(begun_outer, 0);
	assert_int_equal(begun_inner, 0);
	assert_int_equal(ended_inner, -1);
	assert_non_null(strstr(msg, "Test was limited to 1.0MiB but "
	                            "allocated 2.0MiB\n"
	                            "List of allocations:\n"));
	assert_non_null(strstr(msg, "Test was allowed to leak 0B but leaked "
	                            "48B in 2 blocks\n"
	                            "List of leaked allocations:\n"));
	assert_non_null(strstr(msg, " in grow_table "));
	assert_non_null(strstr(msg, " in leak_two "));
	assert_int_equal(ended_outer, 0);
	assert_string_equal(outer_msg, "");
	assert_true(outer.scope.peak_bytes >= 2 * MiB);
	assert_int_equal(outer.scope.live_blocks, 0);
}

/* The same with the cmocka pairs: the inner one fails the test. */
static void
fail_nested_inner(void **state)
{
	(void)state;
	dbgalloc_limit_memory_begin(4 * MiB);
	dbgalloc_limit_memory_begin(1 * MiB);
	grow_table(256 * KiB);
	free_table();
	dbgalloc_assert_limit_memory();
	dbgalloc_assert_limit_memory();
}

/* Checks end innermost first; an outer one ended early is refused. */
static void
test_out_of_order(void **state)
{
	struct dbgalloc_check outer, inner;
	char msg[DBGALLOC_CHECK_MSG_SIZE], spare[DBGALLOC_CHECK_MSG_SIZE];
	int early, inner_end, outer_end;

	(void)state;
	assert_int_equal(dbgalloc_check_begin(&outer, 0, 0), 0);
	if (dbgalloc_check_begin(&inner, 0, 0) != 0) {
		dbgalloc_check_end(&outer, spare, sizeof spare);
		fail_msg("the inner check did not begin");
	}
	early = dbgalloc_check_end(&outer, msg, sizeof msg);
	inner_end = dbgalloc_check_end(&inner, spare, sizeof spare);
	outer_end = dbgalloc_check_end(&outer, spare, sizeof spare);
	assert_int_equal(early, -1);
	assert_string_equal(msg, "dbgalloc: check ended out of order: it is "
	                         "not the innermost check open in this "
	                         "thread\n");
	assert_int_equal(inner_end, 0);
	assert_int_equal(outer_end, 0);
	/* Ended twice, never begun, unknown flags: refused, nothing open. */
	assert_int_equal(dbgalloc_check_end(&outer, msg, sizeof msg), -1);
	assert_int_equal(dbgalloc_check_begin(&outer, 0, 0x4000), -1);
}

/*
 * A thread, created before the checks so that pthread_create's own
 * blocks are not theirs, allocates 2 MiB while each check is open and
 * frees it after the check has ended, before the next one begins.
 */
static pthread_barrier_t step;
static void *other_block;

static void *
other_thread(void *arg)
{
	(void)arg;
	for (int round = 0; round < 2; round++) {
		pthread_barrier_wait(&step); /* the check is open */
		other_block = fn_malloc(2 * MiB);
		memset(other_block, 1, 2 * MiB);
		pthread_barrier_wait(&step); /* allocated */
		pthread_barrier_wait(&step); /* the check has ended */
		fn_free(other_block);
		other_block = NULL;
		pthread_barrier_wait(&step); /* freed, before the next */
	}
	return NULL;
}

/* A check while the other thread allocates its 2 MiB (nothing in it may
 * fail: see test_nested). */
static int
check_round(size_t limit, unsigned flags, char *msg, size_t len)
{
	struct dbgalloc_check c;
	int rc;

	if (dbgalloc_check_begin(&c, limit, flags) != 0)
		return 1;
	pthread_barrier_wait(&step);
	pthread_barrier_wait(&step);
	rc = dbgalloc_check_end(&c, msg, len);
	pthread_barrier_wait(&step);
	pthread_barrier_wait(&step);
	return rc;
}

static void
test_thread_only(void **state)
{
	struct dbgalloc_check own;
	char msg[DBGALLOC_CHECK_MSG_SIZE];
	pthread_t t;
	int rc;

	(void)state;
	/* The calling thread's own allocations count. */
	if (dbgalloc_check_begin(&own, 1 * MiB, DBGALLOC_CHECK_THREAD) != 0)
		fail_msg("the check did not begin");
	grow_table(256 * KiB);
	free_table();
	rc = dbgalloc_check_end(&own, msg, sizeof msg);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(msg, "Test was limited to 1.0MiB but "
	                            "allocated 2.0MiB\n"));
	assert_non_null(strstr(msg, " in grow_table "));

	assert_int_equal(pthread_barrier_init(&step, NULL, 2), 0);
	assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
	/* Another thread's do not: neither its 2 MiB nor its block left. */
	assert_int_equal(
	        check_round(1 * MiB,
	                    DBGALLOC_CHECK_THREAD | DBGALLOC_CHECK_NO_LEAKS,
	                    msg, sizeof msg),
	        0);
	assert_string_equal(msg, "");
	/*
	 * The whole process: they do. (Its blocks are not certain to be
	 * seen as the check's: a thread may go on numbering its blocks from
	 * a batch it took before the check began; see dbgalloc(3).)
	 */
	assert_int_equal(
	        check_round(1 * MiB, DBGALLOC_CHECK_NO_LEAKS, msg, sizeof msg),
	        -1);
	assert_non_null(strstr(msg, "Test was limited to 1.0MiB but "
	                            "allocated 2.0MiB\n"));
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_barrier_destroy(&step);
}

/* Expected to fail: the test's own assertion, inside a check. */
static void
fail_inside_check(void **state)
{
	(void)state;
	dbgalloc_limit_memory_begin(1 * MiB);
	assert_int_equal(dbgalloc_checks_open(), 2); /* it is 1 */
	dbgalloc_assert_limit_memory();
}

/* The teardown of dbgalloc_unit_test ended the check left open. */
static void
test_teardown_ended_it(void **state)
{
	(void)state;
	assert_int_equal(dbgalloc_checks_open(), 0);
}

/* Expected to fail: ended by the assertion of the other kind. */
static void
fail_wrong_kind(void **state)
{
	(void)state;
	dbgalloc_limit_memory_begin(1 * MiB);
	dbgalloc_assert_no_leaks();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        dbgalloc_unit_test(test_size_format),
	        dbgalloc_unit_test(test_within_limit),
	        dbgalloc_unit_test(fail_over_limit),
	        dbgalloc_unit_test(test_no_leaks),
	        dbgalloc_unit_test(fail_leaks),
	        dbgalloc_unit_test(test_after_failures),
	        dbgalloc_unit_test(test_frees_older_blocks),
	        dbgalloc_unit_test(test_nested),
	        dbgalloc_unit_test(fail_nested_inner),
	        dbgalloc_unit_test(test_out_of_order),
	        dbgalloc_unit_test(test_thread_only),
	        dbgalloc_unit_test(fail_inside_check),
	        dbgalloc_unit_test(test_teardown_ended_it),
	        dbgalloc_unit_test(fail_wrong_kind),
	};

	/* Unbuffered, so that cmocka's stdout and stderr keep their order. */
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
