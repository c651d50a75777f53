/*
 * Unit tests of the eviction ring of guard-page blocks (alloc/guard.c,
 * da_guard_note_evictions and da_guard_take_evicted): nothing is noted
 * until asked; a block pushed out of the quarantine is noted with its
 * address, size, slot and meta words, oldest first, and taken once; a
 * full ring counts what it could not note as missed, once; a slot is
 * noted before it can be handed out again; threads pushing blocks out
 * while another takes lose and duplicate nothing.
 *
 * The guard allocator is set up once per process (a quarantine of 4
 * one-page slots), and the tests run in order in that process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "alloc/guard.h"

#define PAGE  DA_PAGE
#define QUAR  (4 * PAGE) /* four one-page slots */
#define NTHR  4
#define PER_T 3000

static struct da_guard_evicted got[DA_GUARD_EVICT_RING];

/* A guarded block of size bytes whose meta words say tag. */
static char *
tagged(size_t size, uint64_t tag)
{
	char *p = da_guard_malloc(size);
	assert_non_null(p);
	_Atomic(uint64_t) *m = da_guard_meta(p);
	assert_non_null(m);
	for (unsigned i = 0; i < DA_GUARD_META; i++)
		m[i] = tag * 10 + i;
	return p;
}

/* Empties the ring (and the quarantine's backlog stays as it is). */
static void
drain(void)
{
	uint64_t missed;
	while (da_guard_take_evicted(got, DA_GUARD_EVICT_RING, &missed) > 0)
		;
}

static void
nothing_noted_until_asked(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 12; i++)
		assert_int_equal(da_guard_free(tagged(100, i)), DA_FREE_OK);
	assert_false(da_guard_evicted_waiting());
	uint64_t missed = 7;
	assert_int_equal(da_guard_take_evicted(got, 8, &missed), 0);
	assert_int_equal(missed, 0);
}

static void
pushed_out_blocks_are_noted_in_order(void **state)
{
	(void)state;
	assert_int_equal(da_guard_note_evictions(1), 0);
	/* Fill the quarantine with blocks of ours, then push them out. */
	char *a[8];
	for (unsigned i = 0; i < 8; i++)
		a[i] = tagged(13 + i, 100 + i);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(da_guard_free(a[i]), DA_FREE_OK);
	drain(); /* what the earlier test's blocks leaving noted */
	for (unsigned i = 4; i < 8; i++)
		assert_int_equal(da_guard_free(a[i]), DA_FREE_OK);
	assert_int_equal(da_guard_evicted_waiting(), 4);
	uint64_t missed = 9;
	size_t n = da_guard_take_evicted(got, DA_GUARD_EVICT_RING, &missed);
	assert_int_equal(n, 4);
	assert_int_equal(missed, 0);
	assert_int_equal(da_guard_evicted_waiting(), 0);
	for (unsigned i = 0; i < 4; i++) {
		assert_ptr_equal((char *)got[i].block, a[i]);
		assert_int_equal(got[i].size, 13 + i);
		assert_int_not_equal(got[i].slot, DA_GUARD_NIL);
		for (unsigned k = 0; k < DA_GUARD_META; k++)
			assert_int_equal(got[i].meta[k], (100 + i) * 10 + k);
		/* Closed and not yet reused. */
		struct da_guard_hit h;
		assert_true(da_guard_lookup(a[i], &h));
		assert_int_equal(h.state, DA_GUARD_FREED);
		assert_int_equal(h.slot, got[i].slot);
	}
	assert_false(da_guard_evicted_waiting());
	assert_int_equal(da_guard_take_evicted(got, 4, NULL), 0);
}

static void
takes_at_most_max(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(da_guard_free(tagged(1, 200 + i)), DA_FREE_OK);
	/* The quarantine held the last test's a[4..7]: they and the first
	 * two of these are pushed out, oldest first. */
	assert_int_equal(da_guard_take_evicted(got, 2, NULL), 2);
	assert_int_equal(got[0].meta[0], 1040);
	assert_int_equal(got[1].meta[0], 1050);
	assert_int_equal(da_guard_take_evicted(got, 100, NULL), 4);
	assert_int_equal(got[0].meta[0], 1060);
	assert_int_equal(got[3].meta[0], 2010);
	assert_int_equal(da_guard_take_evicted(got, 100, NULL), 0);
}

