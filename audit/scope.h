/*
 * audit/scope.h — scopes: what the program (or one thread) allocated,
 * freed and kept between two points, with its own peak and limit.
 *
 * The state lives in the caller's memory (the shim puts it in struct
 * dbgalloc_scope's private words), so a scope allocates nothing. A thread's open scopes form a
 * stack through outer; process scopes with a limit are also on one list
 * the accounting slow path reads (acct.c), under the registry lock.
 *
 * Which blocks were allocated in the scope: a process scope's have a
 * generation from gen0 on (the thread that begins it gives its batch
 * back first, so in a single thread the line is exact; under threads a
 * thread may finish its current batch below gen0, as at an epoch). A
 * thread scope logs the batches of numbers its thread takes (gen.h,
 * da_gen_log_*): its blocks are those with a number in them.
 */
#ifndef DA_AUDIT_SCOPE_H
#define DA_AUDIT_SCOPE_H

#include "audit/acct.h"

#include <stddef.h>
#include <stdint.h>

#define DA_SCOPE_THREAD 1u
#define DA_SCOPE_WATCH  2u
#define DA_SCOPE_SITES  8 /* sites kept per listing */

/* The bytes and blocks of one call site's blocks. */
struct da_site_total {
	uint32_t site;
	uint64_t blocks, bytes;
};

struct da_scope {
	uint32_t magic;
	unsigned flags;
	int64_t limit; /* bytes above start; DA_ACCT_NONE: none */
	int64_t start; /* live bytes (process) or the thread's net, at begin */
	int64_t peak;  /* the highest since begin, in the same terms */
	uint64_t bytes0, allocs0, frees0; /* the totals at begin */
	uint64_t gen0;                    /* process: its first number */
	size_t log0;                      /* thread: its first batch logged */
	struct da_acct_state *owner;
	struct da_scope *outer;          /* the thread's enclosing scope */
	struct da_scope *pnext, **pprev; /* open process scopes */
	int crossed;  /* WATCH: the limit was crossed (once) */
	int reported; /* a refusal was reported (once) */
	int64_t crossed_at;
	unsigned n_at_limit, n_live;
	struct da_site_total at_limit[DA_SCOPE_SITES];
	struct da_site_total live[DA_SCOPE_SITES];
};

/* The open process scopes (under the registry lock). */
extern struct da_scope *da_scope_process_list;

/*
 * An allocation took the scope's live bytes to above its limit for the
 * first time (above: the bytes above its start). Records it, with the
 * call sites holding the scope's memory now. Called by acct.c's slow
 * path outside the registry lock, on the allocating thread, before its
 * block exists.
 */
void da_scope_crossed(struct da_scope *s, int64_t above);

/* Whether the block numbered gen was allocated in scope (a struct
 * da_scope): the listing filter of sites.h. Only on the scope's thread. */
int da_scope_keep(uint64_t gen, void *scope);

/* The calling thread leaves: its process scopes leave the list. */
void da_scope_thread_exit(struct da_acct_state *t);

/* What an ended scope saw (dbgalloc.h says what each means). */
struct da_scope_result {
	uint64_t allocated_blocks, allocated_bytes;
	uint64_t freed_blocks, freed_bytes;
	uint64_t peak;
	uint64_t live_blocks, live_bytes;
	int crossed;
	uint64_t crossed_at;
};

/* Begins scope s (flags DA_SCOPE_*; limit in bytes, 0: none). Returns 0,
 * or -1 (EINVAL) for unknown flags. */
int da_scope_begin(struct da_scope *s, unsigned flags, size_t limit);
/* Ends s, the calling thread's innermost scope, into *r. Returns 0, or
 * -1 (EINVAL) if s is not that scope. */
int da_scope_end(struct da_scope *s, struct da_scope_result *r);
/* Formats s's sites (da_sites_format): those live at its end, or (at_limit)
 * when its limit was crossed. */
size_t da_scope_sites(const struct da_scope *s, int at_limit, unsigned max,
                      char *buf, size_t len);

#endif /* DA_AUDIT_SCOPE_H */
