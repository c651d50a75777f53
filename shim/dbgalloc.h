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
 * Counters since the process started. Bytes are the bytes the program asked
 * for (not the allocator's rounding, headers or redzones); a realloc counts
 * as the allocation of its new block and the free of its old one. In a
 * single-threaded program every figure is exact; under threads, peak_bytes
 * is sampled (see dbgalloc(3)).
 */
struct dbgalloc_stats {
	size_t live_bytes;                /* bytes of the blocks live now */
	size_t live_blocks;               /* blocks live now */
	size_t peak_bytes;                /* the most live_bytes has been */
	unsigned long long total_allocs;  /* blocks handed out since start */
	unsigned long long total_bytes;   /* the bytes they asked for */
	unsigned long long failed_allocs; /* refused: limit or injected */
	size_t limit; /* the limit on live_bytes (DBGALLOC_LIMIT), 0: none */
};
void dbgalloc_stats_get(struct dbgalloc_stats *st);

/*
 * The limit on live bytes: an allocation that would take live_bytes above
 * it fails (NULL and ENOMEM; std::bad_alloc from operator new). 0 removes
 * it. dbgalloc_limit_set returns the limit it replaces (0: none).
 */
size_t dbgalloc_limit_set(size_t bytes);
size_t dbgalloc_limit_get(void);

/*
 * Scopes: what happened between dbgalloc_scope_begin and dbgalloc_scope_end,
 * filled into the caller's struct by dbgalloc_scope_end (a scope allocates
 * nothing; the struct must stay in place while the scope is open). Scopes nest;
 * each thread ends its scopes in the reverse order it began them.
 *
 *   DBGALLOC_SCOPE_THREAD  count the calling thread's allocations and frees
 *                          only (default: the whole process's)
 *   DBGALLOC_SCOPE_WATCH   the scope's limit refuses nothing: the first
 *                          allocation that crosses it is recorded, with the
 *                          call sites holding the scope's memory then
 *
 * With a limit (bytes, 0: none) and without DBGALLOC_SCOPE_WATCH, an
 * allocation that would take the scope's live bytes more than limit above
 * their level at dbgalloc_scope_begin fails as at DBGALLOC_LIMIT.
 */
#define DBGALLOC_SCOPE_THREAD 1u
#define DBGALLOC_SCOPE_WATCH  2u

struct dbgalloc_scope {
	/* Set by dbgalloc_scope_end: */
	unsigned long long allocated_blocks, allocated_bytes; /* in the scope */
	unsigned long long freed_blocks, freed_bytes; /* freed in it (any) */
	size_t peak_bytes;  /* the most live bytes rose above the start */
	size_t live_blocks; /* allocated in the scope, live at its end */
	size_t live_bytes;
	size_t limit;      /* as begun (set by dbgalloc_scope_begin) */
	int limit_crossed; /* DBGALLOC_SCOPE_WATCH: the limit was crossed */
	size_t crossed_at; /* the bytes above the start that crossed it */
	unsigned long long private_[96]; /* dbgalloc's own */
};
/* Returns 0, or -1 (errno EINVAL) for unknown flags. */
int dbgalloc_scope_begin(struct dbgalloc_scope *scope, unsigned flags,
                         size_t limit);
/* Returns 0, or -1 (errno EINVAL) when scope is not the calling thread's
 * innermost open scope. */
int dbgalloc_scope_end(struct dbgalloc_scope *scope);

/*
 * Writes the call sites of an ended scope's blocks, most bytes first, at
 * most max sites, into buf (len bytes, always NUL-terminated; the output is
 * cut at a line's end). which: DBGALLOC_SITES_LIVE, the blocks allocated
 * in the scope and live at its end; DBGALLOC_SITES_AT_LIMIT, those live
 * when the limit was crossed. Each site is one line "  <bytes> in <n>
 * blocks allocated from:" and one line per frame. Returns the length
 * written.
 */
#define DBGALLOC_SITES_LIVE     0
#define DBGALLOC_SITES_AT_LIMIT 1
size_t dbgalloc_scope_sites(const struct dbgalloc_scope *scope, int which,
                            unsigned max, char *buf, size_t len);

/*
 * Writes a dump now: the counters, the call stacks, the loaded modules
 * (with their build ids, for symbolizing elsewhere), the epochs and every
 * live block, in the format dbgalloc-stats reads. In path, %p is the
 * process id, %e the program's name, %n the dump's number in this process
 * (from 1) and %% a %; NULL means DBGALLOC_DUMP's name. The file is
 * written beside its final name and renamed onto it, so it appears whole
 * or not at all. Other threads are stopped while the blocks are listed.
 * Returns 0, or -1 with errno set (EINVAL: path is NULL and DBGALLOC_DUMP
 * is not set).
 */
int dbgalloc_dump(const char *path);

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
