/*
 * audit/livecheck.c — the live leak check (see livecheck.h): the parent's
 * side (the fork, the pause sent to the copy, the copy's end) and the
 * copy's (the report).
 */
#include "audit/livecheck.h"
#include "alloc/alloc.h"
#include "alloc/os.h"
#include "audit/leak.h"
#include "audit/leakreport.h"
#include "audit/report.h"
#include "audit/symbolize.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* The copy's exit status when it wrote its own line of failure. */
#define CHILD_FAILED 3

void
da_live_utc(uint64_t unix_ns, char *buf)
{
	int64_t secs = (int64_t)(unix_ns / 1000000000u);
	int64_t days = secs / 86400, rem = secs % 86400;
	/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	int64_t f[6] = {y, m, d, rem / 3600, rem / 60 % 60, rem % 60};
	static const char sep[6] = {'-', '-', ' ', ':', ':', ' '};
	char *p = buf;
	for (int i = 0; i < 6; i++) {
		int digits = i == 0 ? 4 : 2;
		for (int k = digits - 1; k >= 0; k--) {
			int64_t v = f[i];
			for (int j = 0; j < k; j++)
				v /= 10;
			*p++ = (char)('0' + v % 10);
		}
		*p++ = sep[i];
	}
	memcpy(p, "UTC", 4);
}

/* "dbgalloc: live leak check of pid N failed: " */
static void
fail_start(struct da_line *l, pid_t pid)
{
	da_line_str(l, "dbgalloc: live leak check of pid ");
	da_line_dec(l, (unsigned long)pid);
	da_line_str(l, " failed: ");
}

/* --- The copy. --- */

/* Closes every descriptor but a and b (raw calls). */
static void
close_others(int a, int b)
{
	if (a > b) {
		int t = a;
		a = b;
		b = t;
	}
	unsigned lo[3] = {0, (unsigned)a + 1, (unsigned)b + 1};
	unsigned hi[3] = {(unsigned)a - 1, (unsigned)b - 1, ~0u};
	int ok = 1;
	for (int i = 0; i < 3; i++)
		if (lo[i] <= hi[i] && (i > 0 || a > 0) &&
		    syscall(SYS_close_range, lo[i], hi[i], 0) != 0)
			ok = 0;
	if (ok)
		return;
	/* Before Linux 5.9: one by one, up to the limit of descriptors. */
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = 0; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		if (fd != a && fd != b)
			syscall(SYS_close, fd);
}

/* The copy ends by its alarm if it hangs. */
static void
watchdog(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGALRM, &sa, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	alarm(DA_LIVE_CHILD_SECONDS);
}

/* The parent's pause and the fork's share of it, sent through the pipe
 * after it resumed; 0 and 0 if they never came. */
static void
read_pause(int fd, uint64_t v[2])
{
	size_t got = 0, want = 2 * sizeof(uint64_t);
	while (got < want) {
		long n = syscall(SYS_read, fd, (char *)v + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			v[0] = v[1] = 0;
			return;
		}
		got += (size_t)n;
	}
}

/* ns as milliseconds with 3 decimals. */
static void
line_ms(struct da_line *l, uint64_t ns)
{
	char ms[24], *p = ms + sizeof(ms);
	uint64_t us = (ns + 500) / 1000;
	*--p = '\0';
	for (int i = 0; i < 3; i++, us /= 10)
		*--p = (char)('0' + us % 10);
	*--p = '.';
	do
		*--p = (char)('0' + us % 10);
	while ((us /= 10) != 0);
	da_line_str(l, p);
	da_line_str(l, " ms");
}

