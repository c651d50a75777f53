/*
 * shim/stats.c — the statistics, limit and scope functions of dbgalloc.h,
 * over audit's accounting (audit/acct.h) and scopes (audit/scope.h).
 */
#include "audit/acct.h"
#include "audit/scope.h"
#include "shim/dbgalloc.h"
#include "shim/export.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

_Static_assert(sizeof(struct da_scope) <=
                       sizeof(((struct dbgalloc_scope *)0)->private_),
               "audit's scope state must fit in the private words");
_Static_assert(DBGALLOC_SCOPE_THREAD == DA_SCOPE_THREAD &&
                       DBGALLOC_SCOPE_WATCH == DA_SCOPE_WATCH,
               "the flags are audit's");

static struct da_scope *
state(const struct dbgalloc_scope *scope)
{
	return (struct da_scope *)(uintptr_t)scope->private_;
}

DA_EXPORT void
dbgalloc_stats_get(struct dbgalloc_stats *st)
{
	struct da_acct_totals t;
	da_acct_totals(&t);
	memset(st, 0, sizeof(*st));
	st->live_bytes = (size_t)t.live;
	st->live_blocks = t.live_blocks;
	st->peak_bytes = (size_t)t.peak;
	st->total_allocs = t.allocs;
	st->total_bytes = t.bytes;
	st->failed_allocs = t.failed;
	st->limit = t.limit == DA_ACCT_NONE ? 0 : (size_t)t.limit;
}

static int64_t
limit_in(size_t bytes)
{
	return bytes == 0 || bytes > INT64_MAX / 2 ? DA_ACCT_NONE
	                                           : (int64_t)bytes;
}

static size_t
limit_out(int64_t limit)
{
	return limit == DA_ACCT_NONE ? 0 : (size_t)limit;
}

DA_EXPORT size_t
dbgalloc_limit_set(size_t bytes)
{
	return limit_out(da_acct_set_limit(limit_in(bytes)));
}

DA_EXPORT size_t
dbgalloc_limit_get(void)
{
	return limit_out(da_acct_get_limit());
}

DA_EXPORT int
dbgalloc_scope_begin(struct dbgalloc_scope *scope, unsigned flags, size_t limit)
{
	if (scope == NULL) {
		errno = EINVAL;
		return -1;
	}
	memset(scope, 0, offsetof(struct dbgalloc_scope, private_));
	scope->limit = limit;
	return da_scope_begin(state(scope), flags, limit);
}

DA_EXPORT int
dbgalloc_scope_end(struct dbgalloc_scope *scope)
{
	struct da_scope_result r;
	if (scope == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (da_scope_end(state(scope), &r) != 0)
		return -1;
	scope->allocated_blocks = r.allocated_blocks;
	scope->allocated_bytes = r.allocated_bytes;
	scope->freed_blocks = r.freed_blocks;
	scope->freed_bytes = r.freed_bytes;
	scope->peak_bytes = (size_t)r.peak;
	scope->live_blocks = (size_t)r.live_blocks;
	scope->live_bytes = (size_t)r.live_bytes;
	scope->limit_crossed = r.crossed;
	scope->crossed_at = (size_t)r.crossed_at;
	return 0;
}

DA_EXPORT size_t
dbgalloc_scope_sites(const struct dbgalloc_scope *scope, int which,
                     unsigned max, char *buf, size_t len)
{
	if (scope == NULL || buf == NULL) {
		if (buf != NULL && len > 0)
			buf[0] = '\0';
		return 0;
	}
	return da_scope_sites(state(scope), which == DBGALLOC_SITES_AT_LIMIT,
	                      max, buf, len);
}
