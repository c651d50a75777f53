/*
 * mallocfork.h — what mallocfork2.c and mallocfork3.c share: the
 * allocation pointers the compiler cannot fold, reaping a child, a clock,
 * and the check, after a signal storm, that every kind of allocation, a new
 * thread and a fork still work.
 */
#ifndef DA_TEST_GLIBC_MALLOCFORK_H
#define DA_TEST_GLIBC_MALLOCFORK_H

#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/glibc/tier.h"

static void *(*volatile fn_malloc)(size_t) = malloc;
static void (*volatile fn_free)(void *) = free;

/* Waits for a child that should _exit(0) at once; 0 if it did. */
static int
reap(pid_t pid)
{
	int status;
	pid_t r;

	do
		r = waitpid(pid, &status, 0);
	while (r < 0 && errno == EINTR);
	tier_untrack(pid);
	return r == pid && status == 0 ? 0 : -1;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
thread_allocates(void *arg)
{
	void *p = fn_malloc(1 << 20);

	(void)arg;
	if (p == NULL)
		return (void *)1;
	memset(p, 7, 1 << 20);
	fn_free(p);
	return NULL;
}

/* After the storm: every kind of allocation, a thread and a fork. */
static void
check_allocator_works(void)
{
	static const size_t try[] = {1,      100,     5000,   70000,
	                             100000, 1 << 20, 8 << 20};
	pthread_t t;
	void *p, *r;
	pid_t pid;
	size_t i;
	int e;

	for (i = 0; i < sizeof(try) / sizeof(try[0]); i++) {
		errno = 0;
		p = fn_malloc(try[i]);
		if (p == NULL) {
			tier_failf("malloc(%zu) after the loop: NULL, %s",
			           try[i], strerror(errno));
			continue;
		}
		pattern_fill(p, try[i], i);
		CHECK(pattern_ok(p, try[i], i));
		fn_free(p);
	}
	e = pthread_create(&t, NULL, thread_allocates, NULL);
	if (e != 0)
		tier_failf("pthread_create after the loop: %s", strerror(e));
	else
		CHECK(pthread_join(t, &r) == 0 && r == NULL);
	pid = fork();
	if (pid == 0) {
		p = fn_malloc(100000);
		_exit(p == NULL ? 1 : 0);
	}
	CHECK(pid > 0);
	if (pid > 0) {
		tier_track(pid);
		CHECK(reap(pid) == 0);
	}
}

#endif /* DA_TEST_GLIBC_MALLOCFORK_H */
