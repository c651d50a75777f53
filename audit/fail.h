/*
 * audit/fail.h — fault injection: allocations made to fail on purpose, for
 * out-of-memory testing (DBGALLOC_FAIL_AT, _RATE, _SEED, _SITE, _LOG).
 *
 * An allocation is a candidate when its number is in DBGALLOC_FAIL_AT, or
 * a hash of the seed and its number falls under DBGALLOC_FAIL_RATE (so a
 * seed fails the same numbers in every run, and any one of them is
 * replayed with DBGALLOC_FAIL_AT); with neither set, every allocation is.
 * With DBGALLOC_FAIL_SITE, a candidate fails only if a frame of its call
 * stack (16 frames) matches the pattern. Failures use their number: the
 * numbering is the same with and without them. dbgalloc's own allocations
 * (while it writes a report) never fail and take no number.
 */
#ifndef DA_AUDIT_FAIL_H
#define DA_AUDIT_FAIL_H

#include <stddef.h>
#include <stdint.h>

struct da_settings;

/* Non-zero when any failure may be injected. */
extern int da_fail_on;

/* Reads the settings and tells gen.h which numbers to hand over one by
 * one. Start-up. */
void da_fail_configure(const struct da_settings *s);

/*
 * Whether allocation number gen (size bytes through entry, the name of
 * the entry point as reports say it, called from ret/fp) is to fail. If
 * so, counts it and (DBGALLOC_FAIL_LOG=1) reports it.
 */
int da_fail_decide(uint64_t gen, size_t size, const char *entry, uintptr_t ret,
                   uintptr_t fp);

/* DBGALLOC_FAIL_LOG=1, at exit: "dbgalloc: N allocations numbered, F
 * failures injected". */
void da_fail_exit_report(void);

#endif /* DA_AUDIT_FAIL_H */
