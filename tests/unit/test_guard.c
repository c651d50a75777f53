/*
 * Unit tests of guard-page blocks (alloc/guard.c): where blocks land next
 * to their guard page (side after, align 1 and 16; side before), that one
 * byte past (or before) a block faults, that a freed block faults while
 * quarantined and its slot comes back usable once pushed out, lookups of
 * addresses in blocks, guard pages and freed blocks, the walk, the
 * statistics, fork, threads; then the mprotect fallback with the same
 * tests and its map-count ceiling; and 200,000 live guarded blocks.
 *
 * The guard allocator is set up once per process, so each configuration
 * runs in a child process of its own; the parent adds up the failures.
 * Faults are caught in-process (SIGSEGV handler, siglongjmp); one test
 * also checks that a child process dies of SIGSEGV.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/guard.h"

#define PAGE DA_PAGE
#define QUAR ((size_t)64 << 10) /* the tests' quarantine: 64 KiB */
#define HDR  16

static struct da_guard_config cfg;

/* ---- catching faults ---- */

static sigjmp_buf fault_jmp;
static void *volatile fault_addr;
static struct da_guard_hit fault_hit;
static volatile int fault_known;

static void
on_segv(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	fault_addr = si->si_addr;
	fault_known = da_guard_lookup(si->si_addr, &fault_hit);
	siglongjmp(fault_jmp, 1);
}

/* Installs on_segv (cmocka puts its own back after each test). */
static void
catch_faults(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGSEGV, &sa, NULL), 0);
}

/* 1 if reading (write 0) or writing (write 1) the byte at p faults; the
 * fault's address must be p. */
static int
faults(void *p, int write)
{
	fault_addr = NULL;
	fault_known = 0;
	if (sigsetjmp(fault_jmp, 1) == 0) {
		if (write)
			*(volatile char *)p = 0x5a;
		else
			(void)*(volatile char *)p;
		return 0;
	}
	assert_ptr_equal(fault_addr, p);
	return 1;
}

static uintptr_t
page_up(uintptr_t a)
{
	return (a + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
}

/* Keeps the compiler from folding a free of a fresh block away. */
static void *volatile launder_slot;
static void *
launder(void *p)
{
	launder_slot = p;
	return launder_slot;
}

/* ---- the tests of one configuration ---- */

static const size_t sizes[] = {
        0,    1,    7,    8,    15,   16,   17,   100,       511,
        4000, 4080, 4081, 4095, 4096, 5000, 8192, 65536 + 3, (1u << 20) + 3};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Every size lands as the layout says: side after, its end at the guard
 * page (align 1) or less than align below it; side before, its header at
 * the start of the data page after the guard. The whole block (and what
 * usable says) is writable; the byte beyond faults. */
static void
blocks_sit_against_their_guard(void **state)
{
	(void)state;
	catch_faults();
	char *p[NSIZES];
	for (size_t i = 0; i < NSIZES; i++) {
		size_t n = sizes[i];
		p[i] = da_guard_malloc(n);
		assert_non_null(p[i]);
		assert_true(da_guard_owns(p[i]));
		assert_int_equal((uintptr_t)p[i] % cfg.align, 0);
		size_t usable = da_guard_usable(p[i]);
		assert_true(usable >= n);
		if (cfg.side == DA_GUARD_AFTER) {
			uintptr_t guard = page_up((uintptr_t)p[i] + n);
			assert_true(guard - ((uintptr_t)p[i] + n) < cfg.align);
			assert_int_equal((uintptr_t)p[i] + usable, guard);
			if (cfg.align == 1)
				assert_int_equal(usable, n);
			assert_true(faults((char *)guard, 1));
			assert_true(faults((char *)guard, 0));
		} else {
			assert_int_equal(((uintptr_t)p[i] - HDR) % PAGE, 0);
			assert_true(faults(p[i] - HDR - 1, 1));
			assert_true(faults(p[i] - HDR - 1, 0));
			assert_true(faults(p[i] + usable, 1));
			assert_int_equal(((uintptr_t)p[i] + usable) % PAGE, 0);
		}
		memset(p[i] - HDR, 0x11, HDR + usable);
	}
	for (size_t i = 0; i < NSIZES; i++)
		assert_int_equal(da_guard_free(p[i]), DA_FREE_OK);
}

/* A child that writes one byte past its block (or before it, side
 * before) dies of SIGSEGV. */
static void
overflow_kills_a_child(void **state)
{
	(void)state;
	char *p = da_guard_malloc(13);
	assert_non_null(p);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		if (cfg.side == DA_GUARD_AFTER)
			((volatile char *)p)[cfg.align == 1 ? 13 : 16] = 1;
		else
			((volatile char *)p)[-HDR - 1] = 1;
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSEGV);
	assert_int_equal(da_guard_free(p), DA_FREE_OK);
}

