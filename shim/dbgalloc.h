/*
 * dbgalloc.h — the public interface of libdbgalloc.
 *
 * Linking with -ldbgalloc (or preloading libdbgalloc.so) replaces the whole
 * malloc family and every C++ operator new/delete; nothing in this header is
 * needed for that. It declares what dbgalloc adds: its version, a query
 * that tells whether a pointer is a live dbgalloc block, and the C23 sized
 * deallocation functions for C libraries that do not declare them yet.
 */
#ifndef DBGALLOC_H
#define DBGALLOC_H

#include <stddef.h>

#define DBGALLOC_VERSION_MAJOR 0
#define DBGALLOC_VERSION_MINOR 1
#define DBGALLOC_VERSION_PATCH 0

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *dbgalloc_version(void);

/*
 * 1 if ptr is the address returned for a block that dbgalloc handed out and
 * that has not been freed, else 0. Any pointer may be passed, including NULL,
 * freed and foreign ones: it is never dereferenced.
 */
int dbgalloc_owns(const void *ptr);

/*
 * C23 sized deallocation (glibc 2.36 does not declare these yet): the same
 * as free(ptr); size (and alignment) must be what the block was asked with.
 */
void free_sized(void *ptr, size_t size);
void free_aligned_sized(void *ptr, size_t alignment, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* DBGALLOC_H */
