/*
 * limitload.h — threads allocating and freeing under a memory limit, for
 * limit.c, limit-sampled.c and tests/stress/limit-threads.c.
 *
 * Each worker keeps up to SLOTS blocks of 9 B to 64 KiB (most of them
 * small), made by malloc, calloc, realloc or aligned_alloc, and hands some
 * to the others through a shared exchange, so that blocks are freed (and
 * reallocated) by threads that did not allocate them. A worker holds about
 * 180 KiB at a time when nothing is refused: a room below that makes the
 * limit refuse some of its allocations.
 *
 * The invariant: the workers count their own live bytes in one atomic
 * counter, adding after an allocation succeeds and subtracting before a
 * free, so the counter is never above the bytes actually live; it must
 * never be above the room the limit left when the workers started. A
 * refusal must be NULL with ENOMEM, and shrinking a block is never refused.
 * A block's first 8 bytes hold its size, and its last byte a check value.
 */
#ifndef DA_TEST_LIMITLOAD_H
#define DA_TEST_LIMITLOAD_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LIMITLOAD_SLOTS    64
#define LIMITLOAD_EXCHANGE 64
#define LIMITLOAD_MIN_SIZE (sizeof(size_t) + 1) /* the size, a check */
#define LIMITLOAD_MAX_SIZE ((size_t)64 << 10)

struct limitload {
	/* Set before limitload_start: */
	size_t room;     /* what the limit leaves the workers, in bytes */
	long ops;        /* operations per worker; 0: until stop is set */
	atomic_int stop; /* set to end the run early (ops 0: to end it) */
	/* Counted by the workers: */
	atomic_size_t live;           /* their blocks' bytes */
	atomic_ulong allocs, refused; /* allocations, refusals */
	atomic_ulong over;            /* live seen above room */
	atomic_ulong bad_errno;       /* a refusal without ENOMEM */
	atomic_ulong shrink_refused;  /* a smaller realloc refused */
	atomic_ulong corrupt;         /* a block's size or check lost */
	atomic_int done;              /* workers finished */
	atomic_int go; /* set by limitload_start once every worker exists:
	                  pthread_create allocates too (the new thread's TLS
	                  vector), and must not find the room taken */
	_Atomic(void *) exchange[LIMITLOAD_EXCHANGE];
};

struct limitload_worker_arg {
	struct limitload *l;
	uint64_t seed;
};

static void *(*volatile limitload_malloc)(size_t) = malloc;
static void *(*volatile limitload_calloc)(size_t, size_t) = calloc;
static void *(*volatile limitload_realloc)(void *, size_t) = realloc;
static void *(*volatile limitload_aligned_alloc)(size_t,
                                                 size_t) = aligned_alloc;
static void (*volatile limitload_free)(void *) = free;

static inline uint64_t
limitload_next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline unsigned char
limitload_check(size_t n)
{
	return (unsigned char)(n * 7 + 1);
}

/* Writes a new block's size and check value. */
static inline void
limitload_mark(void *p, size_t n)
{
	memcpy(p, &n, sizeof(n));
	((unsigned char *)p)[n - 1] = limitload_check(n);
}

/* The size of a block limitload_mark wrote, or 0 if it was damaged. */
static inline size_t
limitload_size(struct limitload *l, const void *p)
{
	size_t n;

	memcpy(&n, p, sizeof(n));
	if (n < LIMITLOAD_MIN_SIZE || n > LIMITLOAD_MAX_SIZE ||
	    ((const unsigned char *)p)[n - 1] != limitload_check(n)) {
		atomic_fetch_add(&l->corrupt, 1);
		return 0;
	}
	return n;
}

/* The counter rises by n for a block just handed out. */
static inline void
limitload_add(struct limitload *l, size_t n)
{
	if (atomic_fetch_add(&l->live, n) + n > l->room)
		atomic_fetch_add(&l->over, 1);
}

static inline void
limitload_release(struct limitload *l, void *p)
{
	size_t n = limitload_size(l, p);

	if (n == 0)
		return; /* counted as corrupt; kept, not to free garbage */
	atomic_fetch_sub(&l->live, n);
	limitload_free(p);
}

static inline void
limitload_refused(struct limitload *l)
{
	if (errno != ENOMEM)
		atomic_fetch_add(&l->bad_errno, 1);
	atomic_fetch_add(&l->refused, 1);
}

/* A size from bits 8-31 and 56-63 of x: half up to 256 B, a third up to
 * 4 KiB, the rest up to 64 KiB (about 5.5 KiB on average). */
