/*
 * The counters behind the dump's minor-1 records, through the audit
 * layer's entry points: the lifetime sample and the batches that end at it,
 * each call site's allocations and bytes (in its cache slot, handed to the
 * totals on eviction and at thread exit, through the second cache for deep
 * stacks), temporaries at two thresholds, lifetime histograms in their
 * buckets, the size classes' allocations and live blocks, the heaps'
 * thread numbers, the timeline's ring, the epochs' totals and peaks, and a
 * high-water step's snapshot.
 */
#include "alloc/alloc.h"
#include "audit/acct.h"
#include "audit/audit.h"
#include "audit/epochs.h"
#include "audit/gen.h"
#include "audit/sitestats.h"
#include "audit/sortkey.h"
#include "audit/steps.h"
#include "audit/timeline.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The entry point, as malloc is one: its caller's return address is the
 * call site. */
__attribute__((noinline)) static void *
alloc_here(size_t n)
{
	return da_audit_malloc(n, DA_CALL());
}

/* Each of these is one call site (the return address inside it); none is
 * inlined, none makes a tail call. */
#define SITE_FN(name)                                       \
	__attribute__((noipa)) static void *name(size_t n)  \
	{                                                   \
		void *p = alloc_here(n);                    \
		__asm__ volatile("" : : "r"(p) : "memory"); \
		return p;                                   \
	}

SITE_FN(site_a)
SITE_FN(site_b)
SITE_FN(site_c)
SITE_FN(site_t)
SITE_FN(site_tmp)
SITE_FN(site_pair1)
SITE_FN(site_pair2)
SITE_FN(site_life0)
SITE_FN(site_life1)
SITE_FN(site_life3)
SITE_FN(site_life8)
SITE_FN(site_other)
SITE_FN(site_class)
SITE_FN(site_step)

static void
release(void *p)
{
	da_audit_free(p, DA_CALL());
}

/* The call site of the block p (live): its header's id. */
static uint32_t
site_of(const void *p)
{
	return da_hdr_site((const char *)p - DA_HDR);
}

/* What the counters say of one site, summed over every row. */
struct sum {
	uint32_t site;
	uint64_t allocs, bytes, temporary;
	uint64_t life_allocs[DA_LIFE_BUCKETS], life_us[DA_LIFE_BUCKETS];
};

static void
add_row(const struct da_sitestats_row *r, void *arg)
{
	struct sum *s = arg;
	if (r->site != s->site)
		return;
	s->allocs += r->allocs;
	s->bytes += r->bytes;
	s->temporary += r->temporary;
	for (unsigned k = 0; k < DA_LIFE_BUCKETS; k++) {
		if (r->life_allocs != NULL)
			s->life_allocs[k] += r->life_allocs[k];
		if (r->life_us != NULL)
			s->life_us[k] += r->life_us[k];
	}
}

static struct sum
sum_of(uint32_t site)
{
	struct sum s = {.site = site};
	da_sitestats_lock();
	da_sitestats_each(add_row, &s);
	da_sitestats_unlock();
	return s;
}

/* --- Sampling. --- */

/* The timed blocks are poisoned whole; one in 256; the next one found in
 * O(1) is the first; residues modulo small periods all taken; only the low
 * 32 bits matter. */
static void
life_sampling(void **state)
{
	(void)state;
	uint64_t n = 0, resid[8] = {0};
	for (uint64_t g = 1; g <= (1u << 22); g++) {
		if (!da_life_stamped(g))
			continue;
		assert_true(da_poison_sampled(g));
		n++;
		resid[g % 8]++;
	}
	assert_in_range(n, (1u << 22) / 256 * 98 / 100,
	                (1u << 22) / 256 * 102 / 100);
	for (unsigned r = 0; r < 8; r++)
		assert_in_range(resid[r], n / 8 * 90 / 100, n / 8 * 110 / 100);
	uint64_t next = 0;
	for (uint64_t from = 200000; from-- > 1;) {
		if (da_life_stamped(from))
			next = from;
		if (next != 0)
			assert_true(da_life_next_stamp(from) == next);
	}
	for (uint64_t g = UINT64_C(1) << 32; g < (UINT64_C(1) << 32) + 100000;
	     g++)
		assert_int_equal(da_life_stamped(g),
		                 da_life_stamped(g & 0xffffffffu));
}

