/*
 * audit/audit.c — the out-of-line parts of the audit layer: failed and
 * damaged allocations, every release the fast path does not take, realloc,
 * and the diagnosis of bad pointers.
 */
#include "audit/audit.h"
#include "audit/guarded.h"
#include "audit/dangling.h"
#include "audit/dump.h"
#include "audit/dumper.h"
#include "audit/duration.h"
#include "audit/errors.h"
#include "audit/exitcheck.h"
#include "audit/fail.h"
#include "audit/limit.h"
#include "audit/leak.h"
#include "audit/settings.h"
#include "audit/epochs.h"
#include "audit/steps.h"
#include "audit/timeline.h"

#include <stdint.h>
#include <sys/single_threaded.h>

const char *const da_entry_name[DA_E_COUNT] = {
        [DA_E_MALLOC] = "malloc()",
        [DA_E_CALLOC] = "calloc()",
        [DA_E_REALLOC] = "realloc()",
        [DA_E_REALLOCARRAY] = "reallocarray()",
        [DA_E_ALIGNED] = "an aligned allocation",
        [DA_E_FREE] = "free()",
        [DA_E_FREE_SIZED] = "free_sized()",
        [DA_E_FREE_ALIGNED_SIZED] = "free_aligned_sized()",
        [DA_E_USABLE_SIZE] = "malloc_usable_size()",
        [DA_E_NEW] = "operator new",
        [DA_E_NEW_ARR] = "operator new[]",
        [DA_E_DELETE] = "operator delete",
        [DA_E_DELETE_ARR] = "operator delete[]",
        [DA_E_DELETE_SIZED] = "operator delete",
        [DA_E_DELETE_ARR_SIZED] = "operator delete[]",
};

/* How each kind was allocated, for reports. */
static const char *const kind_name[4] = {
        [DA_KIND_MALLOC] = "malloc()",
        [DA_KIND_NEW] = "operator new",
        [DA_KIND_NEW_ARR] = "operator new[]",
        [DA_KIND_ALIGNED] = "an aligned allocation",
};

struct da_audit_cfg da_cfg = {
        .depth = 1,
        .poison = DA_POISON_MODE_BOUNDED,
        .abort_on_error = 1,
};

void
da_audit_configure(const struct da_settings *s)
{
	da_cfg.depth = (unsigned)s->stack_depth;
	da_cfg.poison = s->poison == DA_POISON_FULL  ? DA_POISON_MODE_FULL
	                : s->poison == DA_POISON_OFF ? DA_POISON_MODE_OFF
	                                             : DA_POISON_MODE_BOUNDED;
	da_cfg.abort_on_error = s->on_error == DA_ON_ERROR_ABORT;
	if (s->break_at != DA_UNSET)
		da_gen_set_break(s->break_at);
	da_cfg.limit_abort = s->limit_action == DA_LIMIT_ACTION_ABORT;
	da_fail_configure(s);
	da_gen_set_temporary(s->temporary > UINT32_MAX - 1
	                             ? UINT32_MAX - 1
	                             : (uint32_t)s->temporary);
	uint64_t interval = 0;
	if (s->sample_interval[0] != '\0')
		da_duration_parse(s->sample_interval, &interval);
	da_timeline_set_interval(interval);
	da_guarded_configure(s);
}

static void
err_start(struct da_err *e, struct da_call c)
{
	e->head.len = 0;
	e->have_info = 0;
	e->free_pc = 0;
	e->free_site = e->free_tid = e->alloc_tid = 0;
	e->frames = NULL;
	e->nframes = 0;
	e->call_ret = c.ret;
	e->call_fp = c.fp;
}

/* Refuses an allocation of size bytes that the limit (why: DA_ACCT_*)
 * does not let through; its number is used. */
static void *
refuse(size_t size, unsigned kind, struct da_call c, int why,
       struct da_scope *scope)
{
	da_acct_count_failure(0);
	da_audit_limit_report(size, kind_name[kind], c, why, scope);
	return da_audit_nomem();
}

/* Inside an interrupted slow path of this thread (da_op_depth), the
 * allocator may refuse rather than wait for a lock (lock.h): a fresh
 * mapping then (zero, never freed before), or NULL. */