/* A freed block faults on read and on write while it is quarantined,
 * and the fault names it: freed, the offset inside it. */
static void
freed_block_faults(void **state)
{
	(void)state;
	catch_faults();
	char *p = da_guard_malloc(100);
	assert_non_null(p);
	memset(p, 1, 100);
	_Atomic(uint64_t) *meta = da_guard_meta(p);
	assert_non_null(meta);
	atomic_store(&meta[0], 0x1234);
	atomic_store(&meta[3], 0xfeed);
	assert_int_equal(da_guard_free(launder(p)), DA_FREE_OK);
	assert_null(da_guard_meta(p));
	assert_int_equal(da_guard_usable(p), 0);
	assert_true(faults(p, 0));
	assert_true(fault_known);
	assert_int_equal(fault_hit.state, DA_GUARD_QUARANTINED);
	assert_true(fault_hit.freed);
	assert_false(fault_hit.in_guard);
	assert_ptr_equal(fault_hit.block, p);
	assert_int_equal(fault_hit.size, 100);
	assert_int_equal(fault_hit.where, DA_GUARD_IN);
	assert_int_equal(fault_hit.offset, 0);
	assert_int_equal(fault_hit.meta[0], 0x1234);
	assert_int_equal(fault_hit.meta[3], 0xfeed);
	assert_true(faults(p + 99, 1));
	assert_int_equal(fault_hit.offset, 99);
	assert_true(faults(p - HDR, 1)); /* its header too */
	assert_int_equal(fault_hit.where, DA_GUARD_BELOW);
	assert_int_equal(da_guard_free(p), DA_FREE_DOUBLE);
}

/* Once the quarantine's bytes push a freed block out, its slot stays
 * closed (still reported as freed) until it is handed out again: then the
 * same address comes back, readable and writable. */
static void
pushed_out_slot_is_reused(void **state)
{
	(void)state;
	catch_faults();
	/* 10000 bytes: three data pages, a slot size no other test uses. */
	enum { SIZE = 10000, MAXN = 600 };
	static char *q[MAXN];
	char *p = da_guard_malloc(SIZE);
	assert_non_null(p);
	assert_true(da_guard_zeroed(p)); /* a slot never written */
	memset(p, 0x55, SIZE);
	for (int i = 0; i < 6; i++)
		q[i] = da_guard_malloc(SIZE);
	assert_int_equal(da_guard_free(p), DA_FREE_OK);
	assert_false(da_guard_zeroed(p)); /* no live block there */
	for (int i = 0; i < 6; i++)       /* 6 x 12 KiB > 64 KiB */
		assert_int_equal(da_guard_free(q[i]), DA_FREE_OK);
	struct da_guard_hit hit;
	assert_int_equal(da_guard_lookup(p, &hit), 1);
	assert_int_equal(hit.state, DA_GUARD_FREED);
	assert_true(hit.freed);
	assert_true(faults(p, 1));
	int n = 0, found = 0;
	while (n < MAXN && !found) {
		q[n] = da_guard_malloc(SIZE);
		assert_non_null(q[n]);
		found = q[n++] == p;
	}
	assert_true(found);
	/* Reopened in a batch under madvise: the page the block is sure to
	 * be written in (the last data page, or the header's first one with
	 * the guard before) came in with the batch, before any access. */
	if (da_guardprot_mech == DA_GUARD_MECH_MADVISE) {
		char *page =
		        cfg.side == DA_GUARD_AFTER ? p + SIZE - 1 : p - HDR;
		page = (char *)((uintptr_t)page & ~(uintptr_t)(PAGE - 1));
		unsigned char resident = 0;
		assert_int_equal(mincore(page, PAGE, &resident), 0);
		assert_int_equal(resident & 1, 1);
		assert_true(atomic_load(&da_guardprot_populated) > 0);
	}
	/* The last block's bytes: madvise's close took the pages away,
	 * mprotect's kept them, and da_guard_zeroed says which. */
	int zeroed = da_guard_zeroed(p);
	assert_int_equal(zeroed, da_guardprot_mech == DA_GUARD_MECH_MADVISE);
	assert_int_equal(p[0], zeroed ? 0 : 0x55);
	assert_int_equal(p[SIZE - 1], zeroed ? 0 : 0x55);
	assert_false(faults(p, 0));
	assert_false(faults(p + SIZE - 1, 1));
	memset(p, 0x77, SIZE);
	assert_int_equal(da_guard_lookup(p, &hit), 1);
	assert_int_equal(hit.state, DA_GUARD_LIVE);
	assert_false(hit.freed);
	for (int i = 0; i < n; i++)
		assert_int_equal(da_guard_free(q[i]), DA_FREE_OK);
}

