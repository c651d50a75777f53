/*
 * alloc/heap.c — per-thread heaps: slow paths, thread start and exit, fork.
 *
 * Lock order (fork takes them all in this order):
 *   heaps_lock -> fallback_lock -> abandon_lock -> da_chunk_lock
 * A slow path may take a later lock while holding an earlier one, never the
 * reverse.
 */
#include "alloc/heap.h"
#include "alloc/os.h"

#include <pthread.h>
#include <string.h>

__thread struct da_heap *da_tls_heap = &da_heap_empty;
__thread char da_thread_marker;
__thread unsigned da_op_depth;
static __thread int tls_exited; /* the heap was given up: use fallback */

struct da_slab da_slab_empty; /* no free blocks: every pop misses */
struct da_heap da_heap_empty = {
        .cur = {[0 ... DA_NCLASSES - 1] = &da_slab_empty},
};
/* The marker of a thread inside a heap operation (heap.h). */
struct da_heap da_heap_busy = {
        .cur = {[0 ... DA_NCLASSES - 1] = &da_slab_empty},
};

/* Serves threads whose heap is gone (allocations from later TSD
 * destructors); guarded by fallback_lock. */
static struct da_heap heap_fallback = {
        .cur = {[0 ... DA_NCLASSES - 1] = &da_slab_empty},
        .live = 1,
};

static struct da_lock heaps_lock = DA_LOCK_INIT;
static struct da_lock fallback_lock = DA_LOCK_INIT;
static struct da_lock abandon_lock = DA_LOCK_INIT;
static struct da_heap *all_heaps;
static struct da_slab_list abandoned[DA_NCLASSES];
static pthread_key_t heap_key;
static int heap_key_made;

/* Heap structs come from here; never unmapped (see heap.h). */
static char *heap_arena;
static size_t heap_arena_left;

enum { IN_NONE, IN_PARTIAL, IN_FULL, IN_ABANDONED };

static void
list_push(struct da_slab_list *l, struct da_slab *s, uint8_t which)
{
	s->prev = NULL;
	s->next = l->head;
	if (l->head != NULL)
		l->head->prev = s;
	l->head = s;
	s->in_list = which;
}

static void
list_remove(struct da_slab_list *l, struct da_slab *s)
{
	da_assert(s->in_list != IN_NONE);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		l->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
	s->in_list = IN_NONE;
}

static struct da_slab_list *
list_of(struct da_heap *h, struct da_slab *s)
{
	return s->in_list == IN_FULL ? &h->full[s->cls] : &h->partial[s->cls];
}

/* Moves the blocks other threads freed to the free list. 1 if any. */
static int
slab_collect(struct da_slab *s)
{
	if (atomic_load_explicit(&s->thread_free, memory_order_relaxed) == NULL)
		return 0;
	void *list = atomic_exchange_explicit(&s->thread_free, NULL,
	                                      memory_order_acquire);
	if (list == NULL)
		return 0;
	uint32_t n = 1;
	void *tail = list;
	while (*(void **)tail != NULL) {
		tail = *(void **)tail;
		n++;
	}
	da_assert(n <= s->used); /* only blocks handed out come back */
	*(void **)tail = s->free;
	s->free = list;
	s->used -= n;
	return 1;
}

/* Carves up to a page's worth of never-used blocks. 1 if any. Blocks are
 * carved lazily so that untouched pages are never committed. */
static int
slab_extend(struct da_slab *s)
{
	if (s->reserved >= s->capacity)
		return 0;
	uint32_t n = s->capacity - s->reserved;
	uint32_t batch = DA_PAGE / s->bsize;
	if (batch < 1)
		batch = 1;
	if (n > batch)
		n = batch;
	char *b = s->area + (size_t)s->reserved * s->bsize;
	for (uint32_t i = 0; i + 1 < n; i++)
		*(void **)(b + (size_t)i * s->bsize) =
		        b + (size_t)(i + 1) * s->bsize;
	*(void **)(b + (size_t)(n - 1) * s->bsize) = s->free;
	s->free = b;
	s->reserved += n;
	return 1;
}

static struct da_slab *
slab_new(struct da_heap *h, unsigned c)
{
	struct da_class_geom g;
	int zeroed;
	da_class_geom(c, &g);
	struct da_slab *s = da_chunk_take_units(g.units, &zeroed);
	if (s == NULL)
		return NULL;
	s->cls = (uint8_t)c;
	s->bsize = da_class_size[c];
	s->capacity = g.capacity;
	s->recip = g.recip;
	s->live = (uint8_t *)s->area;
	s->area += g.map_len;
	s->area_size = g.capacity * s->bsize;
	if (!zeroed)
		memset(s->live, 0, g.map_len);
	atomic_store_explicit(&s->owner, h, memory_order_relaxed);
	/* Published last: a walk or lookup that sees the kind sees a
	 * zeroed live map and the geometry. */
	__atomic_store_n(&s->kind, DA_SLAB_CLASS, __ATOMIC_RELEASE);
	return s;
}