static char *
without_lock(size_t size)
{
	return da_op_depth > 0
	               ? da_alloc_malloc_without_lock(size + DA_HDR_EXTRA)
	               : NULL;
}

void *
da_audit_malloc_failed(size_t size, unsigned kind, int zero, struct da_call c)
{
	char *blk = without_lock(size);
	if (blk != NULL)
		return da_audit_finish(blk, size, kind, c);
	(void)zero;
	/* Counted, not numbered yet: the attempt keeps its number. */
	da_acct_uncharge(size);
	da_audit_number();
	return da_audit_nomem();
}

void
da_audit_work(void)
{
	unsigned work = da_gen_tls.work;
	da_gen_tls.work = 0;
	if (work & DA_WORK_BATCH) {
		da_alloc_periodic();
		da_timeline_tick();
		da_dumper_poll();
	}
	if (work & DA_WORK_STEP) {
		struct da_acct_totals t;
		da_acct_totals(&t);
		da_steps_reached(t.live);
	}
}

/* Finishes a block alloc handed out in state prev, number gen (UINT64_MAX:
 * take it after the checks). */
static void *
finish_prev(char *blk, size_t size, unsigned kind, unsigned prev,
            struct da_call c, uint64_t gen)
{
	unsigned was = prev & (DA_PREV_FREED | DA_PREV_BAD_LINK);
	if (was != DA_PREV_NEW &&
	    (was != DA_PREV_FREED ||
	     !da_audit_freed_intact(blk, DA_PREV_BSIZE(prev))))
		da_audit_reused_bad(blk, size, kind, prev, c);
	if (gen == UINT64_MAX)
		gen = da_audit_number();
	return da_audit_finish_noted(blk, size, kind, c, gen,
	                             DA_PREV_BSIZE(prev));
}

void *
da_audit_alloc_slow(char *blk, size_t size, unsigned kind, unsigned prev,
                    struct da_call c)
{
	return finish_prev(blk, size, kind, prev, c, UINT64_MAX);
}

/*
 * Numbers an allocation of size bytes and lets it through fault injection
 * and the limit. Returns 0 with *gen (0: dbgalloc's own, not counted), or
 * -1: refused, reported, counted (the caller returns ENOMEM).
 */
static int
admit(size_t size, unsigned kind, struct da_call c, uint64_t *gen)
{
	*gen = da_audit_number();
	if (*gen == 0)
		return 0; /* dbgalloc's own: not counted, never refused */
	if (da_unlikely(da_fail_on) &&
	    da_fail_decide(*gen, size, kind_name[kind], c.ret, c.fp)) {
		da_acct_count_failure(1);
		return -1;
	}
	if (da_acct_charge(size)) {
		struct da_scope *scope;
		int why = da_acct_over(size, 0, &scope);
		if (why != DA_ACCT_OK) {
			refuse(size, kind, c, why, scope);
			return -1;
		}
	}
	return 0;
}

void *
da_audit_alloc_numbered(size_t size, unsigned kind, struct da_call c)
{
	uint64_t gen;
	unsigned prev;
	if (admit(size, kind, c, &gen) != 0)
		return da_audit_nomem();
	if (da_guarded_maybe(gen)) {
		void *g = da_guarded_alloc(size, 0, kind, c, gen, 0);
		if (g != NULL)
			return g;
	}
	/* A block whose allocation time is noted gets room for the note
	 * after its canary (sitestats.h). */
	size_t extra = gen != 0 && da_life_stamped(gen) ? 8 : 0;
	char *blk = (char *)da_alloc_malloc_prev(size + DA_HDR_EXTRA + extra,
	                                         &prev);
	if (blk == NULL && (blk = without_lock(size)) != NULL)
		prev = DA_PREV_NEW;
	if (blk == NULL) {
		if (gen != 0)
			da_acct_uncharge(size);
		return da_audit_nomem();
	}
	return finish_prev(blk, size, kind, prev, c, gen);
}

void *
da_audit_nomem_call(void)
{
	return da_audit_nomem();
}

