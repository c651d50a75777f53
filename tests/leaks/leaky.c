/*
 * A program whose leaks are known exactly, run under dbgalloc by
 * tests/leaks/run.sh, which checks the report's numbers:
 *
 *   leak_hundred    100 blocks x 48 bytes, pointers dropped: definitely lost
 *   make_list       a 10,000-node list (48-byte nodes) whose head is lost:
 *                   1 block definitely lost, holding 9,999 blocks
 *                   (479,952 bytes) indirectly lost
 *   make_name       strdup("...") of 23 characters, dropped: 24 bytes,
 *                   definitely lost, named by the caller of strdup
 *   keep_interior   a 64-byte block held only through p + 8: possibly lost
 *   keep_global     an 80-byte block held by a global: still reachable
 *   thread_holder   a 96-byte block held by a blocked thread's stack:
 *                   still reachable
 *   freed_all       1,000 blocks allocated and freed: nothing
 *
 * "check" mode runs dbgalloc_leak_check instead of relying on the report
 * at exit: all leaks, then NEW (nothing), then one new leak (only it).
 */
#include "shim/dbgalloc.h"

#ifdef DA_TEST_PLAIN /* resolved at run time, from the preloaded library */
#pragma weak dbgalloc_leak_check
#endif

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct node {
	struct node *next;
	char pad[40];
};

static void *volatile sink;
char *volatile interior;
void *volatile kept;
static int holder_ready[2], holder_block[2];

__attribute__((noinline)) static void
leak_hundred(void)
{
	for (int i = 0; i < 100; i++)
		sink = malloc(48);
	sink = NULL;
}

__attribute__((noinline)) static void
make_list(void)
{
	struct node *head = NULL;
	for (int i = 0; i < 10000; i++) {
		struct node *n = malloc(sizeof(*n));
		n->next = head;
		head = n;
	}
	sink = head;
	sink = NULL;
}

__attribute__((noinline)) static void
make_name(void)
{
	sink = strdup("a leaked name, 23 chars");
	sink = NULL;
}

__attribute__((noinline)) static void
keep_interior(void)
{
	interior = (char *)malloc(64) + 8;
}

__attribute__((noinline)) static void
keep_global(void)
{
	kept = malloc(80);
}

__attribute__((noinline)) static void
freed_all(void)
{
	void *p[1000];
	for (int i = 0; i < 1000; i++)
		p[i] = malloc((size_t)(i % 200) + 1);
	for (int i = 0; i < 1000; i++)
		free(p[i]);
}

static void *
thread_holder(void *arg)
{
	(void)arg;
	void *volatile mine = malloc(96);
	char c = 0;
	if (write(holder_ready[1], &c, 1) != 1)
		return NULL;
	/* Blocks until the process exits, holding mine on its stack. */
	if (read(holder_block[0], &c, 1) < 0)
		return NULL;
	return mine;
}

/* Overwrites what the calls above left below main's frame. */
__attribute__((noinline)) static void
scrub(void)
{
	volatile char buf[32768];
	memset((char *)buf, 0, sizeof(buf));
	/* The compiler must not drop the stores as dead. */
	__asm__ volatile("" : : "r"(buf) : "memory");
}

static void
print(const char *what, struct dbgalloc_leaks l)
{
	printf("%s: definite %zu/%zu indirect %zu/%zu possible %zu/%zu "
	       "reachable %zu/%zu\n",
	       what, l.definite_bytes, l.definite_blocks, l.indirect_bytes,
	       l.indirect_blocks, l.possible_bytes, l.possible_blocks,
	       l.reachable_bytes, l.reachable_blocks);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	pthread_t t;
	char c;
	setvbuf(stdout, NULL, _IONBF, 0); /* no buffer to count */
	if (pipe(holder_ready) != 0 || pipe(holder_block) != 0 ||
	    pthread_create(&t, NULL, thread_holder, NULL) != 0 ||
	    read(holder_ready[0], &c, 1) != 1)
		return 3;
	leak_hundred();
	make_list();
	make_name();
	keep_interior();
	keep_global();
	freed_all();
	scrub();
	if (argc > 1 && strcmp(argv[1], "fork") == 0) {
		/* A child of fork (no exec) reports to its own log file. */
		pid_t pid = fork();
		if (pid == 0) {
			leak_hundred();
			scrub();
			exit(0);
		}
		int status;
		waitpid(pid, &status, 0);
	}
	if (argc > 1 && strcmp(argv[1], "check") == 0) {
		print("first", dbgalloc_leak_check(DBGALLOC_LEAKS_ALL));
		print("again", dbgalloc_leak_check(DBGALLOC_LEAKS_ALL |
		                                   DBGALLOC_LEAKS_NEW));
		make_name();
		scrub();
		print("new", dbgalloc_leak_check(DBGALLOC_LEAKS_ALL |
		                                 DBGALLOC_LEAKS_NEW));
	}
	return 0;
}
