/*
 * alloc/guard.h — blocks with a guard page: a third source of blocks, next
 * to the size classes and the large blocks, that audit chooses per
 * allocation (DBGALLOC_GUARD). Each block has a slot of its own: k data
 * pages and one inaccessible guard page, after the data (overflows fault)
 * or before it (underflows fault). Freed blocks' data pages are closed
 * (inaccessible) and kept so in a quarantine of bounded bytes, so a use
 * after free faults too; the oldest leave it first.
 *
 * Layout of a slot (4096-byte pages; H = the header room of the config,
 * A = the alignment):
 *
 *   side = after:
 *      base                                    base + k pages
 *      |<------------ k data pages ------------>|<-- guard page -->|
 *      | (never touched) ...  | hdr  |  block   |xxxxxxxxxxxxxxxxxx|
 *                             ^      ^          ^
 *                  block - H ─┘      block      block + size rounded up
 *                                               to A: the guard page
 *      block = (guard - size) rounded down to A. With A = 1 the block's
 *      last byte is the byte before the guard page: one byte more faults.
 *
 *   side = before:
 *      base        base + 1 page
 *      |<-- guard page -->|<------------ k data pages ------------>|
 *      |xxxxxxxxxxxxxxxxxx| hdr  |  block   | (slack, accessible)  |
 *                         ^      ^
 *                         |      block = (data + H) rounded up to A
 *                         data: the header lies at its start, so one
 *                         byte before the header faults
 *      The next slot's guard page (or the span's inaccessible tail)
 *      follows the data pages: a run past the slack faults there.
 *
 * k is the fewest pages that hold H + size at that alignment, rounded up
 * to a slot size class (exact to 8 pages, then 4 sizes per doubling): the
 * pages a class adds lie on the far side of the block and are never
 * touched, so they cost address space only. The header room is part of
 * the data pages: audit's 16-byte header sits in front of the block, in
 * the same page. Alignments above a page move the block off the guard
 * (side after) or off the header (side before) by what alignment needs.
 *
 * Slots are carved once (guardspace.h) and recycled: each slot size has a
 * list of open slots (data pages accessible, ready) and a FIFO of closed
 * ones (pushed out of the quarantine, or never opened under mprotect);
 * closed ones are opened DA_GUARD_BATCH at a time (one process_madvise).
 * A guard page is installed once, when its slot is carved, and stays.
 *
 * What a block costs in system calls (madvise guard regions): its free
 * closes its data pages (one madvise, which zaps them: they read as zero
 * once reopened); reopening is a share of one batched call, and so is
 * faulting in the one page the next block is sure to be written in (the
 * page beside the guard, or the header's): a share of a second batched
 * call instead of a page fault at the first write. Under mprotect: one
 * mprotect at free and one when the slot is handed out again.
 *
 * Everything a block's report needs lives out of line, in its slot's
 * record (guardspace.h): block, size, state, and DA_GUARD_META words that
 * audit fills (call site, generation, free pc, thread), so a quarantined
 * block, whose pages can no longer be read, can still be described.
 *
 * Locking: one lock per slot size (taken in da_guard_alloc, and in
 * da_guard_free when the quarantine pushes a slot out), the quarantine's
 * lock, and the region lock for carving (taken under a slot size's lock).
 * Lookups, da_guard_owns, da_guard_block, da_guard_meta and the walk take
 * none. Nothing here calls malloc, stdio or getenv; memory comes from
 * os.h. Every function preserves errno.
 */
#ifndef DA_ALLOC_GUARD_H
#define DA_ALLOC_GUARD_H

#include "alloc/alloc.h"
#include "alloc/guardprot.h"
#include "alloc/guardspace.h"

#include <stddef.h>
#include <stdint.h>

enum da_guard_side {
	DA_GUARD_AFTER = 0,  /* the guard page follows the block */
	DA_GUARD_BEFORE = 1, /* the guard page precedes the block's header */
};

struct da_guard_config {
	unsigned side;      /* enum da_guard_side */
	size_t align;       /* blocks' alignment: a power of two, 1..DA_PAGE */
	size_t header;      /* bytes kept in front of each block, <= 1024 */
	size_t quarantine;  /* data-page bytes freed blocks keep closed;
	                       0: freed blocks' pages stay open and their
	                       slots are reused at once (no system call) */
	int force_mprotect; /* 1: mprotect even where madvise guards exist */
};

/*
 * Sets the guard allocator up (the mechanism is probed here: see
 * guardprot.h). Returns 0, EINVAL for a config outside the ranges above,
 * or EBUSY when it was set up already (once per process; a fork child
 * keeps its parent's). Not thread-safe: call it at start-up.
 */
int da_guard_init(const struct da_guard_config *cfg);

