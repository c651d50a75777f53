/*
 * audit/audit.h — the debugging layer between the exported entry points and
 * the raw allocator.
 *
 * Every block gets a header (audit/header.h: size, call site, generation,
 * kind, check) and a canary; every release checks the pointer (double,
 * foreign, interior, mismatched), the header and the canary, then leaves
 * the free record and the poison that the next allocation of the block
 * checks. The entry points' C semantics live here too: ENOMEM on failure,
 * overflow checks, realloc's rules. The shim calls nothing below this
 * layer.
 *
 * Every function preserves errno except to set ENOMEM when it returns NULL.
 */
#ifndef DA_AUDIT_AUDIT_H
#define DA_AUDIT_AUDIT_H

#include "alloc/alloc.h"
#include "audit/acct.h"
#include "audit/gen.h"
#include "audit/header.h"
#include "audit/leak.h"
#include "audit/report.h"
#include "audit/site.h"
#include "audit/sitestats.h"

#include <errno.h>
#include <string.h>

/* Who called: the exported entry point's return address and frame. */
struct da_call {
	uintptr_t ret;
	uintptr_t fp;
};
#define DA_CALL()                                                 \
	((struct da_call){(uintptr_t)__builtin_return_address(0), \
	                  (uintptr_t)__builtin_frame_address(0)})

/* The entry points, as reports name them. */
enum da_entry {
	DA_E_MALLOC,
	DA_E_CALLOC,
	DA_E_REALLOC,
	DA_E_REALLOCARRAY,
	DA_E_ALIGNED, /* posix_memalign, aligned_alloc, memalign, valloc */
	DA_E_FREE,
	DA_E_FREE_SIZED,
	DA_E_FREE_ALIGNED_SIZED,
	DA_E_USABLE_SIZE,
	DA_E_NEW,
	DA_E_NEW_ARR,
	DA_E_DELETE,
	DA_E_DELETE_ARR,
	DA_E_DELETE_SIZED,
	DA_E_DELETE_ARR_SIZED,
	DA_E_COUNT
};
extern const char *const da_entry_name[DA_E_COUNT];

/* Which kinds (enum da_kind, as bits) each release accepts. */
#define DA_ACCEPT_FREE   ((1u << DA_KIND_MALLOC) | (1u << DA_KIND_ALIGNED))
#define DA_ACCEPT_DELETE (1u << DA_KIND_NEW)
#define DA_ACCEPT_DEL_AR (1u << DA_KIND_NEW_ARR)

enum da_poison_mode {
	DA_POISON_MODE_BOUNDED = 0, /* 16 bytes + 1 block in 64 whole */
	DA_POISON_MODE_FULL,
	DA_POISON_MODE_OFF,
};

/* What the hot paths read of the settings (set at start-up). */
struct da_audit_cfg {
	unsigned depth;  /* frames per call site, 1..DA_DEPOT_MAX_FRAMES */
	unsigned poison; /* enum da_poison_mode */
	unsigned abort_on_error;
	unsigned limit_abort; /* DBGALLOC_LIMIT_ACTION=abort */
};
extern struct da_audit_cfg da_cfg;

static inline void *
da_audit_nomem(void)
{
	errno = ENOMEM;
	return NULL;
}

/* Out of line: the slow parts of allocation. */
void *da_audit_malloc_failed(size_t size, unsigned kind, int zero,
                             struct da_call c);
/* Reports a class block handed out again that is not as its free left
 * it (returns only under DBGALLOC_ON_ERROR=report). */
void da_audit_reused_bad(char *blk, size_t size, unsigned kind, unsigned prev,
                         struct da_call c);
/* Everything the fast path below leaves once it has a block: the periodic
 * work, a block whose freed state needs more than the bounded check, a
 * call site the thread does not hold yet. Finishes the block. */
void *da_audit_alloc_slow(char *blk, size_t size, unsigned kind, unsigned prev,
                          struct da_call c);
/* The fast path's other exits: the thread's batch of numbers is at its end
 * (or the next number is watched: the break, fault injection) or the
 * thread allocates for dbgalloc or for an ignored scope; or the
 * accounting wants its slow path (the allocation is counted already).
 * dbgalloc's own blocks (call site DA_SITE_INTERNAL) are not counted. */
void *da_audit_alloc_numbered(size_t size, unsigned kind, struct da_call c);
void *da_audit_alloc_charged(size_t size, unsigned kind, struct da_call c);
/* The allocation is counted, but the thread's heap has no block at hand
 * (or the size is not a class size). */
void *da_audit_alloc_counted(size_t size, unsigned kind, struct da_call c);
/* ENOMEM, out of line (the fast path makes no call but tail calls). */
void *da_audit_nomem_call(void);
int da_audit_freed_whole(const char *blk, size_t bsize);

