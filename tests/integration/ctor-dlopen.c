/*
 * ctor-dlopen.c — bootstrap re-entry (PITFALLS 1): constructors, and a
 * .preinit_array function that runs before a preloaded dbgalloc's own
 * constructor, call dlopen/dlsym/dlerror (which allocate with calloc and
 * malloc) and backtrace (which loads libgcc_s and allocates on first use).
 * main repeats it from two threads at once. Built linked and plain.
 */

#include <dlfcn.h>
#include <execinfo.h>
#include <pthread.h>

#include "tests/integration/probe.h"

static int preinit_result = -1, ctor_result = -1;
static char *ctor_error; /* a copy of a dlerror() message */

/*
 * One round of dynamic-loader calls. Returns 0 or a small number naming
 * the step that went wrong; no stdio, it runs before main.
 */
static int
loader_round(char **error_copy)
{
	double (*cosine)(double);
	void *h, *frames[16];
	const char *e;

	dlerror();
	h = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return 1;
	*(void **)&cosine = dlsym(h, "cos");
	if (cosine == NULL || cosine(0.0) != 1.0)
		return 2;
	if (dlsym(h, "dbgalloc_test_no_such_symbol") != NULL)
		return 3;
	e = dlerror(); /* formats (allocates) a message */
	if (e == NULL || strstr(e, "dbgalloc_test_no_such_symbol") == NULL)
		return 4;
	if (error_copy != NULL && *error_copy == NULL)
		*error_copy = strdup(e);
	if (dlerror() != NULL)
		return 5;
	if (dlclose(h) != 0)
		return 6;
	if (dlopen("libdbgalloc-test-does-not-exist.so.9", RTLD_NOW) != NULL)
		return 7;
	if (dlerror() == NULL)
		return 8;
	/* What an allocator itself does at start-up. */
	if (dlsym(RTLD_NEXT, "malloc") == NULL &&
	    dlsym(RTLD_DEFAULT, "malloc") == NULL)
		return 9;
	if (backtrace(frames, 16) <= 0)
		return 10;
	return 0;
}

static void
preinit(int argc, char **argv, char **envp)
{
	(void)argc;
	(void)argv;
	(void)envp;
	preinit_result = loader_round(NULL);
}

__attribute__((section(".preinit_array"),
               used)) static void (*const preinit_entry)(int, char **,
                                                         char **) = preinit;

__attribute__((constructor)) static void
ctor(void)
{
	ctor_result = loader_round(&ctor_error);
}

static void *
thread_rounds(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 200; i++) {
		int r = loader_round(NULL);
		if (r != 0)
			return (void *)(intptr_t)r;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t[2];
	void *r;
	int i;

	probe_start(&argc, argv);
	if (preinit_result != 0)
		fprintf(stderr, "preinit loader round failed at step %d\n",
		        preinit_result);
	if (ctor_result != 0)
		fprintf(stderr, "constructor loader round failed at step %d\n",
		        ctor_result);
	CHECK(preinit_result == 0);
	CHECK(ctor_result == 0);
	CHECK(ctor_error != NULL);
	if (ctor_error != NULL) {
		CHECK(probe_owned(ctor_error));
		free(ctor_error);
	}
	for (i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, thread_rounds, NULL) == 0);
	for (i = 0; i < 2; i++) {
		CHECK(pthread_join(t[i], &r) == 0);
		CHECK(r == NULL);
	}
	if (probe_failures == 0)
		printf("ctor-dlopen: ok\n");
	return probe_status();
}
