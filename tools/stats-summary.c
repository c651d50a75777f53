/*
 * tools/stats-summary.c — dbgalloc-stats summary: one dump in a screen.
 * The process and the dump; live, peak (when, in which epoch), RSS,
 * totals, failures, the limit, temporary blocks, overhead; the live
 * blocks' sizes as one line; the five sites that held the most at the
 * heap's peak (by live bytes when the dump has no per-site peak).
 */
#include "tools/stats-agg.h"
#include "tools/stats-site.h"
#include "tools/stats-units.h"
#include "tools/stats.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NBUCKETS 64 /* block sizes: [0, 2), [2, 4), ... [2^63, 2^64) */

static const char *
when(struct o_doc *doc, const char *time_ns)
{
	char buf[64];
	struct tm tm;
	char *end;
	unsigned long long ns = strtoull(time_ns, &end, 10);
	time_t t = (time_t)(ns / 1000000000ull);
	if (*end != '\0' || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		return NULL;
	return o_strdup(doc, buf);
}

/* "img (pid 4242): dump 3, reason exit, 2026-11-21 13:09:12 UTC" */
static const char *
headline(struct o_doc *doc, const struct st_dump *sd)
{
	const struct da_dump *d = &sd->d;
	const char *seq = da_dump_header(d, "dump_seq");
	const char *reason = da_dump_header(d, "reason");
	const char *t = da_dump_header(d, "time_unix_ns");
	const char *at = t != NULL ? when(doc, t) : NULL;
	char *line = o_strdup(doc, st_program(doc, sd));
	const char *sep = ": ";
	if (seq != NULL) {
		line = o_printf(doc, "%s%sdump %s", line, sep, seq);
		sep = ", ";
	}
	if (reason != NULL) {
		line = o_printf(doc, "%s%sreason %s", line, sep, reason);
		sep = ", ";
	}
	if (at != NULL)
		line = o_printf(doc, "%s%s%s", line, sep, at);
	return line;
}

/* The process, and where the dump came from: in JSON only. */
static void
process(struct o_node *out, const struct st_dump *sd)
{
	const struct da_dump *d = &sd->d;
	const char *pid = da_dump_header(d, "pid");
	uint64_t v = pid != NULL ? strtoull(pid, NULL, 10) : ST_NONE;
	o_flags(o_str(out, "exe", NULL, da_dump_header(d, "exe")), O_JSON_ONLY);
	o_flags(o_count(out, "pid", NULL, v), O_JSON_ONLY);
	o_flags(o_str(out, "reason", NULL, da_dump_header(d, "reason")),
	        O_JSON_ONLY);
	const char *seq = da_dump_header(d, "dump_seq");
	o_flags(o_count(out, "dump_seq", NULL,
	                seq ? strtoull(seq, NULL, 10) : ST_NONE),
	        O_JSON_ONLY);
	o_flags(o_count(out, "minor_version", NULL, d->minor), O_JSON_ONLY);
}

static void
peak(struct o_node *f, struct st_dump *sd)
{
	struct o_doc *doc = o_doc_of(f);
	uint64_t bytes = st_counter(sd, "peak_bytes");
	uint64_t at = st_counter(sd, "peak_mono_ns");
	uint64_t e = st_counter(sd, "peak_epoch");
	const char *now = da_dump_header(&sd->d, "mono_ns");
	uint64_t dump_ns = now != NULL ? strtoull(now, NULL, 10) : ST_NONE;
	const struct da_dump_epoch *ep =
	        e != ST_NONE ? st_epoch(&sd->d, e) : NULL;
	char ago[ST_NUM_MAX];
	const char *when_text = "", *in = "";

	struct o_node *n =
	        o_flags(o_size(f, "peak_bytes", "peak", bytes), O_HIDE_NONE);
	if (at != ST_NONE && dump_ns != ST_NONE && dump_ns >= at)
		when_text = o_printf(doc, ", %s before the dump",
		                     st_fmt_ns(dump_ns - at, ago));
	if (e != ST_NONE)
		in = o_printf(doc, ", in epoch %" PRIu64 "%s%s%s", e,
		              ep && ep->name ? " \"" : "",
		              ep && ep->name ? ep->name : "",
		              ep && ep->name ? "\"" : "");
	o_suffix(n, "%s%s", when_text, in);
	o_flags(o_ns(f, "peak_mono_ns", NULL, at), O_JSON_ONLY);
	o_flags(o_count(f, "peak_epoch", NULL, e), O_JSON_ONLY);
	o_flags(o_str(f, "peak_stage", NULL, ep ? ep->name : NULL),
	        O_JSON_ONLY);
}

static void
totals(struct o_node *f, struct st_dump *sd)
{
	char a[ST_NUM_MAX], b[ST_NUM_MAX];
	uint64_t v;
	struct o_node *n;

	n = o_flags(o_count(f, "total_allocs", "allocations",
	                    st_counter(sd, "total_allocs")),
	            O_HIDE_NONE);
	if ((v = st_counter(sd, "total_bytes")) != ST_NONE)
		o_suffix(n, " (%s)", st_fmt_size(v, a));
	o_flags(o_size(f, "total_bytes", NULL, v), O_JSON_ONLY);
	n = o_flags(o_count(f, "total_frees", "frees",
	                    st_counter(sd, "total_frees")),
	            O_HIDE_NONE);
	if ((v = st_counter(sd, "free_bytes")) != ST_NONE)
		o_suffix(n, " (%s)", st_fmt_size(v, a));
	o_flags(o_size(f, "free_bytes", NULL, v), O_JSON_ONLY);

	uint64_t lim = st_counter(sd, "limit_failures");
	uint64_t inj = st_counter(sd, "injected_failures");
	n = o_flags(o_count(f, "failed_allocs", "failed",
	                    st_counter(sd, "failed_allocs")),
	            O_HIDE_NONE);
	if (lim != ST_NONE && inj != ST_NONE)
		o_suffix(n, " (by the limit %s, injected %s)",
		         st_fmt_count(lim, a), st_fmt_count(inj, b));
	o_flags(o_count(f, "limit_failures", NULL, lim), O_JSON_ONLY);
	o_flags(o_count(f, "injected_failures", NULL, inj), O_JSON_ONLY);

	uint64_t limit = st_counter(sd, "limit");
	uint64_t live = st_counter(sd, "live_bytes");
	n = o_none_text(o_size(f, "limit", "limit", limit), "none");
	if (limit != ST_NONE && live != ST_NONE)
		o_suffix(n, " (%s free)",
		         st_fmt_size(limit > live ? limit - live : 0, a));
}

static void
temporary(struct o_node *f, struct st_dump *sd)
{
	uint64_t sum = ST_NONE, allocs = st_counter(sd, "total_allocs");
	const char *th = da_dump_header(&sd->d, "temporary_threshold");
	char a[ST_NUM_MAX];
	for (size_t i = 0; i < sd->d.nsites; i++) {
		uint64_t t = sd->d.sites[i].temporary;
		if (t != ST_NONE)
			sum = st_add(sum == ST_NONE ? 0 : sum, t);
	}
	struct o_node *n =
	        o_flags(o_count(f, "temporary", "temporary", sum), O_HIDE_NONE);
	if (allocs != ST_NONE)
		o_suffix(n, " of %s allocations%s%s%s", st_fmt_count(allocs, a),
		         th ? " (freed with at most " : "", th ? th : "",
		         th == NULL             ? ""
		         : strcmp(th, "1") == 0 ? " allocation in between)"
		                                : " allocations in between)");
	o_flags(o_count(f, "temporary_threshold", NULL,
	                th ? strtoull(th, NULL, 10) : ST_NONE),
	        O_JSON_ONLY);
}

static void
overhead(struct o_node *f, struct st_dump *sd)
{
	static const char *const names[][2] = {
	        {"header_bytes", "headers"},
	        {"metadata_bytes", "metadata"},
	        {"mapped_bytes", "mapped"},
	        {"guard_bytes", "guards"},
	        {"quarantine_bytes", "quarantine"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		o_flags(o_size(f, names[i][0], names[i][1],
		               st_counter(sd, names[i][0])),
		        O_HIDE_NONE);
}

/* The live blocks' sizes, a bar per power of two, from the A records. */
static void
sizes(struct o_node *f, struct st_dump *sd)
{
	static const char *const bars[] = {"\u2581", "\u2582", "\u2583",
	                                   "\u2584", "\u2585", "\u2586",
	                                   "\u2587", "\u2588"};
	uint64_t count[NBUCKETS] = {0}, most = 0;
	int lo = NBUCKETS, hi = -1;
	char a[ST_NUM_MAX], b[ST_NUM_MAX];
	for (size_t i = 0; i < sd->d.nblocks; i++) {
		uint64_t size = sd->d.blocks[i].size;
		int k = 0;
		if (size == ST_NONE)
			continue;
		while (k < 63 && size >> (k + 1) != 0)
			k++;
		count[k]++;
	}
	for (int k = 0; k < NBUCKETS; k++) {
		if (count[k] == 0)
			continue;
		lo = k < lo ? k : lo;
		hi = k;
		most = count[k] > most ? count[k] : most;
	}
	struct o_node *h = o_flags(o_hist(f, "sizes", NULL), O_JSON_ONLY);
	if (hi < 0) {
		o_flags(o_str(f, NULL, "sizes", NULL),
		        O_HIDE_NONE | O_TEXT_ONLY);
		return;
	}
	char line[NBUCKETS * 4 + 1] = "";
	for (int k = lo; k <= hi; k++) {
		uint64_t min = k == 0 ? 0 : 1ull << k;
		uint64_t max = k >= 63 ? UINT64_MAX - 1 : (2ull << k) - 1;
		o_bucket(h, min, max, count[k], "");
		if (count[k] == 0) {
			strcat(line, " ");
			continue;
		}
		/* 1 to 8 eighths of the most: never empty if not zero. */
		uint64_t level = (count[k] * 8 + most - 1) / most;
		strcat(line, bars[level - 1]);
	}
	o_flags(o_suffix(o_str(f, NULL, "sizes", line),
	                 "  %s .. %s (live blocks by size, a bar per power "
	                 "of 2)",
	                 st_fmt_size(lo == 0 ? 0 : 1ull << lo, a),
	                 st_fmt_size(hi >= 63 ? UINT64_MAX : (2ull << hi) - 1,
	                             b)),
	        O_TEXT_ONLY);
}

/* The five sites with the most at the peak, or live if none has it. */
static void
top_sites(struct o_node *out, struct st_dump *sd)
{
	struct st_agg a;
	int at_peak = 0;
	uint64_t total;
	st_agg_build(&a, sd, ST_BY_SITE);
	for (size_t i = 0; i < a.nrows; i++)
		at_peak |= a.rows[i].peak_bytes != ST_NONE;
	st_agg_sort(&a, at_peak ? ST_SORT_PEAK : ST_SORT_LIVE);
	total = st_counter(sd, at_peak ? "peak_bytes" : "live_bytes");
	size_t n = a.nrows < sd->opt->n ? a.nrows : sd->opt->n;
	const char *title =
	        at_peak ? o_printf(o_doc_of(out),
	                           "top %zu sites at the peak:", n)
	                : o_printf(o_doc_of(out),
	                           "top %zu site%s by live bytes (no peak per "
	                           "site in this dump):",
	                           n, n == 1 ? "" : "s");
	o_flags(o_str(out, "top_sites_by", NULL, at_peak ? "peak" : "live"),
	        O_JSON_ONLY);
	struct o_node *t = o_table(out, "top_sites", title, 2);
	for (size_t i = 0; i < n; i++) {
		const struct st_row *r = &a.rows[i];
		uint64_t v = at_peak ? r->peak_bytes : r->live_bytes;
		struct o_node *row = o_row(t);
		o_size(row, at_peak ? "peak_live_bytes" : "live_bytes",
		       at_peak ? "peak" : "live", v);
		o_pct(row, "percent", "%",
		      total != ST_NONE && total > 0 && v != ST_NONE
		              ? 100.0 * (double)v / (double)total
		              : NAN);
		o_flags(o_str(row, "key", NULL, r->key), O_JSON_ONLY);
		o_str(row, "site", "site", r->label);
		st_row_frames(row, sd, r->stack, sd->opt->depth);
	}
	st_agg_free(&a);
}

int
st_summary(struct o_node *out, struct st_dump *sd)
{
	struct o_doc *doc = o_doc_of(out);
	char a[ST_NUM_MAX];
	process(out, sd);
	struct o_node *f = o_obj(out, NULL, headline(doc, sd), 2);

	uint64_t blocks = st_counter(sd, "live_blocks");
	struct o_node *n = o_flags(
	        o_size(f, "live_bytes", "live", st_counter(sd, "live_bytes")),
	        O_HIDE_NONE);
	if (blocks != ST_NONE)
		o_suffix(n, " in %s block%s", st_fmt_count(blocks, a),
		         blocks == 1 ? "" : "s");
	o_flags(o_count(f, "live_blocks", NULL, blocks), O_JSON_ONLY);
	peak(f, sd);
	uint64_t rss_peak = st_counter(sd, "rss_peak_bytes");
	n = o_flags(o_size(f, "rss_bytes", "RSS", st_counter(sd, "rss_bytes")),
	            O_HIDE_NONE);
	if (rss_peak != ST_NONE)
		o_suffix(n, " (peak %s)", st_fmt_size(rss_peak, a));
	o_flags(o_size(f, "rss_peak_bytes", NULL, rss_peak), O_JSON_ONLY);
	totals(f, sd);
	temporary(f, sd);
	overhead(f, sd);
	sizes(f, sd);
	top_sites(f, sd);
	return 0;
}
