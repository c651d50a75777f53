/*
 * alloc/chunk.c — chunks: mapping them, handing out runs of units for
 * slabs and large blocks, taking them back, purging what stays free.
 *
 * Free units stay committed ("dirty") so that the next slab reuses warm
 * pages; once the retained memory passes the budget (config.h), all dirty
 * units are purged with madvise, and every chunk whose units are all free
 * but one is unmapped, so a program that frees its memory gives it back.
 */
#include "alloc/chunk.h"
#include "alloc/large.h"
#include "alloc/os.h"
#include "alloc/pagemap.h"
#include "alloc/pages.h"

#include <string.h>

struct da_lock da_chunk_lock = DA_LOCK_INIT;
struct da_chunk *da_chunks;
struct da_huge *da_huges;
size_t da_units_in_use;
size_t da_huge_live_bytes;
size_t da_huge_cached_bytes;
size_t da_huge_live_blocks;
size_t da_huge_peak_blocks, da_huge_peak_bytes;
size_t da_dirty_bytes;
size_t da_peak_in_use;
static uint64_t last_purge_ms;

#define ALL_UNITS (~(uint64_t)1) /* unit 0 is the metadata */

static struct da_chunk *
chunk_new(void)
{
	struct da_chunk *ch = da_os_map_aligned(DA_CHUNK_SIZE, DA_CHUNK_SIZE);
	if (ch == NULL)
		return NULL;
	/* Fresh mappings read as zeros: slab_of[] and slabs[] are all 0. */
	ch->region.kind = DA_REGION_CHUNK;
	ch->free_units = ALL_UNITS;
	da_pagemap_set(ch, DA_CHUNK_SIZE, DA_PM_CHUNK);
	ch->next = da_chunks;
	if (da_chunks != NULL)
		da_chunks->prev = ch;
	da_chunks = ch;
	return ch;
}

/* Unmaps chunk ch, unless a lookup may be reading it (then it stays, and
 * a later purge tries again). 1 if it did. */
static int
chunk_unmap(struct da_chunk *ch)
{
	if (!da_pagemap_retire(ch, DA_CHUNK_SIZE, DA_PM_CHUNK))
		return 0;
	if (ch->prev != NULL)
		ch->prev->next = ch->next;
	else
		da_chunks = ch->next;
	if (ch->next != NULL)
		ch->next->prev = ch->prev;
	da_os_unmap(ch, DA_CHUNK_SIZE);
	return 1;
}

/* Bit u of the result is set when units u .. u+n-1 are all in mask. */
static uint64_t
runs_of(uint64_t mask, unsigned n)
{
	uint64_t m = mask;
	for (unsigned i = 1; i < n && m; i++)
		m &= mask >> i;
	return m;
}

static uint64_t
run_mask(unsigned first, unsigned n)
{
	uint64_t m = n >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1);
	return m << first;
}

struct da_slab *
da_chunk_take_units(unsigned units, int *zeroed)
{
	if (!da_lock_take(&da_chunk_lock))
		return NULL;
	da_chunk_drain_deferred_locked();
	da_chunk_retain_check_locked();
	struct da_chunk *pick = NULL;
	unsigned first = 0;
	/* Prefer a run of warm (dirty) units, then any run, then a new
	 * chunk. */
	for (struct da_chunk *ch = da_chunks; ch != NULL; ch = ch->next) {
		uint64_t warm =
		        runs_of(ch->free_units & ch->dirty_units, units);
		if (warm) {
			pick = ch;
			first = (unsigned)__builtin_ctzll(warm);
			break;
		}
		if (pick == NULL) {
			uint64_t any = runs_of(ch->free_units, units);
			if (any) {
				pick = ch;
				first = (unsigned)__builtin_ctzll(any);
			}
		}
	}
	if (pick == NULL) {
		pick = chunk_new();
		first = 1;
	}
	if (pick == NULL) {
		da_lock_release(&da_chunk_lock);
		return NULL;
	}
	uint64_t run = run_mask(first, units);
	da_assert(first >= 1 && first + units <= DA_UNITS);
	da_assert((pick->free_units & run) == run);
	uint64_t dirty = pick->dirty_units & run;
	*zeroed = dirty == 0;
	da_dirty_bytes -= (size_t)__builtin_popcountll(dirty) * DA_UNIT_SIZE;
	pick->free_units &= ~run;
	pick->dirty_units &= ~run;
	pick->units_used += units;
	da_units_in_use += units;
	da_chunk_retain_budget_locked(); /* records a new peak */
	/* Cleared under the lock: a walk (which holds it) sees the slab
	 * with kind DA_SLAB_NONE until its owner publishes it. */
	struct da_slab *s = &pick->slabs[first];
	memset(s, 0, sizeof(*s));
	s->units = (uint8_t)units;
	s->first_unit = (uint8_t)first;
	s->area = (char *)pick + (size_t)first * DA_UNIT_SIZE;
	for (unsigned u = first; u < first + units; u++)
		pick->slab_of[u] = (uint8_t)first;
	da_lock_release(&da_chunk_lock);
	return s;
}

