/*
 * realloc — growth by realloc, the way a string builder grows its buffer.
 *
 *   realloc [SCALE]    rounds = 16 × SCALE (at least 1)
 *
 * Each round grows BUFFERS buffers from 16 bytes to about 1 MiB in steps of
 * about +10 %, interleaved (buffer 0 grows one step, then buffer 1, ...), so
 * a buffer's neighbours are in the way when it wants to grow in place. Each
 * step fills the bytes it appended, as a builder appends text. At the end of
 * a round every buffer is checked at a few places (realloc must keep the
 * contents) and freed. The printed checksum depends only on the data.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/common.h"

#define BUFFERS    32
#define START_SIZE 16
#define FINAL_SIZE (1u << 20)
#define ROUNDS     16.0

struct buffer {
	unsigned char *data;
	size_t size;
	unsigned step;
};

static struct buffer buf[BUFFERS];

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL) {
		fputs("realloc: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

/* Grows b by about 10 % (at least 1 byte) and fills the new bytes. */
static void
grow(struct buffer *b, unsigned salt)
{
	size_t n = b->size + b->size / 10 + 1 + (salt & 7);

	if (n > FINAL_SIZE)
		n = FINAL_SIZE;
	b->data = xrealloc(b->data, n);
	memset(b->data + b->size, (int)(b->step & 0xff), n - b->size);
	b->size = n;
	b->step++;
}

/* Reads a few bytes that earlier steps wrote, then frees the buffer. */
static uint64_t
check_and_free(struct buffer *b)
{
	uint64_t sum = b->size;

	for (size_t at = 0; at < b->size; at += b->size / 7 + 1)
		sum = sum * 31 + b->data[at];
	sum = sum * 31 + b->data[b->size - 1];
	free(b->data);
	b->data = NULL;
	return sum;
}

int
main(int argc, char **argv)
{
	double scaled = ROUNDS * bench_scale("realloc", argc, argv);
	unsigned rounds = scaled < 1.0 ? 1 : (unsigned)(scaled + 0.5);
	uint64_t sum = 0, reallocs = 0;

	for (unsigned r = 0; r < rounds; r++) {
		unsigned growing = BUFFERS;

		for (unsigned i = 0; i < BUFFERS; i++) {
			buf[i].data = xrealloc(NULL, START_SIZE);
			memset(buf[i].data, 0xff, START_SIZE);
			buf[i].size = START_SIZE;
			buf[i].step = 0;
		}
		while (growing > 0) {
			growing = 0;
			for (unsigned i = 0; i < BUFFERS; i++) {
				if (buf[i].size >= FINAL_SIZE)
					continue;
				grow(&buf[i], i * 7 + r + buf[i].step);
				reallocs++;
				growing++;
			}
		}
		for (unsigned i = 0; i < BUFFERS; i++)
			sum = sum * 17 + check_and_free(&buf[i]);
	}
	printf("realloc %u rounds %llu reallocs checksum %llu\n", rounds,
	       (unsigned long long)reallocs, (unsigned long long)sum);
	return 0;
}