void *
da_audit_alloc_counted(size_t size, unsigned kind, struct da_call c)
{
	unsigned prev;
	char *blk = (char *)da_alloc_malloc_prev(size + DA_HDR_EXTRA, &prev);
	if (blk == NULL)
		return da_audit_malloc_failed(size, kind, 0, c);
	return finish_prev(blk, size, kind, prev, c, UINT64_MAX);
}

void *
da_audit_alloc_charged(size_t size, unsigned kind, struct da_call c)
{
	struct da_scope *scope;
	int why = da_acct_over(size, 0, &scope);
	if (why != DA_ACCT_OK) {
		da_audit_number();
		return refuse(size, kind, c, why, scope);
	}
	return da_audit_alloc_counted(size, kind, c);
}

/* The first offset in [from, to) of blk whose byte is not the poison, or
 * to. */
static size_t
first_unpoisoned(const char *blk, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if ((unsigned char)blk[i] != DA_POISON)
			return i;
	return to;
}

int
da_audit_freed_whole(const char *blk, size_t bsize)
{
	const char *p = blk + DA_HDR + DA_FREE_RECORD;
	size_t n = bsize - (DA_HDR + DA_FREE_RECORD), i = 0;
	/* 32 bytes a step in two 16-byte vectors, no early exit. */
	typedef uint64_t v2 __attribute__((vector_size(16)));
	const v2 poison = {DA_POISON64, DA_POISON64};
	v2 d0 = {0, 0}, d1 = {0, 0}, a, b;
	for (; i + 32 <= n; i += 32) {
		memcpy(&a, p + i, 16);
		memcpy(&b, p + i + 16, 16);
		d0 |= a ^ poison;
		d1 |= b ^ poison;
	}
	d0 |= d1;
	uint64_t diff = d0[0] | d0[1], v;
	for (; i + 8 <= n; i += 8) {
		memcpy(&v, p + i, 8);
		diff |= v ^ DA_POISON64;
	}
	for (; i < n; i++)
		diff |= (unsigned char)p[i] ^ DA_POISON;
	return diff == 0;
}

void
da_audit_freed_describe(const char *blk, size_t bsize, unsigned prev,
                        struct da_freed_damage *d)
{
	d->blk = blk;
	d->bad_link = (prev & DA_PREV_BAD_LINK) != 0;
	d->rec = da_rec_intact(blk);
	d->at = 0;
	d->free_pc = 0;
	if (d->rec) {
		da_rec_unpack(blk, &d->info, &d->free_pc);
		d->at = first_unpoisoned(blk, DA_HDR + DA_FREE_RECORD, bsize) -
		        DA_HDR;
	}
}

void
da_audit_freed_report(const struct da_freed_damage *d, const char *found_by,
                      struct da_call c)
{
	struct da_err e;
	err_start(&e, c);
	if (d->rec) {
		e.info = d->info;
		e.free_pc = d->free_pc;
		e.have_info = 1;
	}
	da_line_str(&e.head, "dbgalloc: write to freed memory ");
	if (d->bad_link) {
		/* The link in the header's first word, 16 bytes before. */
		da_line_str(&e.head, "at ");
		da_line_hex(&e.head, (unsigned long)d->blk);
		da_line_str(&e.head, ": 16 bytes before");
	} else if (!d->rec) {
		/* The free record (the pc of the free, the size): which of
		 * its 16 bytes changed cannot be told. */
		da_line_str(&e.head, "in the first 16 bytes of");
	} else {
		da_line_str(&e.head, "at ");
		da_line_hex(&e.head, (unsigned long)(d->blk + DA_HDR + d->at));
		da_line_str(&e.head, ": ");
		da_line_bytes(&e.head, (unsigned long)d->at);
		da_line_str(&e.head, " into");
	}
	da_line_str(&e.head, " the freed block at ");
	da_line_hex(&e.head, (unsigned long)(d->blk + DA_HDR));
	if (e.have_info)
		da_err_block(&e, e.info.size);
	da_line_str(&e.head, ", found ");
	da_line_str(&e.head, found_by);
	da_err_raise(&e);
}

