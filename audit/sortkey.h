/*
 * audit/sortkey.h — sorting small records by the key each begins with (a
 * site's or a stack's 32-bit id, or an address), inside the allocator:
 * heapsort, in place, no recursion and no memory (libc's qsort may
 * allocate).
 */
#ifndef DA_AUDIT_SORTKEY_H
#define DA_AUDIT_SORTKEY_H

#include <stddef.h>

/* The largest record da_sort_by_key sorts. */
#define DA_SORT_RECORD_MAX 128

/* Sorts the n records of size bytes at base by their first 4 bytes, read
 * as a uint32_t, smallest first. size is at most DA_SORT_RECORD_MAX. */
void da_sort_by_key(void *base, size_t n, size_t size);

/* The same by their first word, read as a uintptr_t (an address). */
void da_sort_by_addr(void *base, size_t n, size_t size);

#endif /* DA_AUDIT_SORTKEY_H */
