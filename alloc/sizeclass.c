/*
 * alloc/sizeclass.c — the class tables and slab geometry (layout described
 * in sizeclass.h).
 */
#include "alloc/sizeclass.h"

const uint32_t da_class_size[DA_NCLASSES] = {
        16,    32,    48,    64,    80,    96,    112,   128,   144,
        160,   176,   192,   208,   224,   240,   256,   288,   320,
        352,   384,   416,   448,   480,   512,   576,   640,   704,
        768,   832,   896,   960,   1024,  1152,  1280,  1408,  1536,
        1664,  1792,  1920,  2048,  2304,  2560,  2816,  3072,  3328,
        3584,  3840,  4096,  4608,  5120,  5632,  6144,  6656,  7168,
        7680,  8192,  9216,  10240, 11264, 12288, 13312, 14336, 15360,
        16384, 18432, 20480, 22528, 24576, 26624, 28672, 30720, 32768,
};

/* da_small_class[(size + 15) / 16] for size <= 1024. */
const uint8_t da_small_class[DA_SMALL_MAX / 16 + 1] = {
        0,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
        16, 16, 17, 17, 18, 18, 19, 19, 20, 20, 21, 21, 22, 22, 23, 23, 24,
        24, 24, 24, 25, 25, 25, 25, 26, 26, 26, 26, 27, 27, 27, 27, 28, 28,
        28, 28, 29, 29, 29, 29, 30, 30, 30, 30, 31, 31, 31, 31,
};

void
da_class_geom(unsigned c, struct da_class_geom *g)
{
	uint32_t size = da_class_size[c];
	uint32_t units =
	        size <= DA_SMALL_MAX ? DA_SMALL_UNITS : DA_MEDIUM_UNITS;
	uint32_t bytes = units * (uint32_t)DA_UNIT_SIZE;
	/* One live-map byte per 16 bytes of block area: a map of
	 * bytes/17 (rounded up to 16, so the area stays aligned) covers
	 * the rest of the slab. */
	uint32_t map_len = (bytes / 17 + 15) & ~15u;
	g->units = units;
	g->map_len = map_len;
	g->capacity = (bytes - map_len) / size;
	g->recip = (((uint64_t)1 << 48) + size - 1) / size;
}