/* The config in force (zero before da_guard_init). */
extern struct da_guard_config da_guard_cfg;

/* Why da_guard_alloc returned NULL. */
enum da_guard_refusal {
	DA_GUARD_OK = 0,
	DA_GUARD_OFF,     /* da_guard_init was not called */
	DA_GUARD_TOO_BIG, /* more than DA_GUARD_MAX_SIZE */
	DA_GUARD_MAPS,    /* mprotect: the map-count ceiling is reached */
	DA_GUARD_SPACE,   /* no address space, slot numbers or metadata */
	DA_GUARD_BUSY,    /* a lock out of reach: a signal handler nested in
	                     this thread's guard slow path */
};

/* Largest block: 4 GiB less header and alignment room. */
#define DA_GUARD_MAX_PAGES ((size_t)1 << 20)

/*
 * A block of size bytes (0 allowed) at a multiple of align (the config's
 * alignment if larger; one that is not a power of two is rounded up to
 * one, as memalign does), laid out as above; its
 * header room is free for the caller. NULL with the reason in *why: the
 * caller then takes the block from elsewhere (and, for DA_GUARD_MAPS,
 * says once that guarding goes on sampled). The slot's meta words are
 * zero. Locking: takes its slot size's lock (and the region lock).
 */
void *da_guard_alloc(size_t size, size_t align, unsigned *why);

static inline void *
da_guard_malloc(size_t size)
{
	unsigned why;
	return da_guard_alloc(size, 0, &why);
}

/* 1 if p lies in guard-page space (a block's pointer or any other byte):
 * one load. Async-signal-safe. */
static inline int
da_guard_owns(const void *p)
{
	return da_pagemap_kind(p) == DA_PM_GUARD;
}

/*
 * Frees the block whose pointer is p (da_guard_owns(p)): its data pages
 * are closed and it enters the quarantine, pushing the oldest out while
 * the quarantine holds more than its bytes. Returns DA_FREE_OK, or
 * DA_FREE_DOUBLE (p is a freed block's pointer, its slot not reused
 * since), DA_FREE_INTERIOR (inside a live block), DA_FREE_UNUSED
 * (anything else); nothing changes then. Racing frees of one block: one
 * wins, the others get DA_FREE_DOUBLE.
 */
int da_guard_free(void *p);

/* 1 if p is a live block's pointer: *b describes it (start = p - header,
 * user = p, size = da_guard_usable(p), state DA_LIVE). Lock-free. */
int da_guard_block(const void *p, struct da_block *b);

/* 1 if p lies in a block of a slot's data pages, the header room in front
 * of it included: *b describes it (start = block - header, user = start,
 * size = header + usable bytes for a live block or header + its size for
 * a freed one, state DA_LIVE or DA_FREED). One lookup: what alloc.h's
 * da_alloc_lookup asks of guarded blocks. Lock-free. */
int da_guard_extent(const void *p, struct da_block *b);

/*
 * The bytes from live block p to the first byte that faults: to the guard
 * page (side after: size plus what alignment left, 0 more with align 1),
 * or to the end of the data pages (side before: the slack, which a caller
 * may prefer to check with a canary instead of reporting it). 0 if p is
 * not a live block's pointer.
 */
size_t da_guard_usable(const void *p);

/* 1 if live block p's data pages held nothing before it (fresh, or
 * taken away by madvise at the last free): its bytes read as zero until
 * written, and calloc need not clear them. Lock-free. */
int da_guard_zeroed(const void *p);

/* The meta words of live block p's slot (DA_GUARD_META of them, for the
 * caller to fill when it hands the block out and before it frees it), or
 * NULL if p is not a live block's pointer. Lock-free. */
_Atomic(uint64_t) *da_guard_meta(const void *p);

/* A slot's states, as lookups report them. */
enum da_guard_state {
	DA_GUARD_UNUSED = 0, /* no block: never handed out, or reopened */
	DA_GUARD_LIVE = 1,
	DA_GUARD_QUARANTINED = 2, /* freed, pages closed, in the quarantine */
	DA_GUARD_FREED = 3,       /* freed, pushed out of the quarantine, its
	                             pages closed until the slot is reused */
	DA_GUARD_TAKEN = 4,       /* being handed out (no block yet) */
};

/* Where an address lies relative to the block a lookup names. */
enum da_guard_where {
	DA_GUARD_IN = 0,    /* inside the block */
	DA_GUARD_BELOW = 1, /* before its first byte (header, guard page) */
	DA_GUARD_ABOVE = 2, /* at or after its end */
};

