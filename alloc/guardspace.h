/*
 * alloc/guardspace.h — the address space of guard-page slots, and the slot
 * table that describes them out of line.
 *
 * Space is reserved (PROT_NONE, MAP_NORESERVE) in reservations of 1 GiB,
 * doubling to 64 GiB, and cut from the front into spans: a span serves
 * one slot size. A slot of k data pages and its guard page is
 * slot_bytes = (k + 1) * 4096; a span is one 4 MiB page-map granule holding
 * 4 MiB / slot_bytes slots, or, for a slot larger than a granule, the
 * granules that hold exactly one. What a span has left over after its last
 * slot (its tail) is inaccessible like a guard page.
 *
 *   reservation: | span (granule) | span (granule) | span (3 granules) | ...
 *   span:        | slot | slot | ... | slot | tail |
 *
 * Every granule of a span is marked DA_PM_GUARD in the page map and has an
 * entry (in the reservation's own table, in metadata memory) naming the
 * span: so any address leads to its slot with a few loads and a division,
 * lock-free, from a signal handler too. Slots are numbered in the order
 * they are carved; the number indexes the slot table (chunks of 16384
 * records, mapped as needed). Nothing here is ever unmapped: a slot, once
 * carved, keeps its address and its number for the life of the process.
 */
#ifndef DA_ALLOC_GUARDSPACE_H
#define DA_ALLOC_GUARDSPACE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define DA_GUARD_NIL       UINT32_MAX
#define DA_GUARD_MAX_SLOTS ((uint32_t)1 << 24)

/* The words of a slot that belong to the caller of guard.h (audit): what
 * it needs to describe a block whose pages can no longer be read. */
#define DA_GUARD_META 4

/*
 * One slot's record, 64 bytes. base, cls and the meta words are read
 * without a lock (lookups from a signal handler): base and cls never
 * change once the slot is published, state is written last (release) when
 * a block is handed out, so a reader that sees DA_GUARD_LIVE (acquire)
 * sees its block and size — or, if the slot is reused meanwhile, a newer
 * block's: an answer may be stale, never out of bounds.
 */
struct da_guard_slot {
	_Atomic(uint64_t) meta[DA_GUARD_META];
	uintptr_t base;           /* the slot's first byte */
	_Atomic(uintptr_t) block; /* the block handed out (while it has one) */
	_Atomic(size_t) size;     /* its size as asked */
	uint32_t next;            /* list link (guard.c), DA_GUARD_NIL */
	_Atomic(uint8_t) state;   /* enum da_guard_state (guard.h) */
	uint8_t cls;              /* slot size class (guard.c) */
	_Atomic(uint8_t) retired; /* a page of it was opened after a fault
	                             (da_guard_recover): never reused */
	uint8_t dirty;            /* its data pages may hold an earlier
	                             block's bytes (guard.c: da_guard_zeroed) */
};

/* A span as lookups see it. */
struct da_guard_span {
	uintptr_t base;    /* its first slot */
	uintptr_t end;     /* its end (tail included) */
	size_t slot_bytes; /* data pages and guard page */
	uint32_t first;    /* number of its first slot */
	uint32_t nslots;
};

/* The slot numbered n, or NULL if there is none. Lock-free. */
struct da_guard_slot *da_guardspace_slot(uint32_t n);

/* Slots carved so far (numbers 0 .. n-1). Lock-free. */
uint32_t da_guardspace_nslots(void);

/* The span containing address a, in *sp: 1, or 0 if a is in none.
 * Lock-free, async-signal-safe. */
int da_guardspace_find(uintptr_t a, struct da_guard_span *sp);

/*
 * Carves a span of slots of slot_pages pages each (data pages and the
 * guard page: the first page of each slot if guard_first, else the last)
 * and numbers them; each slot's record gets its base, class cls, state 0
 * and no link. Under madvise guard regions the span becomes read-write
 * with every guard page and the tail guarded (its data pages open);
 * under mprotect everything stays inaccessible (data pages closed).
 * Returns 0 with the span in *sp, or ENOMEM (no address space, slot
 * numbers or metadata left; or the kernel refused). Locking: the caller
 * serialises carves (guard.c's region lock).
 */
int da_guardspace_carve(size_t slot_pages, int guard_first, unsigned cls,
                        struct da_guard_span *sp);

/* Bytes of address space reserved, and the reservations made. */
size_t da_guardspace_reserved(unsigned *nres);

#endif /* DA_ALLOC_GUARDSPACE_H */
