/*
 * audit/dumper.h — the dumper thread: writes the dumps that a signal
 * (DBGALLOC_DUMP_SIGNAL), an interval (DBGALLOC_DUMP_INTERVAL) or the
 * limit asks for, and starts the live leak checks a signal asks for
 * (DBGALLOC_LEAKS_SIGNAL, livecheck.h).
 *
 * No dump is written from a signal handler, nor by a thread inside the
 * allocator: the handler only records what it asks for and wakes the
 * thread (an atomic OR and a futex wake, async-signal-safe), and the
 * thread, which holds no lock when it wakes, does the work. The thread
 * blocks every signal but dbgalloc's own stop signal (stop.h: it must stop
 * when another thread checks for leaks) and the faults, so the triggers'
 * signals go to the program's threads. Its allocations (the dynamic
 * loader's, starting it; the symbolizer's preload) are dbgalloc's own.
 *
 * The thread exists only when a trigger is configured, and only from when
 * one needs it: at start-up for the signals and the interval; at the first
 * refusal for the limit. A child of fork has none: it starts its own at
 * its first safe point (da_dumper_poll, on an allocation's periodic tick)
 * if a signal or interval trigger is configured, or when the limit trips.
 *
 * The limit: the refusing thread (da_dumper_limit, outside any lock) asks
 * for one dump and waits until it is written, so that the dump shows the
 * heap as at the refusal, other threads' work in between aside. One dump
 * per report of a refusal (the limit's first, each scope's first).
 */
#ifndef DA_AUDIT_DUMPER_H
#define DA_AUDIT_DUMPER_H

#include "alloc/config.h"

#include <stdatomic.h>
#include <stdint.h>

struct da_dumper_cfg {
	const char *pattern;  /* DBGALLOC_DUMP; NULL or "": no dumps */
	int dump_signal;      /* 0: none */
	int leaks_signal;     /* 0: none */
	uint64_t interval_ms; /* 0: none */
	unsigned leak_flags;  /* DA_LREP_* of the live checks' reports */
	/* Called by the dumper thread before each live check, outside any
	 * lock (the shim's default suppressions); may be NULL. */
	void (*prepare)(void);
};

/*
 * Takes cfg (copied; pattern must outlive the process), installs the
 * signals' handlers, and starts the thread if a signal or the interval
 * is configured (a thread that cannot start is reported in one line; the
 * program goes on without). Returns 0, or -1 with one line in err when a
 * handler could not be installed. Called once, at start-up.
 */
int da_dumper_configure(const struct da_dumper_cfg *cfg, char *err,
                        size_t errlen);

/* The limit refused an allocation and reported it (limit.c): a dump with
 * reason "limit". Waits for it when the calling thread holds no allocator
 * lock and is not inside an interrupted allocator operation. */
void da_dumper_limit(void);

/* The thread is due in this process (a child of fork): started at the
 * next safe point. */
extern _Atomic int da_dumper_wanted;
void da_dumper_start_wanted(void);

/* A safe point: the calling thread holds no lock and is not inside an
 * allocator operation of its own (audit's periodic tick). Costs one
 * load. */
DA_INLINE void
da_dumper_poll(void)
{
	if (da_unlikely(atomic_load_explicit(&da_dumper_wanted,
	                                     memory_order_relaxed)))
		da_dumper_start_wanted();
}

/* fork, in the child: no thread, no request, nothing in progress. */
void da_dumper_fork_child(void);

/* At exit, before the exit's own dump: no new dump or check begins, and
 * the dump being written, if any, is finished first (at most 10 s). */
void da_dumper_exit(void);

#endif /* DA_AUDIT_DUMPER_H */
