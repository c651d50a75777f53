/*
 * audit/depot.h — the stack depot: every distinct call stack stored once,
 * named by a 32-bit id that a block header can hold.
 *
 * Stacks live in records cut from an arena of 1 MiB chunks mapped as the
 * depot grows, never freed, never moved; a record's id is its offset in
 * the arena in 8-byte units, so an id leads to its record in O(1) and the
 * frames it names stay valid for the life of the process. A hash table of
 * DA_DEPOT_BUCKETS chains finds a stack's record.
 *
 *   record (8-byte aligned, 8 + 8n bytes):
 *   +--------------+--------------------------+---------+-----+-----------+
 *   | next (32)    | key: hash bits 8..31 | n | pcs[0]  | ... | pcs[n-1]  |
 *   +--------------+--------------------------+---------+-----+-----------+
 *   next: id of the next record in the same bucket, 0 at the end.
 *
 *   id -> chunk = da_depot_chunks[id >> 17], record = chunk + (id & 0x1ffff) * 8
 *
 * Invariants: a record is written whole before a release CAS on its bucket
 * publishes it, and never changes after (a reader that got its id by an
 * acquire load sees all of it); chains only grow at their head. Nothing
 * takes a lock and nothing calls malloc: lookups and insertions are
 * async-signal-safe, and a fork at any point leaves the child a usable
 * depot (at worst an unpublished record or chunk is lost).
 *
 * Bounded memory: records stop at DA_DEPOT_LIMIT bytes (256 MiB: 16 million
 * one-frame stacks, 3.7 million of 8 frames; far above the distinct
 * allocation stacks of the largest programs, yet a bound a runaway capture
 * cannot pass). The bucket table is 1 MiB of zero pages committed as
 * buckets fill. When the records are full, a stack that does not fit is
 * stored as its first frame alone if that fits (so the id still names the
 * allocating function; distinct stacks with the same first frame then
 * share an id), else it gets DA_DEPOT_OVERFLOW, whose stack is empty.
 */
#ifndef DA_AUDIT_DEPOT_H
#define DA_AUDIT_DEPOT_H

#include "alloc/config.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define DA_DEPOT_MAX_FRAMES 64
/* The id of the empty stack: the depot was full (or no frame was given). */
#define DA_DEPOT_OVERFLOW 0xffffffffu

#define DA_DEPOT_LIMIT       ((size_t)256 << 20)
#define DA_DEPOT_CHUNK_SHIFT 20 /* 1 MiB chunks */
#define DA_DEPOT_CHUNK_UNITS ((uint32_t)1 << (DA_DEPOT_CHUNK_SHIFT - 3))
#define DA_DEPOT_CHUNKS      (DA_DEPOT_LIMIT >> DA_DEPOT_CHUNK_SHIFT)
#define DA_DEPOT_BUCKETS_LOG 18
#define DA_DEPOT_BUCKETS     ((size_t)1 << DA_DEPOT_BUCKETS_LOG)

struct da_depot_rec {
	_Atomic(uint32_t) next;
	uint32_t key;
	uintptr_t pcs[];
};

extern _Atomic(uint32_t) da_depot_buckets[DA_DEPOT_BUCKETS] DA_HIDDEN;
extern _Atomic(char *) da_depot_chunks[DA_DEPOT_CHUNKS] DA_HIDDEN;

/*
 * Stores the stack pcs[0..n) once and returns its id. Equal stacks get equal
 * ids. Never returns 0 (0 means "no stack"). Frames past
 * DA_DEPOT_MAX_FRAMES are dropped; n == 0 gives DA_DEPOT_OVERFLOW.
 * Async-signal-safe. May allocate: no (mmap only). Takes no lock.
 */
static inline uint32_t da_depot_put(const uintptr_t *pcs, unsigned n);

/* The frames of id: returns their count and sets *pcs (stable memory, valid
 * for the life of the process); 0 for an unknown id, 0 or
 * DA_DEPOT_OVERFLOW (and *pcs is then left alone). */
unsigned da_depot_get(uint32_t id, const uintptr_t **pcs);

/* Stacks stored, and bytes of memory the depot has mapped (bucket table
 * and record chunks; resident memory is at most this). */
uint32_t da_depot_count(void);
size_t da_depot_bytes(void);

/* Lowers (or restores) the ceiling on record bytes, at most DA_DEPOT_LIMIT;
 * returns the previous ceiling. Stacks stored stay. For tests, and for an
 * option that bounds the depot. */
size_t da_depot_set_limit(size_t bytes);

/* The slow half of da_depot_put: pcs (1 <= n <= DA_DEPOT_MAX_FRAMES, hash h)
 * was not found in its chain; look again and insert it. */
uint32_t da_depot_insert(const uintptr_t *pcs, unsigned n, uint64_t h);

/*
 * The hash of a stack: each frame, offset by its position, is mixed on its
 * own (a multiply and a fold of the high half into the low) and the mixes
 * are summed, so the frames' multiplies overlap instead of waiting on each
 * other. The bucket comes from the top bits, the key's 24 check bits from
 * the low ones.
 */
DA_INLINE uint64_t
da_depot_hash(const uintptr_t *pcs, unsigned n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull * n;
	for (unsigned i = 0; i < n; i++) {
		uint64_t x = (pcs[i] + i * 0x9e3779b97f4a7c15ull) *
		             0xbf58476d1ce4e5b9ull;
		h += x ^ (x >> 31);
	}
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 29);
}

DA_INLINE uint32_t
da_depot_key(uint64_t h, unsigned n)
{
	return ((uint32_t)h & ~(uint32_t)0xff) | n;
}

DA_INLINE _Atomic(uint32_t) *
da_depot_bucket(uint64_t h)
{
	return &da_depot_buckets[h >> (64 - DA_DEPOT_BUCKETS_LOG)];
}

/* The record of a published id (not 0, not DA_DEPOT_OVERFLOW). Its chunk
 * was installed before the record was published, so a relaxed load sees
 * it (the acquire that gave us the id orders it). */
DA_INLINE struct da_depot_rec *
da_depot_rec(uint32_t id)
{
	char *chunk = atomic_load_explicit(
	        &da_depot_chunks[id / DA_DEPOT_CHUNK_UNITS],
	        memory_order_relaxed);
	return (struct da_depot_rec *)(chunk +
	                               (size_t)(id % DA_DEPOT_CHUNK_UNITS) * 8);
}

DA_INLINE int
da_depot_same(const uintptr_t *a, const uintptr_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/*
 * The common case, a stack stored already, inline: the hash, one bucket
 * load, one key compare and the frames' compare per record in the chain
 * (bench/unwind-cost: about 55 instructions and 3 ns for one frame, 170
 * and 10 ns for eight). Only a stack not found calls out.
 */
static inline uint32_t
da_depot_put(const uintptr_t *pcs, unsigned n)
{
	if (da_unlikely(n == 0))
		return DA_DEPOT_OVERFLOW;
	if (da_unlikely(n > DA_DEPOT_MAX_FRAMES))
		n = DA_DEPOT_MAX_FRAMES;
	uint64_t h = da_depot_hash(pcs, n);
	uint32_t key = da_depot_key(h, n);
	uint32_t id =
	        atomic_load_explicit(da_depot_bucket(h), memory_order_acquire);
	while (id != 0) {
		const struct da_depot_rec *r = da_depot_rec(id);
		if (r->key == key && da_depot_same(r->pcs, pcs, n))
			return id;
		id = atomic_load_explicit(&r->next, memory_order_acquire);
	}
	return da_depot_insert(pcs, n, h);
}

#endif /* DA_AUDIT_DEPOT_H */
