/*
 * tools/stats-pid.c — `dbgalloc-stats leaks --pid PID` (see stats-pid.h).
 * Runs outside the allocator: plain C, stdio and malloc.
 */
#include "tools/stats-pid.h"
#include "audit/trigger.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PREFIX          "dbgalloc-stats: "
#define DEFAULT_TIMEOUT 30
#define POLL_MS         50

static int
fail(const char *fmt, ...)
{
	va_list ap;
	fputs(PREFIX, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

/* A file from byte offset on, in a malloc'd buffer, terminated; *len its
 * length. NULL with errno on failure. */
static char *
slurp_from(const char *path, long offset, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (offset > 0 && lseek(fd, offset, SEEK_SET) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (buf == NULL)
			break;
		if (n == cap) {
			char *b = realloc(buf, 2 * cap + 1);
			if (b == NULL) {
				free(buf);
				buf = NULL;
				errno = ENOMEM;
				break;
			}
			buf = b;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			free(buf);
			buf = NULL;
			errno = e;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	int e = errno;
	close(fd);
	errno = e;
	if (buf != NULL) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

static char *
slurp(const char *path, size_t *len)
{
	return slurp_from(path, 0, len);
}

/* The value of NAME in an environ image (NUL-separated), or NULL. */
static const char *
env_get(const char *env, size_t len, const char *name)
{
	size_t k = strlen(name);
	for (const char *e = env; e < env + len; e += strlen(e) + 1)
		if (strncmp(e, name, k) == 0 && e[k] == '=')
			return e + k + 1;
	return NULL;
}

/* Whether the signal's bit is set in the hex mask of /proc/PID/status's
 * line key ("SigCgt:"). -1 if the line is not there. */
static int
sig_in_mask(const char *status, const char *key, int sig)
{
	const char *l = strstr(status, key);
	if (l == NULL)
		return -1;
	l += strlen(key);
	while (*l == ' ' || *l == '\t')
		l++;
	const char *end = l;
	while ((*end >= '0' && *end <= '9') || (*end >= 'a' && *end <= 'f'))
		end++;
	/* Bit sig - 1, counted from the last digit. */
	int bit = sig - 1;
	const char *d = end - 1 - bit / 4;
	if (d < l)
		return 0;
	int v = *d <= '9' ? *d - '0' : *d - 'a' + 10;
	return (v >> (bit % 4)) & 1;
}

/* DBGALLOC_LOG's name for pid: %p the pid, %% a %. */
static void
log_name(const char *pattern, pid_t pid, char *out, size_t len)
{
	size_t n = 0;
	for (const char *c = pattern; *c != '\0' && n + 1 < len; c++) {
		if (c[0] == '%' && c[1] == 'p') {
			n += (size_t)snprintf(out + n, len - n, "%d", (int)pid);
			if (n >= len)
				n = len - 1;
			c++;
		} else if (c[0] == '%' && c[1] == '%') {
			out[n++] = '%';
			c++;
		} else {
			out[n++] = *c;
		}
	}
	out[n] = '\0';
}

static long
file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * Looks in buf[0..len) (what the file gained) for pid's report. Returns 0
 * with it printed, 2 with its line of failure printed, 1 if it is not
 * whole yet.
 */
static int
find_report(const char *buf, size_t len, pid_t pid)
{
	char head[64], failed[80];
	snprintf(head, sizeof(head), "dbgalloc: live leak check of pid %d at ",
	         (int)pid);
	snprintf(failed, sizeof(failed),
	         "dbgalloc: live leak check of pid %d failed: ", (int)pid);
	const char *start = NULL;
	for (const char *l = buf; l < buf + len;) {
		const char *nl = memchr(l, '\n', (size_t)(buf + len - l));
		if (nl == NULL)
			return 1; /* a line not yet whole */
		size_t n = (size_t)(nl - l);
		if (start == NULL && n >= strlen(failed) &&
		    memcmp(l, failed, strlen(failed)) == 0) {
			fwrite(l, 1, n + 1, stderr);
			return 2;
		}
		if (start == NULL && n >= strlen(head) &&
		    memcmp(l, head, strlen(head)) == 0)
			start = l;
		if (start != NULL && n >= 18 &&
		    memcmp(l, "SUMMARY: dbgalloc:", 18) == 0) {
			fwrite(start, 1, (size_t)(nl + 1 - start), stdout);
			return fflush(stdout) == 0 ? 0 : 2;
		}
		l = nl + 1;
	}
	return 1;
}

/* Reads path from offset until pid's report is there or the time is up. */
static int
wait_report(const char *path, const char *shown, long offset, pid_t pid,
            unsigned timeout)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout * 1000u;
	for (;;) {
		size_t len = 0;
		if (file_size(path) < offset) /* truncated: read it all */
			offset = 0;
		char *gained = slurp_from(path, offset, &len);
		if (gained != NULL) {
			int rc = find_report(gained, len, pid);
			free(gained);
			if (rc != 1)
				return rc;
		} else if (errno != ENOENT) {
			return fail("cannot read %s: %s", shown,
			            strerror(errno));
		}
		if (now_ms() >= deadline)
			return fail(
			        "no leak report from pid %d in %u s (in %s)",
			        (int)pid, timeout, shown);
		struct timespec ts = {0, POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static int
options(int argc, char **argv, unsigned *timeout)
{
	*timeout = DEFAULT_TIMEOUT;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t k = strcspn(a, "=");
		if (a[k] == '=')
			v = a + k + 1;
		int is_timeout = strncmp(a, "--timeout", k) == 0 && k == 9;
		int is_format = strncmp(a, "--format", k) == 0 && k == 8;
		if (!is_timeout && !is_format)
			return fail("leaks --pid: unknown option '%s'", a);
		if (v == NULL) {
			if (i + 1 >= argc)
				return fail("leaks --pid: option '%s' needs a "
				            "value",
				            a);
			v = argv[++i];
		}
		if (is_format) {
			if (strcmp(v, "text") != 0)
				return fail("leaks --pid: --format %s: only "
				            "text is supported with --pid",
				            v);
			continue;
		}
		char *end;
		errno = 0;
		unsigned long t = strtoul(v, &end, 10);
		if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 ||
		    t < 1 || t > 3600)
			return fail(
			        "leaks --pid: --timeout %s: expected seconds "
			        "from 1 to 3600",
			        v);
		*timeout = (unsigned)t;
	}
	return 0;
}

int
da_stats_leaks_pid(pid_t pid, int argc, char **argv)
{
	unsigned timeout;
	if (options(argc, argv, &timeout) != 0)
		return 2;
	if (pid <= 0)
		return fail("leaks --pid: %d is not a process id", (int)pid);
	char path[PATH_MAX + 64], shown[PATH_MAX + 64];
	size_t len;
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	char *env = slurp(path, &len);
	if (env == NULL && errno == ENOENT)
		return fail("no process with pid %d", (int)pid);
	if (env == NULL && (errno == EACCES || errno == EPERM))
		return fail("pid %d: permission denied (cannot read %s)",
		            (int)pid, path);
	if (env == NULL)
		return fail("pid %d: cannot read %s: %s", (int)pid, path,
		            strerror(errno));
	int rc = 2;
	char *maps = NULL, *status = NULL;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	size_t mlen;
	maps = slurp(path, &mlen);
	if (maps == NULL) {
		fail("pid %d: cannot read %s: %s", (int)pid, path,
		     strerror(errno));
		goto out;
	}
	if (strstr(maps, "/libdbgalloc") == NULL) {
		fail("pid %d is not running under dbgalloc (no libdbgalloc is "
		     "loaded in it)",
		     (int)pid);
		goto out;
	}
	const char *sigtext = env_get(env, len, "DBGALLOC_LEAKS_SIGNAL");
	if (sigtext == NULL || sigtext[0] == '\0') {
		fail("pid %d was started without DBGALLOC_LEAKS_SIGNAL (start "
		     "it "
		     "with DBGALLOC_LEAKS_SIGNAL=USR1 to check it while it "
		     "runs)",
		     (int)pid);
		goto out;
	}
	int sig = da_trigger_signal(sigtext);
	char name[16];
	if (sig < 0) {
		fail("pid %d: DBGALLOC_LEAKS_SIGNAL=%s is not a signal "
		     "dbgalloc "
		     "accepts",
		     (int)pid, sigtext);
		goto out;
	}
	da_trigger_signal_name(sig, name, sizeof(name));
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	size_t slen;
	status = slurp(path, &slen);
	if (status == NULL || sig_in_mask(status, "SigCgt:", sig) != 1) {
		fail("pid %d does not catch SIG%s (its DBGALLOC_LEAKS_SIGNAL): "
		     "not sent, it could end the process",
		     (int)pid, name);
		goto out;
	}
	/* Where the report goes. */
	const char *log = env_get(env, len, "DBGALLOC_LOG");
	if (log != NULL && log[0] != '\0') {
		char name_p[PATH_MAX];
		log_name(log, pid, name_p, sizeof(name_p));
		snprintf(shown, sizeof(shown), "%s", name_p);
		if (name_p[0] == '/')
			snprintf(path, sizeof(path), "%s", name_p);
		else
			snprintf(path, sizeof(path), "/proc/%d/cwd/%s",
			         (int)pid, name_p);
	} else {
		struct stat st;
		char target[PATH_MAX];
		snprintf(path, sizeof(path), "/proc/%d/fd/2", (int)pid);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			if (kill(pid, sig) != 0) {
				fail("pid %d: cannot send SIG%s: %s", (int)pid,
				     name, strerror(errno));
				goto out;
			}
			fprintf(stderr,
			        PREFIX
			        "pid %d has no DBGALLOC_LOG: its leak "
			        "report goes to its standard error (%s), "
			        "which is not a file this tool can read\n",
			        (int)pid, n > 0 ? target : "closed");
			rc = 0;
			goto out;
		}
		snprintf(shown, sizeof(shown), "%s (its standard error)",
		         target);
	}
	long offset = file_size(path);
	if (kill(pid, sig) != 0) {
		if (errno == ESRCH)
			fail("no process with pid %d", (int)pid);
		else
			fail("pid %d: cannot send SIG%s: %s", (int)pid, name,
			     strerror(errno));
		goto out;
	}
	rc = wait_report(path, shown, offset, pid, timeout);
out:
	free(env);
	free(maps);
	free(status);
	return rc;
}
