/*
 * audit/duration.h — the one reader of durations in the DBGALLOC_ settings
 * (DBGALLOC_SAMPLE_INTERVAL, DBGALLOC_DUMP_INTERVAL).
 *
 * A duration is decimal digits (at least one) followed by its unit, ms, s
 * or m, in lower case, with nothing before, between or after: 500ms, 30s,
 * 5m, 0010s. 0 alone is a duration too (zero needs no unit). Each setting
 * checks its own range on the nanoseconds this gives.
 *
 * Plain C with no dependency on the rest of dbgalloc, so that tools built
 * outside the library (dbgalloc-stats, through audit/trigger.c) link it.
 * May allocate: no. Async-signal-safe.
 */
#ifndef DA_AUDIT_DURATION_H
#define DA_AUDIT_DURATION_H

#include <stdint.h>

/* Reads the duration s into *ns (nanoseconds). Returns 0; EINVAL if s is
 * not a duration; ERANGE if it is one but more than 2^64 - 1 ns (about
 * 584 years). *ns is left alone on error. */
int da_duration_parse(const char *s, uint64_t *ns);

/* As da_duration_parse without the value: a settings check (0 if valid). */
int da_duration_check(const char *s);

#endif /* DA_AUDIT_DURATION_H */
