/*
 * api.c — the public allocation API against glibc's documented behaviour,
 * linked with libdbgalloc: one cmocka test per behaviour of every entry
 * point (sizes, alignment, errno, overflow, realloc rules, usable size,
 * ownership). Every call goes through a volatile function pointer so gcc
 * can neither fold malloc/free pairs nor reject impossible sizes
 * (PITFALLS 20); the file is also built with -fno-builtin.
 */

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "shim/dbgalloc.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)

/* Opaque entry points: gcc sees neither the callee nor its attributes. */
static void *(*volatile fn_malloc)(size_t) = malloc;
static void *(*volatile fn_calloc)(size_t, size_t) = calloc;
static void *(*volatile fn_realloc)(void *, size_t) = realloc;
static void *(*volatile fn_reallocarray)(void *, size_t, size_t) = reallocarray;
static void (*volatile fn_free)(void *) = free;
static int (*volatile fn_posix_memalign)(void **, size_t,
                                         size_t) = posix_memalign;
static void *(*volatile fn_aligned_alloc)(size_t, size_t) = aligned_alloc;
static void *(*volatile fn_memalign)(size_t, size_t) = memalign;
static void *(*volatile fn_valloc)(size_t) = valloc;
static void *(*volatile fn_pvalloc)(size_t) = pvalloc;
static size_t (*volatile fn_usable)(void *) = malloc_usable_size;
static void (*volatile fn_free_sized)(void *, size_t) = free_sized;
static void (*volatile fn_free_aligned_sized)(void *, size_t,
                                              size_t) = free_aligned_sized;
static int (*volatile fn_owns)(const void *) = dbgalloc_owns;

static char static_buffer[256];
static const char static_string[] = "not a heap block";

static size_t
page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static int
aligned_to(const void *p, size_t alignment)
{
	return ((uintptr_t)p & (alignment - 1)) == 0;
}

static int
power_of_two(size_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static size_t
next_power_of_two(size_t n)
{
	size_t a = 1;

	while (a < n)
		a <<= 1;
	return a;
}

/* Byte i of a test pattern; varies with the offset so moves are caught. */
static unsigned char
pat(size_t i, unsigned seed)
{
	return (unsigned char)(i * 131u + (i >> 8) * 7u + (i >> 16) + seed);
}

static void
fill(unsigned char *p, size_t from, size_t to, unsigned seed)
{
	size_t i;

	for (i = from; i < to; i++)
		p[i] = pat(i, seed);
}

/* Offset of the first byte in [0, n) that lost its pattern, or n. */
static size_t
first_bad(const unsigned char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != pat(i, seed))
			return i;
	return n;
}

static int
all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Resident set size in bytes, from /proc/self/statm. */
static size_t
rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
	fclose(f);
	return (size_t)resident * page_size();
}

/*
 * A live block as every test wants it: non-NULL, 16-byte aligned, owned,
 * usable size at least n, and every usable byte writable.
 */
static void
check_block(void *p, size_t n)
{
	size_t usable;

	assert_non_null(p);
	assert_true(aligned_to(p, 16));
	assert_int_equal(fn_owns(p), 1);
	usable = fn_usable(p);
	assert_true(usable >= n);
	memset(p, 0x5a, usable < 64 * KiB ? usable : 64 * KiB);
	if (usable > 0)
		((volatile unsigned char *)p)[usable - 1] = 0xa5;
}

