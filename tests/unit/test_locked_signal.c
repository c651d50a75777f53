/*
 * A signal handler's allocation that interrupts a thread while it takes
 * every allocator lock (fork's prepare, and the stop-the-world walks and
 * leak scans that take the locks the same way) must get a block, even
 * when the lock it would need is out of reach: the interrupted thread
 * cannot let it go, and another thread holds it. The allocator gives the
 * handler a mapping of its own then (lock.h, large.c), which it can do
 * only if it sees the handler's allocation as nested in an operation.
 *
 * Here: thread H holds the chunk lock; thread T calls
 * da_heap_fork_prepare, which takes the heaps lock and waits for the chunk
 * lock; a signal to T allocates 51,200 bytes (a run of pages, which needs
 * the chunk lock) in its handler. Before the fix the handler got NULL.
 */
#include "alloc/chunk.h"
#include "alloc/heap.h"
#include "audit/audit.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static atomic_int held, release_now, handled;
static void *volatile handler_block;

static void
on_signal(int sig)
{
	(void)sig;
	handler_block = da_audit_malloc(51200, DA_CALL());
	atomic_store(&handled, 1);
}

static void *
holder(void *arg)
{
	(void)arg;
	da_lock_acquire(&da_chunk_lock);
	atomic_store(&held, 1);
	while (!atomic_load(&release_now))
		sched_yield();
	da_lock_release(&da_chunk_lock);
	return NULL;
}

static void *
taker(void *arg)
{
	(void)arg;
	da_heap_fork_prepare(); /* waits for the chunk lock */
	da_heap_fork_parent();
	return NULL;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void
handler_gets_a_block_while_locks_are_taken(void **state)
{
	(void)state;
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	pthread_t h, t;
	assert_int_equal(pthread_create(&h, NULL, holder, NULL), 0);
	while (!atomic_load(&held))
		sched_yield();
	assert_int_equal(pthread_create(&t, NULL, taker, NULL), 0);
	sleep_ms(100); /* T is waiting for the chunk lock by now */
	assert_int_equal(pthread_kill(t, SIGUSR1), 0);
	for (int i = 0; i < 5000 && !atomic_load(&handled); i++)
		sleep_ms(1);
	int done = atomic_load(&handled);
	atomic_store(&release_now, 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(pthread_join(h, NULL), 0);
	assert_true(done);
	assert_non_null(handler_block);
	memset(handler_block, 0x5a, 51200);
	da_audit_free(handler_block, DA_CALL());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(handler_gets_a_block_while_locks_are_taken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
