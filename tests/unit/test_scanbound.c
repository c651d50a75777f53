/*
 * The scan bound (audit/scanbound.h) and the scan of the calling thread's
 * stack it bounds (audit/leak.c): the outermost entry's bound is kept and
 * cleared when it returns; a pointer in a frame below the bound (one of
 * dbgalloc's, as far as the scan knows) does not keep a block, one in a
 * frame above it or in a callee-saved register of the caller does; a
 * thread marked as dbgalloc's own has none of its stack scanned. Other
 * threads, stopped while one scans: the same, from the bound each had when
 * it stopped (audit/stop.h).
 *
 * The blocks' addresses are kept disguised (xor), and the stack below the
 * test's frame zeroed before each scan, so that the only copy of a
 * pointer is the one a test plants.
 */
#include "audit/audit.h"
#include "audit/leak.h"
#include "audit/scanbound.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define KEY         ((uintptr_t)0x5a5a5a5a5a5a5a5aull)
#define DISGUISE(p) ((uintptr_t)(p) ^ KEY)

static uintptr_t blk; /* the block under test, disguised */

/* Overwrites what earlier calls left below this frame. */
__attribute__((noinline)) static void
scrub(void)
{
	volatile char buf[16384];
	memset((char *)buf, 0, sizeof(buf));
	__asm__ volatile("" : : "r"(buf) : "memory");
}

/* A new block for each test, never freed: a freed one's address, which the
 * next block could reuse, is left in stacks that later threads reuse. */
__attribute__((noinline)) static void
make_block(void)
{
	blk = DISGUISE(da_audit_malloc(72, DA_CALL()));
}

/* The class the scan gives the block, from a fresh scan. */
__attribute__((noinline)) static int
verdict(void)
{
	struct da_leak_scan s;
	if (da_leak_scan(&s) != 0)
		return -1;
	long i = da_leak_find(&s, DISGUISE(blk));
	int cls = i < 0 ? -1 : s.b[i].cls;
	da_leak_scan_free(&s);
	return cls;
}

/* Calls fn with the block held in a local of this frame, its one copy,
 * dropped when fn returns. */
__attribute__((noinline)) static void
hold_during(void (*fn)(void))
{
	void *volatile held[8];
	memset((void *)held, 0, sizeof(held));
	held[3] = (void *)DISGUISE(blk);
	fn();
	held[3] = NULL;
}

/* --- The bound: the outermost entry's, cleared when it returns. --- */

static uintptr_t outer_fp, outer_bound, inner_bound, after_inner;
static int outer_entered, inner_entered;

__attribute__((noinline)) static void
inner_entry(void)
{
	DA_SCAN_ENTER(entered);
	inner_entered = entered;
	inner_bound = da_scan_bound();
	DA_SCAN_LEAVE(entered);
}

__attribute__((noinline)) static void
outer_entry(void)
{
	DA_SCAN_ENTER(entered);
	outer_entered = entered;
	outer_fp = (uintptr_t)__builtin_frame_address(0);
	outer_bound = da_scan_bound();
	inner_entry();
	after_inner = da_scan_bound();
	DA_SCAN_LEAVE(entered);
}

static void
outermost_entry_keeps_its_bound(void **state)
{
	(void)state;
	assert_int_equal(da_scan_bound(), 0);
	outer_entry();
	assert_int_equal(outer_entered, 1);
	assert_int_equal(outer_bound, outer_fp - DA_SCAN_SAVED);
	/* The inner entry's frame lies below: it keeps the outer bound. */
	assert_int_equal(inner_entered, 0);
	assert_int_equal(inner_bound, outer_bound);
	assert_int_equal(after_inner, outer_bound);
	assert_int_equal(da_scan_bound(), 0);
}

