/*
 * tools/stats-temporaries.c — dbgalloc-stats temporaries: the sites (or
 * --by) with the most temporary allocations — blocks freed with at most H
 * temporary_threshold allocations of their thread in between — and the
 * lifetimes of their freed blocks: in allocations of the process in
 * between, and in time (X life_allocs, life_us: bucket 0 for 0 or under
 * 1 us, bucket k for [2^(k-1), 2^k)). The library counts the lifetimes of
 * one freed block in H life_sample: the title line says so, and the JSON
 * carries the number.
 */
#include "tools/stats-agg.h"
#include "tools/stats-site.h"
#include "tools/stats-units.h"
#include "tools/stats.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "1.5ms" and the like, for bucket bounds in microseconds. */
static void
us_text(uint64_t us, char *buf, size_t n)
{
	if (us < 1000)
		snprintf(buf, n, "%" PRIu64 "us", us);
	else if (us < 1000000)
		snprintf(buf, n, "%.1fms", (double)us / 1e3);
	else
		snprintf(buf, n, "%.1fs", (double)us / 1e6);
}

/* H life_sample: one freed block in N has its lifetime counted. N from 1
 * (ST_NONE: the dump does not say); anything else ends the program (the
 * value is not quoted: a dump's string may hold any byte). */
static uint64_t
life_sample(const struct st_dump *sd)
{
	const char *s = da_dump_header(&sd->d, "life_sample");
	uint64_t n = 0;
	const char *p = s;
	if (s == NULL)
		return ST_NONE;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');
		if (n > (ST_NONE - 1 - digit) / 10)
			break;
		n = n * 10 + digit;
	}
	if (p == s || *p != '\0' || n == 0)
		st_fail("%s: bad H life_sample (a number of blocks from 1)",
		        sd->path);
	return n;
}

/* A histogram's buckets, summed over the sites of one row. */
static void
hist(struct o_node *row, const char *key, const char *label,
     const uint64_t *sum, unsigned n, int time)
{
	struct o_node *h = o_hist(row, key, label);
	char lo[32], hi[32], text[96];
	for (unsigned k = 0; k < n; k++) {
		uint64_t min = k == 0 ? 0 : 1ull << (k - 1);
		uint64_t max = k == 0    ? 0
		               : k >= 64 ? UINT64_MAX - 1
		                         : (1ull << k) - 1;
		if (time) {
			us_text(min, lo, sizeof(lo));
			us_text(max, hi, sizeof(hi));
			if (k == 0)
				snprintf(text, sizeof(text), "<1us:%" PRIu64,
				         sum[k]);
			else if (min == max)
				snprintf(text, sizeof(text), "%s:%" PRIu64, lo,
				         sum[k]);
			else if (max < 1000) /* "2-3us" */
				snprintf(text, sizeof(text),
				         "%" PRIu64 "-%s:%" PRIu64, min, hi,
				         sum[k]);
			else
				snprintf(text, sizeof(text), "%s-%s:%" PRIu64,
				         lo, hi, sum[k]);
		} else if (min == max) {
			snprintf(text, sizeof(text), "%" PRIu64 ":%" PRIu64,
			         min, sum[k]);
		} else {
			snprintf(text, sizeof(text),
			         "%" PRIu64 "-%" PRIu64 ":%" PRIu64, min, max,
			         sum[k]);
		}
		o_bucket(h, min, max, sum[k], text);
	}
	if (n == 0)
		o_missing(o_flags(h, O_JSON_ONLY));
}

