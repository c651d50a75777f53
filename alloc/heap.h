/*
 * alloc/heap.h — per-thread heaps: the lock-free common path.
 *
 * Each thread owns one heap; a heap owns slabs, at most one "current" slab
 * per size class to allocate from, the others on a partial list (has free
 * blocks) or a full list. The owner allocates and frees its slabs' blocks
 * with no lock and no atomic operation. Another thread that frees a block
 * pushes it on the slab's thread_free stack (one CAS).
 *
 * Remote frees and the owner (the protocol of thread_free). The word is a
 * block pointer (16-aligned) with three flags in its low bits:
 *   DA_TF_ARMED   the owner wants to hear of the next remote free: the
 *                 slab is on one of its lists, not current;
 *   DA_TF_QUEUED  the slab is on its owner's remote queue (or about to be);
 *   DA_TF_NOTIFY  a freer is queueing it right now.
 * A freer's CAS that finds ARMED swaps it for NOTIFY|QUEUED, pushes the
 * slab on its owner's queue, then clears NOTIFY: only in that window does a
 * freer touch the slab after its CAS. Any other remote free touches
 * nothing after the CAS (the block it published may be collected, the slab
 * emptied and released at once). The owner drains its queue at its slow
 * paths and in its periodic work (da_heap_tick: the caller runs it every
 * few hundred allocations), collects the queued slabs, and
 * releases those that are now empty; it releases a slab only when neither
 * NOTIFY nor QUEUED is set. So a slab emptied by other threads' frees goes
 * back to the chunks, whoever emptied it.
 *
 * A full slab goes back to the partial list only once an eighth of it is
 * free again (unfull_at): otherwise a slab with one free block becomes
 * current, runs out at once, and the owner pays a slow path per malloc.
 *
 * A thread that exits abandons its slabs: they lose their owner and wait on
 * a global list until a heap needing that class adopts them. A heap's
 * struct is never unmapped, only reused, so a racing remote free never
 * touches unmapped memory.
 *
 * Before its first allocation a thread's heap is da_heap_empty, whose
 * current slabs are all da_slab_empty (no free blocks): the fast path needs
 * no "initialised?" test, it simply falls into the slow path.
 *
 * Signal handlers allocate (PITFALLS 4). While a thread works on its heap,
 * its da_tls_heap is da_heap_busy, another heap with no blocks and no
 * slabs: a handler that interrupts it and calls malloc lands in the slow
 * path, which serves it from the locked fallback heap, and a free from the
 * handler owns no slab, so it takes the remote path (one CAS). The
 * interrupted operation never sees its lists change under it. Compiler
 * fences (atomic_signal_fence) keep the marker around the list updates.
 */
#ifndef DA_ALLOC_HEAP_H
#define DA_ALLOC_HEAP_H

#include "alloc/chunk.h"
#include "alloc/sizeclass.h"

struct da_slab_list {
	struct da_slab *head;
};

struct da_heap {
	/* The number of the thread that has the heap, from 1 in the order
	 * threads first allocate (0: the fallback heap). */
	uint32_t thread;
	struct da_slab *cur[DA_NCLASSES];
	struct da_slab_list partial[DA_NCLASSES];
	struct da_slab_list full[DA_NCLASSES];
	_Atomic(struct da_slab *) remote; /* slabs queued by remote frees */
	atomic_int trim_wanted;           /* malloc_trim in another thread */
	struct da_heap *next_heap;        /* every heap, live or spare */
	int live;                         /* has a thread */
	/* Blocks handed out per class since the start, by every thread that
	 * had this heap: only its owner adds (plain adds), anyone may read
	 * (da_heap_class_allocs). Never reset, so that what exited threads
	 * (and a fork parent's other threads) counted stays counted. */
	uint64_t allocs[DA_NCLASSES];
};