/* Sizes that cross every small class boundary and the large threshold. */
static const size_t odd_sizes[] = {
        1,       2,       3,        7,        8,        9,       15,
        16,      17,      24,       31,       32,       33,      48,
        63,      64,      65,       96,       127,      128,     129,
        192,     255,     256,      257,      384,      511,     512,
        513,     767,     1000,     1023,     1024,     1025,    1500,
        2047,    2048,    2049,     3000,     4095,     4096,    4097,
        6000,    8191,    8192,     8193,     12345,    16383,   16384,
        16385,   32767,   32768,    32769,    65535,    65536,   65537,
        100000,  131071,  131072,   131073,   262143,   262144,  262145,
        500000,  1048575, 1048576,  1048577,  2097153,  4194305, 8388607,
        8388608, 8388609, 16777217, 33554431, 67108865,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Sizes that cannot be allocated: near SIZE_MAX and above PTRDIFF_MAX. */
static const size_t impossible_sizes[] = {
        SIZE_MAX,
        SIZE_MAX - 1,
        SIZE_MAX - 7,
        SIZE_MAX - 15,
        SIZE_MAX - 16,
        SIZE_MAX - 31,
        SIZE_MAX - 4095,
        SIZE_MAX - 4096,
        SIZE_MAX - 65536,
        SIZE_MAX - MiB,
        SIZE_MAX / 2 + 1, /* PTRDIFF_MAX + 1 */
        (size_t)PTRDIFF_MAX + 2,
        (size_t)PTRDIFF_MAX,
        (size_t)PTRDIFF_MAX - 4096,
        (size_t)1 << 62,
        (size_t)1 << 56,
        (size_t)1 << 48,
};

static void
test_version(void **state)
{
	const char *v = dbgalloc_version();
	char want[64];

	(void)state;
	assert_non_null(v);
	assert_true(strlen(v) > 0);
	snprintf(want, sizeof(want), "%d.%d.%d", DBGALLOC_VERSION_MAJOR,
	         DBGALLOC_VERSION_MINOR, DBGALLOC_VERSION_PATCH);
	assert_string_equal(v, want);
	assert_string_equal(v, PACKAGE_VERSION);
}

static void
test_malloc_sizes(void **state)
{
	size_t i, n;
	void *p;

	(void)state;
	for (n = 1; n <= 4096; n++) {
		p = fn_malloc(n);
		check_block(p, n);
		fn_free(p);
	}
	for (i = 0; i < NELEM(odd_sizes); i++) {
		p = fn_malloc(odd_sizes[i]);
		check_block(p, odd_sizes[i]);
		fn_free(p);
		assert_int_equal(fn_owns(p), 0);
	}
}

static void
test_malloc_zero_unique(void **state)
{
	enum { N = 1000 };
	void *p[N];
	int i, j;

	(void)state;
	for (i = 0; i < N; i++) {
		p[i] = fn_malloc(0);
		assert_non_null(p[i]);
		assert_true(aligned_to(p[i], 16));
		assert_int_equal(fn_owns(p[i]), 1);
		for (j = 0; j < i; j++)
			assert_ptr_not_equal(p[i], p[j]);
	}
	for (i = 0; i < N; i++) {
		fn_free(p[i]);
		assert_int_equal(fn_owns(p[i]), 0);
	}
}

static void
test_malloc_impossible_enomem(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(impossible_sizes); i++) {
		errno = 0;
		assert_null(fn_malloc(impossible_sizes[i]));
		assert_int_equal(errno, ENOMEM);
	}
}

/* 5 GiB must not be truncated to 32 bits (PITFALLS 8). */
static void
test_malloc_5gib(void **state)
{
	static const size_t sizes[] = {((size_t)5 << 30), ((size_t)4 << 30),
	                               ((size_t)4 << 30) + 1,
	                               ((size_t)4 << 30) + 4096};
	volatile unsigned char *p;
	size_t i, n;

	(void)state;
	for (i = 0; i < NELEM(sizes); i++) {
		n = sizes[i];
		errno = 0;
		p = fn_malloc(n);
		if (p == NULL) {
			/* No overcommit here: failing cleanly is allowed. */
			assert_int_equal(errno, ENOMEM);
			continue;
		}
		assert_true(aligned_to((void *)p, 16));
		assert_int_equal(fn_owns((void *)p), 1);
		assert_true(fn_usable((void *)p) >= n);
		/* Touch a few pages only: the block stays uncommitted. */
		if (n > ((size_t)4 << 30))
			p[(size_t)4 << 30] = 3;
		p[0] = 1;
		p[n / 2] = 2;
		p[n - 1] = 4;
		assert_int_equal(p[0], 1);
		assert_int_equal(p[n / 2], 2);
		assert_int_equal(p[n - 1], 4);
		fn_free((void *)p);
	}
}

/* Huge fresh blocks are not filled or zeroed page by page (PITFALLS 18). */
static void
test_large_blocks_not_committed(void **state)
{
	const size_t n = GiB, limit = 64 * MiB;
	unsigned char *p;
	size_t before, i;

	(void)state;
	before = rss_bytes();
	p = fn_malloc(n);
	assert_non_null(p);
	assert_true(rss_bytes() < before + limit);
	fn_free(p);

	before = rss_bytes();
	p = fn_calloc(1, n);
	assert_non_null(p);
	for (i = 0; i < n; i += n / 64 + 4096)
		assert_int_equal(p[i], 0);
	assert_int_equal(p[n - 1], 0);
	assert_true(rss_bytes() < before + limit);
	fn_free(p);
}

/* Many live blocks of mixed sizes: usable ranges never overlap. */
static int
by_address(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (void *const *)a;
	uintptr_t y = (uintptr_t) * (void *const *)b;

	return x < y ? -1 : x > y;
}

static void
test_no_overlap(void **state)
{
	enum { N = 20000 };
	void **p = fn_malloc(N * sizeof(*p));
	unsigned x = 12345;
	size_t i, n;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		n = (x >> 16) % 64 == 0 ? (x >> 8) % 70000 : (x >> 16) % 600;
		p[i] = fn_malloc(n);
		assert_non_null(p[i]);
		memset(p[i], (int)(i & 0xff), fn_usable(p[i]));
	}
	qsort(p, N, sizeof(*p), by_address);
	for (i = 0; i + 1 < N; i++)
		assert_true((uintptr_t)p[i] + fn_usable(p[i]) <=
		            (uintptr_t)p[i + 1]);
	for (i = 0; i < N; i++)
		fn_free(p[i]);
	fn_free(p);
}

