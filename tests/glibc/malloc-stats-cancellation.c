/*
 * malloc-stats-cancellation.c — what glibc's
 * malloc/tst-malloc-stats-cancellation checks: malloc_stats() is not a
 * cancellation point. A thread released from a barrier with a cancellation
 * request pending calls malloc_stats(): all of its output must reach
 * stderr, and the thread must then be cancelled by the next real
 * cancellation point (an fputs to stderr, which must print nothing).
 * The same holds for the allocator's error reports: a double free in such
 * a thread must still be reported and abort the process.
 *
 * Each case runs in a child whose stderr is a temporary file; the parent
 * reads the file. Cases:
 *   format   malloc_stats() on its own prints glibc's fields (see below)
 *   cancel   glibc's test: all of it printed, then cancelled at fputs
 *   report   double free with a pending cancellation: report and SIGABRT
 *
 *   malloc-stats-cancellation [--expect-dbgalloc]
 */

#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "tests/glibc/tier.h"

enum { WATCHDOG_S = 20, OUTPUT_MAX = 65536 };

/* Exit statuses of a child. */
enum { CHILD_CANCELLED = 0, CHILD_NOT_CANCELLED = 3, CHILD_BROKEN = 4 };

static const char after_stats[] = "fputs after malloc_stats printed this\n";

/* glibc 2.36's lines (malloc/malloc.c, __malloc_stats), in this order. */
static const char *const stats_fields[] = {
        "Arena 0:",         "system bytes",
        "in use bytes",     "Total (incl. mmap):",
        "max mmap regions", "max mmap bytes",
};

static void *(*volatile fn_malloc)(size_t) = malloc;
static void (*volatile fn_free)(void *) = free;

static void *
stats_then_fputs(void *gate)
{
	/* Not a cancellation point: the request stays pending. */
	pthread_barrier_wait(gate);
	malloc_stats();
	fputs(after_stats, stderr);
	return NULL;
}

static void *
double_free(void *gate)
{
	char *p;

	pthread_barrier_wait(gate);
	p = fn_malloc(32);
	fn_free(p);
	fn_free(p);
	return NULL;
}

/*
 * The child: stderr goes to fd; fn runs in a thread that has a pending
 * cancellation request, or in the child itself if fn is NULL (format).
 */
static void
child(int fd, void *(*fn)(void *))
{
	struct rlimit no_core = {0, 0};
	pthread_barrier_t gate;
	pthread_t t;
	void *rv;

	setrlimit(RLIMIT_CORE, &no_core); /* the report case aborts */
	if (dup2(fd, 2) != 2)
		_exit(CHILD_BROKEN);
	if (fn == NULL) {
		malloc_stats();
		_exit(0);
	}
	if (pthread_barrier_init(&gate, NULL, 2) != 0 ||
	    pthread_create(&t, NULL, fn, &gate) != 0 || pthread_cancel(t) != 0)
		_exit(CHILD_BROKEN);
	pthread_barrier_wait(&gate);
	if (pthread_join(t, &rv) != 0)
		_exit(CHILD_BROKEN);
	_exit(rv == PTHREAD_CANCELED ? CHILD_CANCELLED : CHILD_NOT_CANCELLED);
}

/*
 * Runs a case in a child; returns its wait status and puts what it wrote
 * to stderr in out (NUL-terminated).
 */
static int
run_child(void *(*fn)(void *), char *out, size_t size)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd, status = -1;
	ssize_t n;
	size_t len = 0;
	pid_t pid;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/da-stats-cancel-XXXXXX",
	         dir != NULL && dir[0] != '\0' ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0) {
		tier_failf("mkstemp: %s", strerror(errno));
		return -1;
	}
	unlink(path);
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		child(fd, fn);
	if (pid < 0) {
		tier_failf("fork: %s", strerror(errno));
		close(fd);
		return -1;
	}
	tier_track(pid);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	tier_untrack(pid);
	lseek(fd, 0, SEEK_SET);
	while (len + 1 < size && (n = read(fd, out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fd);
	return status;
}

static void
show_output(const char *what, const char *out)
{
	const char *line, *nl;

	fprintf(stderr, "  %s wrote %s\n", what,
	        out[0] != '\0' ? "(to stderr):" : "nothing to stderr");
	for (line = out; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL) {
			fprintf(stderr, "  | %s\n", line);
			break;
		}
		fprintf(stderr, "  | %.*s\n", (int)(nl - line), line);
	}
}