static void
stale_bound_is_replaced(void **state)
{
	(void)state;
	/* An entry left by a longjmp never cleared its bound, which lies
	 * below any later entry's frame: that entry takes its place. */
	assert_int_equal(da_scan_bound_enter(1000), 1);
	assert_int_equal(da_scan_bound_enter(900), 0);
	assert_int_equal(da_scan_bound(), 1000);
	assert_int_equal(da_scan_bound_enter(2000), 1);
	assert_int_equal(da_scan_bound(), 2000);
	da_scan_bound_leave(0);
	assert_int_equal(da_scan_bound(), 2000);
	da_scan_bound_leave(1);
	assert_int_equal(da_scan_bound(), 0);
}

/* --- What the scan of this thread's stack reads. --- */

static int held_cls;

__attribute__((noinline)) static void
scan_to_held_cls(void)
{
	held_cls = verdict();
}

/* A frame below the caller's holds the block while the scan runs. */
__attribute__((noinline)) static int
verdict_with_local_below(void)
{
	hold_during(scan_to_held_cls);
	return held_cls;
}

static int below_cls;

__attribute__((noinline)) static void
entry_then_local_below(void)
{
	DA_SCAN_ENTER(entered);
	below_cls = verdict_with_local_below();
	DA_SCAN_LEAVE(entered);
}

static void
frames_below_the_bound_are_not_read(void **state)
{
	(void)state;
	make_block();
	/* Without a bound, the local is read: the plant works. */
	scrub();
	assert_int_equal(verdict_with_local_below(), DA_LEAK_REACHABLE);
	/* Below an entry's bound, it is dbgalloc's: not read. */
	scrub();
	entry_then_local_below();
	assert_int_equal(below_cls, DA_LEAK_DEFINITE);
}

static int entry_cls;

__attribute__((noinline)) static void
entry_scan(void)
{
	DA_SCAN_ENTER(entered);
	entry_cls = verdict();
	DA_SCAN_LEAVE(entered);
}

static void
frames_above_the_bound_are_read(void **state)
{
	(void)state;
	make_block();
	scrub();
	entry_scan();
	assert_int_equal(entry_cls, DA_LEAK_DEFINITE); /* no other copy */
	/* The program's frame, above the entry's, holds the block. */
	scrub();
	hold_during(entry_scan);
	assert_int_equal(entry_cls, DA_LEAK_REACHABLE);
}

#if defined(__x86_64__)
/*
 * call_in_REG(fn, disguised): calls fn with the block's address in the
 * callee-saved register REG only, as a program whose one copy of a pointer
 * is in a register would; the register is cleared after.
 */
