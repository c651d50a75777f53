/*
 * limit.c — the statistics, limit and scope API of dbgalloc.h, linked with
 * libdbgalloc: one cmocka test per behaviour. Counts are checked exactly
 * where dbgalloc.h promises exactness (one thread allocating), and as
 * bounds under 8 threads. The limit and every scope are undone by each
 * test's teardown, so a failed test leaves the next one a clean process.
 *
 * Built with -g -fno-omit-frame-pointer -fno-optimize-sibling-calls: the
 * listings of a scope's call sites must name scope_site_alloc, which a
 * tail call would hide. Every allocation goes through a volatile function
 * pointer (and -fno-builtin) so gcc folds none of them.
 */

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shim/dbgalloc.h"
#include "tests/integration/limitload.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static void *(*volatile fn_malloc)(size_t) = malloc;
static void *(*volatile fn_calloc)(size_t, size_t) = calloc;
static void *(*volatile fn_realloc)(void *, size_t) = realloc;
static void (*volatile fn_free)(void *) = free;
static int (*volatile fn_posix_memalign)(void **, size_t,
                                         size_t) = posix_memalign;
static void *(*volatile fn_aligned_alloc)(size_t, size_t) = aligned_alloc;

static struct dbgalloc_stats
stats(void)
{
	struct dbgalloc_stats st;

	dbgalloc_stats_get(&st);
	return st;
}

/* Sets the limit so that exactly room bytes more may be allocated (one
 * thread allocating: the limit is exact there). */
static void
leave_room(size_t room)
{
	dbgalloc_limit_set(stats().live_bytes + room);
}

static int
no_limit(void **state)
{
	(void)state;
	dbgalloc_limit_set(0);
	return 0;
}

/* Byte i of a test pattern. */
static unsigned char
pat(size_t i, unsigned seed)
{
	return (unsigned char)(i * 131u + (i >> 8) * 7u + seed);
}

static void
fill(void *p, size_t n, unsigned seed)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		c[i] = pat(i, seed);
}

static int
intact(const void *p, size_t n, unsigned seed)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != pat(i, seed))
			return 0;
	return 1;
}

/* --- The limit's value ------------------------------------------------ */

static void
test_limit_set_get(void **state)
{
	(void)state;
	assert_int_equal(dbgalloc_limit_get(), 0);
	assert_int_equal(stats().limit, 0);
	assert_int_equal(dbgalloc_limit_set(64 * MiB), 0);
	assert_int_equal(dbgalloc_limit_get(), 64 * MiB);
	assert_int_equal(stats().limit, 64 * MiB);
	assert_int_equal(dbgalloc_limit_set(128 * MiB), 64 * MiB);
	assert_int_equal(dbgalloc_limit_get(), 128 * MiB);
	assert_int_equal(dbgalloc_limit_set(0), 128 * MiB);
	assert_int_equal(dbgalloc_limit_get(), 0);
	assert_int_equal(stats().limit, 0);
	assert_int_equal(dbgalloc_limit_set(0), 0);
}

/* --- Statistics ------------------------------------------------------- */

