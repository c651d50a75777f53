/*
 * audit/report.h — the one path every diagnostic takes.
 *
 * Messages are formatted into a stack buffer and written to standard error
 * with one raw write system call (da_os_write: not a cancellation point):
 * no stdio, no allocation, async-signal-safe. Each kind of
 * report has a fixed headline that starts "dbgalloc: " and is listed in
 * doc/dbgalloc.3 (section DIAGNOSTICS); tests match those words.
 */
#ifndef DA_AUDIT_REPORT_H
#define DA_AUDIT_REPORT_H

#include <stddef.h>

/* A line being built; fixed capacity, silently truncated. */
struct da_line {
	char buf[512];
	size_t len;
};

void da_line_str(struct da_line *l, const char *s);
void da_line_hex(struct da_line *l, unsigned long v);
void da_line_dec(struct da_line *l, unsigned long v);
/* Writes the line (adding "\n") to fd 2. Preserves errno. */
void da_line_emit(struct da_line *l);

struct da_block;

/*
 * Reports a bad pointer passed to fn ("free()", "realloc()", ...) and
 * aborts. is_free says fn frees its argument. err is an enum
 * da_free_error; b describes the block p points into. Headlines:
 *   dbgalloc: double free of 0x... (N-byte block) in free()
 *   dbgalloc: invalid free of 0x...: <why>, in free()
 *   dbgalloc: bad pointer 0x... passed to realloc(): <why>
 * where <why> is one of
 *   not allocated by dbgalloc
 *   no block was handed out at this address
 *   N bytes into the M-byte block at 0x...  [+ " (free)"; "1 byte into"]
 *   freed N-byte block                      (non-free functions only)
 */
__attribute__((noreturn)) void da_report_bad_pointer(const char *fn,
                                                     int is_free, void *p,
                                                     int err,
                                                     const struct da_block *b);

#endif /* DA_AUDIT_REPORT_H */
