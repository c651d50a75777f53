/*
 * audit/dangling.h — DBGALLOC_DANGLING: when freed guarded blocks leave
 * the quarantine (their slots may be reused from then on), a sweep looks
 * for the pointers still aiming into them — in the roots and in every
 * live block, read as the leak scan reads them (leak.h: da_leak_probe) —
 * and reports each holder: the dangling pointer that would become a use
 * after free once the memory holds another block.
 *
 *   dbgalloc: dangling pointer to 0x... (13-byte block, generation 5,
 *     freed): held at offset 8 of 0x... (64-byte block, generation 3)
 *     freed by thread 42 at: ...
 *     allocated by thread 42 at (generation 5, epoch 0 "start"): ...
 *     the holder was allocated at (generation 3, epoch 0 "start"): ...
 *
 * or "... held in a root at 0x... (data of module M)" (a global; stack of
 * thread N, TLS of thread N), or "... held in a register of thread N".
 * A report is a warning: the program goes on. At exit, one line counts
 * them (if any), and another the blocks that left unswept.
 *
 * alloc notes the blocks the quarantine pushes out (guard.h:
 * da_guard_note_evictions); the sweep takes all that wait, in one pass,
 * at the end of a free or realloc that is not nested in an allocator
 * operation, holds no allocator lock and runs on no signal stack (else
 * they wait for the next one). Sweeps are paced: after a probe that took
 * t the next waits 9t, unless a quarter of the ring waits (a sweep costs
 * about 1.3 ms over 10,000 live blocks, 100-200 ms over a million). At
 * exit, what waits is swept. A block whose slot was handed out again
 * before its sweep is not swept (a pointer into it may be the new
 * block's), and counted as unswept.
 */
#ifndef DA_AUDIT_DANGLING_H
#define DA_AUDIT_DANGLING_H

#include "audit/audit.h"

#include <stdint.h>

/* Sets the sweep up (at start-up, one thread): asks alloc to note the
 * blocks its quarantine pushes out. Returns 0, or -1 after one line
 * saying why there will be no sweep. */
int da_dangling_configure(void);

/* After a free by c (the entry's call, whose frame bounds the program's
 * part of this thread's stack): sweeps for the blocks that left the
 * quarantine, if any wait and it is safe here. */
void da_dangling_sweep_evicted(struct da_call c);

/* At exit: sweeps what waits, then the count lines. */
void da_dangling_exit(void);

/* Dangling pointers reported so far, and blocks left unswept. */
uint64_t da_dangling_reported(void);
uint64_t da_dangling_unswept(void);

#endif /* DA_AUDIT_DANGLING_H */