static inline size_t
limitload_size_pick(uint64_t x)
{
	unsigned pick = (unsigned)(x >> 56) % 100;
	size_t top = pick < 50 ? 256 : pick < 85 ? 4096 : LIMITLOAD_MAX_SIZE;

	return LIMITLOAD_MIN_SIZE +
	       (size_t)((x >> 8) % (top - LIMITLOAD_MIN_SIZE + 1));
}

/* A new block of n bytes by one of the entry points, or NULL. */
static inline void *
limitload_alloc(struct limitload *l, size_t n, uint64_t x)
{
	void *p;

	errno = 0;
	switch (x % 4) {
	case 0:
		p = limitload_malloc(n);
		break;
	case 1:
		p = limitload_calloc(1, n);
		break;
	case 2:
		p = limitload_realloc(NULL, n);
		break;
	default:
		n = (n + 63) & ~(size_t)63;
		if (n > LIMITLOAD_MAX_SIZE)
			n = LIMITLOAD_MAX_SIZE;
		p = limitload_aligned_alloc(64, n);
		break;
	}
	atomic_fetch_add(&l->allocs, 1);
	if (p == NULL) {
		limitload_refused(l);
		return NULL;
	}
	limitload_mark(p, n);
	limitload_add(l, n);
	return p;
}

/* realloc of a live block to m bytes: the counter follows the change,
 * rising after a growth, falling before a shrink. */
static inline void *
limitload_resize(struct limitload *l, void *p, size_t m)
{
	size_t n = limitload_size(l, p);
	void *q;

	if (n == 0)
		return p;
	if (m < n)
		atomic_fetch_sub(&l->live, n - m);
	errno = 0;
	q = limitload_realloc(p, m);
	atomic_fetch_add(&l->allocs, 1);
	if (q == NULL) {
		limitload_refused(l);
		if (m < n) {
			atomic_fetch_add(&l->shrink_refused, 1);
			atomic_fetch_add(&l->live, n - m);
		}
		return p;
	}
	limitload_mark(q, m);
	if (m > n)
		limitload_add(l, m - n);
	return q;
}

static void *
limitload_worker(void *arg)
{
	struct limitload_worker_arg *a = arg;
	struct limitload *l = a->l;
	void *slot[LIMITLOAD_SLOTS] = {0};
	uint64_t s = a->seed;

	while (!atomic_load(&l->go) && !atomic_load(&l->stop))
		sched_yield();
	for (long op = 0; l->ops == 0 || op < l->ops; op++) {
		if ((op & 255) == 0 && atomic_load(&l->stop))
			break;
		uint64_t x = limitload_next(&s);
		unsigned i = (unsigned)(x % LIMITLOAD_SLOTS);
		size_t n = limitload_size_pick(x);
		unsigned what = (unsigned)((x >> 32) % 16);

		if (slot[i] == NULL) {
			slot[i] = limitload_alloc(l, n, x >> 40);
		} else if (what < 9) {
			limitload_release(l, slot[i]);
			slot[i] = NULL;
		} else if (what < 13) {
			slot[i] = limitload_resize(l, slot[i], n);
		} else {
			/* Swap with the exchange: the block goes to another
			 * thread, which frees or resizes it. */
			unsigned e = (unsigned)((x >> 48) % LIMITLOAD_EXCHANGE);
			slot[i] = atomic_exchange(&l->exchange[e], slot[i]);
		}
	}
	for (unsigned i = 0; i < LIMITLOAD_SLOTS; i++)
		if (slot[i] != NULL)
			limitload_release(l, slot[i]);
	atomic_fetch_add(&l->done, 1);
	return NULL;
}

/* Starts n workers (seeds from seed) into t[] and a[]. Returns 0, or an
 * errno value from pthread_create. */
static inline int
limitload_start(struct limitload *l, int n, pthread_t *t,
                struct limitload_worker_arg *a, uint64_t seed)
{
	for (int i = 0; i < n; i++) {
		a[i].l = l;
		a[i].seed = seed * 0x100000001b3ull + (uint64_t)i + 1;
		int rc = pthread_create(&t[i], NULL, limitload_worker, &a[i]);
		if (rc != 0)
			return rc;
	}
	atomic_store(&l->go, 1);
	return 0;
}

/* After every worker has been joined: frees what the exchange holds. */
static inline void
limitload_drain(struct limitload *l)
{
	for (unsigned e = 0; e < LIMITLOAD_EXCHANGE; e++) {
		void *p = atomic_exchange(&l->exchange[e], NULL);

		if (p != NULL)
			limitload_release(l, p);
	}
}

#endif /* DA_TEST_LIMITLOAD_H */
