/*
 * stats-prog — the program stats.sh runs under DBGALLOC_DUMP, built
 * without dbgalloc and preloaded. Its allocating functions are noinline
 * and make no tail call, so each is one call site. Three epochs, each
 * leaving known blocks live:
 *
 *   start   4 blocks of 100 bytes from keep_start
 *   load    (dbgalloc_mark) 8 blocks of 2,000 bytes from keep_load, and
 *           50 blocks of 64 bytes from churn, each freed before anything
 *           else is allocated: temporary
 *   serve   (dbgalloc_mark) 16 blocks of 300 bytes from keep_serve, 6 of
 *           them freed: 10 left
 *
 * It prints nothing and exits 0 (2 for arguments).
 */
#include <stdlib.h>

#include "shim/dbgalloc.h"

#pragma weak dbgalloc_mark

#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")

static void *kept[4 + 8 + 16];

__attribute__((noinline)) static void *
keep_start(void)
{
	void *p = malloc(100);
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *
keep_load(void)
{
	void *p = malloc(2000);
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void
churn(void)
{
	void *p = malloc(64);
	KEEP(p);
	free(p);
	KEEP(p);
}

__attribute__((noinline)) static void *
keep_serve(void)
{
	void *p = malloc(300);
	KEEP(p);
	return p;
}

static void
mark(const char *label)
{
	if (dbgalloc_mark != NULL)
		dbgalloc_mark(label);
}

int
main(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return 2;
	for (int i = 0; i < 4; i++)
		kept[i] = keep_start();
	mark("load");
	for (int i = 0; i < 8; i++)
		kept[4 + i] = keep_load();
	for (int i = 0; i < 50; i++)
		churn();
	mark("serve");
	for (int i = 0; i < 16; i++)
		kept[12 + i] = keep_serve();
	for (int i = 0; i < 6; i++)
		free(kept[12 + i]);
	KEEP(kept);
	return 0;
}