/* Lookups: inside the block, in the data page before it, in the guard
 * page; an address of nobody's. */
static void
lookups(void **state)
{
	(void)state;
	struct da_guard_hit hit;
	char *p = da_guard_malloc(64);
	assert_non_null(p);
	assert_int_equal(da_guard_lookup(p + 10, &hit), 1);
	assert_ptr_equal(hit.block, p);
	assert_int_equal(hit.size, 64);
	assert_int_equal(hit.where, DA_GUARD_IN);
	assert_int_equal(hit.offset, 10);
	assert_int_equal(hit.state, DA_GUARD_LIVE);
	assert_false(hit.in_guard);
	assert_false(hit.freed);
	assert_int_equal(da_guard_lookup(p - 8, &hit), 1);
	assert_int_equal(hit.where, DA_GUARD_BELOW);
	assert_int_equal(hit.offset, -8);
	assert_false(hit.in_guard);
	if (cfg.side == DA_GUARD_AFTER) {
		char *g = (char *)page_up((uintptr_t)p + 64);
		assert_int_equal(da_guard_lookup(g + 100, &hit), 1);
		assert_true(hit.in_guard);
		assert_ptr_equal(hit.block, p);
		assert_int_equal(hit.where, DA_GUARD_ABOVE);
		assert_int_equal(hit.offset, g + 100 - p);
	} else {
		char *g = p - HDR - PAGE;
		assert_int_equal(da_guard_lookup(g + PAGE - 1, &hit), 1);
		assert_true(hit.in_guard);
		assert_ptr_equal(hit.block, p);
		assert_int_equal(hit.where, DA_GUARD_BELOW);
		assert_int_equal(hit.offset, -HDR - 1);
	}
	int local;
	assert_int_equal(da_guard_lookup(&local, &hit), 0);
	assert_int_equal(da_guard_lookup(NULL, &hit), 0);
	assert_int_equal(da_guard_free(p), DA_FREE_OK);
}

/* A guard page between two blocks names the nearer one: the lower
 * block's end (it overflowed) or the upper block's start (underflow). */
