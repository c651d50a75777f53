/*
 * xclass — a producer and a consumer moving through the size classes:
 * memory that one thread allocates and another frees must come back, or
 * each size class keeps its own peak and the heap grows with every class.
 *
 *   xclass [SCALE]     live set = 32 MiB × SCALE (at least 1 MiB)
 *
 * Round r: the main thread allocates a live set's worth of blocks of size
 * SIZES[r] and writes each; a second thread reads and frees them all; the
 * next round takes the next size (16 B to 32 KiB, 40 sizes). The peak RSS
 * is the figure to watch: a heap that returns what was freed stays near one
 * live set, one that does not ends near forty.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/common.h"

static const size_t sizes[] = {
        16,   32,   48,    64,    80,    96,    112,   128,   160,   192,
        224,  256,  320,   384,   448,   512,   640,   768,   896,   1024,
        1280, 1536, 1792,  2048,  2560,  3072,  3584,  4096,  5120,  6144,
        7168, 8192, 10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768,
};

static unsigned char **blocks;
static size_t nblocks, block_size;
static uint64_t sum;

static void *
consume(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < nblocks; i++) {
		sum += blocks[i][0] + blocks[i][block_size - 1];
		free(blocks[i]);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	double scale = bench_scale("xclass", argc, argv);
	size_t live = (size_t)(32.0 * scale * (1 << 20));
	if (live < (1u << 20))
		live = 1u << 20;
	blocks = malloc(live / 16 * sizeof(*blocks));
	if (blocks == NULL)
		return 1;
	for (size_t r = 0; r < sizeof(sizes) / sizeof(sizes[0]); r++) {
		block_size = sizes[r];
		nblocks = live / block_size;
		for (size_t i = 0; i < nblocks; i++) {
			blocks[i] = malloc(block_size);
			if (blocks[i] == NULL)
				return 1;
			memset(blocks[i], (int)(r + i), block_size);
		}
		pthread_t t;
		if (pthread_create(&t, NULL, consume, NULL) != 0 ||
		    pthread_join(t, NULL) != 0)
			return 1;
	}
	free(blocks);
	printf("xclass %zu MiB live, %zu sizes, checksum %llu\n", live >> 20,
	       sizeof(sizes) / sizeof(sizes[0]), (unsigned long long)sum);
	return 0;
}