#define CALL_IN(reg)                                               \
	void call_in_##reg(void (*fn)(void), uintptr_t disguised); \
	__asm__(".text\n"                                          \
	        ".type call_in_" #reg ", @function\n"              \
	        "call_in_" #reg ":\n"                              \
	        "\tpush %rbp\n"                                    \
	        "\tmov %rsp, %rbp\n"                               \
	        "\tpush %" #reg "\n"                               \
	        "\tsub $8, %rsp\n"                                 \
	        "\tmovabs $0x5a5a5a5a5a5a5a5a, %rax\n"             \
	        "\txor %rax, %rsi\n"                               \
	        "\tmov %rsi, %" #reg "\n"                          \
	        "\txor %esi, %esi\n"                               \
	        "\txor %eax, %eax\n"                               \
	        "\tcall *%rdi\n"                                   \
	        "\txor %" #reg ", %" #reg "\n"                     \
	        "\tadd $8, %rsp\n"                                 \
	        "\tpop %" #reg "\n"                                \
	        "\tpop %rbp\n"                                     \
	        "\tret\n"                                          \
	        ".size call_in_" #reg ", .-call_in_" #reg "\n")
CALL_IN(rbx);
CALL_IN(r12);
CALL_IN(r13);
CALL_IN(r14);
CALL_IN(r15);

static void
callers_registers_are_read(void **state)
{
	(void)state;
	void (*call[5])(void (*)(void), uintptr_t) = {
	        call_in_rbx, call_in_r12, call_in_r13, call_in_r14, call_in_r15,
	};
	make_block();
	for (int r = 0; r < 5; r++) {
		scrub();
		entry_cls = -1;
		call[r](entry_scan, blk);
		assert_int_equal(entry_cls, DA_LEAK_REACHABLE);
	}
}
#endif

/* --- A thread of dbgalloc's own. --- */

static void *
ours(void *arg)
{
	(void)arg;
	da_scan_bound_ours();
	scrub();
	/* Its frames hold the block: they are not read. */
	return (void *)(intptr_t)verdict_with_local_below();
}

static void
own_thread_stack_is_not_read(void **state)
{
	(void)state;
	make_block();
	pthread_t t;
	void *cls;
	assert_int_equal(pthread_create(&t, NULL, ours, NULL), 0);
	assert_int_equal(pthread_join(t, &cls), 0);
	assert_int_equal((intptr_t)cls, DA_LEAK_DEFINITE);
}

/* --- Other threads, stopped while the calling thread scans. --- */

static int gate[2];         /* a parked thread waits on it */
static volatile int parked; /* set just before it waits */

static void
park(void)
{
	char c;
	parked = 1;
	if (read(gate[0], &c, 1) != 1)
		parked = 2;
}

/* Inside an entry: the block's frame lies below the bound. */
__attribute__((noinline)) static void
entry_then_hold_and_park(void)
{
	DA_SCAN_ENTER(entered);
	hold_during(park);
	DA_SCAN_LEAVE(entered);
}

__attribute__((noinline)) static void
entry_then_park(void)
{
	DA_SCAN_ENTER(entered);
	park();
	DA_SCAN_LEAVE(entered);
}

enum { PLAIN, OURS, BELOW_ENTRY, ABOVE_ENTRY };

static void *
parked_thread(void *arg)
{
	switch ((int)(intptr_t)arg) {
	case PLAIN:
		hold_during(park);
		break;
	case OURS:
		da_scan_bound_ours();
		hold_during(park);
		break;
	case BELOW_ENTRY:
		entry_then_hold_and_park();
		break;
	default:
		/* The block's frame lies above the entry it waits in. */
		hold_during(entry_then_park);
		break;
	}
	return NULL;
}

/* verdict() as an entry point runs it: under the entry's bound, so that
 * the scanning thread's own frames (which hold copies of the stopped
 * threads' registers) are not read. */
__attribute__((noinline)) static int
verdict_in_entry(void)
{
	DA_SCAN_ENTER(entered);
	int cls = verdict();
	DA_SCAN_LEAVE(entered);
	return cls;
}

/* The block's class while a thread parked as how holds it. */
static int
verdict_with_parked(int how)
{
	pthread_t t;
	make_block();
	parked = 0;
	assert_int_equal(pipe(gate), 0);
	assert_int_equal(
	        pthread_create(&t, NULL, parked_thread, (void *)(intptr_t)how),
	        0);
	while (parked == 0)
		sched_yield();
	scrub();
	int cls = verdict_in_entry();
	assert_int_equal(write(gate[1], "x", 1), 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	close(gate[0]);
	close(gate[1]);
	return cls;
}

static void
stopped_threads_bounds(void **state)
{
	(void)state;
	assert_int_equal(verdict_with_parked(PLAIN), DA_LEAK_REACHABLE);
	assert_int_equal(verdict_with_parked(OURS), DA_LEAK_DEFINITE);
	assert_int_equal(verdict_with_parked(BELOW_ENTRY), DA_LEAK_DEFINITE);
	assert_int_equal(verdict_with_parked(ABOVE_ENTRY), DA_LEAK_REACHABLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(outermost_entry_keeps_its_bound),
		cmocka_unit_test(stale_bound_is_replaced),
		cmocka_unit_test(frames_below_the_bound_are_not_read),
		cmocka_unit_test(frames_above_the_bound_are_read),
#if defined(__x86_64__)
		cmocka_unit_test(callers_registers_are_read),
#endif
		cmocka_unit_test(own_thread_stack_is_not_read),
		cmocka_unit_test(stopped_threads_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