/*
 * A class block handed out again was not as its free left it: the link
 * in its first word (alloc dropped the rest of that free list), its free
 * record, or its poison was overwritten. Reports the write to freed
 * memory; under DBGALLOC_ON_ERROR=report the caller hands the block out
 * all the same.
 */
void
da_audit_reused_bad(char *blk, size_t size, unsigned kind, unsigned prev,
                    struct da_call c)
{
	static const char *const by[4] = {
	        [DA_KIND_MALLOC] = "by malloc()",
	        [DA_KIND_NEW] = "by operator new",
	        [DA_KIND_NEW_ARR] = "by operator new[]",
	        [DA_KIND_ALIGNED] = "by an aligned allocation",
	};
	struct da_freed_damage d;
	da_audit_freed_describe(blk, da_alloc_class_size(size + DA_HDR_EXTRA),
	                        prev, &d);
	da_audit_freed_report(&d, by[kind], c);
}

void
da_audit_overflow(void *p, const struct da_hdr_info *i, const char *found_by,
                  struct da_call c)
{
	struct da_err er;
	err_start(&er, c);
	er.info = *i;
	er.have_info = 1;
	uint64_t canary = DA_CANARY;
	const unsigned char *want = (const unsigned char *)&canary;
	const unsigned char *got = (const unsigned char *)p + i->size;
	size_t at = 0;
	if (da_guard_owns(p)) {
		size_t d = da_guarded_slack_damage(p, i->size);
		at = d == SIZE_MAX ? 0 : d - i->size;
	} else {
		while (at < DA_CANARY_SZ && got[at] == want[at])
			at++;
	}
	da_line_str(&er.head, "dbgalloc: write past the end of ");
	da_line_hex(&er.head, (unsigned long)p);
	da_err_block(&er, i->size);
	da_line_str(&er.head, ": byte ");
	da_line_count(&er.head, i->size + at);
	da_line_str(&er.head, " was overwritten, found ");
	da_line_str(&er.head, found_by);
	da_err_raise(&er);
}

void
da_audit_underflow(void *p, const char *found_by, struct da_call c)
{
	struct da_err er;
	err_start(&er, c);
	da_line_str(&er.head, "dbgalloc: write before the block at ");
	da_line_hex(&er.head, (unsigned long)p);
	da_line_str(&er.head, ": its header was overwritten, found ");
	da_line_str(&er.head, found_by);
	da_err_raise(&er);
}

void *
da_audit_calloc(size_t n, size_t size, struct da_call c)
{
	size_t total;
	if (da_unlikely(__builtin_mul_overflow(n, size, &total) ||
	                total > DA_MAX_REQUEST - DA_HDR_EXTRA))
		return da_audit_nomem();
	if (total + DA_HDR_EXTRA <= DA_MEDIUM_MAX) {
		char *p = da_audit_alloc(total, DA_KIND_MALLOC, c);
		if (p != NULL)
			memset(p, 0, total);
		return p;
	}
	/* Larger blocks come zeroed from alloc (fresh pages are not written
	 * again). */
	uint64_t gen;
	if (admit(total, DA_KIND_MALLOC, c, &gen) != 0)
		return da_audit_nomem();
	if (da_guarded_maybe(gen)) {
		void *g = da_guarded_alloc(total, 0, DA_KIND_MALLOC, c, gen, 1);
		if (g != NULL)
			return g;
	}
	char *blk = da_alloc_zalloc(total + DA_HDR_EXTRA);
	if (blk == NULL) {
		if (gen != 0)
			da_acct_uncharge(total);
		return da_audit_nomem();
	}
	return da_audit_finish_noted(blk, total, DA_KIND_MALLOC, c, gen, 0);
}