/* What is wrong with the freed class block blk of bsize bytes, not as
 * its free left it (prev: DA_PREV_BAD_LINK if its link was bad). */
struct da_freed_damage {
	const char *blk;
	int bad_link, rec; /* the link was bad; the record is whole */
	size_t at;         /* the first byte of poison changed */
	struct da_hdr_info info;
	uint64_t free_pc;
};
void da_audit_freed_describe(const char *blk, size_t bsize, unsigned prev,
                             struct da_freed_damage *d);

/* The reports of damage found around a block: a freed block described by
 * d; p a live block whose canary (i: its header) or header was
 * overwritten. found_by ends the headline ("by free()", "at exit"). Each
 * returns only under DBGALLOC_ON_ERROR=report. */
void da_audit_freed_report(const struct da_freed_damage *d,
                           const char *found_by, struct da_call c);
void da_audit_overflow(void *p, const struct da_hdr_info *i,
                       const char *found_by, struct da_call c);
void da_audit_underflow(void *p, const char *found_by, struct da_call c);

/*
 * 1 if the freed block blk of bsize bytes is as its free left it, as far
 * as the bounded mode checks: the record, and DA_POISON_HEAD bytes of
 * poison. A block poisoned whole (sampled, or POISON=full) and the other
 * modes take the slow path.
 */
DA_INLINE int
da_audit_freed_bounded(const char *blk, size_t bsize)
{
	if (!da_rec_intact(blk))
		return 0;
	if (((const uint64_t *)(blk + DA_HDR))[0] & DA_REC_WHOLE)
		return 0; /* poisoned whole: the slow path checks it all */
	if (bsize >= DA_HDR + DA_FREE_RECORD + DA_POISON_HEAD) {
		uint64_t a, b;
		memcpy(&a, blk + DA_HDR + DA_FREE_RECORD, 8);
		memcpy(&b, blk + DA_HDR + DA_FREE_RECORD + 8, 8);
		return (a & b) == DA_POISON64 && (a | b) == DA_POISON64;
	}
	return 1;
}

/* 1 if the freed block blk (a class block of bsize bytes) is as its free
 * left it: the record, and the poison the mode promises. */
DA_INLINE int
da_audit_freed_intact(const char *blk, size_t bsize)
{
	if (da_cfg.poison == DA_POISON_MODE_OFF)
		return 1;
	if (da_cfg.poison == DA_POISON_MODE_FULL ||
	    da_poison_sampled(((const struct da_hdr *)blk)->w1 >> 32))
		return da_rec_intact(blk) && da_audit_freed_whole(blk, bsize);
	return da_audit_freed_bounded(blk, bsize);
}

/* The number of a new block: none (0) for dbgalloc's own, which must not
 * shift the program's numbering. */
DA_INLINE uint64_t
da_audit_number(void)
{
	return da_unlikely(da_gen_tls.site_override == DA_SITE_INTERNAL)
	               ? 0
	               : da_gen_next();
}

/* The header and canary of a new block at blk, number gen; returns the
 * pointer. */
DA_INLINE void *
da_audit_finish_gen(char *blk, size_t size, unsigned kind, struct da_call c,
                    uint64_t gen)
{
	uint32_t site =
	        da_likely(da_gen_tls.site_override == 0)
	                ? da_sitestats_capture(c.ret, c.fp, da_cfg.depth, size)
	                : da_gen_tls.site_override;
	da_hdr_write(blk, size, gen, site, kind);
	return blk + DA_HDR;
}

/* The work an allocation's slow path leaves for when its block is
 * finished (gen.h: DA_WORK_*): the periodic work of a new batch, a
 * high-water step. */
void da_audit_work(void);

/* The same for a block of bsize usable bytes from blk (0: unknown), whose
 * number may be one whose allocation time is noted (header.h); then the
 * work left for the end of the slow path. */
DA_INLINE void *
da_audit_finish_noted(char *blk, size_t size, unsigned kind, struct da_call c,
                      uint64_t gen, size_t bsize)
{
	void *p = da_audit_finish_gen(blk, size, kind, c, gen);
	if (da_unlikely(gen != 0 && da_life_stamped(gen)))
		da_sitestats_stamp(blk, size, gen, bsize);
	if (da_unlikely(da_gen_tls.work != 0))
		da_audit_work();
	return p;
}

DA_INLINE void *
da_audit_finish(char *blk, size_t size, unsigned kind, struct da_call c)
{
	return da_audit_finish_noted(blk, size, kind, c, da_audit_number(), 0);
}