/* A new batch begins at a timed number (but the thread's first batch, and
 * the first after a cut). */
static void
batches_end_at_stamps(void **state)
{
	(void)state;
	da_gen_cut();
	da_gen_tls.work = 0;
	unsigned batches = 0;
	for (int i = 0; i < 200000; i++) {
		uint64_t g = da_gen_next();
		if (!(da_gen_tls.work & DA_WORK_BATCH))
			continue;
		da_gen_tls.work = 0;
		if (batches++ > 0)
			assert_true(da_life_stamped(g));
	}
	/* About one batch per 256 numbers. */
	assert_in_range(batches, 200000 / 256 * 9 / 10, 200000 / 256 * 11 / 10);
}

/* --- Call sites. --- */

static void
site_counts(void **state)
{
	(void)state;
	void *a[10], *b[5];
	for (int i = 0; i < 10; i++)
		a[i] = site_a(100);
	for (int i = 0; i < 5; i++)
		b[i] = site_b(7);
	struct sum sa = sum_of(site_of(a[0])), sb = sum_of(site_of(b[0]));
	assert_int_equal(sa.allocs, 10);
	assert_int_equal(sa.bytes, 1000);
	assert_int_equal(sb.allocs, 5);
	assert_int_equal(sb.bytes, 35);
	uint32_t ida = site_of(a[0]);
	for (int i = 0; i < 10; i++)
		release(a[i]);
	for (int i = 0; i < 5; i++)
		release(b[i]);
	/* Frees do not change what was allocated. */
	assert_int_equal(sum_of(ida).allocs, 10);
}

/* A slot taken by another return address hands its counts over; nothing is
 * lost or counted twice. */
static void
evicted_slot(void **state)
{
	(void)state;
	void *p = site_c(40);
	uint32_t id = site_of(p);
	for (int i = 0; i < 9; i++)
		release(site_c(40));
	assert_int_equal(sum_of(id).allocs, 10);
	unsigned k = 0;
	while (k < DA_SITE_CACHE && da_site_tls.id[k] != id)
		k++;
	assert_true(k < DA_SITE_CACHE);
	assert_int_equal(da_site_tls.allocs[k], 10);
	da_sitestats_evict_slot(k);
	assert_int_equal(da_site_tls.allocs[k], 0);
	struct sum s = sum_of(id);
	assert_int_equal(s.allocs, 10);
	assert_int_equal(s.bytes, 400);
	release(p);
}

static void *
thread_body(void *arg)
{
	void **out = arg;
	for (int i = 0; i < 7; i++)
		out[i] = site_t(24);
	return NULL;
}

/* An exited thread's counts stay. */
static void
thread_exit_flushes(void **state)
{
	(void)state;
	void *blocks[7];
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, thread_body, blocks), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	struct sum s = sum_of(site_of(blocks[0]));
	assert_int_equal(s.allocs, 7);
	assert_int_equal(s.bytes, 7 * 24);
	for (int i = 0; i < 7; i++)
		release(blocks[i]);
}

/* Deeper stacks miss the slots: the second cache counts them. (Three
 * frames: those this file built with frame pointers.) */
static void
deep_stacks(void **state)
{
	(void)state;
	unsigned depth = da_cfg.depth;
	da_cfg.depth = 3;
	void *p[12];
	for (int i = 0; i < 12; i++)
		p[i] = site_c(64);
	da_cfg.depth = depth;
	uint32_t id = site_of(p[0]);
	for (int i = 1; i < 12; i++)
		assert_int_equal(site_of(p[i]), id);
	struct sum s = sum_of(id);
	assert_int_equal(s.allocs, 12);
	assert_int_equal(s.bytes, 12 * 64);
	for (int i = 0; i < 12; i++)
		release(p[i]);
}

