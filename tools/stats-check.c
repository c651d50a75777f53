/*
 * tools/stats-check.c — dbgalloc-stats check: the CI gate. Each limit
 * given is one check of each dump, PASS or FAIL on a line of its own, a
 * FAIL followed by the sites responsible, in pytest-memray's words:
 *
 *   --max-peak SIZE     T peak_bytes; the sites with the most at the peak
 *   --max-live SIZE     T live_bytes; the sites with the most live
 *   --max-leaked SIZE   the bytes leaks would report; the leaking sites
 *   --baseline DUMP --fail-on-increase[=PCT]
 *                       the peak against the baseline's, failing when it
 *                       grew (by more than PCT percent); the sites whose
 *                       bytes at the peak grew the most
 *
 * Then "N checks failed, M passed". Returns 1 when one failed. A dump
 * without the counter a check needs is bad input (exit status 2).
 */
#include "tools/stats-agg.h"
#include "tools/stats-site.h"
#include "tools/stats-units.h"
#include "tools/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Sites listed under a failure, then "...and N more". */
#define LISTED 5

struct hit {
	const struct da_dump_stack *stack;
	uint64_t bytes;
	const char *what; /* the line before its frames */
};

static int
more_bytes(const void *pa, const void *pb)
{
	const struct hit *a = pa, *b = pb;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	uint64_t ia = a->stack ? a->stack->id : ST_NONE;
	uint64_t ib = b->stack ? b->stack->id : ST_NONE;
	return ia < ib ? -1 : ia > ib;
}

static void
list_sites(struct o_node *rec, struct st_dump *sd, const char *title,
           struct hit *h, size_t n)
{
	char a[ST_NUM_MAX];
	qsort(h, n, sizeof(*h), more_bytes);
	o_line(rec, "%s", title);
	struct o_node *l = o_indent(o_records(rec, "sites", 0), 2);
	for (size_t i = 0; i < n && i < LISTED; i++) {
		const char *what =
		        h[i].what != NULL
		                ? h[i].what
		                : o_printf(o_doc_of(rec),
		                           "- %s allocated here:",
		                           st_fmt_size(h[i].bytes, a));
		struct o_node *r = o_record(l, what);
		o_size(r, "bytes", NULL, h[i].bytes);
		o_count(r, "stack", NULL,
		        h[i].stack != NULL ? h[i].stack->id : ST_NONE);
		st_add_frames(r, sd, h[i].stack, O_FRAMES_CHECK, sd->opt->depth,
		              0);
	}
	if (n > LISTED)
		o_line(l, "...and %zu more", n - LISTED);
	if (n == 0)
		o_line(l, "(no site)");
}

/* The rows of sd by site, as hits of the given measure. */
static struct hit *
site_hits(struct st_dump *sd, struct st_agg *a, enum st_sort sort, size_t *n)
{
	st_agg_build(a, sd, ST_BY_SITE);
	struct hit *h = st_xmalloc((a->nrows + 1) * sizeof(*h));
	*n = 0;
	for (size_t i = 0; i < a->nrows; i++) {
		uint64_t v = st_row_value(&a->rows[i], sort);
		if (v != ST_NONE && v > 0)
			h[(*n)++] = (struct hit){a->rows[i].stack, v, NULL};
	}
	return h;
}

/*
 * Two sizes as text, each exact too ("1.00 MiB (1,050,000 bytes)") when
 * their short forms would read the same.
 */
static void
two_sizes(struct o_doc *doc, uint64_t x, uint64_t y, const char **tx,
          const char **ty)
{
	char a[ST_NUM_MAX], b[ST_NUM_MAX], c[ST_NUM_MAX];
	st_fmt_size(x, a);
	st_fmt_size(y, b);
	if (strcmp(a, b) != 0 || x == y) {
		*tx = o_strdup(doc, a);
		*ty = o_strdup(doc, b);
		return;
	}
	*tx = o_printf(doc, "%s (%s bytes)", a, st_fmt_count(x, c));
	*ty = o_printf(doc, "%s (%s bytes)", b, st_fmt_count(y, c));
}

static struct o_node *
check(struct o_node *recs, const char *name, int ok, uint64_t limit,
      uint64_t value, const char *message)
{
	struct o_node *r = o_record(recs, message);
	o_str(r, "check", NULL, name);
	o_bool(r, "passed", NULL, ok);
	o_size(r, "limit", NULL, limit);
	o_size(r, "value", NULL, value);
	o_str(r, "message", NULL, message);
	return r;
}