static void
test_calloc_zeroed(void **state)
{
	size_t i, n;
	unsigned char *p;

	(void)state;
	for (i = 0; i < NELEM(odd_sizes); i++) {
		n = odd_sizes[i];
		p = fn_calloc(1, n);
		assert_non_null(p);
		assert_true(all_zero(p, n));
		check_block(p, n);
		fn_free(p);
		p = fn_calloc(n, 1);
		assert_non_null(p);
		assert_true(all_zero(p, n));
		fn_free(p);
		if (n % 4 == 0) {
			p = fn_calloc(4, n / 4);
			assert_non_null(p);
			assert_true(all_zero(p, n));
			fn_free(p);
		}
	}
	/* Zero-sized products give unique live blocks, like malloc(0). */
	p = fn_calloc(0, 0);
	check_block(p, 0);
	fn_free(p);
	p = fn_calloc(0, 100);
	check_block(p, 0);
	fn_free(p);
	p = fn_calloc(100, 0);
	check_block(p, 0);
	fn_free(p);
}

/* calloc zeroes memory that a freed block left dirty. */
static void
test_calloc_reused_zeroed(void **state)
{
	static const size_t sizes[] = {1,    16,      24,       100,   256,
	                               1000, 4096,    10000,    65536, 200000,
	                               MiB,  4 * MiB, 100 * KiB};
	enum { N = 32 };
	unsigned char *p[N];
	size_t i, n;
	int round, k;

	(void)state;
	for (i = 0; i < NELEM(sizes); i++) {
		n = sizes[i];
		for (round = 0; round < 3; round++) {
			for (k = 0; k < N; k++) {
				p[k] = fn_malloc(n);
				assert_non_null(p[k]);
				memset(p[k], 0xa5, fn_usable(p[k]));
			}
			for (k = 0; k < N; k++)
				fn_free(p[k]);
			for (k = 0; k < N; k++) {
				p[k] = round == 1 ? fn_calloc(n, 1)
				                  : fn_calloc(1, n);
				assert_non_null(p[k]);
				assert_true(all_zero(p[k], n));
				memset(p[k], 0x5a, n);
			}
			for (k = 0; k < N; k++)
				fn_free(p[k]);
		}
	}
}

static void
test_calloc_overflow(void **state)
{
	static const size_t pairs[][2] = {
	        {SIZE_MAX, 2},
	        {2, SIZE_MAX},
	        {SIZE_MAX / 2 + 1, 2},
	        {(size_t)1 << 32, (size_t)1 << 32},
	        {((size_t)1 << 33) + 1, ((size_t)1 << 31) + 1},
	        {SIZE_MAX / 3 + 1, 3},
	        {SIZE_MAX / 16 + 1, 16},
	        {65537, SIZE_MAX / 65536},
	        {SIZE_MAX, SIZE_MAX},
	        {SIZE_MAX, 1},
	        {1, SIZE_MAX},
	        {(size_t)PTRDIFF_MAX + 1, 1},
	        {1, (size_t)PTRDIFF_MAX + 1},
	        {((size_t)PTRDIFF_MAX + 1) / 2, 2},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(pairs); i++) {
		errno = 0;
		assert_null(fn_calloc(pairs[i][0], pairs[i][1]));
		assert_int_equal(errno, ENOMEM);
	}
}

/* realloc growth keeps the contents, 1 B to 8 MiB across every class. */
static void
test_realloc_grow(void **state)
{
	unsigned char *p = NULL, *q;
	size_t n = 0, m;

	(void)state;
	for (m = 1; m <= 8 * MiB; m = m * 3 / 2 + 1) {
		q = fn_realloc(p, m);
		assert_non_null(q);
		assert_true(aligned_to(q, 16));
		assert_int_equal(fn_owns(q), 1);
		assert_true(fn_usable(q) >= m);
		assert_int_equal(first_bad(q, n, 1), n);
		fill(q, n, m, 1);
		p = q;
		n = m;
	}
	q = fn_realloc(p, 8 * MiB);
	assert_non_null(q);
	assert_int_equal(first_bad(q, n < 8 * MiB ? n : 8 * MiB, 1),
	                 n < 8 * MiB ? n : 8 * MiB);
	fn_free(q);
}

static void
test_realloc_shrink(void **state)
{
	unsigned char *p, *q;
	size_t n = 8 * MiB, m;

	(void)state;
	p = fn_malloc(n);
	assert_non_null(p);
	fill(p, 0, n, 2);
	for (m = n - 1; m >= 1; m = m * 2 / 3) {
		q = fn_realloc(p, m);
		assert_non_null(q);
		assert_true(aligned_to(q, 16));
		assert_int_equal(fn_owns(q), 1);
		assert_true(fn_usable(q) >= m);
		assert_int_equal(first_bad(q, m, 2), m);
		p = q;
		if (m == 1)
			break;
	}
	fn_free(p);
}

