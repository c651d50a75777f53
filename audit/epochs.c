/*
 * audit/epochs.c — each epoch's totals at its start and its peak (see
 * epochs.h).
 */
#include "audit/epochs.h"
#include "audit/acct.h"
#include "audit/gen.h"
#include "audit/timeline.h"

#include <sched.h>
#include <stdatomic.h>

/* Epoch 0 starts with everything at 0. Entries past the last epoch are
 * never read. Marks come seldom: one lock for them all. */
static struct da_epoch_stats epochs[DA_MARKS_MAX];
static unsigned current; /* the epoch the last mark began */
static atomic_flag lock = ATOMIC_FLAG_INIT;

void
da_epochs_mark(unsigned e)
{
	struct da_acct_totals t;
	int64_t ended = da_acct_epoch_begin(&t);
	while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
		sched_yield();
	epochs[current].peak_bytes = ended > 0 ? (uint64_t)ended : 0;
	struct da_epoch_stats *s = &epochs[e];
	s->allocs = t.allocs;
	s->alloc_bytes = t.bytes;
	s->frees = t.frees;
	uint64_t live = t.live > 0 ? (uint64_t)t.live : 0;
	s->free_bytes = t.bytes > live ? t.bytes - live : 0;
	s->peak_bytes = live;
	current = e;
	atomic_flag_clear_explicit(&lock, memory_order_release);
	da_timeline_add(DA_SAMPLE_MARK, (int64_t)live);
}

void
da_epochs_get(unsigned e, struct da_epoch_stats *out)
{
	while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
		sched_yield();
	*out = epochs[e < DA_MARKS_MAX ? e : DA_MARKS_MAX - 1];
	unsigned last = current;
	atomic_flag_clear_explicit(&lock, memory_order_release);
	if (e == last) {
		struct da_acct_totals t;
		da_acct_totals(&t);
		out->peak_bytes = t.epoch_peak > 0 ? (uint64_t)t.epoch_peak : 0;
	}
}

void
da_epochs_fork_child(void)
{
	atomic_flag_clear_explicit(&lock, memory_order_relaxed);
}
