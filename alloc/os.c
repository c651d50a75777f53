/*
 * alloc/os.c — mmap, munmap and madvise behind the contract in os.h.
 */
#include "alloc/os.h"
#include "alloc/config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* No MAP_NORESERVE: the kernel's overcommit policy decides, as it does for
 * glibc's mmap, so an impossible request fails here with ENOMEM instead of
 * being granted and OOM-killing the program later. */
static void *
map_prot(size_t size, int prot)
{
	int saved = errno;
	void *p = mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	errno = saved;
	return p == MAP_FAILED ? NULL : p;
}

/* Maps size bytes with prot at a multiple of align: the exact size first
 * (the kernel often places it next to an earlier aligned mapping), else
 * over-map by align and trim both ends. */
static void *
map_aligned_prot(size_t size, size_t align, int prot)
{
	void *p = map_prot(size, prot);
	if (p == NULL)
		return NULL;
	if (((uintptr_t)p & (align - 1)) == 0)
		return p;
	da_os_unmap(p, size);
	if (size + align < size)
		return NULL;
	char *raw = map_prot(size + align, prot);
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

void *
da_os_map(size_t size)
{
	return map_prot(size, PROT_READ | PROT_WRITE);
}

void *
da_os_reserve_aligned(size_t size, size_t align)
{
	return map_aligned_prot(size, align, PROT_NONE);
}

void *
da_os_reserve_noreserve(size_t size, size_t align)
{
	int saved = errno;
	char *raw = mmap(NULL, size + align, PROT_NONE,
	                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	errno = saved;
	if (size + align < size || raw == MAP_FAILED)
		return NULL;
	char *aligned = (char *)(((uintptr_t)raw + align - 1) & ~(align - 1));
	size_t head = (size_t)(aligned - raw);
	if (head)
		da_os_unmap(raw, head);
	da_os_unmap(aligned + size, align - head);
	return aligned;
}

int
da_os_protect(void *p, size_t size, int access)
{
	int saved = errno;
	int rc = mprotect(p, size, access ? PROT_READ | PROT_WRITE : PROT_NONE);
	int err = rc == 0 ? 0 : errno;
	errno = saved;
	return err;
}

int
da_os_advise(void *p, size_t size, int advice)
{
	int saved = errno, err = 0;
	for (int tries = 0; tries < 1000; tries++) {
		err = madvise(p, size, advice) == 0 ? 0 : errno;
		if (err != EINTR && err != EAGAIN)
			break;
	}
	errno = saved;
	return err;
}

long
da_os_advise_vec(int pidfd, const struct iovec *iov, unsigned n, int advice)
{
	int saved = errno;
	long rc =
	        syscall(SYS_process_madvise, pidfd, iov, (size_t)n, advice, 0u);
	if (rc < 0)
		rc = -(long)errno;
	errno = saved;
	return rc;
}

int
da_os_pidfd_self(void)
{
	int saved = errno;
	long fd = syscall(SYS_pidfd_open, (long)syscall(SYS_getpid), 0u);
	if (fd < 0)
		fd = -(long)errno;
	errno = saved;
	return (int)fd;
}

void
da_os_close(int fd)
{
	int saved = errno;
	syscall(SYS_close, fd);
	errno = saved;
}

int
da_os_getpid(void)
{
	return (int)syscall(SYS_getpid);
}

long
da_os_read_number(const char *path)
{
	char buf[32];
	int saved = errno;
	long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	long n = fd < 0 ? -1 : syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		syscall(SYS_close, fd);
	errno = saved;
	if (n <= 0 || buf[0] < '0' || buf[0] > '9')
		return -1;
	long v = 0;
	for (long i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (v > (LONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (buf[i] - '0');
	}
	return v;
}

/* Resizes [p, p+old) to size where it is. 1 if it did. */
static int
remap_in_place(void *p, size_t old, size_t size)
{
	int saved = errno;
	void *q = mremap(p, old, size, 0);
	errno = saved;
	return q == p;
}

int
da_os_shrink(void *p, size_t old, size_t size)
{
	return remap_in_place(p, old, size);
}

void *
da_os_move(void *p, size_t old, void *to, size_t size)
{
	int saved = errno;
	void *q = mremap(p, old, size, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	errno = saved;
	return q == MAP_FAILED ? NULL : q;
}

void *
da_os_map_aligned(size_t size, size_t align)
{
	return map_aligned_prot(size, align, PROT_READ | PROT_WRITE);
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
	return remap_in_place(p, old, size);
}

void
da_os_purge(void *p, size_t size)
{
	int saved = errno;
	madvise(p, size, MADV_DONTNEED);
	errno = saved;
}

void
da_os_write(int fd, const void *buf, size_t len)
{
	int saved = errno;
	size_t off = 0;
	while (off < len) {
		long n = syscall(SYS_write, fd, (const char *)buf + off,
		                 len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	errno = saved;
}

int
da_os_thread_count(void)
{
	char buf[1024];
	int saved = errno;
	long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/stat",
	                  O_RDONLY | O_CLOEXEC);
	long n = fd < 0 ? -1 : syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		syscall(SYS_close, fd);
	errno = saved;
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": num_threads is the 20th field; comm
	 * may hold spaces and parentheses, so count from the last ')'. */
	char *q = strrchr(buf, ')');
	if (q == NULL)
		return -1;
	for (int field = 2; field < 20; field++) {
		q = strchr(q + 1, ' ');
		if (q == NULL)
			return -1;
	}
	int count = 0;
	for (q++; *q >= '0' && *q <= '9'; q++)
		count = count * 10 + (*q - '0');
	return count;
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

/* Writes "dbgalloc: internal error: FILE:LINE: EXPR" and aborts. Uses no
 * stdio and no allocation: the allocator itself is what failed. */
void
da_os_assert_failed(const char *file, int line, const char *expr)
{
	char buf[512], num[16];
	size_t len = 0;
	char *q = num + sizeof(num);
	*--q = '\0';
	do
		*--q = (char)('0' + line % 10);
	while ((line /= 10) > 0 && q > num);
	const char *parts[6] = {
	        "dbgalloc: internal error: ", file, ":", q, ": ", expr};
	for (int n = 0; n < 6; n++) {
		size_t k = strlen(parts[n]);
		if (k > sizeof(buf) - 1 - len)
			k = sizeof(buf) - 1 - len;
		memcpy(buf + len, parts[n], k);
		len += k;
	}
	buf[len++] = '\n';
	da_os_write(2, buf, len);
	abort();
}