/* Freed before the thread allocates anything else: temporary; with one
 * allocation in between, only under DBGALLOC_TEMPORARY=1. */
static void
temporaries(void **state)
{
	(void)state;
	void *keep = site_tmp(16);
	uint32_t tmp = site_of(keep);
	for (int i = 0; i < 300; i++)
		release(site_tmp(16));
	void *x = site_pair1(16), *y = site_pair2(16);
	uint32_t p1 = site_of(x), p2 = site_of(y);
	release(x);
	release(y);
	for (int i = 0; i < 299; i++) {
		x = site_pair1(16);
		y = site_pair2(16);
		release(x);
		release(y);
	}
	assert_int_equal(sum_of(tmp).temporary, 300);
	assert_int_equal(sum_of(p1).temporary, 0);
	assert_int_equal(sum_of(p2).temporary, 300);
	da_gen_set_temporary(1);
	for (int i = 0; i < 100; i++) {
		x = site_pair1(16);
		y = site_pair2(16);
		release(x);
		release(y);
	}
	da_gen_set_temporary(0);
	assert_int_equal(sum_of(p1).temporary, 100);
	assert_int_equal(sum_of(p2).temporary, 400);
	/* The kept block was not: it is still live. */
	release(keep);
	assert_int_equal(sum_of(tmp).temporary, 300);
}

/* Lifetimes of k allocations in between land in bucket k's, timed too. */
static void
lifetime_buckets(void **state)
{
	(void)state;
	static const struct {
		void *(*fn)(size_t);
		unsigned between, bucket;
	} cases[] = {
	        {site_life0, 0, 0},
	        {site_life1, 1, 1},
	        {site_life3, 3, 2},
	        {site_life8, 8, 4},
	};
	for (unsigned c = 0; c < 4; c++) {
		uint32_t id = 0;
		for (int i = 0; i < 8192; i++) {
			void *p = cases[c].fn(32), *o[8];
			id = site_of(p);
			for (unsigned k = 0; k < cases[c].between; k++)
				o[k] = site_other(32);
			release(p);
			for (unsigned k = 0; k < cases[c].between; k++)
				release(o[k]);
		}
		struct sum s = sum_of(id);
		uint64_t total = 0, timed = 0;
		for (unsigned k = 0; k < DA_LIFE_BUCKETS; k++) {
			if (k != cases[c].bucket)
				assert_int_equal(s.life_allocs[k], 0);
			total += s.life_allocs[k];
			timed += s.life_us[k];
		}
		/* 8192 blocks among 8192 * (between + 1) numbers: one in
		 * 256 of those numbers is sampled. */
		assert_true(total >= 8192 / 256 / 2);
		assert_true(total <= 8192 / 256 * 2);
		assert_int_equal(timed, total);
	}
}

/* --- Size classes and threads. --- */

static void
class_counts(void **state)
{
	(void)state;
	struct da_class_stats before[DA_NCLASSES + 1], after[DA_NCLASSES + 1];
	uint64_t meta;
	unsigned c = 0;
	while (da_class_size[c] < 200 + DA_HDR_EXTRA)
		c++;
	da_alloc_class_stats(before, &meta);
	void *p[100];
	for (int i = 0; i < 100; i++)
		p[i] = site_class(200);
	for (int i = 0; i < 40; i++)
		release(p[i]);
	da_alloc_class_stats(after, &meta);
	assert_true(meta > 0);
	/* A block whose allocation time is noted takes 8 bytes more: it
	 * may sit in the next class. */
	assert_int_equal(after[c].allocs + after[c + 1].allocs -
	                         before[c].allocs - before[c + 1].allocs,
	                 100);
	assert_int_equal(after[c].live_blocks + after[c + 1].live_blocks -
	                         before[c].live_blocks -
	                         before[c + 1].live_blocks,
	                 60);
	assert_true(after[c].slabs >= 1);
	assert_true(after[c].slab_bytes >= after[c].slabs * DA_UNIT_SIZE);
	for (int i = 40; i < 100; i++)
		release(p[i]);
	da_alloc_class_stats(after, &meta);
	assert_int_equal(after[c].live_blocks + after[c + 1].live_blocks,
	                 before[c].live_blocks + before[c + 1].live_blocks);
}

