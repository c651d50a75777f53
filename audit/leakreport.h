/*
 * audit/leakreport.h — the leak report: a scan's blocks grouped by call
 * site and class, ranked, symbolized, filtered by the suppressions.
 *
 *   Leak of 16 bytes in 1 block (definitely lost; referencing 9,999
 *   blocks, 479,952 bytes, indirectly lost) allocated from:
 *       #0 0x55d0c2a1b19e in make_list src/list.c:42 (prog+0x119e)
 *       #1 0x55d0c2a1b2f0 in main src/main.c:10 (prog+0x12f0)
 *     first block: generation 12 (epoch 0 "start")
 *
 *   Leak of 479,952 bytes in 9,999 blocks (indirectly lost) allocated from:
 *   ...
 *   SUMMARY: dbgalloc: 479,968 bytes leaked in 10,000 blocks
 *
 * Definitely lost records rank by what they hold in all (their own bytes
 * and the indirectly lost bytes beneath them): the root is what to fix.
 * Indirectly lost records follow, by bytes, then (DBGALLOC_LEAKS=all)
 * possibly lost and still reachable ones.
 */
#ifndef DA_AUDIT_LEAKREPORT_H
#define DA_AUDIT_LEAKREPORT_H

#include "audit/leak.h"
#include "audit/report.h"

#include <stddef.h>

/* What to report. */
#define DA_LREP_ALL 1u /* possibly lost and still reachable too */
#define DA_LREP_NEW 2u /* only blocks no earlier check reported */

/* Per class, what the report showed (suppressed records not counted). */
struct da_leak_counts {
	size_t bytes[DA_LEAK_NCLASS];
	size_t blocks[DA_LEAK_NCLASS];
	size_t suppressed_bytes, suppressed_blocks;
};

/*
 * Scans, reports (da_line_emit) and fills *c. why names the occasion in
 * the report's first line ("at exit"). Returns 0, or -1 if the scan could
 * not run (a line says so). Allocations made while reporting (by the
 * symbolizer) are marked internal and never reported.
 */
int da_leak_report(unsigned flags, const char *why, struct da_leak_counts *c);

/* The same from a scan already made (da_leak_scan, da_leak_scan_with),
 * which it frees. Returns 0. */
int da_leak_report_scanned(struct da_leak_scan *s, unsigned flags,
                           const char *why, struct da_leak_counts *c);

/* The report of an existing scan (tests). */
void da_leak_report_scan(struct da_leak_scan *s, unsigned flags,
                         const char *why, struct da_leak_counts *c);

/* The report of a live check (livecheck.h): head is its first line; the
 * records follow as in any report, and the summary line always, even when
 * it counts nothing, so that a reader sees where the report ends. */
void da_leak_report_live(struct da_leak_scan *s, unsigned flags,
                         struct da_line *head, struct da_leak_counts *c);

#endif /* DA_AUDIT_LEAKREPORT_H */
