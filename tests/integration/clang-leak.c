/*
 * clang-leak.c — a program that leaks from a known line of its own and of
 * a library's (clang-leak-lib.c), for symbolize-clang.sh, which builds
 * both with clang -g (no .debug_aranges) and checks that the leak report
 * names those lines. The lines the report must name end in a marker
 * comment the script finds them by.
 */
#include <stdio.h>
#include <stdlib.h>

void *clang_leak_lib(size_t n);

static void *volatile sink;

__attribute__((noinline)) static void *
prog_leak(size_t n)
{
	void *p = malloc(n); /* LEAK-PROG */
	if (p != NULL)
		((char *)p)[0] = 1;
	return p;
}

int
main(void)
{
	sink = prog_leak(48);      /* CALL-PROG */
	sink = clang_leak_lib(80); /* CALL-LIB */
	sink = NULL;
	puts("clang-leak: leaked 48 + 80 bytes");
	return 0;
}