static void *
owner_body(void *arg)
{
	*(void **)arg = site_t(300);
	return NULL;
}

/* Each heap carries its thread's number: main's first, a later thread's a
 * larger one, kept by its slab after the thread exits. */
static void
thread_numbers(void **state)
{
	(void)state;
	void *mine = site_a(300), *theirs = NULL;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, owner_body, &theirs), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	unsigned c1, c2;
	uint32_t n1, n2;
	da_alloc_block_owner((char *)mine - DA_HDR, &c1, &n1);
	da_alloc_block_owner((char *)theirs - DA_HDR, &c2, &n2);
	assert_int_equal(c1, c2);
	assert_true(c1 < DA_NCLASSES);
	assert_int_equal(n1, 1);
	assert_true(n2 > n1);
	release(mine);
	release(theirs);
}

/* --- The timeline, epochs, steps. --- */

static void
timeline_ring(void **state)
{
	(void)state;
	for (int i = 0; i < 6000; i++)
		da_timeline_add(i % 1000 == 0 ? DA_SAMPLE_MARK : DA_SAMPLE_STEP,
		                i);
	static struct da_sample x[DA_TIMELINE_MAX];
	size_t n = da_timeline_copy(x, DA_TIMELINE_MAX);
	assert_true(n <= DA_TIMELINE_MAX && n > DA_TIMELINE_MAX / 2);
	unsigned marks = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			assert_true(x[i].mono_ns >= x[i - 1].mono_ns);
		marks += x[i].reason == DA_SAMPLE_MARK && x[i].live % 1000 == 0;
		assert_true(x[i].rss > 0);
	}
	/* Step samples were thinned, the marks all kept; the newest last. */
	assert_int_equal(marks, 6);
	assert_int_equal(x[n - 1].live, 5999);
}

static void
epoch_peaks(void **state)
{
	(void)state;
	struct da_acct_totals t;
	da_acct_totals(&t);
	unsigned e = da_gen_mark("first");
	da_epochs_mark(e);
	void *p[10];
	for (int i = 0; i < 10; i++)
		p[i] = site_b(1000);
	for (int i = 0; i < 10; i++)
		release(p[i]);
	void *q = site_b(3000);
	unsigned e2 = da_gen_mark("second");
	da_epochs_mark(e2);
	release(q);
	struct da_epoch_stats s1, s2;
	da_epochs_get(e, &s1);
	da_epochs_get(e2, &s2);
	assert_true(s1.allocs == t.allocs);
	assert_true(s1.alloc_bytes == t.bytes);
	/* The first stage's peak: what was live at its start, and 10,000. */
	assert_true(s1.peak_bytes == (uint64_t)t.live + 10000);
	assert_true(s2.allocs == t.allocs + 11);
	assert_true(s2.alloc_bytes == t.bytes + 13000);
	assert_true(s2.frees == t.frees + 10);
	assert_true(s2.free_bytes == t.bytes - (uint64_t)t.live + 10000);
	/* The second (the last): its start. */
	assert_true(s2.peak_bytes == (uint64_t)t.live + 3000);
}