static void
full_ring_counts_missed(void **state)
{
	(void)state;
	unsigned extra = 5;
	for (unsigned i = 0; i < DA_GUARD_EVICT_RING + extra; i++)
		assert_int_equal(da_guard_free(tagged(8, i)), DA_FREE_OK);
	uint64_t missed;
	size_t n = da_guard_take_evicted(got, DA_GUARD_EVICT_RING, &missed);
	assert_int_equal(n, DA_GUARD_EVICT_RING);
	assert_int_equal(missed, extra);
	assert_int_equal(da_guard_take_evicted(got, 4, &missed), 0);
	assert_int_equal(missed, 0); /* counted once */
}

static void
off_again_notes_nothing(void **state)
{
	(void)state;
	assert_int_equal(da_guard_note_evictions(0), 0);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(da_guard_free(tagged(8, i)), DA_FREE_OK);
	assert_false(da_guard_evicted_waiting());
	assert_int_equal(da_guard_note_evictions(1), 0);
}

static _Atomic(unsigned) producers_done;

static void *
producer(void *arg)
{
	uint64_t t = (uintptr_t)arg;
	for (unsigned i = 0; i < PER_T; i++) {
		char *p = da_guard_malloc(24);
		assert_non_null(p);
		_Atomic(uint64_t) *m = da_guard_meta(p);
		m[0] = t << 32 | i;
		assert_int_equal(da_guard_free(p), DA_FREE_OK);
	}
	atomic_fetch_add(&producers_done, 1);
	return NULL;
}

/* Counts the blocks of got[0..n) the producers tagged; each once. */
static uint64_t
count_tagged(size_t n, uint8_t seen[NTHR][PER_T])
{
	uint64_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t tag = got[i].meta[0];
		unsigned t = (unsigned)(tag >> 32), j = (uint32_t)tag;
		if (t == 0)
			continue; /* an earlier test's block */
		assert_true(t <= NTHR && j < PER_T);
		assert_int_equal(seen[t - 1][j], 0);
		seen[t - 1][j] = 1;
		k++;
	}
	return k;
}

/* Threads push blocks out while this one takes them: no block is taken
 * twice, and what is taken and what was missed add up to what left the
 * quarantine (all the producers' blocks but the last few). */
static void
threads_lose_nothing(void **state)
{
	(void)state;
	static uint8_t seen[NTHR][PER_T];
	pthread_t th[NTHR];
	uint64_t taken = 0, missed_all = 0, missed;
	for (uintptr_t t = 0; t < NTHR; t++)
		assert_int_equal(
		        pthread_create(&th[t], NULL, producer, (void *)(t + 1)),
		        0);
	for (;;) {
		unsigned done = atomic_load(&producers_done);
		size_t n = da_guard_take_evicted(got, 64, &missed);
		missed_all += missed;
		taken += count_tagged(n, seen);
		if (done == NTHR && n == 0)
			break;
	}
	for (unsigned t = 0; t < NTHR; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	assert_true(taken > 0);
	/* At most the four slots the quarantine holds stay in it. */
	assert_true(taken + missed_all >= (uint64_t)NTHR * PER_T - 4);
	assert_true(taken <= (uint64_t)NTHR * PER_T);
	print_message("taken %llu, missed %llu\n", (unsigned long long)taken,
	              (unsigned long long)missed_all);
}

int
main(void)
{
	struct da_guard_config c = {
	        .side = DA_GUARD_AFTER,
	        .align = 1,
	        .header = 16,
	        .quarantine = QUAR,
	};
	if (da_guard_init(&c) != 0)
		return 1;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(nothing_noted_until_asked),
	        cmocka_unit_test(pushed_out_blocks_are_noted_in_order),
	        cmocka_unit_test(takes_at_most_max),
	        cmocka_unit_test(full_ring_counts_missed),
	        cmocka_unit_test(off_again_notes_nothing),
	        cmocka_unit_test(threads_lose_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