/*
 * A new block of size bytes of the given kind for caller c. The common
 * case (a block freed before and intact, or a fresh one; a call site and
 * a generation the thread holds) makes no call, so that it needs no
 * callee-saved register: every other case is one tail call.
 */
DA_INLINE void *
da_audit_alloc(size_t size, unsigned kind, struct da_call c)
{
	unsigned prev;
	if (da_unlikely(size > DA_MAX_REQUEST - DA_HDR_EXTRA))
		return da_audit_nomem_call();
	/* Numbering and accounting come before the block: a number may be
	 * one to fail, an allocation one the limit refuses. */
	if (da_unlikely(da_gen_tls.next == da_gen_tls.end ||
	                da_gen_tls.site_override != 0))
		return da_audit_alloc_numbered(size, kind, c);
	if (da_acct_charge(size))
		return da_audit_alloc_charged(size, kind, c);
	char *blk = (char *)da_alloc_pop_prev(size + DA_HDR_EXTRA, &prev);
	if (da_unlikely(blk == NULL))
		return da_audit_alloc_counted(size, kind, c);
	unsigned was = prev & DA_PREV_FLAGS;
	if (was == DA_PREV_FREED) {
		if (da_unlikely(
		            da_cfg.poison != DA_POISON_MODE_BOUNDED ||
		            !da_audit_freed_bounded(blk, DA_PREV_BSIZE(prev))))
			return da_audit_alloc_slow(blk, size, kind, prev, c);
	} else if (da_unlikely(was != DA_PREV_NEW)) {
		return da_audit_alloc_slow(blk, size, kind, prev, c);
	}
	/* The call site from the thread's table, the generation from its
	 * batch. */
	unsigned k = da_site_slot(c.ret);
	uint64_t g = da_gen_tls.next;
	/* Read again, not kept from above (that would hold registers across
	 * the allocation); a signal handler's allocations in between may
	 * have used the batch up (a watched number is then taken by the
	 * slow path without its check: only under such a handler). */
	if (da_unlikely(da_cfg.depth != 1 || da_site_tls.pc[k] != c.ret ||
	                g == da_gen_tls.end))
		return da_audit_alloc_slow(blk, size, kind, prev, c);
	uint32_t site = da_site_tls.id[k];
	atomic_signal_fence(memory_order_seq_cst);
	if (da_unlikely(da_site_tls.pc[k] != c.ret))
		return da_audit_alloc_slow(blk, size, kind, prev, c);
	da_gen_tls.next = g + 1;
	da_sitestats_count_slot(k, size);
	da_hdr_write(blk, size, g, site, kind);
	return blk + DA_HDR;
}

DA_INLINE void *
da_audit_malloc(size_t size, struct da_call c)
{
	return da_audit_alloc(size, DA_KIND_MALLOC, c);
}

void *da_audit_calloc(size_t n, size_t size, struct da_call c);

/* A block whose pointer is a multiple of align (a power of two). */
void *da_audit_aligned(size_t align, size_t size, unsigned kind,
                       struct da_call c);

/*
 * Releases p through entry point e, which accepts the kinds in accept
 * (DA_ACCEPT_*); size is the size the caller claims (sized delete,
 * free_sized) or SIZE_MAX. Out of line: everything but a class block of
 * the right kind, with its header and canary whole.
 */
void da_audit_free_slow(void *p, unsigned e, unsigned accept, size_t size,
                        struct da_call c);

/* Breaks the header of the class block blk, live until now, and leaves
 * the free record there. Its header is broken first: the record and the
 * poison may cover its canary, and a thread stopped (or a process forked)
 * from here on must see a block in flight, not an overflow. */
DA_INLINE void
da_audit_leave_record(char *blk, uint64_t pc)
{
	struct da_hdr *h = (struct da_hdr *)blk;
	uint64_t rec = da_rec_of(h->w0);
	h->w0 = 0; /* alloc's link takes it next */
	atomic_signal_fence(memory_order_seq_cst);
	da_rec_write(blk, rec, pc);
}

/* The bounded mode's poison: DA_POISON_HEAD bytes after the free record
 * of the class block blk of bsize bytes, where they fit. */
DA_INLINE void
da_audit_poison_head(char *blk, size_t bsize)
{
	if (bsize >= DA_HDR + DA_FREE_RECORD + DA_POISON_HEAD) {
		uint64_t v = DA_POISON64;
		char *from = blk + DA_HDR + DA_FREE_RECORD;
		memcpy(from, &v, 8);
		memcpy(from + 8, &v, 8);
	}
}

/* 1 if the class block blk is poisoned to its end when freed: under
 * DBGALLOC_POISON=full, and the sampled generations under bounded. */
