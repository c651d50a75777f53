/*
 * tools/stats-stages.c — dbgalloc-stats stages: a row per epoch (C
 * records: the start, then each dbgalloc_mark), what happened within it
 * and what it left. A C record holds the process's totals when its epoch
 * began, so an epoch's allocations are the next one's totals less its
 * own (the T totals for the last); its peak is its own record's; what it
 * left is the live blocks of that epoch (A records, ignored ones out).
 */
#include "tools/stats-units.h"
#include "tools/stats.h"

#include <stdlib.h>

/* b - a; ST_NONE when either is missing or b < a (no such dump). */
static uint64_t
minus(uint64_t b, uint64_t a)
{
	return a == ST_NONE || b == ST_NONE || b < a ? ST_NONE : b - a;
}

static int
by_epoch(const void *pa, const void *pb)
{
	const struct da_dump_epoch *a =
	        *(const struct da_dump_epoch *const *)pa;
	const struct da_dump_epoch *b =
	        *(const struct da_dump_epoch *const *)pb;
	return a->epoch < b->epoch ? -1 : a->epoch > b->epoch;
}

int
st_stages(struct o_node *out, struct st_dump *sd)
{
	const struct da_dump *d = &sd->d;
	struct o_doc *doc = o_doc_of(out);
	size_t n = d->nepochs;
	const struct da_dump_epoch **e = st_xmalloc((n + 1) * sizeof(*e));
	uint64_t *live = calloc(n + 1, sizeof(*live));
	uint64_t *blocks = calloc(n + 1, sizeof(*blocks));
	if (live == NULL || blocks == NULL)
		st_oom();
	for (size_t i = 0; i < n; i++)
		e[i] = &d->epochs[i];
	qsort(e, n, sizeof(*e), by_epoch);

	/* Each live block to its epoch's row, by binary search. */
	for (size_t i = 0; i < d->nblocks; i++) {
		const struct da_dump_block *b = &d->blocks[i];
		size_t lo = 0, hi = n;
		if ((b->flags & DA_DUMP_IGNORED) || b->epoch == ST_NONE)
			continue;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (e[mid]->epoch < b->epoch)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < n && e[lo]->epoch == b->epoch) {
			live[lo] = st_add(live[lo],
			                  b->size == ST_NONE ? 0 : b->size);
			blocks[lo]++;
		}
	}

	const char *now = da_dump_header(d, "mono_ns");
	uint64_t dump_ns = now != NULL ? strtoull(now, NULL, 10) : ST_NONE;
	struct o_node *t =
	        o_table(out, "stages",
	                o_printf(doc, "%s: %zu epoch%s", st_program(doc, sd), n,
	                         n == 1 ? "" : "s"),
	                2);
	for (size_t i = 0; i < n; i++) {
		const struct da_dump_epoch *c = e[i];
		int last = i + 1 == n;
		uint64_t allocs = last ? st_counter(sd, "total_allocs")
		                       : e[i + 1]->allocs;
		uint64_t abytes = last ? st_counter(sd, "total_bytes")
		                       : e[i + 1]->alloc_bytes;
		uint64_t frees =
		        last ? st_counter(sd, "total_frees") : e[i + 1]->frees;
		uint64_t fbytes = last ? st_counter(sd, "free_bytes")
		                       : e[i + 1]->free_bytes;
		uint64_t end = last ? dump_ns : e[i + 1]->mono_ns;
		allocs = minus(allocs, c->allocs);
		abytes = minus(abytes, c->alloc_bytes);
		frees = minus(frees, c->frees);
		fbytes = minus(fbytes, c->free_bytes);

		struct o_node *r = o_row(t);
		o_count(r, "epoch", "epoch", c->epoch);
		o_str(r, "stage", "stage", c->name);
		o_flags(o_count(r, "first_gen", NULL, c->first_gen),
		        O_JSON_ONLY);
		o_flags(o_ns(r, "start_mono_ns", NULL, c->mono_ns),
		        O_JSON_ONLY);
		o_ns(r, "duration_ns", "duration", minus(end, c->mono_ns));
		o_count(r, "allocs", "allocs", allocs);
		o_size(r, "alloc_bytes", "allocated", abytes);
		o_count(r, "frees", "frees", frees);
		o_size(r, "free_bytes", "freed", fbytes);
		struct o_node *net =
		        o_delta(r, "net_bytes", "net",
		                abytes != ST_NONE && fbytes != ST_NONE
		                        ? st_sub(abytes, fbytes)
		                        : 0);
		if (abytes == ST_NONE || fbytes == ST_NONE)
			o_missing(net);
		o_size(r, "peak_bytes", "peak", c->peak_bytes);
		o_size(r, "live_bytes", "left live", live[i]);
		o_count(r, "live_blocks", "blocks", blocks[i]);
	}
	o_line(out, "  allocated, freed: within the epoch; net: allocated less "
	            "freed; peak: the most live bytes during it;");
	o_line(out, "  left live: its blocks still live at the dump");
	free(e);
	free(live);
	free(blocks);
	return 0;
}