static void
guard_between_two_blocks(void **state)
{
	(void)state;
	struct da_guard_hit hit;
	/* 20000 bytes: five data pages, a slot size of its own. */
	char *a = da_guard_malloc(20000);
	char *b = da_guard_malloc(20000);
	assert_non_null(a);
	assert_non_null(b);
	size_t slot = 6 * PAGE;
	assert_int_equal(b - a, slot); /* neighbours, lowest first */
	/* The guard page between them: a's (side after) or b's. */
	char *g = cfg.side == DA_GUARD_AFTER
	                  ? (char *)page_up((uintptr_t)a + 20000)
	                  : b - HDR - PAGE;
	for (size_t off = 0; off < PAGE; off += PAGE / 2 - 1) {
		char *x = g + off;
		char *near =
		        (size_t)(x - (a + 20000)) <= (size_t)(b - x) ? a : b;
		assert_int_equal(da_guard_lookup(x, &hit), 1);
		assert_true(hit.in_guard);
		assert_ptr_equal(hit.block, near);
		assert_int_equal(hit.where,
		                 near == a ? DA_GUARD_ABOVE : DA_GUARD_BELOW);
		assert_int_equal(hit.offset, x - near);
	}
	if (cfg.side == DA_GUARD_AFTER && cfg.align == 1) {
		assert_int_equal(da_guard_lookup(g, &hit), 1);
		assert_ptr_equal(hit.block, a); /* one byte past a */
		assert_int_equal(hit.offset, 20000);
	}
	/* Freed, a is still named, as freed. */
	assert_int_equal(da_guard_free(a), DA_FREE_OK);
	assert_int_equal(da_guard_lookup(a + 20000, &hit), 1);
	assert_ptr_equal(hit.block, a);
	assert_int_equal(hit.where, DA_GUARD_ABOVE);
	assert_true(hit.freed);
	assert_int_equal(hit.state, DA_GUARD_QUARANTINED);
	assert_int_equal(da_guard_free(b), DA_FREE_OK);
}

/* What free says of pointers that are not a live block's. */
static void
bad_frees(void **state)
{
	(void)state;
	char *p = da_guard_malloc(200);
	assert_non_null(p);
	assert_int_equal(da_guard_free(p + 1), DA_FREE_INTERIOR);
	assert_int_equal(da_guard_free(p + 199), DA_FREE_INTERIOR);
	assert_int_equal(da_guard_free(p - HDR), DA_FREE_UNUSED);
	struct da_block b;
	assert_int_equal(da_guard_block(p, &b), 1);
	assert_ptr_equal(b.user, p);
	assert_ptr_equal(b.start, p - HDR);
	assert_int_equal(b.size, da_guard_usable(p));
	assert_int_equal(da_guard_block(p + 1, &b), 0);
	/* da_guard_extent: any byte of the block or its header room. */
	char *at[] = {p, p + 1, p + 199, p - HDR};
	for (unsigned i = 0; i < 4; i++) {
		memset(&b, 0, sizeof(b));
		assert_int_equal(da_guard_extent(at[i], &b), 1);
		assert_ptr_equal(b.start, p - HDR);
		assert_ptr_equal(b.user, p - HDR);
		assert_int_equal(b.size, HDR + da_guard_usable(p));
		assert_int_equal(b.state, DA_LIVE);
	}
	assert_int_equal(da_guard_extent(p - HDR - 1, &b), 0);
	assert_int_equal(da_guard_extent(p + da_guard_usable(p), &b), 0);
	assert_int_equal(da_guard_free(p), DA_FREE_OK);
	/* Freed (quarantined): its size as asked, not its usable bytes. */
	assert_int_equal(da_guard_extent(p + 100, &b), 1);
	assert_ptr_equal(b.start, p - HDR);
	assert_int_equal(b.size, HDR + 200);
	assert_int_equal(b.state, DA_FREED);
	assert_int_equal(da_guard_extent(p + 200, &b), 0);
	assert_int_equal(da_guard_free(p), DA_FREE_DOUBLE);
	int local;
	assert_false(da_guard_owns(&local));
	unsigned why;
	assert_null(da_guard_alloc(DA_GUARD_MAX_PAGES * PAGE + 1, 0, &why));
	assert_int_equal(why, DA_GUARD_TOO_BIG);
}

