/*
 * alloc/guardspace.c — reservations, spans and the slot table behind
 * guardspace.h. Writers are serialised by the caller; readers take no
 * lock: every record is filled before the count or page-map byte that
 * makes it visible is stored (release), and readers load those first
 * (acquire).
 */
#include "alloc/guardspace.h"
#include "alloc/config.h"
#include "alloc/guardprot.h"
#include "alloc/os.h"

#include <errno.h>
#include "alloc/pagemap.h"

#define RES_FIRST ((size_t)1 << 30)  /* the first reservation: 1 GiB */
#define RES_MAX   ((size_t)64 << 30) /* they double up to 64 GiB */
#define NRES      64

#define CHUNK_SHIFT 14 /* slot records per table chunk: 16384, 1 MiB */
#define CHUNK_SLOTS ((uint32_t)1 << CHUNK_SHIFT)
#define NCHUNKS     (DA_GUARD_MAX_SLOTS / CHUNK_SLOTS)

/* Per granule of a reservation: the span that covers it. */
struct gran {
	uint32_t first;  /* the span's first slot */
	uint32_t nslots; /* 0: not carved yet */
	uint32_t slot_pages;
	uint32_t lead; /* the granule (of this reservation) it starts at */
};

struct res {
	uintptr_t base;
	size_t size;
	size_t used; /* bytes cut into spans, from the front */
	struct gran *gran;
};

static struct res res[NRES];
static _Atomic(unsigned) nres;
static size_t next_res_size = RES_FIRST;
static size_t reserved;

static struct da_guard_slot *_Atomic chunks[NCHUNKS];
static _Atomic(uint32_t) nslots;

struct da_guard_slot *
da_guardspace_slot(uint32_t n)
{
	if (n >= atomic_load_explicit(&nslots, memory_order_acquire))
		return NULL;
	struct da_guard_slot *c = atomic_load_explicit(
	        &chunks[n >> CHUNK_SHIFT], memory_order_acquire);
	return c + (n & (CHUNK_SLOTS - 1));
}

uint32_t
da_guardspace_nslots(void)
{
	return atomic_load_explicit(&nslots, memory_order_acquire);
}

int
da_guardspace_find(uintptr_t a, struct da_guard_span *sp)
{
	if (da_pagemap_kind((const void *)a) != DA_PM_GUARD)
		return 0;
	unsigned n = atomic_load_explicit(&nres, memory_order_acquire);
	for (unsigned i = 0; i < n; i++) {
		const struct res *r = &res[i];
		if (a - r->base >= r->size)
			continue;
		size_t g = (a - r->base) >> DA_CHUNK_SHIFT;
		const struct gran *e = &r->gran[g];
		uint32_t count = __atomic_load_n(&e->nslots, __ATOMIC_ACQUIRE);
		if (count == 0)
			return 0;
		sp->base = r->base + ((size_t)e->lead << DA_CHUNK_SHIFT);
		sp->slot_bytes = (size_t)e->slot_pages * DA_PAGE;
		sp->first = e->first;
		sp->nslots = count;
		size_t bytes = count * sp->slot_bytes;
		sp->end = sp->base + ((bytes + DA_CHUNK_MASK) & ~DA_CHUNK_MASK);
		return a < sp->end;
	}
	return 0;
}

/* A reservation with at least need bytes free: the last one, or a new
 * one (twice the size of the one before, up to RES_MAX; at least need).
 * NULL if the kernel refuses. */
static struct res *
reservation(size_t need)
{
	unsigned n = atomic_load_explicit(&nres, memory_order_relaxed);
	if (n > 0 && res[n - 1].size - res[n - 1].used >= need)
		return &res[n - 1];
	if (n == NRES)
		return NULL;
	size_t size = next_res_size > need ? next_res_size : need;
	void *base = NULL;
	/* Under a limit of address space (RLIMIT_AS), settle for less. */
	for (;;) {
		base = da_os_reserve_noreserve(size, DA_CHUNK_SIZE);
		if (base != NULL || size == need)
			break;
		size = size / 2 > need ? size / 2 : need;
	}
	if (base == NULL)
		return NULL;
	size_t ngran = size >> DA_CHUNK_SHIFT;
	size_t meta = (ngran * sizeof(struct gran) + DA_PAGE - 1) &
	              ~(size_t)(DA_PAGE - 1);
	struct gran *g = da_os_map(meta);
	if (g == NULL) {
		da_os_unmap(base, size);
		return NULL;
	}
	struct res *r = &res[n];
	r->base = (uintptr_t)base;
	r->size = size;
	r->used = 0;
	r->gran = g;
	reserved += size;
	if (next_res_size < RES_MAX)
		next_res_size *= 2;
	atomic_store_explicit(&nres, n + 1, memory_order_release);
	return r;
}

