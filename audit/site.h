/*
 * audit/site.h — the call site of an allocation: its stack, captured
 * (audit/unwind.h) and stored once (audit/depot.h), as a 32-bit id.
 *
 * At depth 1 (the default) a call site is its return address, unless that
 * lies in a wrapper such as strdup (then the stack reaches the program's
 * caller). Each thread keeps the ids of the return addresses it met last
 * in a small direct-mapped table, so the common case is one compare: a
 * return address goes in only when its stack is that one frame.
 */
#ifndef DA_AUDIT_SITE_H
#define DA_AUDIT_SITE_H

#include "audit/depot.h"
#include "audit/tls.h"
#include "audit/unwind.h"

#include <stdatomic.h>

uint32_t da_site_capture_slow(uintptr_t ret, uintptr_t fp, unsigned depth);

DA_INLINE unsigned
da_site_slot(uintptr_t ret)
{
	return (unsigned)((ret >> 2) ^ (ret >> 9)) & (DA_SITE_CACHE - 1);
}

/* The id of the stack that called the entry point whose return address
 * and frame are ret and fp, at most depth frames deep (more where the
 * first frames lie in a wrapper such as strdup: unwind.h). */
DA_INLINE uint32_t
da_site_capture(uintptr_t ret, uintptr_t fp, unsigned depth)
{
	if (da_likely(depth == 1)) {
		/* A signal handler may refill the slot between the loads:
		 * the second compare sees it (an id for ret is always the
		 * same id). */
		unsigned k = da_site_slot(ret);
		if (da_likely(da_site_tls.pc[k] == ret)) {
			uint32_t id = da_site_tls.id[k];
			atomic_signal_fence(memory_order_seq_cst);
			if (da_likely(da_site_tls.pc[k] == ret))
				return id;
		}
	}
	return da_site_capture_slow(ret, fp, depth);
}

#endif /* DA_AUDIT_SITE_H */