/* A random walk of realloc sizes: the common prefix always survives. */
static void
test_realloc_random_walk(void **state)
{
	unsigned char *p = NULL, *q;
	unsigned x = 4242;
	size_t n = 0, m, keep;
	int i;

	(void)state;
	for (i = 0; i < 400; i++) {
		x = x * 1103515245u + 12345u;
		m = ((size_t)1 << ((x >> 8) % 21)) + (x >> 20) % 4096;
		q = fn_realloc(p, m);
		assert_non_null(q);
		assert_int_equal(fn_owns(q), 1);
		keep = n < m ? n : m;
		assert_int_equal(first_bad(q, keep, 3), keep);
		fill(q, keep, m, 3);
		p = q;
		n = m;
	}
	fn_free(p);
}

static void
test_realloc_null_is_malloc(void **state)
{
	void *p;

	(void)state;
	p = fn_realloc(NULL, 100);
	check_block(p, 100);
	fn_free(p);
	p = fn_realloc(NULL, 0);
	check_block(p, 0);
	fn_free(p);
	p = fn_realloc(NULL, 3 * MiB);
	check_block(p, 3 * MiB);
	fn_free(p);
	errno = 0;
	assert_null(fn_realloc(NULL, SIZE_MAX));
	assert_int_equal(errno, ENOMEM);
}

/* glibc: realloc(p, 0) frees p and returns NULL (PITFALLS 9). */
static void
test_realloc_zero_frees(void **state)
{
	static const size_t sizes[] = {0, 1, 100, 4096, 100000, 4 * MiB};
	void *p;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(sizes); i++) {
		p = fn_malloc(sizes[i]);
		assert_non_null(p);
		assert_int_equal(fn_owns(p), 1);
		assert_null(fn_realloc(p, 0));
		assert_int_equal(fn_owns(p), 0);
	}
}

/* A failed realloc leaves the block alive and unchanged. */
static void
test_realloc_failure_keeps_block(void **state)
{
	static const size_t blocks[] = {1, 100, 5000, 300000, 2 * MiB};
	unsigned char *p;
	size_t i, j, n;

	(void)state;
	for (i = 0; i < NELEM(blocks); i++) {
		n = blocks[i];
		p = fn_malloc(n);
		assert_non_null(p);
		fill(p, 0, n, 4);
		for (j = 0; j < NELEM(impossible_sizes); j++) {
			errno = 0;
			assert_null(fn_realloc(p, impossible_sizes[j]));
			assert_int_equal(errno, ENOMEM);
			assert_int_equal(fn_owns(p), 1);
		}
		assert_int_equal(first_bad(p, n, 4), n);
		fn_free(p);
	}
}

static void
test_reallocarray(void **state)
{
	unsigned char *p, *q;

	(void)state;
	p = fn_reallocarray(NULL, 10, 10);
	check_block(p, 100);
	fill(p, 0, 100, 5);
	q = fn_reallocarray(p, 1000, 100);
	assert_non_null(q);
	assert_true(fn_usable(q) >= 100000);
	assert_int_equal(first_bad(q, 100, 5), 100);
	fill(q, 0, 100000, 5);

	/* Overflowing products fail with ENOMEM and keep the block. */
	errno = 0;
	assert_null(fn_reallocarray(q, SIZE_MAX, 2));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(fn_reallocarray(q, (size_t)1 << 32, (size_t)1 << 32));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(fn_reallocarray(q, SIZE_MAX / 2 + 1, 1));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(fn_reallocarray(NULL, SIZE_MAX / 8 + 1, 8));
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(fn_owns(q), 1);
	assert_int_equal(first_bad(q, 100000, 5), 100000);

	p = fn_reallocarray(q, 10, 1);
	assert_non_null(p);
	assert_int_equal(first_bad(p, 10, 5), 10);
	fn_free(p);
}

/* Power-of-two alignments from sizeof(void *) to 64 MiB. */
static void
test_posix_memalign_alignments(void **state)
{
	static const size_t sizes[] = {0, 1, 7, 17, 100, 4095, 4097, 70000};
	size_t a, i;
	void *p;

	(void)state;
	for (a = sizeof(void *); a <= 64 * MiB; a <<= 1) {
		for (i = 0; i < NELEM(sizes); i++) {
			p = NULL;
			assert_int_equal(fn_posix_memalign(&p, a, sizes[i]), 0);
			check_block(p, sizes[i]);
			assert_true(aligned_to(p, a));
			fn_free(p);
			assert_int_equal(fn_owns(p), 0);
		}
		p = NULL;
		assert_int_equal(fn_posix_memalign(&p, a, a + 1), 0);
		check_block(p, a + 1);
		assert_true(aligned_to(p, a));
		fn_free(p);
	}
}