/* Larger alignments than the config's, per call. */
static void
aligned_blocks(void **state)
{
	(void)state;
	unsigned why;
	size_t aligns[] = {32, 64, 256, 4096, 8192, 65536};
	for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		char *p = da_guard_alloc(100, aligns[i], &why);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % aligns[i], 0);
		assert_true(da_guard_usable(p) >= 100);
		if (cfg.side == DA_GUARD_AFTER && aligns[i] <= PAGE)
			assert_true(da_guard_usable(p) < 100 + aligns[i]);
		memset(p - HDR, 0x22, HDR + 100);
		assert_int_equal(da_guard_free(p), DA_FREE_OK);
	}
	/* A block of 0 bytes lies in its own slot too, at any alignment:
	 * its metadata is found, and its free is its own. */
	for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		char *z = da_guard_alloc(0, aligns[i], &why);
		assert_non_null(z);
		assert_int_equal((uintptr_t)z % aligns[i], 0);
		assert_non_null(da_guard_meta(z));
		assert_int_equal(da_guard_free(z), DA_FREE_OK);
	}
	char *p = da_guard_alloc(10, 48, &why); /* rounded up to 64 */
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 64, 0);
	assert_int_equal(da_guard_free(p), DA_FREE_OK);
	assert_null(da_guard_alloc(10, (size_t)1 << 40, &why));
	assert_int_equal(why, DA_GUARD_TOO_BIG);
}

struct walk_seen {
	char *want[3];
	int seen[3];
	int others;
};

static int
walk_fn(const struct da_block *b, void *arg)
{
	struct walk_seen *w = arg;
	for (int i = 0; i < 3; i++) {
		if (b->user == w->want[i]) {
			w->seen[i]++;
			assert_ptr_equal(b->start, w->want[i] - HDR);
			assert_int_equal(b->size, da_guard_usable(w->want[i]));
			return 0;
		}
	}
	w->others++;
	return 0;
}

/* The walk sees every live block once, freed ones not; the counters
 * follow. */
static void
walk_and_stats(void **state)
{
	(void)state;
	struct da_guard_stats before, st;
	da_guard_stats(&before);
	struct walk_seen w = {{0}, {0}, 0};
	for (int i = 0; i < 3; i++)
		w.want[i] = da_guard_malloc(50 + (size_t)i);
	char *gone = da_guard_malloc(50);
	da_guard_stats(&st);
	assert_int_equal(st.live, before.live + 4);
	assert_int_equal(st.live_bytes, before.live_bytes + 50 + 51 + 52 + 50);
	assert_int_equal(da_guard_free(gone), DA_FREE_OK);
	assert_int_equal(da_guard_walk(walk_fn, &w), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(w.seen[i], 1);
	assert_int_equal((size_t)w.others, before.live);
	da_guard_stats(&st);
	assert_int_equal(st.live, before.live + 3);
	assert_true(st.quarantined >= 1);
	assert_true(st.quarantine_bytes <= QUAR);
	assert_true(st.slots >= st.live + st.quarantined + st.freed_closed);
	assert_int_equal(st.guard_bytes, st.slots * PAGE);
	assert_true(st.syscalls > before.syscalls);
	assert_int_equal(st.mech, da_guardprot_mech);
	for (int i = 0; i < 3; i++)
		assert_int_equal(da_guard_free(w.want[i]), DA_FREE_OK);
}

/* fork through the handlers: the child allocates and frees (its batches
 * name the child, not the parent), its guards fault; the parent goes on. */
static void
fork_handlers(void **state)
{
	(void)state;
	char *p = da_guard_malloc(30);
	da_guard_fork_prepare();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		da_guard_fork_child();
		int bad = 0;
		for (int i = 0; i < 3000; i++) {
			char *q = da_guard_malloc((size_t)(i % 500));
			if (q == NULL || da_guard_free(q) != DA_FREE_OK)
				bad = 1;
		}
		if (da_guard_free(p) != DA_FREE_OK)
			bad = 1;
		signal(SIGSEGV, SIG_DFL);
		if (!bad)
			*(volatile char *)p = 1; /* freed: dies */
		_exit(bad ? 1 : 0);
	}
	da_guard_fork_parent();
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSEGV);
	p[29] = 1; /* still the parent's */
	assert_int_equal(da_guard_free(p), DA_FREE_OK);
}

