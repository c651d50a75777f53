/*
 * tools/stats.h — what the parts of dbgalloc-stats share: the options as
 * parsed (stats.c), a dump loaded with its symbols, the commands (one
 * stats-COMMAND.c each), and the errors that end the program.
 *
 * A command adds what it found to an output node (stats-out.h): for the
 * commands that read each dump on its own, one node per dump. It returns
 * 0, or 1 when a check failed; bad input ends the program through
 * st_fail() (one line, exit status 2) before anything is printed, since
 * the document is written only at the end.
 */
#ifndef DA_TOOLS_STATS_H
#define DA_TOOLS_STATS_H

#include "tools/dump.h"
#include "tools/stats-out.h"

#include <stddef.h>
#include <stdint.h>

#define ST_NONE DA_DUMP_NONE

/* top --by and the like: what rows group. */
enum st_by {
	ST_BY_SITE,
	ST_BY_FUNCTION,
	ST_BY_LINE,
	ST_BY_FILE,
	ST_BY_MODULE,
	ST_BY_THREAD,
};

/* top --sort: what orders rows, largest first. */
enum st_sort {
	ST_SORT_LIVE,      /* live bytes */
	ST_SORT_PEAK,      /* live bytes at the heap's peak */
	ST_SORT_ALLOCATED, /* bytes allocated since the start */
	ST_SORT_COUNT,     /* allocations since the start */
	ST_SORT_TEMPORARY, /* temporary allocations */
};

struct st_opts {
	enum o_format format;
	int no_symbols;
	int all_frames;
	const char *debug_dir;
	unsigned depth; /* frames per site in text; 0: all */
	int depth_set;
	uint64_t n; /* rows; 0: all */
	int n_set;
	enum st_by by;
	enum st_sort sort;
	const char *since_stage;
	uint64_t since_gen;                      /* ST_NONE when not given */
	uint64_t max_peak, max_live, max_leaked; /* ST_NONE when not given */
	const char *baseline;
	int fail_on_increase;
	double increase_pct; /* 0: any increase */
};

/* A dump read, with its symbols. */
struct st_dump {
	const char *path;
	struct da_dump d;
	struct da_syms *syms;
	const struct st_opts *opt;
	/* Scratch of st_frames() and st_key(). */
	struct st_frame *frames;
	size_t frames_cap;
	char *key;
	size_t key_cap;
};

/* Reads path (exit status 2 with the reader's line if it cannot). */
void st_load(struct st_dump *sd, const char *path, const struct st_opts *opt);
/* Prints the symbolizer's warnings once, frees everything. */
void st_unload(struct st_dump *sd);

/* "dbgalloc-stats: " and the message on stderr; exit status 2. */
void st_fail(const char *fmt, ...)
        __attribute__((format(printf, 1, 2), noreturn));

/* Memory that is never NULL (st_oom() otherwise). */
void *st_xmalloc(size_t n);
void *st_xrealloc(void *p, size_t n);
char *st_xstrdup(const char *s);

/* The program a dump is of, "name (pid N)", into the document. */
const char *st_program(struct o_doc *doc, const struct st_dump *sd);
/* The epoch numbered e, or NULL. */
const struct da_dump_epoch *st_epoch(const struct da_dump *d, uint64_t e);
/* A counter, or ST_NONE. */
uint64_t st_counter(const struct st_dump *sd, const char *name);

/*
 * The bytes leaked in sd: the blocks the leak check found definitely or
 * indirectly lost when the dump ran it (*verdict 1), else every live block
 * not ignored (*verdict 0); per_stack, when not NULL, gets each stack's
 * (by index in d.stacks, then one for blocks without a stack).
 */
uint64_t st_leaked(const struct st_dump *sd, uint64_t *per_stack, int *verdict);

/* The commands. */
int st_summary(struct o_node *out, struct st_dump *sd);
int st_top(struct o_node *out, struct st_dump *sd);
int st_leaks(struct o_node *out, struct st_dump *sd);
int st_classes(struct o_node *out, struct st_dump *sd);
int st_stages(struct o_node *out, struct st_dump *sd);
int st_temporaries(struct o_node *out, struct st_dump *sd);
int st_diff(struct o_node *out, const char *a, const char *b,
            const struct st_opts *opt);
int st_check(struct o_node *out, const char *path, const struct st_opts *opt);

#endif
