/*
 * clang-leak-lib.c — the library half of clang-leak.c: a shared object
 * (loaded at a bias of its own) that leaks from a known line.
 */
#include <stdlib.h>

__attribute__((noinline)) void *
clang_leak_lib(size_t n)
{
	void *p = malloc(n); /* LEAK-LIB */
	if (p != NULL)
		((char *)p)[0] = 2;
	return p;
}