/* Non-powers of two and alignments below sizeof(void *): EINVAL. */
static void
test_posix_memalign_einval(void **state)
{
	static const size_t bad[] = {
	        0,       SIZE_MAX, SIZE_MAX / 2, ((size_t)1 << 40) + 4096,
	        3 * MiB, 5 * 4096};
	void *const sentinel = (void *)static_buffer;
	void *p;
	size_t a, i;

	(void)state;
	for (a = 1; a <= 4096; a++) {
		if (power_of_two(a) && a >= sizeof(void *))
			continue;
		p = sentinel;
		assert_int_equal(fn_posix_memalign(&p, a, 64), EINVAL);
		assert_ptr_equal(p, sentinel);
	}
	for (i = 0; i < NELEM(bad); i++) {
		p = sentinel;
		assert_int_equal(fn_posix_memalign(&p, bad[i], 64), EINVAL);
		assert_ptr_equal(p, sentinel);
	}
}

/* Impossible sizes: ENOMEM, *memptr untouched, padding never wraps. */
static void
test_posix_memalign_enomem(void **state)
{
	static const size_t aligns[] = {8, 16, 64, 4096, 65536, MiB};
	void *const sentinel = (void *)static_buffer;
	void *p;
	size_t i, j;

	(void)state;
	for (i = 0; i < NELEM(aligns); i++) {
		for (j = 0; j < NELEM(impossible_sizes); j++) {
			p = sentinel;
			assert_int_equal(fn_posix_memalign(&p, aligns[i],
			                                   impossible_sizes[j]),
			                 ENOMEM);
			assert_ptr_equal(p, sentinel);
		}
	}
	/* The largest power of two alignment cannot be satisfied either. */
	p = sentinel;
	assert_int_equal(fn_posix_memalign(&p, SIZE_MAX / 2 + 1, 1), ENOMEM);
	assert_ptr_equal(p, sentinel);
}

/* aligned_alloc: sizes that are not a multiple of the alignment. */
static void
test_aligned_alloc(void **state)
{
	static const size_t extra[] = {1, 3, 100, 4095};
	size_t a, i, n;
	void *p;

	(void)state;
	for (a = 1; a <= 64 * MiB; a <<= 1) {
		for (i = 0; i < NELEM(extra); i++) {
			n = a + extra[i];
			p = fn_aligned_alloc(a, n);
			check_block(p, n);
			assert_true(aligned_to(p, a));
			fn_free(p);
		}
		p = fn_aligned_alloc(a, 1);
		check_block(p, 1);
		assert_true(aligned_to(p, a));
		fn_free(p);
	}
	for (i = 0; i < NELEM(impossible_sizes); i++) {
		errno = 0;
		assert_null(fn_aligned_alloc(4096, impossible_sizes[i]));
		assert_int_equal(errno, ENOMEM);
	}
}

/*
 * aligned_alloc with an alignment that is not a power of two: glibc 2.36
 * rounds it up like memalign, glibc >= 2.38 fails with EINVAL. Either is
 * accepted, a misaligned block is not.
 */
static void
test_aligned_alloc_odd_alignment(void **state)
{
	static const size_t odd[] = {3, 24, 48, 100, 1000, 3000, 4095};
	size_t i;
	void *p;

	(void)state;
	for (i = 0; i < NELEM(odd); i++) {
		errno = 0;
		p = fn_aligned_alloc(odd[i], 2 * odd[i]);
		if (p == NULL) {
			assert_int_equal(errno, EINVAL);
			continue;
		}
		check_block(p, 2 * odd[i]);
		assert_true(aligned_to(p, next_power_of_two(odd[i])));
		fn_free(p);
	}
}

/* memalign rounds every alignment 1..4096 up to a power of two. */
static void
test_memalign_odd_alignments(void **state)
{
	size_t a, n;
	void *p;

	(void)state;
	for (a = 1; a <= 4096; a++) {
		n = (a * 7) % 1000 + 1;
		p = fn_memalign(a, n);
		check_block(p, n);
		assert_true(aligned_to(p, next_power_of_two(a)));
		fn_free(p);
		assert_int_equal(fn_owns(p), 0);
	}
}

static void
test_memalign_large_alignments(void **state)
{
	static const size_t aligns[] = {8192, 65536,   MiB + 1,  2 * MiB,
	                                MiB,  4 * MiB, 64 * MiB, 48 * MiB};
	static const size_t sizes[] = {1, 4096, MiB, 3 * MiB + 5};
	size_t i, j;
	void *p;

	(void)state;
	for (i = 0; i < NELEM(aligns); i++) {
		for (j = 0; j < NELEM(sizes); j++) {
			p = fn_memalign(aligns[i], sizes[j]);
			check_block(p, sizes[j]);
			assert_true(
			        aligned_to(p, next_power_of_two(aligns[i])));
			fn_free(p);
		}
	}
}

