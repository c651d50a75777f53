/*
 * interpose.c — dbgalloc replaces malloc for libc itself, not only for the
 * program: blocks libc allocates for its caller (strdup, asprintf, getline,
 * open_memstream, getcwd, realpath, scandir, regcomp, threads' TLS, stdio
 * buffers) are dbgalloc blocks that dbgalloc's free takes back. The
 * glibc-only calls (mallopt, malloc_trim, mallinfo2, malloc_stats,
 * malloc_info) must not crash (PITFALLS 14); fork and posix_spawn from a
 * threaded process work (PITFALLS 5). Built three ways: linked with
 * libdbgalloc.so, linked with libdbgalloc.a into a dynamic executable, and
 * plain, to be preloaded.
 */

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <regex.h>
#include <spawn.h>
#include <sys/wait.h>

#include "tests/integration/probe.h"

extern char **environ;

static void (*volatile fn_free)(void *) = free;
static void *(*volatile fn_malloc)(size_t) = malloc;

static void
libc_strings(void)
{
	char *s = NULL;

	s = strdup("copied by libc");
	CHECK(s != NULL && probe_owned(s));
	fn_free(s);
	s = strndup("copied by libc, cut short", 9);
	CHECK(s != NULL && strlen(s) == 9 && probe_owned(s));
	fn_free(s);
	s = NULL;
	CHECK(asprintf(&s, "%s %d", "formatted", 42) > 0);
	CHECK(s != NULL && strcmp(s, "formatted 42") == 0 && probe_owned(s));
	fn_free(s);
	s = getcwd(NULL, 0);
	CHECK(s != NULL && probe_owned(s));
	fn_free(s);
	s = realpath("/", NULL);
	CHECK(s != NULL && strcmp(s, "/") == 0 && probe_owned(s));
	fn_free(s);
}

static void
libc_streams(void)
{
	char *buf = NULL, *line = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int i;

	f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	for (i = 0; i < 5000; i++)
		fprintf(f, "line %d\n", i);
	CHECK(fclose(f) == 0);
	CHECK(buf != NULL && probe_owned(buf));

	f = fmemopen(buf, len, "r");
	CHECK(f != NULL);
	if (f != NULL) {
		for (i = 0; getline(&line, &cap, f) > 0; i++)
			;
		CHECK(i == 5000);
		CHECK(line != NULL && probe_owned(line));
		fclose(f);
	}
	fn_free(line);
	fn_free(buf);

	/* A FILE and its buffer live in libc's heap allocations. */
	f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	if (f != NULL) {
		line = NULL;
		cap = 0;
		while (getline(&line, &cap, f) > 0)
			;
		fn_free(line);
		fclose(f);
	}
}

static int
select_all(const struct dirent *d)
{
	return d->d_name[0] != '\0';
}

static void
libc_dirs_and_regex(void)
{
	struct dirent **names = NULL;
	regex_t re;
	regmatch_t m[2];
	int i, n;

	n = scandir("/", &names, select_all, alphasort);
	CHECK(n > 2);
	if (n > 0) {
		CHECK(probe_owned(names));
		for (i = 0; i < n; i++) {
			CHECK(probe_owned(names[i]));
			fn_free(names[i]);
		}
		fn_free(names);
	}
	CHECK(regcomp(&re, "([a-z]+)[0-9]{2,}", REG_EXTENDED) == 0);
	CHECK(regexec(&re, "--abc123--", 2, m, 0) == 0);
	CHECK(m[1].rm_so == 2 && m[1].rm_eo == 5);
	regfree(&re);
}

/* glibc's introspection calls must not crash when dbgalloc owns the heap. */
static void
glibc_malloc_extras(void)
{
	struct mallinfo2 mi;
	char *buf = NULL;
	size_t len = 0;
	int saved, null;
	FILE *f;

	(void)mallopt(M_ARENA_MAX, 2);
	(void)mallopt(M_MMAP_THRESHOLD, 1 << 20);
	(void)malloc_trim(0);
	mi = mallinfo2();
	(void)mi;
	f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	if (f != NULL) {
		(void)malloc_info(0, f);
		fclose(f);
		fn_free(buf);
	}
	/*
	 * malloc_stats prints to stderr: send fd 2 to /dev/null meanwhile
	 * (not freopen: a buffered stderr makes glibc's own malloc_stats
	 * allocate under its arena lock and deadlock).
	 */
	fflush(stderr);
	saved = dup(2);
	null = open("/dev/null", O_WRONLY);
	CHECK(saved >= 0 && null >= 0);
	if (saved < 0 || null < 0)
		return;
	dup2(null, 2);
	malloc_stats();
	dup2(saved, 2);
	close(saved);
	close(null);
}

static long spin_ops;

static void *
spinner(void *arg)
{
	volatile int *stop = arg;
	void *p;

	while (!*stop) {
		p = fn_malloc((size_t)(spin_ops++ % 5000));
		fn_free(p);
	}
	return NULL;
}

/* fork and posix_spawn while another thread allocates. */
static void
fork_and_spawn(void)
{
	volatile int stop = 0;
	char *spawn_argv[] = {"/bin/sh", "-c", "exit 7", NULL};
	pthread_t t;
	pid_t pid;
	int i, status;

	CHECK(pthread_create(&t, NULL, spinner, (void *)&stop) == 0);
	for (i = 0; i < 20; i++) {
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			char *s = strdup("child");
			void *big = fn_malloc(3 << 20);
			if (s == NULL || big == NULL || !probe_owned(s))
				_exit(1);
			memset(big, 1, 3 << 20);
			fn_free(big);
			fn_free(s);
			_exit(0);
		}
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

		CHECK(posix_spawn(&pid, "/bin/sh", NULL, NULL, spawn_argv,
		                  environ) == 0);
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
	}
	stop = 1;
	CHECK(pthread_join(t, NULL) == 0);
}

int
main(int argc, char **argv)
{
	probe_start(&argc, argv);
	libc_strings();
	libc_streams();
	libc_dirs_and_regex();
	fork_and_spawn();
	glibc_malloc_extras();
	if (probe_failures == 0)
		printf("interpose: ok\n");
	return probe_status();
}
