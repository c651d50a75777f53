/*
 * tools/symmem.h — the memory helpers the offline symbolizer's files share
 * (symbols.c, symfile.c, symscope.c): a growing array and a joined string.
 * Plain malloc: tools/ runs outside the allocator.
 */
#ifndef DA_TOOLS_SYMMEM_H
#define DA_TOOLS_SYMMEM_H

#include <stddef.h>

/* Room in *v (n used of *cap elements of size sz) for one more, doubling
 * from 16: 0, or ENOMEM. Indexes are 32 bits: no array grows past that. */
int da_sym_grow(void **v, size_t *cap, size_t n, size_t sz);

/* a, b and c joined in a new string (free it), or NULL. */
char *da_sym_concat(const char *a, const char *b, const char *c);

#endif /* DA_TOOLS_SYMMEM_H */
