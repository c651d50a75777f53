/*
 * audit/sites.c — live blocks grouped by call site (sites.h).
 */
#include "audit/sites.h"
#include "alloc/os.h"
#include "audit/depot.h"
#include "audit/errors.h"
#include "audit/leak.h"
#include "audit/symbolize.h"

#include <string.h>

/* Heapsort by site: no recursion, no memory. */
static void
sift_down(struct da_lblock *b, size_t r, size_t n)
{
	for (;;) {
		size_t c = 2 * r + 1;
		if (c >= n)
			return;
		if (c + 1 < n && b[c + 1].site > b[c].site)
			c++;
		if (b[r].site >= b[c].site)
			return;
		struct da_lblock t = b[r];
		b[r] = b[c];
		b[c] = t;
		r = c;
	}
}

static void
sort_by_site(struct da_lblock *b, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(b, i, n);
	for (size_t k = n; k > 1; k--) {
		struct da_lblock t = b[0];
		b[0] = b[k - 1];
		b[k - 1] = t;
		sift_down(b, 0, k - 1);
	}
}

/* Puts t among the max largest of out->top (most bytes first). */
static void
rank(struct da_sites *out, unsigned max, const struct da_site_total *t)
{
	unsigned i = out->n < max ? out->n++ : max;
	if (i == max) {
		if (max == 0 || t->bytes <= out->top[max - 1].bytes)
			return;
		i = max - 1;
	}
	while (i > 0 && out->top[i - 1].bytes < t->bytes) {
		out->top[i] = out->top[i - 1];
		i--;
	}
	out->top[i] = *t;
}

int
da_sites_collect(int (*keep)(uint64_t gen, void *arg), void *arg, unsigned max,
                 struct da_sites *out)
{
	struct da_leak_scan s;
	memset(out, 0, sizeof(*out));
	if (max > DA_SCOPE_SITES)
		max = DA_SCOPE_SITES;
	if (da_leak_list(&s) != 0)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < s.n; i++) {
		const struct da_lblock *b = &s.b[i];
		if (b->site == DA_SITE_INTERNAL ||
		    (keep != NULL && !keep(b->gen, arg)))
			continue;
		out->blocks++;
		out->bytes += b->size;
		s.b[n++] = *b;
	}
	sort_by_site(s.b, n);
	for (size_t i = 0; i < n;) {
		struct da_site_total t = {.site = s.b[i].site};
		for (; i < n && s.b[i].site == t.site; i++) {
			t.blocks++;
			t.bytes += s.b[i].size;
		}
		if (t.site != DA_SITE_IGNORED)
			rank(out, max, &t);
	}
	da_leak_scan_free(&s);
	return 0;
}

/* The headline of a site: "  <bytes> in <n> blocks allocated from:". */
static void
site_line(struct da_line *l, const struct da_site_total *t)
{
	da_line_str(l, "  ");
	da_line_bytes(l, t->bytes);
	da_line_str(l, " in ");
	da_line_count(l, t->blocks);
	da_line_str(l, t->blocks == 1 ? " block" : " blocks");
	da_line_str(l, " allocated from:");
}

void
da_sites_emit(const struct da_site_total *top, unsigned n)
{
	struct da_line l = {.len = 0};
	for (unsigned i = 0; i < n; i++) {
		site_line(&l, &top[i]);
		da_line_emit(&l);
		const uintptr_t *pcs;
		unsigned nf = da_depot_get(top[i].site, &pcs);
		da_frames_emit(pcs, nf);
	}
}

/* Appends line l and a newline to buf if it fits whole. */
static int
put_line(char *buf, size_t len, size_t *at, struct da_line *l)
{
	if (*at + l->len + 2 > len) {
		l->len = 0;
		return -1;
	}
	memcpy(buf + *at, l->buf, l->len);
	*at += l->len;
	buf[(*at)++] = '\n';
	buf[*at] = '\0';
	l->len = 0;
	return 0;
}

size_t
da_sites_format(const struct da_site_total *top, unsigned n, char *buf,
                size_t len)
{
	size_t at = 0;
	if (len == 0)
		return 0;
	buf[0] = '\0';
	struct da_line l = {.len = 0};
	for (unsigned i = 0; i < n; i++) {
		site_line(&l, &top[i]);
		if (put_line(buf, len, &at, &l) != 0)
			return at;
		const uintptr_t *pcs;
		unsigned nf = da_depot_get(top[i].site, &pcs);
		for (unsigned f = 0; f < nf; f++) {
			da_sym_format(&l, f, pcs[f]);
			if (put_line(buf, len, &at, &l) != 0)
				return at;
		}
	}
	return at;
}
