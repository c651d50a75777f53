/*
 * tools/stats-diff.c — dbgalloc-stats diff A B: per site (or --by), the
 * live bytes and blocks of B beside A's (tracemalloc's compare_to): the
 * sites only B has are new, those only A has gone. Sites are joined by
 * their key (stats-site.h: module paths and offsets, or names), so two
 * runs of one program line up although their addresses differ. Rows go by
 * the size of their change, largest first.
 */
#include "tools/stats-agg.h"
#include "tools/stats-site.h"
#include "tools/stats-units.h"
#include "tools/stats.h"

#include <stdlib.h>
#include <string.h>

struct change {
	const struct st_row *a, *b; /* either NULL, not both */
	int64_t bytes, blocks;
};

static uint64_t
known(uint64_t v)
{
	return v == ST_NONE ? 0 : v;
}

static uint64_t
magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

static int
bigger_change(const void *pa, const void *pb)
{
	const struct change *x = pa, *y = pb;
	uint64_t mx = magnitude(x->bytes), my = magnitude(y->bytes);
	if (mx != my)
		return mx > my ? -1 : 1;
	mx = magnitude(x->blocks);
	my = magnitude(y->blocks);
	if (mx != my)
		return mx > my ? -1 : 1;
	const struct st_row *rx = x->b ? x->b : x->a, *ry = y->b ? y->b : y->a;
	/* Unchanged: the larger first. */
	mx = known(rx->live_bytes);
	my = known(ry->live_bytes);
	if (mx != my)
		return mx > my ? -1 : 1;
	return strcmp(rx->key, ry->key);
}

static const char *
status(const struct change *c)
{
	if (c->a == NULL)
		return "new";
	if (c->b == NULL)
		return "gone";
	return c->bytes != 0 || c->blocks != 0 ? "changed" : "same";
}

int
st_diff(struct o_node *out, const char *pa, const char *pb,
        const struct st_opts *opt)
{
	struct o_doc *doc = o_doc_of(out);
	struct st_dump a, b;
	struct st_agg ga, gb;
	size_t nnew = 0, ngone = 0, nchanged = 0;
	st_load(&a, pa, opt);
	st_load(&b, pb, opt);
	st_agg_build(&ga, &a, opt->by);
	st_agg_build(&gb, &b, opt->by);
	st_agg_sort(&gb, ST_SORT_LIVE);

	struct change *ch = st_xmalloc((ga.nrows + gb.nrows + 1) * sizeof(*ch));
	size_t n = 0;
	for (size_t i = 0; i < gb.nrows; i++) {
		const struct st_row *rb = &gb.rows[i];
		const struct st_row *ra = st_agg_find(&ga, rb->key);
		ch[n++] = (struct change){
		        .a = ra,
		        .b = rb,
		        .bytes = st_sub(known(rb->live_bytes),
		                        ra ? known(ra->live_bytes) : 0),
		        .blocks = st_sub(known(rb->live_blocks),
		                         ra ? known(ra->live_blocks) : 0),
		};
	}
	for (size_t i = 0; i < ga.nrows; i++) {
		const struct st_row *ra = &ga.rows[i];
		if (st_agg_find(&gb, ra->key) != NULL)
			continue;
		ch[n++] = (struct change){
		        .a = ra,
		        .bytes = st_sub(0, known(ra->live_bytes)),
		        .blocks = st_sub(0, known(ra->live_blocks)),
		};
	}
	qsort(ch, n, sizeof(*ch), bigger_change);
	for (size_t i = 0; i < n; i++) {
		nnew += ch[i].a == NULL;
		ngone += ch[i].b == NULL;
		nchanged += ch[i].a && ch[i].b &&
		            (ch[i].bytes != 0 || ch[i].blocks != 0);
	}

	size_t shown = opt->n == 0 || opt->n > n ? n : opt->n;
	o_flags(o_str(out, "a", NULL, pa), O_JSON_ONLY);
	o_flags(o_str(out, "b", NULL, pb), O_JSON_ONLY);
	o_flags(o_str(out, "by", NULL, st_by_name(opt->by)), O_JSON_ONLY);
	o_flags(o_count(out, "rows_total", NULL, n), O_JSON_ONLY);
	o_flags(o_count(out, "new", NULL, nnew), O_JSON_ONLY);
	o_flags(o_count(out, "gone", NULL, ngone), O_JSON_ONLY);
	o_flags(o_count(out, "changed", NULL, nchanged), O_JSON_ONLY);
	struct o_node *t = o_table(
	        out, "rows",
	        o_printf(doc,
	                 "%s -> %s: %zu of %zu %s (%zu new, %zu gone, %zu "
	                 "changed)",
	                 pa, pb, shown, n, st_by_plural(opt->by), nnew, ngone,
	                 nchanged),
	        2);
	for (size_t i = 0; i < shown; i++) {
		const struct change *c = &ch[i];
		const struct st_row *r = c->b ? c->b : c->a;
		struct o_node *row = o_row(t);
		o_size(row, "live_bytes", "size",
		       c->b ? known(c->b->live_bytes) : 0);
		o_delta(row, "live_bytes_delta", "delta", c->bytes);
		o_count(row, "live_blocks", "count",
		        c->b ? known(c->b->live_blocks) : 0);
		o_cdelta(row, "live_blocks_delta", "delta", c->blocks);
		o_flags(o_size(row, "a_live_bytes", NULL,
		               c->a ? known(c->a->live_bytes) : 0),
		        O_JSON_ONLY);
		o_flags(o_count(row, "a_live_blocks", NULL,
		                c->a ? known(c->a->live_blocks) : 0),
		        O_JSON_ONLY);
		o_str(row, "status", "status", status(c));
		o_flags(o_str(row, "key", NULL, r->key), O_JSON_ONLY);
		o_str(row, st_by_name(opt->by), st_by_name(opt->by), r->label);
		if (opt->by != ST_BY_THREAD)
			st_row_frames(row, c->b ? &b : &a, r->stack,
			              opt->depth);
	}
	char s1[ST_NUM_MAX], s2[ST_NUM_MAX], s3[ST_NUM_MAX], s4[ST_NUM_MAX];
	uint64_t la = known(st_counter(&a, "live_bytes"));
	uint64_t lb = known(st_counter(&b, "live_bytes"));
	uint64_t ba = known(st_counter(&a, "live_blocks"));
	uint64_t bb = known(st_counter(&b, "live_blocks"));
	o_line(out, "  live: %s (%s) in %s blocks (%s)", st_fmt_size(lb, s1),
	       st_fmt_delta(st_sub(lb, la), s2), st_fmt_count(bb, s3),
	       st_fmt_cdelta(st_sub(bb, ba), s4));
	o_flags(o_delta(out, "live_bytes_delta", NULL, st_sub(lb, la)),
	        O_JSON_ONLY);
	o_flags(o_cdelta(out, "live_blocks_delta", NULL, st_sub(bb, ba)),
	        O_JSON_ONLY);
	free(ch);
	st_agg_free(&ga);
	st_agg_free(&gb);
	st_unload(&a);
	st_unload(&b);
	return 0;
}