/* Gives an empty slab's units back. Its live map is all DA_FREE. */
static void
slab_release(struct da_slab *s)
{
	atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
	da_chunk_give_units(s);
}

/*
 * Puts the exhausted slab s on h's full list. Returns 0 (and leaves s off
 * the list) if other threads freed blocks into it meanwhile. The seq_cst
 * store/load pairs with the CAS/load in da_slab_free_remote: either we see
 * their block or they see the flag and queue the slab.
 */
static int
slab_mark_full(struct da_heap *h, struct da_slab *s)
{
	atomic_store_explicit(&s->full, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&s->thread_free, memory_order_seq_cst) !=
	    NULL) {
		atomic_store_explicit(&s->full, 0, memory_order_relaxed);
		return 0;
	}
	list_push(&h->full[s->cls], s, IN_FULL);
	s->unfull_at = s->capacity - (s->capacity + 7) / 8;
	return 1;
}

static void
slab_unmark_full(struct da_heap *h, struct da_slab *s)
{
	list_remove(&h->full[s->cls], s);
	atomic_store_explicit(&s->full, 0, memory_order_relaxed);
	s->unfull_at = 0;
	list_push(&h->partial[s->cls], s, IN_PARTIAL);
}

void
da_slab_free_remote(struct da_slab *s, void *p)
{
	void *head =
	        atomic_load_explicit(&s->thread_free, memory_order_relaxed);
	do
		*(void **)p = head;
	while (!atomic_compare_exchange_weak_explicit(&s->thread_free, &head, p,
	                                              memory_order_seq_cst,
	                                              memory_order_relaxed));
	if (!atomic_load_explicit(&s->full, memory_order_seq_cst))
		return;
	if (atomic_exchange_explicit(&s->queued, 1, memory_order_acq_rel))
		return;
	struct da_heap *o =
	        atomic_load_explicit(&s->owner, memory_order_acquire);
	if (o != NULL) {
		struct da_slab *q =
		        atomic_load_explicit(&o->remote, memory_order_relaxed);
		while (q != DA_HEAP_CLOSED) {
			s->qnext = q;
			if (atomic_compare_exchange_weak_explicit(
			            &o->remote, &q, s, memory_order_release,
			            memory_order_relaxed))
				return;
		}
	}
	atomic_store_explicit(&s->queued, 0, memory_order_release);
}

/* Takes in the slabs that remote frees queued, moving those with space
 * from the full list to the partial list. */
static void
drain_remote(struct da_heap *h, struct da_slab *closing)
{
	struct da_slab *q = atomic_exchange_explicit(&h->remote, closing,
	                                             memory_order_acquire);
	while (q != NULL && q != DA_HEAP_CLOSED) {
		struct da_slab *s = q;
		q = s->qnext;
		atomic_store_explicit(&s->queued, 0, memory_order_release);
		if (atomic_load_explicit(&s->owner, memory_order_relaxed) != h)
			continue;
		if (s->in_list == IN_FULL && slab_collect(s) &&
		    s->used <= s->unfull_at)
			slab_unmark_full(h, s);
	}
}

void
da_heap_owner_freed(struct da_heap *h, struct da_slab *s)
{
	da_assert(atomic_load_explicit(&s->owner, memory_order_relaxed) == h);
	DA_OP_ENTER();
	if (s->in_list == IN_FULL && s->used <= s->unfull_at)
		slab_unmark_full(h, s);
	if (s->used == 0 && h->cur[s->cls] != s &&
	    !atomic_load_explicit(&s->queued, memory_order_acquire)) {
		list_remove(list_of(h, s), s);
		slab_release(s);
	}
	DA_OP_LEAVE();
	atomic_signal_fence(memory_order_seq_cst);
	da_tls_heap = h;
}

/* An abandoned slab of class c, now owned by h, or NULL. */
static struct da_slab *
slab_adopt(struct da_heap *h, unsigned c)
{
	for (;;) {
		if (abandoned[c].head == NULL || !da_lock_take(&abandon_lock))
			return NULL;
		struct da_slab *s = abandoned[c].head;
		if (s != NULL)
			list_remove(&abandoned[c], s);
		da_lock_release(&abandon_lock);
		if (s == NULL)
			return NULL;
		atomic_store_explicit(&s->owner, h, memory_order_release);
		slab_collect(s);
		if (s->free != NULL || s->reserved < s->capacity)
			return s;
		if (!slab_mark_full(h, s)) {
			slab_collect(s);
			return s;
		}
	}
}

