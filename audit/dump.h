/*
 * audit/dump.h — the dump writer: what dbgalloc knows about the process's
 * memory at one moment, written as a version-1 dump (doc/dump-format.md)
 * for dbgalloc-stats to read.
 *
 * A dump, in the order it is written (one record a line, fields separated
 * by one space, strings percent-encoded and always last; the format is
 * doc/dump-format.md):
 *
 *   DBGALLOC-DUMP 1 1                         magic, major, minor
 *   #fields H key value
 *   H producer dbgalloc%200.1.0               producer, pid, ppid, exe,
 *   H pid 4242                                cmdline, reason, dump_seq,
 *   ...                                       time_unix_ns, mono_ns,
 *                                             page_size, options,
 *                                             consistency, leak_scan,
 *                                             temporary_threshold,
 *                                             life_sample
 *   #fields T name value
 *   T live_bytes 1048576                      the counters (acct.h), the
 *   ...                                       RSS, mapped and metadata
 *                                             bytes, generation, the peak's
 *                                             time and epoch, failures
 *   #fields M id bias lo hi build_id path
 *   #fields L module vaddr memsz offset perm
 *   M 1 0x55ec... 0x55ec... 0x55ec... 378a63ace7... /usr/bin/prog
 *   L 1 0x0 1496 0x0 r--                      each module, then its
 *   ...                                       PT_LOAD segments
 *   #fields S id depth pc...
 *   S 29027 3 0x55ecae0a6234 0x55ecae0a62eb 0x7f5ba285224a
 *   #fields K block_size slabs slab_bytes live_blocks live_bytes allocs
 *             frees peak_live_blocks
 *   K 48 1 65536 4 88 5 1 4                   each size class used, then
 *   K - 1 33554432 1 1048576 3 2 3            page runs and huge blocks
 *   #fields X stack live_blocks live_bytes allocs alloc_bytes frees
 *             free_bytes peak_live_bytes temporary life_allocs life_us
 *   X 29027 1 1048576 3 3145728 2 2097152 3145728 0 0,1 5,2
 *                                             each call site (sitestats.h)
 *   #fields A addr size stack gen epoch flags thread leak
 *   A 0x7f5b9c000010 1048576 29027 10103 1 - - -
 *                                             every live block
 *   #fields C epoch first_gen mono_ns allocs alloc_bytes frees free_bytes
 *             peak_bytes name
 *   C 0 1 - 0 0 0 0 11168 start               every epoch (epochs.h)
 *   #fields P mono_ns live_bytes rss_bytes gen reason
 *   P 31295586899722 11168 3543040 22 dump    the timeline (timeline.h)
 *   #fields E lines crc32c
 *   E 4711 0x1a2b3c4d                         lines before it, CRC-32C
 *                                             of every byte before it
 *
 * Numbers: addresses (and file offsets) 0x-prefixed lower-case hex,
 * counts and sizes decimal, "-" for none. A block's stack is "-" for
 * blocks dbgalloc_ignore'd (flag i) and the dynamic loader's; its flags
 * are "-" or letters: i ignored, n new, N new[], a aligned. dbgalloc's
 * own blocks are left out (but for the K records).
 *
 * The live blocks are listed with every other thread stopped (leak.h,
 * "consistency stopped"), and every counter is read during the same stop
 * (the accounting's and the call-site tables' locks taken before it), so
 * they agree but for the operations the stopped threads were in the middle
 * of.
 */
#ifndef DA_AUDIT_DUMP_H
#define DA_AUDIT_DUMP_H

#include <stddef.h>
#include <stdint.h>

#define DA_DUMP_MAJOR 1
#define DA_DUMP_MINOR 1

#define DA_DUMP_BUF     (64 * 1024) /* bytes formatted per write(2) */
#define DA_DUMP_STR_MAX 60000       /* a string field is cut past this */
#define DA_DUMP_PATH    4096        /* a dump's file name, terminated */

/*
 * Writes a dump to the file that pattern names (%p: the process id, %e:
 * the program's name, %n: the dump's number in this process, from 1, %%:
 * %; any other % stays as it is), reason the H reason ("exit", "api").
 *
 * Published atomically: written to DIR/.NAME.tmp.PID.N (created with
 * O_EXCL, O_NOFOLLOW, mode 0600) in the directory of the final name,
 * fsync'd, then renamed onto it, so a reader sees the old file or the
 * whole new one. Returns 0 (errno preserved), or -1 with errno set, the
 * temporary file removed, and one line (no newline) in err:
 *   dbgalloc: cannot write the dump /var/tmp/x.dump: No space left on device
 *
 * Stops the other threads for a moment (da_leak_list). Must be called
 * outside any allocator operation and without the dynamic loader's lock.
 * May allocate: no (its memory is mapped from the OS). No stdio.
 */
int da_dump_write(const char *pattern, const char *reason, char *err,
                  size_t errlen);

/* The same with the leak check (leak.h: da_leak_scan) instead of a plain
 * listing: each block's A record carries its verdict (H leak_scan yes),
 * and the scan is handed to the caller in *scan, to report and free
 * (scan->threads is 0 if no scan was made: the file could not be
 * opened). */
struct da_leak_scan;
int da_dump_write_scan(const char *pattern, const char *reason,
                       struct da_leak_scan *scan, char *err, size_t errlen);

/* The file name pattern gives for dump number seq, in out (len bytes).
 * Returns 0, or ENAMETOOLONG if it does not fit. */
int da_dump_name(const char *pattern, uint64_t seq, char *out, size_t len);

/* The dumps written (or tried) so far by this process: the next one is
 * number da_dump_count() + 1. */
uint64_t da_dump_count(void);

/* fork: the child numbers its own dumps from 1. */
void da_dump_fork_child(void);

#endif /* DA_AUDIT_DUMP_H */