static void *
churn_thread(void *arg)
{
	uintptr_t seed = (uintptr_t)arg * 2654435761u + 1;
	char *live[64] = {0};
	for (int i = 0; i < 4000; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		unsigned k = (unsigned)(seed >> 58);
		if (live[k] != NULL &&
		    (live[k][0] != (char)k || da_guard_free(live[k]) != 0))
			return (void *)1;
		size_t n = 8 + (size_t)((seed >> 20) % 505);
		live[k] = da_guard_malloc(n);
		if (live[k] == NULL)
			return (void *)1;
		live[k][0] = (char)k;
		live[k][n - 1] = 2;
	}
	for (int k = 0; k < 64; k++)
		if (live[k] != NULL && da_guard_free(live[k]) != 0)
			return (void *)1;
	return NULL;
}

/* Threads churning at once: every block is theirs alone, every free OK,
 * nothing left live. */
static void
threads(void **state)
{
	(void)state;
	struct da_guard_stats before, st;
	da_guard_stats(&before);
	pthread_t t[4];
	for (uintptr_t i = 0; i < 4; i++)
		assert_int_equal(
		        pthread_create(&t[i], NULL, churn_thread, (void *)i),
		        0);
	for (int i = 0; i < 4; i++) {
		void *rc;
		assert_int_equal(pthread_join(t[i], &rc), 0);
		assert_null(rc);
	}
	da_guard_stats(&st);
	assert_int_equal(st.live, before.live);
	assert_int_equal(st.stranded, 0);
}

/* ---- the mprotect fallback's ceiling ---- */

static size_t
maps_lines(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	size_t n = 0;
	int c;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Under mprotect every live block is a mapping of its own: allocation
 * stops (DA_GUARD_MAPS) at the ceiling, well below vm.max_map_count, and
 * goes on once blocks are freed. */
static void
mprotect_ceiling(void **state)
{
	(void)state;
	struct da_guard_stats st;
	da_guard_stats(&st);
	assert_int_equal(st.mech, DA_GUARD_MECH_MPROTECT);
	assert_true(st.map_ceiling > 0 && st.map_ceiling < st.max_maps);
	size_t cap = st.map_ceiling / 2 + 64;
	char **p = calloc(cap, sizeof(*p));
	assert_non_null(p);
	size_t n = 0;
	unsigned why = DA_GUARD_OK;
	while (n < cap) {
		p[n] = da_guard_alloc(32, 0, &why);
		if (p[n] == NULL)
			break;
		p[n++][0] = 1;
	}
	assert_true(n < cap);
	assert_int_equal(why, DA_GUARD_MAPS);
	size_t lines = maps_lines();
	print_message(
	        "mprotect: %zu live guarded blocks at the ceiling (%zu of "
	        "%zu mappings), /proc/self/maps %zu lines\n",
	        n, st.map_ceiling, st.max_maps, lines);
	assert_true(n > 1000);
	assert_true(lines < st.max_maps);
	assert_int_equal(da_guard_free(p[0]), DA_FREE_OK);
	p[0] = da_guard_malloc(32);
	assert_non_null(p[0]);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(da_guard_free(p[i]), DA_FREE_OK);
	free(p);
}

/* ---- many live blocks ---- */

/* Eight times what mprotect's ceiling allows under the default
 * vm.max_map_count; the million runs in tests/guard/million.sh, under
 * LD_PRELOAD (both at once would need 9 GB). */
#define MANY 200000

/* MemAvailable in bytes, or 0. */
static size_t
mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	size_t kib = 0;
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemAvailable: %zu kB", &kib) == 1)
			break;
	fclose(f);
	return kib * 1024;
}

/* MANY guarded blocks live at once (far past what one mapping per
 * guard allows under vm.max_map_count), each with a working guard, while
 * the mappings stay few. Each costs a page of memory: skipped, and said
 * so, only where the memory is not there. */
