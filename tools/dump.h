/*
 * tools/dump.h — a dbgalloc dump (doc/dump-format.md) read into memory, for
 * dbgalloc-stats and the tests. One pass, line by line; columns are found
 * by name through the #fields lines, unknown columns and record types are
 * skipped, and the trailer's line count and CRC-32C are checked at the end.
 * The first fault stops the reading with one line of error. What is kept
 * grows with the lines actually read, never with a count the file claims,
 * so a hostile file costs memory in proportion to its size. Runs outside
 * the allocator: stdio and malloc.
 *
 *   struct da_dump
 *     headers[]   H key value          value percent-decoded
 *     counters[]  T name value
 *     modules[]   M id bias lo hi build_id path     (by id: da_dump_module)
 *     segments[]  L module vaddr memsz offset perm
 *     stacks[]    S id depth pc...     pcs[depth]   (by id: da_dump_stack)
 *     classes[]   K block_size slabs slab_bytes live_blocks live_bytes
 *                   allocs frees peak_live_blocks                  (1.1)
 *     sites[]     X stack live_blocks live_bytes [allocs ... temporary
 *                   life_allocs life_us]
 *     blocks[]    A addr size stack gen epoch flags [thread leak]
 *     epochs[]    C epoch first_gen mono_ns [allocs alloc_bytes frees
 *                   free_bytes peak_bytes] name
 *     samples[]   P mono_ns live_bytes rss_bytes [gen reason]
 *
 * A number column that is absent from its #fields line, or holds `-`,
 * reads as DA_DUMP_NONE; a string that is absent or `-` reads as NULL.
 * So a minor-0 dump reads, its minor-1 columns missing. Records keep the
 * order of the file.
 */
#ifndef DA_TOOLS_DUMP_H
#define DA_TOOLS_DUMP_H

#include <stddef.h>
#include <stdint.h>

/* The major version this reader reads, and the longest line, newline in. */
#define DA_DUMP_MAJOR    1
#define DA_DUMP_LINE_MAX 65536

/* A missing number ("-", or a column the file does not have). */
#define DA_DUMP_NONE UINT64_MAX

/* A's flags, one bit per letter; unknown letters are skipped. */
#define DA_DUMP_IGNORED   0x1u /* i: dbgalloc_ignore */
#define DA_DUMP_NEW       0x2u /* n: operator new */
#define DA_DUMP_NEW_ARRAY 0x4u /* N: operator new[] */
#define DA_DUMP_ALIGNED   0x8u /* a: an aligned allocation */

struct da_dump_header {
	char *key;
	char *value; /* NULL for "-" */
};

struct da_dump_counter {
	char *name;
	uint64_t value; /* DA_DUMP_NONE for "-" (limit: none) */
};

struct da_dump_module {
	uint64_t id, bias, lo, hi;
	char *build_id; /* hex, as written; NULL when "-" */
	char *path;
};

struct da_dump_segment {
	uint64_t module, vaddr, memsz, offset;
	char perm[4]; /* "r-x"; "" when missing */
};

struct da_dump_stack {
	uint64_t id;
	size_t depth;
	const uint64_t *pcs; /* innermost first */
};

/*
 * A size class (K), smallest first; block_size is DA_DUMP_NONE on the
 * last line, the blocks too large for a class (slabs: their mappings).
 */
struct da_dump_class {
	uint64_t block_size, slabs, slab_bytes, live_blocks, live_bytes;
	uint64_t allocs, frees, peak_live_blocks;
};

/*
 * The most buckets of a lifetime histogram: bucket k >= 1 holds lifetimes
 * in [2^(k-1), 2^k), bucket 0 lifetimes of 0 (under 1 us for life_us).
 */
#define DA_DUMP_LIFE_MAX 64

/*
 * A call site's aggregates (X); the optional columns read DA_DUMP_NONE.
 * The histograms point into the reader's pool: nlife_* buckets (0 when
 * "-" or absent, trailing empty buckets left out), at most
 * DA_DUMP_LIFE_MAX, indexed like arrays.
 */
