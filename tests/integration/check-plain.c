/*
 * check-plain.c — the plain C form of <dbgalloc-test.h>,
 * DBGALLOC_CHECK_BEGIN and DBGALLOC_CHECK_END, linked with libdbgalloc.
 * Each case prints "case NAME: held" or "case NAME: failed" on standard
 * output after its message, if any, on standard error; the exit status is
 * the number of checks that failed. cmocka-helpers.sh expects within,
 * nested-outer and thread to hold and over-limit, leak, both and
 * nested-inner to fail with their messages.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim/dbgalloc-test.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static void *(*volatile fn_malloc)(size_t) = malloc;
static void (*volatile fn_free)(void *) = free;

#define TABLE_ROWS 8
static void *table[TABLE_ROWS];
static void *kept[2];
/* Read at run time, so gcc does not unroll the loops: one call site. */
static volatile int table_rows = TABLE_ROWS, kept_blocks = 2;
static int failures;

__attribute__((noinline)) static void
grow_table(size_t row)
{
	for (int i = 0; i < table_rows; i++) {
		table[i] = fn_malloc(row);
		if (table[i] == NULL)
			abort();
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

__attribute__((noinline)) static void
leak_two(void)
{
	for (int i = 0; i < kept_blocks; i++)
		kept[i] = fn_malloc(24);
}

static void
free_kept(void)
{
	fn_free(kept[0]);
	fn_free(kept[1]);
}

/* Ends the check and says how it went. */
#define END(name, chk)                                                        \
	do {                                                                  \
		int failed_ = DBGALLOC_CHECK_END(chk);                        \
		printf("case %s: %s\n", (name), failed_ ? "failed" : "held"); \
		failures += failed_;                                          \
	} while (0)

static void *other_block;
static pthread_barrier_t step;

static void *
other_thread(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&step);
	other_block = fn_malloc(2 * MiB);
	pthread_barrier_wait(&step);
	pthread_barrier_wait(&step);
	fn_free(other_block);
	return NULL;
}

int
main(void)
{
	struct dbgalloc_check chk, inner;
	pthread_t t;

	setvbuf(stdout, NULL, _IONBF, 0);

	DBGALLOC_CHECK_BEGIN(&chk, 1 * MiB, DBGALLOC_CHECK_NO_LEAKS);
	grow_table(64 * KiB);
	free_table();
	END("within", &chk);

	DBGALLOC_CHECK_BEGIN(&chk, 1 * MiB, 0);
	grow_table(256 * KiB);
	free_table();
	END("over-limit", &chk);

	DBGALLOC_CHECK_BEGIN(&chk, 0, DBGALLOC_CHECK_NO_LEAKS);
	leak_two();
	END("leak", &chk);
	free_kept();

	DBGALLOC_CHECK_BEGIN(&chk, 1 * MiB, DBGALLOC_CHECK_NO_LEAKS);
	grow_table(256 * KiB);
	leak_two();
	END("both", &chk);
	free_table();
	free_kept();

	DBGALLOC_CHECK_BEGIN(&chk, 4 * MiB, DBGALLOC_CHECK_NO_LEAKS);
	DBGALLOC_CHECK_BEGIN(&inner, 1 * MiB, 0);
	grow_table(256 * KiB);
	END("nested-inner", &inner);
	free_table();
	END("nested-outer", &chk);

	/* The thread is made before the check, which pthread_create's own
	 * blocks would fail. */
	if (pthread_barrier_init(&step, NULL, 2) != 0 ||
	    pthread_create(&t, NULL, other_thread, NULL) != 0)
		return 100;
	DBGALLOC_CHECK_BEGIN(&chk, 1 * MiB,
	                     DBGALLOC_CHECK_THREAD | DBGALLOC_CHECK_NO_LEAKS);
	pthread_barrier_wait(&step);
	pthread_barrier_wait(&step); /* the other thread holds 2 MiB */
	END("thread", &chk);
	pthread_barrier_wait(&step);
	pthread_join(t, NULL);

	return failures;
}
