/*
 * tools/dumpmodel.h — growing the model of a dump, for the reader
 * (tools/dumpread.c) only; dump.h declares the lookups and da_dump_free,
 * which tools/dumpmodel.c defines too.
 */
#ifndef DA_TOOLS_DUMPMODEL_H
#define DA_TOOLS_DUMPMODEL_H

#include "tools/dump.h"

/*
 * Makes room for add more elements of size bytes after the n in *arr,
 * which was only ever grown by this function. Returns 0 or ENOMEM.
 */
int da_dump_reserve(void **arr, size_t n, size_t add, size_t size);

/* Adds stacks[i] or modules[i], id in place, to its index. 0 or ENOMEM. */
int da_dump_index_stack(struct da_dump *d, size_t i);
int da_dump_index_module(struct da_dump *d, size_t i);

#endif
