/*
 * audit/report.c — formatting and writing diagnostics without stdio.
 */
#include "audit/report.h"
#include "alloc/alloc.h"
#include "alloc/os.h"

#include <errno.h>
#include <fcntl.h>
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

int da_report_fd = 2;

/* The pattern, kept for a child of fork: its reports go to its own file
 * when the name has %p. */
static char log_pattern[4096];

int
da_report_open_log(const char *pattern, char *err, size_t errlen)
{
	size_t plen = strlen(pattern);
	if (plen < sizeof(log_pattern) && pattern != log_pattern)
		memcpy(log_pattern, pattern, plen + 1);
	struct da_line path = {.len = 0};
	for (const char *c = pattern; *c != '\0'; c++) {
		if (c[0] == '%' && c[1] == 'p') {
			da_line_dec(&path, (unsigned long)getpid());
			c++;
		} else if (c[0] == '%' && c[1] == '%') {
			da_line_str(&path, "%");
			c++;
		} else {
			char one[2] = {*c, '\0'};
			da_line_str(&path, one);
		}
	}
	path.buf[path.len] = '\0';
	int fd =
	        open(path.buf, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		struct da_line l = {.len = 0};
		da_line_str(&l, "dbgalloc: DBGALLOC_LOG: cannot open ");
		da_line_str(&l, path.buf);
		da_line_str(&l, ": ");
		da_line_str(&l, strerror(errno));
		l.buf[l.len++] = '\n';
		size_t n = l.len < errlen - 1 ? l.len : errlen - 1;
		memcpy(err, l.buf, n);
		err[n] = '\0';
		return -1;
	}
	if (da_report_fd != 2)
		close(da_report_fd);
	da_report_fd = fd;
	return 0;
}

void
da_report_fork_child(void)
{
	char err[256];
	if (da_report_fd != 2 && strstr(log_pattern, "%p") != NULL &&
	    da_report_open_log(log_pattern, err, sizeof(err)) != 0)
		da_report_fd = 2; /* the parent's file is no place for it */
}

void
da_line_emit(struct da_line *l)
{
	l->buf[l->len++] = '\n';
	da_os_write(da_report_fd, l->buf, l->len);
	l->len = 0;
}
