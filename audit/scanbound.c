/*
 * audit/scanbound.c — this thread's scan bound (see scanbound.h): one
 * thread-local word, read by the scan, written only by its own thread.
 */
#include "audit/scanbound.h"

static __thread uintptr_t bound;

uintptr_t
da_scan_bound(void)
{
	return bound;
}

int
da_scan_bound_enter(uintptr_t lo)
{
	if (bound != 0 && bound > lo)
		return 0; /* an outer entry's, above this frame */
	bound = lo;
	return 1;
}

void
da_scan_bound_leave(int entered)
{
	if (entered)
		bound = 0;
}

void
da_scan_bound_ours(void)
{
	bound = DA_SCAN_OURS;
}
