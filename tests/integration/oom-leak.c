/*
 * oom-leak — two allocations; when the second (in load_second) fails, the
 * program returns without freeing the first, which nothing points to any
 * more: a leak after the failure, and only then. tests/integration/
 * oom-sweep.sh wants "yes" in that run's row alone. Built without
 * dbgalloc, run under the launcher; prints nothing.
 */
#include <stdlib.h>
#include <string.h>

static void *volatile first;

__attribute__((noinline)) static int
load_second(void)
{
	void *second = malloc(200);
	if (second == NULL) {
		first = NULL; /* the bug: the only pointer is dropped */
		return 1;
	}
	free(second);
	return 0;
}

/* Overwrites the stack below main with zeros, so that no stale copy of
 * the first block's address keeps it reachable for the leak scan. */
__attribute__((noinline)) static void
scrub_stack(void)
{
	volatile char pad[4096];
	memset((char *)pad, 0, sizeof(pad));
}

int
main(void)
{
	first = malloc(100);
	if (first == NULL)
		return 1;
	int rc = load_second();
	scrub_stack();
	if (rc != 0)
		return 1;
	free(first);
	return 0;
}
