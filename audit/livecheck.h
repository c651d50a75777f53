/*
 * audit/livecheck.h — the live leak check (DBGALLOC_LEAKS_SIGNAL): a leak
 * check of a running process that stops it only for the time a fork
 * takes, as libmemunreachable does on Android.
 *
 * The process takes every allocator lock, stops its other threads (their
 * registers, stack pointers and thread pointers recorded: stop.h), forks a
 * copy of itself, and at once resumes its threads and releases the locks
 * (leak.h, da_leak_scan_fork). The copy, which shares the process's memory
 * copy-on-write as it was at the stop, lists the live blocks, scans the
 * roots and classifies the blocks (stopped threads held no allocator
 * lock: the world was stopped with every lock taken), then resets the
 * allocator's locks for itself, symbolizes, writes the report in one
 * write(2) where the process's reports go (DBGALLOC_LOG's file, opened by
 * the process before the fork so that its %p is the process's id, or
 * standard error), and ends with _exit: no atexit handler, no destructor,
 * no stdio flush runs in it. It closes every other descriptor first, so
 * that it keeps no pipe or socket of the program open.
 *
 * The report has the at-exit shape under its own first line:
 *
 *   dbgalloc: live leak check of pid 4242 at 2025-03-01 12:00:00 UTC
 *     (5 threads stopped for 1.204 ms; the fork took 0.415 ms)
 *                                                         (one line)
 *
 *   Leak of 100 bytes in 1 block (definitely lost) allocated from:
 *       #0 ...
 *
 *   SUMMARY: dbgalloc: 100 bytes leaked in 1 block (definitely lost: ...)
 *
 * and the summary line always, even "0 bytes leaked in 0 blocks". A check
 * that cannot run writes one line instead:
 *
 *   dbgalloc: live leak check of pid 4242 failed: REASON
 *
 * Where the copy must not wait for a lock that a stopped thread held: the
 * allocator's are reset (no thread held one); the dynamic loader's list
 * lock is held by the checking thread across the fork (leak.c), and libdw
 * and the demangler are loaded beforehand (da_sym_preload), so the copy
 * needs neither dlopen nor dlsym. A copy that hangs all the same is
 * killed by its alarm after DA_LIVE_CHILD_SECONDS.
 */
#ifndef DA_AUDIT_LIVECHECK_H
#define DA_AUDIT_LIVECHECK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DA_LIVE_CHILD_SECONDS 300

/*
 * Starts a live check whose report shows what flags (DA_LREP_*) ask for.
 * Returns the pid of the copy (reap it with waitpid(pid, .., __WCLONE)
 * and pass its status to da_live_check_ended), or -1 after writing the
 * line that says why there is none. Never returns in the copy. Called by
 * the dumper thread (all signals blocked but the stop signal), outside any
 * lock.
 */
pid_t da_live_check(unsigned flags);

/* The copy ended with wait status status: a line if it failed. */
void da_live_check_ended(pid_t child, int status);

/* "2025-03-01 12:00:00 UTC" for unix_ns (nanoseconds since the epoch)
 * in buf (at least 24 bytes). */
void da_live_utc(uint64_t unix_ns, char *buf);

#endif /* DA_AUDIT_LIVECHECK_H */
