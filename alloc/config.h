/*
 * alloc/config.h — the geometry every alloc/ file agrees on.
 *
 * Memory comes from the OS in regions aligned to 4 MiB (the page map's
 * granule), so that the address of any byte, shifted right by
 * DA_CHUNK_SHIFT, names exactly one region:
 *   - chunks of 4 MiB, cut into 64 units of 64 KiB: unit 0 holds the
 *     chunk's metadata; a slab is a run of units serving one size class
 *     (blocks up to DA_MEDIUM_MAX);
 *   - page regions of 32 MiB, cut into blocks of whole pages (blocks up to
 *     DA_PAGES_MAX, and aligned ones);
 *   - huge mappings, one block each (anything larger).
 */
#ifndef DA_ALLOC_CONFIG_H
#define DA_ALLOC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define DA_CHUNK_SHIFT 22
#define DA_CHUNK_SIZE  ((size_t)1 << DA_CHUNK_SHIFT)
#define DA_CHUNK_MASK  (DA_CHUNK_SIZE - 1)
#define DA_UNIT_SHIFT  16
#define DA_UNIT_SIZE   ((size_t)1 << DA_UNIT_SHIFT)
#define DA_UNITS       (DA_CHUNK_SIZE / DA_UNIT_SIZE) /* 64 per chunk */

#define DA_ALIGN 16 /* every block starts at a multiple of this */
#define DA_PAGE  4096

#define DA_SMALL_MAX    1024 /* classes in 1-unit (64 KiB) slabs */
#define DA_SMALL_UNITS  1
#define DA_MEDIUM_MAX   32768 /* classes in 8-unit (512 KiB) slabs */
#define DA_MEDIUM_UNITS 8
#define DA_PAGES_SHIFT  25                /* a page region: 32 MiB */
#define DA_PAGES_MAX    ((size_t)4 << 20) /* larger blocks are huge */
#define DA_HUGE_HEADER  DA_PAGE           /* huge mapping: header page */

/* Largest request we accept: PTRDIFF_MAX less room for rounding. */
#define DA_MAX_REQUEST ((size_t)PTRDIFF_MAX - 2 * DA_CHUNK_SIZE)

/*
 * Freed memory kept committed for reuse (free units not yet purged, freed
 * huge blocks still mapped) never takes the total past the program's own
 * peak of memory in use plus DA_RETAIN_FLOOR, so it raises that peak by
 * DA_RETAIN_FLOOR at most; and what is retained is given back once
 * DA_RETAIN_DECAY_MS pass without a purge (checked on the slow paths and by
 * the periodic work of heap.c's ticks; no thread of our own).
 */
#define DA_RETAIN_FLOOR    ((size_t)2 << 20)
#define DA_RETAIN_DECAY_MS 1000
#define DA_HUGE_CACHE_MAX  ((size_t)64 << 20) /* larger ones are unmapped */

/* Internal invariants, checked in --enable-debug builds (slow paths). */
__attribute__((noreturn)) void da_os_assert_failed(const char *file, int line,
                                                   const char *expr);
#if DA_DEBUG
#define da_assert(e) \
	((e) ? (void)0 : da_os_assert_failed(__FILE__, __LINE__, #e))
#else
#define da_assert(e) ((void)0)
#endif

#define DA_INLINE      static inline __attribute__((always_inline))
#define da_likely(e)   __builtin_expect(!!(e), 1)
#define da_unlikely(e) __builtin_expect(!!(e), 0)
#define DA_HIDDEN      __attribute__((visibility("hidden")))

#endif /* DA_ALLOC_CONFIG_H */
