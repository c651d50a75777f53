/*
 * audit/guarded.h — DBGALLOC_GUARD in audit: which blocks get a guard page
 * (alloc/guard.h), how their header and the bytes after them are kept, and
 * the report of a fault in guard-page space.
 *
 * A guarded block has audit's 16-byte header in front of it, as every
 * block, but no canary after it: with side after, the guard page (or, for
 * an alignment above 1, a few slack bytes and then the guard page) follows
 * its last byte. The slack is filled with the canary's bytes and checked at
 * free, as a canary is. With side before, the slack runs from the block's
 * end to the end of its page (further pages of the slot are never touched).
 *
 * Its slot's meta words (guard.h) keep what a report needs once its pages
 * are closed: DA_GM_SITE (call site, and the coverage bucket of a sampled
 * block), DA_GM_GEN, DA_GM_FREE (the free's call stack, 0 while live) and
 * DA_GM_THREADS (allocating thread, freeing thread).
 *
 * Which blocks: DBGALLOC_GUARD=1 all of them, size:MIN-MAX those sizes
 * (every allocation then leaves the fast path, through gen.h's numbers that
 * stop), sample:N one number in N (gen.h: da_gen_sample). A sample whose
 * caller (the entry point's return address, hashed into a bucket) already
 * has a sampled block live passes on to a later allocation of the thread,
 * up to DA_GUARD_PASS times: samples spread over call sites instead of
 * piling on the hottest one. dbgalloc's own blocks are never guarded.
 */
#ifndef DA_AUDIT_GUARDED_H
#define DA_AUDIT_GUARDED_H

#include "alloc/guard.h"
#include "audit/audit.h"
#include "audit/errors.h"
#include "audit/guardspec.h"
#include "audit/settings.h"

#include <stdint.h>

#define DA_GUARD_PASS 4 /* times a sample passes on to a later block */

/* The meta words of a guarded block's slot. */
enum {
	DA_GM_SITE = 0,    /* site | bucket << 32 | DA_GM_SAMPLED */
	DA_GM_GEN = 1,     /* its generation */
	DA_GM_FREE = 2,    /* the free's stack (depot id), 0 while live */
	DA_GM_THREADS = 3, /* allocating thread | freeing thread << 32 */
};
#define DA_GM_SAMPLED (UINT64_C(1) << 63)

struct da_guarded_cfg {
	unsigned mode;     /* enum da_guard_mode */
	uint64_t min, max; /* DA_GUARD_MODE_SIZE */
	int recover;       /* DBGALLOC_GUARD_RECOVER=1 */
	int dangling;      /* DBGALLOC_DANGLING=1 */
};
extern struct da_guarded_cfg da_guarded;

/* Sets guarding up from the settings (at start-up, one thread). Returns 0,
 * or -1 after one line saying why guarding is off. */
int da_guarded_configure(const struct da_settings *s);

/*
 * A guarded block for an allocation numbered gen (its number taken and
 * counted) of size bytes at alignment align (0: the setting's), or NULL
 * when this one is not to be guarded or guard-page space refuses it: the
 * caller then allocates as usual. zero: calloc's.
 */
void *da_guarded_alloc(size_t size, size_t align, unsigned kind,
                       struct da_call c, uint64_t gen, int zero);

/* 1 if an allocation numbered gen may be guarded: the cheap test before
 * da_guarded_alloc (which looks at the rest). */
DA_INLINE int
da_guarded_maybe(uint64_t gen)
{
	return da_unlikely(da_guarded.mode != DA_GUARD_MODE_OFF) && gen != 0 &&
	       gen != UINT64_MAX;
}

/* Notes the free of the guarded block p (checked, live) by caller c in
 * its slot, before alloc frees it. */
void da_guarded_note_free(void *p, struct da_call c);

/* The first byte after the guarded block p of size bytes that is not as
 * its allocation left it, counted from p; SIZE_MAX if none is. */
size_t da_guarded_slack_damage(const void *p, uint64_t size);

/* 1 if what follows block p of size bytes is as its allocation left it:
 * its canary, or a guarded block's slack. */
DA_INLINE int
da_audit_tail_intact(const void *p, uint64_t size)
{
	if (da_unlikely(da_guard_owns(p)))
		return da_guarded_slack_damage(p, size) == SIZE_MAX;
	return da_canary_intact(p, size);
}

/* The bytes audit asks for beyond the size in the block at blk: header
 * and canary, or a guarded block's header alone. */
DA_INLINE size_t
da_audit_extra(const void *blk)
{
	return da_unlikely(da_guard_owns(blk)) ? DA_HDR : DA_HDR_EXTRA;
}

/*
 * A fault at addr (write: 1 for a write, 0 a read, -1 unknown) at
 * instruction pc with frame pointer fp. Returns 0 if addr is not in guard-
 * page space; otherwise writes the report and returns 1 (the caller lets
 * the signal kill the process), or 2 when DBGALLOC_GUARD_RECOVER opened
 * the page and the instruction may run again. Async-signal-safe as reports
 * are (errors.h).
 */
int da_guarded_fault(const void *addr, int write, uintptr_t pc, uintptr_t fp);

/* What the slot of the freed guarded block p says of it (its pages are
 * closed): size, generation, call sites and threads, in e; nothing if p is
 * not a freed guarded block's pointer. */
void da_guarded_freed_info(struct da_err *e, const void *p);

/* fork: the child's thread ids differ. */
void da_guarded_fork_child(void);

#endif /* DA_AUDIT_GUARDED_H */
