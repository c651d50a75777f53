/*
 * audit/site.h — the call site of an allocation: its stack, captured
 * (audit/unwind.h) and stored once (audit/depot.h), as a 32-bit id.
 */
#ifndef DA_AUDIT_SITE_H
#define DA_AUDIT_SITE_H

#include "audit/depot.h"
#include "audit/unwind.h"

/* The id of the stack that called the entry point whose return address
 * and frame are ret and fp, at most depth frames deep (more where the
 * first frames lie in a wrapper such as strdup: unwind.h). */
DA_INLINE uint32_t
da_site_capture(uintptr_t ret, uintptr_t fp, unsigned depth)
{
	uintptr_t pcs[DA_DEPOT_MAX_FRAMES];
	unsigned n = da_unwind(pcs, depth, ret, fp);
	return da_depot_put(pcs, n);
}

#endif /* DA_AUDIT_SITE_H */
