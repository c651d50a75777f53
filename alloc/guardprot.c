/*
 * alloc/guardprot.c — the guard mechanisms behind guardprot.h: probing the
 * kernel, and batching madvise guard changes through process_madvise.
 *
 * A batch names the process by a pidfd: PIDFD_SELF (Linux >= 6.15), which
 * costs no file descriptor; else one pidfd_open'ed at start-up. That one
 * stays open for the life of the process (close-on-exec, as every pidfd):
 * a fork child, whose copy names its parent, opens its own; a program that
 * closed it (EBADF) gets another. The old one is never closed by us: its
 * number may be the program's by then. Where neither works, each range
 * gets its own madvise.
 */
#include "alloc/guardprot.h"
#include "alloc/config.h"
#include "alloc/os.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/uio.h>

/* Not in every system's headers yet (Linux 6.13). */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE 103
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
#define DA_PIDFD_SELF (-10001) /* PIDFD_SELF_THREAD_GROUP, Linux 6.15 */
#define DA_PIDFD_NONE (-1)     /* no batches: one madvise per range */

unsigned da_guardprot_mech;
size_t da_guardprot_max_maps = 65530;
_Atomic(uint64_t) da_guardprot_calls;
_Atomic(uint64_t) da_guardprot_populated;

static _Atomic(int) vec_fd = DA_PIDFD_NONE;
static _Atomic(int) vec_pid; /* the process vec_fd names, if an fd */

/* 1 if fd takes a batch of this process (tried on [p, p+DA_PAGE)). */
static int
vec_works(int fd, void *p)
{
	struct iovec v = {p, DA_PAGE};
	return da_os_advise_vec(fd, &v, 1, MADV_GUARD_REMOVE) == DA_PAGE;
}

/* A new pidfd for this process into vec_fd; the fd or DA_PIDFD_NONE. */
static int
vec_reopen(void)
{
	int fd = da_os_pidfd_self();
	if (fd < 0)
		fd = DA_PIDFD_NONE;
	atomic_store_explicit(&vec_pid, da_os_getpid(), memory_order_relaxed);
	atomic_store_explicit(&vec_fd, fd, memory_order_release);
	return fd;
}

void
da_guardprot_init(int force_mprotect)
{
	long maps = da_os_read_number("/proc/sys/vm/max_map_count");
	if (maps > 0)
		da_guardprot_max_maps = (size_t)maps;
	da_guardprot_mech = DA_GUARD_MECH_MPROTECT;
	if (force_mprotect)
		return;
	void *p = da_os_map(DA_PAGE);
	if (p == NULL)
		return;
	if (da_os_advise(p, DA_PAGE, MADV_GUARD_INSTALL) == 0) {
		da_guardprot_mech = DA_GUARD_MECH_MADVISE;
		if (vec_works(DA_PIDFD_SELF, p)) {
			atomic_store(&vec_fd, DA_PIDFD_SELF);
		} else {
			int fd = vec_reopen();
			if (fd >= 0 && !vec_works(fd, p)) {
				da_os_close(fd);
				atomic_store(&vec_fd, DA_PIDFD_NONE);
			}
		}
	}
	da_os_unmap(p, DA_PAGE);
}

void
da_guardprot_fork_child(void)
{
	int fd = atomic_load_explicit(&vec_fd, memory_order_relaxed);
	if (fd >= 0)
		vec_reopen();
}

int
da_guardprot_prepare(void *p, size_t len)
{
	if (da_guardprot_mech != DA_GUARD_MECH_MADVISE)
		return 0;
	atomic_fetch_add_explicit(&da_guardprot_calls, 1, memory_order_relaxed);
	return da_os_protect(p, len, 1);
}

/* One range, one system call. */
static int
change_one(void *p, size_t len, int open)
{
	atomic_fetch_add_explicit(&da_guardprot_calls, 1, memory_order_relaxed);
	if (da_guardprot_mech == DA_GUARD_MECH_MADVISE)
		return da_os_advise(
		        p, len, open ? MADV_GUARD_REMOVE : MADV_GUARD_INSTALL);
	return da_os_protect(p, len, open);
}

int
da_guardprot_close(void *p, size_t len)
{
	return change_one(p, len, 0);
}

/* Up to DA_GUARD_BATCH ranges in one process_madvise: 1 if they all were
 * done (a partial batch is redone range by range: both advices may be
 * given twice). */
static int
change_batch(const struct da_guard_range *r, unsigned n, int advice)
{
	struct iovec v[DA_GUARD_BATCH];
	size_t total = 0;
	for (unsigned i = 0; i < n; i++) {
		v[i].iov_base = r[i].p;
		v[i].iov_len = r[i].len;
		total += r[i].len;
	}
	for (int tries = 0; tries < 2; tries++) {
		int fd = atomic_load_explicit(&vec_fd, memory_order_acquire);
		if (fd == DA_PIDFD_NONE)
			return 0;
		/* A fork child that has not run its handler (a raw fork, a
		 * signal handler's) holds its parent's pidfd. */
		if (fd >= 0 &&
		    atomic_load_explicit(&vec_pid, memory_order_relaxed) !=
		            da_os_getpid())
			fd = vec_reopen();
		if (fd == DA_PIDFD_NONE)
			return 0;
		atomic_fetch_add_explicit(&da_guardprot_calls, 1,
		                          memory_order_relaxed);
		long rc = da_os_advise_vec(fd, v, n, advice);
		if (rc >= 0 && (size_t)rc == total)
			return 1;
		if (rc != -EBADF || fd < 0)
			return 0;
		vec_reopen(); /* the program closed it */
	}
	return 0;
}

static int
change_many(const struct da_guard_range *r, unsigned n, int open)
{
	int err = 0;
	int advice = open ? MADV_GUARD_REMOVE : MADV_GUARD_INSTALL;
	while (n > 0) {
		unsigned m = n < DA_GUARD_BATCH ? n : DA_GUARD_BATCH;
		if (da_guardprot_mech != DA_GUARD_MECH_MADVISE ||
		    !change_batch(r, m, advice)) {
			for (unsigned i = 0; i < m; i++) {
				int e = change_one(r[i].p, r[i].len, open);
				if (e != 0 && err == 0)
					err = e;
			}
		}
		r += m;
		n -= m;
	}
	return err;
}

int
da_guardprot_close_many(const struct da_guard_range *r, unsigned n)
{
	return change_many(r, n, 0);
}

int
da_guardprot_open_many(const struct da_guard_range *r, unsigned n)
{
	return change_many(r, n, 1);
}

void
da_guardprot_populate_many(const struct da_guard_range *r, unsigned n)
{
	if (da_guardprot_mech != DA_GUARD_MECH_MADVISE)
		return;
	while (n > 0) {
		unsigned m = n < DA_GUARD_BATCH ? n : DA_GUARD_BATCH;
		/* A kernel that refuses the advice through process_madvise
		 * leaves the pages to fault in one by one, as they would. */
		if (change_batch(r, m, MADV_POPULATE_WRITE))
			atomic_fetch_add_explicit(&da_guardprot_populated, m,
			                          memory_order_relaxed);
		r += m;
		n -= m;
	}
}
