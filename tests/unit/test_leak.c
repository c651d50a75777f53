/*
 * The leak scan's classes, on blocks allocated through the audit layer:
 * held by a global (reachable), by an interior pointer only (possibly
 * lost), dropped (definitely lost), reached only from a dropped block
 * (indirectly lost, held by the root leak), a dropped cycle, ignored.
 */
#include "audit/audit.h"
#include "audit/leak.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static void *held;
static char *inside;
static void *volatile sink;

static void *
alloc(size_t n)
{
	return da_audit_malloc(n, DA_CALL());
}

static const struct da_lblock *
find(const struct da_leak_scan *s, const void *p)
{
	long i = da_leak_find(s, (uintptr_t)p);
	return i < 0 ? NULL : &s->b[i];
}

/* Overwrites what earlier calls left below this frame. */
__attribute__((noinline)) static void
scrub(void)
{
	volatile char buf[16384];
	memset((char *)buf, 0, sizeof(buf));
	/* The compiler must not drop the stores as dead. */
	__asm__ volatile("" : : "r"(buf) : "memory");
}

struct node {
	struct node *next;
	char pad[24];
};

static void *lost_head_addr, *lost_second_addr, *cycle_a, *cycle_b;
static uintptr_t lost_plain; /* addresses kept disguised (xor) */
#define DISGUISE(p) ((uintptr_t)(p) ^ (uintptr_t)0x5a5a5a5a5a5a5a5aull)

__attribute__((noinline)) static void
make_blocks(void)
{
	held = alloc(40);
	char *in = alloc(64);
	inside = in + 8;
	lost_plain = DISGUISE(alloc(24));
	struct node *a = alloc(sizeof(*a)), *b = alloc(sizeof(*b));
	a->next = b;
	b->next = NULL;
	lost_head_addr = (void *)DISGUISE(a);
	lost_second_addr = (void *)DISGUISE(b);
	struct node *c = alloc(sizeof(*c)), *d = alloc(sizeof(*d));
	c->next = d;
	d->next = c; /* a cycle nothing else reaches */
	cycle_a = (void *)DISGUISE(c);
	cycle_b = (void *)DISGUISE(d);
	a = b = c = d = NULL;
	in = NULL;
	sink = NULL;
}

static void
classes(void **state)
{
	(void)state;
	struct da_leak_scan s;
	make_blocks();
	void *ign = alloc(32);
	*(void **)ign = alloc(48); /* held by an ignored block */
	assert_int_equal(da_audit_ignore(ign), 1);
	void *ign_child = (void *)DISGUISE(*(void **)ign);
	ign = NULL;
	scrub();
	assert_int_equal(da_leak_scan(&s), 0);
	const struct da_lblock *b;
	assert_non_null(b = find(&s, held));
	assert_int_equal(b->cls, DA_LEAK_REACHABLE);
	assert_int_equal(b->size, 40);
	assert_non_null(b = find(&s, inside));
	assert_int_equal(b->cls, DA_LEAK_POSSIBLE);
	assert_non_null(b = find(&s, (void *)DISGUISE(lost_plain)));
	assert_int_equal(b->cls, DA_LEAK_DEFINITE);
	assert_int_equal(b->held_blocks, 0);
	assert_non_null(b = find(&s, (void *)DISGUISE(lost_head_addr)));
	assert_int_equal(b->cls, DA_LEAK_DEFINITE);
	assert_int_equal(b->held_blocks, 1);
	assert_int_equal(b->held_bytes, sizeof(struct node));
	assert_non_null(b = find(&s, (void *)DISGUISE(lost_second_addr)));
	assert_int_equal(b->cls, DA_LEAK_INDIRECT);
	/* A lost cycle: one leader, holding the other. */
	const struct da_lblock *x = find(&s, (void *)DISGUISE(cycle_a));
	const struct da_lblock *y = find(&s, (void *)DISGUISE(cycle_b));
	assert_non_null(x);
	assert_non_null(y);
	assert_int_equal(x->cls + y->cls, DA_LEAK_DEFINITE + DA_LEAK_INDIRECT);
	assert_int_equal(x->held_blocks + y->held_blocks, 1);
	assert_non_null(b = find(&s, (void *)DISGUISE(ign_child)));
	assert_int_equal(b->cls, DA_LEAK_REACHABLE);
	da_leak_scan_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
