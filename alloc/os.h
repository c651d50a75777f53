/*
 * alloc/os.h — the contract between dbgalloc and the kernel.
 *
 * Every function here:
 *   - may not allocate (it is what allocation stands on);
 *   - preserves errno (free() must, PITFALLS 21), reporting failure only by
 *     its return value;
 *   - is async-signal-safe (plain system calls).
 */
#ifndef DA_ALLOC_OS_H
#define DA_ALLOC_OS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Maps size bytes of fresh zeroed read-write memory whose address is a
 * multiple of align (a power of two, at least the page size). size is a
 * multiple of the page size. Returns NULL if the kernel refuses.
 */
void *da_os_map_aligned(size_t size, size_t align);

/* Maps size bytes anywhere (metadata). NULL if the kernel refuses. */
void *da_os_map(size_t size);

/* Returns [p, p+size) to the kernel. Both page-aligned. */
void da_os_unmap(void *p, size_t size);

/* Grows the mapping [p, p+old) to [p, p+size) where it is (mremap without
 * MREMAP_MAYMOVE). 1 if it did, 0 if the space after it is taken. */
int da_os_grow_in_place(void *p, size_t old, size_t size);

/* Shrinks the mapping [p, p+old) to [p, p+size) in place. 1 if it did. */
int da_os_shrink(void *p, size_t old, size_t size);

/* Reserves size bytes of address space (no access, no commit) at a
 * multiple of align. NULL if the kernel refuses. */
void *da_os_reserve_aligned(size_t size, size_t align);

/* Moves the mapping [p, p+old) onto the reservation [to, to+size), taking
 * its pages along and growing it to size (mremap MREMAP_FIXED). Returns to,
 * or NULL (nothing changed). */
void *da_os_move(void *p, size_t old, void *to, size_t size);

/* The same, with MAP_NORESERVE: parts of it made writable later
 * (da_os_protect) are not charged to the commit limit. For guard-page
 * space, which is mostly guard pages and pages that are never touched. */
void *da_os_reserve_noreserve(size_t size, size_t align);

/* Makes [p, p+size) read-write (access 1) or inaccessible (access 0):
 * mprotect. Returns 0 or the errno value. */
int da_os_protect(void *p, size_t size, int access);

/* madvise(p, size, advice), retried after EINTR and EAGAIN (which a guard
 * install racing a fault may return). Returns 0 or the errno value. */
int da_os_advise(void *p, size_t size, int advice);

/* process_madvise(pidfd, iov, n, advice, 0) (struct iovec *iov): the
 * bytes advised, or minus the errno value. */
struct iovec;
long da_os_advise_vec(int pidfd, const struct iovec *iov, unsigned n,
                      int advice);

/* A pidfd for the calling process (pidfd_open), or minus the errno
 * value. */
int da_os_pidfd_self(void);

/* Closes fd. */
void da_os_close(int fd);

/* The process id (getpid, uncached). */
int da_os_getpid(void);

/* The unsigned decimal number at the start of file path (a /proc or /sys
 * setting), or -1 if it cannot be read. Raw system calls: no allocation. */
long da_os_read_number(const char *path);

/*
 * Gives the physical pages of [p, p+size) back while keeping the range
 * mapped; later reads see zeros (MADV_DONTNEED on private anonymous memory).
 */
void da_os_purge(void *p, size_t size);

/*
 * Writes all of buf to fd, retrying after EINTR. Not a cancellation point
 * (a raw system call, unlike write(2)): a report from a thread with a
 * pending cancellation is written whole, and the abort that follows it
 * happens (PITFALLS 13).
 */
void da_os_write(int fd, const void *buf, size_t len);

/* The number of threads in the process (/proc/self/stat), or -1 if it
 * cannot be read. Raw system calls: no allocation, no cancellation point. */
int da_os_thread_count(void);

/* A coarse monotonic clock in milliseconds (vDSO, no system call). */
uint64_t da_os_now_ms(void);

#endif /* DA_ALLOC_OS_H */
