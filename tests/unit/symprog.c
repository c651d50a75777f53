/*
 * tests/unit/symprog.c — the program whose dump tests/unit/test_symbols.c
 * symbolizes. Run under libdbgalloc.so with DBGALLOC_DUMP set, it makes
 * allocations of sizes 1001 to 1003 from known functions and lines (one
 * through an inlined function, one through strdup), then those of
 * tests/unit/symtest.cc, which it dlopen()s (argv[1]), and writes the
 * lines where they happened to argv[2], one "name line" a line. Each
 * line number is taken on the line of the call it names (a comma
 * expression, which formatting keeps on one line).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *volatile symprog_sink[4];
static unsigned line_leaf, line_inl, line_outer, line_dup, line_main_leaf;

void sym_leaf(void);
void sym_outer(void);
void sym_dup(void);

__attribute__((noinline)) void
sym_leaf(void)
{
	symprog_sink[0] = malloc(1001), line_leaf = __LINE__;
}

static inline __attribute__((always_inline)) void
sym_inl(void)
{
	symprog_sink[1] = malloc(1002), line_inl = __LINE__;
}

__attribute__((noinline)) void
sym_outer(void)
{
	sym_inl(), line_outer = __LINE__;
}

__attribute__((noinline)) void
sym_dup(void)
{
	static char text[1003];
	memset(text, 'x', sizeof(text) - 1);
	symprog_sink[2] = strdup(text), line_dup = __LINE__;
}

int
main(int argc, char **argv)
{
	unsigned lib[2];
	if (argc != 3) {
		fprintf(stderr, "usage: symprog LIBSYMTEST OUT\n");
		return 2;
	}
	void *h = dlopen(argv[1], RTLD_NOW);
	void (*run)(unsigned *) = NULL;
	if (h != NULL)
		*(void **)&run = dlsym(h, "symtest_run");
	if (run == NULL) {
		fprintf(stderr, "symprog: %s\n", dlerror());
		return 2;
	}
	sym_leaf(), line_main_leaf = __LINE__;
	sym_outer();
	sym_dup();
	run(lib);
	FILE *f = fopen(argv[2], "w");
	if (f == NULL)
		return 2;
	fprintf(f, "leaf %u\ninl %u\nouter %u\ndup %u\nmain_leaf %u\n",
	        line_leaf, line_inl, line_outer, line_dup, line_main_leaf);
	fprintf(f, "new %u\nmake %u\n", lib[0], lib[1]);
	return fclose(f) == 0 ? 0 : 2;
}
