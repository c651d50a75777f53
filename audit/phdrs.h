/*
 * audit/phdrs.h — the loaded modules as libunwind sees them while dbgalloc
 * captures a stack, without the loader's lock.
 *
 * libunwind finds a frame's unwind table with dl_iterate_phdr, which takes
 * glibc's dl_load_write_lock, a recursive mutex. A capture made by a
 * signal handler that interrupted this very thread inside that mutex's
 * lock or unlock (in dlopen, dlclose or any dl_iterate_phdr: the futex
 * word taken, its owner not yet recorded, or the other way round) waits
 * for itself for ever, and every other thread that captures waits behind
 * it (test_unwind signals_during_dlopen hung about once in a hundred runs
 * under load, at round 645 of 2,000). No lock-free check can tell that
 * window apart, so libunwind is kept away from the lock instead: its
 * reference to dl_iterate_phdr (one GOT slot of libunwind.so.8, which we
 * load ourselves) is pointed at da_phdrs_iterate, which answers from a
 * copy of the module list (addresses, names, program headers) taken with
 * the real dl_iterate_phdr whenever unwind.c takes a new snapshot. Each
 * module is offered only while _dl_find_object (lock-free) still finds it
 * mapped at the same place with the same unwind table: a module unloaded
 * since is skipped. Outside a capture (da_phdrs_serve clear: the
 * program's own use of libunwind) the call goes to the real one.
 *
 * Needs glibc >= 2.35 (_dl_find_object); elsewhere nothing is patched and
 * libunwind calls the real dl_iterate_phdr as before.
 */
#ifndef DA_AUDIT_PHDRS_H
#define DA_AUDIT_PHDRS_H

#include <link.h>
#include <stddef.h>

/* Set by unwind.c on the thread while libunwind runs for a capture. */
extern __thread unsigned char da_phdrs_serve;

/* Takes a new copy of the module list (the real dl_iterate_phdr; not from
 * a capture inside libunwind) and publishes it. Old copies are kept (a
 * reader may still be in one). */
void da_phdrs_reload(void);

/* Points the dl_iterate_phdr slot of the module handle h (libunwind) at
 * da_phdrs_iterate. 1 if done, 0 if not (no such slot, old glibc). */
int da_phdrs_hook(void *h);

/* 1 once da_phdrs_hook has patched a slot. */
int da_phdrs_hooked(void);

/* dl_iterate_phdr as libunwind gets it: from the copy while
 * da_phdrs_serve is set on this thread, else the real one. */
int da_phdrs_iterate(int (*cb)(struct dl_phdr_info *, size_t, void *),
                     void *data);

#endif /* DA_AUDIT_PHDRS_H */
