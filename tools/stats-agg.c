/*
 * tools/stats-agg.c — grouping sites into rows (see stats-agg.h). Rows are
 * found by key through an open-addressing table of row index + 1, hashed
 * with FNV-1a; sorting permutes the rows and then renumbers what points
 * at them.
 */
#include "tools/stats-agg.h"
#include "tools/stats-site.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t
hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static void
reindex(struct st_agg *a, size_t nslots)
{
	free(a->slots);
	a->slots = calloc(nslots, sizeof(*a->slots));
	if (a->slots == NULL)
		st_oom();
	a->nslots = nslots;
	for (size_t i = 0; i < a->nrows; i++) {
		size_t s = (size_t)hash(a->rows[i].key) & (nslots - 1);
		while (a->slots[s] != 0)
			s = (s + 1) & (nslots - 1);
		a->slots[s] = (uint32_t)i + 1;
	}
}

const struct st_row *
st_agg_find(const struct st_agg *a, const char *key)
{
	if (a->nslots == 0)
		return NULL;
	for (size_t s = (size_t)hash(key) & (a->nslots - 1);;
	     s = (s + 1) & (a->nslots - 1)) {
		uint32_t i = a->slots[s];
		if (i == 0)
			return NULL;
		if (strcmp(a->rows[i - 1].key, key) == 0)
			return &a->rows[i - 1];
	}
}

/* The row of key, added when new. */
static struct st_row *
row_for(struct st_agg *a, const char *key, const char *label)
{
	struct st_row *r = (struct st_row *)st_agg_find(a, key);
	if (r != NULL)
		return r;
	if (a->nrows == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->rows = st_xrealloc(a->rows, a->cap * sizeof(*a->rows));
	}
	r = &a->rows[a->nrows++];
	*r = (struct st_row){
	        .key = st_xstrdup(key),
	        .label = st_xstrdup(label),
	        .thread = ST_NONE,
	        .live_bytes = ST_NONE,
	        .live_blocks = ST_NONE,
	        .peak_bytes = ST_NONE,
	        .allocs = ST_NONE,
	        .alloc_bytes = ST_NONE,
	        .frees = ST_NONE,
	        .free_bytes = ST_NONE,
	        .temporary = ST_NONE,
	};
	if (a->nrows * 2 > a->nslots)
		reindex(a, a->nslots ? 2 * a->nslots : 128);
	else {
		size_t s = (size_t)hash(key) & (a->nslots - 1);
		while (a->slots[s] != 0)
			s = (s + 1) & (a->nslots - 1);
		a->slots[s] = (uint32_t)a->nrows;
	}
	return r;
}

/* *sum += v, where ST_NONE is "not known" and stays so only if all are. */
static void
acc(uint64_t *sum, uint64_t v)
{
	if (v == ST_NONE)
		return;
	if (*sum == ST_NONE)
		*sum = 0;
	*sum = *sum > UINT64_MAX - 1 - v ? UINT64_MAX - 1 : *sum + v;
}

static void
member(struct st_row *r, const struct da_dump_stack *s, uint64_t live)
{
	uint64_t l = live == ST_NONE ? 0 : live;
	if (r->nmembers++ == 0 || l > r->best) {
		r->stack = s;
		r->best = l;
	}
}

static void
by_thread(struct st_agg *a, struct st_dump *sd)
{
	char key[64];
	for (size_t i = 0; i < sd->d.nblocks; i++) {
		const struct da_dump_block *b = &sd->d.blocks[i];
		if (b->flags & DA_DUMP_IGNORED)
			continue;
		if (b->thread == ST_NONE)
			snprintf(key, sizeof(key), "outside the size classes");
		else
			snprintf(key, sizeof(key), "thread %" PRIu64,
			         b->thread);
		struct st_row *r = row_for(a, key, key);
		r->thread = b->thread;
		acc(&r->live_bytes, b->size);
		acc(&r->live_blocks, 1);
		r->nmembers++;
	}
}

/* Without X records: each stack's live blocks from the A records. */
static void
from_blocks(struct st_agg *a, struct st_dump *sd, enum st_by by)
{
	const struct da_dump *d = &sd->d;
	uint64_t *bytes = calloc(d->nstacks + 1, sizeof(*bytes));
	uint64_t *blocks = calloc(d->nstacks + 1, sizeof(*blocks));
	if (bytes == NULL || blocks == NULL)
		st_oom();
	for (size_t i = 0; i < d->nblocks; i++) {
		const struct da_dump_block *b = &d->blocks[i];
		if ((b->flags & DA_DUMP_IGNORED) || b->stack == ST_NONE)
			continue;
		size_t k = (size_t)(da_dump_stack(d, b->stack) - d->stacks);
		acc(&bytes[k], b->size);
		blocks[k]++;
	}
	for (size_t k = 0; k < d->nstacks; k++) {
		const char *label;
		if (blocks[k] == 0)
			continue;
		const char *key = st_key(sd, &d->stacks[k], by, &label);
		struct st_row *r = row_for(a, key, label);
		acc(&r->live_bytes, bytes[k] == ST_NONE ? 0 : bytes[k]);
		acc(&r->live_blocks, blocks[k]);
		member(r, &d->stacks[k], bytes[k]);
	}
	free(bytes);
	free(blocks);
}

