/*
 * shim/dump.h — the dump at exit (shim/dump.c), run by the exit handler
 * of shim/leaks.c.
 */
#ifndef DA_SHIM_DUMP_H
#define DA_SHIM_DUMP_H

/* DBGALLOC_DUMP: writes the dump, or reports the one line saying why it
 * could not. Preserves errno. */
void da_shim_dump_at_exit(void);

#endif /* DA_SHIM_DUMP_H */
