/*
 * audit/audit.h — the debugging layer between the exported entry points and
 * the raw allocator.
 *
 * Today it checks every pointer handed back to us (double, foreign and
 * interior frees are reported and abort) and gives the entry points the C
 * semantics they share: ENOMEM on failure, overflow checks, realloc's
 * rules. Block headers, call sites, limits and statistics arrive here in
 * later changes; the shim calls nothing below this layer.
 *
 * Every function preserves errno except to set ENOMEM when it returns NULL.
 */
#ifndef DA_AUDIT_AUDIT_H
#define DA_AUDIT_AUDIT_H

#include "alloc/alloc.h"
#include "audit/report.h"

#include <errno.h>
#include <string.h>

static inline void *
da_audit_nomem(void)
{
	errno = ENOMEM;
	return NULL;
}

/* What a failed malloc or calloc of size bytes returns: NULL and ENOMEM,
 * unless it failed only because a signal handler interrupted its thread
 * in a slow path (then a block mapped on its own: zeroed). */
void *da_audit_malloc_failed(size_t size);

DA_INLINE void *
da_audit_malloc(size_t size)
{
	void *p = da_alloc_malloc(size);
	if (da_unlikely(p == NULL))
		return da_audit_malloc_failed(size);
	return p;
}

static inline void *
da_audit_calloc(size_t n, size_t size)
{
	size_t total;
	if (da_unlikely(__builtin_mul_overflow(n, size, &total)))
		return da_audit_nomem();
	void *p = da_alloc_zalloc(total);
	if (da_unlikely(p == NULL))
		return da_audit_malloc_failed(total);
	return p;
}

void da_audit_free_slow(void *p, const char *fn);

/* fn names the entry point in reports ("free()", "operator delete"). */
DA_INLINE void
da_audit_free(void *p, const char *fn)
{
	if (da_likely(p != NULL) && !da_alloc_free_fast(p))
		da_audit_free_slow(p, fn);
}

/* A block whose address is a multiple of align (a power of two). */
static inline void *
da_audit_aligned(size_t align, size_t size)
{
	void *p = da_alloc_aligned(align, size);
	if (da_unlikely(p == NULL))
		return da_audit_nomem();
	return p;
}

/* The live block p, or a report naming fn. */
static inline void
da_audit_check_live(void *p, const char *fn, struct da_block *b)
{
	if (da_unlikely(!da_alloc_owns(p, b))) {
		struct da_block d;
		int err = da_alloc_diagnose(p, &d);
		da_report_bad_pointer(fn, 0, p, err, &d);
	}
}

void *da_audit_realloc(void *p, size_t size, const char *fn);

static inline size_t
da_audit_usable_size(void *p)
{
	struct da_block b;
	if (p == NULL)
		return 0;
	da_audit_check_live(p, "malloc_usable_size()", &b);
	return b.size;
}

static inline int
da_audit_owns(const void *p)
{
	struct da_block b;
	return p != NULL && da_alloc_owns_any(p, &b);
}

/* Process-wide operations the shim forwards. */
size_t da_audit_trim(void);
void da_audit_stats(struct da_alloc_stats *st);
void da_audit_fork_prepare(void);
void da_audit_fork_parent(void);
void da_audit_fork_child(void);

#endif /* DA_AUDIT_AUDIT_H */
