/*
 * threads.c — multithreaded stress: 8 threads × 1,000,000 random
 * operations (malloc, calloc, realloc, posix_memalign, aligned_alloc, free)
 * on sizes from 1 B to 64 KiB, skewed small, with an occasional 1 MiB
 * block. Threads swap blocks through a shared exchange array, so blocks are
 * reallocated and freed by threads other than the one that made them.
 * Every block carries a pattern derived from a unique tag, checked before
 * every realloc and free: an overlap, a lost realloc prefix or a stray write
 * stops the run with exit status 1.
 *
 *   threads [--expect-dbgalloc] [OPS_PER_THREAD [THREADS]]
 *   DA_STRESS_SEED=N changes the random seed (printed on failure).
 */

#include <malloc.h>
#include <pthread.h>

#include "tests/integration/probe.h"

enum { MAX_THREADS = 64, NLOCAL = 1024, NEXCHANGE = 256 };

struct block {
	void *p;
	size_t n;
	size_t align; /* 0: default alignment */
	uint64_t tag; /* pattern seed; unique per allocation */
};

struct exchange {
	pthread_mutex_t lock;
	struct block b;
};

static struct exchange exchange[NEXCHANGE];
static long ops_per_thread = 1000000;
static unsigned long long seed = 0x5eed;
static int stop; /* set on the first corruption: every thread stops */

static void *(*volatile fn_malloc)(size_t) = malloc;
static void *(*volatile fn_calloc)(size_t, size_t) = calloc;
static void *(*volatile fn_realloc)(void *, size_t) = realloc;
static void (*volatile fn_free)(void *) = free;
static int (*volatile fn_posix_memalign)(void **, size_t,
                                         size_t) = posix_memalign;
static void *(*volatile fn_aligned_alloc)(size_t, size_t) = aligned_alloc;

struct rng {
	uint64_t s;
};

