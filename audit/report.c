/*
 * audit/report.c — formatting and writing diagnostics without stdio.
 */
#include "audit/report.h"
#include "alloc/alloc.h"
#include "alloc/os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
da_line_str(struct da_line *l, const char *s)
{
	size_t n = strlen(s);
	if (n > sizeof(l->buf) - 1 - l->len)
		n = sizeof(l->buf) - 1 - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

void
da_line_hex(struct da_line *l, unsigned long v)
{
	char tmp[2 + 2 * sizeof(v) + 1];
	char *e = tmp + sizeof(tmp) - 1, *q = e;
	*e = '\0';
	do
		*--q = "0123456789abcdef"[v & 15];
	while ((v >>= 4) != 0);
	*--q = 'x';
	*--q = '0';
	da_line_str(l, q);
}

void
da_line_dec(struct da_line *l, unsigned long v)
{
	char tmp[24];
	char *q = tmp + sizeof(tmp) - 1;
	*q = '\0';
	do
		*--q = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	da_line_str(l, q);
}

void
da_line_count(struct da_line *l, unsigned long v)
{
	char tmp[32];
	char *q = tmp + sizeof(tmp) - 1;
	unsigned digits = 0;
	*q = '\0';
	do {
		if (digits != 0 && digits % 3 == 0)
			*--q = ',';
		*--q = (char)('0' + v % 10);
		digits++;
	} while ((v /= 10) != 0);
	da_line_str(l, q);
}

void
da_line_bytes(struct da_line *l, unsigned long v)
{
	da_line_count(l, v);
	da_line_str(l, v == 1 ? " byte" : " bytes");
}

/*
 * DBGALLOC_LOG: the file is opened at the first report, so a process that
 * reports nothing leaves no file behind, and %p is the pid of the process
 * that reports (a child of fork included). Start-up checks only that the
 * directory can take the file.
 */
static char log_pattern[4096]; /* "" when reports go to stderr */
static _Atomic int log_fd = -1;

/* The file name: pattern with %p (the pid) and %% expanded. */
static void
log_path(const char *pattern, struct da_line *path)
{
	path->len = 0;
	for (const char *c = pattern; *c != '\0'; c++) {
		if (c[0] == '%' && c[1] == 'p') {
			da_line_dec(path, (unsigned long)getpid());
			c++;
		} else if (c[0] == '%' && c[1] == '%') {
			da_line_str(path, "%");
			c++;
		} else {
			char one[2] = {*c, '\0'};
			da_line_str(path, one);
		}
	}
	path->buf[path->len] = '\0';
}

static void
set_err(char *err, size_t errlen, const char *what, const char *path)
{
	struct da_line l = {.len = 0};
	da_line_str(&l, "dbgalloc: DBGALLOC_LOG: ");
	da_line_str(&l, what);
	da_line_str(&l, path);
	da_line_str(&l, ": ");
	da_line_str(&l, strerror(errno));
	l.buf[l.len++] = '\n';
	size_t n = l.len < errlen - 1 ? l.len : errlen - 1;
	memcpy(err, l.buf, n);
	err[n] = '\0';
}

int
da_report_open_log(const char *pattern, char *err, size_t errlen)
{
	size_t plen = strlen(pattern);
	struct da_line path;
	if (plen >= sizeof(log_pattern)) {
		errno = ENAMETOOLONG;
		set_err(err, errlen, "cannot use ", "the pattern");
		return -1;
	}
	log_path(pattern, &path);
	/* The directory must exist and take new files. */
	char *slash = strrchr(path.buf, '/');
	if (slash == path.buf)
		slash++;
	char keep = slash != NULL ? *slash : '\0';
	if (slash != NULL)
		*slash = '\0';
	int ok = access(slash != NULL ? path.buf : ".", W_OK | X_OK) == 0;
	if (slash != NULL)
		*slash = keep;
	if (!ok) {
		set_err(err, errlen, "cannot write a file in the directory of ",
		        path.buf);
		return -1;
	}
	memcpy(log_pattern, pattern, plen + 1);
	return 0;
}

/* Where a report line goes: the log file, opened now if need be (once:
 * a thread that loses the race closes its own), or stderr. */
static int
report_fd(void)
{
	int fd = atomic_load_explicit(&log_fd, memory_order_acquire);
	if (fd >= 0 || log_pattern[0] == '\0')
		return fd >= 0 ? fd : 2;
	struct da_line path;
	log_path(log_pattern, &path);
	int mine =
	        open(path.buf, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (mine < 0)
		return 2; /* the directory went away: stderr after all */
	int none = -1;
	if (!atomic_compare_exchange_strong(&log_fd, &none, mine)) {
		close(mine);
		return none;
	}
	return mine;
}

int
da_report_fd(void)
{
	return report_fd();
}

/* The capture (report.h): one thread only, the process's last. */
static struct {
	char *p;
	size_t len, cap;
	int on;
} capture;

/* Appends to the capture, growing it; 0, or -1 without memory. */
static int
capture_put(const void *buf, size_t len)
{
	if (capture.len + len > capture.cap) {
		size_t cap = capture.cap ? capture.cap : 64 * 1024;
		while (cap < capture.len + len)
			cap *= 2;
		char *p = da_os_map(cap);
		if (p == NULL)
			return -1;
		if (capture.p != NULL) {
			memcpy(p, capture.p, capture.len);
			da_os_unmap(capture.p, capture.cap);
		}
		capture.p = p;
		capture.cap = cap;
	}
	memcpy(capture.p + capture.len, buf, len);
	capture.len += len;
	return 0;
}

void
da_report_capture_begin(void)
{
	capture.len = 0;
	capture.on = 1;
}

void
da_report_capture_end(void)
{
	capture.on = 0;
	if (capture.len > 0)
		da_os_write(report_fd(), capture.p, capture.len);
	capture.len = 0;
}

void
da_report_write(const void *buf, size_t len)
{
	/* Out of memory for the capture: what it holds, then this, as they
	 * come. */
	if (capture.on && capture_put(buf, len) == 0)
		return;
	if (capture.on && capture.len > 0) {
		da_os_write(report_fd(), capture.p, capture.len);
		capture.len = 0;
	}
	da_os_write(report_fd(), buf, len);
}

void
da_report_fork_child(void)
{
	/* The child's reports go to its own file when the name has %p. */
	int fd = atomic_load_explicit(&log_fd, memory_order_relaxed);
	if (fd >= 0 && strstr(log_pattern, "%p") != NULL) {
		close(fd);
		atomic_store_explicit(&log_fd, -1, memory_order_relaxed);
	}
}

void
da_line_emit_to(struct da_line *l, int fd)
{
	l->buf[l->len++] = '\n';
	da_os_write(fd, l->buf, l->len);
	l->len = 0;
}

void
da_line_emit(struct da_line *l)
{
	l->buf[l->len++] = '\n';
	da_report_write(l->buf, l->len);
	l->len = 0;
}
