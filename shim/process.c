/*
 * shim/process.c — process-level concerns: fork.
 *
 * The allocator needs no initialisation before its first call (its state is
 * static and lazily built), so allocations made by ld.so, libc and other
 * constructors before ours are served normally (PITFALLS 1, 2). What must
 * be set up is fork handling: a constructor registers handlers that take
 * every allocator lock before fork and release or reset them after, so a
 * child of a multithreaded program inherits consistent heaps (PITFALLS 5).
 */
#include "audit/audit.h"

#include <pthread.h>

__attribute__((constructor(101))) static void
da_shim_init(void)
{
	pthread_atfork(da_audit_fork_prepare, da_audit_fork_parent,
	               da_audit_fork_child);
}
