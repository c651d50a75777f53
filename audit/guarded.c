/*
 * audit/guarded.c — guarded blocks in audit (guarded.h).
 */
#include "audit/guarded.h"
#include "audit/dangling.h"
#include "audit/depot.h"
#include "audit/errors.h"
#include "audit/unwind.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct da_guarded_cfg da_guarded;

/* Where sampling goes when the kernel's map count runs short (mprotect
 * only): one block in this many. */
#define DA_GUARD_FALLBACK_PERIOD 1000

/* Frames of the faulting thread's stack in a report (errors.c's count). */
#define DA_GUARD_FAULT_FRAMES 32

/* Live sampled blocks per bucket of immediate callers (return addresses):
 * a sample whose bucket holds one passes on (guarded.h). */
#define COVER_BITS 10
static _Atomic(uint16_t) cover[1u << COVER_BITS];

/* The thread's samples passed on so far (0: none pending), and its id. */
static __thread unsigned passes;
static __thread uint32_t tid_cache;

static uint32_t
tid(void)
{
	if (tid_cache == 0)
		tid_cache = (uint32_t)syscall(SYS_gettid);
	return tid_cache;
}

static unsigned
bucket_of(uintptr_t ret)
{
	return (unsigned)((ret * UINT64_C(0x9e3779b97f4a7c15)) >>
	                  (64 - COVER_BITS));
}

int
da_guarded_configure(const struct da_settings *s)
{
	struct da_guardspec spec;
	if (da_guardspec_parse(s->guard, &spec) != 0 ||
	    spec.mode == DA_GUARD_MODE_OFF)
		return 0; /* the settings parser checked it already */
	struct da_guard_config g = {
	        .side = s->guard_page_side == DA_GUARD_SIDE_BEFORE
	                        ? DA_GUARD_BEFORE
	                        : DA_GUARD_AFTER,
	        .align = (size_t)1 << s->guard_align,
	        .header = DA_HDR,
	        .quarantine = (size_t)s->quarantine,
	        .force_mprotect = s->guard_mprotect == DA_GUARD_MPROTECT_ON,
	};
	if (da_guard_init(&g) != 0) {
		struct da_line l = {.len = 0};
		da_line_str(&l, "dbgalloc: DBGALLOC_GUARD: guard pages cannot "
		                "be set up here; blocks go unguarded");
		da_line_emit(&l);
		return -1;
	}
	da_guarded.mode = spec.mode;
	da_guarded.min = spec.min;
	da_guarded.max = spec.max;
	da_guarded.recover = s->guard_recover == DA_GUARD_RECOVER_ON;
	da_guarded.dangling =
	        s->dangling == DA_DANGLING_ON && da_dangling_configure() == 0;
	da_gen_sample(spec.mode == DA_GUARD_MODE_SAMPLE ? spec.period : 1,
	              s->guard_seed);
	return 0;
}

/* The kernel's map count is near its end (mprotect): sampling from now
 * on, said once. */
static void
fall_back_to_sampling(void)
{
	static _Atomic(int) said;
	if (atomic_exchange(&said, 1))
		return;
	da_gen_sample(DA_GUARD_FALLBACK_PERIOD, da_settings.guard_seed);
	da_guarded.mode = DA_GUARD_MODE_SAMPLE;
	struct da_line l = {.len = 0};
	da_line_str(&l, "dbgalloc: DBGALLOC_GUARD: the kernel's map count "
	                "(vm.max_map_count) is nearly used up; from now on "
	                "one block in ");
	da_line_count(&l, DA_GUARD_FALLBACK_PERIOD);
	da_line_str(&l, " is guarded");
	da_line_emit(&l);
}

/* 1 if this allocation is to be guarded; a sample may pass on instead. */
static int
wanted(size_t size, uint64_t gen, uintptr_t ret, unsigned *bucket)
{
	switch (da_guarded.mode) {
	case DA_GUARD_MODE_ALL:
		return 1;
	case DA_GUARD_MODE_SIZE:
		return size >= da_guarded.min && size <= da_guarded.max;
	case DA_GUARD_MODE_SAMPLE:
		break;
	default:
		return 0;
	}
	if (passes == 0 && !da_gen_sampled(gen))
		return 0;
	*bucket = bucket_of(ret);
	if (atomic_load_explicit(&cover[*bucket], memory_order_relaxed) != 0 &&
	    passes < DA_GUARD_PASS) {
		/* Looked at next: the next allocation, then 7, 63 and 511
		 * further on (a few slow paths per sample, and time for
		 * another caller to come). */
		da_gen_stop_after(((uint64_t)1 << (3 * passes)) - 1);
		passes++;
		return 0;
	}
	passes = 0;
	return 1;
}

