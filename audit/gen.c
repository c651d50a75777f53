/*
 * audit/gen.c — generation batches, the break, and the marks table.
 */
#include "audit/gen.h"
#include "alloc/lock.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>

/* A thread's batch is [next, batch_end); end is batch_end, or the break
 * when the break lies in the batch, so da_gen_next needs one compare. */
__thread struct da_gen_tls da_gen_tls;
static __thread uint64_t tls_batch_end;

static _Atomic uint64_t gen_top = 1; /* the next number not in a batch */
static _Atomic uint64_t gen_break;   /* 0: none */

struct mark {
	uint64_t first; /* first generation of the epoch */
	char label[DA_MARK_LABEL];
};
/* marks[0] is the start; marks_n epochs exist. An entry is written before
 * marks_n grows past it (release), so readers take no lock. */
static struct mark marks[DA_MARKS_MAX] = {{1, "start"}};
static _Atomic unsigned marks_n = 1;
static struct da_lock marks_lock = DA_LOCK_INIT;

uint64_t
da_gen_refill(void)
{
	struct da_gen_tls *t = &da_gen_tls;
	uint64_t brk = atomic_load_explicit(&gen_break, memory_order_relaxed);
	uint64_t g = t->next;
	if (g != brk && g < t->end) {
		/* A signal handler took a new batch while this thread was on
		 * its way here: go on with it. */
		t->next = g + 1;
		return g;
	}
	if (g != brk || g >= tls_batch_end) {
		/* The batch is used up: take the next one. */
		g = atomic_fetch_add_explicit(&gen_top, DA_GEN_BATCH,
		                              memory_order_relaxed);
		tls_batch_end = g + DA_GEN_BATCH;
		t->next = g + 1;
		t->end = brk > g && brk < tls_batch_end ? brk : tls_batch_end;
		if (g != brk)
			return g;
	}
	/* g is the break: this allocation is the one asked for. */
	t->next = g + 1;
	t->end = tls_batch_end;
	raise(SIGTRAP);
	return g;
}

void
da_gen_set_break(uint64_t gen)
{
	atomic_store_explicit(&gen_break, gen, memory_order_relaxed);
	/* The calling thread's batch (set before its first allocations, at
	 * start-up) is clipped at once; other threads clip their next. */
	struct da_gen_tls *t = &da_gen_tls;
	if (gen >= t->next && gen < tls_batch_end)
		t->end = gen;
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
	struct da_gen_tls *t = &da_gen_tls;
	uint64_t end = tls_batch_end;
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

void
da_gen_fork_child(void)
{
	da_lock_reset(&marks_lock);
}
