/*
 * audit/site.c — capturing a call site the table does not know.
 */
#include "audit/site.h"
#include "audit/sitestats.h"

uint32_t
da_site_capture_slow(uintptr_t ret, uintptr_t fp, unsigned depth)
{
	uintptr_t pcs[DA_DEPOT_MAX_FRAMES];
	unsigned n = da_unwind(pcs, depth, ret, fp);
	uint32_t id = da_depot_put(pcs, n);
	if (depth == 1 && n == 1 && da_sitestats_thread_live()) {
		unsigned k = da_site_slot(ret);
		/* What the slot counted goes to its site's totals first. */
		da_sitestats_evict_slot(k);
		da_site_tls.pc[k] = 0;
		atomic_signal_fence(memory_order_seq_cst);
		da_site_tls.id[k] = id;
		atomic_signal_fence(memory_order_seq_cst);
		da_site_tls.pc[k] = ret;
	}
	return id;
}
