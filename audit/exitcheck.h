/*
 * audit/exitcheck.h — the check of the whole heap at exit: every live
 * block's header and canary, and every freed class block's record and
 * poison (the blocks freed and not handed out again since), so that an
 * overflow of a block never freed, or a write to a block never reused, is
 * still found.
 */
#ifndef DA_AUDIT_EXITCHECK_H
#define DA_AUDIT_EXITCHECK_H

/* Checks, with every other thread stopped, then reports what it found
 * ("..., found at exit"; aborts at the first unless
 * DBGALLOC_ON_ERROR=report). Returns the number of damaged blocks. */
unsigned da_audit_exit_check(void);

/* In a child of fork: whether the parent had other threads (a broken
 * header may then be a block they were allocating). */
void da_audit_exit_check_forked(int parent_had_threads);

#endif /* DA_AUDIT_EXITCHECK_H */
