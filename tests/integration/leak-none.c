/*
 * leak-none — allocates and frees (malloc, realloc, strdup, stdio), leaks
 * nothing, and prints its process id: the clean process beside
 * leak-hundred in tests/integration/leaks-launcher.sh. Built without
 * dbgalloc, run under the launcher.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(void)
{
	char *p = NULL;
	for (int i = 1; i <= 100; i++) {
		char *q = realloc(p, (size_t)i * 10);
		if (q == NULL)
			return 1;
		p = q;
	}
	free(p);
	char *s = strdup("freed before exit");
	if (s == NULL)
		return 1;
	free(s);
	printf("leak-none %ld\n", (long)getpid());
	return 0;
}