/* Maps the table chunks that slots [first, first+count) need. */
static int
table_grow(uint32_t first, uint32_t count)
{
	for (uint32_t c = first >> CHUNK_SHIFT;
	     c <= (first + count - 1) >> CHUNK_SHIFT; c++) {
		if (atomic_load_explicit(&chunks[c], memory_order_relaxed))
			continue;
		struct da_guard_slot *t =
		        da_os_map(CHUNK_SLOTS * sizeof(struct da_guard_slot));
		if (t == NULL)
			return 0;
		atomic_store_explicit(&chunks[c], t, memory_order_release);
	}
	return 1;
}

/* Under madvise guard regions: installs each slot's guard page and a
 * guard over the tail, DA_GUARD_BATCH ranges per call. */
static int
guards_install(const struct da_guard_span *sp, int guard_first)
{
	struct da_guard_range r[DA_GUARD_BATCH];
	unsigned n = 0;
	uintptr_t tail = sp->base + sp->nslots * sp->slot_bytes;
	for (uint32_t i = 0; i <= sp->nslots; i++) {
		if (i < sp->nslots) {
			uintptr_t s = sp->base + i * sp->slot_bytes;
			r[n].p = (void *)(guard_first ? s
			                              : s + sp->slot_bytes -
			                                        DA_PAGE);
			r[n].len = DA_PAGE;
			n++;
		} else if (tail < sp->end) {
			r[n].p = (void *)tail;
			r[n].len = sp->end - tail;
			n++;
		}
		if (n == DA_GUARD_BATCH || (i == sp->nslots && n > 0)) {
			if (da_guardprot_close_many(r, n) != 0)
				return 0;
			n = 0;
		}
	}
	return 1;
}

int
da_guardspace_carve(size_t slot_pages, int guard_first, unsigned cls,
                    struct da_guard_span *sp)
{
	size_t slot_bytes = slot_pages * DA_PAGE;
	size_t span_bytes = (slot_bytes + DA_CHUNK_MASK) & ~DA_CHUNK_MASK;
	uint32_t count = slot_bytes <= DA_CHUNK_SIZE
	                         ? (uint32_t)(DA_CHUNK_SIZE / slot_bytes)
	                         : 1;
	uint32_t first = atomic_load_explicit(&nslots, memory_order_relaxed);
	if (count > DA_GUARD_MAX_SLOTS - first)
		return ENOMEM;
	struct res *r = reservation(span_bytes);
	if (r == NULL || !table_grow(first, count))
		return ENOMEM;
	sp->base = r->base + r->used;
	sp->end = sp->base + span_bytes;
	sp->slot_bytes = slot_bytes;
	sp->first = first;
	sp->nslots = count;
	if (da_guardprot_prepare((void *)sp->base, span_bytes) != 0 ||
	    (da_guardprot_mech == DA_GUARD_MECH_MADVISE &&
	     !guards_install(sp, guard_first)))
		return ENOMEM; /* the span is not used: carved again later */
	r->used += span_bytes;
	for (uint32_t i = 0; i < count; i++) {
		struct da_guard_slot *s =
		        &chunks[(first + i) >> CHUNK_SHIFT]
		               [(first + i) & (CHUNK_SLOTS - 1)];
		s->base = sp->base + i * slot_bytes;
		s->cls = (uint8_t)cls;
		s->dirty = 0; /* never written */
		s->next = DA_GUARD_NIL;
		atomic_store_explicit(&s->state, 0, memory_order_relaxed);
	}
	size_t lead = (sp->base - r->base) >> DA_CHUNK_SHIFT;
	for (size_t g = lead; g < lead + (span_bytes >> DA_CHUNK_SHIFT); g++) {
		struct gran *e = &r->gran[g];
		e->first = first;
		e->slot_pages = (uint32_t)slot_pages;
		e->lead = (uint32_t)lead;
		__atomic_store_n(&e->nslots, count, __ATOMIC_RELEASE);
	}
	atomic_store_explicit(&nslots, first + count, memory_order_release);
	da_pagemap_mark((void *)sp->base, span_bytes, DA_PM_GUARD);
	return 0;
}

size_t
da_guardspace_reserved(unsigned *n)
{
	*n = atomic_load_explicit(&nres, memory_order_relaxed);
	return reserved;
}
