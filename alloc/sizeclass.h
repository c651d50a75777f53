/*
 * alloc/sizeclass.h — the size classes of small and medium blocks.
 *
 *   class   0..7    16 ... 128     steps of 16 (the alignment quantum)
 *   class   8..71   144 ... 32768  8 classes per doubling: step = 1/8 of
 *                                  the power of two below, so no class is
 *                                  more than 12.5 % above the one before
 *
 * Classes up to DA_SMALL_MAX (class 31, 1 KiB) live in 64 KiB slabs, the
 * rest in 512 KiB slabs. Every class size is a multiple of 16, so every
 * block of a slab whose first block is 16-aligned is 16-aligned.
 */
#ifndef DA_ALLOC_SIZECLASS_H
#define DA_ALLOC_SIZECLASS_H

#include "alloc/config.h"

#include <stddef.h>
#include <stdint.h>

#define DA_NCLASSES      72
#define DA_SMALL_CLASSES 32 /* classes 0..31 are <= DA_SMALL_MAX */

extern const uint32_t da_class_size[DA_NCLASSES];
extern const uint8_t da_small_class[DA_SMALL_MAX / 16 + 1];

/*
 * The class of a request of size bytes, 0 < size <= DA_MEDIUM_MAX (size 0
 * is served as 1). About 3 instructions below 1 KiB (a table), 6 above.
 */
DA_INLINE unsigned
da_class_of(size_t size)
{
	if (da_likely(size <= DA_SMALL_MAX))
		return da_small_class[(size + 15) >> 4];
	size_t s = size - 1;
	unsigned k = 63u - (unsigned)__builtin_clzl(s);
	return 8 + (k - 7) * 8 + (unsigned)((s >> (k - 3)) & 7);
}

/* Slab geometry of a class: units, blocks, and the live-map length. */
struct da_class_geom {
	uint32_t units;    /* 64 KiB units per slab */
	uint32_t capacity; /* blocks per slab */
	uint32_t map_len;  /* live-map bytes in front of the blocks */
	uint64_t recip;    /* ceil(2^48 / size): offset -> block index */
};

/* Fills g for class c. May allocate: no. */
void da_class_geom(unsigned c, struct da_class_geom *g);

#endif /* DA_ALLOC_SIZECLASS_H */