static uint64_t
next(struct rng *r)
{
	/* splitmix64 */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* 1 B – 64 KiB, most requests small; one in 10,000 is about 1 MiB. */
static size_t
random_size(struct rng *r)
{
	uint64_t x = next(r);
	unsigned pick = (unsigned)(x % 10000);

	x >>= 16;
	if (pick == 0)
		return ((size_t)1 << 20) + x % 8192;
	if (pick < 200)
		return 1 + x % 65536;
	if (pick < 1500)
		return 1 + x % 4096;
	return 1 + x % 256;
}

static int
fail_block(const char *what, const struct block *b, size_t off, long op)
{
	fprintf(stderr,
	        "FAIL threads: %s: block %p (%zu bytes, align %zu, tag %#llx) "
	        "byte %zu, operation %ld, seed %llu\n",
	        what, b->p, b->n, b->align, (unsigned long long)b->tag, off, op,
	        seed);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	probe_fail(__FILE__, __LINE__, what);
	return -1;
}

/* Checks a live block: alignment, pattern, and (sometimes) ownership. */
static int
verify(const struct block *b, long op, int deep)
{
	size_t off = pattern_check_from(b->p, 0, b->n, b->tag);

	if (off != b->n)
		return fail_block("pattern overwritten", b, off, op);
	if (((uintptr_t)b->p & ((b->align ? b->align : 16) - 1)) != 0)
		return fail_block("misaligned", b, 0, op);
	if (deep) {
		if (malloc_usable_size(b->p) < b->n)
			return fail_block("usable size too small", b, 0, op);
		if (!probe_owned(b->p))
			return fail_block("not owned by dbgalloc", b, 0, op);
	}
	return 0;
}

static int
allocate(struct block *b, struct rng *r, uint64_t tag, long op)
{
	uint64_t x = next(r);
	size_t i;
	unsigned char *c;

	b->n = random_size(r);
	b->align = 0;
	b->tag = tag;
	switch (x % 20) {
	case 0:
	case 1:
	case 2:
		b->p = fn_calloc(1, b->n);
		c = b->p;
		for (i = 0; c != NULL && i < b->n && c[i] == 0; i++)
			;
		if (c != NULL && i < b->n) {
			pattern_fill(b->p, b->n, b->tag);
			return fail_block("calloc not zeroed", b, i, op);
		}
		break;
	case 3:
	case 4:
		b->align = (size_t)8 << (x >> 8) % 10; /* 8 .. 4096 */
		b->p = NULL;
		if (fn_posix_memalign(&b->p, b->align, b->n) != 0)
			b->p = NULL;
		break;
	case 5:
		b->align = (size_t)16 << (x >> 8) % 8; /* 16 .. 2048 */
		b->p = fn_aligned_alloc(b->align, b->n);
		break;
	case 6:
		b->p = fn_realloc(NULL, b->n);
		break;
	default:
		b->p = fn_malloc(b->n);
		break;
	}
	if (b->p == NULL)
		return fail_block("allocation failed", b, 0, op);
	pattern_fill(b->p, b->n, b->tag);
	return 0;
}

static int
release(struct block *b, long op, int deep)
{
	int rc = verify(b, op, deep);

	fn_free(b->p);
	b->p = NULL;
	return rc;
}

static int
resize(struct block *b, struct rng *r, long op)
{
	size_t n = random_size(r), keep;
	void *q;

	if (verify(b, op, 0) != 0)
		return -1;
	q = fn_realloc(b->p, n);
	if (q == NULL)
		return fail_block("realloc failed", b, 0, op);
	keep = n < b->n ? n : b->n;
	b->p = q;
	if (pattern_check_from(q, 0, keep, b->tag) != keep)
		return fail_block("realloc lost contents", b,
		                  pattern_check_from(q, 0, keep, b->tag), op);
	pattern_fill_from(q, keep, n, b->tag);
	b->n = n;
	b->align = 0; /* realloc promises the default alignment only */
	return 0;
}

static void *
worker(void *arg)
{
	const uintptr_t id = (uintptr_t)arg;
	struct block *local, tmp;
	struct rng r = {seed * 1000003 + id};
	uint64_t serial = 0;
	long op;
	unsigned x;
	int i, rc = 0;

	local = fn_calloc(NLOCAL, sizeof(*local));
	if (local == NULL) {
		probe_fail(__FILE__, __LINE__, "calloc(local)");
		return NULL;
	}
	for (op = 0; op < ops_per_thread && rc == 0; op++) {
		uint64_t v = next(&r);
		struct block *b = &local[(v >> 32) % NLOCAL];

		if ((op & 1023) == 0 &&
		    __atomic_load_n(&stop, __ATOMIC_RELAXED))
			break;
		x = (unsigned)(v % 100);
		if (x < 6) {
			/* Swap with the exchange: take another thread's block. */
			struct exchange *e = &exchange[(v >> 8) % NEXCHANGE];

			pthread_mutex_lock(&e->lock);
			tmp = e->b;
			e->b = *b;
			pthread_mutex_unlock(&e->lock);
			*b = tmp;
			if (b->p != NULL)
				rc = verify(b, op, 1);
		} else if (b->p == NULL) {
			rc = allocate(b, &r, (uint64_t)id << 48 | ++serial, op);
		} else if (x < 70) {
			rc = release(b, op, (v >> 16) % 8 == 0);
		} else {
			rc = resize(b, &r, op);
		}
	}
	for (i = 0; i < NLOCAL; i++)
		if (local[i].p != NULL)
			release(&local[i], op, 1);
	fn_free(local);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t[MAX_THREADS];
	long nthreads = 8;
	const char *s;
	uintptr_t i;

	probe_start(&argc, argv);
	probe_watchdog(180); /* a few seconds normally: a hang fails fast */
	if (argc > 1)
		ops_per_thread = strtol(argv[1], NULL, 10);
	if (argc > 2)
		nthreads = strtol(argv[2], NULL, 10);
	if ((s = getenv("DA_STRESS_SEED")) != NULL)
		seed = strtoull(s, NULL, 0);
	if (ops_per_thread <= 0 || nthreads <= 0 || nthreads > MAX_THREADS) {
		fprintf(stderr, "usage: threads [--expect-dbgalloc] "
		                "[OPS_PER_THREAD [THREADS <= 64]]\n");
		return 2;
	}
	for (i = 0; i < NEXCHANGE; i++)
		pthread_mutex_init(&exchange[i].lock, NULL);
	for (i = 0; i < (uintptr_t)nthreads; i++)
		CHECK(pthread_create(&t[i], NULL, worker, (void *)(i + 1)) ==
		      0);
	for (i = 0; i < (uintptr_t)nthreads; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	/* What is left in the exchange was made by other threads. */
	for (i = 0; i < NEXCHANGE; i++)
		if (exchange[i].b.p != NULL)
			release(&exchange[i].b, -1, 1);
	printf("threads: %ld threads x %ld operations, seed %llu: %s\n",
	       nthreads, ops_per_thread, seed,
	       probe_failures ? "FAILED" : "ok");
	return probe_status();
}