/* Each entry point moves the counters by exactly what it was asked. */
static void
test_stats_exact(void **state)
{
	struct dbgalloc_stats a, b;
	void *p, *q, *r, *s, *z;

	(void)state;
	a = stats();
	p = fn_malloc(1000);
	b = stats();
	assert_non_null(p);
	assert_int_equal(b.live_bytes, a.live_bytes + 1000);
	assert_int_equal(b.live_blocks, a.live_blocks + 1);
	assert_int_equal(b.total_allocs, a.total_allocs + 1);
	assert_int_equal(b.total_bytes, a.total_bytes + 1000);
	assert_int_equal(b.failed_allocs, a.failed_allocs);

	q = fn_calloc(10, 30);
	assert_int_equal(fn_posix_memalign(&r, 256, 5000), 0);
	s = fn_aligned_alloc(4096, 8192);
	z = fn_malloc(0);
	b = stats();
	assert_non_null(q);
	assert_non_null(s);
	assert_non_null(z);
	assert_int_equal(b.live_bytes, a.live_bytes + 1000 + 300 + 5000 + 8192);
	assert_int_equal(b.live_blocks, a.live_blocks + 5);
	assert_int_equal(b.total_allocs, a.total_allocs + 5);
	assert_int_equal(b.total_bytes,
	                 a.total_bytes + 1000 + 300 + 5000 + 8192);

	/* realloc: the allocation of the new block, the free of the old. */
	p = fn_realloc(p, 3000);
	b = stats();
	assert_non_null(p);
	assert_int_equal(b.live_bytes, a.live_bytes + 3000 + 300 + 5000 + 8192);
	assert_int_equal(b.live_blocks, a.live_blocks + 5);
	assert_int_equal(b.total_allocs, a.total_allocs + 6);
	assert_int_equal(b.total_bytes,
	                 a.total_bytes + 1000 + 300 + 5000 + 8192 + 3000);

	fn_free(p);
	fn_free(q);
	fn_free(r);
	fn_free(s);
	fn_free(z);
	b = stats();
	assert_int_equal(b.live_bytes, a.live_bytes);
	assert_int_equal(b.live_blocks, a.live_blocks);
	assert_int_equal(b.total_allocs, a.total_allocs + 6);
	assert_int_equal(b.failed_allocs, a.failed_allocs);
}

/* In one thread the peak is exact: a new high is the live bytes then, and
 * freeing leaves it where it was. */
static void
test_stats_peak_exact(void **state)
{
	struct dbgalloc_stats a, b;
	size_t n, m;
	void *p, *q;

	(void)state;
	a = stats();
	assert_true(a.peak_bytes >= a.live_bytes);
	n = a.peak_bytes - a.live_bytes + 12345; /* 12,345 above the peak */
	assert_true(n < 256 * MiB);
	p = fn_malloc(n);
	assert_non_null(p);
	b = stats();
	assert_int_equal(b.peak_bytes, a.peak_bytes + 12345);
	assert_int_equal(b.peak_bytes, b.live_bytes);
	fn_free(p);
	b = stats();
	assert_int_equal(b.live_bytes, a.live_bytes);
	assert_int_equal(b.peak_bytes, a.peak_bytes + 12345);

	/* Two blocks: the peak is their sum, held only for a moment. */
	m = a.peak_bytes + 12345 - a.live_bytes; /* back to the peak */
	p = fn_malloc(m / 2);
	q = fn_malloc(m - m / 2 + 1);
	assert_non_null(p);
	assert_non_null(q);
	fn_free(p);
	fn_free(q);
	b = stats();
	assert_int_equal(b.peak_bytes, a.peak_bytes + 12345 + 1);
	assert_int_equal(b.live_bytes, a.live_bytes);
}

/* failed_allocs counts each refusal, and only refusals. */
static void
test_stats_failed_allocs(void **state)
{
	struct dbgalloc_stats a, b;
	void *p;

	(void)state;
	leave_room(4 * KiB);
	a = stats();
	for (int i = 0; i < 5; i++)
		assert_null(fn_malloc(8 * KiB));
	p = fn_malloc(100);
	assert_non_null(p);
	b = stats();
	assert_int_equal(b.failed_allocs, a.failed_allocs + 5);
	assert_int_equal(b.total_allocs, a.total_allocs + 1);
	assert_int_equal(b.live_bytes, a.live_bytes + 100);
	assert_int_equal(b.live_blocks, a.live_blocks + 1);
	fn_free(p);
}

/* --- Refusals at the limit -------------------------------------------- */

/* Every entry point: what would cross the limit is refused with ENOMEM,
 * and nothing is counted for it. */
