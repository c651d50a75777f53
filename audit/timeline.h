/*
 * audit/timeline.h — the timeline of live bytes and RSS: the dump's P
 * records.
 *
 * A sample is taken when the live bytes pass a new high-water step
 * (audit/steps.h), at each dbgalloc_mark, every DBGALLOC_SAMPLE_INTERVAL
 * (looked at once per batch of a thread's allocation numbers, on the
 * allocation's slow path: never by a timer or a signal) and when a dump
 * is written. The samples are kept in a ring of DA_TIMELINE_MAX mapped
 * from the OS at the first one; when it is full, every other step sample
 * of its older half is dropped (then, if there were none, every other
 * sample of that half but the dumps'), so the ring covers the whole run,
 * more sparsely the further back.
 *
 * May allocate: no. Takes a spin lock of its own, never while an
 * allocator lock is held; a signal handler that interrupts the sampling
 * thread takes no sample.
 */
#ifndef DA_AUDIT_TIMELINE_H
#define DA_AUDIT_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#define DA_TIMELINE_MAX 4096

enum da_sample_reason {
	DA_SAMPLE_STEP,
	DA_SAMPLE_MARK,
	DA_SAMPLE_INTERVAL,
	DA_SAMPLE_DUMP,
};
extern const char *const da_sample_reason_name[4];

struct da_sample {
	uint64_t mono_ns; /* CLOCK_MONOTONIC */
	uint64_t live;    /* live bytes */
	uint64_t rss;     /* resident bytes (/proc/self/statm) */
	uint64_t gen;     /* the next allocation number then */
	uint32_t reason;  /* enum da_sample_reason */
};

/* Adds a sample of the live bytes (live; < 0: read them now) for
 * reason. */
void da_timeline_add(unsigned reason, int64_t live);

/* Copies the samples, oldest first, into out (at most max); returns how
 * many. */
size_t da_timeline_copy(struct da_sample *out, size_t max);

/* DBGALLOC_SAMPLE_INTERVAL in nanoseconds (0: none). */
void da_timeline_set_interval(uint64_t ns);

/* Once per batch of a thread's numbers (the slow path of an allocation):
 * an interval sample if one is due. */
void da_timeline_tick(void);

/* Resident bytes now and at the most (VmHWM), 0 when unknown. Raw system
 * calls. */
void da_timeline_rss(uint64_t *rss, uint64_t *hwm);

/* Bytes mapped for the ring. */
size_t da_timeline_bytes(void);

/* fork: the ring's lock, maybe held by a thread that is gone, is free in
 * the child. */
void da_timeline_fork_child(void);

#endif /* DA_AUDIT_TIMELINE_H */