void *
da_audit_aligned(size_t align, size_t size, unsigned kind, struct da_call c)
{
	/* Guarded blocks may be less aligned than DA_ALIGN (DBGALLOC_GUARD_
	 * ALIGN): an alignment above theirs takes the path that asks for it. */
	if (align <= DA_ALIGN &&
	    (da_likely(da_guarded.mode == DA_GUARD_MODE_OFF) ||
	     align <= da_guard_cfg.align))
		return da_audit_alloc(size, kind, c);
	if (size > DA_MAX_REQUEST - DA_HDR_EXTRA)
		return da_audit_nomem();
	uint64_t gen;
	if (admit(size, kind, c, &gen) != 0)
		return da_audit_nomem();
	if (da_guarded_maybe(gen)) {
		void *g = da_guarded_alloc(size, align, kind, c, gen, 0);
		if (g != NULL)
			return g;
	}
	/* alloc puts the block so that the header's end is aligned. */
	char *blk = da_alloc_aligned_at(align, DA_HDR, size + DA_HDR_EXTRA);
	if (blk == NULL) {
		if (gen != 0)
			da_acct_uncharge(size);
		return da_audit_nomem();
	}
	return da_audit_finish_noted(blk, size, kind, c, gen, 0);
}

/*
 * Why p cannot be released or used, in words, for a pointer whose block
 * alloc describes in b (err: enum da_free_error for p's header address).
 */
static void
bad_pointer_why(struct da_line *l, const char *p, int err,
                const struct da_block *b)
{
	if (err == DA_FREE_INTERIOR && b->start != NULL) {
		/* Audit's view: the block starts 16 bytes into alloc's. */
		const char *user = (const char *)b->user + DA_HDR;
		uint64_t size = b->size - DA_HDR_EXTRA;
		if (da_live_in_use((unsigned)b->state) &&
		    da_hdr_intact(b->user))
			size = da_hdr_size(b->user);
		if (p < user) {
			da_line_bytes(l, (unsigned long)(user - p));
			da_line_str(l, " before the ");
		} else {
			da_line_bytes(l, (unsigned long)(p - user));
			da_line_str(l, " into the ");
		}
		da_line_count(l, size);
		da_line_str(l, "-byte block at ");
		da_line_hex(l, (unsigned long)user);
		if (!da_live_in_use((unsigned)b->state))
			da_line_str(l, " (free)");
	} else if (err == DA_FREE_UNUSED) {
		da_line_str(l, "no block was handed out at this address");
	} else {
		da_line_str(l, "not allocated by dbgalloc");
	}
}

/* Reads what a freed block's header and record still say, where its
 * memory outlives it (a chunk or a page region, not a huge mapping). */
static void
freed_info(struct da_err *e, const char *blk)
{
	if (da_guard_owns(blk)) { /* its pages are closed: its slot says */
		da_guarded_freed_info(e, blk + DA_HDR);
		return;
	}
	const struct da_region *r = da_pagemap_find(blk);
	if (r == NULL || r->kind == DA_REGION_HUGE || !da_rec_intact(blk))
		return;
	da_rec_unpack(blk, &e->info, &e->free_pc);
	e->have_info = 1;
}

/* "by FN", the words a report of a block's damage ends with; built only
 * when there is damage to report. */
static const char *
by_line(struct da_line *by, const char *fn)
{
	by->len = 0;
	da_line_str(by, "by ");
	da_line_str(by, fn);
	by->buf[by->len] = '\0';
	return by->buf;
}

/*
 * Checks that p is a live block of ours that entry point e may release
 * or use (accept: DA_ACCEPT_* kinds, or ~0u for any; size: the size the
 * caller claims, or SIZE_MAX). Returns 1 if so, with alloc's view of it
 * in *b; otherwise reports and returns 0 (the operation is then to be
 * ignored: DBGALLOC_ON_ERROR=report).
 */