static void
test_refused_every_entry_point(void **state)
{
	const size_t room = 64 * KiB;
	struct dbgalloc_stats a, b;
	void *p = NULL;

	(void)state;
	leave_room(room);
	a = stats();
	errno = 0;
	assert_null(fn_malloc(room + 1));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(fn_calloc(1, room + 1));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(fn_calloc(room / 16 + 1, 16));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(fn_realloc(NULL, room + 1));
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(fn_posix_memalign(&p, 64, room + 1), ENOMEM);
	errno = 0;
	assert_null(fn_aligned_alloc(64, room + 64));
	assert_int_equal(errno, ENOMEM);
	b = stats();
	assert_int_equal(b.failed_allocs, a.failed_allocs + 6);
	assert_int_equal(b.live_bytes, a.live_bytes);
	assert_int_equal(b.live_blocks, a.live_blocks);
	assert_int_equal(b.total_allocs, a.total_allocs);
	assert_int_equal(b.total_bytes, a.total_bytes);

	/* The same sizes less the byte (or alignment) too many fit. */
	p = fn_malloc(room);
	assert_non_null(p);
	fn_free(p);
	p = fn_calloc(room / 16, 16);
	assert_non_null(p);
	fn_free(p);
	assert_int_equal(fn_posix_memalign(&p, 64, room), 0);
	fn_free(p);
	p = fn_aligned_alloc(64, room);
	assert_non_null(p);
	fn_free(p);
}

/* The exact boundary, in one thread: with limit L and X live, L - X bytes
 * are granted, and then not one byte more. */
static void
test_exact_boundary(void **state)
{
	const size_t rooms[] = {1, 100, 4096, 64 * KiB + 7, 3 * MiB + 11};
	void *p, *q;

	(void)state;
	for (size_t i = 0; i < sizeof(rooms) / sizeof(rooms[0]); i++) {
		size_t limit = stats().live_bytes + rooms[i];

		dbgalloc_limit_set(limit);
		p = fn_malloc(rooms[i]);
		assert_non_null(p);
		assert_int_equal(stats().live_bytes, limit);
		errno = 0;
		assert_null(fn_malloc(1));
		assert_int_equal(errno, ENOMEM);
		q = fn_malloc(0); /* no byte: not past the limit */
		assert_non_null(q);
		fn_free(q);
		fn_free(p);
		/* Split in two, the same sum fits. */
		p = fn_malloc(rooms[i] / 2);
		q = fn_malloc(rooms[i] - rooms[i] / 2);
		assert_non_null(p);
		assert_non_null(q);
		assert_null(fn_malloc(1));
		fn_free(p);
		fn_free(q);
		dbgalloc_limit_set(0);
	}
}

/* A refusal leaves what the program holds as it was; after frees the same
 * allocation succeeds. */
static void
test_held_memory_untouched(void **state)
{
	enum { N = 16 };
	const size_t size = 10 * KiB;
	void *held[N];
	int i;

	(void)state;
	leave_room(N * size);
	for (i = 0; i < N; i++) {
		held[i] = fn_malloc(size);
		assert_non_null(held[i]);
		fill(held[i], size, (unsigned)i);
	}
	for (i = 0; i < 100; i++)
		assert_null(fn_malloc(size));
	assert_null(fn_calloc(1, size));
	for (i = 0; i < N; i++) {
		assert_int_equal(dbgalloc_owns(held[i]), 1);
		assert_true(intact(held[i], size, (unsigned)i));
	}
	fn_free(held[0]);
	fn_free(held[1]);
	held[0] = fn_malloc(2 * size);
	assert_non_null(held[0]);
	fill(held[0], 2 * size, 99);
	held[1] = NULL;
	assert_null(fn_malloc(1));
	for (i = 2; i < N; i++)
		assert_true(intact(held[i], size, (unsigned)i));
	for (i = 0; i < N; i++)
		fn_free(held[i]);
	/* All of the room again. */
	void *p = fn_malloc(N * size);
	assert_non_null(p);
	fn_free(p);
}