static uint64_t
needed(const struct st_dump *sd, const char *counter, const char *option)
{
	uint64_t v = st_counter(sd, counter);
	if (v == ST_NONE)
		st_fail("%s: no %s counter to check %s against", sd->path,
		        counter, option);
	return v;
}

/* --max-peak or --max-live. */
static int
heap_check(struct o_node *recs, struct st_dump *sd, const char *prog, int peak)
{
	struct o_doc *doc = o_doc_of(recs);
	const char *a, *b;
	uint64_t limit = peak ? sd->opt->max_peak : sd->opt->max_live;
	uint64_t v = needed(sd, peak ? "peak_bytes" : "live_bytes",
	                    peak ? "--max-peak" : "--max-live");
	int ok = v <= limit;
	const char *msg;
	two_sizes(doc, limit, v, &a, &b);
	if (ok)
		msg = o_printf(doc, "PASS %s: %s heap %s, within %s", prog,
		               peak ? "peak" : "live", b, a);
	else if (peak)
		msg = o_printf(doc,
		               "FAIL %s: peak heap was limited to %s but "
		               "reached %s",
		               prog, a, b);
	else
		msg = o_printf(
		        doc,
		        "FAIL %s: live heap was limited to %s but was %s "
		        "at the dump",
		        prog, a, b);
	struct o_node *r =
	        check(recs, peak ? "max-peak" : "max-live", ok, limit, v, msg);
	if (ok)
		return 0;
	struct st_agg ag;
	size_t n;
	int have_peak = 0;
	if (peak) {
		/* Without a per-site peak, the sites live now. */
		st_agg_build(&ag, sd, ST_BY_SITE);
		for (size_t i = 0; i < ag.nrows; i++)
			have_peak |= ag.rows[i].peak_bytes != ST_NONE;
		st_agg_free(&ag);
	}
	struct hit *h =
	        site_hits(sd, &ag, have_peak ? ST_SORT_PEAK : ST_SORT_LIVE, &n);
	list_sites(r, sd,
	           have_peak ? "List of allocations at the peak:"
	                     : "List of live allocations:",
	           h, n);
	free(h);
	st_agg_free(&ag);
	return 1;
}

static int
leak_check(struct o_node *recs, struct st_dump *sd, const char *prog)
{
	struct o_doc *doc = o_doc_of(recs);
	const struct da_dump *d = &sd->d;
	const char *a, *b;
	uint64_t limit = sd->opt->max_leaked;
	uint64_t *per = calloc(d->nstacks + 1, sizeof(*per));
	int verdict;
	if (per == NULL)
		st_oom();
	uint64_t v = st_leaked(sd, per, &verdict);
	int ok = v <= limit;
	const char *how = verdict ? "" : " (no leak check in the dump: live)";
	two_sizes(doc, limit, v, &a, &b);
	const char *msg =
	        ok ? o_printf(doc, "PASS %s: leaked %s, within %s%s", prog, b,
	                      a, how)
	           : o_printf(doc,
	                      "FAIL %s: allowed to leak %s but leaked %s%s",
	                      prog, a, b, how);
	struct o_node *r = check(recs, "max-leaked", ok, limit, v, msg);
	o_str(r, "source", NULL, verdict ? "leak_check" : "live_blocks");
	if (!ok) {
		struct hit *h = st_xmalloc((d->nstacks + 1) * sizeof(*h));
		size_t n = 0;
		for (size_t k = 0; k <= d->nstacks; k++)
			if (per[k] > 0)
				h[n++] = (struct hit){
				        k < d->nstacks ? &d->stacks[k] : NULL,
				        per[k], NULL};
		list_sites(r, sd, "List of leaked allocations:", h, n);
		free(h);
	}
	free(per);
	return !ok;
}