void
st_agg_build(struct st_agg *a, struct st_dump *sd, enum st_by by)
{
	const struct da_dump *d = &sd->d;
	memset(a, 0, sizeof(*a));
	a->by = by;
	a->nsites = d->nsites;
	a->row_of_site = st_xmalloc((d->nsites + 1) * sizeof(size_t));
	for (size_t i = 0; i < d->nsites; i++)
		a->row_of_site[i] = SIZE_MAX;
	if (by == ST_BY_THREAD) {
		by_thread(a, sd);
		return;
	}
	if (d->nsites == 0) {
		from_blocks(a, sd, by);
		return;
	}
	for (size_t i = 0; i < d->nsites; i++) {
		const struct da_dump_site *x = &d->sites[i];
		const struct da_dump_stack *s = da_dump_stack(d, x->stack);
		const char *label;
		const char *key = st_key(sd, s, by, &label);
		struct st_row *r = row_for(a, key, label);
		a->row_of_site[i] = (size_t)(r - a->rows);
		acc(&r->live_bytes, x->live_bytes);
		acc(&r->live_blocks, x->live_blocks);
		acc(&r->peak_bytes, x->peak_live_bytes);
		acc(&r->allocs, x->allocs);
		acc(&r->alloc_bytes, x->alloc_bytes);
		acc(&r->frees, x->frees);
		acc(&r->free_bytes, x->free_bytes);
		acc(&r->temporary, x->temporary);
		member(r, s, x->live_bytes);
	}
}

uint64_t
st_row_value(const struct st_row *r, enum st_sort sort)
{
	switch (sort) {
	case ST_SORT_LIVE:
		return r->live_bytes;
	case ST_SORT_PEAK:
		return r->peak_bytes;
	case ST_SORT_ALLOCATED:
		return r->alloc_bytes;
	case ST_SORT_COUNT:
		return r->allocs;
	case ST_SORT_TEMPORARY:
		return r->temporary;
	}
	return ST_NONE;
}

static enum st_sort sort_by;
static const struct st_row *sort_rows;

/* Larger first; a missing value is the smallest. */
static int
cmp_value(uint64_t x, uint64_t y)
{
	if (x == y)
		return 0;
	if (x == ST_NONE)
		return 1;
	if (y == ST_NONE)
		return -1;
	return x > y ? -1 : 1;
}

static int
cmp_rows(const void *pa, const void *pb)
{
	const struct st_row *a = &sort_rows[*(const size_t *)pa];
	const struct st_row *b = &sort_rows[*(const size_t *)pb];
	int c = cmp_value(st_row_value(a, sort_by), st_row_value(b, sort_by));
	if (c == 0)
		c = cmp_value(a->live_bytes, b->live_bytes);
	return c != 0 ? c : strcmp(a->key, b->key);
}

void
st_agg_sort(struct st_agg *a, enum st_sort sort)
{
	size_t *order = st_xmalloc((a->nrows + 1) * sizeof(*order));
	size_t *where = st_xmalloc((a->nrows + 1) * sizeof(*where));
	struct st_row *rows = st_xmalloc((a->nrows + 1) * sizeof(*rows));
	for (size_t i = 0; i < a->nrows; i++)
		order[i] = i;
	sort_by = sort;
	sort_rows = a->rows;
	qsort(order, a->nrows, sizeof(*order), cmp_rows);
	for (size_t i = 0; i < a->nrows; i++) {
		rows[i] = a->rows[order[i]];
		where[order[i]] = i;
	}
	free(a->rows);
	a->rows = rows;
	a->cap = a->nrows + 1;
	for (size_t i = 0; i < a->nsites; i++)
		if (a->row_of_site[i] != SIZE_MAX)
			a->row_of_site[i] = where[a->row_of_site[i]];
	free(order);
	free(where);
	if (a->nslots)
		reindex(a, a->nslots);
}

void
st_agg_free(struct st_agg *a)
{
	for (size_t i = 0; i < a->nrows; i++) {
		free((char *)a->rows[i].key);
		free((char *)a->rows[i].label);
	}
	free(a->rows);
	free(a->row_of_site);
	free(a->slots);
	memset(a, 0, sizeof(*a));
}

const char *
st_by_name(enum st_by by)
{
	static const char *const names[] = {"site", "function", "line",
	                                    "file", "module",   "thread"};
	return names[by];
}

const char *
st_by_plural(enum st_by by)
{
	static const char *const names[] = {"sites", "functions", "lines",
	                                    "files", "modules",   "threads"};
	return names[by];
}

const char *
st_sort_name(enum st_sort sort)
{
	static const char *const names[] = {"live", "peak", "allocated",
	                                    "count", "temporary"};
	return names[sort];
}

const char *
st_sort_words(enum st_sort sort)
{
	static const char *const words[] = {"live bytes", "bytes at the peak",
	                                    "bytes allocated", "allocations",
	                                    "temporary allocations"};
	return words[sort];
}
