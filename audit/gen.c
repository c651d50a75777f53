/*
 * audit/gen.c — generation batches, the break, and the marks table.
 */
#include "audit/gen.h"
#include "alloc/lock.h"
#include "alloc/os.h"
#include "audit/header.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* The audit layer's thread-local state (tls.h), defined here. */
__thread struct da_audit_tls da_audit_tls;

/* A thread's batch is [next, batch_end); end is batch_end, or the first
 * number before it that must come to da_gen_refill (the break, a watched
 * number, or every number: gen.h), so da_gen_next needs one compare. */
static __thread uint64_t tls_batch_end;

static _Atomic uint64_t gen_top = 1; /* the next number not in a batch */
static _Atomic uint64_t gen_break;   /* 0: none */

/* The watched numbers, sorted, and whether every number is: set once at
 * start-up (da_gen_watch), before any thread but the first runs. */
static const uint64_t *watch;
static size_t nwatch;
static int watch_every;

/* Guard sampling (da_gen_sample): set once at start-up. */
static uint64_t sample_period, sample_seed;

/* The offset in window w of its sampled number. */
static uint64_t
sample_offset(uint64_t w)
{
	uint64_t x = (w + 1) * UINT64_C(0x9e3779b97f4a7c15) ^ sample_seed;
	x ^= x >> 31;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 29;
	return x % sample_period;
}

/* The first sampled number from from on (numbers start at 1). */
static uint64_t
next_sampled(uint64_t from)
{
	uint64_t w = (from - 1) / sample_period;
	uint64_t s = w * sample_period + sample_offset(w) + 1;
	if (s < from)
		s = (w + 1) * sample_period + sample_offset(w + 1) + 1;
	return s;
}

/* The batch log of a thread with a thread scope open (da_gen_log_*):
 * ranges [lo, hi) of numbers, ascending, in memory from the OS. */
static __thread struct {
	uint64_t (*r)[2];
	size_t n, cap;
	int on;
} glog;

struct mark {
	uint64_t first;   /* first generation of the epoch */
	uint64_t mono_ns; /* CLOCK_MONOTONIC when it began; 0: unknown */
	char label[DA_MARK_LABEL];
};
/* marks[0] is the start; marks_n epochs exist. An entry is written before
 * marks_n grows past it (release), so readers take no lock. */
static struct mark marks[DA_MARKS_MAX] = {{1, 0, "start"}};
static _Atomic unsigned marks_n = 1;
static struct da_lock marks_lock = DA_LOCK_INIT;

/* The first number from from on, below bend, that must stop at
 * da_gen_refill; bend if none. */
static uint64_t
next_stop(uint64_t from, uint64_t bend)
{
	uint64_t s = bend;
	uint64_t brk = atomic_load_explicit(&gen_break, memory_order_relaxed);
	if (brk >= from && brk < s)
		s = brk;
	if (watch_every || sample_period == 1)
		return from;
	if (sample_period != 0) {
		uint64_t n = next_sampled(from);
		if (n < s)
			s = n;
	}
	size_t lo = 0, hi = nwatch; /* the first watch[i] >= from */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (watch[mid] < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < nwatch && watch[lo] < s)
		s = watch[lo];
	return s;
}

static void
log_batch(uint64_t lo, uint64_t hi)
{
	if (glog.n == glog.cap) {
		size_t cap = glog.cap ? glog.cap * 2 : 256;
		uint64_t(*r)[2] = da_os_map(cap * sizeof(*r));
		if (r == NULL)
			return; /* the scope's listing will miss this batch */
		if (glog.r != NULL) {
			memcpy(r, glog.r, glog.n * sizeof(*r));
			da_os_unmap(glog.r, glog.cap * sizeof(*r));
		}
		glog.r = r;
		glog.cap = cap;
	}
	glog.r[glog.n][0] = lo;
	glog.r[glog.n][1] = hi;
	glog.n++;
}

uint64_t
da_gen_refill(void)
{
	struct da_gen_state *t = &da_gen_tls;
	/* Read again: a signal handler may have taken a new batch while
	 * this thread was on its way here. */
	uint64_t g = t->next;
	if (g >= tls_batch_end) {
		/* The batch is used up: take the next one, up to the next
		 * number whose block is noted (gen.h). */
		uint64_t top = atomic_load_explicit(&gen_top,
		                                    memory_order_relaxed),
		         end;
		do
			end = da_life_next_stamp(top + 1);
		while (!atomic_compare_exchange_weak_explicit(
		        &gen_top, &top, end, memory_order_relaxed,
		        memory_order_relaxed));
		g = top;
		tls_batch_end = end;
		t->work |= DA_WORK_BATCH;
		if (glog.on)
			log_batch(g, tls_batch_end);
	}
	t->next = g + 1;
	t->end = next_stop(g + 1, tls_batch_end);
	t->temporary_limit = da_temporary_limit;
	if (g == atomic_load_explicit(&gen_break, memory_order_relaxed))
		raise(SIGTRAP); /* this allocation is the one asked for */
	return g;
}

uint32_t da_temporary_limit = 1;

void
da_gen_set_temporary(uint32_t n)
{
	da_temporary_limit = n < UINT32_MAX ? n + 1 : UINT32_MAX;
	da_gen_tls.temporary_limit = da_temporary_limit;
}

