/*
 * audit/sitestats.h — what each call site allocated, how many of its
 * blocks were temporary, and samples of its blocks' lifetimes: the
 * counters behind the dump's X records.
 *
 * The inline functions here are the only pieces that run on the fast
 * paths (audit.h), each a few instructions into memory the path touches
 * already:
 *
 *   allocation   da_sitestats_count_slot: two adds (blocks, bytes) into
 *                the thread's call-site cache slot (site.h) the fast path
 *                has just indexed; no atomic, no shared cache line
 *   free         da_sitestats_temporary: one subtraction and one compare
 *                of the block's generation with the thread's next number;
 *                a temporary block is counted (da_sitestats_count_temporary:
 *                one compare and an add for the same site as the thread's
 *                last temporary block, a call otherwise) and the free
 *                goes on
 *   sampling     da_poison_sampled (header.h): the blocks the free path
 *                poisons whole, one in DA_POISON_SAMPLE by generation,
 *                leave the fast path already; of those, the blocks whose
 *                allocation time was noted (da_life_stamped, one in
 *                DA_LIFE_STAMP) are the samples of lifetimes
 *
 * The rest is out of line (sitestats.c). A slot's counts go to the call
 * site's totals (a table indexed by depot id, updated with atomic adds,
 * never locked) when another return address takes the slot, when the
 * thread exits, and after fork in the child for the threads that are
 * gone; the dump adds what live threads hold, with them stopped. Counts
 * that leave the fast path (other stack depths, temporaries) go to a
 * second per-thread cache keyed by call-site id, handed over the same
 * way. So nothing is lost, and each count is exact at a dump but for the
 * allocations and frees under way in threads stopped in the middle of
 * one.
 *
 * Frees per site are not counted: they are the allocations less the
 * blocks live at the dump (and those dbgalloc_ignore'd).
 */
#ifndef DA_AUDIT_SITESTATS_H
#define DA_AUDIT_SITESTATS_H

#include "audit/gen.h"
#include "audit/header.h"
#include "audit/site.h"

#include <stdint.h>
#include <string.h>

/* Buckets of the lifetime histograms: bucket k >= 1 holds lifetimes in
 * [2^(k-1), 2^k), bucket 0 lifetimes of 0 (doc/dump-format.md). */
#define DA_LIFE_BUCKETS 48

/* Counts an allocation of size bytes from the call site in slot k of the
 * thread's cache (site.h), which the caller found holding its return
 * address. Two adds. */
DA_INLINE void
da_sitestats_count_slot(unsigned k, uint64_t size)
{
	da_site_tls.allocs[k]++;
	da_site_tls.bytes[k] += size;
}

/*
 * 1 if the block blk (its header whole) being freed is temporary: freed
 * with at most DBGALLOC_TEMPORARY allocations of this thread after its
 * own. Its generation's low 32 bits (word 1 of the header) against the
 * thread's next number: a block the thread allocated last is one behind.
 * A thread's numbers are consecutive within its batches, so this is exact
 * in a program with one thread (but for blocks 2^32 allocations apart);
 * under threads a block freed across a batch boundary of its thread may be
 * missed, and another thread's block numbered just before this thread's
 * next number taken for one.
 */
DA_INLINE int
da_sitestats_temporary(const char *blk)
{
	return da_unlikely((uint32_t)da_gen_tls.next - da_hdr_gen_lo(blk) <=
	                   da_gen_tls.temporary_limit);
}

/* --- Out of line. --- */

/* The id of the call site of an allocation of size bytes whose entry
 * point's return address and frame are ret and fp, depth frames deep, as
 * da_site_capture gives it; counts the allocation. For the slow paths. */
uint32_t da_sitestats_capture_slow(uintptr_t ret, uintptr_t fp, unsigned depth,
                                   uint64_t size);

DA_INLINE uint32_t
da_sitestats_capture(uintptr_t ret, uintptr_t fp, unsigned depth, uint64_t size)
{
	if (da_likely(depth == 1)) {
		unsigned k = da_site_slot(ret);
		if (da_likely(da_site_tls.pc[k] == ret)) {
			uint32_t id = da_site_tls.id[k];
			atomic_signal_fence(memory_order_seq_cst);
			if (da_likely(da_site_tls.pc[k] == ret)) {
				da_sitestats_count_slot(k, size);
				return id;
			}
		}
	}
	return da_sitestats_capture_slow(ret, fp, depth, size);
}

/* Slot k of the calling thread's cache is being taken by another return
 * address: its counts go to its call site's totals, and restart at 0. */
void da_sitestats_evict_slot(unsigned k);

/* Whether the calling thread may keep counts in its slots: 0 once it has
 * exited (its counts then go straight to the totals). */
int da_sitestats_thread_live(void);

/* The temporary block blk, of another call site than the thread's last
 * temporary one: that one's count goes to the second cache, and blk's
 * site becomes the thread's last. */
void da_sitestats_temporary_hit(const char *blk);

/* Counts the block blk being freed, which passed da_sitestats_temporary:
 * one compare and one add when it comes from the same call site as the
 * thread's last temporary block. */
DA_INLINE void
da_sitestats_count_temporary(const char *blk)
{
	if (da_likely(da_site_tls.tmp_site == da_hdr_site(blk)))
		da_site_tls.tmp_count++;
	else
		da_sitestats_temporary_hit(blk);
}

/*
 * The free of the live block blk (header whole, not yet changed; usable
 * bytes bsize from blk) as the statistics see it: counts it temporary if
 * it is one, and if its generation is sampled (da_life_stamped), adds its
 * lifetimes to its call site's histograms. For every release that the
 * fast path does not finish.
 */
void da_sitestats_freed(const char *blk, size_t bsize);

/* The live block blk of size bytes, generation gen, is one whose
 * allocation time is noted (da_life_stamped): notes it after its canary
 * if the block has room (bsize usable bytes from blk; 0: look it up). */
void da_sitestats_stamp(char *blk, uint64_t size, uint64_t gen, size_t bsize);

/* dbgalloc_ignore of a live block of call site site, size bytes: not
 * counted as freed when it leaves its site. */
void da_sitestats_ignored(uint32_t site, uint64_t size);

/* What one call site has done, as the dump reads it. */
struct da_sitestats_row {
	uint32_t site;
	uint64_t allocs, bytes, temporary;
	uint64_t ignored, ignored_bytes;
	const uint64_t *life_allocs; /* DA_LIFE_BUCKETS, or NULL: no sample */
	const uint64_t *life_us;     /* the same, or NULL */
};

/*
 * Calls fn for every count the process holds: the totals, then each
 * registered thread's slots and cache (a site may come several times:
 * the caller adds). Every other thread must be stopped, with
 * da_sitestats_lock held (taken before stopping them).
 */
void da_sitestats_each(void (*fn)(const struct da_sitestats_row *r, void *arg),
                       void *arg);
void da_sitestats_lock(void);
void da_sitestats_unlock(void);

/* The histograms' memory and the tables, in bytes (metadata). */
size_t da_sitestats_bytes(void);

/* Thread exit (from the accounting's, acct.c), and fork's child: the
 * counts of the threads that are gone go to the totals. */
void da_sitestats_thread_exit(void);
void da_sitestats_fork_child(void);

#endif /* DA_AUDIT_SITESTATS_H */
