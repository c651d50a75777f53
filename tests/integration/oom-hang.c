/*
 * oom-hang — one allocation; when it fails, the program waits for ever
 * instead of giving up: tests/integration/oom-sweep.sh wants the sweep's
 * --timeout to end that run and count it. Built without dbgalloc, run
 * under the launcher; prints nothing.
 */
#include <stdlib.h>
#include <unistd.h>

int
main(void)
{
	void *p = malloc(48);
	if (p == NULL)
		for (;;)
			pause();
	free(p);
	return 0;
}
