/*
 * tools/stats-agg.h — the sites of a dump grouped into rows (by site,
 * function, line, file, module or thread), each row the sums of its
 * members, sorted and cut to the top N by the commands.
 *
 * The per-site counters come from the X records. Without X records the
 * live blocks and bytes are summed from the A records instead, and so are
 * they always by thread (a block's thread is only in its A record); the
 * counters a dump does not have stay ST_NONE. Blocks dbgalloc_ignore'd
 * are left out.
 */
#ifndef DA_TOOLS_STATS_AGG_H
#define DA_TOOLS_STATS_AGG_H

#include "tools/stats.h"

struct st_row {
	const char *key;   /* what rows are told apart (and joined) by */
	const char *label; /* what a row shows */
	/* The member with the most live bytes (then the first), whose
	 * frames the row shows; NULL by thread. */
	const struct da_dump_stack *stack;
	uint64_t thread; /* by thread; ST_NONE for blocks with none */
	uint64_t live_bytes, live_blocks;
	uint64_t peak_bytes; /* live at the heap's peak */
	uint64_t allocs, alloc_bytes, frees, free_bytes, temporary;
	uint64_t best; /* stack's live bytes, to choose it */
	size_t nmembers;
};

struct st_agg {
	enum st_by by;
	struct st_row *rows;
	size_t nrows, cap;
	size_t *row_of_site; /* per X record: its row, or SIZE_MAX */
	size_t nsites;
	uint32_t *slots; /* the rows by key: index + 1, 0 when free */
	size_t nslots;
};

/* Groups sd's sites by by. */
void st_agg_build(struct st_agg *a, struct st_dump *sd, enum st_by by);
/* Sorts the rows, largest first by sort, ties by live bytes then key. */
void st_agg_sort(struct st_agg *a, enum st_sort sort);
/* The row of key, or NULL (before sorting or after: either). */
const struct st_row *st_agg_find(const struct st_agg *a, const char *key);
void st_agg_free(struct st_agg *a);

/* A row's value of sort (ST_NONE when the dump does not have it). */
uint64_t st_row_value(const struct st_row *r, enum st_sort sort);

/* The names of by and sort as options say them ("site", "live"). */
const char *st_by_name(enum st_by by);
const char *st_by_plural(enum st_by by);
const char *st_sort_name(enum st_sort sort);
/* What sort measures, for titles: "live bytes", "allocations". */
const char *st_sort_words(enum st_sort sort);

#endif
