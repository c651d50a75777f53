/*
 * audit/epochs.h — what each epoch (gen.h: dbgalloc_mark) did: the dump's
 * C records.
 *
 * At each mark the process's totals (allocations and bytes, frees and
 * bytes freed) are noted as the new epoch's start, the epoch that ends
 * keeps the most live bytes it had (acct.h: exact while one thread
 * allocates, sampled under threads, as the process's peak), and the
 * timeline gets a mark sample. What happened within epoch e is the next
 * epoch's start less its own (the process's totals now for the last).
 */
#ifndef DA_AUDIT_EPOCHS_H
#define DA_AUDIT_EPOCHS_H

#include <stdint.h>

struct da_epoch_stats {
	uint64_t allocs, alloc_bytes, frees, free_bytes; /* at its start */
	uint64_t peak_bytes; /* during it (for the last: up to now) */
};

/* Epoch e has just begun (da_gen_mark returned it). */
void da_epochs_mark(unsigned e);

/* Epoch e's numbers (e < da_gen_epochs()). */
void da_epochs_get(unsigned e, struct da_epoch_stats *out);

/* fork: the lock, maybe held by a thread that is gone, is free in the
 * child. */
void da_epochs_fork_child(void);

#endif /* DA_AUDIT_EPOCHS_H */
