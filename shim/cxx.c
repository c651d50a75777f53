/*
 * shim/cxx.c — every C++ operator new and delete, written in C with their
 * Itanium-ABI names so that the library needs no C++ runtime (a C program
 * that preloads it does not pull libstdc++ in).
 *
 * Throwing forms follow the new-handler protocol: on failure, call the
 * installed std::new_handler and retry; with none installed, throw
 * std::bad_alloc. Both come from libstdc++ through weak references, present
 * whenever a C++ program is running. The nothrow forms return NULL on
 * failure without calling the new-handler (a handler that throws could not
 * be caught here). This file is built with -fexceptions so the exception
 * unwinds through these frames.
 */
#include "audit/audit.h"
#include "shim/export.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* The operators' mangled names (x86-64: size_t is 'm', align_val_t is
 * passed as a size_t, nothrow_t by reference). */
void *_Znwm(size_t);
void *_Znam(size_t);
void *_ZnwmRKSt9nothrow_t(size_t, const void *);
void *_ZnamRKSt9nothrow_t(size_t, const void *);
void *_ZnwmSt11align_val_t(size_t, size_t);
void *_ZnamSt11align_val_t(size_t, size_t);
void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t, size_t, const void *);
void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t, size_t, const void *);
void _ZdlPv(void *);
void _ZdaPv(void *);
void _ZdlPvm(void *, size_t);
void _ZdaPvm(void *, size_t);
void _ZdlPvRKSt9nothrow_t(void *, const void *);
void _ZdaPvRKSt9nothrow_t(void *, const void *);
void _ZdlPvSt11align_val_t(void *, size_t);
void _ZdaPvSt11align_val_t(void *, size_t);
void _ZdlPvmSt11align_val_t(void *, size_t, size_t);
void _ZdaPvmSt11align_val_t(void *, size_t, size_t);
void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *, size_t, const void *);
void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *, size_t, const void *);

typedef void (*da_new_handler)(void);
da_new_handler _ZSt15get_new_handlerv(void) __attribute__((weak));
void _ZSt17__throw_bad_allocv(void) __attribute__((weak, noreturn));

static void *
new_failed(size_t size, size_t align, unsigned kind, struct da_call c)
{
	for (;;) {
		da_new_handler h = _ZSt15get_new_handlerv != NULL
		                           ? _ZSt15get_new_handlerv()
		                           : NULL;
		if (h == NULL) {
			if (_ZSt17__throw_bad_allocv != NULL)
				_ZSt17__throw_bad_allocv();
			struct da_line l = {.len = 0};
			da_line_str(&l, "dbgalloc: operator new of ");
			da_line_dec(&l, size);
			da_line_str(&l, " bytes failed and no C++ runtime is "
			                "loaded to throw std::bad_alloc");
			da_line_emit(&l);
			abort();
		}
		h();
		void *p = align ? da_audit_aligned(align, size, kind, c)
		                : da_audit_alloc(size, kind, c);
		if (p != NULL)
			return p;
	}
}

DA_INLINE void *
new_plain(size_t size, unsigned kind, struct da_call c)
{
	void *p = da_audit_alloc(size, kind, c);
	return da_likely(p != NULL) ? p : new_failed(size, 0, kind, c);
}

static inline void *
new_aligned(size_t size, size_t align, unsigned kind, struct da_call c)
{
	void *p = da_audit_aligned(align, size, kind, c);
	return da_likely(p != NULL) ? p : new_failed(size, align, kind, c);
}

/* The releases: plain, and sized (the size must be the one asked for). */
#define DELETE(p) \
	da_audit_release(p, DA_E_DELETE, DA_ACCEPT_DELETE, SIZE_MAX, DA_CALL())
#define DELETE_ARR(p)                                                    \
	da_audit_release(p, DA_E_DELETE_ARR, DA_ACCEPT_DEL_AR, SIZE_MAX, \
	                 DA_CALL())
#define DELETE_SZ(p, n) \
	da_audit_release(p, DA_E_DELETE_SIZED, DA_ACCEPT_DELETE, n, DA_CALL())
