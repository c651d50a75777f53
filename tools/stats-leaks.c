/*
 * tools/stats-leaks.c — dbgalloc-stats leaks: the leak report from a dump,
 * in the shape of the one dbgalloc writes at exit (a record per call site
 * and class, its frames, its first block; then SUMMARY), symbolized here.
 *
 * When the dump ran the leak check (H leak_scan yes), the blocks it found
 * definitely or indirectly lost are the leaks; otherwise every live block
 * that is not ignored is listed, and the report says so. --since-stage
 * NAME keeps the blocks of that epoch and later, --since-gen N those of
 * generation N and later ("what leaked after warm-up").
 */
#include "tools/stats-site.h"
#include "tools/stats-units.h"
#include "tools/stats.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { DEFINITE, INDIRECT, LIVE, NCLASS };

static const char *const class_words[NCLASS] = {
        "definitely lost", "indirectly lost", "live at the dump"};
static const char *const class_keys[NCLASS] = {"definitely_lost",
                                               "indirectly_lost", "live"};

struct group {
	uint64_t bytes, blocks;
	uint64_t first_gen, first_epoch; /* of the oldest block */
	int cls;
	size_t stack; /* index in d->stacks; nstacks for none */
};

static int
group_before(const void *pa, const void *pb)
{
	const struct group *a = pa, *b = pb;
	if (a->cls != b->cls)
		return a->cls < b->cls ? -1 : 1;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->first_gen != b->first_gen)
		return a->first_gen < b->first_gen ? -1 : 1;
	return a->stack < b->stack ? -1 : a->stack > b->stack;
}

/* The epoch --since-stage names (the first of that name). */
static uint64_t
since_epoch(const struct st_dump *sd)
{
	const char *name = sd->opt->since_stage;
	if (name == NULL)
		return 0;
	for (size_t i = 0; i < sd->d.nepochs; i++)
		if (sd->d.epochs[i].name != NULL &&
		    strcmp(sd->d.epochs[i].name, name) == 0)
			return sd->d.epochs[i].epoch;
	st_fail("%s: no stage named '%s'", sd->path, name);
}

static const char *
plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void
record(struct o_node *recs, struct st_dump *sd, const struct group *g)
{
	struct o_doc *doc = o_doc_of(recs);
	const struct da_dump *d = &sd->d;
	const struct da_dump_stack *s =
	        g->stack < d->nstacks ? &d->stacks[g->stack] : NULL;
	const struct da_dump_epoch *ep =
	        g->first_epoch != ST_NONE ? st_epoch(d, g->first_epoch) : NULL;
	char a[ST_NUM_MAX], b[ST_NUM_MAX];
	struct o_node *r = o_record(
	        recs,
	        o_printf(doc, "Leak of %s %s in %s %s (%s) allocated from:",
	                 st_fmt_count(g->bytes, a),
	                 plural(g->bytes, "byte", "bytes"),
	                 st_fmt_count(g->blocks, b),
	                 plural(g->blocks, "block", "blocks"),
	                 class_words[g->cls]));
	o_str(r, "class", NULL, class_keys[g->cls]);
	o_size(r, "bytes", NULL, g->bytes);
	o_count(r, "blocks", NULL, g->blocks);
	o_count(r, "stack", NULL, s != NULL ? s->id : ST_NONE);
	st_add_frames(r, sd, s, O_FRAMES_REPORT, sd->opt->depth, 0);
	o_count(r, "first_gen", NULL, g->first_gen);
	o_count(r, "first_epoch", NULL, g->first_epoch);
	o_str(r, "first_stage", NULL, ep != NULL ? ep->name : NULL);
	if (g->first_gen == ST_NONE)
		return;
	if (g->first_epoch == ST_NONE)
		o_line(r, "first block: generation %" PRIu64, g->first_gen);
	else
		o_line(r,
		       "first block: generation %" PRIu64 " (epoch %" PRIu64
		       "%s%s%s)",
		       g->first_gen, g->first_epoch,
		       ep && ep->name ? " \"" : "",
		       ep && ep->name ? ep->name : "",
		       ep && ep->name ? "\"" : "");
}

static void
summary(struct o_node *out, const uint64_t *bytes, const uint64_t *blocks,
        int verdict)
{
	struct o_doc *doc = o_doc_of(out);
	char a[ST_NUM_MAX], b[ST_NUM_MAX];
	uint64_t all_bytes =
	        st_add(st_add(bytes[DEFINITE], bytes[INDIRECT]), bytes[LIVE]);
	uint64_t all_blocks =
	        blocks[DEFINITE] + blocks[INDIRECT] + blocks[LIVE];
	o_flags(o_size(out, "bytes", NULL, all_bytes), O_JSON_ONLY);
	o_flags(o_count(out, "blocks", NULL, all_blocks), O_JSON_ONLY);
	if (!verdict) {
		o_line(out,
		       "SUMMARY: dbgalloc: %s %s live in %s %s (no leak "
		       "check in the dump)",
		       st_fmt_count(all_bytes, a),
		       plural(all_bytes, "byte", "bytes"),
		       st_fmt_count(all_blocks, b),
		       plural(all_blocks, "block", "blocks"));
		return;
	}
	char *line = o_printf(doc, "SUMMARY: dbgalloc: %s %s leaked in %s %s",
	                      st_fmt_count(all_bytes, a),
	                      plural(all_bytes, "byte", "bytes"),
	                      st_fmt_count(all_blocks, b),
	                      plural(all_blocks, "block", "blocks"));
	int first = 1;
	for (int k = DEFINITE; k <= INDIRECT; k++) {
		char key[64];
		snprintf(key, sizeof(key), "%s_bytes", class_keys[k]);
		o_flags(o_size(out, key, NULL, bytes[k]), O_JSON_ONLY);
		snprintf(key, sizeof(key), "%s_blocks", class_keys[k]);
		o_flags(o_count(out, key, NULL, blocks[k]), O_JSON_ONLY);
		if (blocks[k] == 0)
			continue;
		line = o_printf(doc, "%s%s%s: %s %s in %s %s", line,
		                first ? " (" : "; ", class_words[k],
		                st_fmt_count(bytes[k], a),
		                plural(bytes[k], "byte", "bytes"),
		                st_fmt_count(blocks[k], b),
		                plural(blocks[k], "block", "blocks"));
		first = 0;
	}
	o_line(out, "%s%s", line, first ? "" : ")");
}

