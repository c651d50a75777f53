/*
 * audit/limit.c — the report of an allocation refused at a limit
 * (limit.h).
 */
#include "audit/limit.h"
#include "audit/depot.h"
#include "audit/dumper.h"
#include "audit/errors.h"
#include "audit/sites.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define TOP_SITES 5

static const char *limit_source = "dbgalloc_limit_set";
static atomic_int limit_reported;

void
da_limit_set_source(const char *source)
{
	limit_source = source;
}

void
da_audit_limit_report(size_t size, const char *entry, struct da_call c, int why,
                      struct da_scope *scope)
{
	if (why == DA_ACCT_REFUSED_SCOPE && scope != NULL) {
		if (scope->reported)
			return;
		scope->reported = 1;
	} else if (atomic_exchange(&limit_reported, 1) != 0) {
		if (da_cfg.limit_abort)
			abort();
		return;
	}
	int cancel;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	uint32_t saved = da_gen_tls.site_override;
	da_gen_tls.site_override = DA_SITE_INTERNAL;
	struct da_acct_totals t;
	da_acct_totals(&t);
	struct da_line l = {.len = 0};
	da_line_str(&l, "dbgalloc: memory limit reached: ");
	da_line_str(&l, entry);
	da_line_str(&l, " of ");
	da_line_bytes(&l, size);
	da_line_str(&l, " refused");
	da_line_emit(&l);
	da_line_str(&l, "  limit ");
	if (scope != NULL) {
		da_line_bytes(&l, (unsigned long)scope->limit);
		da_line_str(&l, " above the scope's start "
		                "(dbgalloc_scope_begin)");
	} else {
		da_line_bytes(&l, (unsigned long)t.limit);
		da_line_str(&l, " (");
		da_line_str(&l, limit_source);
		da_line_str(&l, ")");
	}
	da_line_str(&l, "; live ");
	da_line_bytes(&l, (unsigned long)t.live);
	da_line_str(&l, " in ");
	da_line_count(&l, t.live_blocks);
	da_line_str(&l, t.live_blocks == 1 ? " block" : " blocks");
	da_line_str(&l, "; peak ");
	da_line_bytes(&l, (unsigned long)t.peak);
	da_line_emit(&l);
	da_line_str(&l, "  refused at:");
	da_line_emit(&l);
	const uintptr_t *pcs;
	unsigned n = da_depot_get(da_site_capture_slow(c.ret, c.fp, 16), &pcs);
	da_frames_emit(pcs, n);
	struct da_sites s;
	int rc = scope != NULL
	                 ? da_sites_collect(da_scope_keep, scope, TOP_SITES, &s)
	                 : da_sites_collect(NULL, NULL, TOP_SITES, &s);
	if (rc == 0 && s.n > 0) {
		da_line_str(&l, "  the ");
		da_line_dec(&l, s.n);
		da_line_str(&l, s.n == 1 ? " call site holding"
		                         : " call sites holding");
		da_line_str(&l, scope != NULL ? " the most of the scope's "
		                                "live memory:"
		                              : " the most live memory:");
		da_line_emit(&l);
		da_sites_emit(s.top, s.n);
	}
	da_gen_tls.site_override = saved;
	/* With DBGALLOC_DUMP: a dump of this moment (waited for). */
	da_dumper_limit();
	pthread_setcancelstate(cancel, NULL);
	if (da_cfg.limit_abort)
		abort();
}