void
da_gen_set_break(uint64_t gen)
{
	atomic_store_explicit(&gen_break, gen, memory_order_relaxed);
	/* The calling thread's batch (set before its first allocations, at
	 * start-up) is clipped at once; other threads clip their next. */
	struct da_gen_state *t = &da_gen_tls;
	if (gen >= t->next && gen < t->end)
		t->end = gen;
}

void
da_gen_watch(const uint64_t *numbers, size_t n, int every)
{
	watch = numbers;
	nwatch = n;
	watch_every = every;
	struct da_gen_state *t = &da_gen_tls;
	if (t->next < t->end)
		t->end = next_stop(t->next, t->end);
}

void
da_gen_sample(uint64_t period, uint64_t seed)
{
	sample_period = period;
	sample_seed = seed;
	struct da_gen_state *t = &da_gen_tls;
	if (t->next < t->end)
		t->end = next_stop(t->next, t->end);
}

int
da_gen_sampled(uint64_t gen)
{
	if (sample_period <= 1 || gen == 0)
		return sample_period == 1 && gen != 0;
	return (gen - 1) % sample_period ==
	       sample_offset((gen - 1) / sample_period);
}

void
da_gen_stop_after(uint64_t skip)
{
	struct da_gen_state *t = &da_gen_tls;
	if (t->next < t->end && skip < t->end - t->next)
		t->end = t->next + skip;
}

uint64_t
da_gen_top(void)
{
	return atomic_load_explicit(&gen_top, memory_order_relaxed);
}

/* Gives the unused rest of the calling thread's batch back, when no other
 * batch was taken after it (always so in a single-threaded program). */
static void
give_back_batch(void)
{
	struct da_gen_state *t = &da_gen_tls;
	uint64_t end = tls_batch_end;
	if (glog.on && glog.n > 0 && glog.r[glog.n - 1][1] == end)
		glog.r[glog.n - 1][1] = t->next;
	if (end != 0 && atomic_compare_exchange_strong_explicit(
	                        &gen_top, &end, t->next, memory_order_relaxed,
	                        memory_order_relaxed)) {
		t->next = t->end = tls_batch_end = 0;
		return;
	}
	/* Otherwise the rest is lost (numbers stay unique), and the thread
	 * starts the new epoch with a new batch. */
	t->next = t->end = tls_batch_end = 0;
}

unsigned
da_gen_mark(const char *label)
{
	da_lock_acquire(&marks_lock);
	give_back_batch();
	unsigned n = atomic_load_explicit(&marks_n, memory_order_relaxed);
	unsigned e = n < DA_MARKS_MAX ? n : DA_MARKS_MAX - 1;
	struct mark *m = &marks[e];
	m->first = atomic_load_explicit(&gen_top, memory_order_relaxed);
	struct timespec ts;
	m->mono_ns = clock_gettime(CLOCK_MONOTONIC, &ts) == 0
	                     ? (uint64_t)ts.tv_sec * 1000000000u +
	                               (uint64_t)ts.tv_nsec
	                     : 0;
	size_t len = label != NULL ? strnlen(label, DA_MARK_LABEL - 1) : 0;
	memcpy(m->label, label != NULL ? label : "", len);
	m->label[len] = '\0';
	if (n < DA_MARKS_MAX)
		atomic_store_explicit(&marks_n, n + 1, memory_order_release);
	da_lock_release(&marks_lock);
	return e;
}

unsigned
da_gen_epochs(void)
{
	return atomic_load_explicit(&marks_n, memory_order_acquire);
}

unsigned
da_gen_epoch_of(uint64_t gen)
{
	unsigned lo = 0, hi = da_gen_epochs(); /* marks[lo].first <= gen */
	while (hi - lo > 1) {
		unsigned mid = lo + (hi - lo) / 2;
		if (marks[mid].first <= gen)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

const char *
da_gen_epoch_label(unsigned e)
{
	return e < da_gen_epochs() ? marks[e].label : "";
}

uint64_t
da_gen_epoch_first(unsigned e)
{
	return e < da_gen_epochs() ? marks[e].first : 0;
}

uint64_t
da_gen_epoch_mono(unsigned e)
{
	return e < da_gen_epochs() ? marks[e].mono_ns : 0;
}

uint64_t
da_gen_cut(void)
{
	da_lock_acquire(&marks_lock);
	give_back_batch();
	uint64_t g = atomic_load_explicit(&gen_top, memory_order_relaxed);
	da_lock_release(&marks_lock);
	return g;
}

size_t
da_gen_log_start(void)
{
	da_lock_acquire(&marks_lock);
	give_back_batch();
	da_lock_release(&marks_lock);
	glog.on = 1;
	return glog.n;
}

size_t
da_gen_log_count(void)
{
	return glog.n;
}

int
da_gen_log_has(size_t from, size_t to, uint64_t gen)
{
	if (to > glog.n)
		to = glog.n;
	size_t lo = from, hi = to; /* the last range with r[0] <= gen */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (glog.r[mid][0] <= gen)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > from && gen < glog.r[lo - 1][1];
}

void
da_gen_log_stop(void)
{
	if (glog.r != NULL)
		da_os_unmap(glog.r, glog.cap * sizeof(*glog.r));
	glog.r = NULL;
	glog.n = glog.cap = 0;
	glog.on = 0;
}

void
da_gen_fork_child(void)
{
	da_lock_reset(&marks_lock);
}