/* The bytes after block p of size bytes that its canary's bytes fill: to
 * the first that faults, or (side before) to the end of the page where
 * the block ends. */
static size_t
slack_of(const char *p, uint64_t size)
{
	size_t usable = da_guard_usable(p);
	if (usable <= size)
		return 0;
	uintptr_t end = (uintptr_t)p + size;
	size_t to_page = (DA_PAGE - (end & (DA_PAGE - 1))) & (DA_PAGE - 1);
	size_t slack = usable - size;
	return slack < to_page ? slack : to_page;
}

static unsigned char
canary_byte(size_t i)
{
	uint64_t c = DA_CANARY;
	return ((const unsigned char *)&c)[i % sizeof(c)];
}

size_t
da_guarded_slack_damage(const void *p, uint64_t size)
{
	const unsigned char *t = (const unsigned char *)p + size;
	size_t n = slack_of(p, size);
	for (size_t i = 0; i < n; i++)
		if (t[i] != canary_byte(i))
			return size + i;
	return SIZE_MAX;
}

void *
da_guarded_alloc(size_t size, size_t align, unsigned kind, struct da_call c,
                 uint64_t gen, int zero)
{
	unsigned bucket = 0, why;
	if (!wanted(size, gen, c.ret, &bucket))
		return NULL;
	char *p = da_guard_alloc(size, align, &why);
	if (p == NULL) {
		if (why == DA_GUARD_MAPS)
			fall_back_to_sampling();
		return NULL;
	}
	int sampled = da_guarded.mode == DA_GUARD_MODE_SAMPLE;
	uint32_t site =
	        da_gen_tls.site_override != 0
	                ? da_gen_tls.site_override
	                : da_sitestats_capture(c.ret, c.fp, da_cfg.depth, size);
	_Atomic(uint64_t) *m = da_guard_meta(p);
	atomic_store_explicit(&m[DA_GM_SITE],
	                      site | (uint64_t)bucket << 32 |
	                              (sampled ? DA_GM_SAMPLED : 0),
	                      memory_order_relaxed);
	atomic_store_explicit(&m[DA_GM_GEN], gen, memory_order_relaxed);
	atomic_store_explicit(&m[DA_GM_FREE], 0, memory_order_relaxed);
	atomic_store_explicit(&m[DA_GM_THREADS], tid(), memory_order_relaxed);
	if (sampled)
		atomic_fetch_add_explicit(&cover[bucket], 1,
		                          memory_order_relaxed);
	/* Slots reused under mprotect, or without a quarantine, keep their
	 * old bytes; other pages read as zero and stay untouched. */
	if (zero && !da_guard_zeroed(p))
		memset(p, 0, size);
	size_t n = slack_of(p, size);
	for (size_t i = 0; i < n; i++)
		p[size + i] = (char)canary_byte(i);
	atomic_signal_fence(memory_order_seq_cst);
	da_hdr_write_words(p - DA_HDR, size, gen, site, kind);
	if (da_unlikely(da_gen_tls.work != 0))
		da_audit_work();
	return p;
}

void
da_guarded_note_free(void *p, struct da_call c)
{
	_Atomic(uint64_t) *m = da_guard_meta(p);
	if (m == NULL)
		return;
	uintptr_t pcs[DA_DEPOT_MAX_FRAMES];
	unsigned n = da_unwind(pcs, da_cfg.depth > 8 ? da_cfg.depth : 8, c.ret,
	                       c.fp);
	uint64_t w = atomic_load_explicit(&m[DA_GM_SITE], memory_order_relaxed);
	if (w & DA_GM_SAMPLED)
		atomic_fetch_sub_explicit(
		        &cover[(w >> 32) & ((1u << COVER_BITS) - 1)], 1,
		        memory_order_relaxed);
	atomic_store_explicit(&m[DA_GM_FREE], da_depot_put(pcs, n),
	                      memory_order_relaxed);
	uint64_t t =
	        atomic_load_explicit(&m[DA_GM_THREADS], memory_order_relaxed);
	atomic_store_explicit(&m[DA_GM_THREADS],
	                      (t & UINT32_MAX) | (uint64_t)tid() << 32,
	                      memory_order_relaxed);
}

