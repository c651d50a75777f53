/*
 * double-free-kinds.c — death tests: one misuse per case (argv[1]); run.sh
 * requires SIGABRT and the diagnostic, word for word, for each.
 *
 *   abort-only     abort() alone: proves the driver sees an abort
 *   huge-twice     free twice a 100 MiB block         -> "double free"
 *   aligned-twice  free twice aligned_alloc(64, 128)  -> "double free"
 *   large-twice    free twice a 256 KiB block         -> "double free"
 *   never-given    free(p + 4096), p = malloc(64): an address that was
 *                  never handed out -> "invalid free", not "double free"
 *   interior-1     free(p + 1) -> "1 byte into" (singular)
 *   interior-2     free(p + 2) -> "2 bytes into"
 *
 * Defects: the first free of a huge block unmapped it, so the second was
 * "not allocated by dbgalloc"; an aligned block's second free was "48
 * bytes into the 160-byte block"; a large block's was "no block in use
 * there". Pointers pass through opaque() so that gcc can neither fold nor
 * reject the misuse (PITFALLS 20). A program that survives its misuse
 * says so and exits 1.
 *
 *   double-free-kinds CASE
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile opaque_slot;

static char *
opaque(void *p)
{
	opaque_slot = p;
	return opaque_slot;
}

static void
twice(char *p)
{
	if (p == NULL) {
		fprintf(stderr, "allocation failed\n");
		exit(2);
	}
	p[0] = 1;
	free(opaque(p));
	free(opaque(p));
}

int
main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";
	char *p;

	if (strcmp(c, "abort-only") == 0) {
		abort();
	} else if (strcmp(c, "huge-twice") == 0) {
		twice(malloc((size_t)100 << 20));
	} else if (strcmp(c, "aligned-twice") == 0) {
		twice(aligned_alloc(64, 128));
	} else if (strcmp(c, "large-twice") == 0) {
		twice(malloc((size_t)256 << 10));
	} else if (strcmp(c, "never-given") == 0) {
		p = malloc(64);
		free(opaque(p + 4096));
	} else if (strcmp(c, "interior-1") == 0) {
		p = malloc(40);
		free(opaque(p + 1));
	} else if (strcmp(c, "interior-2") == 0) {
		p = malloc(40);
		free(opaque(p + 2));
	} else {
		fprintf(stderr, "usage: double-free-kinds CASE (see the "
		                "source)\n");
		return 2;
	}
	printf("survived %s\n", c);
	return 1;
}
