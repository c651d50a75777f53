/*
 * shim/malloc.c — the exported C allocation functions, with glibc's
 * semantics: ENOMEM and EINVAL, overflow checks, alignment rules
 * (PITFALLS 6, 8, 9, 14). Each turns into one call of the audit layer.
 */
#include "audit/audit.h"
#include "shim/dbgalloc.h"
#include "shim/export.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* shim/process.c registers the fork handlers; this reference makes a
 * static link pull that file in with malloc (see there). */
extern const char da_shim_process_linked;
__attribute__((used)) static const char *const keep_process_linked =
        &da_shim_process_linked;

/* glibc's internal names (declared here: no header has them). */
void *__libc_malloc(size_t size);
void __libc_free(void *p);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void *__libc_memalign(size_t align, size_t size);

DA_EXPORT void *
malloc(size_t size)
{
	return da_audit_malloc(size, DA_CALL());
}

DA_EXPORT void
free(void *p)
{
	da_audit_free(p, DA_CALL());
}

DA_EXPORT void *
calloc(size_t n, size_t size)
{
	return da_audit_calloc(n, size, DA_CALL());
}

DA_EXPORT void *
realloc(void *p, size_t size)
{
	return da_audit_realloc(p, size, DA_E_REALLOC, DA_CALL());
}

DA_EXPORT void *
reallocarray(void *p, size_t n, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(n, size, &total))
		return da_audit_nomem();
	return da_audit_realloc(p, total, DA_E_REALLOCARRAY, DA_CALL());
}

static int
is_pow2(size_t a)
{
	return a != 0 && (a & (a - 1)) == 0;
}

DA_EXPORT int
posix_memalign(void **memptr, size_t align, size_t size)
{
	if (!is_pow2(align) || align < sizeof(void *))
		return EINVAL;
	int saved = errno;
	void *p = da_audit_aligned(align, size, DA_KIND_ALIGNED, DA_CALL());
	errno = saved;
	if (p == NULL)
		return ENOMEM;
	*memptr = p;
	return 0;
}

DA_EXPORT void *
aligned_alloc(size_t align, size_t size)
{
	if (!is_pow2(align)) {
		errno = EINVAL;
		return NULL;
	}
	return da_audit_aligned(align, size, DA_KIND_ALIGNED, DA_CALL());
}

