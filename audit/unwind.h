/*
 * audit/unwind.h — capturing the calling chain of an allocation.
 *
 * Two ways, chosen per capture by where the entry point was called from:
 *   - a frame-pointer walk, validated frame by frame (inside the thread's
 *     stack, rising, aligned; return address inside an executable segment
 *     of a loaded module), for callers that are the program's own code;
 *   - libunwind's unw_backtrace (DWARF call-frame information) when the
 *     caller lies inside a "wrapper module" — libc, libstdc++, libgcc_s,
 *     libm, ld.so — built without frame pointers, so that the program's
 *     function that called strdup, getline or std::string is recorded.
 * libunwind is dlopen'ed by da_unwind_init (never linked: -lunwind would
 * replace the program's backtrace()). Without it, or before
 * da_unwind_init, every capture walks frame pointers, and a report may
 * then stop at the wrapper.
 *
 * Nothing here calls malloc, stdio or getenv on the capture path.
 */
#ifndef DA_AUDIT_UNWIND_H
#define DA_AUDIT_UNWIND_H

#include "audit/depot.h"

#include <stdint.h>

/*
 * Fills pcs with return addresses of the calling chain and returns the
 * count (>= 1). ret0 is the return address of the exported entry point (its
 * __builtin_return_address(0)), fp that entry point's frame address
 * (__builtin_frame_address(0)); pcs[0] = ret0 always. At most max frames
 * (1 <= max <= DA_DEPOT_MAX_FRAMES), except that when ret0 lies inside a
 * wrapper module the frames run on to the first one outside the wrapper
 * modules: pcs must have room for DA_DEPOT_MAX_FRAMES entries.
 *
 * Async-signal-safe. May allocate: no (libunwind may; a capture made by such
 * a nested malloc records ret0 only). Call it holding no allocator lock:
 * with one held, it neither runs libunwind nor reloads the module list,
 * which may wait for the dynamic loader's lock.
 */
unsigned da_unwind(uintptr_t *pcs, unsigned max, uintptr_t ret0, uintptr_t fp);

/*
 * The stack of a faulting instruction at pc whose function's frame pointer
 * is fp (from the signal's context): pcs[0] = pc, then the return
 * addresses found by frame pointers from fp, read only while they lie in
 * the current stack above the caller's frame (run on the faulting thread's
 * stack). At most max frames. Async-signal-safe.
 */
unsigned da_unwind_fault(uintptr_t *pcs, unsigned max, uintptr_t pc,
                         uintptr_t fp);

/*
 * Called once from the library's constructor (outside malloc): takes the
 * snapshot of the loaded modules, loads libunwind and registers a fork
 * handler. Before it runs, da_unwind walks frame pointers only. Calls after
 * the first do nothing.
 */
void da_unwind_init(void);

/* 1 if pc lies inside an executable segment of a wrapper module (as of the
 * last module snapshot; 0 before da_unwind_init). */
int da_unwind_in_wrapper(uintptr_t pc);

/* 1 if libunwind was loaded: wrapper callers are unwound through. */
int da_unwind_has_dwarf(void);

#endif /* DA_AUDIT_UNWIND_H */
