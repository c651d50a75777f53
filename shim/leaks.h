/*
 * shim/leaks.h — start-up of the leak report (shim/leaks.c).
 */
#ifndef DA_SHIM_LEAKS_H
#define DA_SHIM_LEAKS_H

/* mode: DBGALLOC_LEAKS (0 off, 1 lost blocks, 2 all); exitcode: -1 for
 * the program's own; suppressions: a file or NULL. Registers the report
 * at exit. Returns 0, or -1 after writing why the suppressions file could
 * not be read. Called once, from the constructor. */
int da_shim_leaks_init(int mode, int exitcode, const char *suppressions);

/* The suppressions the program builds in (__lsan_default_suppressions,
 * dbgalloc_default_suppressions), added once, at the first report or
 * before the first live leak check. */
void da_shim_leaks_prepare(void);

#endif /* DA_SHIM_LEAKS_H */
