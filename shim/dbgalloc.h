/*
 * dbgalloc.h — the public interface of libdbgalloc.
 *
 * Linking with -ldbgalloc (or preloading libdbgalloc.so) replaces the whole
 * malloc family and every C++ operator new/delete; nothing in this header is
 * needed for that. It declares what dbgalloc adds: its version, a query
 * that tells whether a pointer is a live dbgalloc block, epochs, the leak
 * check and its controls, and the C23 sized deallocation functions for C
 * libraries that do not declare them yet.
 *
 * A program that may also run without dbgalloc can declare these weak
 * (#pragma weak dbgalloc_mark) and test the address before calling.
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
 * Starts a new epoch named label (copied; up to 47 bytes are kept) and
 * returns its number: epoch 0 is the start of the process. Every block
 * allocated from now on belongs to it, and reports say which epoch a block
 * was allocated in.
 */
unsigned dbgalloc_mark(const char *label);

/* What dbgalloc_leak_check found, per class (suppressed records apart). */
struct dbgalloc_leaks {
	size_t definite_bytes, definite_blocks;   /* definitely lost */
	size_t indirect_bytes, indirect_blocks;   /* indirectly lost */
	size_t possible_bytes, possible_blocks;   /* possibly lost */
	size_t reachable_bytes, reachable_blocks; /* still reachable */
	size_t suppressed_bytes, suppressed_blocks;
};

#define DBGALLOC_LEAKS_ALL 1u /* report possibly lost and still reachable too */
#define DBGALLOC_LEAKS_NEW 2u /* report only what no earlier check reported */

/*
 * Runs the leak scan now, while the program runs, writes the report (to
 * standard error, or DBGALLOC_LOG) and returns the counts of what it
 * reported. Other threads are stopped while the scan runs. With
 * DBGALLOC_LEAKS_NEW, blocks an earlier check reported are left out, so a
 * second check with no heap change reports nothing.
 */
struct dbgalloc_leaks dbgalloc_leak_check(unsigned flags);

/*
 * The live block ptr is never reported as leaked; what it points to counts
 * as reachable. Returns 1, or 0 if ptr is not a live block of ours.
 */
int dbgalloc_ignore(const void *ptr);

/*
 * Between these calls (per thread, nestable), blocks the thread allocates
 * are treated as dbgalloc_ignore'd: never reported.
 */
void dbgalloc_leaks_disable(void);
void dbgalloc_leaks_enable(void);

/*
 * A program may define this to return suppressions, in the format of
 * DBGALLOC_SUPPRESSIONS files ("leak:PATTERN" lines); LeakSanitizer's
 * __lsan_default_suppressions is honoured the same way.
 */
const char *dbgalloc_default_suppressions(void);

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
