/*
 * demo — what dbgalloc does today, in one run (`make demo`).
 *
 * Built without dbgalloc and started through the launcher
 * (dbgalloc run --leaks -- demo), it shows that every allocation of an
 * unchanged program goes through dbgalloc, what its heap looks like after
 * some work, what dbgalloc reports when a program leaks (a child process
 * leaks from three functions and exits: its leak report at exit), and what
 * happens to a program that frees a block twice: a child process does so
 * and dies with dbgalloc's diagnostic; then a memory limit of 1 MiB above
 * what is live: the 17th block of 64 KiB is refused (NULL, and one report
 * naming its caller and the call sites holding the memory), and freeing
 * brings allocations back; last, the demo runs itself again with guard
 * pages (DBGALLOC_GUARD=1) and writes one byte past a block: it dies by
 * SIGSEGV at that write, after dbgalloc's report. The demo grows as
 * dbgalloc does (dump).
 */
#include <dlfcn.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct word {
	struct word *next;
	char *text;
};

static void *(*volatile opaque_fn)(void *);

static void *
identity(void *p)
{
	return p;
}

/* Builds a list of n strings, frees half of them, returns the rest. */
static struct word *
build(int n)
{
	struct word *head = NULL;
	for (int i = 0; i < n; i++) {
		struct word *w = malloc(sizeof(*w));
		char buf[32];
		snprintf(buf, sizeof(buf), "word-%d", i);
		w->text = strdup(buf);
		w->next = head;
		head = w;
	}
	struct word **pp = &head;
	for (int i = 0; *pp != NULL; i++) {
		struct word *w = *pp;
		if (i % 2 == 0) {
			*pp = w->next;
			free(w->text);
			free(w);
		} else {
			pp = &w->next;
		}
	}
	return head;
}

/*
 * What the leaking child loses, checked by demo-test.sh:
 *   remember_name   strdup of a 15-character name: 16 bytes, 1 block
 *   load_table      an array of 10 row pointers (80 bytes), dropped, and
 *                   the 10 rows of 32 bytes it held: 80 bytes definitely
 *                   lost, 320 bytes in 10 blocks indirectly lost
 *   open_session    one 64-byte block, dropped
 * 480 bytes in 13 blocks in all.
 */
static void *volatile dropped;

__attribute__((noinline)) static void
remember_name(void)
{
	dropped = strdup("demo-user-alice");
}

__attribute__((noinline)) static void
load_table(void)
{
	char **rows = malloc(10 * sizeof(*rows));
	for (int i = 0; i < 10; i++)
		rows[i] = malloc(32);
	dropped = rows;
}

__attribute__((noinline)) static void
open_session(void)
{
	dropped = malloc(64);
}

/*
 * The leak check is conservative: a stale copy of a dropped pointer, left
 * on the stack by the calls above, would still count as a reference. This
 * overwrites the stack below the caller (a real program's later calls do
 * the same).
 */
__attribute__((noinline)) static void
scrub_stack(void)
{
	volatile char buf[16384];
	memset((char *)buf, 0, sizeof(buf));
	__asm__ volatile("" : : "r"(buf) : "memory");
}