/*
 * The slow path of one class: the current slab has no free block. Blocks
 * already freed come first (the slab's remote frees, then slabs that other
 * threads' frees made usable again), fresh ones after (carving the current
 * slab further, adopting an abandoned slab, a new slab): reused pages are
 * warm and cost no page fault.
 */
static void *
heap_malloc_from(struct da_heap *h, unsigned c)
{
	struct da_slab *s = h->cur[c];
	if (s != &da_slab_empty && s->free == NULL)
		slab_collect(s);
	while (s == &da_slab_empty || s->free == NULL) {
		if (atomic_load_explicit(&h->remote, memory_order_relaxed))
			drain_remote(h, NULL);
		struct da_slab *next = h->partial[c].head;
		if (s != &da_slab_empty) {
			if (next == NULL && slab_extend(s))
				break;
			if (s->reserved < s->capacity) {
				list_push(&h->partial[c], s, IN_PARTIAL);
			} else if (!slab_mark_full(h, s)) {
				slab_collect(s);
				continue;
			}
		}
		if (next != NULL) {
			list_remove(&h->partial[c], next);
			s = next;
			slab_collect(s);
		} else {
			s = slab_adopt(h, c);
			if (s == NULL)
				s = slab_new(h, c);
		}
		if (s != NULL && s->free == NULL)
			slab_extend(s);
		h->cur[c] = s != NULL ? s : &da_slab_empty;
		if (s == NULL)
			return NULL;
	}
	void *b = s->free;
	da_assert(da_slab_index(s, b) < s->reserved);
	da_assert(*da_slab_live(s, b) == DA_FREE);
	s->free = *(void **)b;
	s->used++;
	*da_slab_live(s, b) = DA_LIVE;
	return b;
}

static void
heap_key_destructor(void *arg)
{
	(void)arg;
	da_heap_thread_exit();
}

static struct da_heap *
heap_attach(void)
{
	if (!da_lock_take(&heaps_lock))
		return NULL;
	if (!heap_key_made) {
		if (pthread_key_create(&heap_key, heap_key_destructor) != 0) {
			da_lock_release(&heaps_lock);
			return NULL;
		}
		heap_key_made = 1;
	}
	struct da_heap *h;
	for (h = all_heaps; h != NULL; h = h->next_heap)
		if (!h->live)
			break;
	if (h == NULL) {
		size_t need = (sizeof(struct da_heap) + 63) & ~(size_t)63;
		if (heap_arena_left < need) {
			size_t grab = 16 * need;
			heap_arena = da_os_map(grab);
			heap_arena_left = heap_arena != NULL ? grab : 0;
		}
		if (heap_arena_left < need) {
			da_lock_release(&heaps_lock);
			return NULL;
		}
		h = (struct da_heap *)heap_arena;
		heap_arena += need;
		heap_arena_left -= need;
		h->next_heap = all_heaps;
		all_heaps = h;
	}
	for (unsigned c = 0; c < DA_NCLASSES; c++) {
		h->cur[c] = &da_slab_empty;
		h->partial[c].head = NULL;
		h->full[c].head = NULL;
	}
	atomic_store_explicit(&h->remote, NULL, memory_order_relaxed);
	h->live = 1;
	da_lock_release(&heaps_lock);
	/* The heap first: pthread_setspecific calls calloc for keys past
	 * the first 32, and that call must find this heap, not recurse. */
	da_tls_heap = h;
	pthread_setspecific(heap_key, h);
	return h;
}

/* Serves class c from the shared fallback heap, or NULL if this thread
 * already holds its lock (a handler interrupted it). */
static void *
fallback_malloc(unsigned c)
{
	if (!da_lock_take(&fallback_lock))
		return NULL;
	void *b = heap_malloc_from(&heap_fallback, c);
	da_lock_release(&fallback_lock);
	return b;
}

void *
da_heap_malloc_slow(struct da_heap *h, size_t size)
{
	unsigned c = da_class_of(size);
	void *b;
	DA_OP_ENTER();
	if (h == &da_heap_empty && !tls_exited) {
		struct da_heap *mine = heap_attach();
		if (mine != NULL) {
			h = mine;
			da_tls_heap = &da_heap_busy;
			atomic_signal_fence(memory_order_seq_cst);
		}
	}
	/* The fallback serves threads without a heap (exiting, or none could
	 * be made) and handlers that interrupted their thread's heap work. */
	if (h == &da_heap_empty || h == &da_heap_busy)
		b = fallback_malloc(c);
	else
		b = heap_malloc_from(h, c);
	atomic_signal_fence(memory_order_seq_cst);
	da_tls_heap = h;
	DA_OP_LEAVE();
	return b;
}