static int
baseline_check(struct o_node *recs, struct st_dump *sd, const char *prog)
{
	struct o_doc *doc = o_doc_of(recs);
	const struct st_opts *opt = sd->opt;
	char a[ST_NUM_MAX], b[ST_NUM_MAX], c[ST_NUM_MAX];
	const char *tw, *tn;
	struct st_dump base;
	st_load(&base, opt->baseline, opt);
	uint64_t was = needed(&base, "peak_bytes", "--fail-on-increase");
	uint64_t now = needed(sd, "peak_bytes", "--fail-on-increase");
	double pct = was > 0 ? 100.0 * ((double)now - (double)was) / (double)was
	                     : (now > 0 ? INFINITY : 0);
	int ok = now <= was ||
	         (opt->increase_pct > 0 && pct <= opt->increase_pct);
	const char *change =
	        isfinite(pct) ? o_printf(doc, "%+.1f %%", pct) : "from nothing";
	const char *bound =
	        opt->increase_pct > 0
	                ? o_printf(doc, " %s %.1f %%", ok ? "<=" : ">",
	                           opt->increase_pct)
	                : (ok ? "" : ", any increase fails");
	two_sizes(doc, was, now, &tw, &tn);
	const char *msg =
	        ok ? o_printf(doc,
	                      "PASS %s: uses %s at the peak, %s in %s (%s%s)",
	                      prog, tn, tw, opt->baseline, change, bound)
	           : o_printf(doc,
	                      "FAIL %s: previously used %s (%s) but now uses "
	                      "%s (%s%s)",
	                      prog, tw, opt->baseline, tn, change, bound);
	struct o_node *r = check(recs, "fail-on-increase", ok, was, now, msg);
	o_str(r, "baseline", NULL, opt->baseline);
	o_pct(r, "increase_percent", NULL, pct);
	o_pct(r, "allowed_percent", NULL, opt->increase_pct);
	if (!ok) {
		/* The sites whose bytes at the peak grew, by key. */
		struct st_agg ga, gb;
		int have_peak = 0;
		st_agg_build(&ga, &base, ST_BY_SITE);
		st_agg_build(&gb, sd, ST_BY_SITE);
		for (size_t i = 0; i < gb.nrows; i++)
			have_peak |= gb.rows[i].peak_bytes != ST_NONE;
		enum st_sort m = have_peak ? ST_SORT_PEAK : ST_SORT_LIVE;
		struct hit *h = st_xmalloc((gb.nrows + 1) * sizeof(*h));
		size_t n = 0;
		for (size_t i = 0; i < gb.nrows; i++) {
			const struct st_row *rb = &gb.rows[i];
			const struct st_row *ra = st_agg_find(&ga, rb->key);
			uint64_t vb = st_row_value(rb, m);
			uint64_t va = ra ? st_row_value(ra, m) : 0;
			vb = vb == ST_NONE ? 0 : vb;
			va = va == ST_NONE ? 0 : va;
			if (vb <= va)
				continue;
			h[n++] = (struct hit){
			        rb->stack, vb - va,
			        o_printf(doc,
			                 "- +%s (%s, was %s) allocated here:",
			                 st_fmt_size(vb - va, a),
			                 st_fmt_size(vb, b),
			                 st_fmt_size(va, c))};
		}
		list_sites(r, sd,
		           have_peak ? "List of sites that grew at the peak:"
		                     : "List of sites that grew (live):",
		           h, n);
		free(h);
		st_agg_free(&ga);
		st_agg_free(&gb);
	}
	st_unload(&base);
	return !ok;
}

int
st_check(struct o_node *out, const char *path, const struct st_opts *opt)
{
	struct st_dump sd;
	st_load(&sd, path, opt);
	struct o_doc *doc = o_doc_of(out);
	const char *prog = st_program(doc, &sd);
	struct o_node *recs = o_records(out, "checks", 0);
	int failed = 0, total = 0;
	if (opt->max_peak != ST_NONE) {
		failed += heap_check(recs, &sd, prog, 1);
		total++;
	}
	if (opt->max_live != ST_NONE) {
		failed += heap_check(recs, &sd, prog, 0);
		total++;
	}
	if (opt->max_leaked != ST_NONE) {
		failed += leak_check(recs, &sd, prog);
		total++;
	}
	if (opt->baseline != NULL) {
		failed += baseline_check(recs, &sd, prog);
		total++;
	}
	o_flags(o_bool(out, "passed", NULL, failed == 0), O_JSON_ONLY);
	o_flags(o_count(out, "checks_failed", NULL, (uint64_t)failed),
	        O_JSON_ONLY);
	o_flags(o_count(out, "checks_passed", NULL, (uint64_t)(total - failed)),
	        O_JSON_ONLY);
	if (failed == 0)
		o_line(out, "%d check%s passed", total, total == 1 ? "" : "s");
	else
		o_line(out, "%d check%s failed, %d passed", failed,
		       failed == 1 ? "" : "s", total - failed);
	st_unload(&sd);
	return failed != 0;
}
