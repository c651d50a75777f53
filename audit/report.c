/*
 * audit/report.c — formatting and writing diagnostics without stdio.
 */
#include "audit/report.h"
#include "alloc/alloc.h"
#include "alloc/os.h"

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
	l->buf[l->len++] = '\n';
	da_os_write(2, l->buf, l->len);
	l->len = 0;
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
	case DA_FREE_INTERIOR: {
		unsigned long into =
		        (unsigned long)((char *)p - (char *)b->start);
		da_line_dec(l, into);
		da_line_str(l,
		            into == 1 ? " byte into the " : " bytes into the ");
		da_line_dec(
		        l, (unsigned long)((char *)b->user - (char *)b->start) +
		                   b->size);
		da_line_str(l, "-byte block at ");
		da_line_hex(l, (unsigned long)b->start);
		if (!da_live_in_use((unsigned)b->state))
			da_line_str(l, " (free)");
		break;
	}
	case DA_FREE_UNUSED:
		da_line_str(l, "no block was handed out at this address");
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
