/*
 * tools/symmem.c — see symmem.h.
 */
#include "tools/symmem.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
da_sym_grow(void **v, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 16;
	if (c > UINT32_MAX || c > SIZE_MAX / sz)
		return ENOMEM;
	void *p = realloc(*v, c * sz);
	if (p == NULL)
		return ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

char *
da_sym_concat(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *p = malloc(la + lb + lc + 1);
	if (p != NULL) {
		memcpy(p, a, la);
		memcpy(p + la, b, lb);
		memcpy(p + la + lb, c, lc + 1);
	}
	return p;
}
