/*
 * One misuse per case, named by argv[1]; each must end in SIGABRT with the
 * diagnostic that tests/abort/run.sh expects. Pointers pass through
 * opaque() so the compiler cannot see (and fold or reject) the misuse
 * (PITFALLS 20).
 */
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim/dbgalloc.h"

/* misuse-plain finds it in the preloaded library. */
#pragma weak dbgalloc_scope_begin

static void *(*volatile opaque_fn)(void *);

static void *
identity(void *p)
{
	return p;
}

static void *
opaque(void *p)
{
	return opaque_fn(p);
}

static int global_object;

static int
run(const char *c)
{
	if (!strcmp(c, "abort-only")) {
		abort(); /* proves the driver can see an abort at all */
	} else if (!strcmp(c, "double-free-small")) {
		char *p = malloc(24);
		free(opaque(p));
		free(opaque(p));
	} else if (!strcmp(c, "double-free-medium")) {
		char *p = malloc(5000);
		free(opaque(p));
		free(opaque(p));
	} else if (!strcmp(c, "double-free-large")) {
		char *p = malloc(300000);
		free(opaque(p));
		free(opaque(p));
	} else if (!strcmp(c, "double-free-huge")) {
		char *p = malloc(8u << 20);
		free(opaque(p));
		free(opaque(p));
	} else if (!strcmp(c, "double-free-huge-exact")) {
		char *p = malloc((size_t)100 << 20); /* unmapped when freed */
		free(opaque(p));
		free(opaque(p));
	} else if (!strcmp(c, "double-free-aligned")) {
		char *p = aligned_alloc(256, 100);
		free(opaque(p));
		free(opaque(p));
	} else if (!strcmp(c, "free-stack")) {
		int local = 0;
		free(opaque(&local));
	} else if (!strcmp(c, "free-global")) {
		free(opaque(&global_object));
	} else if (!strcmp(c, "free-interior")) {
		char *p = malloc(32);
		free(opaque(p + 8));
	} else if (!strcmp(c, "free-unaligned-interior")) {
		char *p = malloc(32);
		free(opaque(p + 3));
	} else if (!strcmp(c, "free-one-byte-in")) {
		char *p = malloc(32);
		free(opaque(p + 1));
	} else if (!strcmp(c, "free-never-handed-out")) {
		/* A block slot past the end of a fresh slab's first page:
		 * never carved, so no double free can be meant. */
		char *p = malloc(2000);
		free(opaque(p + 4 * 2048));
	} else if (!strcmp(c, "free-aligned-interior")) {
		char *p = aligned_alloc(256, 100);
		free(opaque(p + 16));
	} else if (!strcmp(c, "realloc-freed")) {
		char *p = malloc(40);
		free(opaque(p));
		if (realloc(opaque(p), 80) != NULL)
			return 1;
	} else if (!strcmp(c, "realloc-foreign")) {
		int local = 0;
		if (realloc(opaque(&local), 80) != NULL)
			return 1;
	} else if (!strcmp(c, "usable-size-interior")) {
		char *p = malloc(64);
		(void)malloc_usable_size(opaque(p + 16));
	} else if (!strcmp(c, "free-sized-twice")) {
		/* Looked up at run time: glibc 2.36 (the plain build) has no
		 * free_sized; under LD_PRELOAD dbgalloc's is found. */
		void (*fs)(void *, size_t) = (void (*)(void *, size_t))dlsym(
		        RTLD_DEFAULT, "free_sized");
		char *p = malloc(48);
		if (fs == NULL) {
			fprintf(stderr, "misuse: no free_sized\n");
			return 3;
		}
		fs(opaque(p), 48);
		fs(opaque(p), 48);
	} else if (!strcmp(c, "free-sized-wrong")) {
		void (*fs)(void *, size_t) = (void (*)(void *, size_t))dlsym(
		        RTLD_DEFAULT, "free_sized");
		char *p = malloc(41);
		if (fs == NULL) {
			fprintf(stderr, "misuse: no free_sized\n");
			return 3;
		}
		fs(opaque(p), 40);
	} else if (!strcmp(c, "overflow-one")) {
		char *p = malloc(41);
		((char *)opaque(p))[41] = 'x'; /* one past the end */
		free(opaque(p));
	} else if (!strcmp(c, "overflow-realloc")) {
		char *p = malloc(41);
		((char *)opaque(p))[44] = 'x';
		p = realloc(opaque(p), 4000);
	} else if (!strcmp(c, "underflow-one")) {
		char *p = malloc(41);
		((char *)opaque(p))[-1] = 'x';
		free(opaque(p));
	} else if (!strcmp(c, "write-after-free")) {
		char *p = malloc(41);
		free(opaque(p));
		((char *)opaque(p))[20] = 'x';
		p = malloc(41); /* the same block, handed out again */
		free(opaque(p));
	} else if (!strcmp(c, "write-after-free-tail")) {
		/* Past the bounded poison: DBGALLOC_POISON=full finds it. */
		char *p = malloc(200);
		free(opaque(p));
		((char *)opaque(p))[100] = 'x';
		p = malloc(200);
		free(opaque(p));
	} else if (!strcmp(c, "write-after-free-sampled")) {
		/* Past the bounded poison, under the default: one block
		 * in 64 (by generation) is poisoned whole, and found. */
		for (int i = 0; i < 128; i++) {
			char *p = malloc(200);
			free(opaque(p));
			((char *)opaque(p))[100] = 'x';
		}
		opaque(malloc(200));
	} else if (!strcmp(c, "write-after-free-first")) {
		char *p = malloc(41);
		free(opaque(p));
		*(void **)opaque(p) = NULL; /* p->next = NULL, after free */
		p = malloc(41);
		free(opaque(p));
	} else if (!strcmp(c, "write-before-freed")) {
		/* glibc's tst-malloc-backtrace: over the 16 bytes before a
		 * freed block. */
		char *p = malloc(41);
		free(opaque(p));
		memset((char *)opaque(p) - 16, 0x41, 16);
		p = malloc(41);
		p = malloc(41);
		free(opaque(p));
	} else if (!strcmp(c, "overflow-at-exit")) {
		char *p = malloc(41); /* never freed: the check at exit */
		((char *)opaque(p))[43] = 'x';
	} else if (!strcmp(c, "underflow-at-exit")) {
		char *p = malloc(41);
		((char *)opaque(p))[-3] = 'x';
	} else if (!strcmp(c, "write-after-free-at-exit")) {
		char *p = malloc(41); /* freed, never handed out again */
		free(opaque(p));
		((char *)opaque(p))[30] = 'x';
	} else if (!strcmp(c, "double-free-after-reuse")) {
		char *p = malloc(41);
		free(opaque(p));
		char *q = malloc(41); /* the same block: a new generation */
		free(opaque(p));      /* the stale pointer frees q's block */
		free(opaque(q));      /* the owner's free finds it freed */
	} else if (!strcmp(c, "limit-abort")) {
		/* DBGALLOC_LIMIT=1M DBGALLOC_LIMIT_ACTION=abort: the 11th
		 * block is refused, reported, and the process aborts. */
		for (int i = 0; i < 20; i++)
			opaque(malloc(100000));
	} else if (!strcmp(c, "scope-limit-abort")) {
		/* DBGALLOC_LIMIT_ACTION=abort: a scope's limit too. */
		static struct dbgalloc_scope s;
		if (dbgalloc_scope_begin == NULL ||
		    dbgalloc_scope_begin(&s, 0, 10000) != 0)
			return 2;
		for (int i = 0; i < 20; i++)
			opaque(malloc(6000));
	} else if (!strcmp(c, "write-after-free-report")) {
		/* DBGALLOC_ON_ERROR=report: reported, and the run goes on. */
		char *p = malloc(41);
		free(opaque(p));
		((char *)opaque(p))[20] = 'x';
		p = malloc(41);
		free(opaque(p));
		char *q = malloc(24);
		free(opaque(q));
		free(opaque(q)); /* reported and ignored */
		printf("survived\n");
		return 0;
	} else {
		fprintf(stderr, "misuse: unknown case '%s'\n", c);
		return 2;
	}
	return 0; /* not reached when the misuse is caught */
}

int
main(int argc, char **argv)
{
	opaque_fn = identity;
	if (argc != 2) {
		fprintf(stderr, "usage: misuse CASE\n");
		return 2;
	}
	return run(argv[1]);
}