static int
check_block(void *p, unsigned e, unsigned accept, size_t size, struct da_call c,
            struct da_block *b)
{
	const char *fn = da_entry_name[e];
	/* realloc and malloc_usable_size use the block; the others free it. */
	int is_release = e != DA_E_REALLOC && e != DA_E_REALLOCARRAY &&
	                 e != DA_E_USABLE_SIZE;
	char *blk = (char *)p - DA_HDR;
	struct da_err er;
	struct da_line by;
	err_start(&er, c);
	int err = (uintptr_t)p < DA_HDR ? DA_FREE_FOREIGN
	                                : da_alloc_diagnose(blk, b);
	if (err == DA_FREE_DOUBLE) {
		freed_info(&er, blk);
		if (is_release)
			da_line_str(&er.head, "dbgalloc: double free of ");
		else
			da_line_str(&er.head, "dbgalloc: use after free of ");
		da_line_hex(&er.head, (unsigned long)p);
		da_err_block(&er, er.have_info ? er.info.size
		                               : b->size - da_audit_extra(blk));
		da_line_str(&er.head, " in ");
		da_line_str(&er.head, fn);
		da_err_raise(&er);
		return 0;
	}
	if (err != DA_FREE_OK) {
		if (is_release) {
			da_line_str(&er.head, "dbgalloc: invalid free of ");
			da_line_hex(&er.head, (unsigned long)p);
			da_line_str(&er.head, ": ");
			bad_pointer_why(&er.head, p, err, b);
			da_line_str(&er.head, ", in ");
			da_line_str(&er.head, fn);
		} else {
			da_line_str(&er.head, "dbgalloc: bad pointer ");
			da_line_hex(&er.head, (unsigned long)p);
			da_line_str(&er.head, " passed to ");
			da_line_str(&er.head, fn);
			da_line_str(&er.head, ": ");
			bad_pointer_why(&er.head, p, err, b);
		}
		if (err == DA_FREE_INTERIOR &&
		    da_live_in_use((unsigned)b->state) &&
		    da_hdr_intact(b->user)) {
			da_hdr_unpack(b->user, &er.info);
			er.have_info = 1;
		}
		da_err_raise(&er);
		return 0;
	}
	if (!da_hdr_intact(blk)) {
		da_audit_underflow(p, by_line(&by, fn), c);
		return 0;
	}
	da_hdr_unpack(blk, &er.info);
	er.have_info = 1;
	if (!((accept >> er.info.kind) & 1)) {
		da_line_str(&er.head, "dbgalloc: mismatched free of ");
		da_line_hex(&er.head, (unsigned long)p);
		da_err_block(&er, er.info.size);
		da_line_str(&er.head, ": allocated by ");
		da_line_str(&er.head, kind_name[er.info.kind]);
		da_line_str(&er.head, ", released by ");
		da_line_str(&er.head, fn);
		da_err_raise(&er);
		return 0;
	}
	if (!da_audit_tail_intact(p, er.info.size)) {
		da_audit_overflow(p, &er.info, by_line(&by, fn), c);
		return 0;
	}
	if (size != SIZE_MAX && size != er.info.size) {
		da_line_str(&er.head, "dbgalloc: mismatched size in ");
		da_line_str(&er.head, fn);
		da_line_str(&er.head, " of ");
		da_line_hex(&er.head, (unsigned long)p);
		da_err_block(&er, er.info.size);
		da_line_str(&er.head, ": released as ");
		da_line_bytes(&er.head, size);
		da_err_raise(&er);
		return 0;
	}
	return 1;
}

/* Frees the live block of ours at p, checked; alloc's view in b. Its bytes
 * leave the count unless counted (realloc has taken them out already). */
static void
release_checked(void *p, const struct da_block *b, uint64_t pc, int counted)
{
	char *blk = (char *)p - DA_HDR;
	uint8_t *live;
	da_sitestats_freed(blk, b->size);
	if (!counted && da_hdr_site(blk) != DA_SITE_INTERNAL &&
	    da_acct_discharge(da_hdr_size(blk)))
		da_acct_under();
	struct da_slab *s = da_alloc_find_small(blk, &live);
	if (s != NULL) {
		da_audit_poison(blk, da_alloc_slab_block_size(s), pc);
		da_alloc_free_small(s, live, blk);
		return;
	}
	/* Blocks of pages, huge ones and aligned ones keep no poison (their
	 * pages may go back to the OS); the record serves reports of a
	 * second free while the memory is still there. */
	struct da_hdr *h = (struct da_hdr *)blk;
	uint64_t rec = da_rec_of(h->w0);
	/* Broken, as a class block's is by its link: this memory may hold
	 * another block at this address later, and a thread stopped before
	 * that one's header is written must not find this one whole. */
	h->w0 = 0;
	atomic_signal_fence(memory_order_seq_cst);
	if (b->size >= DA_HDR + DA_FREE_RECORD)
		da_rec_write(blk, rec, pc);
	struct da_block bad;
	da_alloc_free(blk, &bad);
}