/* What da_guard_lookup found for an address. */
struct da_guard_hit {
	uint32_t slot;    /* the slot of the block named, or DA_GUARD_NIL */
	unsigned state;   /* enum da_guard_state of that slot */
	unsigned where;   /* enum da_guard_where */
	int in_guard;     /* the address is in a guard page (or a span's
	                      inaccessible tail), not in data pages */
	int freed;        /* the block was freed (QUARANTINED or FREED):
	                      any access to its data pages faults */
	char *block;      /* the block, NULL when no block is near */
	size_t size;      /* its size as asked */
	ptrdiff_t offset; /* address - block */
	uint64_t meta[DA_GUARD_META]; /* its slot's meta words */
};

/*
 * For a fault address (or any address): 0 if it is not in guard-page
 * space; else 1 with *hit naming the block it concerns. In a slot's data
 * pages that is the slot's own block; in a guard page (or a tail) the
 * nearer of the blocks on either side that have one (a block with side
 * after below it overflowed, one above it underflowed), the block below
 * on a tie. A slot without a block gives hit->block NULL. Lock-free and
 * async-signal-safe: it reads metadata only (the answer may be stale
 * while another thread reuses the slot, never out of bounds).
 */
int da_guard_lookup(const void *addr, struct da_guard_hit *hit);

/*
 * After a fault at addr in guard-page space, for a program that is to go
 * on: opens the page holding addr (a guard page or a closed data page) and
 * retires its slot, which is never handed out again (its pages stay as
 * they are). Returns 0, or -1 if addr is not in guard-page space or the
 * kernel refused. Lock-free and async-signal-safe.
 */
int da_guard_recover(const void *addr);

/*
 * Calls fn for every live block (described as by da_guard_block), stopping
 * when fn returns non-zero (returned). Lock-free: safe while the world is
 * stopped; a block handed out or freed during the walk may be seen or not.
 */
int da_guard_walk(int (*fn)(const struct da_block *b, void *arg), void *arg);

struct da_guard_stats {
	unsigned mech;           /* enum da_guard_mech */
	size_t slots;            /* carved */
	size_t live, live_bytes; /* blocks handed out, their sizes */
	size_t quarantined;      /* blocks in the quarantine ... */
	size_t quarantine_bytes; /* ... and their data pages' bytes */
	size_t freed_closed;     /* pushed out, still closed */
	size_t guard_bytes;      /* guard pages (one per slot) */
	size_t reserved;         /* address space reserved */
	size_t maps, max_maps;   /* mappings we may have made (mprotect:
	                             counted; madvise: reservations and
	                             metadata), and vm.max_map_count */
	size_t map_ceiling;      /* ours may not pass this (mprotect) */
	uint64_t refused;        /* allocations refused (any reason) */
	uint64_t syscalls;       /* protection changes asked of the kernel */
	uint64_t stranded;       /* slots lost to a lock out of reach */
};

/* Counters (lock-free; each exact, together a moment's picture). */
void da_guard_stats(struct da_guard_stats *st);

/*
 * fork: prepare takes every guard lock (slot sizes in order, then the
 * quarantine, then the region), after the other allocator locks; parent
 * releases them; child resets them and forgets a pidfd of its parent's.
 */
void da_guard_fork_prepare(void);
void da_guard_fork_parent(void);
void da_guard_fork_child(void);

/*
 * Blocks pushed out of the quarantine, for a caller that looks for the
 * pointers still aiming into them before their slots are reused (audit's
 * DBGALLOC_DANGLING): each is noted, with its slot's meta words, in a ring
 * of DA_GUARD_EVICT_RING entries as it leaves (before its slot can be
 * handed out again), and taken from there. A block that finds the ring
 * full is counted as missed instead. Nothing is noted until
 * da_guard_note_evictions(1).
 */
#define DA_GUARD_EVICT_RING 1024

struct da_guard_evicted {
	uintptr_t block;              /* its pointer */
	size_t size;                  /* its size as asked */
	uint32_t slot;                /* its slot's number */
	uint64_t meta[DA_GUARD_META]; /* its slot's meta words as it left */
};

/* From now on (on: 1) or no longer (0), notes the blocks pushed out of
 * the quarantine. Returns 0, or ENOMEM when the ring could not be mapped.
 * The first call with 1 is not thread-safe: make it at start-up. */
int da_guard_note_evictions(int on);

/* How many noted blocks wait to be taken (some may still be being
 * noted): two loads. Lock-free. */
size_t da_guard_evicted_waiting(void);

/* Takes up to max noted blocks into out, oldest first; returns how many.
 * *missed (unless NULL) gets the blocks not noted since the last call
 * (the ring was full). Lock-free; any thread; async-signal-safe. */
size_t da_guard_take_evicted(struct da_guard_evicted *out, size_t max,
                             uint64_t *missed);

#endif /* DA_ALLOC_GUARD_H */
