/*
 * Unit tests of the stack depot (audit/depot.c): one id per distinct
 * stack, frames returned exactly, and that stays true with many stacks,
 * with threads and signal handlers inserting at once, across fork, and
 * when the depot is full.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/depot.h"

/* Frames that look like code addresses, all distinct for distinct
 * (seed, i). */
static uintptr_t
frame(uint64_t seed, unsigned i)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + i + 1;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return 0x400000 + (x & 0x7fffffffffull);
}

/* Stack number k: 1 to 16 frames. Distinct k give distinct stacks. */
static unsigned
stack_of(uint64_t k, uintptr_t *pcs)
{
	unsigned n = 1 + (unsigned)(k % 16);
	for (unsigned i = 0; i < n; i++)
		pcs[i] = frame(k, i);
	return n;
}

static void
assert_frames(uint32_t id, const uintptr_t *pcs, unsigned n)
{
	const uintptr_t *got = NULL;
	assert_int_equal(da_depot_get(id, &got), n);
	assert_non_null(got);
	assert_memory_equal(got, pcs, n * sizeof(*pcs));
}

static void
equal_and_distinct(void **state)
{
	(void)state;
	uintptr_t a[3] = {0x401000, 0x402000, 0x403000};
	uintptr_t b[3] = {0x401000, 0x402000, 0x403008};
	uint32_t count = da_depot_count();
	uint32_t ia = da_depot_put(a, 3);
	assert_int_not_equal(ia, 0);
	assert_int_not_equal(ia, DA_DEPOT_OVERFLOW);
	assert_int_equal(da_depot_put(a, 3), ia);
	uintptr_t copy[3];
	memcpy(copy, a, sizeof(a));
	assert_int_equal(da_depot_put(copy, 3), ia);
	uint32_t ib = da_depot_put(b, 3);
	uint32_t prefix = da_depot_put(a, 2);
	uint32_t first = da_depot_put(a, 1);
	assert_int_not_equal(ib, ia);
	assert_int_not_equal(prefix, ia);
	assert_int_not_equal(prefix, first);
	assert_int_not_equal(first, ia);
	assert_int_equal(da_depot_count(), count + 4);
	assert_frames(ia, a, 3);
	assert_frames(ib, b, 3);
	assert_frames(prefix, a, 2);
	assert_frames(first, a, 1);
	/* The frames given back are the depot's own copy. */
	const uintptr_t *got;
	da_depot_get(ia, &got);
	assert_ptr_not_equal(got, a);
}

static void
every_depth(void **state)
{
	(void)state;
	uintptr_t pcs[DA_DEPOT_MAX_FRAMES + 8];
	uint32_t ids[DA_DEPOT_MAX_FRAMES + 1];
	for (unsigned i = 0; i < DA_DEPOT_MAX_FRAMES + 8; i++)
		pcs[i] = frame(77, i);
	for (unsigned n = 1; n <= DA_DEPOT_MAX_FRAMES; n++) {
		ids[n] = da_depot_put(pcs, n);
		assert_frames(ids[n], pcs, n);
		for (unsigned m = 1; m < n; m++)
			assert_int_not_equal(ids[m], ids[n]);
	}
	/* Deeper stacks keep their first DA_DEPOT_MAX_FRAMES frames. */
	assert_int_equal(da_depot_put(pcs, DA_DEPOT_MAX_FRAMES + 8),
	                 ids[DA_DEPOT_MAX_FRAMES]);
	assert_int_equal(da_depot_put(pcs, 0), DA_DEPOT_OVERFLOW);
}

static void
unknown_ids(void **state)
{
	(void)state;
	const uintptr_t *got = (const uintptr_t *)1;
	assert_int_equal(da_depot_get(0, &got), 0);
	assert_int_equal(da_depot_get(DA_DEPOT_OVERFLOW, &got), 0);
	assert_int_equal(da_depot_get(0x7fffffff, &got), 0);
	assert_ptr_equal(got, (const uintptr_t *)1);
	/* Ids inside a record (its frames) are not records. */
	uintptr_t pcs[16];
	for (uint64_t k = 1000; k < 1100; k++) {
		unsigned n = stack_of(k, pcs);
		uint32_t id = da_depot_put(pcs, n);
		for (unsigned j = 1; j <= n; j++)
			assert_int_equal(da_depot_get(id + j, &got), 0);
	}
}

#define MANY 200000

