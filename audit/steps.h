/*
 * audit/steps.h — the high-water steps of the live bytes, and what the
 * heap held at them.
 *
 * When the live bytes first reach DA_STEPS_FIRST, and then each time they
 * reach an eighth above the step before (so the steps are 1 MiB, 1.125
 * MiB, 1.27 MiB, ... and at most one in 1/8 of the peak), the allocation
 * whose slow path sees it (acct.c: exact while one thread allocates, as
 * the peak is) stops every other thread for a moment and walks the live
 * blocks:
 *   - each call site's live bytes become the snapshot the dump's
 *     peak_live_bytes come from: the site's live bytes at the last step
 *     below the peak (so within an eighth of the peak's own bytes; the
 *     dump takes its own moment instead when the live bytes then are
 *     nearer the peak);
 *   - each size class's live blocks raise its peak (the dump's
 *     peak_live_blocks: the most seen at a step or a dump, a lower bound of
 *     the true peak);
 *   - the timeline gets a step sample (timeline.h).
 * A program whose heap never reaches 1 MiB takes no step. A step waits at
 * most 50 ms for the threads to stop; if one could not be stopped (it
 * blocks the signal), later steps walk without stopping the others (each
 * site's bytes may then be off by what changed during the walk) rather
 * than wait for it again.
 *
 * May allocate: no (tables mapped from the OS).
 */
#ifndef DA_AUDIT_STEPS_H
#define DA_AUDIT_STEPS_H

#include "alloc/sizeclass.h"

#include <stddef.h>
#include <stdint.h>

#define DA_STEPS_FIRST ((int64_t)1 << 20)
/* Each step is 1/2^DA_STEPS_SHIFT above the one before. The walks cost
 * (1 + 2^DA_STEPS_SHIFT) times one walk of the largest heap, in all. */
#define DA_STEPS_SHIFT 3

/* The live bytes are live, at or above the next step (acct.h). */
void da_steps_reached(int64_t live);

/* One call site's live bytes at a step. */
struct da_steps_site {
	uint32_t site;
	uint64_t bytes;
};

/*
 * The last step's snapshot, sorted by site, until da_steps_unlock: *sites
 * and *n (NULL and 0 if no step was taken), and the live bytes then (*live,
 * -1 if none). Takes the snapshot's lock.
 */
void da_steps_lock(const struct da_steps_site **sites, size_t *n,
                   int64_t *live);
void da_steps_unlock(void);

/* The bytes of site in the snapshot (sites and n from da_steps_lock). */
uint64_t da_steps_bytes_of(const struct da_steps_site *sites, size_t n,
                           uint32_t site);

/* The most live blocks each class has been seen with (index
 * DA_NCLASSES: blocks of pages and huge blocks); live[] raises them. */
void da_steps_class_peaks(uint64_t out[DA_NCLASSES + 1]);
void da_steps_note_classes(const uint64_t live[DA_NCLASSES + 1]);

/* Bytes mapped for the snapshot. */
size_t da_steps_bytes(void);

/* fork: a step another thread was taking is over in the child. */
void da_steps_fork_child(void);

#endif /* DA_AUDIT_STEPS_H */
