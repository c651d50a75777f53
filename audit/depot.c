/*
 * audit/depot.c — insertion into the stack depot, and its queries.
 *
 * Records are cut from the arena by a bump pointer advanced with a CAS
 * (a record never straddles two chunks; the tail of a chunk too short for
 * the next record is skipped). A chunk is mapped by the first thread that
 * needs it and installed with a CAS; a thread that loses the race unmaps
 * its copy. A record is linked at the head of its chain with a CAS; a
 * thread that loses that race looks through the records that were linked
 * meanwhile, and if one holds the same stack, gives its own record back
 * (when it is still the last one cut) and returns that id instead. So two
 * threads inserting the same stack agree on one id without a lock.
 */
#include "audit/depot.h"
#include "alloc/os.h"

#include <stdatomic.h>

_Atomic(uint32_t) da_depot_buckets[DA_DEPOT_BUCKETS];
_Atomic(char *) da_depot_chunks[DA_DEPOT_CHUNKS];

#define CHUNK_BYTES ((size_t)1 << DA_DEPOT_CHUNK_SHIFT)

/* Next free unit of the arena. Unit 0 is never used: id 0 means none. */
static _Atomic(uint64_t) top = 1;
/* The ceiling on top, in units. */
static _Atomic(uint64_t) limit_units = DA_DEPOT_LIMIT / 8;
static _Atomic(uint32_t) stored;
static _Atomic(size_t) chunks_mapped;

/* The chunk that holds unit u, mapped if need be; NULL if the kernel
 * refuses. */
static char *
chunk_get(uint64_t u)
{
	_Atomic(char *) *slot = &da_depot_chunks[u / DA_DEPOT_CHUNK_UNITS];
	char *c = atomic_load_explicit(slot, memory_order_acquire);
	if (c != NULL)
		return c;
	char *fresh = da_os_map(CHUNK_BYTES);
	if (fresh == NULL)
		return NULL;
	if (atomic_compare_exchange_strong_explicit(slot, &c, fresh,
	                                            memory_order_acq_rel,
	                                            memory_order_acquire)) {
		atomic_fetch_add_explicit(&chunks_mapped, 1,
		                          memory_order_relaxed);
		return fresh;
	}
	da_os_unmap(fresh, CHUNK_BYTES);
	return c;
}

/* Cuts a record for n frames; its id, or 0 when the depot is full. */
static uint32_t
rec_cut(unsigned n)
{
	uint64_t units = 1 + (uint64_t)n;
	uint64_t cur = atomic_load_explicit(&top, memory_order_relaxed);
	uint64_t start;
	for (;;) {
		start = cur;
		if (start % DA_DEPOT_CHUNK_UNITS + units > DA_DEPOT_CHUNK_UNITS)
			start = (start / DA_DEPOT_CHUNK_UNITS + 1) *
			        DA_DEPOT_CHUNK_UNITS;
		if (start + units >
		    atomic_load_explicit(&limit_units, memory_order_relaxed))
			return 0;
		if (atomic_compare_exchange_weak_explicit(
		            &top, &cur, start + units, memory_order_relaxed,
		            memory_order_relaxed))
			break;
	}
	if (chunk_get(start) == NULL)
		return 0;
	return (uint32_t)start;
}

/* Gives back the record id of n frames if nothing was cut after it. */
static void
rec_uncut(uint32_t id, unsigned n)
{
	uint64_t end = (uint64_t)id + 1 + n;
	atomic_compare_exchange_strong_explicit(
	        &top, &end, id, memory_order_relaxed, memory_order_relaxed);
}

/* The id of the stack in the chain from id down to (not including) stop,
 * or 0. */
static uint32_t
chain_find(uint32_t id, uint32_t stop, uint32_t key, const uintptr_t *pcs,
           unsigned n)
{
	while (id != 0 && id != stop) {
		const struct da_depot_rec *r = da_depot_rec(id);
		if (r->key == key && da_depot_same(r->pcs, pcs, n))
			return id;
		id = atomic_load_explicit(&r->next, memory_order_acquire);
	}
	return 0;
}

/* No room for pcs[0..n): its first frame alone, else the empty stack. */
static uint32_t
depot_full(const uintptr_t *pcs, unsigned n)
{
	if (n > 1)
		return da_depot_put(pcs, 1);
	return DA_DEPOT_OVERFLOW;
}

uint32_t
da_depot_insert(const uintptr_t *pcs, unsigned n, uint64_t h)
{
	_Atomic(uint32_t) *bucket = da_depot_bucket(h);
	uint32_t key = da_depot_key(h, n);
	uint32_t head = atomic_load_explicit(bucket, memory_order_acquire);
	uint32_t id = chain_find(head, 0, key, pcs, n);
	if (id != 0)
		return id;
	id = rec_cut(n);
	if (id == 0)
		return depot_full(pcs, n);
	struct da_depot_rec *r = da_depot_rec(id);
	r->key = key;
	for (unsigned i = 0; i < n; i++)
		r->pcs[i] = pcs[i];
	for (;;) {
		uint32_t seen = head;
		atomic_store_explicit(&r->next, head, memory_order_relaxed);
		if (atomic_compare_exchange_weak_explicit(bucket, &head, id,
		                                          memory_order_release,
		                                          memory_order_acquire))
			break;
		/* Someone linked records in front of seen: ours among them? */
		uint32_t other = chain_find(head, seen, key, pcs, n);
		if (other != 0) {
			rec_uncut(id, n);
			return other;
		}
	}
	atomic_fetch_add_explicit(&stored, 1, memory_order_relaxed);
	return id;
}

unsigned
da_depot_get(uint32_t id, const uintptr_t **pcs)
{
	if (id == 0 || id == DA_DEPOT_OVERFLOW ||
	    id >= atomic_load_explicit(&top, memory_order_acquire))
		return 0;
	if (atomic_load_explicit(&da_depot_chunks[id / DA_DEPOT_CHUNK_UNITS],
	                         memory_order_acquire) == NULL)
		return 0;
	/* Not every unit starts a record: check that one does, and that it
	 * holds what its key says (a stray id fails the hash). */
	const struct da_depot_rec *r = da_depot_rec(id);
	unsigned n = r->key & 0xff;
	if (n == 0 || n > DA_DEPOT_MAX_FRAMES ||
	    id % DA_DEPOT_CHUNK_UNITS + 1 + n > DA_DEPOT_CHUNK_UNITS)
		return 0;
	if (da_depot_key(da_depot_hash(r->pcs, n), n) != r->key)
		return 0;
	*pcs = r->pcs;
	return n;
}

uint32_t
da_depot_count(void)
{
	return atomic_load_explicit(&stored, memory_order_relaxed);
}

size_t
da_depot_bytes(void)
{
	return sizeof(da_depot_buckets) +
	       atomic_load_explicit(&chunks_mapped, memory_order_relaxed) *
	               CHUNK_BYTES;
}

size_t
da_depot_set_limit(size_t bytes)
{
	if (bytes > DA_DEPOT_LIMIT)
		bytes = DA_DEPOT_LIMIT;
	uint64_t old = atomic_exchange_explicit(&limit_units, bytes / 8,
	                                        memory_order_relaxed);
	return (size_t)old * 8;
}