DA_INLINE int
da_audit_poisons_whole(const char *blk)
{
	unsigned mode = da_cfg.poison;
	return mode == DA_POISON_MODE_FULL ||
	       (mode == DA_POISON_MODE_BOUNDED &&
	        da_poison_sampled(((const struct da_hdr *)blk)->w1 >> 32));
}

/* The poison of the class block blk of bsize bytes, freed, as the mode
 * and its generation want it (its free record apart). */
DA_INLINE void
da_audit_poison_area(char *blk, size_t bsize)
{
	if (da_audit_poisons_whole(blk))
		memset(blk + DA_HDR + DA_FREE_RECORD, DA_POISON,
		       bsize - (DA_HDR + DA_FREE_RECORD));
	else if (da_cfg.poison == DA_POISON_MODE_BOUNDED)
		da_audit_poison_head(blk, bsize);
}

/* Leaves the free record and the poison in the class block blk of bsize
 * bytes, live until now (the record's pc marked DA_REC_WHOLE when the
 * poison covers the whole block). */
DA_INLINE void
da_audit_poison(char *blk, size_t bsize, uint64_t pc)
{
	da_audit_leave_record(
	        blk, da_audit_poisons_whole(blk) ? pc | DA_REC_WHOLE : pc);
	da_audit_poison_area(blk, bsize);
}

/* The fast release's rare exits (out of line, each finishes the
 * release): a block whose generation is sampled (poisoned whole; its
 * lifetimes go to the statistics); a temporary block of another call site
 * than the thread's last one (counted out here); and, for a block counted
 * out already, the rest: a poison mode but the bounded one, a slab of
 * another thread's, the accounting's slow path. */
void da_audit_release_sampled(char *blk, struct da_slab *s, uint8_t *live,
                              uint64_t pc);
void da_audit_release_temporary(char *blk, struct da_slab *s, uint8_t *live,
                                uint64_t pc);
void da_audit_release_rest(char *blk, struct da_slab *s, uint8_t *live,
                           uint64_t pc);

DA_INLINE void
da_audit_release(void *p, unsigned e, unsigned accept, size_t size,
                 struct da_call c)
{
	if (da_unlikely(p == NULL))
		return;
	char *blk = (char *)p - DA_HDR;
	uint8_t *live;
	struct da_slab *s = da_alloc_find_small(blk, &live);
	if (da_likely(s != NULL && da_hdr_intact(blk) &&
	              ((accept >> da_hdr_kind(blk)) & 1) &&
	              da_canary_intact(p, da_hdr_size(blk)) &&
	              (size == SIZE_MAX || size == da_hdr_size(blk)) &&
	              da_hdr_site(blk) != DA_SITE_INTERNAL)) {
		/* Every call is a tail call: no callee-saved register. */
		if (da_unlikely(da_poison_sampled(da_hdr_gen_lo(blk))))
			return da_audit_release_sampled(blk, s, live, c.ret);
		if (da_sitestats_temporary(blk)) {
			if (da_unlikely(da_site_tls.tmp_site !=
			                da_hdr_site(blk)))
				return da_audit_release_temporary(blk, s, live,
				                                  c.ret);
			da_site_tls.tmp_count++;
		}
		da_acct_count_free(da_hdr_size(blk));
		if (da_unlikely(da_cfg.poison != DA_POISON_MODE_BOUNDED ||
		                da_acct_low() || !da_alloc_owns_small(s)))
			return da_audit_release_rest(blk, s, live, c.ret);
		da_audit_leave_record(blk, c.ret);
		da_audit_poison_head(blk, da_alloc_slab_block_size(s));
		da_alloc_free_owned(s, live, blk);
		return;
	}
	da_audit_free_slow(p, e, accept, size, c);
}

DA_INLINE void
da_audit_free(void *p, struct da_call c)
{
	da_audit_release(p, DA_E_FREE, DA_ACCEPT_FREE, SIZE_MAX, c);
}

void *da_audit_realloc(void *p, size_t size, unsigned e, struct da_call c);

/* The size the program asked for (0 for NULL); reports a bad pointer. */
size_t da_audit_usable_size(void *p, struct da_call c);

/* 1 if p is the pointer of a live block of ours. */
int da_audit_owns(const void *p);

/* Marks the live block p as never to be reported leaked (leak.h: its
 * contents count as roots). Returns 0 if p is not a live block of ours. */
int da_audit_ignore(const void *p);

struct da_settings;
/* Takes the settings the hot paths and reports read (start-up). */
void da_audit_configure(const struct da_settings *s);

/* Process-wide operations the shim forwards. */
size_t da_audit_trim(void);
void da_audit_stats(struct da_alloc_stats *st);
void da_audit_fork_prepare(void);
void da_audit_fork_parent(void);
void da_audit_fork_child(void);

#endif /* DA_AUDIT_AUDIT_H */