int
st_temporaries(struct o_node *out, struct st_dump *sd)
{
	const struct da_dump *d = &sd->d;
	const struct st_opts *opt = sd->opt;
	struct o_doc *doc = o_doc_of(out);
	const char *th = da_dump_header(d, "temporary_threshold");
	struct st_agg a;
	int any = 0;
	if (opt->by == ST_BY_THREAD)
		st_fail("temporaries cannot group by thread (a dump counts "
		        "temporary allocations per site)");
	/* The library samples the lifetimes: one freed block in N. */
	uint64_t sample = life_sample(sd);
	for (size_t i = 0; i < d->nsites; i++)
		any |= d->sites[i].temporary != ST_NONE;
	st_agg_build(&a, sd, opt->by);
	st_agg_sort(&a, ST_SORT_TEMPORARY);
	size_t rows = 0;
	while (rows < a.nrows && a.rows[rows].temporary != ST_NONE &&
	       a.rows[rows].temporary > 0)
		rows++;
	size_t n = opt->n == 0 || opt->n > rows ? rows : opt->n;

	o_flags(o_count(out, "temporary_threshold", NULL,
	                th ? strtoull(th, NULL, 10) : ST_NONE),
	        O_JSON_ONLY);
	o_flags(o_count(out, "life_sample", NULL, sample), O_JSON_ONLY);
	o_flags(o_str(out, "by", NULL, st_by_name(opt->by)), O_JSON_ONLY);
	if (!any)
		o_line(out,
		       "%s: no temporary allocations counted in this dump "
		       "(format 1.%u)",
		       st_program(doc, sd), d->minor);
	const char *title =
	        o_printf(doc, "%s: %zu of %zu %s with temporary allocations",
	                 st_program(doc, sd), n, rows, st_by_plural(opt->by));
	/* What "temporary" means here, and how the lifetimes were counted:
	 * "(freed with ... in between; lifetimes sampled 1 in 256 blocks)". */
	const char *why = NULL;
	if (th != NULL)
		why = o_printf(doc,
		               "freed with at most %s allocation%s of their "
		               "thread in between",
		               th, strcmp(th, "1") == 0 ? "" : "s");
	if (sample != ST_NONE && sample > 1)
		why = o_printf(doc,
		               "%s%slifetimes sampled 1 in %" PRIu64 " blocks",
		               why ? why : "", why ? "; " : "", sample);
	if (why != NULL)
		title = o_printf(doc, "%s (%s)", title, why);
	struct o_node *t = o_table(out, "rows", any ? title : NULL, 2);
	/* The sites of each row shown, together: a counting sort. */
	size_t *first = calloc(n + 2, sizeof(*first));
	size_t *order = st_xmalloc((d->nsites + 1) * sizeof(*order));
	if (first == NULL)
		st_oom();
	for (size_t k = 0; k < d->nsites; k++)
		if (a.row_of_site[k] < n)
			first[a.row_of_site[k] + 2]++;
	for (size_t i = 2; i < n + 2; i++)
		first[i] += first[i - 1];
	for (size_t k = 0; k < d->nsites; k++)
		if (a.row_of_site[k] < n)
			order[first[a.row_of_site[k] + 1]++] = k;
	for (size_t i = 0; i < n; i++) {
		const struct st_row *r = &a.rows[i];
		uint64_t la[DA_DUMP_LIFE_MAX] = {0}, lu[DA_DUMP_LIFE_MAX] = {0};
		unsigned na = 0, nu = 0;
		for (size_t m = first[i]; m < first[i + 1]; m++) {
			const struct da_dump_site *x = &d->sites[order[m]];
			for (unsigned j = 0; j < x->nlife_allocs; j++)
				la[j] = st_add(la[j], x->life_allocs[j]);
			for (unsigned j = 0; j < x->nlife_us; j++)
				lu[j] = st_add(lu[j], x->life_us[j]);
			na = x->nlife_allocs > na ? x->nlife_allocs : na;
			nu = x->nlife_us > nu ? x->nlife_us : nu;
		}
		struct o_node *row = o_row(t);
		o_count(row, "temporary", "temporary", r->temporary);
		o_count(row, "allocs", "allocs", r->allocs);
		o_pct(row, "percent", "%",
		      r->allocs != ST_NONE && r->allocs > 0
		              ? 100.0 * (double)r->temporary / (double)r->allocs
		              : NAN);
		o_count(row, "frees", "frees", r->frees);
		o_flags(o_str(row, "key", NULL, r->key), O_JSON_ONLY);
		o_str(row, st_by_name(a.by), st_by_name(a.by), r->label);
		st_row_frames(row, sd, r->stack, opt->depth);
		hist(row, "life_allocs", "lifetime in allocations", la, na, 0);
		hist(row, "life_us", "lifetime in time", lu, nu, 1);
	}
	free(first);
	free(order);
	st_agg_free(&a);
	return 0;
}
