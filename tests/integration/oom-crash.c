/*
 * oom-crash — three allocations, the first two checked, the third
 * (in copy_name) used without a check: when it fails, the program writes
 * through NULL and dies of SIGSEGV. tests/integration/oom-sweep.sh wants
 * the sweep to find exactly that run, name copy_name, and exit 1. Built
 * without dbgalloc, run under the launcher; prints nothing.
 */
#include <stdlib.h>
#include <string.h>

static char *volatile keep;

__attribute__((noinline)) static char *
copy_name(const char *name)
{
	char *s = malloc(strlen(name) + 1);
	memcpy(s, name, strlen(name) + 1); /* the bug: s may be NULL */
	return s;
}

int
main(void)
{
	char *a = malloc(32);
	if (a == NULL)
		return 1;
	char *b = malloc(64);
	if (b == NULL) {
		free(a);
		return 1;
	}
	keep = copy_name("a name");
	free(keep);
	free(b);
	free(a);
	return 0;
}
