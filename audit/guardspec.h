/*
 * audit/guardspec.h — the syntax of DBGALLOC_GUARD, shared by the settings
 * parser (which only checks) and audit/guarded.c (which reads):
 *
 *   1              every block gets a guard page
 *   sample:N       one block in N (N from 2 to 2^32), chosen at random:
 *                  the same DBGALLOC_GUARD_SEED picks the same numbers
 *   size:MIN-MAX   the blocks of MIN to MAX bytes (sizes as DBGALLOC_LIMIT
 *                  takes them: 100, 4K, 1M)
 *   0              none (as when unset)
 *
 * No allocation, no stdio: this runs before main.
 */
#ifndef DA_AUDIT_GUARDSPEC_H
#define DA_AUDIT_GUARDSPEC_H

#include <stdint.h>

enum da_guard_mode {
	DA_GUARD_MODE_OFF = 0,
	DA_GUARD_MODE_ALL,
	DA_GUARD_MODE_SAMPLE,
	DA_GUARD_MODE_SIZE,
};

struct da_guardspec {
	unsigned mode;     /* enum da_guard_mode */
	uint64_t period;   /* SAMPLE: one block in this many */
	uint64_t min, max; /* SIZE: the sizes guarded, inclusive */
};

/* Parses s (not NULL; "" is off). Returns 0, or -1 if s is malformed. */
int da_guardspec_parse(const char *s, struct da_guardspec *out);

/* The settings parser's check: 0 if valid, -1 if not. */
int da_guardspec_check(const char *s);

#endif /* DA_AUDIT_GUARDSPEC_H */