void
da_audit_release_sampled(char *blk, struct da_slab *s, uint8_t *live,
                         uint64_t pc)
{
	size_t bsize = da_alloc_slab_block_size(s);
	/* Of the blocks poisoned whole, one in four is a lifetime sample
	 * (header.h: da_life_stamped). */
	if (da_sitestats_temporary(blk) ||
	    da_life_stamped(((const struct da_hdr *)blk)->w1 >> 32))
		da_sitestats_freed(blk, bsize);
	da_acct_count_free(da_hdr_size(blk));
	da_audit_poison(blk, bsize, pc);
	da_alloc_free_small(s, live, blk);
	if (da_acct_low())
		da_acct_under();
}

void
da_audit_release_rest(char *blk, struct da_slab *s, uint8_t *live, uint64_t pc)
{
	da_audit_poison(blk, da_alloc_slab_block_size(s), pc);
	da_alloc_free_small(s, live, blk);
	if (da_acct_low())
		da_acct_under();
}

void
da_audit_release_temporary(char *blk, struct da_slab *s, uint8_t *live,
                           uint64_t pc)
{
	da_sitestats_temporary_hit(blk);
	da_acct_count_free(da_hdr_size(blk));
	da_audit_release_rest(blk, s, live, pc);
}

void
da_audit_free_slow(void *p, unsigned e, unsigned accept, size_t size,
                   struct da_call c)
{
	struct da_block b;
	if (!check_block(p, e, accept, size, c, &b))
		return;
	if (da_guard_owns(p))
		da_guarded_note_free(p, c);
	release_checked(p, &b, c.ret, 0);
	if (da_unlikely(da_guarded.dangling))
		da_dangling_sweep_evicted(c);
}

/* Counts again the bytes of a block that stays live after all: never
 * refused (they were live a moment ago). */
static void
recount(uint64_t n)
{
	struct da_scope *scope;
	if (da_acct_charge(n))
		da_acct_over(n, 1, &scope);
	/* Not an allocation, nor was the discharge a free: the totals stay
	 * as they were. */
	da_acct_tls.bytes -= n;
	da_acct_tls.allocs--;
	da_acct_tls.frees--;
}

/* realloc's end when the block moves: the bytes to q, p released (its
 * bytes counted out already). */
static void *
moved(void *p, void *q, uint64_t old, size_t size, const struct da_block *b,
      struct da_call c)
{
	memcpy(q, p, size < old ? size : old);
	if (da_guard_owns(p))
		da_guarded_note_free(p, c);
	release_checked(p, b, c.ret, 1);
	if (da_unlikely(da_guarded.dangling))
		da_dangling_sweep_evicted(c);
	if (da_acct_low())
		da_acct_under();
	return q;
}