/* Runs fn in a child process; returns the child's wait status. */
static int
in_child(void (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		exit(0); /* exit, not _exit: the leak report runs at exit */
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static void
leak(void)
{
	remember_name();
	load_table();
	open_session();
	dropped = NULL; /* the last pointer to any of them */
	scrub_stack();
}

static void
double_free(void)
{
	char *p = malloc(24);
	free(opaque_fn(p));
	free(opaque_fn(p));
}

/* dbgalloc's own functions, looked up: the demo is not linked with it. */
struct dbgalloc_stats {
	size_t live_bytes, live_blocks, peak_bytes;
	unsigned long long total_allocs, total_bytes, failed_allocs;
	size_t limit;
};
static void (*stats_get)(struct dbgalloc_stats *);
static size_t (*limit_set)(size_t);

#define CACHE_BLOCK (64 * 1024)
static void *cache[64];

/* Fills the cache with 64 KiB blocks until malloc says no; returns how
 * many it got. */
__attribute__((noinline)) static int
grow_cache(void)
{
	int n = 0;
	while (n < 64 && (cache[n] = malloc(CACHE_BLOCK)) != NULL)
		n++;
	return n;
}

static int
limit_demo(void)
{
	struct dbgalloc_stats st;
	stats_get(&st);
	limit_set(st.live_bytes + 16 * CACHE_BLOCK);
	printf("demo: with a limit of 1 MiB above the %zu bytes live, a "
	       "cache of 64 KiB blocks grows:\n",
	       st.live_bytes);
	int n = grow_cache();
	stats_get(&st);
	printf("demo: the cache got %d blocks, then malloc returned NULL; "
	       "%llu allocation refused\n",
	       n, st.failed_allocs);
	for (int i = 0; i < n; i++)
		free(cache[i]);
	void *p = malloc(CACHE_BLOCK);
	printf("demo: after freeing the cache, malloc %s again\n",
	       p != NULL ? "succeeds" : "still fails");
	free(p);
	limit_set(0);
	return n == 16 && st.failed_allocs == 1 && p != NULL ? 0 : 1;
}

/* "demo overflow": one byte past a 13-byte block, the process's last
 * act when its blocks have guard pages. */
__attribute__((noinline)) static int
overflow(void)
{
	char *p = opaque_fn(malloc(13));
	/* volatile: a store the free makes dead is otherwise left out */
	((volatile char *)p)[13] = '!';
	free(p);
	return 0;
}

/* Runs the demo again as "demo overflow" under DBGALLOC_GUARD=1 (the
 * preload is inherited); returns its wait status. */
static int
overflow_under_guard(const char *self)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		setenv("DBGALLOC_GUARD", "1", 1);
		setenv("DBGALLOC_GUARD_ALIGN", "1", 1);
		unsetenv("DBGALLOC_DUMP"); /* it dies by the signal anyway */
		execl("/proc/self/exe", self, "overflow", (char *)NULL);
		_exit(127);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

int
main(int argc, char **argv)
{
	opaque_fn = identity;
	if (argc == 2 && strcmp(argv[1], "overflow") == 0)
		return overflow();
	const char *(*version)(void) =
	        (const char *(*)(void))dlsym(RTLD_DEFAULT, "dbgalloc_version");
	int (*owns)(const void *) =
	        (int (*)(const void *))dlsym(RTLD_DEFAULT, "dbgalloc_owns");
	if (version == NULL || owns == NULL) {
		printf("demo: dbgalloc is not loaded: run me as "
		       "'dbgalloc run --leaks -- demo'\n");
		return 1;
	}
	printf("demo: malloc is dbgalloc %s\n", version());

	struct word *list = build(200000);
	int kept = 0, ours = 0;
	for (struct word *w = list; w != NULL; w = w->next) {
		kept++;
		ours += owns(w) && owns(w->text);
	}
	struct mallinfo2 mi = mallinfo2();
	printf("demo: kept %d of 200000 strings, %d of them in dbgalloc "
	       "blocks\n",
	       kept, ours);
	printf("demo: heap in use %zu bytes of %zu mapped\n", mi.uordblks,
	       mi.arena);
	while (list != NULL) {
		struct word *next = list->next;
		free(list->text);
		free(list);
		list = next;
	}

	printf("demo: a child process now leaks 480 bytes from three "
	       "functions and exits:\n");
	if (in_child(leak) != 0)
		return 1;

	*(void **)&stats_get = dlsym(RTLD_DEFAULT, "dbgalloc_stats_get");
	*(void **)&limit_set = dlsym(RTLD_DEFAULT, "dbgalloc_limit_set");
	if (stats_get == NULL || limit_set == NULL || limit_demo() != 0)
		return 1;

	printf("demo: a child process now frees a block twice:\n");
	int status = in_child(double_free);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
		printf("demo: the double free went unnoticed (status %d)\n",
		       status);
		return 1;
	}
	printf("demo: the child was stopped with SIGABRT, as it should be\n");

	printf("demo: the demo runs again with DBGALLOC_GUARD=1 "
	       "DBGALLOC_GUARD_ALIGN=1 and writes one byte past a 13-byte "
	       "block:\n");
	status = overflow_under_guard(argv[0]);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV) {
		printf("demo: the overflow went unnoticed (status %d)\n",
		       status);
		return 1;
	}
	printf("demo: it was stopped with SIGSEGV at the write, as it should "
	       "be\n");
	return 0;
}
