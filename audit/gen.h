/*
 * audit/gen.h — generations (allocation sequence numbers) and epochs.
 *
 * Every block gets a generation N: it was the Nth allocation of the
 * process, counting from 1. A single-threaded program's numbers are exact
 * and the same in every run, so DBGALLOC_BREAK=N stops the same allocation
 * next time. Threads take numbers in batches from one counter (one
 * compare-and-swap per batch, not per allocation): each thread's numbers
 * increase, every number is used at most once, and they follow the order
 * of allocations within a thread and roughly across threads (a thread may
 * use up to a batch's numbers taken before another thread's later batch).
 *
 * A batch ends just before the next number whose block gets a note of its
 * allocation time (header.h: da_life_stamped, one in DA_LIFE_STAMP, so
 * batches are DA_LIFE_STAMP numbers long on average and at most twice
 * that): the allocation that takes a new batch leaves the fast path
 * anyway, and that is the one noted, at no cost to the others. It is also
 * where the thread's periodic work is done (da_gen_tls.work).
 *
 * Epochs: dbgalloc_mark("label") starts epoch k + 1 at the next number
 * not yet handed out; a block's epoch is found from its generation (the
 * header keeps no epoch). The marking thread gives back the rest of its
 * batch first, so in a single-threaded program the epoch of every block
 * is exact; under threads, another thread may finish its current batch in
 * the epoch before.
 */
#ifndef DA_AUDIT_GEN_H
#define DA_AUDIT_GEN_H

#include "alloc/config.h"
#include "audit/tls.h"

#include <stddef.h>
#include <stdint.h>

#define DA_MARKS_MAX  4096 /* later marks all start the last epoch */
#define DA_MARK_LABEL 48

/* The thread took a new batch: its periodic work. */
#define DA_WORK_BATCH 1u
/* The live bytes reached a high-water step (audit/steps.h). */
#define DA_WORK_STEP 2u

/* DBGALLOC_TEMPORARY + 1: a block freed when its thread's next number is
 * at most this far past its own is temporary (audit/sitestats.h). */
extern uint32_t da_temporary_limit;
void da_gen_set_temporary(uint32_t n);

uint64_t da_gen_refill(void);

/* The generation of a new block. A signal handler's allocation that
 * interrupts this between its load and store may share a number with the
 * interrupted one: harmless, and not worth an atomic. */
DA_INLINE uint64_t
da_gen_next(void)
{
	uint64_t g = da_gen_tls.next;
	if (da_unlikely(g == da_gen_tls.end))
		return da_gen_refill();
	da_gen_tls.next = g + 1;
	return g;
}

/* DBGALLOC_BREAK: the allocation numbered gen raises SIGTRAP (0: none). */
void da_gen_set_break(uint64_t gen);

/*
 * Watched numbers (fault injection): each of numbers[0..n) (sorted, kept
 * by the caller for the life of the process), or every number when every
 * is set, is handed out by da_gen_refill, one at a time, so the caller
 * can look at it. Set at start-up.
 */
void da_gen_watch(const uint64_t *numbers, size_t n, int every);

/*
 * Guard sampling (DBGALLOC_GUARD, audit/guarded.h): every number with
 * period 1; otherwise one number in each window of period numbers, at an
 * offset that a hash of the seed and the window picks (so the same seed
 * picks the same numbers). Those numbers stop at da_gen_refill, as
 * watched ones do. Period 0: none. Set at start-up.
 */
void da_gen_sample(uint64_t period, uint64_t seed);

/* 1 if gen is one of the numbers da_gen_sample picks. */
int da_gen_sampled(uint64_t gen);

/* The calling thread's allocation skip numbers after its next one (0: the
 * next) comes to da_gen_refill as well, or an earlier one (a sample
 * passed on to it). */
void da_gen_stop_after(uint64_t skip);

/* Gives the calling thread's batch back and returns the first number any
 * allocation after this will get (a scope's line; in a single thread,
 * exact). */
uint64_t da_gen_cut(void);

/*
 * The calling thread's batch log, for thread scopes: from
 * da_gen_log_start (which cuts the batch and returns the index the next
 * batch gets) every batch of numbers the thread takes is logged, until
 * da_gen_log_stop. da_gen_log_has tells whether gen is in one of the
 * batches [from, to) of the log.
 */
size_t da_gen_log_start(void);
size_t da_gen_log_count(void);
int da_gen_log_has(size_t from, size_t to, uint64_t gen);
void da_gen_log_stop(void);

/* Numbers handed out so far (the highest generation is below this). */
uint64_t da_gen_top(void);

/* Starts a new epoch named label (truncated to DA_MARK_LABEL - 1 bytes);
 * returns its number (epoch 0 is the start of the process). */
unsigned da_gen_mark(const char *label);

/* The epoch of generation gen, and the number of epochs so far. */
unsigned da_gen_epoch_of(uint64_t gen);
unsigned da_gen_epochs(void);
/* Epoch e's label ("start" for 0) and first generation. */
const char *da_gen_epoch_label(unsigned e);
uint64_t da_gen_epoch_first(unsigned e);
/* When epoch e began (CLOCK_MONOTONIC, ns); 0 when unknown (epoch 0). */
uint64_t da_gen_epoch_mono(unsigned e);

/* fork: the child keeps the numbering; the marks lock is reset. */
void da_gen_fork_child(void);

#endif /* DA_AUDIT_GEN_H */
