/*
 * leak-hundred — leaks exactly one block of 100 bytes, from
 * leak_one_block, and prints its process id so that
 * tests/integration/leaks-launcher.sh can find its report among those of
 * the other processes of a command. Built without dbgalloc, run under the
 * launcher.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *volatile sink;

__attribute__((noinline)) static void
leak_one_block(void)
{
	sink = malloc(100);
	sink = NULL; /* the only pointer is gone: definitely lost */
}

int
main(void)
{
	leak_one_block();
	printf("leak-hundred %ld\n", (long)getpid());
	return 0;
}
