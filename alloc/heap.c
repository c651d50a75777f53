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
#include <sched.h>
#include <signal.h>
#include <string.h>

/*
 * A test build (tests/unit/test_remote_race) stops a remote free right
 * after its CAS, where a preemption may stop it, to check what the owner
 * may do meanwhile. Nothing in other builds.
 */
#ifdef DA_TEST_HOOKS
void da_test_hook_remote_freed(struct da_slab *s, int notifying);
#define DA_TEST_HOOK_REMOTE_FREED(s, n) da_test_hook_remote_freed((s), (n))
#else
#define DA_TEST_HOOK_REMOTE_FREED(s, n) ((void)0)
#endif

__thread struct da_heap *da_tls_heap = &da_heap_empty;
__thread char da_thread_marker;
__thread unsigned da_locks_held;
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
static uint32_t thread_count; /* heaps attached so far (heap.h: thread) */
static struct da_slab_list abandoned[DA_NCLASSES];
/* A fork child's slabs of threads that did not survive (see
 * da_heap_fork_child); guarded by abandon_lock. */
static struct da_slab_list zombies[DA_NCLASSES];
static int zombie_count;
static pthread_key_t heap_key;
static int heap_key_made;

/* Heap structs come from here; never unmapped (see heap.h). */
static char *heap_arena;
static size_t heap_arena_left;

enum { IN_NONE, IN_PARTIAL, IN_FULL, IN_ABANDONED, IN_ZOMBIE };

/* Empties h's lists (forgetting, not giving up, what was on them). */
static void
heap_reset(struct da_heap *h)
{
	for (unsigned c = 0; c < DA_NCLASSES; c++) {
		h->cur[c] = &da_slab_empty;
		h->partial[c].head = NULL;
		h->full[c].head = NULL;
	}
	atomic_store_explicit(&h->remote, NULL, memory_order_relaxed);
	atomic_store_explicit(&h->trim_wanted, 0, memory_order_relaxed);
	h->live = 0;
}

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

/* The block pointer part of a thread_free word. */
static inline void *
tf_blocks(uintptr_t tf)
{
	return (void *)(tf & ~DA_TF_FLAGS);
}

/* Moves the blocks other threads freed to the free list, keeping the
 * flags. 1 if any. Owner only. */
