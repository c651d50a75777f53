/*
 * audit/errors.h — heap-error reports: what went wrong, with the block's
 * size, generation, epoch, allocation site, free site and thread.
 *
 * Every report starts with a headline line "dbgalloc: <what> ..." (listed
 * in doc/dbgalloc.3, DIAGNOSTICS), then indented sections:
 *
 *   dbgalloc: double free of 0x... (41-byte block, generation 12) in free()
 *     in thread 4242 at:
 *       #0 0x... in main demo.c:20 (demo+0x1234)
 *     freed before at:
 *       #0 0x... in main demo.c:19 (demo+0x1220)
 *     allocated at (generation 12, epoch 0 "start"):
 *       #0 0x... in main demo.c:18 (demo+0x1210)
 *
 * then the process aborts (DBGALLOC_ON_ERROR=abort, the default), or the
 * caller ignores the operation (DBGALLOC_ON_ERROR=report).
 */
#ifndef DA_AUDIT_ERRORS_H
#define DA_AUDIT_ERRORS_H

#include "audit/header.h"
#include "audit/report.h"

#include <stdint.h>

struct da_err {
	struct da_line head;          /* the headline, built by the caller */
	int have_info;                /* info describes the block */
	struct da_hdr_info info;      /* its size, generation, site */
	uint64_t free_pc;             /* where it was freed (0: unknown) */
	uint32_t free_site;           /* its free's stack (depot id), or 0 */
	uint32_t free_tid, alloc_tid; /* the threads, 0: not known */
	uintptr_t call_ret, call_fp;  /* the entry point that found it */
	const uintptr_t *frames;      /* or, when not NULL, its frames */
	unsigned nframes;
};

/* Writes the report; aborts unless DBGALLOC_ON_ERROR=report. */
void da_err_raise(struct da_err *e);

/* Writes the report, and only that. */
void da_err_write(struct da_err *e);

/* Appends " (41-byte block, generation 12)" for e's block. */
void da_err_block(struct da_err *e, uint64_t size);

/* Appends "generation G, epoch E \"label\"" for generation gen. */
void da_line_generation(struct da_line *l, uint64_t gen);

/* Writes the frames of call site site (none for an ignored block's or
 * dbgalloc's own), as da_frames_emit does. */
void da_site_emit(uint32_t site);

/* Writes frames pcs[0..n) one per line, symbolized when that is safe
 * (not inside an interrupted allocator operation). */
void da_frames_emit(const uintptr_t *pcs, unsigned n);

#endif /* DA_AUDIT_ERRORS_H */