static void
test_memalign_errors(void **state)
{
	size_t i;

	(void)state;
	/* Alignments above SIZE_MAX / 2 + 1 cannot be rounded up. */
	errno = 0;
	assert_null(fn_memalign(SIZE_MAX / 2 + 2, 1));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(fn_memalign(SIZE_MAX, 1));
	assert_int_equal(errno, EINVAL);
	/* Sizes that overflow once alignment padding is added. */
	for (i = 0; i < NELEM(impossible_sizes); i++) {
		errno = 0;
		assert_null(fn_memalign(MiB, impossible_sizes[i]));
		assert_int_equal(errno, ENOMEM);
		errno = 0;
		assert_null(fn_memalign(64, impossible_sizes[i]));
		assert_int_equal(errno, ENOMEM);
	}
}

static void
test_valloc(void **state)
{
	static const size_t sizes[] = {0,    1,    100,    4095,
	                               4096, 4097, 100000, 3 * MiB};
	size_t i;
	void *p;

	(void)state;
	for (i = 0; i < NELEM(sizes); i++) {
		p = fn_valloc(sizes[i]);
		check_block(p, sizes[i]);
		assert_true(aligned_to(p, page_size()));
		fn_free(p);
		assert_int_equal(fn_owns(p), 0);
	}
	for (i = 0; i < NELEM(impossible_sizes); i++) {
		errno = 0;
		assert_null(fn_valloc(impossible_sizes[i]));
		assert_int_equal(errno, ENOMEM);
	}
}

/* pvalloc: page-aligned, usable size rounded up to whole pages. */
static void
test_pvalloc(void **state)
{
	static const size_t sizes[] = {1,    100,  4095,   4096,       4097,
	                               8191, 8193, 100000, 3 * MiB + 1};
	const size_t pg = page_size();
	size_t i, n;
	void *p;

	(void)state;
	for (i = 0; i < NELEM(sizes); i++) {
		n = (sizes[i] + pg - 1) / pg * pg;
		p = fn_pvalloc(sizes[i]);
		check_block(p, n);
		assert_true(aligned_to(p, pg));
		fn_free(p);
	}
	p = fn_pvalloc(0);
	check_block(p, 0);
	assert_true(aligned_to(p, pg));
	fn_free(p);
	for (i = 0; i < NELEM(impossible_sizes); i++) {
		errno = 0;
		assert_null(fn_pvalloc(impossible_sizes[i]));
		assert_int_equal(errno, ENOMEM);
	}
}

/*
 * malloc_usable_size >= the request, 0 for NULL, and the slack it reports
 * is the program's to write (PITFALLS 7): free and realloc accept it.
 */
static void
test_usable_size_slack(void **state)
{
	unsigned char *p, *q;
	size_t i, n, u;

	(void)state;
	assert_int_equal(fn_usable(NULL), 0);
	for (i = 0; i < NELEM(odd_sizes); i++) {
		n = odd_sizes[i];
		p = fn_malloc(n);
		assert_non_null(p);
		u = fn_usable(p);
		assert_true(u >= n);
		fill(p, 0, u, 6);
		assert_int_equal(fn_usable(p), u);
		q = fn_realloc(p, u + 1);
		assert_non_null(q);
		assert_int_equal(first_bad(q, u, 6), u);
		fill(q, 0, fn_usable(q), 7);
		fn_free(q);

		p = fn_calloc(1, n);
		assert_non_null(p);
		memset(p, 0xff, fn_usable(p));
		fn_free(p);
	}
}

static void
test_free_null(void **state)
{
	(void)state;
	errno = EDOM;
	fn_free(NULL);
	fn_free_sized(NULL, 0);
	fn_free_aligned_sized(NULL, 64, 0);
	assert_int_equal(errno, EDOM);
}

/* free keeps errno, whether it returns memory to the OS or not. */
static void
test_free_preserves_errno(void **state)
{
	static const size_t sizes[] = {0,      1,       100,      4096,
	                               100000, MiB,     64 * MiB, 256 * MiB,
	                               65536,  4 * MiB, 17};
	static const int values[] = {0, EILSEQ, ENOMEM, EINVAL, 12345};
	size_t i, k;
	void *p;

	(void)state;
	for (k = 0; k < NELEM(values); k++) {
		for (i = 0; i < NELEM(sizes); i++) {
			p = fn_malloc(sizes[i]);
			assert_non_null(p);
			memset(p, 1, sizes[i] < 8192 ? sizes[i] : 8192);
			errno = values[k];
			fn_free(p);
			assert_int_equal(errno, values[k]);

			p = fn_memalign(65536, sizes[i]);
			assert_non_null(p);
			errno = values[k];
			fn_free(p);
			assert_int_equal(errno, values[k]);
		}
	}
}

