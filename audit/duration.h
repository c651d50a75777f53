/*
 * audit/duration.h — the one reader of durations in the DBGALLOC_ settings
 * (DBGALLOC_SAMPLE_INTERVAL, DBGALLOC_DUMP_INTERVAL), and of the digits
 * they and the settings' numbers begin with.
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

/* Reads the decimal digits (at least one) at the start of s into *out.
 * With end NULL nothing may follow them; otherwise *end gets where they
 * stop. Returns 0; EINVAL if there is no digit (or, end NULL, something
 * follows); ERANGE if they make more than 2^64 - 1. Every digit is read
 * even past an overflow, so that *end is right on ERANGE too; *out is
 * left alone on error. The settings' numbers and sizes read their digits
 * here too. */
int da_digits(const char *s, uint64_t *out, const char **end);

#endif /* DA_AUDIT_DURATION_H */