/* Gives slab s (on no list) up: to the chunks if empty, else to the
 * abandoned list of its class, ownerless, until some heap adopts it. */
static void
slab_abandon(struct da_slab *s)
{
	slab_collect(s);
	atomic_store_explicit(&s->full, 0, memory_order_relaxed);
	s->unfull_at = 0;
	if (s->used == 0 &&
	    !atomic_load_explicit(&s->queued, memory_order_acquire)) {
		slab_release(s);
		return;
	}
	da_lock_acquire(&abandon_lock);
	atomic_store_explicit(&s->owner, NULL, memory_order_release);
	list_push(&abandoned[s->cls], s, IN_ABANDONED);
	da_lock_release(&abandon_lock);
}

/* Gives every slab of h up. h must have no thread running on it. */
static void
heap_abandon(struct da_heap *h)
{
	drain_remote(h, DA_HEAP_CLOSED);
	for (unsigned c = 0; c < DA_NCLASSES; c++) {
		struct da_slab *s = h->cur[c];
		h->cur[c] = &da_slab_empty;
		if (s != &da_slab_empty)
			slab_abandon(s);
		while ((s = h->partial[c].head) != NULL) {
			list_remove(&h->partial[c], s);
			slab_abandon(s);
		}
		while ((s = h->full[c].head) != NULL) {
			list_remove(&h->full[c], s);
			slab_abandon(s);
		}
	}
}

void
da_heap_thread_exit(void)
{
	struct da_heap *h = da_tls_heap;
	if (h == &da_heap_empty)
		return;
	tls_exited = 1; /* before the heap goes: a handler sees one or other */
	atomic_signal_fence(memory_order_seq_cst);
	da_tls_heap = &da_heap_empty;
	DA_OP_ENTER();
	heap_abandon(h);
	da_lock_acquire(&heaps_lock);
	h->live = 0;
	da_lock_release(&heaps_lock);
	DA_OP_LEAVE();
}

/* Every allocator lock, in the lock order. */
static struct da_lock *const fork_locks[] = {
        &heaps_lock,
        &fallback_lock,
        &abandon_lock,
        &da_chunk_lock,
};
#define NFORK_LOCKS (sizeof(fork_locks) / sizeof(fork_locks[0]))

/* Bit i: this thread's fork_prepare took fork_locks[i]. */
static __thread unsigned fork_took;

/*
 * A lock the forking thread already holds can only mean fork() was called
 * from a signal handler that interrupted one of our slow paths (PITFALLS
 * 5): waiting for it would wait forever, so it is skipped; the child
 * resets it all the same.
 */
void
da_heap_fork_prepare(void)
{
	fork_took = 0;
	for (unsigned i = 0; i < NFORK_LOCKS; i++) {
		if (da_lock_held_by_me(fork_locks[i]))
			continue;
		da_lock_acquire(fork_locks[i]);
		fork_took |= 1u << i;
	}
}

void
da_heap_fork_parent(void)
{
	for (unsigned i = NFORK_LOCKS; i-- > 0;)
		if (fork_took & (1u << i))
			da_lock_release(fork_locks[i]);
}

void
da_heap_fork_child(void)
{
	for (unsigned i = 0; i < NFORK_LOCKS; i++)
		da_lock_reset(fork_locks[i]);
	/* Only the forking thread lives on: the other heaps lost theirs. */
	for (struct da_heap *h = all_heaps; h != NULL; h = h->next_heap) {
		if (h->live && h != da_tls_heap) {
			heap_abandon(h);
			h->live = 0;
		}
	}
}

unsigned
da_heap_live_count(void)
{
	unsigned n = 0;
	da_lock_acquire(&heaps_lock);
	for (struct da_heap *h = all_heaps; h != NULL; h = h->next_heap)
		n += h->live != 0;
	da_lock_release(&heaps_lock);
	return n;
}

size_t
da_heap_trim(void)
{
	size_t given = 0;
	if (!da_lock_take(&abandon_lock))
		return 0;
	for (unsigned c = 0; c < DA_NCLASSES; c++) {
		struct da_slab *s, *next;
		for (s = abandoned[c].head; s != NULL; s = next) {
			next = s->next;
			slab_collect(s);
			if (s->used == 0 &&
			    !atomic_load_explicit(&s->queued,
			                          memory_order_acquire)) {
				list_remove(&abandoned[c], s);
				given += (size_t)s->units * DA_UNIT_SIZE;
				slab_release(s);
			}
		}
	}
	da_lock_release(&abandon_lock);
	return given;
}