struct da_dump_site {
	uint64_t stack, live_blocks, live_bytes;
	uint64_t allocs, alloc_bytes, frees, free_bytes, peak_live_bytes;
	uint64_t temporary;
	const uint64_t *life_allocs, *life_us;
	unsigned nlife_allocs, nlife_us;
};

/* A's leak verdict (H leak_scan yes): the letter as written, 0 for "-". */
#define DA_DUMP_LEAK_DEFINITE  'd'
#define DA_DUMP_LEAK_INDIRECT  'i'
#define DA_DUMP_LEAK_POSSIBLE  'p'
#define DA_DUMP_LEAK_REACHABLE 'r'

struct da_dump_block {
	uint64_t addr, size;
	uint64_t stack; /* DA_DUMP_NONE for ignored and the loader's blocks */
	uint64_t gen, epoch;
	uint64_t thread; /* from 1; DA_DUMP_NONE outside the size classes */
	unsigned flags;  /* DA_DUMP_IGNORED... */
	char leak;       /* DA_DUMP_LEAK_..., another letter, or 0 */
};

/* An epoch (C): the process's totals when it began, its peak. */
struct da_dump_epoch {
	uint64_t epoch, first_gen, mono_ns;
	uint64_t allocs, alloc_bytes, frees, free_bytes, peak_bytes;
	char *name;
};

struct da_dump_sample {
	uint64_t mono_ns, live_bytes, rss_bytes, gen;
	char *reason; /* "step", "mark", "interval", "dump"; NULL for "-" */
};

struct da_dump {
	unsigned major, minor;
	size_t lines;    /* before the trailer */
	uint32_t crc32c; /* of those lines, as the trailer says */

	struct da_dump_header *headers;
	size_t nheaders;
	struct da_dump_counter *counters;
	size_t ncounters;
	struct da_dump_module *modules;
	size_t nmodules;
	struct da_dump_segment *segments;
	size_t nsegments;
	struct da_dump_stack *stacks;
	size_t nstacks;
	struct da_dump_class *classes;
	size_t nclasses;
	struct da_dump_site *sites;
	size_t nsites;
	struct da_dump_block *blocks;
	size_t nblocks;
	struct da_dump_epoch *epochs;
	size_t nepochs;
	struct da_dump_sample *samples;
	size_t nsamples;

	/* The reader's own: every stack's pcs, every site's histograms, and
	 * the indexes by id. */
	uint64_t *pcs;
	size_t npcs;
	uint64_t *life;
	size_t nlife;
	uint32_t *stack_index, *module_index; /* index + 1, 0 when free */
	size_t stack_slots, module_slots;     /* a power of two, or 0 */
	uint64_t salt;                        /* of the indexes' hash */
};

/*
 * Reads the dump at path into *d, which needs no initialization. Returns 0,
 * or an errno value with one line in err (always terminated, cut to
 * errlen), starting with the path:
 *
 *   PATH: empty file
 *   PATH: not a dbgalloc dump
 *   PATH: dump version N is not supported (this reader reads version 1)
 *   PATH: truncated: no trailer
 *   PATH: checksum mismatch
 *   PATH: line N: WHAT          (all listed in doc/dump-format.md)
 *   PATH: STRERROR              (open or read failed; ENOMEM)
 *
 * A malformed file returns EINVAL. On any error *d is left empty;
 * da_dump_free(d) is safe either way.
 */
int da_dump_read(const char *path, struct da_dump *d, char *err, size_t errlen);

/* The same over size bytes in memory, named name in the messages. */
int da_dump_read_mem(const void *data, size_t size, const char *name,
                     struct da_dump *d, char *err, size_t errlen);

/* Frees everything *d holds and empties it. */
void da_dump_free(struct da_dump *d);

/* The stack or module of that id, or NULL. */
const struct da_dump_stack *da_dump_stack(const struct da_dump *d, uint64_t id);
const struct da_dump_module *da_dump_module(const struct da_dump *d,
                                            uint64_t id);

/* The first header of that key's value, or NULL (absent or "-"). */
const char *da_dump_header(const struct da_dump *d, const char *key);

/* The first counter of that name, or DA_DUMP_NONE (absent or "-"). */
uint64_t da_dump_counter(const struct da_dump *d, const char *name);

#endif
