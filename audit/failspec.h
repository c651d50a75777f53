/*
 * audit/failspec.h — the syntax of the fault-injection settings, shared by
 * the settings parser (which only checks) and audit/fail.c (which reads).
 *
 *   DBGALLOC_FAIL_AT    5 or 5,17,200: allocation numbers from 1
 *   DBGALLOC_FAIL_RATE  0.01 or 1%: a fraction from 0 to 1 (at most nine
 *                       decimals), or a percentage
 *   DBGALLOC_FAIL_SITE  a pattern, as in suppressions (suppress.h)
 *
 * No allocation, no stdio: these run before main.
 */
#ifndef DA_AUDIT_FAILSPEC_H
#define DA_AUDIT_FAILSPEC_H

#include <stddef.h>
#include <stdint.h>

#define DA_FAIL_AT_MAX 2048        /* numbers in DBGALLOC_FAIL_AT */
#define DA_FAIL_PPB    1000000000u /* a rate of 1, in parts per 10^9 */

/* Parses s into out[0..*n) (at most max), sorted, duplicates dropped.
 * Returns 0, or -1 if s is not a list of numbers from 1. */
int da_failspec_at(const char *s, uint64_t *out, size_t max, size_t *n);

/* Parses a rate into parts per 10^9. Returns 0 or -1. */
int da_failspec_rate(const char *s, uint64_t *ppb);

/* The settings parser's checks: 0 if valid, -1 if not. */
int da_failspec_check_at(const char *s);
int da_failspec_check_rate(const char *s);
int da_failspec_check_site(const char *s);

#endif /* DA_AUDIT_FAILSPEC_H */