static void
head_line(struct da_line *l, const struct da_leak_fork *f,
          const uint64_t pause[2])
{
	char utc[32];
	da_live_utc(f->unix_ns, utc);
	da_line_str(l, "dbgalloc: live leak check of pid ");
	da_line_dec(l, (unsigned long)f->parent);
	da_line_str(l, " at ");
	da_line_str(l, utc);
	da_line_str(l, " (");
	da_line_count(l, f->threads);
	da_line_str(l,
	            f->threads == 1 ? " thread stopped" : " threads stopped");
	if (pause[0] != 0) {
		da_line_str(l, " for ");
		line_ms(l, pause[0]);
		da_line_str(l, "; the fork took ");
		line_ms(l, pause[1]);
	}
	if (f->missed != 0) {
		da_line_str(l, "; ");
		da_line_dec(l, f->missed);
		da_line_str(l, f->missed == 1
		                       ? " thread could not be stopped: "
		                         "its stack was not scanned"
		                       : " threads could not be stopped: "
		                         "their stacks were not scanned");
	}
	da_line_str(l, ")");
}

__attribute__((noreturn)) static void
copy_main(struct da_leak_scan *s, const struct da_leak_fork *f, int scanned,
          const int pipe_fds[2], int out, unsigned flags)
{
	syscall(SYS_close, pipe_fds[1]);
	close_others(out, pipe_fds[0]);
	watchdog();
	/* No thread holds an allocator lock here but this one, which took
	 * them all before the fork: reset them, as in any child of fork. */
	da_heap_fork_child();
	uint64_t pause[2];
	read_pause(pipe_fds[0], pause);
	syscall(SYS_close, pipe_fds[0]);
	struct da_line l = {.len = 0};
	if (scanned != 1) {
		fail_start(&l, f->parent);
		da_line_str(&l, "no memory for its tables");
		da_line_emit(&l);
		syscall(SYS_exit_group, CHILD_FAILED);
	}
	head_line(&l, f, pause);
	struct da_leak_counts c;
	da_report_capture_begin();
	da_sym_forget();
	da_leak_report_live(s, flags, &l, &c);
	da_report_capture_end();
	syscall(SYS_exit_group, 0);
	__builtin_unreachable();
}

/* --- The parent. --- */

pid_t
da_live_check(unsigned flags)
{
	struct da_line l = {.len = 0};
	int out = da_report_fd(); /* opened here: %p is this process */
	int fds[2];
	/* What the copy could not load without the loader's lock. */
	da_sym_preload();
	if (pipe2(fds, O_CLOEXEC) != 0) {
		fail_start(&l, getpid());
		da_line_str(&l, "cannot make a pipe: ");
		da_line_str(&l, strerror(errno));
		da_line_emit(&l);
		return -1;
	}
	struct da_leak_scan s;
	struct da_leak_fork f;
	int rc = da_leak_scan_fork(&s, &f);
	if (rc == 1 || rc == -2)
		copy_main(&s, &f, rc, fds, out, flags);
	int e = errno;
	syscall(SYS_close, fds[0]);
	if (rc == 0) {
		uint64_t pause[2] = {f.pause_ns, f.fork_ns};
		da_os_write(fds[1], pause, sizeof(pause));
	}
	syscall(SYS_close, fds[1]);
	if (rc != 0) {
		fail_start(&l, getpid());
		da_line_str(&l, "cannot fork: ");
		da_line_str(&l, strerror(e));
		da_line_emit(&l);
		return -1;
	}
	return f.child;
}

void
da_live_check_ended(pid_t child, int status)
{
	if ((WIFEXITED(status) &&
	     (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == CHILD_FAILED)))
		return;
	struct da_line l = {.len = 0};
	fail_start(&l, getpid());
	da_line_str(&l, "its copy, pid ");
	da_line_dec(&l, (unsigned long)child);
	if (WIFSIGNALED(status)) {
		da_line_str(&l, ", was killed by signal ");
		da_line_dec(&l, (unsigned long)WTERMSIG(status));
	} else {
		da_line_str(&l, ", ended with status ");
		da_line_dec(&l, (unsigned long)WEXITSTATUS(status));
	}
	da_line_emit(&l);
}
