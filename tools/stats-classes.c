/*
 * tools/stats-classes.c — dbgalloc-stats classes: the size classes of a
 * dump (K records), in the shape of jemalloc's malloc_stats_print bins:
 * a row per class, smallest first, then the blocks too large for one,
 * then the totals. Utilization is the bytes asked for in live blocks over
 * the bytes of the slabs.
 */
#include "tools/stats-units.h"
#include "tools/stats.h"

#include <math.h>

static double
util(uint64_t live, uint64_t slab)
{
	if (live == ST_NONE || slab == ST_NONE || slab == 0)
		return NAN;
	return 100.0 * (double)live / (double)slab;
}

static void
add(uint64_t *sum, uint64_t v)
{
	if (v != ST_NONE && *sum != ST_NONE)
		*sum = st_add(*sum, v);
	else
		*sum = ST_NONE;
}

static struct o_node *
row(struct o_node *t, const struct da_dump_class *k, const char *none)
{
	struct o_node *r = o_row(t);
	o_none_text(o_count(r, "block_size", "size", k->block_size), none);
	o_count(r, "slabs", "slabs", k->slabs);
	o_size(r, "slab_bytes", "slab bytes", k->slab_bytes);
	o_count(r, "live_blocks", "live blocks", k->live_blocks);
	o_size(r, "live_bytes", "live bytes", k->live_bytes);
	o_count(r, "allocs", "allocs", k->allocs);
	o_count(r, "frees", "frees", k->frees);
	o_count(r, "peak_live_blocks", "peak blocks", k->peak_live_blocks);
	o_pct(r, "utilization", "util", util(k->live_bytes, k->slab_bytes));
	return r;
}

int
st_classes(struct o_node *out, struct st_dump *sd)
{
	const struct da_dump *d = &sd->d;
	struct o_doc *doc = o_doc_of(out);
	struct da_dump_class total = {.block_size = ST_NONE,
	                              .peak_live_blocks = ST_NONE};
	if (d->nclasses == 0) {
		o_line(out, "%s: no size classes in this dump (format 1.%u)",
		       st_program(doc, sd), d->minor);
		o_table(out, "classes", NULL, 0);
		o_flags(o_obj(out, "total", NULL, 0), O_JSON_ONLY);
		return 0;
	}
	struct o_node *t = o_table(
	        out, "classes",
	        o_printf(doc, "%s: size classes", st_program(doc, sd)), 2);
	for (size_t i = 0; i < d->nclasses; i++) {
		const struct da_dump_class *k = &d->classes[i];
		row(t, k, "large");
		add(&total.slabs, k->slabs);
		add(&total.slab_bytes, k->slab_bytes);
		add(&total.live_blocks, k->live_blocks);
		add(&total.live_bytes, k->live_bytes);
		add(&total.allocs, k->allocs);
		add(&total.frees, k->frees);
	}
	/* In JSON the totals are no class: a member of their own. */
	o_flags(row(t, &total, "total"), O_TEXT_ONLY);
	struct o_node *j = o_flags(o_obj(out, "total", NULL, 0), O_JSON_ONLY);
	o_count(j, "slabs", NULL, total.slabs);
	o_size(j, "slab_bytes", NULL, total.slab_bytes);
	o_count(j, "live_blocks", NULL, total.live_blocks);
	o_size(j, "live_bytes", NULL, total.live_bytes);
	o_count(j, "allocs", NULL, total.allocs);
	o_count(j, "frees", NULL, total.frees);
	o_pct(j, "utilization", NULL, util(total.live_bytes, total.slab_bytes));
	return 0;
}
