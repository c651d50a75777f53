/*
 * audit/sortkey.c — see sortkey.h.
 */
#include "audit/sortkey.h"

#include <stdint.h>
#include <string.h>

/* The key of record i: its first 4 bytes (wide 0) or its first word. */
static uintptr_t
key(const unsigned char *base, size_t i, size_t size, int wide)
{
	if (wide) {
		uintptr_t k;
		memcpy(&k, base + i * size, sizeof(k));
		return k;
	}
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
sift(unsigned char *base, size_t root, size_t end, size_t size, int wide)
{
	for (size_t child; (child = 2 * root + 1) < end; root = child) {
		if (child + 1 < end && key(base, child, size, wide) <
		                               key(base, child + 1, size, wide))
			child++;
		if (key(base, root, size, wide) >= key(base, child, size, wide))
			return;
		swap(base, root, child, size);
	}
}

static void
heapsort(void *base, size_t n, size_t size, int wide)
{
	unsigned char *b = base;
	for (size_t start = n / 2; start-- > 0;)
		sift(b, start, n, size, wide);
	for (size_t end = n; end-- > 1;) {
		swap(b, 0, end, size);
		sift(b, 0, end, size, wide);
	}
}

void
da_sort_by_key(void *base, size_t n, size_t size)
{
	heapsort(base, n, size, 0);
}

void
da_sort_by_addr(void *base, size_t n, size_t size)
{
	heapsort(base, n, size, 1);
}
