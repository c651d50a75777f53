/*
 * The live leak check's pieces, in-process on blocks allocated through the
 * audit layer: the forked scan (audit/leak.c, da_leak_scan_fork) sees the
 * memory as it was at the stop, a thread's stack included, while the
 * parent goes on at once; the copy's report (audit/livecheck.c) has its
 * headline and summary and lands in one piece; the dumper thread
 * (audit/dumper.c) writes interval dumps and does nothing for the limit
 * without a dump file.
 */
#include "audit/audit.h"
#include "audit/dumper.h"
#include "audit/leak.h"
#include "audit/livecheck.h"
#include "audit/scanbound.h"

#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static void *held;                  /* reachable from a global */
static uintptr_t lost_plain;        /* a lost block's address, disguised */
static volatile uintptr_t in_stack; /* the worker's block, disguised */
static void *volatile sink;
#define DISGUISE(p) ((uintptr_t)(p) ^ (uintptr_t)0x5a5a5a5a5a5a5a5aull)

static void *
alloc(size_t n)
{
	return da_audit_malloc(n, DA_CALL());
}

/*
 * The scans below run as under an entry point of dbgalloc's (scanbound.h):
 * they read this thread's stack from the wrapper's frame up, not the
 * frames of dbgalloc's below it, whose stale words of earlier calls could
 * hold the lost block's address (they did, with one more wrapper in the
 * allocator's walk: the copy's report missed the block in 10 runs of 20).
 */
__attribute__((noinline)) static int
entered_scan_fork(struct da_leak_scan *s, struct da_leak_fork *f)
{
	DA_SCAN_ENTER(entered);
	int rc = da_leak_scan_fork(s, f);
	DA_SCAN_LEAVE(entered);
	return rc;
}

__attribute__((noinline)) static pid_t
entered_live_check(void)
{
	DA_SCAN_ENTER(entered);
	pid_t child = da_live_check(0);
	DA_SCAN_LEAVE(entered);
	return child;
}

static int gate[2]; /* the worker waits on it */

/* Holds a block in its frame only, and waits. */
static void *
worker(void *arg)
{
	(void)arg;
	void *volatile mine = alloc(56);
	in_stack = DISGUISE(mine);
	char c;
	if (read(gate[0], &c, 1) != 1)
		return NULL;
	da_audit_free(mine, DA_CALL());
	return NULL;
}

__attribute__((noinline)) static void
make_blocks(void)
{
	held = alloc(40);
	lost_plain = DISGUISE(alloc(24));
	sink = NULL;
}

static int
class_of(const struct da_leak_scan *s, uintptr_t a)
{
	long i = da_leak_find(s, a);
	return i < 0 ? -1 : s->b[i].cls;
}

static void
forked_scan_sees_the_stop(void **state)
{
	(void)state;
	pthread_t t;
	assert_int_equal(pipe(gate), 0);
	make_blocks();
	assert_int_equal(pthread_create(&t, NULL, worker, NULL), 0);
	while (in_stack == 0)
		sched_yield();
	struct da_leak_scan s;
	struct da_leak_fork f;
	int rc = entered_scan_fork(&s, &f);
	if (rc != 0) {
		/* The copy: no cmocka here, the verdict is the exit status. */
		int bad = rc != 1;
		bad |= (class_of(&s, (uintptr_t)held) != DA_LEAK_REACHABLE)
		       << 1;
		bad |= (class_of(&s, DISGUISE(lost_plain)) != DA_LEAK_DEFINITE)
		       << 2;
		bad |= (class_of(&s, DISGUISE(in_stack)) != DA_LEAK_REACHABLE)
		       << 3;
		bad |= (s.threads != 2) << 4;
		syscall(SYS_exit_group, bad);
	}
	/* The parent goes on at once: the copy scans what was. */
	void *was = held;
	held = NULL;
	da_audit_free(was, DA_CALL());
	void *more = alloc(100);
	assert_non_null(more);
	int status = 0;
	assert_int_equal(waitpid(f.child, &status, __WCLONE), f.child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(f.parent, getpid());
	assert_int_equal(f.threads, 1);
	assert_int_equal(f.missed, 0);
	assert_true(f.fork_ns > 0 && f.fork_ns <= f.pause_ns);
	assert_true(f.unix_ns > 1500000000ull * 1000000000u);
	da_audit_free(more, DA_CALL());
	assert_int_equal(write(gate[1], "x", 1), 1);
	pthread_join(t, NULL);
}

/* Reads all of fd from the start. */
static char *
read_all(int fd)
{
	static char buf[65536];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
report_of_the_copy(void **state)
{
	(void)state;
	char name[] = "/tmp/test_livecheck.XXXXXX";
	int fd = mkstemp(name);
	assert_true(fd >= 0);
	unlink(name);
	int saved = dup(2);
	dup2(fd, 2);
	pid_t child = entered_live_check();
	dup2(saved, 2);
	close(saved);
	assert_true(child > 0);
	int status = 0;
	assert_int_equal(waitpid(child, &status, __WCLONE), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	const char *r = read_all(fd);
	char head[96];
	snprintf(head, sizeof(head), "dbgalloc: live leak check of pid %d at ",
	         (int)getpid());
	assert_memory_equal(r, head, strlen(head));
	assert_non_null(strstr(r, " UTC (0 threads stopped for "));
	assert_non_null(strstr(r, " ms; the fork took "));
	/* The block lost in the first test, and the summary, last. */
	assert_non_null(strstr(r, "\nLeak of 24 bytes in 1 block (definitely "
	                          "lost) allocated from:\n"));
	const char *sum = strstr(r, "\nSUMMARY: dbgalloc: 24 bytes leaked in 1 "
	                            "block (definitely lost: 24 bytes in 1 "
	                            "block)\n");
	assert_non_null(sum);
	assert_int_equal(strchr(sum + 1, '\n')[1], '\0'); /* the last line */
	close(fd);
}

static void
dumper_interval_and_limit(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_livecheck.XXXXXX";
	assert_non_null(mkdtemp(dir));
	static char pattern[64];
	snprintf(pattern, sizeof(pattern), "%s/d.%%n", dir);
	/* Without a dump file, the limit's call does nothing. */
	da_dumper_limit();
	struct da_dumper_cfg c = {.pattern = pattern, .interval_ms = 20};
	char err[256];
	assert_int_equal(da_dumper_configure(&c, err, sizeof(err)), 0);
	char path[96];
	snprintf(path, sizeof(path), "%s/d.3", dir);
	struct stat st;
	for (int i = 0; i < 500 && stat(path, &st) != 0; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(stat(path, &st), 0);
	/* The limit's dump is waited for: it exists when the call returns. */
	da_dumper_limit();
	da_dumper_exit();
	int limit = 0;
	for (int n = 1; n < 1000; n++) {
		snprintf(path, sizeof(path), "%s/d.%d", dir, n);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			break;
		char line[256];
		while (fgets(line, sizeof(line), f) != NULL)
			if (strcmp(line, "H reason limit\n") == 0)
				limit++;
		fclose(f);
		unlink(path);
	}
	assert_int_equal(limit, 1);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(forked_scan_sees_the_stop),
	        cmocka_unit_test(report_of_the_copy),
	        cmocka_unit_test(dumper_interval_and_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
