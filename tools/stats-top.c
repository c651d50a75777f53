/*
 * tools/stats-top.c — dbgalloc-stats top: the biggest sites of a dump,
 * grouped --by site, function, line, file, module or thread, ordered
 * --sort by live bytes, bytes at the peak, bytes allocated, allocations
 * or temporary allocations, the first -n of them (tracemalloc's
 * statistics, memray's summary). A column the dump has for no row is left
 * out of the text.
 */
#include "tools/stats-agg.h"
#include "tools/stats-site.h"
#include "tools/stats.h"

#include <inttypes.h>
#include <stddef.h>

/* Column i of every row shown is missing. */
static int
none_shown(const struct st_agg *a, size_t n, size_t off)
{
	for (size_t i = 0; i < n; i++)
		if (*(const uint64_t *)((const char *)&a->rows[i] + off) !=
		    ST_NONE)
			return 0;
	return 1;
}

#define COLUMN(node, a, n, field)                                            \
	o_flags((node), none_shown((a), (n), offsetof(struct st_row, field)) \
	                        ? O_JSON_ONLY                                \
	                        : 0)

int
st_top(struct o_node *out, struct st_dump *sd)
{
	const struct st_opts *opt = sd->opt;
	struct o_doc *doc = o_doc_of(out);
	struct st_agg a;
	st_agg_build(&a, sd, opt->by);
	st_agg_sort(&a, opt->sort);
	size_t n = opt->n == 0 || opt->n > a.nrows ? a.nrows : opt->n;

	o_flags(o_str(out, "by", NULL, st_by_name(opt->by)), O_JSON_ONLY);
	o_flags(o_str(out, "sort", NULL, st_sort_name(opt->sort)), O_JSON_ONLY);
	o_flags(o_count(out, "rows_total", NULL, a.nrows), O_JSON_ONLY);
	struct o_node *t = o_table(out, "rows",
	                           o_printf(doc, "%s: %zu of %zu %s by %s",
	                                    st_program(doc, sd), n, a.nrows,
	                                    st_by_plural(opt->by),
	                                    st_sort_words(opt->sort)),
	                           2);
	for (size_t i = 0; i < n; i++) {
		const struct st_row *r = &a.rows[i];
		struct o_node *row = o_row(t);
		o_size(row, "live_bytes", "live", r->live_bytes);
		o_count(row, "live_blocks", "blocks", r->live_blocks);
		COLUMN(o_size(row, "peak_live_bytes", "peak", r->peak_bytes),
		       &a, n, peak_bytes);
		COLUMN(o_size(row, "alloc_bytes", "allocated", r->alloc_bytes),
		       &a, n, alloc_bytes);
		COLUMN(o_count(row, "allocs", "allocs", r->allocs), &a, n,
		       allocs);
		COLUMN(o_count(row, "frees", "frees", r->frees), &a, n, frees);
		COLUMN(o_count(row, "temporary", "temporary", r->temporary), &a,
		       n, temporary);
		o_flags(o_str(row, "key", NULL, r->key), O_JSON_ONLY);
		if (opt->by == ST_BY_THREAD)
			o_flags(o_count(row, "thread_number", NULL, r->thread),
			        O_JSON_ONLY);
		else
			o_flags(o_count(row, "stacks", NULL, r->nmembers),
			        O_JSON_ONLY);
		o_str(row, st_by_name(opt->by), st_by_name(opt->by), r->label);
		if (opt->by != ST_BY_THREAD)
			st_row_frames(row, sd, r->stack, opt->depth);
	}
	st_agg_free(&a);
	return 0;
}
