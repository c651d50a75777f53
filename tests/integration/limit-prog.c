/*
 * limit-prog — the program that limit.sh and fail.sh run under
 * DBGALLOC_LIMIT and DBGALLOC_FAIL_*: built without dbgalloc, preloaded or
 * run by the launcher. Each command makes all its allocations first and
 * prints afterwards, so that its allocations are the process's first
 * (numbers 1, 2, ... for fault injection) and nothing else is live.
 *
 *   grab SIZE COUNT   COUNT blocks of SIZE bytes from grab_block, all kept
 *                     until the end: one line per block, "I ok" or "I NULL"
 *                     (NULL with ENOMEM; any other errno is "I NULL errno")
 *   hold SIZE PROG ARGS...
 *                     holds SIZE bytes (from hold_block) while it runs PROG
 *                     (an absolute path) and waits for it: "held SIZE", then
 *                     what PROG prints, then "child status S"
 *   fail COUNT        COUNT allocations, the Ith (from 1) of 999 + I bytes,
 *                     from numbered_alloc; one line of COUNT characters, X
 *                     for NULL and . for a block, then "COUNT ok|errno"
 *   sites COUNT       COUNT allocations alternating between parse_record and
 *                     load_table: "parse_record PATTERN", "load_table
 *                     PATTERN" as for fail
 *   limit             "limit N": dbgalloc_limit_get() (0: none)
 *
 * Exit status 0, or 2 for bad arguments; an unexpected errno is printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/dbgalloc.h"

#pragma weak dbgalloc_limit_get

#define MAX_COUNT 4096

static void *blocks[MAX_COUNT];
static int errs[MAX_COUNT];

/* Each allocating function is noinline, and no tail call: its frame is
 * the call site that reports and DBGALLOC_FAIL_SITE see. Each counts its
 * calls in its own variable, so that no two are the same code for gcc to
 * fold into one (-fipa-icf). */
#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")
static volatile unsigned long calls[5];

__attribute__((noinline)) static void *
grab_block(size_t n)
{
	void *p = malloc(n);

	calls[0]++;
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *
hold_block(size_t n)
{
	void *p = malloc(n);

	calls[1]++;
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *
numbered_alloc(size_t n)
{
	void *p = malloc(n);

	calls[2]++;
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *
parse_record(size_t n)
{
	void *p = malloc(n);

	calls[3]++;
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *
load_table(size_t n)
{
	void *p = malloc(n);

	calls[4]++;
	KEEP(p);
	return p;
}

static int
count_arg(const char *s)
{
	long n = strtol(s, NULL, 10);

	return n > 0 && n <= MAX_COUNT ? (int)n : -1;
}

/* The pattern of blocks[from], blocks[from + step], ... below count. */
static void
print_pattern(const char *name, int from, int step, int count)
{
	int bad = 0;

	if (name != NULL)
		printf("%s ", name);
	for (int i = from; i < count; i += step) {
		putchar(blocks[i] != NULL ? '.' : 'X');
		if (blocks[i] == NULL && errs[i] != ENOMEM)
			bad = 1;
	}
	printf("\n");
	if (bad)
		printf("errno\n");
}

static void
free_all(int count)
{
	for (int i = 0; i < count; i++)
		free(blocks[i]);
}

static void
record(int i, void *p)
{
	blocks[i] = p;
	errs[i] = p == NULL ? errno : 0;
}

static int
cmd_grab(size_t size, int count)
{
	for (int i = 0; i < count; i++) {
		errno = 0;
		record(i, grab_block(size));
	}
	for (int i = 0; i < count; i++) {
		if (blocks[i] != NULL)
			printf("%d ok\n", i);
		else if (errs[i] == ENOMEM)
			printf("%d NULL\n", i);
		else
			printf("%d NULL errno %d\n", i, errs[i]);
	}
	free_all(count);
	return 0;
}

static int
cmd_hold(size_t size, char **argv)
{
	char *p = hold_block(size);
	int status;
	pid_t pid;

	if (p == NULL) {
		printf("hold: NULL\n");
		return 1;
	}
	memset(p, 0x5a, size);
	printf("held %zu\n", size);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		printf("hold: fork or wait failed\n");
		return 1;
	}
	printf("child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status)
	                                              : 128 + WTERMSIG(status));
	free(p);
	return 0;
}

static int
cmd_fail(int count)
{
	for (int i = 0; i < count; i++) {
		errno = 0;
		record(i, numbered_alloc(1000 + (size_t)i));
	}
	print_pattern(NULL, 0, 1, count);
	free_all(count);
	return 0;
}

static int
cmd_sites(int count)
{
	for (int i = 0; i < count; i++) {
		errno = 0;
		record(i, (i % 2 == 0 ? parse_record : load_table)(100));
	}
	print_pattern("parse_record", 0, 2, count);
	print_pattern("load_table", 1, 2, count);
	free_all(count);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *usage =
	        "usage: limit-prog grab SIZE COUNT | hold SIZE PROG "
	        "ARGS... | fail COUNT | sites COUNT | limit\n";
	int count;

	if (argc == 4 && strcmp(argv[1], "grab") == 0 &&
	    (count = count_arg(argv[3])) > 0)
		return cmd_grab(strtoul(argv[2], NULL, 10), count);
	if (argc >= 4 && strcmp(argv[1], "hold") == 0 && argv[3][0] == '/')
		return cmd_hold(strtoul(argv[2], NULL, 10), argv + 3);
	if (argc == 3 && strcmp(argv[1], "fail") == 0 &&
	    (count = count_arg(argv[2])) > 0)
		return cmd_fail(count);
	if (argc == 3 && strcmp(argv[1], "sites") == 0 &&
	    (count = count_arg(argv[2])) > 0)
		return cmd_sites(count);
	if (argc == 2 && strcmp(argv[1], "limit") == 0) {
		if (dbgalloc_limit_get == NULL) {
			printf("limit: no dbgalloc\n");
			return 1;
		}
		printf("limit %zu\n", dbgalloc_limit_get());
		return 0;
	}
	fputs(usage, stderr);
	return 2;
}
