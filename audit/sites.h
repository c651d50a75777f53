/*
 * audit/sites.h — the call sites holding live memory, largest first: the
 * lists of a limit report and of a scope.
 */
#ifndef DA_AUDIT_SITES_H
#define DA_AUDIT_SITES_H

#include "audit/scope.h"
#include "audit/report.h"

#include <stddef.h>
#include <stdint.h>

/* The blocks of a listing, and the largest sites among them. */
struct da_sites {
	uint64_t blocks, bytes; /* every block kept */
	unsigned n;             /* sites in top */
	struct da_site_total top[DA_SCOPE_SITES];
};

/*
 * Lists the live blocks (other threads stopped), keeps those for which
 * keep(gen, arg) is non-zero (keep NULL: all; dbgalloc's own never), and
 * fills out with their totals and the max largest sites (max at most
 * DA_SCOPE_SITES). Returns 0, or -1 when the blocks could not be listed.
 * Called outside any allocator operation; allocates nothing.
 */
int da_sites_collect(int (*keep)(uint64_t gen, void *arg), void *arg,
                     unsigned max, struct da_sites *out);

/* Writes each site of top[0..n) (where reports go): "  <bytes> in <n>
 * blocks allocated from:" and its frames. */
void da_sites_emit(const struct da_site_total *top, unsigned n);

/* The same into buf (len bytes, NUL-terminated, cut at a line's end);
 * returns the length written. */
size_t da_sites_format(const struct da_site_total *top, unsigned n, char *buf,
                       size_t len);

#endif /* DA_AUDIT_SITES_H */