/* realloc past the limit: NULL, ENOMEM, and the old block still live with
 * its contents. */
static void
test_realloc_refused_keeps_block(void **state)
{
	const size_t sizes[] = {24, 5000, 300 * KiB};
	struct dbgalloc_stats a, b;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		void *p = fn_malloc(n);

		assert_non_null(p);
		fill(p, n, 7);
		leave_room(1000);
		a = stats();
		errno = 0;
		assert_null(fn_realloc(p, n + 1001));
		assert_int_equal(errno, ENOMEM);
		b = stats();
		assert_int_equal(dbgalloc_owns(p), 1);
		assert_true(intact(p, n, 7));
		assert_int_equal(b.live_bytes, a.live_bytes);
		assert_int_equal(b.live_blocks, a.live_blocks);
		assert_int_equal(b.total_allocs, a.total_allocs);
		assert_int_equal(b.total_bytes, a.total_bytes);
		assert_int_equal(b.failed_allocs, a.failed_allocs + 1);
		/* The block still works: written, grown within the room,
		 * freed. */
		fill(p, n, 8);
		p = fn_realloc(p, n + 1000);
		assert_non_null(p);
		assert_true(intact(p, n, 8));
		dbgalloc_limit_set(0);
		fn_free(p);
	}
}

/* realloc counts the change of size: it may shrink under a limit that
 * leaves no room at all, and grow by the room there is, not by more. */
static void
test_realloc_counts_change(void **state)
{
	const size_t sizes[] = {100, 8000, 1 * MiB};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		void *p = fn_malloc(n);

		assert_non_null(p);
		fill(p, n / 2, 3);
		leave_room(0);
		assert_null(fn_malloc(1));
		p = fn_realloc(p, n / 2); /* shrinking: always */
		assert_non_null(p);
		assert_true(intact(p, n / 2, 3));
		/* n - n/2 bytes are free now: the block may grow back. */
		assert_null(fn_realloc(p, n + 1));
		p = fn_realloc(p, n);
		assert_non_null(p);
		assert_true(intact(p, n / 2, 3));
		assert_null(fn_realloc(p, n + 1));
		assert_null(fn_malloc(1));
		dbgalloc_limit_set(0);
		fn_free(p);
	}
}

/* --- 8 threads under a limit ----------------------------------------- */

enum { THREADS = 8, OPS = 200000 };
#define THREAD_ROOM (512 * KiB)

/* The workers (limitload.h) count their own live bytes: never above the
 * room the limit left them; nor is dbgalloc_stats_get's live_bytes,
 * sampled meanwhile, above the limit, nor peak_bytes after. Some
 * allocations are refused, all with ENOMEM, and a shrinking realloc never;
 * when the threads are gone the room is all there again, to the byte. */