/* The block a lookup named, described in e from its slot's words. */
static void
describe_hit(struct da_err *e, const struct da_guard_hit *hit)
{
	e->have_info = 1;
	e->info.size = hit->size;
	e->info.gen = hit->meta[DA_GM_GEN];
	e->info.site = (uint32_t)hit->meta[DA_GM_SITE];
	e->alloc_tid = (uint32_t)hit->meta[DA_GM_THREADS];
	if (hit->freed) {
		e->free_site = (uint32_t)hit->meta[DA_GM_FREE];
		e->free_tid = (uint32_t)(hit->meta[DA_GM_THREADS] >> 32);
	}
}

void
da_guarded_freed_info(struct da_err *e, const void *p)
{
	struct da_guard_hit hit;
	if (da_guard_lookup(p, &hit) && hit.freed && hit.block == p)
		describe_hit(e, &hit);
}

/* The headline's first words for hit: the kind of error and the access. */
static void
headline(struct da_line *l, const struct da_guard_hit *hit, const void *addr,
         int write)
{
	const char *kind =
	        hit->block == NULL             ? "guard-page-access"
	        : hit->where == DA_GUARD_BELOW ? "heap-buffer-underflow"
	        : hit->where == DA_GUARD_ABOVE ? "heap-buffer-overflow"
	                                       : "use-after-free";
	da_line_str(l, "dbgalloc: ");
	da_line_str(l, kind);
	da_line_str(l, write > 0    ? ": write at "
	               : write == 0 ? ": read at "
	                            : ": access at ");
	da_line_hex(l, (unsigned long)(uintptr_t)addr);
}

int
da_guarded_fault(const void *addr, int write, uintptr_t pc, uintptr_t fp)
{
	struct da_guard_hit hit;
	if (da_guarded.mode == DA_GUARD_MODE_OFF ||
	    !da_guard_lookup(addr, &hit))
		return 0;
	struct da_err e;
	memset(&e, 0, sizeof(e));
	uintptr_t pcs[DA_GUARD_FAULT_FRAMES];
	e.frames = pcs;
	e.nframes = da_unwind_fault(pcs, DA_GUARD_FAULT_FRAMES, pc, fp);
	headline(&e.head, &hit, addr, write);
	if (hit.block == NULL) {
		da_line_str(&e.head, ", in guard-page space next to no block");
	} else {
		uintptr_t a = (uintptr_t)addr, b = (uintptr_t)hit.block;
		if (hit.where == DA_GUARD_BELOW) {
			da_line_str(&e.head, ", ");
			da_line_count(&e.head, b - a);
			da_line_str(&e.head, b - a == 1 ? " byte before "
			                                : " bytes before ");
		} else if (hit.where == DA_GUARD_ABOVE) {
			size_t past = a - (b + hit.size) + 1;
			da_line_str(&e.head, ", ");
			da_line_count(&e.head, past);
			da_line_str(&e.head,
			            past == 1 ? " byte past the end of "
			                      : " bytes past the end of ");
		} else {
			da_line_str(&e.head, ", byte ");
			da_line_count(&e.head, a - b);
			da_line_str(&e.head, " of ");
		}
		da_line_hex(&e.head, (unsigned long)b);
		describe_hit(&e, &hit);
		da_err_block(&e, hit.size);
		if (hit.freed)
			da_line_str(&e.head, ", freed");
	}
	da_err_write(&e);
	if (da_guarded.recover && da_guard_recover(addr) == 0) {
		struct da_line l = {.len = 0};
		da_line_str(&l, "dbgalloc: DBGALLOC_GUARD_RECOVER: the page is "
		                "open now and the program goes on");
		da_line_emit(&l);
		return 2;
	}
	return 1;
}

void
da_guarded_fork_child(void)
{
	tid_cache = 0;
}