static void
many_stacks(void **state)
{
	(void)state;
	uint32_t *ids = malloc(MANY * sizeof(*ids));
	assert_non_null(ids);
	uintptr_t pcs[16];
	uint32_t count = da_depot_count();
	size_t bytes = da_depot_bytes();
	for (uint64_t k = 0; k < MANY; k++) {
		unsigned n = stack_of(1000000 + k, pcs);
		ids[k] = da_depot_put(pcs, n);
		assert_true(ids[k] != 0 && ids[k] != DA_DEPOT_OVERFLOW);
	}
	assert_int_equal(da_depot_count(), count + MANY);
	/* 200k records of 16-136 bytes: more than 10 MiB of chunks. */
	assert_true(da_depot_bytes() >= bytes + ((size_t)10 << 20));
	for (uint64_t k = 0; k < MANY; k++) {
		unsigned n = stack_of(1000000 + k, pcs);
		assert_int_equal(da_depot_put(pcs, n), ids[k]);
		assert_frames(ids[k], pcs, n);
	}
	assert_int_equal(da_depot_count(), count + MANY);
	/* Ids are offsets of distinct records: all different. */
	for (uint64_t k = 1; k < MANY; k++)
		if (ids[k] == ids[k - 1])
			fail();
	free(ids);
}

/* Four threads insert overlapping halves of one set of stacks, each in its
 * own order, all at once. */
#define SHARED  40000
#define THREADS 4

static uint32_t shared_ids[THREADS][SHARED];
static pthread_barrier_t start;

static void *
insert_half(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	uintptr_t pcs[16];
	pthread_barrier_wait(&start);
	for (unsigned j = 0; j < SHARED / 2; j++) {
		/* Thread t covers [t * SHARED / 4, + SHARED / 2), odd
		 * threads backwards. */
		unsigned step = t & 1 ? SHARED / 2 - 1 - j : j;
		unsigned k = (t * SHARED / 4 + step) % SHARED;
		unsigned n = stack_of(5000000 + k, pcs);
		shared_ids[t][k] = da_depot_put(pcs, n);
	}
	return NULL;
}

static void
threads_agree(void **state)
{
	(void)state;
	pthread_t th[THREADS];
	uint32_t count = da_depot_count();
	pthread_barrier_init(&start, NULL, THREADS);
	for (unsigned t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, insert_half,
		                                (void *)(uintptr_t)t),
		                 0);
	for (unsigned t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&start);
	assert_int_equal(da_depot_count(), count + SHARED);
	uintptr_t pcs[16];
	for (unsigned k = 0; k < SHARED; k++) {
		uint32_t id = 0;
		unsigned seen = 0;
		for (unsigned t = 0; t < THREADS; t++) {
			if (shared_ids[t][k] == 0)
				continue;
			if (id == 0)
				id = shared_ids[t][k];
			assert_int_equal(shared_ids[t][k], id);
			seen++;
		}
		assert_int_equal(seen, 2);
		unsigned n = stack_of(5000000 + k, pcs);
		assert_int_equal(da_depot_put(pcs, n), id);
		assert_frames(id, pcs, n);
	}
}

/* A signal handler inserts the same stacks as the thread it interrupts,
 * which may be half-way through an insertion of its own. */
#define SIGSET 4096
static uint32_t main_ids[SIGSET];
static _Atomic(uint32_t) handler_ids[SIGSET];
static _Atomic(unsigned) handler_runs;

static void
on_alarm(int sig)
{
	(void)sig;
	uintptr_t pcs[16];
	unsigned r = atomic_fetch_add(&handler_runs, 1);
	for (unsigned j = 0; j < 8; j++) {
		unsigned k = (r * 8 + j) * 2654435761u % SIGSET;
		unsigned n = stack_of(9000000 + k, pcs);
		atomic_store(&handler_ids[k], da_depot_put(pcs, n));
	}
}

static void
signal_handlers_agree(void **state)
{
	(void)state;
	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 50}, {0, 50}};
	setitimer(ITIMER_REAL, &it, NULL);
	uintptr_t pcs[16];
	for (unsigned k = 0; k < SIGSET; k++) {
		unsigned n = stack_of(9000000 + k, pcs);
		main_ids[k] = da_depot_put(pcs, n);
		/* Spin a little so that signals land during insertions. */
		for (volatile int spin = 0; spin < 2000; spin++)
			;
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_DFL);
	assert_true(atomic_load(&handler_runs) > 0);
	unsigned checked = 0;
	for (unsigned k = 0; k < SIGSET; k++) {
		uint32_t h = atomic_load(&handler_ids[k]);
		if (h != 0) {
			assert_int_equal(h, main_ids[k]);
			checked++;
		}
		unsigned n = stack_of(9000000 + k, pcs);
		assert_frames(main_ids[k], pcs, n);
	}
	assert_true(checked > 0);
}

/* Children forked while other threads insert find every stack the
 * parent had, and can insert their own. */
static _Atomic(int) stop_inserting;

static void *
insert_forever(void *arg)
{
	uint64_t base = (uint64_t)(uintptr_t)arg;
	uintptr_t pcs[16];
	for (uint64_t k = 0; !atomic_load(&stop_inserting); k++) {
		unsigned n = stack_of(base + k % 100000, pcs);
		da_depot_put(pcs, n);
	}
	return NULL;
}