/* The class of a block in the report, or -1 when it is not in it. */
static int
class_of(const struct da_dump_block *b, int verdict)
{
	if (b->flags & DA_DUMP_IGNORED)
		return -1;
	if (!verdict)
		return LIVE;
	if (b->leak == DA_DUMP_LEAK_DEFINITE)
		return DEFINITE;
	if (b->leak == DA_DUMP_LEAK_INDIRECT)
		return INDIRECT;
	return -1;
}

static int
has_verdict(const struct da_dump *d)
{
	const char *scan = da_dump_header(d, "leak_scan");
	return scan != NULL && strcmp(scan, "yes") == 0;
}

uint64_t
st_leaked(const struct st_dump *sd, uint64_t *per_stack, int *verdict)
{
	const struct da_dump *d = &sd->d;
	uint64_t sum = 0;
	*verdict = has_verdict(d);
	for (size_t i = 0; i < d->nblocks; i++) {
		const struct da_dump_block *b = &d->blocks[i];
		uint64_t size = b->size == ST_NONE ? 0 : b->size;
		if (class_of(b, *verdict) < 0)
			continue;
		sum = st_add(sum, size);
		if (per_stack != NULL) {
			size_t k =
			        b->stack == ST_NONE
			                ? d->nstacks
			                : (size_t)(da_dump_stack(d, b->stack) -
			                           d->stacks);
			per_stack[k] = st_add(per_stack[k], size);
		}
	}
	return sum;
}

int
st_leaks(struct o_node *out, struct st_dump *sd)
{
	const struct da_dump *d = &sd->d;
	const struct st_opts *opt = sd->opt;
	struct o_doc *doc = o_doc_of(out);
	int verdict = has_verdict(d);
	uint64_t epoch0 = since_epoch(sd);
	uint64_t gen0 = opt->since_gen == ST_NONE ? 0 : opt->since_gen;
	size_t nslots = (d->nstacks + 1) * NCLASS;
	struct group *g = calloc(nslots, sizeof(*g));
	if (g == NULL)
		st_oom();

	for (size_t i = 0; i < d->nblocks; i++) {
		const struct da_dump_block *b = &d->blocks[i];
		int cls = class_of(b, verdict);
		if (cls < 0)
			continue;
		if (opt->since_stage != NULL &&
		    (b->epoch == ST_NONE || b->epoch < epoch0))
			continue;
		if (opt->since_gen != ST_NONE &&
		    (b->gen == ST_NONE || b->gen < gen0))
			continue;
		size_t k = b->stack == ST_NONE
		                   ? d->nstacks
		                   : (size_t)(da_dump_stack(d, b->stack) -
		                              d->stacks);
		struct group *e = &g[k * NCLASS + (size_t)cls];
		if (e->blocks++ == 0) {
			e->first_gen = e->first_epoch = ST_NONE;
			e->cls = cls;
			e->stack = k;
		}
		e->bytes = st_add(e->bytes, b->size == ST_NONE ? 0 : b->size);
		if (b->gen != ST_NONE &&
		    (e->first_gen == ST_NONE || b->gen < e->first_gen)) {
			e->first_gen = b->gen;
			e->first_epoch = b->epoch;
		}
	}
	size_t n = 0;
	uint64_t bytes[NCLASS] = {0}, blocks[NCLASS] = {0};
	for (size_t i = 0; i < nslots; i++) {
		if (g[i].blocks == 0)
			continue;
		bytes[g[i].cls] = st_add(bytes[g[i].cls], g[i].bytes);
		blocks[g[i].cls] += g[i].blocks;
		g[n++] = g[i];
	}
	qsort(g, n, sizeof(*g), group_before);

	const char *since = "";
	if (opt->since_stage != NULL)
		since = o_printf(doc, " since stage \"%s\" (epoch %" PRIu64 ")",
		                 opt->since_stage, epoch0);
	if (opt->since_gen != ST_NONE)
		since = o_printf(doc, "%s%s generation %" PRIu64, since,
		                 *since ? " and since" : " since", gen0);
	o_flags(o_str(out, "source", NULL,
	              verdict ? "leak_check" : "live_blocks"),
	        O_JSON_ONLY);
	o_flags(o_str(out, "since_stage", NULL, opt->since_stage), O_JSON_ONLY);
	o_flags(o_count(out, "since_epoch", NULL,
	                opt->since_stage != NULL ? epoch0 : ST_NONE),
	        O_JSON_ONLY);
	o_flags(o_count(out, "since_gen", NULL, opt->since_gen), O_JSON_ONLY);
	if (verdict)
		o_line(out, "%s: the leaks the leak check found at the dump%s",
		       st_program(doc, sd), since);
	else
		o_line(out,
		       "%s: no leak check in this dump: every live block "
		       "not ignored%s is listed",
		       st_program(doc, sd), since);
	o_line(out, "%s", "");
	struct o_node *recs = o_records(out, "leaks", 1);
	for (size_t i = 0; i < n; i++)
		record(recs, sd, &g[i]);
	summary(out, bytes, blocks, verdict);
	free(g);
	return 0;
}