/* Locking: caller holds da_chunk_lock. */
static void
give_units_locked(struct da_slab *s)
{
	struct da_chunk *ch = da_slab_chunk(s);
	unsigned first = s->first_unit, units = s->units;
	uint64_t run = run_mask(first, units);
	da_assert(first >= 1 && first + units <= DA_UNITS);
	da_assert((ch->free_units & run) == 0); /* not given back twice */
	s->kind = DA_SLAB_NONE;
	s->area_size = 0; /* the free fast path never matches it now */
	for (unsigned u = first; u < first + units; u++)
		ch->slab_of[u] = 0;
	ch->free_units |= run;
	ch->dirty_units |= run;
	ch->units_used -= units;
	da_units_in_use -= units;
	da_dirty_bytes += (size_t)units * DA_UNIT_SIZE;
}

/* Frees that found the lock out of reach (a signal handler's, while its
 * thread held it): the next holder finishes them. */
static _Atomic(struct da_slab *) deferred_slabs;

void
da_chunk_give_units(struct da_slab *s)
{
	if (!da_lock_take(&da_chunk_lock)) {
		struct da_slab *head = atomic_load_explicit(
		        &deferred_slabs, memory_order_relaxed);
		do
			s->qnext = head;
		while (!atomic_compare_exchange_weak_explicit(
		        &deferred_slabs, &head, s, memory_order_release,
		        memory_order_relaxed));
		return;
	}
	give_units_locked(s);
	da_chunk_drain_deferred_locked();
	da_chunk_retain_check_locked();
	da_lock_release(&da_chunk_lock);
}

void
da_chunk_drain_deferred_locked(void)
{
	if (atomic_load_explicit(&deferred_slabs, memory_order_relaxed)) {
		struct da_slab *s = atomic_exchange_explicit(
		        &deferred_slabs, NULL, memory_order_acquire);
		while (s != NULL) {
			struct da_slab *next = s->qnext;
			give_units_locked(s);
			s = next;
		}
	}
	da_huge_drain_deferred_locked();
	da_pages_drain_deferred_locked();
}

size_t
da_chunk_retain_budget_locked(void)
{
	size_t in_use = da_units_in_use * DA_UNIT_SIZE + da_pages_in_use +
	                da_huge_live_bytes;
	if (in_use > da_peak_in_use)
		da_peak_in_use = in_use;
	return da_peak_in_use - in_use + DA_RETAIN_FLOOR;
}

void
da_chunk_retain_check_locked(void)
{
	size_t retained = da_dirty_bytes + da_huge_cached_bytes;
	if (retained == 0) {
		last_purge_ms = 0; /* the clock starts with the next */
		return;
	}
	uint64_t now = da_os_now_ms();
	if (last_purge_ms == 0)
		last_purge_ms = now; /* the decay clock starts now */
	if (now - last_purge_ms >= DA_RETAIN_DECAY_MS) {
		/* Decayed: everything goes back. */
		da_chunk_purge_dirty_locked(SIZE_MAX);
		da_huge_cache_drop_locked();
		last_purge_ms = now;
		return;
	}
	size_t budget = da_chunk_retain_budget_locked();
	if (retained <= budget)
		return;
	/* Over the budget: give back the excess and an eighth of the budget
	 * more (so the next few frees do not purge again), keeping the rest
	 * warm for reuse; cached huge blocks first if they alone exceed. */
	if (da_huge_cached_bytes > budget)
		da_huge_cache_drop_locked();
	retained = da_dirty_bytes + da_huge_cached_bytes;
	if (retained > budget)
		da_chunk_purge_dirty_locked(retained - budget + budget / 8);
}

void
da_chunk_decay(void)
{
	if (da_dirty_bytes + da_huge_cached_bytes == 0 &&
	    atomic_load_explicit(&deferred_slabs, memory_order_relaxed) == NULL)
		return; /* racy peek: the next call sees the change */
	if (!da_lock_try(&da_chunk_lock))
		return;
	da_chunk_drain_deferred_locked();
	da_chunk_retain_check_locked();
	da_lock_release(&da_chunk_lock);
}

size_t
da_chunk_purge_dirty_locked(size_t want)
{
	struct da_chunk *next;
	int kept_empty = 0;
	size_t given = 0;
	for (struct da_chunk *ch = da_chunks; ch != NULL && given < want;
	     ch = next) {
		next = ch->next;
		size_t dirty = (size_t)__builtin_popcountll(ch->dirty_units) *
		               DA_UNIT_SIZE;
		if (want == SIZE_MAX && ch->units_used == 0 &&
		    kept_empty++ > 0 && chunk_unmap(ch)) {
			da_dirty_bytes -= dirty;
			given += dirty;
			continue;
		}
		uint64_t d = ch->dirty_units;
		while (d && given < want) {
			unsigned u = (unsigned)__builtin_ctzll(d);
			unsigned n = (unsigned)__builtin_ctzll(~(d >> u));
			if (u + n > 64)
				n = 64 - u;
			da_os_purge((char *)ch + (size_t)u * DA_UNIT_SIZE,
			            (size_t)n * DA_UNIT_SIZE);
			d &= ~run_mask(u, n);
			ch->dirty_units &= ~run_mask(u, n);
			da_dirty_bytes -= (size_t)n * DA_UNIT_SIZE;
			given += (size_t)n * DA_UNIT_SIZE;
		}
	}
	if (given < want)
		given += da_pages_purge_locked(want == SIZE_MAX ? SIZE_MAX
		                                                : want - given);
	return given;
}

size_t
da_chunk_trim(void)
{
	if (!da_lock_take(&da_chunk_lock))
		return 0;
	da_chunk_drain_deferred_locked();
	size_t given = da_dirty_bytes;
	da_chunk_purge_dirty_locked(SIZE_MAX);
	da_lock_release(&da_chunk_lock);
	return given;
}
