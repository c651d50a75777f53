/*
 * alloc/os.c — mmap, munmap and madvise behind the contract in os.h.
 */
#include "alloc/os.h"
#include "alloc/config.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

void *
da_os_map(size_t size)
{
	int saved = errno;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	errno = saved;
	return p == MAP_FAILED ? NULL : p;
}

void *
da_os_map_aligned(size_t size, size_t align)
{
	/* Try the exact size first: the kernel often hands out aligned
	 * addresses next to our previous mappings. Otherwise over-map by
	 * align and trim both ends. */
	void *p = da_os_map(size);
	if (p == NULL)
		return NULL;
	if (((uintptr_t)p & (align - 1)) == 0)
		return p;
	da_os_unmap(p, size);
	if (size + align < size)
		return NULL;
	char *raw = da_os_map(size + align);
	if (raw == NULL)
		return NULL;
	char *aligned = (char *)(((uintptr_t)raw + align - 1) & ~(align - 1));
	size_t head = (size_t)(aligned - raw);
	size_t tail = align - head;
	if (head)
		da_os_unmap(raw, head);
	if (tail)
		da_os_unmap(aligned + size, tail);
	return aligned;
}

void
da_os_unmap(void *p, size_t size)
{
	int saved = errno;
	munmap(p, size);
	errno = saved;
}

int
da_os_grow_in_place(void *p, size_t old, size_t size)
{
	int saved = errno;
	void *q = mremap(p, old, size, 0);
	errno = saved;
	return q == p;
}

void
da_os_purge(void *p, size_t size)
{
	int saved = errno;
	madvise(p, size, MADV_DONTNEED);
	errno = saved;
}

uint64_t
da_os_now_ms(void)
{
	struct timespec ts;
	int saved = errno;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	errno = saved;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