static int
slab_collect(struct da_slab *s)
{
	if (tf_blocks(atomic_load_explicit(&s->thread_free,
	                                   memory_order_relaxed)) == NULL)
		return 0;
	uintptr_t tf = atomic_fetch_and_explicit(&s->thread_free, DA_TF_FLAGS,
	                                         memory_order_acquire);
	void *list = tf_blocks(tf);
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

/*
 * Asks the next remote free of s to queue s on its owner's remote queue,
 * after collecting what came already. Nothing to do while s is queued: the
 * drain arms it again. Owner only; s is on one of its lists.
 */
static void
slab_arm(struct da_slab *s)
{
	uintptr_t tf =
	        atomic_load_explicit(&s->thread_free, memory_order_relaxed);
	for (;;) {
		if (tf & (DA_TF_ARMED | DA_TF_QUEUED))
			return;
		if (tf_blocks(tf) != NULL) {
			slab_collect(s);
			tf = atomic_load_explicit(&s->thread_free,
			                          memory_order_relaxed);
			continue;
		}
		if (atomic_compare_exchange_weak_explicit(
		            &s->thread_free, &tf, tf | DA_TF_ARMED,
		            memory_order_seq_cst, memory_order_relaxed))
			return;
	}
}

/* 1 if s may be given back now: no block out, and no freer between its
 * CAS and the end of its notification (heap.h). Owner only. */
static int
slab_releasable(struct da_slab *s)
{
	return s->used == 0 &&
	       (atomic_load_explicit(&s->thread_free, memory_order_acquire) &
	        (DA_TF_QUEUED | DA_TF_NOTIFY)) == 0;
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
	s->thread = h->thread;
	/* Published last: a walk or lookup that sees the kind sees a
	 * zeroed live map and the geometry. */
	__atomic_store_n(&s->kind, DA_SLAB_CLASS, __ATOMIC_RELEASE);
	return s;
}

/* Gives an empty slab's units back (slab_releasable(s) holds). */
static void
slab_release(struct da_slab *s)
{
	atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
	atomic_store_explicit(&s->thread_free, 0, memory_order_relaxed);
	da_chunk_give_units(s);
}

/*
 * Puts the exhausted slab s on h's full list. Returns 0 (and leaves s off
 * the list) if other threads freed blocks into it meanwhile: arming
 * collects them first, and once armed, any later remote free queues s.
 */
static int
slab_mark_full(struct da_heap *h, struct da_slab *s)
{
	slab_arm(s);
	if (s->free != NULL)
		return 0;
	list_push(&h->full[s->cls], s, IN_FULL);
	s->unfull_at = s->capacity - (s->capacity + 7) / 8;
	return 1;
}

static void
slab_unmark_full(struct da_heap *h, struct da_slab *s)
{
	list_remove(&h->full[s->cls], s);
	s->unfull_at = 0;
	list_push(&h->partial[s->cls], s, IN_PARTIAL);
}

/* Pushes s on o's remote queue; 0 if o has no thread any more. */
static int
queue_push(struct da_heap *o, struct da_slab *s)
{
	struct da_slab *q =
	        atomic_load_explicit(&o->remote, memory_order_relaxed);
	while (q != DA_HEAP_CLOSED) {
		s->qnext = q;
		if (atomic_compare_exchange_weak_explicit(&o->remote, &q, s,
		                                          memory_order_release,
		                                          memory_order_relaxed))
			return 1;
	}
	return 0;
}

/* Bytes freed into exited threads' slabs since they were last trimmed. */
static _Atomic(size_t) abandoned_freed;
#define ABANDONED_TRIM_BYTES ((size_t)4 << 20)

static void abandoned_freed_add(size_t bytes);

void
da_slab_free_remote(struct da_slab *s, void *p)
{
	uintptr_t old =
	        atomic_load_explicit(&s->thread_free, memory_order_relaxed);
	uintptr_t new;
	/* Read before the CAS, while our block keeps s from going away. */
	size_t orphan_bytes =
	        atomic_load_explicit(&s->owner, memory_order_relaxed) == NULL
	                ? s->bsize
	                : 0;
	do {
		*(void **)p = tf_blocks(old);
		new = (uintptr_t)p | (old & DA_TF_FLAGS);
		if (old & DA_TF_ARMED)
			new = (new & ~DA_TF_ARMED) | DA_TF_QUEUED |
			      DA_TF_NOTIFY;
	} while (!atomic_compare_exchange_weak_explicit(
	        &s->thread_free, &old, new, memory_order_seq_cst,
	        memory_order_relaxed));
	DA_TEST_HOOK_REMOTE_FREED(s, (old & DA_TF_ARMED) != 0);
	if (!(old & DA_TF_ARMED)) {
		/* s may be released from here on: touch nothing. */
		if (da_unlikely(orphan_bytes != 0))
			abandoned_freed_add(orphan_bytes);
		return;
	}
	/* NOTIFY keeps s from being released or losing its owner's
	 * queue; the owner read here stays valid until NOTIFY clears. */
	uintptr_t clear = DA_TF_NOTIFY;
	struct da_heap *o =
	        atomic_load_explicit(&s->owner, memory_order_acquire);
	if (o == NULL || !queue_push(o, s))
		clear |= DA_TF_QUEUED;
	atomic_fetch_and_explicit(&s->thread_free, ~clear,
	                          memory_order_release);
	/* s may be released from here on. */
}

/* Waits out a freer's notification window (a few instructions; it may
 * have been preempted). Never called on a slab whose notifier could be
 * this thread's interrupted code: see heap.h. */
static void
slab_wait_notify(struct da_slab *s)
{
	for (int spin = 0;
	     atomic_load_explicit(&s->thread_free, memory_order_acquire) &
	     DA_TF_NOTIFY;
	     spin++) {
		if (spin < 64)
			da_cpu_relax();
		else
			sched_yield();
	}
}

/* Takes in the slabs that remote frees queued: collects them, gives back
 * those now empty, moves those with room from the full list to the partial
 * list, and arms the rest again (unless the heap is closing). */
static void
drain_remote(struct da_heap *h, struct da_slab *closing)
{
	struct da_slab *q = atomic_exchange_explicit(&h->remote, closing,
	                                             memory_order_acquire);
	while (q != NULL && q != DA_HEAP_CLOSED) {
		struct da_slab *s = q;
		q = s->qnext;
		/* Queued by a freer that read h as the owner, within its
		 * notification window, during which the owner cannot change
		 * (slab_abandon waits it out). */
		da_assert(atomic_load_explicit(&s->owner,
		                               memory_order_relaxed) == h);
		slab_wait_notify(s);
		atomic_fetch_and_explicit(&s->thread_free, ~DA_TF_QUEUED,
		                          memory_order_acq_rel);
		slab_collect(s);
		if (s == h->cur[s->cls] || s->in_list == IN_NONE)
			continue;
		if (slab_releasable(s)) {
			list_remove(list_of(h, s), s);
			slab_release(s);
			continue;
		}
		if (s->in_list == IN_FULL && s->used <= s->unfull_at)
			slab_unmark_full(h, s);
		if (closing == NULL)
			slab_arm(s);
	}
}

void
da_heap_owner_freed(struct da_heap *h, struct da_slab *s)
{
	da_assert(atomic_load_explicit(&s->owner, memory_order_relaxed) == h);
	DA_OP_ENTER();
	if (s->in_list == IN_FULL && s->used <= s->unfull_at)
		slab_unmark_full(h, s);
	if (h->cur[s->cls] != s && s->in_list != IN_NONE &&
	    slab_releasable(s)) {
		list_remove(list_of(h, s), s);
		slab_release(s);
	}
	DA_OP_LEAVE();
	atomic_signal_fence(memory_order_seq_cst);
	da_tls_heap = h;
}

static void slab_rebuild(struct da_slab *s);

/*
 * A zombie slab of class c, rebuilt from its live map, or NULL. Rebuilding
 * is safe only when no other thread can be freeing into the slab (its
 * free list is written from the live map, and a free under way would put
 * its block on both): so only while the process has a single thread, with
 * signals blocked. Locking: caller holds abandon_lock.
 */
static struct da_slab *
zombie_take_locked(unsigned c)
{
	sigset_t all, old;
	struct da_slab *s = zombies[c].head;
	if (s == NULL)
		return NULL;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (da_os_thread_count() == 1) {
		list_remove(&zombies[c], s);
		zombie_count--;
		slab_rebuild(s);
	} else {
		s = NULL;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return s;
}

/* An abandoned (or zombie) slab of class c, now owned by h, or NULL. */
static struct da_slab *
slab_adopt(struct da_heap *h, unsigned c)
{
	for (;;) {
		if ((abandoned[c].head == NULL && zombies[c].head == NULL) ||
		    !da_lock_take(&abandon_lock))
			return NULL;
		struct da_slab *s = abandoned[c].head;
		if (s != NULL)
			list_remove(&abandoned[c], s);
		else if (da_op_depth == 1)
			s = zombie_take_locked(c);
		da_lock_release(&abandon_lock);
		if (s == NULL)
			return NULL;
		s->thread = h->thread;
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
heap_malloc_from(struct da_heap *h, unsigned c, unsigned *prev)
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
				slab_arm(s);
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
	uint8_t *live = da_slab_live(s, b);
	da_assert(!da_live_in_use(*live));
	*prev = (unsigned)(*live == DA_FREED) | s->bsize << 3;
	s->free = da_slab_next(s, b, prev);
	s->used++;
	*live = DA_LIVE;
	da_heap_count_alloc(h, c);
	return b;
}

static void
heap_key_destructor(void *arg)
{
	(void)arg;
	da_heap_thread_exit();
}

/* The calling thread's own heap, busy or not (NULL: none). */
static __thread struct da_heap *tls_own;
/* Its pthread key value is set (the destructor will run). */
static __thread int tls_registered;

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
		/* Published whole: da_heap_class_allocs may follow the list
		 * without the lock. */
		__atomic_store_n(&all_heaps, h, __ATOMIC_RELEASE);
	}
	heap_reset(h);
	h->live = 1;
	h->thread = ++thread_count;
	da_lock_release(&heaps_lock);
	tls_own = h;
	return h;
}

/* Registers the thread's heap with its pthread key, so that it is given up
 * when the thread exits. Called with da_tls_heap == h (not busy): for keys
 * past the first 32, pthread_setspecific callocs, and that call must find
 * this heap, not recurse. Retried at later slow paths if it fails (that
 * calloc only try-locks). */
static void
heap_register(struct da_heap *h)
{
	if (pthread_setspecific(heap_key, h) == 0)
		tls_registered = 1;
}

/* Serves class c from the shared fallback heap, or NULL if this thread
 * already holds its lock (a handler interrupted it). */
static void *
fallback_malloc(unsigned c, unsigned *prev)
{
	if (!da_lock_take(&fallback_lock))
		return NULL;
	void *b = heap_malloc_from(&heap_fallback, c, prev);
	da_lock_release(&fallback_lock);
	return b;
}

static size_t heap_trim_own(struct da_heap *h);
static void periodic(void);

/* What every slow path and tick does for the owner of h. Called with
 * da_tls_heap == &da_heap_busy. */
static void
heap_maintain(struct da_heap *h)
{
	if (atomic_load_explicit(&h->remote, memory_order_relaxed) != NULL)
		drain_remote(h, NULL);
	if (atomic_load_explicit(&h->trim_wanted, memory_order_relaxed)) {
		atomic_store_explicit(&h->trim_wanted, 0, memory_order_relaxed);
		heap_trim_own(h);
	}
}

void *
da_heap_malloc_slow(struct da_heap *h, size_t size, unsigned *prev)
{
	unsigned c = da_class_of(size);
	void *b;
	DA_OP_ENTER();
	if (h == &da_heap_empty && !tls_exited) {
		struct da_heap *mine = heap_attach();
		if (mine != NULL)
			h = mine;
	}
	/* The fallback serves threads without a heap (exiting, or none could
	 * be made) and handlers that interrupted their thread's heap work. */
	if (h == &da_heap_empty || h == &da_heap_busy) {
		b = fallback_malloc(c, prev);
	} else {
		heap_maintain(h);
		b = heap_malloc_from(h, c, prev);
	}
	atomic_signal_fence(memory_order_seq_cst);
	da_tls_heap = h;
	if (h != &da_heap_empty && h != &da_heap_busy && !tls_registered &&
	    da_op_depth == 1)
		heap_register(h);
	DA_OP_LEAVE();
	return b;
}

void
da_heap_tick(struct da_heap *h)
{
	da_tls_heap = &da_heap_busy;
	atomic_signal_fence(memory_order_seq_cst);
	DA_OP_ENTER();
	heap_maintain(h);
	periodic();
	DA_OP_LEAVE();
	atomic_signal_fence(memory_order_seq_cst);
	da_tls_heap = h;
}

/* Gives slab s (on no list, no longer anyone's current slab) up: to the
 * chunks if empty, else to the abandoned list of its class, ownerless,
 * until some heap adopts it. */
static void
slab_abandon(struct da_slab *s)
{
	/* No new notification after this; wait out one under way, whose
	 * freer read h as the owner (heap.h). */
	atomic_fetch_and_explicit(&s->thread_free, ~DA_TF_ARMED,
	                          memory_order_seq_cst);
	slab_wait_notify(s);
	slab_collect(s);
	s->unfull_at = 0;
	if (slab_releasable(s)) {
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
	tls_own = NULL;
	DA_OP_LEAVE();
}

/* Gives back every empty slab of h, the calling thread's own heap (busy).
 * Returns the bytes given back. */
static size_t
heap_trim_own(struct da_heap *h)
{
	size_t given = 0;
	drain_remote(h, NULL);
	for (unsigned c = 0; c < DA_NCLASSES; c++) {
		struct da_slab_list *lists[2] = {&h->partial[c], &h->full[c]};
		for (int i = 0; i < 2; i++) {
			struct da_slab *s, *next;
			for (s = lists[i]->head; s != NULL; s = next) {
				next = s->next;
				slab_collect(s);
				if (!slab_releasable(s))
					continue;
				list_remove(lists[i], s);
				given += (size_t)s->units * DA_UNIT_SIZE;
				slab_release(s);
			}
		}
		struct da_slab *s = h->cur[c];
		if (s == &da_slab_empty)
			continue;
		slab_collect(s);
		if (slab_releasable(s)) {
			h->cur[c] = &da_slab_empty;
			given += (size_t)s->units * DA_UNIT_SIZE;
			slab_release(s);
		}
	}
	return given;
}

/* 1 if no block of zombie slab s is in use (its live map says). */
static int
zombie_empty(const struct da_slab *s)
{
	for (uint32_t i = 0; i < s->capacity; i++)
		if (da_live_in_use(s->live[((size_t)i * s->bsize) >> 4]))
			return 0;
	return 1;
}

/* Releases the zombie slabs that are empty now, while the process has one
 * thread (zombie_take_locked says why). Locking: caller holds
 * abandon_lock. */
static size_t
trim_zombies_locked(void)
{
	size_t given = 0;
	sigset_t all, old;
	if (zombie_count == 0)
		return 0;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (da_os_thread_count() == 1) {
		for (unsigned c = 0; c < DA_NCLASSES; c++) {
			struct da_slab *s, *next;
			for (s = zombies[c].head; s != NULL; s = next) {
				next = s->next;
				if (!zombie_empty(s))
					continue;
				list_remove(&zombies[c], s);
				zombie_count--;
				given += (size_t)s->units * DA_UNIT_SIZE;
				slab_rebuild(s);
				slab_release(s);
			}
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return given;
}

/* Releases the abandoned slabs that are empty now. Locking: caller holds
 * abandon_lock. */
static size_t
trim_abandoned_locked(void)
{
	size_t given = 0;
	for (unsigned c = 0; c < DA_NCLASSES; c++) {
		struct da_slab *s, *next;
		for (s = abandoned[c].head; s != NULL; s = next) {
			next = s->next;
			slab_collect(s);
			if (!slab_releasable(s))
				continue;
			list_remove(&abandoned[c], s);
			given += (size_t)s->units * DA_UNIT_SIZE;
			slab_release(s);
		}
	}
	return given;
}

/* Frees into exited threads' slabs would leave them empty and unseen until
 * a trim: every ABANDONED_TRIM_BYTES of them, the freer trims. */
static void
abandoned_freed_add(size_t bytes)
{
	size_t was = atomic_fetch_add_explicit(&abandoned_freed, bytes,
	                                       memory_order_relaxed);
	if (was / ABANDONED_TRIM_BYTES == (was + bytes) / ABANDONED_TRIM_BYTES)
		return;
	DA_OP_ENTER();
	da_heap_trim_abandoned();
	DA_OP_LEAVE();
}

void
da_heap_trim_abandoned(void)
{
	if (!da_lock_try(&abandon_lock))
		return;
	trim_abandoned_locked();
	if (da_op_depth == 1)
		trim_zombies_locked();
	da_lock_release(&abandon_lock);
}

size_t
da_heap_trim(void)
{
	size_t given = 0;
	struct da_heap *h = da_tls_heap;
	if (h != &da_heap_empty && h != &da_heap_busy) {
		da_tls_heap = &da_heap_busy;
		atomic_signal_fence(memory_order_seq_cst);
		given += heap_trim_own(h);
		atomic_signal_fence(memory_order_seq_cst);
		da_tls_heap = h;
	}
	if (da_lock_take(&heaps_lock)) {
		for (struct da_heap *o = all_heaps; o != NULL; o = o->next_heap)
			if (o->live && o != h)
				atomic_store_explicit(&o->trim_wanted, 1,
				                      memory_order_relaxed);
		da_lock_release(&heaps_lock);
	}
	if (da_lock_take(&abandon_lock)) {
		given += trim_abandoned_locked();
		if (da_op_depth == 1)
			given += trim_zombies_locked();
		da_lock_release(&abandon_lock);
	}
	return given;
}

/*
 * Work that needs no particular heap, done by whichever thread's tick
 * comes first once DA_RETAIN_DECAY_MS / 2 have passed: exited threads'
 * slabs emptied by later frees go back, and retained memory decays
 * (chunk.c). So freed memory is returned even while the program runs only
 * fast paths.
 */
static _Atomic(uint64_t) next_periodic_ms;

static void
periodic(void)
{
	uint64_t now = da_os_now_ms();
	uint64_t due =
	        atomic_load_explicit(&next_periodic_ms, memory_order_relaxed);
	if (now < due ||
	    !atomic_compare_exchange_strong_explicit(
	            &next_periodic_ms, &due, now + DA_RETAIN_DECAY_MS / 2,
	            memory_order_relaxed, memory_order_relaxed))
		return;
	da_heap_trim_abandoned();
	da_chunk_decay();
}

void
da_heap_class_allocs(uint64_t out[DA_NCLASSES])
{
	DA_OP_ENTER();
	int locked = da_lock_take(&heaps_lock);
	for (unsigned c = 0; c < DA_NCLASSES; c++)
		out[c] += __atomic_load_n(&heap_fallback.allocs[c],
		                          __ATOMIC_RELAXED);
	/* Without the lock (a signal handler inside a slow path), the list
	 * is still safe to follow: heaps are only ever pushed at its head. */
	for (struct da_heap *h = __atomic_load_n(&all_heaps, __ATOMIC_ACQUIRE);
	     h != NULL; h = h->next_heap)
		for (unsigned c = 0; c < DA_NCLASSES; c++)
			out[c] += __atomic_load_n(&h->allocs[c],
			                          __ATOMIC_RELAXED);
	if (locked)
		da_lock_release(&heaps_lock);
	DA_OP_LEAVE();
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

/* Every allocator lock, in the lock order. */
static struct da_lock *const fork_locks[] = {
        &heaps_lock,
        &fallback_lock,
        &abandon_lock,
        &da_chunk_lock,
};
#define NFORK_LOCKS (sizeof(fork_locks) / sizeof(fork_locks[0]))

/* Bit i of fork_took[level]: the prepare of that fork level (a signal
 * handler may fork inside fork) took fork_locks[i]. */
#define FORK_LEVELS 16
static __thread unsigned fork_level;
static __thread unsigned char fork_took[FORK_LEVELS];

/*
 * A lock the forking thread holds but did not take for fork can only mean
 * fork() was called from a signal handler that interrupted one of our slow
 * paths (PITFALLS 5): waiting for it would wait for ever, so it is skipped;
 * the child resets it all the same. A lock an outer fork level took is
 * taken again (lock.h).
 */
void
da_heap_fork_prepare(void)
{
	unsigned level = fork_level++;
	unsigned char took = 0;
	/* From here until the parent's or the child's handler, the thread
	 * holds (or is taking) allocator locks: an operation, for a signal
	 * handler's allocations to see as interrupted (lock.h), so that
	 * they get a mapping of their own rather than fail when a lock is
	 * out of reach. The callers that stop the world for a walk or a
	 * scan (audit) are such operations too. */
	DA_OP_ENTER();
	for (unsigned i = 0; i < NFORK_LOCKS; i++) {
		struct da_lock *l = fork_locks[i];
		if (da_lock_held_by_me(l) && !l->fork_taken)
			continue;
		da_lock_acquire(l);
		l->fork_taken = 1;
		took |= (unsigned char)(1u << i);
	}
	if (level < FORK_LEVELS)
		fork_took[level] = took;
}

void
da_heap_fork_parent(void)
{
	unsigned level = --fork_level;
	unsigned char took = level < FORK_LEVELS ? fork_took[level] : 0;
	/* A lock no longer held: a fork nested in this one (from a signal
	 * handler) reset it in its child, and this is that child. */
	for (unsigned i = NFORK_LOCKS; i-- > 0;)
		if ((took & (1u << i)) && da_lock_held_by_me(fork_locks[i]))
			da_lock_release(fork_locks[i]);
	DA_OP_LEAVE(); /* the prepare's */
}

/*
 * Rebuilds a zombie slab (see da_heap_fork_child) from its live map alone:
 * its owner may have been anywhere in its lock-free fast path when the
 * process forked, so its free list, counters and lists cannot be trusted,
 * but every block the program holds is marked in the live map before the
 * block is handed out and unmarked before it is freed. A block caught
 * between (popped, not yet marked) was never handed to anyone who
 * survives: free. Blocks freed since the fork are free in the map, so the
 * thread_free list is dropped. Called with no other thread in the process
 * (zombie_take_locked).
 */
static void
slab_rebuild(struct da_slab *s)
{
	uint32_t used = 0, end = s->reserved;
	if (end > s->capacity)
		end = s->capacity;
	for (uint32_t i = 0; i < s->capacity; i++) {
		if (da_live_in_use(s->live[((size_t)i * s->bsize) >> 4])) {
			used++;
			if (i >= end)
				end = i + 1; /* carved, its count not stored */
		}
	}
	void *list = NULL;
	for (uint32_t i = end; i-- > 0;) {
		char *b = s->area + (size_t)i * s->bsize;
		if (!da_live_in_use(*da_slab_live(s, b))) {
			*(void **)b = list;
			list = b;
		}
	}
	s->free = list;
	s->used = used;
	s->reserved = end;
	s->unfull_at = 0;
	s->next = s->prev = s->qnext = NULL;
	s->in_list = IN_NONE;
	atomic_store_explicit(&s->thread_free, 0, memory_order_relaxed);
	atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
}

/*
 * h survives fork (the forking thread's heap, or the fallback heap), but a
 * freer that did not may have died inside its notification window: clear
 * its NOTIFY, and if the slab never reached h's queue, queue it, so that
 * it can still be released. Skipped when the forking thread was itself
 * inside h (fork from a signal handler): that operation will go on with
 * h's queue as it left it; such a slab then stays queued-but-absent and is
 * never released (a leak in that rare child, nothing worse).
 */
static void
heap_fix_notify(struct da_heap *h, int in_use)
{
	struct da_slab *q =
	        atomic_load_explicit(&h->remote, memory_order_relaxed);
	for (struct da_slab *s = q; s != NULL && s != DA_HEAP_CLOSED;
	     s = s->qnext)
		s->in_list |= 0x80; /* on the queue: no need to push */
	for (struct da_chunk *ch = da_chunks; ch != NULL; ch = ch->next) {
		for (unsigned u = 1; u < DA_UNITS; u++) {
			struct da_slab *s = &ch->slabs[u];
			if (ch->slab_of[u] != u || s->kind != DA_SLAB_CLASS ||
			    atomic_load_explicit(&s->owner,
			                         memory_order_relaxed) != h)
				continue;
			uintptr_t tf = atomic_load_explicit(
			        &s->thread_free, memory_order_relaxed);
			if (!(tf & DA_TF_NOTIFY))
				continue;
			tf &= ~DA_TF_NOTIFY;
			if (!in_use && (tf & DA_TF_QUEUED) &&
			    !(s->in_list & 0x80) && q != DA_HEAP_CLOSED) {
				s->qnext = q;
				q = s;
				s->in_list |= 0x80;
			}
			atomic_store_explicit(&s->thread_free, tf,
			                      memory_order_relaxed);
		}
	}
	if (!in_use)
		atomic_store_explicit(&h->remote, q, memory_order_relaxed);
	for (struct da_slab *s = q; s != NULL && s != DA_HEAP_CLOSED;
	     s = s->qnext)
		s->in_list &= 0x7f;
}

/*
 * In the child only the forking thread lives on. Its own heap and the
 * fallback heap stay as they are (their state is consistent, or will be
 * once the operation a fork from a signal handler interrupted resumes).
 * Every other heap is forgotten without reading its lists, which their
 * owners changed without a lock; their slabs are found from the chunks
 * (consistent: fork holds the chunk lock), rebuilt from their live maps
 * and abandoned, or given back if empty.
 */
void
da_heap_fork_child(void)
{
	DA_OP_LEAVE(); /* the prepare's: what is left is an interrupted one */
	int own_busy = da_tls_heap == &da_heap_busy;
	int fallback_busy =
	        da_lock_held_by_me(&fallback_lock) && !fallback_lock.fork_taken;
	int chunks_busy =
	        da_lock_held_by_me(&da_chunk_lock) && !da_chunk_lock.fork_taken;
	fork_level--;
	/* Holds fork took end here; those of an interrupted operation end
	 * when it releases them (its release of a reset lock is harmless). */
	for (unsigned i = 0; i < NFORK_LOCKS; i++) {
		struct da_lock *l = fork_locks[i];
		if (da_lock_held_by_me(l) && l->fork_taken)
			da_locks_held -= l->depth + 1;
		da_lock_reset(l);
	}
	struct da_heap *own = tls_own;
	if (chunks_busy) {
		/* The interrupted operation is changing the chunks: the slabs
		 * cannot be walked. The other heaps stay as they are, never
		 * used or reused again (frees into their slabs take the
		 * remote path), so no slab is ever owned twice. */
		for (struct da_heap *h = all_heaps; h != NULL; h = h->next_heap)
			if (h != own)
				atomic_store_explicit(&h->remote,
				                      DA_HEAP_CLOSED,
				                      memory_order_relaxed);
		return;
	}
	for (struct da_heap *h = all_heaps; h != NULL; h = h->next_heap)
		if (h != own)
			heap_reset(h);
	if (own != NULL)
		heap_fix_notify(own, own_busy);
	heap_fix_notify(&heap_fallback, fallback_busy);
	da_chunk_drain_deferred_locked();
	/*
	 * Slabs of the threads that are gone become zombies: ownerless, on
	 * the zombie list, untouched otherwise. Rebuilding them here would
	 * write a free list into each of their free blocks and copy those
	 * pages (copy on write) in every child, fork + exec included: 12x
	 * glibc's fork time was measured that way. A zombie is rebuilt when a
	 * heap adopts it (zombie_take_locked), and released once empty.
	 * A slab without owner and off the abandoned list is being adopted
	 * or abandoned by some thread; if that thread is this one (fork from
	 * a handler), its operation goes on with the slab: leave it.
	 */
	int interrupted = da_op_depth > 0;
	for (struct da_chunk *ch = da_chunks; ch != NULL; ch = ch->next) {
		for (unsigned u = 1; u < DA_UNITS; u++) {
			struct da_slab *s = &ch->slabs[u];
			if (ch->slab_of[u] != u || s->kind != DA_SLAB_CLASS)
				continue;
			struct da_heap *o = atomic_load_explicit(
			        &s->owner, memory_order_relaxed);
			if (o != NULL && (o == own || o == &heap_fallback))
				continue;
			if (o == NULL && s->in_list == IN_ABANDONED) {
				/* Its notifier, if any, is gone. */
				atomic_fetch_and_explicit(&s->thread_free,
				                          ~DA_TF_FLAGS,
				                          memory_order_relaxed);
				continue;
			}
			if (o == NULL && interrupted)
				continue;
			if (o == NULL && s->in_list == IN_ZOMBIE)
				continue; /* a zombie of an earlier fork */
			atomic_store_explicit(&s->owner, NULL,
			                      memory_order_relaxed);
			/* Its notifier, if any, is gone. */
			atomic_fetch_and_explicit(&s->thread_free, ~DA_TF_FLAGS,
			                          memory_order_relaxed);
			list_push(&zombies[s->cls], s, IN_ZOMBIE);
			zombie_count++;
		}
	}
}
