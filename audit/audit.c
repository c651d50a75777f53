/*
 * audit/audit.c — the out-of-line parts of the audit layer.
 */
#include "audit/audit.h"

/*
 * realloc with glibc's rules: NULL p is malloc; size 0 frees p and returns
 * NULL; on failure p is untouched. A block shrinks in place unless it would
 * waste more than half of itself; it never moves to grow within its usable
 * size, nor when the allocator can extend it where it is.
 */
void *
da_audit_realloc(void *p, size_t size, const char *fn)
{
	struct da_block b;
	if (p == NULL)
		return da_audit_malloc(size);
	da_audit_check_live(p, fn, &b);
	if (size == 0) {
		da_audit_free(p, fn);
		return NULL;
	}
	if (size <= b.size && size >= b.size / 2)
		return p;
	if (size > b.size && da_alloc_grow(p, size))
		return p;
	void *q = da_alloc_malloc(da_alloc_growth_size(b.size, size));
	if (q == NULL)
		return da_audit_nomem();
	memcpy(q, p, size < b.size ? size : b.size);
	da_audit_free(p, fn);
	return q;
}

void *
da_audit_malloc_failed(size_t size)
{
	/* Inside an interrupted slow path of this thread (da_op_depth), the
	 * allocator may refuse rather than wait for a lock (lock.h). */
	if (da_op_depth > 0) {
		void *p = da_alloc_malloc_without_lock(size);
		if (p != NULL)
			return p;
	}
	return da_audit_nomem();
}

void
da_audit_free_slow(void *p, const char *fn)
{
	struct da_block bad;
	int err = da_alloc_free(p, &bad);
	if (err != DA_FREE_OK)
		da_report_bad_pointer(fn, 1, p, err, &bad);
}

size_t
da_audit_trim(void)
{
	return da_alloc_trim();
}

void
da_audit_stats(struct da_alloc_stats *st)
{
	da_alloc_stats(st);
}

/* fork: audit has no locks of its own yet; the allocator's follow. */
void
da_audit_fork_prepare(void)
{
	da_heap_fork_prepare();
}

void
da_audit_fork_parent(void)
{
	da_heap_fork_parent();
}

void
da_audit_fork_child(void)
{
	da_heap_fork_child();
}
