/*
 * audit/sortkey.c — see sortkey.h.
 */
#include "audit/sortkey.h"

#include <stdint.h>
#include <string.h>

static uint32_t
key(const unsigned char *base, size_t i, size_t size)
{
	uint32_t k;
	memcpy(&k, base + i * size, sizeof(k));
	return k;
}

static void
swap(unsigned char *base, size_t i, size_t j, size_t size)
{
	unsigned char x[DA_SORT_RECORD_MAX];
	memcpy(x, base + i * size, size);
	memcpy(base + i * size, base + j * size, size);
	memcpy(base + j * size, x, size);
}

static void
sift(unsigned char *base, size_t root, size_t end, size_t size)
{
	for (size_t child; (child = 2 * root + 1) < end; root = child) {
		if (child + 1 < end &&
		    key(base, child, size) < key(base, child + 1, size))
			child++;
		if (key(base, root, size) >= key(base, child, size))
			return;
		swap(base, root, child, size);
	}
}

void
da_sort_by_key(void *base, size_t n, size_t size)
{
	unsigned char *b = base;
	for (size_t start = n / 2; start-- > 0;)
		sift(b, start, n, size);
	for (size_t end = n; end-- > 1;) {
		swap(b, 0, end, size);
		sift(b, 0, end, size);
	}
}
