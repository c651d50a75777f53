/*
 * audit/report.c — formatting and writing diagnostics without stdio.
 */
#include "audit/report.h"
#include "alloc/alloc.h"

#include <errno.h>
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
da_line_emit(struct da_line *l)
{
	int saved = errno;
	l->buf[l->len++] = '\n';
	size_t off = 0;
	while (off < l->len) {
		ssize_t n = write(2, l->buf + off, l->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	l->len = 0;
	errno = saved;
}

static void
bad_pointer_why(struct da_line *l, void *p, int err, const struct da_block *b)
{
	switch (err) {
	case DA_FREE_DOUBLE:
		da_line_str(l, "freed ");
		da_line_dec(l, b->size);
		da_line_str(l, "-byte block");
		break;
	case DA_FREE_INTERIOR:
		da_line_dec(l, (unsigned long)((char *)p - (char *)b->start));
		da_line_str(l, " bytes into the ");
		da_line_dec(
		        l, (unsigned long)((char *)b->user - (char *)b->start) +
		                   b->size);
		da_line_str(l, "-byte block at ");
		da_line_hex(l, (unsigned long)b->start);
		if (b->state == DA_FREE)
			da_line_str(l, " (free)");
		break;
	case DA_FREE_UNUSED:
		da_line_str(l, "no block in use there (freed already?)");
		break;
	default:
		da_line_str(l, "not allocated by dbgalloc");
		break;
	}
}

void
da_report_bad_pointer(const char *fn, int is_free, void *p, int err,
                      const struct da_block *b)
{
	struct da_line l = {.len = 0};
	if (is_free && err == DA_FREE_DOUBLE) {
		da_line_str(&l, "dbgalloc: double free of ");
		da_line_hex(&l, (unsigned long)p);
		da_line_str(&l, " (");
		da_line_dec(&l, b->size);
		da_line_str(&l, "-byte block) in ");
		da_line_str(&l, fn);
	} else if (is_free) {
		da_line_str(&l, "dbgalloc: invalid free of ");
		da_line_hex(&l, (unsigned long)p);
		da_line_str(&l, ": ");
		bad_pointer_why(&l, p, err, b);
		da_line_str(&l, ", in ");
		da_line_str(&l, fn);
	} else {
		da_line_str(&l, "dbgalloc: bad pointer ");
		da_line_hex(&l, (unsigned long)p);
		da_line_str(&l, " passed to ");
		da_line_str(&l, fn);
		da_line_str(&l, ": ");
		bad_pointer_why(&l, p, err, b);
	}
	da_line_emit(&l);
	abort();
}
