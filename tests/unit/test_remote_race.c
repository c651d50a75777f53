/*
 * The remote-free protocol (alloc/heap.h) under forced interleavings: a
 * test build of alloc/ (DA_TEST_HOOKS) stops a thread's remote free right
 * after its CAS, as a preemption might, while the owner does what it may.
 *
 *  - A free that found its slab unarmed must touch nothing after the CAS:
 *    the owner collects the block, releases the slab, and the slab's
 *    metadata page is made inaccessible before the freer goes on.
 *  - A free that found its slab armed is inside its notification window:
 *    the owner must not release the slab, however empty, until it ends;
 *    then the owner's next drain releases it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <semaphore.h>
#include <sys/mman.h>

#include "alloc/alloc.h"

static sem_t at_hook, go_on, freed;
static struct da_slab *hooked;
static int hooked_notifying;
static _Atomic int hook_armed;

void da_test_hook_remote_freed(struct da_slab *s, int notifying);

void
da_test_hook_remote_freed(struct da_slab *s, int notifying)
{
	if (!atomic_exchange(&hook_armed, 0))
		return;
	hooked = s;
	hooked_notifying = notifying;
	sem_post(&at_hook);
	while (sem_wait(&go_on) != 0)
		;
}

static void *
free_one(void *p)
{
	struct da_block bad;
	int rc = da_alloc_free(p, &bad);
	sem_post(&freed);
	return (void *)(intptr_t)rc;
}

static struct da_slab *
slab_of(void *p)
{
	return da_chunk_slab_at(da_pagemap_find(p), p);
}

static void
setup_sems(void)
{
	sem_init(&at_hook, 0, 0);
	sem_init(&go_on, 0, 0);
	sem_init(&freed, 0, 0);
}

/* The freed block is the last of a slab that is not armed (the owner's
 * current slab): between the freer's CAS and its return, the owner
 * releases the slab and its metadata becomes unreadable. */
static void
unarmed_free_touches_nothing_after_its_cas(void **state)
{
	(void)state;
	setup_sems();
	void *p = da_alloc_malloc(48);
	struct da_slab *s = slab_of(p);
	assert_ptr_equal(s, da_tls_heap->cur[da_class_of(48)]);
	assert_int_equal(s->used, 1); /* p is its only block */
	atomic_store(&hook_armed, 1);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, free_one, p), 0);
	while (sem_wait(&at_hook) != 0)
		;
	assert_ptr_equal(hooked, s);
	assert_int_equal(hooked_notifying, 0);
	/* The owner takes the block back and gives the slab up. */
	da_alloc_trim();
	assert_int_equal(s->kind, DA_SLAB_NONE);
	/* The chunk's metadata (where the slab record lives) goes away as
	 * far as the freer can tell: any read of it now faults. */
	void *meta = da_slab_chunk(s);
	assert_int_equal(mprotect(meta, DA_UNIT_SIZE, PROT_NONE), 0);
	sem_post(&go_on);
	while (sem_wait(&freed) != 0)
		;
	assert_int_equal(mprotect(meta, DA_UNIT_SIZE, PROT_READ | PROT_WRITE),
	                 0);
	void *rc;
	assert_int_equal(pthread_join(t, &rc), 0);
	assert_int_equal((intptr_t)rc, DA_FREE_OK);
}

/* The freed block belongs to a full slab (armed): the freer is inside its
 * notification window. The owner frees every other block of the slab,
 * and trims: the slab stays until the window ends; the drain after it
 * gives the slab back. */
static void
armed_slab_is_kept_through_the_window(void **state)
{
	(void)state;
	enum { MAX = 4096 };
	static void *blocks[MAX];
	setup_sems();
	unsigned c = da_class_of(1000);
	int n = 0;
	/* Fill the current slab and one more, so the first is full. */
	struct da_slab *first = NULL;
	while (n < MAX) {
		blocks[n] = da_alloc_malloc(1000);
		struct da_slab *s = slab_of(blocks[n]);
		n++;
		if (first == NULL)
			first = s;
		else if (s != first)
			break;
	}
	assert_true(n < MAX);
	assert_ptr_not_equal(da_tls_heap->cur[c], first);
	assert_true(atomic_load(&first->thread_free) & DA_TF_ARMED);
	void *victim = blocks[0];
	atomic_store(&hook_armed, 1);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, free_one, victim), 0);
	while (sem_wait(&at_hook) != 0)
		;
	assert_ptr_equal(hooked, first);
	assert_int_equal(hooked_notifying, 1);
	/* Every other block of the slab goes back, then a trim. */
	struct da_block bad;
	for (int i = 1; i < n - 1; i++)
		assert_int_equal(da_alloc_free(blocks[i], &bad), DA_FREE_OK);
	da_alloc_trim();
	assert_int_equal(first->kind, DA_SLAB_CLASS);
	assert_ptr_equal(atomic_load(&first->owner), da_tls_heap);
	sem_post(&go_on);
	while (sem_wait(&freed) != 0)
		;
	void *rc;
	assert_int_equal(pthread_join(t, &rc), 0);
	assert_int_equal((intptr_t)rc, DA_FREE_OK);
	assert_int_equal(atomic_load(&first->thread_free) & DA_TF_NOTIFY, 0);
	/* Now the owner's drain sees it empty and releases it. */
	da_alloc_trim();
	assert_true(first->kind != DA_SLAB_CLASS || first->cls != c ||
	            atomic_load(&first->owner) != da_tls_heap ||
	            first->used != 0);
	assert_int_equal(da_alloc_free(blocks[n - 1], &bad), DA_FREE_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(unarmed_free_touches_nothing_after_its_cas),
	        cmocka_unit_test(armed_slab_is_kept_through_the_window),
	};
	return cmocka_run_group_tests_name("remote_race", tests, NULL, NULL);
}
