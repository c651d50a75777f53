/*
 * shim/guardsig.h — the SIGSEGV handler that reports faults in guard pages
 * (DBGALLOC_GUARD).
 */
#ifndef DA_SHIM_GUARDSIG_H
#define DA_SHIM_GUARDSIG_H

/* Installs it (at start-up, when DBGALLOC_GUARD is set), keeping the
 * handler that was there to pass other faults on to. 0, or -1. */
int da_shim_guardsig_init(void);

/* Finds what the interposed signal() passes on to (at start-up, always). */
void da_shim_guardsig_setup(void);

#endif /* DA_SHIM_GUARDSIG_H */