static void
step_snapshot(void **state)
{
	(void)state;
	/* Allocate until the live bytes pass a step (the next one is at
	 * most an eighth above the live bytes of the last). */
	int64_t next = atomic_load(&da_acct_next_step);
	void *p[64];
	int n = 0;
	while (atomic_load(&da_acct_next_step) == next && n < 64)
		p[n++] = site_step(256 * 1024);
	assert_true(n < 64);
	uint32_t id = site_of(p[0]);
	const struct da_steps_site *sites;
	size_t ns;
	int64_t live;
	da_steps_lock(&sites, &ns, &live);
	uint64_t bytes = da_steps_bytes_of(sites, ns, id);
	da_steps_unlock();
	/* The snapshot holds the block that crossed the step. */
	assert_int_equal(bytes, (uint64_t)n * 256 * 1024);
	assert_true(live >= next);
	uint64_t peaks[DA_NCLASSES + 1];
	da_steps_class_peaks(peaks);
	assert_true(peaks[DA_CLASS_LARGE] >= (uint64_t)n);
	for (int i = 0; i < n; i++)
		release(p[i]);
}

/* da_sort_by_key: records of 12 and 24 bytes come out ordered by their
 * leading 32-bit key, each record whole (its payload follows its key). */
struct rec24 {
	uint32_t key;
	uint32_t pad;
	uint64_t a, b;
};

static void
sort_by_key(void **state)
{
	(void)state;
	static struct rec24 r[1000];
	uint32_t x = 12345;
	for (size_t i = 0; i < 1000; i++) {
		x = x * 1103515245u + 12345u;
		r[i] = (struct rec24){x % 500, 0, x, ~(uint64_t)x};
	}
	da_sort_by_key(r, 1000, sizeof(r[0]));
	for (size_t i = 0; i < 1000; i++) {
		if (i > 0)
			assert_true(r[i - 1].key <= r[i].key);
		assert_int_equal(r[i].a % 500, r[i].key);
		assert_int_equal(r[i].b, ~r[i].a);
	}
	uint32_t small[3][3] = {{9, 1, 1}, {2, 7, 7}, {5, 3, 3}};
	da_sort_by_key(small, 3, sizeof(small[0]));
	assert_int_equal(small[0][0], 2);
	assert_int_equal(small[0][1], 7);
	assert_int_equal(small[1][0], 5);
	assert_int_equal(small[2][0], 9);
	da_sort_by_key(small, 0, sizeof(small[0])); /* nothing to do */
	assert_int_equal(small[0][0], 2);
}

/* da_sort_by_addr: records ordered by their leading address, whole, with
 * addresses above 2^32 (which a 32-bit key would mix up). */
struct rec_addr {
	uintptr_t addr;
	uint32_t tag;
};

static void
sort_by_addr(void **state)
{
	(void)state;
	static struct rec_addr r[777];
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < 777; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		r[i].addr = (uintptr_t)(x & 0x7fffffffffffull);
		r[i].tag = (uint32_t)(r[i].addr % 1000003u);
	}
	r[5].addr = (uintptr_t)1 << 40; /* same low 32 bits as ... */
	r[6].addr = 0;                  /* ... this one */
	r[5].tag = (uint32_t)(r[5].addr % 1000003u);
	r[6].tag = 0;
	da_sort_by_addr(r, 777, sizeof(r[0]));
	for (size_t i = 0; i < 777; i++) {
		if (i > 0)
			assert_true(r[i - 1].addr <= r[i].addr);
		assert_int_equal(r[i].tag, (uint32_t)(r[i].addr % 1000003u));
	}
	assert_int_equal(r[0].addr, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(life_sampling),
	        cmocka_unit_test(batches_end_at_stamps),
	        cmocka_unit_test(site_counts),
	        cmocka_unit_test(evicted_slot),
	        cmocka_unit_test(thread_exit_flushes),
	        cmocka_unit_test(deep_stacks),
	        cmocka_unit_test(temporaries),
	        cmocka_unit_test(lifetime_buckets),
	        cmocka_unit_test(class_counts),
	        cmocka_unit_test(thread_numbers),
	        cmocka_unit_test(timeline_ring),
	        cmocka_unit_test(epoch_peaks),
	        cmocka_unit_test(step_snapshot),
	        cmocka_unit_test(sort_by_key),
	        cmocka_unit_test(sort_by_addr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