static void
many_live(void **state)
{
	(void)state;
	size_t need = (size_t)MANY * (PAGE + 256) + ((size_t)1 << 30);
	size_t avail = mem_available();
	if (avail < need) {
		print_message("SKIPPED: %d guarded blocks need %zu MiB, "
		              "MemAvailable is %zu MiB\n",
		              MANY, need >> 20, avail >> 20);
		skip();
	}
	catch_faults();
	char **p = malloc(sizeof(*p) * MANY);
	assert_non_null(p);
	for (size_t i = 0; i < MANY; i++) {
		size_t n = 8 + i % 57;
		p[i] = da_guard_malloc(n);
		assert_non_null(p[i]);
		p[i][0] = (char)i;
		p[i][n - 1] = 1;
	}
	struct da_guard_stats st;
	da_guard_stats(&st);
	size_t lines = maps_lines();
	print_message("%zu live guarded blocks: /proc/self/maps %zu lines, "
	              "vm.max_map_count %zu, %zu MiB reserved, mechanism %s\n",
	              st.live, lines, st.max_maps, st.reserved >> 20,
	              st.mech == DA_GUARD_MECH_MADVISE ? "madvise"
	                                               : "mprotect");
	assert_true(st.live >= MANY);
	assert_true(lines < 1000);
	for (size_t i = 0; i < MANY; i += 9973) {
		assert_int_equal(p[i][0], (char)i);
		assert_true(faults(p[i] + da_guard_usable(p[i]), 1));
		assert_ptr_equal(fault_hit.block, p[i]);
	}
	for (size_t i = 0; i < MANY; i++)
		assert_int_equal(da_guard_free(p[i]), DA_FREE_OK);
	free(p);
	assert_true(maps_lines() < 1000);
}

/* ---- running each configuration in a child ---- */

static const struct CMUnitTest common[] = {
        cmocka_unit_test(blocks_sit_against_their_guard),
        cmocka_unit_test(overflow_kills_a_child),
        cmocka_unit_test(freed_block_faults),
        cmocka_unit_test(pushed_out_slot_is_reused),
        cmocka_unit_test(lookups),
        cmocka_unit_test(guard_between_two_blocks),
        cmocka_unit_test(bad_frees),
        cmocka_unit_test(aligned_blocks),
        cmocka_unit_test(walk_and_stats),
        cmocka_unit_test(fork_handlers),
        cmocka_unit_test(threads),
};
static const struct CMUnitTest ceiling[] = {
        cmocka_unit_test(mprotect_ceiling),
};
static const struct CMUnitTest many[] = {
        cmocka_unit_test(many_live),
};

/* Runs group (n tests) in a child with this config; its failures. */
static int
run_child(const char *name, unsigned side, size_t align, int mprot,
          const struct CMUnitTest *group, size_t n)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		struct da_guard_config c = {
		        .side = side,
		        .align = align,
		        .header = HDR,
		        .quarantine = QUAR,
		        .force_mprotect = mprot,
		};
		if (da_guard_init(&c) != 0)
			_exit(99);
		if (da_guard_init(&c) != EBUSY)
			_exit(98);
		cfg = c;
		printf("# %s: mechanism %s\n", name,
		       da_guardprot_mech == DA_GUARD_MECH_MADVISE ? "madvise"
		                                                  : "mprotect");
		int rc = _cmocka_run_group_tests(name, group, n, NULL, NULL);
		fflush(stdout);
		_exit(rc);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
		fprintf(stderr, "%s: the child died\n", name);
		return 1;
	}
	return WEXITSTATUS(st);
}

#define RUN(name, side, align, mprot, group)       \
	run_child(name, side, align, mprot, group, \
	          sizeof(group) / sizeof(group[0]))

int
main(void)
{
	int failed = 0;
	struct da_guard_config bad = {.side = 2, .align = 16};
	failed += da_guard_init(&bad) != EINVAL;
	bad.side = DA_GUARD_AFTER;
	bad.align = 24;
	failed += da_guard_init(&bad) != EINVAL;
	failed += RUN("guard_after_align1", DA_GUARD_AFTER, 1, 0, common);
	failed += RUN("guard_after_align16", DA_GUARD_AFTER, 16, 0, common);
	failed += RUN("guard_before", DA_GUARD_BEFORE, 16, 0, common);
	failed += RUN("guard_mprotect_after_align1", DA_GUARD_AFTER, 1, 1,
	              common);
	failed += RUN("guard_mprotect_before", DA_GUARD_BEFORE, 16, 1, common);
	failed += RUN("guard_mprotect_ceiling", DA_GUARD_AFTER, 16, 1, ceiling);
	failed += RUN("guard_many", DA_GUARD_AFTER, 16, 0, many);
	return failed != 0;
}
