/*
 * audit/limit.h — the report of an allocation refused at a limit:
 *
 *   dbgalloc: memory limit reached: malloc() of 1,048,576 bytes refused
 *     limit 104,857,600 bytes (DBGALLOC_LIMIT); live 104,000,000 bytes in
 *     1,234 blocks; peak 104,800,000 bytes
 *     refused at:
 *       #0 0x... in load_table prog.c:42 (prog+0x1234)
 *     the 5 call sites holding the most live memory:
 *     50,331,648 bytes in 48 blocks allocated from:
 *       #0 ...
 *
 * Written once per limit (DBGALLOC_LIMIT, or each scope's): later
 * refusals only fail. Under DBGALLOC_LIMIT_ACTION=abort the process then
 * aborts.
 */
#ifndef DA_AUDIT_LIMIT_H
#define DA_AUDIT_LIMIT_H

#include "audit/audit.h"
#include "audit/scope.h"

/* Where the process limit came from, as the report names it. */
void da_limit_set_source(const char *source);

/* An allocation of size bytes through entry (its name in reports) by
 * caller c was refused: why is DA_ACCT_REFUSED_LIMIT or _SCOPE (then
 * scope says which). */
void da_audit_limit_report(size_t size, const char *entry, struct da_call c,
                           int why, struct da_scope *scope);

#endif /* DA_AUDIT_LIMIT_H */
