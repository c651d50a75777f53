/*
 * audit/exitcheck.c — the heap check at exit (see exitcheck.h).
 *
 * The blocks are checked while the other threads are stopped (a block
 * freed or reused under the check would read as damaged) and reported
 * after they run again (reports symbolize, which allocates). A thread
 * stopped inside malloc may hold a block marked live whose header it has
 * not written yet: when other threads were stopped (or this process is a
 * child of fork from a process with threads), a broken header is not
 * reported (an in-flight block cannot be told from an underflow).
 */
#include "audit/exitcheck.h"
#include "audit/audit.h"
#include "audit/guarded.h"
#include "audit/stop.h"

#define EXIT_BAD_MAX 64 /* damaged blocks reported at most */

enum { BAD_FREED, BAD_OVERFLOW, BAD_UNDERFLOW };

struct bad {
	char *blk; /* the block's header */
	unsigned what;
	struct da_hdr_info info;
	struct da_freed_damage freed; /* read while the world was stopped:
	                                 a report's own allocations may
	                                 reuse the block */
};

static struct {
	struct bad b[EXIT_BAD_MAX];
	unsigned n, more;
	int threads; /* other threads were stopped */
} ex;

/* This process is a child of fork from a process with other threads:
 * their blocks in flight stay in flight for ever here. */
static int forked_from_threads;

void
da_audit_exit_check_forked(int parent_had_threads)
{
	if (parent_had_threads)
		forked_from_threads = 1;
}

static struct bad *
note(char *blk, unsigned what, const struct da_hdr_info *i)
{
	if (ex.n == EXIT_BAD_MAX) {
		ex.more++;
		return NULL;
	}
	struct bad *b = &ex.b[ex.n++];
	b->blk = blk;
	b->what = what;
	if (i != NULL)
		b->info = *i;
	return b;
}

static int
check_live(const struct da_block *b, void *arg)
{
	(void)arg;
	char *blk = b->user;
	if (b->size < DA_HDR_EXTRA)
		return 0;
	if (!da_hdr_intact(blk)) {
		if (!ex.threads)
			note(blk, BAD_UNDERFLOW, NULL);
		return 0;
	}
	struct da_hdr_info i;
	da_hdr_unpack(blk, &i);
	if (i.size + da_audit_extra(blk) <= b->size &&
	    !da_audit_tail_intact(blk + DA_HDR, i.size))
		note(blk, BAD_OVERFLOW, &i);
	return 0;
}

static int
check_freed(const struct da_block *b, void *arg)
{
	(void)arg;
	if (b->size < DA_HDR + DA_FREE_RECORD ||
	    da_audit_freed_intact(b->start, b->size))
		return 0;
	struct bad *bad = note(b->start, BAD_FREED, NULL);
	if (bad != NULL)
		da_audit_freed_describe(b->start, b->size, 0, &bad->freed);
	/* Recorded and poisoned again (its link in word 0 untouched), so
	 * that an allocation made while reporting does not find it a second
	 * time. */
	da_rec_write(b->start, 0,
	             da_audit_poisons_whole(b->start) ? DA_REC_WHOLE : 0);
	da_audit_poison_area(b->start, b->size);
	return 0;
}

unsigned
da_audit_exit_check(void)
{
	struct da_world w = {0};
	ex.n = ex.more = 0;
	da_heap_fork_prepare(); /* every allocator lock */
	int stopped = da_world_stop(&w) == 0;
	ex.threads = w.n > 0 || w.missed > 0 || forked_from_threads;
	da_alloc_walk(check_live, NULL);
	if (da_cfg.poison != DA_POISON_MODE_OFF)
		da_alloc_walk_freed(check_freed, NULL);
	if (stopped)
		da_world_resume(&w);
	da_heap_fork_parent();

	struct da_call none = {0, 0};
	for (unsigned k = 0; k < ex.n; k++) {
		struct bad *b = &ex.b[k];
		if (b->what == BAD_FREED)
			da_audit_freed_report(&b->freed, "at exit", none);
		else if (b->what == BAD_OVERFLOW)
			da_audit_overflow(b->blk + DA_HDR, &b->info, "at exit",
			                  none);
		else
			da_audit_underflow(b->blk + DA_HDR, "at exit", none);
	}
	if (ex.more > 0) {
		struct da_line l = {.len = 0};
		da_line_str(&l, "dbgalloc: and ");
		da_line_dec(&l, ex.more);
		da_line_str(&l, " more damaged blocks found at exit");
		da_line_emit(&l);
	}
	return ex.n + ex.more;
}