/* The start of the line after line, or NULL at the end of the text. */
static const char *
next_line(const char *line)
{
	const char *nl = strchr(line, '\n');

	return nl != NULL && nl[1] != '\0' ? nl + 1 : NULL;
}

/* 1 if line (up to its newline) ends in "= <decimal number>". */
static int
has_number(const char *line)
{
	const char *eq = strchr(line, '='), *nl = strchr(line, '\n');
	const char *d;

	if (eq == NULL || (nl != NULL && nl < eq))
		return 0;
	for (d = eq + 1; *d == ' '; d++)
		;
	if (*d < '0' || *d > '9')
		return 0;
	while (*d >= '0' && *d <= '9')
		d++;
	return *d == '\n' || *d == '\0';
}

/*
 * Checks malloc_stats() output against glibc's format: each field name at
 * the start of a line, in glibc's order, the numeric ones followed by
 * "= <number>". Returns NULL, or what is wrong.
 */
static const char *
stats_problem(const char *out)
{
	static char why[160];
	const char *line = out[0] != '\0' ? out : NULL;
	size_t i, n;

	for (i = 0; i < sizeof(stats_fields) / sizeof(stats_fields[0]); i++) {
		n = strlen(stats_fields[i]);
		while (line != NULL && strncmp(line, stats_fields[i], n) != 0)
			line = next_line(line);
		if (line == NULL) {
			snprintf(why, sizeof(why), "no line \"%s\"%s",
			         stats_fields[i],
			         i > 0 ? " after the ones before it" : "");
			return why;
		}
		if (stats_fields[i][n - 1] != ':' && !has_number(line)) {
			snprintf(why, sizeof(why),
			         "\"%s\" is not followed by \"= <number>\"",
			         stats_fields[i]);
			return why;
		}
		line = next_line(line);
	}
	return NULL;
}

static void
case_format(char *out)
{
	int status = run_child(NULL, out, OUTPUT_MAX);
	const char *why = stats_problem(out);

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		tier_failf("format: malloc_stats() child: wait status %#x",
		           status);
	else if (why != NULL)
		tier_failf("format: malloc_stats() output: %s", why);
	else {
		puts("malloc-stats-cancellation: format: ok");
		return;
	}
	show_output("malloc_stats()", out);
}

static void
case_cancel(char *out)
{
	int status = run_child(stats_then_fputs, out, OUTPUT_MAX);
	int bad = 0;

	if (!WIFEXITED(status) || WEXITSTATUS(status) == CHILD_BROKEN) {
		tier_failf("cancel: child: wait status %#x", status);
		bad = 1;
	} else if (WEXITSTATUS(status) != CHILD_CANCELLED) {
		tier_failf("cancel: the thread was not cancelled");
		bad = 1;
	}
	/* glibc's test: the last line is there, so nothing was cut off. */
	if (strstr(out, "max mmap bytes") == NULL) {
		tier_failf("cancel: malloc_stats() output incomplete (no "
		           "\"max mmap bytes\")");
		bad = 1;
	}
	if (strstr(out, after_stats) != NULL) {
		tier_failf("cancel: the fputs after malloc_stats() printed "
		           "(malloc_stats() consumed the cancellation?)");
		bad = 1;
	}
	if (!bad)
		puts("malloc-stats-cancellation: cancel: ok");
	else
		show_output("the cancelled thread", out);
}

static void
case_report(char *out)
{
	int status = run_child(double_free, out, OUTPUT_MAX);
	int bad = 0;

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_CANCELLED)
			tier_failf("report: the double free did not abort; "
			           "the thread was cancelled and the process "
			           "went on");
		else
			tier_failf("report: the double free did not abort "
			           "(wait status %#x)",
			           status);
		bad = 1;
	}
	if (strstr(out, "double free") == NULL) {
		tier_failf("report: no \"double free\" on stderr");
		bad = 1;
	}
	if (probe_active() && strstr(out, "dbgalloc: double free of") == NULL) {
		tier_failf("report: no \"dbgalloc: double free of\" line");
		bad = 1;
	}
	if (!bad)
		puts("malloc-stats-cancellation: report: ok");
	else
		show_output("the cancelled thread", out);
}

int
main(int argc, char **argv)
{
	char *out;

	tier_start(&argc, argv, "malloc-stats-cancellation");
	tier_watchdog(WATCHDOG_S);
	out = malloc(OUTPUT_MAX);
	if (out == NULL) {
		puts("FAIL: malloc");
		return 1;
	}
	case_format(out);
	case_cancel(out);
	case_report(out);
	free(out);
	if (probe_status() == 0)
		puts("malloc-stats-cancellation: ok");
	return probe_status();
}