static void
test_free_sized(void **state)
{
	static const size_t sizes[] = {0, 1, 24, 1000, 65536, 3 * MiB};
	static const size_t aligns[] = {16, 64, 4096, MiB};
	size_t i, j;
	void *p;

	(void)state;
	for (i = 0; i < NELEM(sizes); i++) {
		p = fn_malloc(sizes[i]);
		check_block(p, sizes[i]);
		errno = ERANGE;
		fn_free_sized(p, sizes[i]);
		assert_int_equal(errno, ERANGE);
		assert_int_equal(fn_owns(p), 0);

		p = fn_calloc(1, sizes[i]);
		check_block(p, sizes[i]);
		fn_free_sized(p, sizes[i]);
		assert_int_equal(fn_owns(p), 0);

		for (j = 0; j < NELEM(aligns); j++) {
			p = fn_aligned_alloc(aligns[j], sizes[i]);
			check_block(p, sizes[i]);
			errno = ERANGE;
			fn_free_aligned_sized(p, aligns[j], sizes[i]);
			assert_int_equal(errno, ERANGE);
			assert_int_equal(fn_owns(p), 0);
		}
	}
}

/* dbgalloc_owns: 1 only for the address of a live dbgalloc block. */
static void
test_owns_foreign_pointers(void **state)
{
	const size_t pg = page_size();
	int on_stack = 0;
	unsigned char *p, *m;

	(void)state;
	assert_int_equal(fn_owns(NULL), 0);
	assert_int_equal(fn_owns(&on_stack), 0);
	assert_int_equal(fn_owns(static_buffer), 0);
	assert_int_equal(fn_owns(static_buffer + 16), 0);
	assert_int_equal(fn_owns(static_string), 0);
	assert_int_equal(fn_owns((const void *)(uintptr_t)test_version), 0);
	assert_int_equal(fn_owns((const void *)(uintptr_t)1), 0);
	assert_int_equal(fn_owns((const void *)(uintptr_t)16), 0);
	assert_int_equal(fn_owns((const void *)(uintptr_t)4096), 0);
	assert_int_equal(fn_owns((const void *)UINTPTR_MAX), 0);
	assert_int_equal(fn_owns((const void *)(UINTPTR_MAX & ~(uintptr_t)15)),
	                 0);
	assert_int_equal(fn_owns((const void *)(uintptr_t)0x7ff000000000ull),
	                 0);
	assert_int_equal(fn_owns((const void *)(uintptr_t)0xdead0000beef0ull),
	                 0);

	m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(fn_owns(m), 0);
	assert_int_equal(fn_owns(m + 16), 0);
	assert_int_equal(fn_owns(m + pg), 0);
	munmap(m, 4 * pg);

	/* Interior pointers of live blocks are not blocks. */
	p = fn_malloc(64);
	assert_non_null(p);
	assert_int_equal(fn_owns(p), 1);
	assert_int_equal(fn_owns(p + 1), 0);
	assert_int_equal(fn_owns(p + 16), 0);
	assert_int_equal(fn_owns(p + 32), 0);
	fn_free(p);
	assert_int_equal(fn_owns(p), 0);

	p = fn_malloc(16 * MiB);
	assert_non_null(p);
	assert_int_equal(fn_owns(p), 1);
	assert_int_equal(fn_owns(p + 16), 0);
	assert_int_equal(fn_owns(p + pg), 0);
	assert_int_equal(fn_owns(p + 8 * MiB), 0);
	fn_free(p);
	assert_int_equal(fn_owns(p), 0);
}

/* Every entry point hands out owned blocks; free disowns them. */
static void
test_owns_every_entry_point(void **state)
{
	void *p[12];
	size_t i;

	(void)state;
	p[0] = fn_malloc(10);
	p[1] = fn_malloc(0);
	p[2] = fn_calloc(3, 7);
	p[3] = fn_realloc(NULL, 33);
	p[4] = fn_realloc(fn_malloc(5), 5000);
	p[5] = fn_reallocarray(NULL, 9, 9);
	assert_int_equal(fn_posix_memalign(&p[6], 256, 300), 0);
	p[7] = fn_aligned_alloc(128, 1000);
	p[8] = fn_memalign(512, 7);
	p[9] = fn_valloc(10);
	p[10] = fn_pvalloc(10);
	p[11] = fn_malloc(2 * MiB);
	for (i = 0; i < NELEM(p); i++) {
		assert_non_null(p[i]);
		assert_int_equal(fn_owns(p[i]), 1);
	}
	for (i = 0; i < NELEM(p); i++) {
		fn_free(p[i]);
		assert_int_equal(fn_owns(p[i]), 0);
	}
}

