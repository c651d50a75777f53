/*
 * shim/dump.h — the dump at exit (shim/dump.c), run by the exit handler
 * of shim/leaks.c.
 */
#ifndef DA_SHIM_DUMP_H
#define DA_SHIM_DUMP_H

/* DBGALLOC_DUMP: writes the dump, or reports the one line saying why it
 * could not. Preserves errno. With scan (the leak check comes next), the
 * dump runs the leak check and hands its scan over (scan->threads is 0
 * when none was made: no dump, or no file). */
struct da_leak_scan;
void da_shim_dump_at_exit(struct da_leak_scan *scan);

#endif /* DA_SHIM_DUMP_H */