#define DELETE_ARR_SZ(p, n)                                             \
	da_audit_release(p, DA_E_DELETE_ARR_SIZED, DA_ACCEPT_DEL_AR, n, \
	                 DA_CALL())

/* new(size_t), new[](size_t) */
DA_EXPORT void *
_Znwm(size_t size)
{
	return new_plain(size, DA_KIND_NEW, DA_CALL());
}

DA_EXPORT void *
_Znam(size_t size)
{
	return new_plain(size, DA_KIND_NEW_ARR, DA_CALL());
}

/* new(size_t, nothrow_t const&), new[](size_t, nothrow_t const&) */
DA_EXPORT void *
_ZnwmRKSt9nothrow_t(size_t size, const void *nt)
{
	(void)nt;
	return da_audit_alloc(size, DA_KIND_NEW, DA_CALL());
}

DA_EXPORT void *
_ZnamRKSt9nothrow_t(size_t size, const void *nt)
{
	(void)nt;
	return da_audit_alloc(size, DA_KIND_NEW_ARR, DA_CALL());
}

/* new(size_t, align_val_t), new[](size_t, align_val_t) */
DA_EXPORT void *
_ZnwmSt11align_val_t(size_t size, size_t align)
{
	return new_aligned(size, align, DA_KIND_NEW, DA_CALL());
}

DA_EXPORT void *
_ZnamSt11align_val_t(size_t size, size_t align)
{
	return new_aligned(size, align, DA_KIND_NEW_ARR, DA_CALL());
}

/* new(size_t, align_val_t, nothrow_t const&), and the array form */
DA_EXPORT void *
_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, const void *nt)
{
	(void)nt;
	return da_audit_aligned(align, size, DA_KIND_NEW, DA_CALL());
}

DA_EXPORT void *
_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, const void *nt)
{
	(void)nt;
	return da_audit_aligned(align, size, DA_KIND_NEW_ARR, DA_CALL());
}

/* delete(void*), delete[](void*) */
DA_EXPORT void
_ZdlPv(void *p)
{
	DELETE(p);
}

DA_EXPORT void
_ZdaPv(void *p)
{
	DELETE_ARR(p);
}

/* delete(void*, size_t), delete[](void*, size_t) */
DA_EXPORT void
_ZdlPvm(void *p, size_t size)
{
	DELETE_SZ(p, size);
}

DA_EXPORT void
_ZdaPvm(void *p, size_t size)
{
	DELETE_ARR_SZ(p, size);
}

/* delete(void*, nothrow_t const&), delete[](void*, nothrow_t const&) */
DA_EXPORT void
_ZdlPvRKSt9nothrow_t(void *p, const void *nt)
{
	(void)nt;
	DELETE(p);
}

DA_EXPORT void
_ZdaPvRKSt9nothrow_t(void *p, const void *nt)
{
	(void)nt;
	DELETE_ARR(p);
}

/* delete(void*, align_val_t), delete[](void*, align_val_t) */
DA_EXPORT void
_ZdlPvSt11align_val_t(void *p, size_t align)
{
	(void)align;
	DELETE(p);
}

DA_EXPORT void
_ZdaPvSt11align_val_t(void *p, size_t align)
{
	(void)align;
	DELETE_ARR(p);
}

/* delete(void*, size_t, align_val_t), delete[](void*, size_t, align_val_t) */
DA_EXPORT void
_ZdlPvmSt11align_val_t(void *p, size_t size, size_t align)
{
	(void)align;
	DELETE_SZ(p, size);
}

DA_EXPORT void
_ZdaPvmSt11align_val_t(void *p, size_t size, size_t align)
{
	(void)align;
	DELETE_ARR_SZ(p, size);
}

/* delete(void*, align_val_t, nothrow_t const&), and the array form */
DA_EXPORT void
_ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *nt)
{
	(void)align;
	(void)nt;
	DELETE(p);
}

DA_EXPORT void
_ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *nt)
{
	(void)align;
	(void)nt;
	DELETE_ARR(p);
}