void *
da_audit_realloc(void *p, size_t size, unsigned e, struct da_call c)
{
	struct da_block b;
	if (p == NULL)
		return da_audit_alloc(size, DA_KIND_MALLOC, c);
	if (!check_block(p, e, DA_ACCEPT_FREE, SIZE_MAX, c, &b))
		return da_audit_nomem();
	int guarded = da_guard_owns(p);
	if (size == 0) {
		if (guarded)
			da_guarded_note_free(p, c);
		release_checked(p, &b, c.ret, 0);
		if (da_unlikely(da_guarded.dangling))
			da_dangling_sweep_evicted(c);
		return NULL;
	}
	if (size > DA_MAX_REQUEST - DA_HDR_EXTRA)
		return da_audit_nomem();
	char *blk = (char *)p - DA_HDR;
	uint64_t old = da_hdr_size(blk);
	unsigned kind = da_hdr_kind(blk);
	/* The limit sees the change of size: the old bytes leave the count
	 * first, and come back if the new block is refused. */
	uint64_t gen;
	int counted = da_hdr_site(blk) != DA_SITE_INTERNAL;
	/* The old bytes' grant stays with this thread until the new size is
	 * counted: no other thread can take it in between, and a realloc that
	 * shrinks is never refused. */
	if (counted)
		da_acct_count_free(old);
	if (admit(size, kind, c, &gen) != 0) {
		if (counted)
			recount(old);
		return da_audit_nomem();
	}
	size_t room = b.size - DA_HDR_EXTRA; /* what fits where it is */
	/* In place when it fits without wasting more than half the block,
	 * or when alloc can extend the block where it lies. The block is
	 * handed out anew: new generation, the realloc's call site. */
	if (!guarded &&
	    ((size <= room && size >= room / 2) ||
	     (size > room && da_alloc_grow(blk, size + DA_HDR_EXTRA)))) {
		/* The block of the old call site ends here. */
		da_sitestats_freed(blk, b.size);
		/* The new canary may overlap the old one: the header is
		 * broken first, so that a thread stopped (or a process
		 * forked) in between sees a block in flight. */
		((struct da_hdr *)blk)->w0 = 0;
		atomic_signal_fence(memory_order_seq_cst);
		da_audit_finish_noted(blk, size, kind, c, gen, b.size);
		if (da_acct_low())
			da_acct_under();
		return p;
	}
	char *q = da_guarded_maybe(gen)
	                  ? da_guarded_alloc(size, 0, kind, c, gen, 0)
	                  : NULL;
	if (q != NULL)
		return moved(p, q, old, size, &b, c);
	size_t want = da_alloc_growth_size(b.size, size + DA_HDR_EXTRA);
	unsigned prev;
	char *nblk = da_alloc_malloc_prev(want, &prev);
	if (nblk == NULL) {
		if (gen != 0)
			da_acct_uncharge(size);
		if (counted)
			recount(old);
		return da_audit_nomem();
	}
	q = finish_prev(nblk, size, kind, prev, c, gen);
	return moved(p, q, old, size, &b, c);
}

size_t
da_audit_usable_size(void *p, struct da_call c)
{
	struct da_block b;
	if (p == NULL)
		return 0;
	if (!check_block(p, DA_E_USABLE_SIZE, ~0u, SIZE_MAX, c, &b))
		return 0;
	return da_hdr_size((char *)p - DA_HDR);
}

int
da_audit_owns(const void *p)
{
	struct da_block b;
	const char *blk = (const char *)p - DA_HDR;
	return (uintptr_t)p >= DA_HDR && da_alloc_owns_any(blk, &b) &&
	       b.user == blk;
}

int
da_audit_ignore(const void *p)
{
	struct da_block b;
	char *blk = (char *)p - DA_HDR;
	if ((uintptr_t)p < DA_HDR || !da_alloc_owns(blk, &b) ||
	    !da_hdr_intact(blk))
		return 0;
	struct da_hdr_info i;
	da_hdr_unpack(blk, &i);
	if (i.site != DA_SITE_IGNORED && i.site != DA_SITE_INTERNAL)
		da_sitestats_ignored(i.site, i.size);
	da_hdr_write(blk, i.size, i.gen, DA_SITE_IGNORED, i.kind);
	return 1;
}

size_t
da_audit_trim(void)
{
	return da_alloc_trim();
}

void
da_audit_stats(struct da_alloc_stats *st)
{
	da_alloc_stats(st);
}

/* fork: the allocator's locks; the child resets them and the marks lock.
 * Whether other threads ran is noted in prepare (the child has one). */
static int fork_had_threads;

void
da_audit_fork_prepare(void)
{
	fork_had_threads = !__libc_single_threaded;
	da_heap_fork_prepare();
	da_guard_fork_prepare();
}

void
da_audit_fork_parent(void)
{
	da_guard_fork_parent();
	da_heap_fork_parent();
}

void
da_audit_fork_child(void)
{
	da_guard_fork_child();
	da_heap_fork_child();
	da_guarded_fork_child();
	da_acct_fork_child();
	da_sitestats_fork_child();
	da_steps_fork_child();
	da_timeline_fork_child();
	da_epochs_fork_child();
	da_gen_fork_child();
	da_report_fork_child();
	da_dump_fork_child();
	da_dumper_fork_child();
	da_leak_fork_child();
	da_audit_exit_check_forked(fork_had_threads);
}
