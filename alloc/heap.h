/*
 * alloc/heap.h — per-thread heaps: the lock-free common path.
 *
 * Each thread owns one heap; a heap owns slabs, at most one "current" slab
 * per size class to allocate from, the others on a partial list (has free
 * blocks) or a full list. The owner allocates and frees its slabs' blocks
 * with no lock and no atomic operation. Another thread that frees a block
 * pushes it on the slab's thread_free stack (one CAS); if the slab is on its
 * owner's full list, it also queues the slab on the owner's remote queue
 * (once) so the owner finds the space again.
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
	struct da_slab *cur[DA_NCLASSES];
	struct da_slab_list partial[DA_NCLASSES];
	struct da_slab_list full[DA_NCLASSES];
	_Atomic(struct da_slab *) remote; /* slabs queued by remote frees */
	struct da_heap *next_heap;        /* every heap, live or spare */
	int live;                         /* has a thread */
};

extern __thread struct da_heap *da_tls_heap;
extern struct da_heap da_heap_empty;
extern struct da_heap da_heap_busy;

/* DA_HEAP_CLOSED in remote: the heap has no thread; queue nothing. */
#define DA_HEAP_CLOSED ((struct da_slab *)1)

/* Called with da_tls_heap == &da_heap_busy and h the heap it was; puts h
 * (or the heap it attached) back before returning. */
void *da_heap_malloc_slow(struct da_heap *h, size_t size);
/* Owner's bookkeeping after a free made s empty or hit a full slab.
 * Called with da_tls_heap == &da_heap_busy; sets it back to h. */
void da_heap_owner_freed(struct da_heap *h, struct da_slab *s);
/* Another thread's free of block p of s. */
void da_slab_free_remote(struct da_slab *s, void *p);

/*
 * A block for size <= DA_MEDIUM_MAX, or NULL when out of memory.
 * Fast path: about 15 instructions, no lock, no atomic, no call.
 */
DA_INLINE void *
da_heap_malloc(size_t size)
{
	struct da_heap *h = da_tls_heap;
	da_tls_heap = &da_heap_busy;
	atomic_signal_fence(memory_order_seq_cst);
	struct da_slab *s = h->cur[da_class_of(size)];
	void *b = s->free;
	if (da_likely(b != NULL)) {
		s->free = *(void **)b;
		s->used++;
		*da_slab_live(s, b) = DA_LIVE;
		atomic_signal_fence(memory_order_seq_cst);
		da_tls_heap = h;
		return b;
	}
	return da_heap_malloc_slow(h, size);
}

/*
 * Returns block p of class slab s (p already checked: the start of a live
 * block, whose live-map byte is *live).
 */
DA_INLINE void
da_heap_free_block(struct da_slab *s, uint8_t *live, void *p)
{
	*live = DA_FREE;
	struct da_heap *h = da_tls_heap;
	if (da_likely(atomic_load_explicit(&s->owner, memory_order_relaxed) ==
	              h)) {
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
		return;
	}
	da_slab_free_remote(s, p);
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

/* Releases abandoned slabs that other threads have emptied. Returns the
 * bytes given back to the chunks. Locking: takes the abandon lock. */
size_t da_heap_trim(void);

#endif /* DA_ALLOC_HEAP_H */