DA_EXPORT void *
memalign(size_t align, size_t size)
{
	if (align > SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	/* glibc rounds a non-power-of-two alignment up. */
	while (!is_pow2(align))
		align = align ? align + (align & -align) : 1;
	return da_audit_aligned(align, size, DA_KIND_ALIGNED, DA_CALL());
}

/* The system's page size (sysconf neither allocates nor locks). */
static size_t
page_size(void)
{
	long n = sysconf(_SC_PAGESIZE);
	return n > 0 ? (size_t)n : 4096;
}

DA_EXPORT void *
valloc(size_t size)
{
	return da_audit_aligned(page_size(), size, DA_KIND_ALIGNED, DA_CALL());
}

DA_EXPORT void *
pvalloc(size_t size)
{
	size_t page = page_size(), rounded;
	if (__builtin_add_overflow(size, page - 1, &rounded))
		return da_audit_nomem();
	rounded &= ~(page - 1);
	return da_audit_aligned(page, rounded ? rounded : page, DA_KIND_ALIGNED,
	                        DA_CALL());
}

DA_EXPORT size_t
malloc_usable_size(void *p)
{
	return da_audit_usable_size(p, DA_CALL());
}

DA_EXPORT void
free_sized(void *p, size_t size)
{
	da_audit_release(p, DA_E_FREE_SIZED, DA_ACCEPT_FREE, size, DA_CALL());
}

DA_EXPORT void
free_aligned_sized(void *p, size_t align, size_t size)
{
	(void)align;
	da_audit_release(p, DA_E_FREE_ALIGNED_SIZED, DA_ACCEPT_FREE, size,
	                 DA_CALL());
}

/* glibc's own names, which a few programs and libraries call directly; a
 * block from glibc's malloc would otherwise reach our free. */
DA_EXPORT void *
__libc_malloc(size_t size)
{
	return da_audit_malloc(size, DA_CALL());
}

DA_EXPORT void
__libc_free(void *p)
{
	da_audit_free(p, DA_CALL());
}

DA_EXPORT void *
__libc_calloc(size_t n, size_t size)
{
	return da_audit_calloc(n, size, DA_CALL());
}

DA_EXPORT void *
__libc_realloc(void *p, size_t size)
{
	return da_audit_realloc(p, size, DA_E_REALLOC, DA_CALL());
}

DA_EXPORT void *
__libc_memalign(size_t align, size_t size)
{
	while (align != 0 && (align & (align - 1)) != 0)
		align += align & -align;
	return da_audit_aligned(align ? align : 1, size, DA_KIND_ALIGNED,
	                        DA_CALL());
}

/* Tuning knobs of glibc's malloc: accepted, nothing to tune. */
DA_EXPORT int
mallopt(int param, int value)
{
	(void)param;
	(void)value;
	return 1;
}

DA_EXPORT int
malloc_trim(size_t pad)
{
	(void)pad;
	return da_audit_trim() > 0;
}

DA_EXPORT struct mallinfo2
mallinfo2(void)
{
	struct da_alloc_stats st;
	struct mallinfo2 mi = {0};
	da_audit_stats(&st);
	/* glibc's meanings: arena and its use exclude blocks mapped on
	 * their own (huge blocks), which hblks and hblkhd count. */
	mi.arena = st.arena;
	mi.uordblks = st.live_bytes - st.huge_usable;
	mi.fordblks = mi.arena - mi.uordblks;
	mi.hblks = st.huge_blocks;
	mi.hblkhd = st.huge_bytes;
	return mi;
}

DA_EXPORT struct mallinfo
mallinfo(void)
{
	struct mallinfo2 m2 = mallinfo2();
	struct mallinfo mi = {0};
	mi.arena = (int)m2.arena;
	mi.uordblks = (int)m2.uordblks;
	mi.fordblks = (int)m2.fordblks;
	mi.hblks = (int)m2.hblks;
	mi.hblkhd = (int)m2.hblkhd;
	return mi;
}

/* "label = N", N right-aligned in 10 columns as glibc prints it. */
static void
stats_field(const char *label, unsigned long v)
{
	struct da_line l = {.len = 0}, num = {.len = 0};
	da_line_dec(&num, v);
	da_line_str(&l, label);
	da_line_str(&l, " = ");
	for (size_t pad = num.len; pad < 10; pad++)
		da_line_str(&l, " ");
	num.buf[num.len] = '\0';
	da_line_str(&l, num.buf);
	da_line_emit_to(&l, 2);
}

/* glibc's fields first (scripts and glibc's tests parse them), with
 * dbgalloc's figures, then dbgalloc's own line. Written with raw write
 * calls: not a cancellation point. */
DA_EXPORT void
malloc_stats(void)
{
	struct da_alloc_stats st;
	struct da_line l = {.len = 0};
	da_audit_stats(&st);
	da_line_str(&l, "Arena 0:");
	da_line_emit_to(&l, 2);
	stats_field("system bytes    ", st.arena);
	stats_field("in use bytes    ", st.live_bytes - st.huge_usable);
	da_line_str(&l, "Total (incl. mmap):");
	da_line_emit_to(&l, 2);
	stats_field("system bytes    ", st.arena + st.huge_bytes);
	stats_field("in use bytes    ",
	            st.live_bytes - st.huge_usable + st.huge_bytes);
	stats_field("max mmap regions", st.huge_peak_blocks);
	stats_field("max mmap bytes  ", st.huge_peak_bytes);
	da_line_str(&l, "dbgalloc: mapped ");
	da_line_dec(&l, st.mapped);
	da_line_str(&l, " bytes, in use ");
	da_line_dec(&l, st.live_bytes);
	da_line_str(&l, " bytes in ");
	da_line_dec(&l, st.live_blocks);
	da_line_str(&l, " blocks");
	da_line_emit_to(&l, 2);
}

DA_EXPORT int
malloc_info(int options, FILE *fp)
{
	struct da_alloc_stats st;
	if (options != 0) {
		errno = EINVAL;
		return -1;
	}
	da_audit_stats(&st);
	fprintf(fp,
	        "<malloc version=\"dbgalloc-1\">\n"
	        "<total type=\"mapped\" size=\"%zu\"/>\n"
	        "<total type=\"inuse\" count=\"%zu\" size=\"%zu\"/>\n"
	        "<total type=\"cached\" size=\"%zu\"/>\n"
	        "</malloc>\n",
	        st.mapped, st.live_blocks, st.live_bytes, st.huge_cached);
	return 0;
}

DA_EXPORT const char *
dbgalloc_version(void)
{
	return PACKAGE_VERSION;
}

DA_EXPORT int
dbgalloc_owns(const void *p)
{
	return da_audit_owns(p);
}