/* Blocks that libc allocates for the caller are dbgalloc's to free. */
static void
test_libc_internal_allocations(void **state)
{
	char *s, *line = NULL, *buf = NULL;
	size_t cap = 0, len = 0;
	FILE *f;

	(void)state;
	s = strdup("a string libc copies with malloc");
	assert_non_null(s);
	assert_int_equal(fn_owns(s), 1);
	fn_free(s);

	s = NULL;
	assert_true(asprintf(&s, "%d-%s", 42, "asprintf") > 0);
	assert_int_equal(fn_owns(s), 1);
	assert_string_equal(s, "42-asprintf");
	fn_free(s);

	s = getcwd(NULL, 0);
	assert_non_null(s);
	assert_int_equal(fn_owns(s), 1);
	fn_free(s);

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	fprintf(f, "%0*d", 10000, 7);
	fclose(f);
	assert_int_equal(len, 10000);
	assert_int_equal(fn_owns(buf), 1);

	f = fmemopen(buf, len, "r");
	assert_non_null(f);
	assert_int_equal(getline(&line, &cap, f), 10000);
	assert_int_equal(fn_owns(line), 1);
	assert_true(cap >= 10000);
	fclose(f);
	fn_free(line);
	fn_free(buf);
}

/* realloc of an over-aligned block keeps its contents. */
static void
test_realloc_aligned_block(void **state)
{
	static const size_t aligns[] = {32, 256, 4096, 65536, 2 * MiB};
	unsigned char *p, *q;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(aligns); i++) {
		p = fn_memalign(aligns[i], 1000);
		assert_non_null(p);
		fill(p, 0, 1000, 8);
		q = fn_realloc(p, 300000);
		assert_non_null(q);
		assert_true(aligned_to(q, 16));
		assert_int_equal(first_bad(q, 1000, 8), 1000);
		p = fn_realloc(q, 10);
		assert_non_null(p);
		assert_int_equal(first_bad(p, 10, 8), 10);
		fn_free(p);
	}
}

/* 16-byte alignment for every result of malloc, calloc and realloc. */
static void
test_alignment_every_result(void **state)
{
	enum { N = 256 };
	void *p[N];
	unsigned x = 99;
	size_t n;
	int i, k;

	(void)state;
	for (k = 0; k < 20; k++) {
		for (i = 0; i < N; i++) {
			x = x * 1103515245u + 12345u;
			n = (x >> 10) % 1024;
			switch ((x >> 4) % 3) {
			case 0:
				p[i] = fn_malloc(n);
				break;
			case 1:
				p[i] = fn_calloc(1, n);
				break;
			default:
				p[i] = fn_realloc(fn_malloc(n / 2 + 1), n + 1);
				break;
			}
			assert_non_null(p[i]);
			assert_true(aligned_to(p[i], 16));
		}
		for (i = 0; i < N; i += 2)
			fn_free(p[i]);
		for (i = 0; i < N; i += 2) {
			p[i] = fn_realloc(p[i + 1], (size_t)i * 37 + 1);
			assert_non_null(p[i]);
			assert_true(aligned_to(p[i], 16));
		}
		for (i = 0; i < N; i += 2)
			fn_free(p[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_version),
	        cmocka_unit_test(test_malloc_sizes),
	        cmocka_unit_test(test_malloc_zero_unique),
	        cmocka_unit_test(test_malloc_impossible_enomem),
	        cmocka_unit_test(test_malloc_5gib),
	        cmocka_unit_test(test_large_blocks_not_committed),
	        cmocka_unit_test(test_no_overlap),
	        cmocka_unit_test(test_calloc_zeroed),
	        cmocka_unit_test(test_calloc_reused_zeroed),
	        cmocka_unit_test(test_calloc_overflow),
	        cmocka_unit_test(test_realloc_grow),
	        cmocka_unit_test(test_realloc_shrink),
	        cmocka_unit_test(test_realloc_random_walk),
	        cmocka_unit_test(test_realloc_null_is_malloc),
	        cmocka_unit_test(test_realloc_zero_frees),
	        cmocka_unit_test(test_realloc_failure_keeps_block),
	        cmocka_unit_test(test_reallocarray),
	        cmocka_unit_test(test_posix_memalign_alignments),
	        cmocka_unit_test(test_posix_memalign_einval),
	        cmocka_unit_test(test_posix_memalign_enomem),
	        cmocka_unit_test(test_aligned_alloc),
	        cmocka_unit_test(test_aligned_alloc_odd_alignment),
	        cmocka_unit_test(test_memalign_odd_alignments),
	        cmocka_unit_test(test_memalign_large_alignments),
	        cmocka_unit_test(test_memalign_errors),
	        cmocka_unit_test(test_valloc),
	        cmocka_unit_test(test_pvalloc),
	        cmocka_unit_test(test_usable_size_slack),
	        cmocka_unit_test(test_free_null),
	        cmocka_unit_test(test_free_preserves_errno),
	        cmocka_unit_test(test_free_sized),
	        cmocka_unit_test(test_owns_foreign_pointers),
	        cmocka_unit_test(test_owns_every_entry_point),
	        cmocka_unit_test(test_libc_internal_allocations),
	        cmocka_unit_test(test_realloc_aligned_block),
	        cmocka_unit_test(test_alignment_every_result),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
