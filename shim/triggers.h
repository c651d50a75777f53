/*
 * shim/triggers.h — the dump and leak-check triggers at start-up
 * (shim/triggers.c).
 */
#ifndef DA_SHIM_TRIGGERS_H
#define DA_SHIM_TRIGGERS_H

#include "audit/settings.h"

/* DBGALLOC_DUMP_SIGNAL, DBGALLOC_DUMP_INTERVAL and DBGALLOC_LEAKS_SIGNAL
 * (and the limit's dumps, with DBGALLOC_DUMP) handed to the dumper thread.
 * Returns 0, or -1 after writing the one line that says what is wrong.
 * Called once, from the constructor. */
int da_shim_triggers_init(const struct da_settings *s);

#endif /* DA_SHIM_TRIGGERS_H */