#define DA_TF_ARMED  ((uintptr_t)1)
#define DA_TF_QUEUED ((uintptr_t)2)
#define DA_TF_NOTIFY ((uintptr_t)4)
#define DA_TF_FLAGS  ((uintptr_t)15)

extern __thread struct da_heap *da_tls_heap;
extern struct da_heap da_heap_empty;
extern struct da_heap da_heap_busy;

/* DA_HEAP_CLOSED in remote: the heap has no thread; queue nothing. */
#define DA_HEAP_CLOSED ((struct da_slab *)1)

/* Called with da_tls_heap == &da_heap_busy and h the heap it was; puts h
 * (or the heap it attached) back before returning. */
void *da_heap_malloc_slow(struct da_heap *h, size_t size, unsigned *prev);
/* Owner's bookkeeping after a free made s empty or hit a full slab.
 * Called with da_tls_heap == &da_heap_busy; sets it back to h. */
void da_heap_owner_freed(struct da_heap *h, struct da_slab *s);
/* Another thread's free of block p of s. */
void da_slab_free_remote(struct da_slab *s, void *p);
/* The owner's periodic work (the remote queue, trim requests, the decay of
 * retained memory); called with da_tls_heap == h, every few hundred
 * allocations of the thread (audit runs it at each batch of allocation
 * numbers: the fast path counts nothing for it). */
void da_heap_tick(struct da_heap *h);

/*
 * What a block was before da_heap_malloc handed it out (*prev): never
 * handed out, or freed (its contents are what its last free left there).
 * DA_PREV_BAD_LINK is added when the free-list link in the block's first
 * word did not point into its slab: something wrote over the freed block,
 * and the rest of that free list is dropped rather than followed.
 * Above bit 2, a class block's *prev holds its block size (so the caller
 * need not look its class up again).
 */
enum da_prev {
	DA_PREV_NEW = 0,
	DA_PREV_FREED = 1,
	DA_PREV_BAD_LINK = 2,
	DA_PREV_FLAGS = 7,
};
#define DA_PREV_BSIZE(prev) ((size_t)(prev) >> 3)

/* A block's link, or NULL (and *prev gains DA_PREV_BAD_LINK) when it does
 * not point into s: one compare of the common path. */
DA_INLINE void *
da_slab_next(const struct da_slab *s, void *b, unsigned *prev)
{
	void *next = *(void **)b;
	if (da_unlikely((uintptr_t)next - (uintptr_t)s->area >= s->area_size &&
	                next != NULL)) {
		*prev |= DA_PREV_BAD_LINK;
		return NULL;
	}
	return next;
}

/* Counts a block of class c handed out by h (its owner, or the holder of
 * the fallback heap's lock): one add to a word only the owner writes.
 * Statistics (the dump's K records) read the sums; frees are not counted
 * (allocations less the blocks live now). */
DA_INLINE void
da_heap_count_alloc(struct da_heap *h, unsigned c)
{
	h->allocs[c]++;
}

/*
 * da_heap_malloc's fast path alone: a block from the thread's current slab
 * of the class, or NULL with nothing changed when that slab has none (then
 * da_heap_malloc takes the slow path). About 20 instructions, no lock, no
 * atomic, no call: a caller whose other exits are tail calls needs no
 * callee-saved register for it.
 */
DA_INLINE void *
da_heap_pop(size_t size, unsigned *prev)
{
	struct da_heap *h = da_tls_heap;
	da_tls_heap = &da_heap_busy;
	atomic_signal_fence(memory_order_seq_cst);
	unsigned c = da_class_of(size);
	struct da_slab *s = h->cur[c];
	void *b = s->free;
	if (da_likely(b != NULL)) {
		da_heap_count_alloc(h, c);
		uint8_t *live = da_slab_live(s, b);
		*prev = (unsigned)(*live == DA_FREED) | s->bsize << 3;
		s->free = da_slab_next(s, b, prev);
		s->used++;
		*live = DA_LIVE;
	}
	atomic_signal_fence(memory_order_seq_cst);
	da_tls_heap = h;
	return b;
}

