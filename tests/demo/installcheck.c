/*
 * Built by `make installcheck` against the installed dbgalloc.h and
 * libdbgalloc (through dbgalloc.pc): linking -ldbgalloc makes every
 * allocation a dbgalloc block.
 */
#include <dbgalloc.h>
#include <stdio.h>
#include <stdlib.h>

int
main(void)
{
	char *p = malloc(100);
	if (!dbgalloc_owns(p)) {
		fprintf(stderr, "installcheck: malloc is not dbgalloc's\n");
		return 1;
	}
	free(p);
	if (dbgalloc_owns(p)) {
		fprintf(stderr, "installcheck: freed block still owned\n");
		return 1;
	}
	printf("installcheck: dbgalloc %s linked\n", dbgalloc_version());
	return 0;
}
