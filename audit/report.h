/*
 * audit/report.h — the one path every diagnostic takes.
 *
 * Messages are formatted into a stack buffer and written to standard error
 * (or DBGALLOC_LOG's file) with one raw write system call per line
 * (da_os_write: not a cancellation point):
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
/* v with thousands separated by commas: 4,800. */
void da_line_count(struct da_line *l, unsigned long v);
/* "1 byte" or "N bytes" (N with commas). */
void da_line_bytes(struct da_line *l, unsigned long v);
/* Writes the line (adding "\n") where reports go: stderr, or the file
 * DBGALLOC_LOG names. Preserves errno. */
void da_line_emit(struct da_line *l);

/* The same, to file descriptor fd (malloc_stats writes to stderr). */
void da_line_emit_to(struct da_line *l, int fd);

/* Writes len bytes of a report where da_line_emit writes. */
void da_report_write(const void *buf, size_t len);

/* The descriptor reports go to: DBGALLOC_LOG's file, opened now if it is
 * not yet (its %p is this process's id), or 2. */
int da_report_fd(void);

/* Capture: from begin to end, what da_line_emit and da_report_write would
 * write is kept in memory (mapped from the OS), and end writes it with
 * one write(2), so that a report lands whole, never interleaved with
 * other lines. For a process with a single thread (the live leak check's
 * copy): begin and end are not thread-safe, and the capture is seen by
 * every thread. */
void da_report_capture_begin(void);
void da_report_capture_end(void);

/* Sends reports to the file that pattern names (%p: the process id, %%:
 * %), opened for appending at the first report. Returns 0, or -1 with one
 * line in err when the file's directory cannot take it. */
int da_report_open_log(const char *pattern, char *err, size_t errlen);
/* In a child of fork: a %p name gets the child's own file. */
void da_report_fork_child(void);

#endif /* DA_AUDIT_REPORT_H */