/* A block for size <= DA_MEDIUM_MAX, or NULL when out of memory; *prev
 * says what it was (enum da_prev). */
DA_INLINE void *
da_heap_malloc(size_t size, unsigned *prev)
{
	void *b = da_heap_pop(size, prev);
	if (da_likely(b != NULL))
		return b;
	struct da_heap *h = da_tls_heap;
	da_tls_heap = &da_heap_busy;
	atomic_signal_fence(memory_order_seq_cst);
	return da_heap_malloc_slow(h, size, prev);
}

/* 1 if the calling thread's heap owns slab s: da_heap_free_owned may
 * return its blocks. */
DA_INLINE int
da_heap_owns(const struct da_slab *s)
{
	return atomic_load_explicit(&s->owner, memory_order_relaxed) ==
	       da_tls_heap;
}

/* Returns block p (checked: the start of a live block, whose live-map byte
 * is *live) of class slab s, which the calling thread's heap owns, marking
 * it freed as state (DA_FREED, or DA_FREED_ALIGNED). Its only call, when
 * the slab turns unfull, is its last act (a tail call). */
DA_INLINE void
da_heap_free_owned_as(struct da_slab *s, uint8_t *live, void *p, uint8_t state)
{
	*live = state;
	struct da_heap *h = da_tls_heap;
	da_tls_heap = &da_heap_busy;
	atomic_signal_fence(memory_order_seq_cst);
	*(void **)p = s->free;
	s->free = p;
	if (da_unlikely(--s->used <= s->unfull_at)) {
		da_heap_owner_freed(h, s); /* puts h back itself */
		return;
	}
	atomic_signal_fence(memory_order_seq_cst);
	da_tls_heap = h;
}

DA_INLINE void
da_heap_free_owned(struct da_slab *s, uint8_t *live, void *p)
{
	da_heap_free_owned_as(s, live, p, DA_FREED);
}

/*
 * Returns block p of class slab s (p already checked: the start of a live
 * block, whose live-map byte is *live), marking it freed as state
 * (DA_FREED, or DA_FREED_ALIGNED).
 */
DA_INLINE void
da_heap_free_block_as(struct da_slab *s, uint8_t *live, void *p, uint8_t state)
{
	if (da_likely(da_heap_owns(s))) {
		da_heap_free_owned_as(s, live, p, state);
		return;
	}
	*live = state;
	da_slab_free_remote(s, p);
}

DA_INLINE void
da_heap_free_block(struct da_slab *s, uint8_t *live, void *p)
{
	da_heap_free_block_as(s, live, p, DA_FREED);
}

/* Thread exit: give the calling thread's slabs up. */
void da_heap_thread_exit(void);

/* fork: prepare takes every allocator lock (order in heap.c), parent
 * releases them, child resets them and abandons the other threads' heaps. */
void da_heap_fork_prepare(void);
void da_heap_fork_parent(void);
void da_heap_fork_child(void);

/* Number of heaps with a live thread (tests). */
unsigned da_heap_live_count(void);

/* Adds to out[c] the blocks of class c every heap has handed out (the
 * exited threads' heaps and the fallback heap included). Locking: takes
 * the heaps lock (held already for fork, or by a walk under stop: see
 * lock.h on taking it again). */
void da_heap_class_allocs(uint64_t out[DA_NCLASSES]);

/*
 * Gives back what the heaps hold empty: every empty slab of the calling
 * thread's heap and of exited threads' slabs. Other threads' heaps are
 * their owners' alone: they are asked to do the same at their next tick or
 * slow path. Returns the bytes given back to the chunks.
 * Locking: takes the abandon lock.
 */
size_t da_heap_trim(void);

/* Releases exited threads' slabs that other threads' frees have emptied.
 * Locking: takes the abandon lock (only if free: it is periodic work). */
void da_heap_trim_abandoned(void);

#endif /* DA_ALLOC_HEAP_H */