static int
child_checks(const uintptr_t *known, uint32_t known_id)
{
	uintptr_t pcs[16];
	if (da_depot_put(known, 5) != known_id)
		return 1;
	for (uint64_t k = 0; k < 2000; k++) {
		unsigned n = stack_of(20000000 + k, pcs);
		uint32_t id = da_depot_put(pcs, n);
		const uintptr_t *got;
		if (id == 0 || id == DA_DEPOT_OVERFLOW ||
		    da_depot_get(id, &got) != n ||
		    memcmp(got, pcs, n * sizeof(*pcs)) != 0 ||
		    da_depot_put(pcs, n) != id)
			return 2;
	}
	return 0;
}

static void
fork_while_inserting(void **state)
{
	(void)state;
	uintptr_t known[5];
	for (unsigned i = 0; i < 5; i++)
		known[i] = frame(31337, i);
	uint32_t known_id = da_depot_put(known, 5);
	pthread_t th[2];
	atomic_store(&stop_inserting, 0);
	for (uintptr_t t = 0; t < 2; t++)
		pthread_create(&th[t], NULL, insert_forever,
		               (void *)(12000000 + t * 1000000));
	for (int round = 0; round < 20; round++) {
		usleep(2000);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(child_checks(known, known_id));
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	atomic_store(&stop_inserting, 1);
	for (unsigned t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
}

/*
 * Full: with the ceiling lowered to leave room for one one-frame record,
 * a new deep stack is kept as its first frame; then nothing new fits and
 * new stacks get DA_DEPOT_OVERFLOW, while stacks stored before keep their
 * ids and a stack whose first frame is stored gets that frame's id.
 */
static void
full_depot(void **state)
{
	(void)state;
	uintptr_t old[3] = {frame(41, 0), frame(41, 1), frame(41, 2)};
	uint32_t old_id = da_depot_put(old, 3);
	/* A fresh one-frame record ends at the arena's top (no other thread
	 * inserts now); make sure one more fits in the same chunk. */
	uint32_t probe;
	uint64_t k = 0;
	do {
		uintptr_t one = frame(42, (unsigned)k++);
		probe = da_depot_put(&one, 1);
	} while ((probe + 2) % DA_DEPOT_CHUNK_UNITS + 2 > DA_DEPOT_CHUNK_UNITS);
	size_t used = ((size_t)probe + 2) * 8;
	size_t saved = da_depot_set_limit(used + 16);
	assert_int_equal(saved, DA_DEPOT_LIMIT);

	uintptr_t deep[4], deeper[4], other[6];
	for (unsigned i = 0; i < 4; i++) {
		deep[i] = frame(43, i);
		deeper[i] = frame(44, i);
	}
	for (unsigned i = 0; i < 6; i++)
		other[i] = frame(45, i);
	other[0] = deep[0];
	uint32_t count = da_depot_count();
	uint32_t cut = da_depot_put(deep, 4);
	assert_int_equal(cut, probe + 2);
	assert_frames(cut, deep, 1);
	/* Now nothing fits: a new first frame overflows... */
	assert_int_equal(da_depot_put(deeper, 4), DA_DEPOT_OVERFLOW);
	assert_int_equal(da_depot_put(deeper, 1), DA_DEPOT_OVERFLOW);
	const uintptr_t *got = NULL;
	assert_int_equal(da_depot_get(DA_DEPOT_OVERFLOW, &got), 0);
	/* ... a known first frame gives its id, known stacks theirs. */
	assert_int_equal(da_depot_put(other, 6), cut);
	assert_int_equal(da_depot_put(deep, 4), cut);
	assert_int_equal(da_depot_put(old, 3), old_id);
	assert_frames(old_id, old, 3);
	assert_int_equal(da_depot_count(), count + 1);

	/* With room again, the whole stack is stored. */
	assert_int_equal(da_depot_set_limit(saved), used + 16);
	uint32_t whole = da_depot_put(deep, 4);
	assert_int_not_equal(whole, cut);
	assert_frames(whole, deep, 4);
	assert_frames(da_depot_put(deeper, 4), deeper, 4);
	assert_int_equal(da_depot_set_limit((size_t)1 << 40), DA_DEPOT_LIMIT);
	assert_int_equal(da_depot_set_limit(DA_DEPOT_LIMIT), DA_DEPOT_LIMIT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(equal_and_distinct),
	        cmocka_unit_test(every_depth),
	        cmocka_unit_test(unknown_ids),
	        cmocka_unit_test(many_stacks),
	        cmocka_unit_test(threads_agree),
	        cmocka_unit_test(signal_handlers_agree),
	        cmocka_unit_test(fork_while_inserting),
	        cmocka_unit_test(full_depot),
	};
	return cmocka_run_group_tests_name("depot", tests, NULL, NULL);
}
