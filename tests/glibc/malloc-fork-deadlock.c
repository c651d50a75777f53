/*
 * malloc-fork-deadlock.c — what glibc's malloc/tst-malloc-fork-deadlock
 * checks (glibc bug 19431): fork must not deadlock against stdio's locks.
 * Four threads fork in a loop (each child _exits 17), eight threads read a
 * one-line, 50,001-byte file with getline (each holds its FILE lock while
 * getdelim grows the line with realloc) and one thread calls fflush(NULL)
 * (holds the list of all streams while it takes each FILE lock). An
 * allocator whose fork handler takes its locks before glibc's fork takes
 * the stream list closes a cycle of three. Runs DA_TEST_SECONDS (3 s); a
 * hang is caught by the watchdog, which prints what each kind of thread
 * had done.   malloc-fork-deadlock [--expect-dbgalloc]
 */

#include <malloc.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/glibc/tier.h"

enum {
	FORK_THREADS = 4,
	READ_THREADS = 8,
	LINE_LENGTH = 50000, /* bytes before the newline */
	GRACE_S = 12,        /* allowed for stopping, beyond the timed phase */
};

static int stop;
static long forks, lines, flushes;

static void
show_progress(void)
{
	tier_say_num("  forks done: ",
	             __atomic_load_n(&forks, __ATOMIC_RELAXED), "\n");
	tier_say_num("  lines read: ",
	             __atomic_load_n(&lines, __ATOMIC_RELAXED), "\n");
	tier_say_num("  fflush(NULL) calls: ",
	             __atomic_load_n(&flushes, __ATOMIC_RELAXED), "\n");
}

static int
stopping(void)
{
	return __atomic_load_n(&stop, __ATOMIC_RELAXED);
}

static void *
fork_loop(void *arg)
{
	int status;
	pid_t pid, r;

	(void)arg;
	while (!stopping()) {
		pid = fork();
		if (pid < 0) {
			probe_fail(__FILE__, __LINE__, "fork");
			break;
		}
		if (pid == 0)
			_exit(17);
		tier_track(pid);
		do
			r = waitpid(pid, &status, 0);
		while (r < 0 && errno == EINTR);
		tier_untrack(pid);
		if (r != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 17) {
			probe_fail(__FILE__, __LINE__,
			           "child did not exit with status 17");
			break;
		}
		__atomic_add_fetch(&forks, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *
read_loop(void *arg)
{
	FILE *f = arg;
	char *line;
	size_t size;
	ssize_t n;

	while (!stopping()) {
		rewind(f);
		line = NULL;
		size = 0;
		n = getline(&line, &size, f);
		if (n != LINE_LENGTH + 1 || line[0] != 'x' ||
		    line[LINE_LENGTH] != '\n') {
			probe_fail(__FILE__, __LINE__, "getline");
			free(line);
			break;
		}
		free(line);
		__atomic_add_fetch(&lines, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *
flush_loop(void *arg)
{
	(void)arg;
	while (!stopping()) {
		if (fflush(NULL) != 0) {
			probe_fail(__FILE__, __LINE__, "fflush(NULL)");
			break;
		}
		__atomic_add_fetch(&flushes, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * Writes the long line to a temporary file and opens it once per reader;
 * the name is removed at once, so a killed run leaves nothing behind.
 */
static int
open_readers(FILE **in, int n)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	FILE *out;
	int fd, i;

	snprintf(path, sizeof(path), "%s/da-fork-deadlock-XXXXXX",
	         dir != NULL && dir[0] != '\0' ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return -1;
	}
	out = fdopen(fd, "w");
	if (out == NULL)
		return -1;
	for (i = 0; i < LINE_LENGTH; i++)
		fputc('x', out);
	fputc('\n', out);
	if (fclose(out) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		in[i] = fopen(path, "r");
		if (in[i] == NULL) {
			perror("fopen");
			unlink(path);
			return -1;
		}
	}
	unlink(path);
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned seconds = tier_seconds(3);
	struct timespec run = {(time_t)seconds, 0};
	pthread_t forkers[FORK_THREADS], readers[READ_THREADS], flusher;
	FILE *in[READ_THREADS];
	int i;

	tier_start(&argc, argv, "malloc-fork-deadlock");
	tier_on_timeout = show_progress;
	tier_watchdog(seconds + GRACE_S);
	/* glibc's test raises the arena limit; the call must be accepted. */
	CHECK(mallopt(M_ARENA_MAX, 400) != 0);
	if (open_readers(in, READ_THREADS) != 0) {
		puts("FAIL: cannot create the input file");
		return 1;
	}
	for (i = 0; i < FORK_THREADS; i++)
		CHECK(pthread_create(&forkers[i], NULL, fork_loop, NULL) == 0);
	for (i = 0; i < READ_THREADS; i++)
		CHECK(pthread_create(&readers[i], NULL, read_loop, in[i]) == 0);
	CHECK(pthread_create(&flusher, NULL, flush_loop, NULL) == 0);
	while (nanosleep(&run, &run) != 0 && errno == EINTR)
		;
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	CHECK(pthread_join(flusher, NULL) == 0);
	for (i = 0; i < READ_THREADS; i++) {
		CHECK(pthread_join(readers[i], NULL) == 0);
		fclose(in[i]);
	}
	for (i = 0; i < FORK_THREADS; i++)
		CHECK(pthread_join(forkers[i], NULL) == 0);
	printf("malloc-fork-deadlock: %ld forks, %ld lines read, "
	       "%ld fflush(NULL) in %u s\n",
	       forks, lines, flushes, seconds);
	CHECK(forks > 0 && lines > 0 && flushes > 0);
	if (probe_status() == 0)
		puts("malloc-fork-deadlock: ok");
	return probe_status();
}
