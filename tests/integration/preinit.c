/*
 * preinit.c — allocation before main (PITFALLS 2, 12): a .preinit_array
 * function runs before every library constructor, a preloaded dbgalloc's
 * included, and allocates and frees; so does a constructor. Blocks made
 * there stay live into main and are freed by main, by an atexit handler and
 * by a destructor, which also allocate. Built linked and plain (preloaded).
 */

#include <malloc.h>
#include <stdlib.h>

#include "tests/integration/probe.h"

enum { NKEEP = 64 };

static void *(*volatile fn_malloc)(size_t) = malloc;
static void *(*volatile fn_calloc)(size_t, size_t) = calloc;
static void *(*volatile fn_realloc)(void *, size_t) = realloc;
static void (*volatile fn_free)(void *) = free;

static int preinit_ran, ctor_ran, preinit_errors, ctor_errors;
static void *preinit_keep[NKEEP], *ctor_keep[NKEEP];
static void *atexit_keep, *dtor_keep;
static char *preinit_argv0;

/*
 * Allocates a mix of blocks, frees half, keeps the rest in keep[] filled
 * with a pattern tagged by tag. Returns the number of problems seen; no
 * stdio here, it may run before libc is fully set up for the program.
 */
static size_t
keep_size(int i)
{
	return (size_t)(i * 37 % 700) + (i % 16 == 0 ? 200000 : 1);
}

static int
zeroed(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static int
churn(void **keep, uint64_t tag)
{
	void *tmp[NKEEP];
	int i, errors = 0;
	size_t n;

	for (i = 0; i < NKEEP; i++) {
		n = keep_size(i);
		switch (i % 4) {
		case 0:
			tmp[i] = fn_malloc(n);
			break;
		case 1:
			tmp[i] = fn_calloc(1, n);
			break;
		case 2:
			tmp[i] = fn_realloc(fn_malloc(n / 2 + 1), n);
			break;
		default:
			tmp[i] = memalign(64, n);
			break;
		}
		keep[i] = fn_malloc(n);
		if (tmp[i] == NULL || keep[i] == NULL)
			return errors + 1;
		pattern_fill(keep[i], n, tag + (uint64_t)i);
		if (i % 4 == 1 && !zeroed(tmp[i], n))
			errors++;
		if (!probe_owned(tmp[i]) || !probe_owned(keep[i]))
			errors++;
	}
	for (i = 0; i < NKEEP; i++)
		fn_free(tmp[i]);
	return errors;
}

static int
verify_and_free(void **keep, uint64_t tag)
{
	int i, errors = 0;

	for (i = 0; i < NKEEP; i++) {
		if (!probe_owned(keep[i]))
			errors++;
		if (!pattern_ok(keep[i], keep_size(i), tag + (uint64_t)i))
			errors++;
		fn_free(keep[i]);
		if (!probe_not_owned(keep[i]))
			errors++;
	}
	return errors;
}

static void
preinit(int argc, char **argv, char **envp)
{
	(void)envp;
	preinit_ran = 1;
	preinit_errors = churn(preinit_keep, 1000);
	/* glibc hands argc/argv to preinit functions too. */
	if (argc > 0)
		preinit_argv0 = strdup(argv[0]);
}

__attribute__((section(".preinit_array"),
               used)) static void (*const preinit_entry)(int, char **,
                                                         char **) = preinit;

__attribute__((constructor)) static void
ctor(void)
{
	ctor_ran = 1;
	ctor_errors = churn(ctor_keep, 2000);
}

static void
at_exit(void)
{
	/* Runs after main returned: frees main's block, allocates again. */
	void *p = fn_malloc(1000);

	if (p == NULL || !pattern_ok(atexit_keep, 5000, 3000))
		_exit(3);
	fn_free(atexit_keep);
	fn_free(p);
}

__attribute__((destructor)) static void
dtor(void)
{
	int errors = verify_and_free(ctor_keep, 2000);
	void *p = fn_calloc(10, 10);

	if (dtor_keep != NULL && !pattern_ok(dtor_keep, 300, 4000))
		errors++;
	if (errors != 0 || p == NULL)
		_exit(4);
	fn_free(dtor_keep);
	fn_free(p);
}

int
main(int argc, char **argv)
{
	probe_start(&argc, argv);
	CHECK(preinit_ran == 1);
	CHECK(ctor_ran == 1);
	CHECK(preinit_errors == 0);
	CHECK(ctor_errors == 0);
	CHECK(preinit_argv0 != NULL);
	if (preinit_argv0 != NULL) {
		CHECK(probe_owned(preinit_argv0));
		fn_free(preinit_argv0);
	}
	CHECK(verify_and_free(preinit_keep, 1000) == 0);

	atexit_keep = fn_malloc(5000);
	dtor_keep = fn_malloc(300);
	CHECK(atexit_keep != NULL && dtor_keep != NULL);
	if (atexit_keep == NULL || dtor_keep == NULL)
		return 1;
	pattern_fill(atexit_keep, 5000, 3000);
	pattern_fill(dtor_keep, 300, 4000);
	CHECK(atexit(at_exit) == 0);
	if (probe_failures == 0)
		printf("preinit: ok\n");
	return probe_status();
}