static void
test_threads_under_limit(void **state)
{
	static struct limitload l;
	struct limitload_worker_arg a[THREADS];
	pthread_t t[THREADS];
	size_t limit, peak_before = stats().peak_bytes, highest = 0;
	unsigned long samples = 0, sampled_over = 0;

	(void)state;
	memset(&l, 0, sizeof(l));
	l.ops = OPS;
	limit = stats().live_bytes + THREAD_ROOM;
	dbgalloc_limit_set(limit);
	l.room = THREAD_ROOM;
	assert_int_equal(limitload_start(&l, THREADS, t, a, 1), 0);
	while (atomic_load(&l.done) < THREADS) {
		size_t live = stats().live_bytes;

		samples++;
		if (live > limit)
			sampled_over++;
		if (live > highest)
			highest = live;
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	limitload_drain(&l);
	print_message("%lu allocations, %lu refused; %lu samples, the highest "
	              "%zu (limit %zu)\n",
	              atomic_load(&l.allocs), atomic_load(&l.refused), samples,
	              highest, limit);
	assert_int_equal(atomic_load(&l.over), 0);
	assert_int_equal(atomic_load(&l.bad_errno), 0);
	assert_int_equal(atomic_load(&l.shrink_refused), 0);
	assert_int_equal(atomic_load(&l.corrupt), 0);
	assert_true(atomic_load(&l.refused) > 0);
	assert_true(atomic_load(&l.refused) < atomic_load(&l.allocs));
	assert_int_equal(atomic_load(&l.live), 0);
	assert_true(samples > 0);
	assert_int_equal(sampled_over, 0);
	assert_true(stats().peak_bytes <=
	            (peak_before > limit ? peak_before : limit));

	/* One thread again: what the others reserved is all given back. */
	size_t room = limit - stats().live_bytes;
	assert_true(room >= THREAD_ROOM - 32 * KiB);
	void *p = fn_malloc(room);
	assert_non_null(p);
	assert_null(fn_malloc(1));
	fn_free(p);
}

/* --- Scopes ----------------------------------------------------------- */

/* The scopes a test has open, innermost last: its teardown ends them, so
 * that a failed test leaves none behind. Their structs are static, to stay
 * in place when cmocka leaves a failed test's frame. */
static struct dbgalloc_scope *open_scopes[8];
static int n_open;

static int
begin(struct dbgalloc_scope *s, unsigned flags, size_t limit)
{
	int rc = dbgalloc_scope_begin(s, flags, limit);

	if (rc == 0)
		open_scopes[n_open++] = s;
	return rc;
}

static int
end(struct dbgalloc_scope *s)
{
	int rc = dbgalloc_scope_end(s);

	if (rc == 0 && n_open > 0 && open_scopes[n_open - 1] == s)
		n_open--;
	return rc;
}

static int
scope_reset(void **state)
{
	(void)state;
	while (n_open > 0)
		dbgalloc_scope_end(open_scopes[--n_open]);
	dbgalloc_limit_set(0);
	return 0;
}

/* A process scope: what was allocated and freed in it (frees of older
 * blocks too), its peak above the start, and what it left live. */
static void
test_scope_process_counts(void **state)
{
	static struct dbgalloc_scope s;
	void *old, *a, *b, *c;

	(void)state;
	old = fn_malloc(50);
	assert_non_null(old);
	assert_int_equal(begin(&s, 0, 0), 0);
	assert_int_equal(s.limit, 0);
	a = fn_malloc(100);
	b = fn_malloc(200);
	c = fn_calloc(3, 100);
	fn_free(a);
	fn_free(old);
	assert_int_equal(end(&s), 0);
	assert_int_equal(s.allocated_blocks, 3);
	assert_int_equal(s.allocated_bytes, 600);
	assert_int_equal(s.freed_blocks, 2);
	assert_int_equal(s.freed_bytes, 150);
	assert_int_equal(s.peak_bytes, 600);
	assert_int_equal(s.live_blocks, 2);
	assert_int_equal(s.live_bytes, 500);
	assert_int_equal(s.limit_crossed, 0);
	fn_free(b);
	fn_free(c);
}

/* Nested scopes: the inner one sees its part, the outer one all of it. */
static void
test_scope_nested(void **state)
{
	static struct dbgalloc_scope outer, inner;
	void *a, *b, *c, *d;

	(void)state;
	assert_int_equal(begin(&outer, 0, 0), 0);
	a = fn_malloc(1000);
	assert_int_equal(begin(&inner, 0, 0), 0);
	b = fn_malloc(300);
	c = fn_malloc(200);
	fn_free(b);
	assert_int_equal(end(&inner), 0);
	fn_free(a);
	d = fn_malloc(50);
	assert_int_equal(end(&outer), 0);

	assert_int_equal(inner.allocated_blocks, 2);
	assert_int_equal(inner.allocated_bytes, 500);
	assert_int_equal(inner.freed_blocks, 1);
	assert_int_equal(inner.freed_bytes, 300);
	assert_int_equal(inner.peak_bytes, 500);
	assert_int_equal(inner.live_blocks, 1);
	assert_int_equal(inner.live_bytes, 200);

	assert_int_equal(outer.allocated_blocks, 4);
	assert_int_equal(outer.allocated_bytes, 1550);
	assert_int_equal(outer.freed_blocks, 2);
	assert_int_equal(outer.freed_bytes, 1300);
	assert_int_equal(outer.peak_bytes, 1500);
	assert_int_equal(outer.live_blocks, 2);
	assert_int_equal(outer.live_bytes, 250);

	assert_true(inner.allocated_blocks <= outer.allocated_blocks);
	assert_true(inner.allocated_bytes <= outer.allocated_bytes);
	assert_true(inner.freed_bytes <= outer.freed_bytes);
	assert_true(inner.peak_bytes <= outer.peak_bytes);
	fn_free(c);
	fn_free(d);
}

/* The other thread of the thread-scope test: allocates when told to,
 * keeps its blocks until told to free them. */
static sem_t go_alloc, allocated, go_free;

static void *
scope_other_thread(void *arg)
{
	void *p[10];

	(void)arg;
	sem_wait(&go_alloc);
	for (int i = 0; i < 10; i++)
		p[i] = fn_malloc(1000);
	sem_post(&allocated);
	sem_wait(&go_free);
	for (int i = 0; i < 10; i++)
		fn_free(p[i]);
	return NULL;
}

/* DBGALLOC_SCOPE_THREAD counts the calling thread only; a process scope
 * open at the same time sees the other thread's blocks too. The other
 * thread is made before the scopes begin (pthread_create allocates). */
static void
test_scope_thread_ignores_others(void **state)
{
	static struct dbgalloc_scope proc, mine;
	pthread_t t;
	void *a, *b;

	(void)state;
	assert_int_equal(sem_init(&go_alloc, 0, 0), 0);
	assert_int_equal(sem_init(&allocated, 0, 0), 0);
	assert_int_equal(sem_init(&go_free, 0, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, scope_other_thread, NULL), 0);
	assert_int_equal(begin(&proc, 0, 0), 0);
	assert_int_equal(begin(&mine, DBGALLOC_SCOPE_THREAD, 0), 0);
	a = fn_malloc(100);
	sem_post(&go_alloc);
	sem_wait(&allocated);
	b = fn_malloc(200);
	assert_int_equal(end(&mine), 0);
	assert_int_equal(end(&proc), 0);
	sem_post(&go_free);
	assert_int_equal(pthread_join(t, NULL), 0);

	assert_int_equal(mine.allocated_blocks, 2);
	assert_int_equal(mine.allocated_bytes, 300);
	assert_int_equal(mine.freed_blocks, 0);
	assert_int_equal(mine.peak_bytes, 300);
	assert_int_equal(mine.live_blocks, 2);
	assert_int_equal(mine.live_bytes, 300);

	assert_true(proc.allocated_blocks >= 12);
	assert_true(proc.allocated_bytes >= 10300);
	assert_true(proc.live_blocks >= 12);
	assert_true(proc.live_bytes >= 10300);
	fn_free(a);
	fn_free(b);
	sem_destroy(&go_alloc);
	sem_destroy(&allocated);
	sem_destroy(&go_free);
}

/* A scope's hard limit refuses like DBGALLOC_LIMIT, counted from the
 * scope's start; frees make room again; it ends with the scope. */
static void
test_scope_limit_refuses(void **state)
{
	const unsigned flags[] = {0, DBGALLOC_SCOPE_THREAD};

	(void)state;
	for (int i = 0; i < 2; i++) {
		static struct dbgalloc_scope s;
		unsigned long long failed = stats().failed_allocs;
		void *p, *q;

		assert_int_equal(begin(&s, flags[i], 10000), 0);
		assert_int_equal(s.limit, 10000);
		p = fn_malloc(6000);
		assert_non_null(p);
		errno = 0;
		assert_null(fn_malloc(4001));
		assert_int_equal(errno, ENOMEM);
		q = fn_malloc(4000); /* to the byte */
		assert_non_null(q);
		assert_null(fn_malloc(1));
		fn_free(p);
		fn_free(q);
		p = fn_malloc(10000);
		assert_non_null(p);
		fn_free(p);
		assert_int_equal(end(&s), 0);
		assert_int_equal(s.limit_crossed, 0);
		assert_int_equal(s.allocated_blocks, 3);
		assert_int_equal(s.peak_bytes, 10000);
		assert_int_equal(stats().failed_allocs, failed + 2);
		/* Ended: no limit any more. */
		p = fn_malloc(20000);
		assert_non_null(p);
		fn_free(p);
	}
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* noinline, and not a tail call: the frame the listings must name. */
__attribute__((noinline)) static void *
scope_site_alloc(size_t n)
{
	void *p = fn_malloc(n);

	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

/* DBGALLOC_SCOPE_WATCH: the limit refuses nothing, but its first crossing
 * is recorded with the bytes above the start and the sites then. */
static void
test_scope_watch(void **state)
{
	const unsigned flags[] = {DBGALLOC_SCOPE_WATCH,
	                          DBGALLOC_SCOPE_WATCH | DBGALLOC_SCOPE_THREAD};
	char buf[4096];

	(void)state;
	for (int i = 0; i < 2; i++) {
		static struct dbgalloc_scope s;
		unsigned long long failed = stats().failed_allocs;
		void *p[4];

		assert_int_equal(begin(&s, flags[i], 1000), 0);
		p[0] = scope_site_alloc(600);
		p[1] = scope_site_alloc(300);
		p[2] = scope_site_alloc(600); /* crosses: 1,500 > 1,000 */
		p[3] = scope_site_alloc(5000);
		for (int j = 0; j < 4; j++)
			assert_non_null(p[j]);
		assert_int_equal(end(&s), 0);
		assert_int_equal(s.limit_crossed, 1);
		assert_int_equal(s.crossed_at, 1500);
		assert_int_equal(s.peak_bytes, 6500);
		assert_int_equal(stats().failed_allocs, failed);
		/* At the crossing the scope held the first two blocks. */
		dbgalloc_scope_sites(&s, DBGALLOC_SITES_AT_LIMIT, 8, buf,
		                     sizeof(buf));
		assert_true(starts(buf, "  900 bytes in 2 blocks allocated "
		                        "from:\n"));
		assert_non_null(strstr(buf, " in scope_site_alloc "));
		for (int j = 0; j < 4; j++)
			fn_free(p[j]);
	}
}

/* The limit not crossed: limit_crossed stays 0. */
static void
test_scope_watch_not_crossed(void **state)
{
	static struct dbgalloc_scope s;
	void *p;

	(void)state;
	assert_int_equal(begin(&s, DBGALLOC_SCOPE_WATCH, 1000), 0);
	p = fn_malloc(1000);
	fn_free(p);
	p = fn_malloc(1000);
	assert_int_equal(end(&s), 0);
	assert_int_equal(s.limit_crossed, 0);
	assert_int_equal(s.crossed_at, 0);
	assert_int_equal(s.peak_bytes, 1000);
	fn_free(p);
}

/* dbgalloc_scope_sites: the live blocks' sites, most bytes first, each
 * named by the function that allocated. */
static void
test_scope_sites_live(void **state)
{
	static struct dbgalloc_scope s;
	char buf[4096], small[64];
	void *p[3], *q;
	size_t n;

	(void)state;
	assert_int_equal(begin(&s, 0, 0), 0);
	for (int i = 0; i < 3; i++)
		p[i] = scope_site_alloc(2000);
	q = fn_malloc(100);
	assert_int_equal(end(&s), 0);
	assert_int_equal(s.live_blocks, 4);
	assert_int_equal(s.live_bytes, 6100);

	n = dbgalloc_scope_sites(&s, DBGALLOC_SITES_LIVE, 8, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_true(starts(buf, "  6,000 bytes in 3 blocks allocated from:\n"));
	const char *site = strstr(buf, "\n");
	assert_non_null(site);
	assert_non_null(strstr(site, " in scope_site_alloc "));
	assert_non_null(strstr(buf, "\n  100 bytes in 1 block allocated "
	                            "from:\n"));
	assert_true(strstr(buf, "  100 bytes") >
	            strstr(buf, " in scope_site_alloc "));

	/* At most one site; and a buffer too small for a line. */
	dbgalloc_scope_sites(&s, DBGALLOC_SITES_LIVE, 1, buf, sizeof(buf));
	assert_null(strstr(buf, "100 bytes"));
	n = dbgalloc_scope_sites(&s, DBGALLOC_SITES_LIVE, 8, small,
	                         sizeof(small));
	assert_true(n < sizeof(small));
	assert_int_equal(n, strlen(small));
	for (int i = 0; i < 3; i++)
		fn_free(p[i]);
	fn_free(q);
}

/* Scopes end innermost first: any other is EINVAL and stays open. */
static void
test_scope_end_order(void **state)
{
	static struct dbgalloc_scope outer, inner;

	(void)state;
	assert_int_equal(begin(&outer, 0, 0), 0);
	assert_int_equal(begin(&inner, DBGALLOC_SCOPE_THREAD, 0), 0);
	errno = 0;
	assert_int_equal(end(&outer), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(end(&inner), 0);
	assert_int_equal(end(&outer), 0);
	/* Ended already. */
	errno = 0;
	assert_int_equal(end(&outer), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(end(NULL), -1);
	assert_int_equal(errno, EINVAL);
}

static void
test_scope_unknown_flags(void **state)
{
	static struct dbgalloc_scope s;

	(void)state;
	errno = 0;
	assert_int_equal(begin(&s, 4, 0), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(begin(&s, DBGALLOC_SCOPE_WATCH | 0x100, 1000), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(begin(NULL, 0, 0), -1);
	assert_int_equal(errno, EINVAL);
	/* Nothing was begun. */
	errno = 0;
	assert_int_equal(end(&s), -1);
	assert_int_equal(errno, EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_limit_set_get, no_limit),
	        cmocka_unit_test_teardown(test_stats_exact, no_limit),
	        cmocka_unit_test_teardown(test_stats_peak_exact, no_limit),
	        cmocka_unit_test_teardown(test_stats_failed_allocs, no_limit),
	        cmocka_unit_test_teardown(test_refused_every_entry_point,
	                                  no_limit),
	        cmocka_unit_test_teardown(test_exact_boundary, no_limit),
	        cmocka_unit_test_teardown(test_held_memory_untouched, no_limit),
	        cmocka_unit_test_teardown(test_realloc_refused_keeps_block,
	                                  no_limit),
	        cmocka_unit_test_teardown(test_realloc_counts_change, no_limit),
	        cmocka_unit_test_teardown(test_threads_under_limit, no_limit),
	        cmocka_unit_test_teardown(test_scope_process_counts,
	                                  scope_reset),
	        cmocka_unit_test_teardown(test_scope_nested, scope_reset),
	        cmocka_unit_test_teardown(test_scope_thread_ignores_others,
	                                  scope_reset),
	        cmocka_unit_test_teardown(test_scope_limit_refuses,
	                                  scope_reset),
	        cmocka_unit_test_teardown(test_scope_watch, scope_reset),
	        cmocka_unit_test_teardown(test_scope_watch_not_crossed,
	                                  scope_reset),
	        cmocka_unit_test_teardown(test_scope_sites_live, scope_reset),
	        cmocka_unit_test_teardown(test_scope_end_order, scope_reset),
	        cmocka_unit_test_teardown(test_scope_unknown_flags,
	                                  scope_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
