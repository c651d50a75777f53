/*
 * audit/scanbound.h — where the program's part of a thread's stack ends,
 * for the leak scan's conservative read of the calling thread's stack.
 *
 * Below the frame of dbgalloc's outermost entry point on a thread lie only
 * dbgalloc's own frames, whose stale words (locals of earlier calls,
 * spilled copies of pointers the program has since dropped) would read as
 * pointers and keep lost blocks "reachable". So each public entry point
 * that may scan records, in its own frame, the lowest address of the
 * program's part (DA_SCAN_ENTER), and the scan reads this thread's stack
 * from there up (leak.c, scan_own_stack). Nested entries keep the
 * outermost bound; the one that set it clears it when it returns.
 *
 * x86-64, the entry's frame (the library is built with frame pointers;
 * __builtin_frame_address(0) forces one in the entry anyway):
 *
 *   | the program's frames     |  scanned
 *   | return address           |  fp + 8
 *   | the caller's rbp         |  fp
 *   | r15 r14 r13 r12 rbx      |  fp - 40 .. fp: the program's callee-saved
 *   +--------------------------+  <- the bound (fp - 40)
 *   | the entry's own locals   |  not scanned
 *   | dbgalloc's deeper frames |  not scanned
 *
 * The program's registers at the call: the caller-saved ones hold nothing
 * the program may keep across a call; the callee-saved ones either still
 * hold the program's values (then the entry saves them before any use) or
 * were saved by the entry's prologue. __builtin_unwind_init() in the entry
 * makes that prologue save all five, pushed right under the saved rbp (by
 * gcc and clang alike, tests/unit/test_scanbound.c checks each register),
 * so the bound's 40 bytes are exactly the program's registers as they were
 * at the call: a copy of them, in place, with no word of dbgalloc's.
 *
 * Elsewhere the bound is the entry's frame address: on aarch64 the frame
 * record lies at the bottom of the frame, under the saved registers and
 * the locals, so the scan also reads the entry's own locals (a few words of
 * dbgalloc's, conservatively).
 */
#ifndef DA_AUDIT_SCANBOUND_H
#define DA_AUDIT_SCANBOUND_H

#include <stdint.h>

/* da_scan_bound's value on a thread whose stack is all dbgalloc's (the
 * dumper thread): the scan reads none of it. */
#define DA_SCAN_OURS UINTPTR_MAX

#if defined(__x86_64__)
#define DA_SCAN_SAVED 40 /* rbx, r12-r15 under the saved rbp */
#else
#define DA_SCAN_SAVED 0
#endif

/*
 * At the start of a public entry point, in its own body (not in a helper:
 * the bound is the entry's own frame): records this thread's bound unless
 * an outer entry did; tok says whether this one did. DA_SCAN_LEAVE(tok)
 * before each return. The entry must not be inlined into a function of
 * dbgalloc that is no entry (exported functions and exit handlers are not).
 */
#define DA_SCAN_ENTER(tok)                                                    \
	__builtin_unwind_init();                                              \
	int tok = da_scan_bound_enter((uintptr_t)__builtin_frame_address(0) - \
	                              DA_SCAN_SAVED)
#define DA_SCAN_LEAVE(tok) da_scan_bound_leave(tok)

/* This thread's bound: 0 if none (the scan reads the stack from its own
 * frame up, as when a unit test calls it directly), DA_SCAN_OURS, or the
 * lowest address of the program's part of the stack. Async-signal-safe. */
uintptr_t da_scan_bound(void);

/* Records lo as this thread's bound if none is set, or if the one set lies
 * at or below lo (its entry was left by a longjmp: an outer entry's frame
 * is always above an inner one's). Returns 1 if it recorded lo, else 0.
 * Async-signal-safe. */
int da_scan_bound_enter(uintptr_t lo);

/* Clears the bound if entered is 1 (the call that recorded it). */
void da_scan_bound_leave(int entered);

/* Marks this thread's stack as all dbgalloc's (DA_SCAN_OURS), for good:
 * a thread of dbgalloc's own calls it first. */
void da_scan_bound_ours(void);

#endif /* DA_AUDIT_SCANBOUND_H */
