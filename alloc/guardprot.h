/*
 * alloc/guardprot.h — how guard-page slots are made inaccessible and
 * accessible again: the one place that knows the two mechanisms.
 *
 *   madvise   Linux >= 6.13: madvise(MADV_GUARD_INSTALL / _REMOVE) puts
 *             guard markers in the page tables without splitting the
 *             mapping, so the number of mappings stays the same however
 *             many guards there are. Installing over a page ZAPS it (its
 *             contents are gone: it reads 0 once the guard is removed).
 *             Many ranges go in one process_madvise call.
 *   mprotect  older kernels (or forced, for tests): PROT_NONE / PROT_READ|
 *             PROT_WRITE. Each accessible island between inaccessible pages
 *             is a mapping of its own, so the caller counts them against
 *             vm.max_map_count (read once, da_guardprot_max_maps).
 *
 * "Close" makes a range fault on any access (SIGSEGV either way); "open"
 * makes it read-write. Every function preserves errno, never allocates and
 * is safe to call from any thread; failures are returned as errno values.
 */
#ifndef DA_ALLOC_GUARDPROT_H
#define DA_ALLOC_GUARDPROT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum da_guard_mech {
	DA_GUARD_MECH_NONE = 0, /* not initialised */
	DA_GUARD_MECH_MADVISE = 1,
	DA_GUARD_MECH_MPROTECT = 2,
};

/* Ranges per process_madvise call (the kernel's UIO_FASTIOV is 8, its
 * limit IOV_MAX 1024; 64 keeps the array on a small stack). */
#define DA_GUARD_BATCH 64

/* One range to open or close. */
struct da_guard_range {
	void *p;
	size_t len;
};

extern unsigned da_guardprot_mech;   /* enum da_guard_mech */
extern size_t da_guardprot_max_maps; /* vm.max_map_count (65530 if unread) */
extern _Atomic(uint64_t) da_guardprot_calls;     /* protection system calls
                                                and populating batches */
extern _Atomic(uint64_t) da_guardprot_populated; /* ranges populated */

/*
 * Picks the mechanism (madvise guard regions when the kernel has them and
 * force_mprotect is 0) and reads vm.max_map_count. Maps and unmaps one
 * probe page. Not thread-safe: called once, before any other function.
 */
void da_guardprot_init(int force_mprotect);

/* New space [p, p+len) (inaccessible, as reserved) made ready for slots:
 * under madvise it becomes read-write (its guards are installed next),
 * under mprotect it stays as it is. */
int da_guardprot_prepare(void *p, size_t len);

/* Makes [p, p+len) inaccessible: one system call. */
int da_guardprot_close(void *p, size_t len);

/* The same for n ranges: under madvise one process_madvise call per
 * DA_GUARD_BATCH ranges, under mprotect one mprotect each. */
int da_guardprot_close_many(const struct da_guard_range *r, unsigned n);

/* Makes n ranges read-write again (batched as above). Under madvise their
 * pages read as zero afterwards. */
int da_guardprot_open_many(const struct da_guard_range *r, unsigned n);

/*
 * Under madvise, faults the pages of n open ranges in, written (zero
 * filled), in one process_madvise per DA_GUARD_BATCH ranges: a page that
 * a block is about to be written to costs a share of one system call
 * instead of a page fault of its own (measured on this kind of machine:
 * 0.63 us a page in batches of 64, against 1.1-1.9 us a fault). Best
 * effort: where the kernel refuses it (or there is no batch), nothing is
 * done and the pages fault in as they would have. Under mprotect nothing
 * is done (closing there keeps the pages).
 */
void da_guardprot_populate_many(const struct da_guard_range *r, unsigned n);

/* In a fork child: forget a pidfd of the parent's. */
void da_guardprot_fork_child(void);

#endif /* DA_ALLOC_GUARDPROT_H */
