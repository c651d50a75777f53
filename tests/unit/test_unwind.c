/*
 * Unit tests of the unwinder (audit/unwind.c). Built with frame pointers
 * and without sibling calls, so that each chain_N below has a frame and
 * returns into its caller; exported (-export-dynamic) so that dladdr names
 * the functions a capture passed through.
 *
 *   - a frame-pointer chain is recorded exactly, in order, to any depth;
 *   - a capture whose caller is inside libc (qsort's comparator) reaches
 *     the test's own function through libunwind, even at depth 1;
 *   - garbage in rbp ends the walk at ret0, without a fault;
 *   - small thread stacks, user-supplied stacks, a signal handler on a
 *     sigaltstack and a makecontext coroutine are walked within bounds;
 *   - a nested capture records ret0 only; children of fork can unwind;
 *   - modules dlopen'ed later are recognised;
 *   - libunwind's module lookups during a capture get phdrs.c's copy,
 *     which says what the loader says and leaves out unloaded modules;
 *   - captures from signal handlers while the main thread loads and
 *     unloads modules (the loader's lock) do not hang.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "audit/phdrs.h"
#include "audit/unwind.h"

#define NOINLINE __attribute__((noinline, noclone))
/* Keeps a call from being the last thing its function does. */
#define BARRIER() __asm__ __volatile__("" ::: "memory")

/* Exported for dladdr; declared for -Wmissing-prototypes. */
unsigned capture_entry(uintptr_t *pcs, unsigned max);
unsigned chain_1(uintptr_t *pcs, unsigned max);
unsigned chain_2(uintptr_t *pcs, unsigned max);
unsigned chain_3(uintptr_t *pcs, unsigned max);
unsigned recurse(uintptr_t *pcs, unsigned max, unsigned depth);
void qsort_caller(void);
void garbage_entry(void);
void on_usr1(int sig);
void coroutine_main(void);

/* Return addresses seen by each function of the chain, outermost last. */
static uintptr_t ra_entry, ra_chain[4];

/* Plays the exported entry point (malloc): its own return address and
 * frame start the capture. */
NOINLINE unsigned
capture_entry(uintptr_t *pcs, unsigned max)
{
	ra_entry = (uintptr_t)__builtin_return_address(0);
	unsigned n = da_unwind(pcs, max, ra_entry,
	                       (uintptr_t)__builtin_frame_address(0));
	BARRIER();
	return n;
}

NOINLINE unsigned
chain_3(uintptr_t *pcs, unsigned max)
{
	ra_chain[3] = (uintptr_t)__builtin_return_address(0);
	unsigned n = capture_entry(pcs, max);
	BARRIER();
	return n;
}

NOINLINE unsigned
chain_2(uintptr_t *pcs, unsigned max)
{
	ra_chain[2] = (uintptr_t)__builtin_return_address(0);
	unsigned n = chain_3(pcs, max);
	BARRIER();
	return n;
}

NOINLINE unsigned
chain_1(uintptr_t *pcs, unsigned max)
{
	ra_chain[1] = (uintptr_t)__builtin_return_address(0);
	unsigned n = chain_2(pcs, max);
	BARRIER();
	return n;
}

/* The exported function that pc lies in, or "?". */
static const char *
fn_name(uintptr_t pc)
{
	Dl_info info;
	if (dladdr((void *)(pc - 1), &info) == 0 || info.dli_sname == NULL)
		return "?";
	return info.dli_sname;
}

/* The chain's frames, as a capture from chain_1 called by caller must
 * record them. */
static void
assert_chain(const uintptr_t *pcs, unsigned n, const char *caller)
{
	assert_true(n >= 4);
	assert_int_equal(pcs[0], ra_entry);
	assert_int_equal(pcs[1], ra_chain[3]);
	assert_int_equal(pcs[2], ra_chain[2]);
	assert_int_equal(pcs[3], ra_chain[1]);
	assert_string_equal(fn_name(pcs[0]), "chain_3");
	assert_string_equal(fn_name(pcs[1]), "chain_2");
	assert_string_equal(fn_name(pcs[2]), "chain_1");
	if (caller != NULL)
		assert_string_equal(fn_name(pcs[3]), caller);
}

/* Before da_unwind_init: no libunwind, no module list; frame pointers
 * are still walked. */
void fp_chain_before_init(void **state);
NOINLINE void
fp_chain_before_init(void **state)
{
	(void)state;
	uintptr_t pcs[DA_DEPOT_MAX_FRAMES];
	assert_int_equal(da_unwind_has_dwarf(), 0);
	assert_int_equal(da_unwind_in_wrapper((uintptr_t)&qsort), 0);
	unsigned n = chain_1(pcs, 8);
	BARRIER();
	assert_chain(pcs, n, "fp_chain_before_init");
}

static int
libunwind_present(void)
{
	void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	if (h == NULL)
		h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return 0;
	dlclose(h);
	return 1;
}

/* Every module's code is a wrapper exactly when the module is. */
static int
check_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	unsigned *checked = arg;
	const char *name = info->dlpi_name;
	const char *base = strrchr(name, '/');
	base = base != NULL ? base + 1 : name;
	int wrapper = strncmp(base, "libc.so", 7) == 0 ||
	              strncmp(base, "ld-linux", 8) == 0 ||
	              strncmp(base, "libm.so", 7) == 0 ||
	              strncmp(base, "libstdc++", 9) == 0 ||
	              strncmp(base, "libgcc_s", 8) == 0;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		assert_int_equal(da_unwind_in_wrapper(lo), wrapper);
		assert_int_equal(da_unwind_in_wrapper(lo + ph->p_memsz - 1),
		                 wrapper);
		(*checked)++;
	}
	return 0;
}

static void
init_classifies_modules(void **state)
{
	(void)state;
	da_unwind_init();
	da_unwind_init();
	assert_int_equal(da_unwind_has_dwarf(), libunwind_present());
	assert_int_equal(da_unwind_in_wrapper((uintptr_t)&qsort), 1);
	assert_int_equal(da_unwind_in_wrapper((uintptr_t)&chain_1), 0);
	int local;
	assert_int_equal(da_unwind_in_wrapper((uintptr_t)&local), 0);
	assert_int_equal(da_unwind_in_wrapper(0), 0);
	assert_int_equal(da_unwind_in_wrapper(UINTPTR_MAX), 0);
	unsigned checked = 0;
	dl_iterate_phdr(check_module, &checked);
	assert_true(checked >= 3);
}

void fp_chain_exact(void **state);
NOINLINE void
fp_chain_exact(void **state)
{
	(void)state;
	uintptr_t pcs[DA_DEPOT_MAX_FRAMES];
	unsigned n = chain_1(pcs, 8);
	BARRIER();
	assert_chain(pcs, n, "fp_chain_exact");
	assert_true(n <= 8);
	assert_int_equal(chain_1(pcs, 2), 2);
	assert_int_equal(pcs[0], ra_entry);
	assert_int_equal(pcs[1], ra_chain[3]);
	assert_int_equal(chain_1(pcs, 1), 1);
	assert_int_equal(pcs[0], ra_entry);
	/* max 0 is taken as 1: pcs[0] is always ret0. */
	assert_int_equal(chain_1(pcs, 0), 1);
	BARRIER();
}

/* depth levels of recursion, then a capture. */
NOINLINE unsigned
recurse(uintptr_t *pcs, unsigned max, unsigned depth)
{
	unsigned n =
	        depth == 0 ? chain_1(pcs, max) : recurse(pcs, max, depth - 1);
	BARRIER();
	return n;
}

static void
deep_stacks(void **state)
{
	(void)state;
	uintptr_t pcs[DA_DEPOT_MAX_FRAMES];
	/* 100 frames deep: exactly the maximum is recorded, and max past it
	 * is clamped. */
	assert_int_equal(recurse(pcs, DA_DEPOT_MAX_FRAMES, 100),
	                 DA_DEPOT_MAX_FRAMES);
	assert_chain(pcs, DA_DEPOT_MAX_FRAMES, "recurse");
	for (unsigned i = 4; i < DA_DEPOT_MAX_FRAMES; i++)
		assert_string_equal(fn_name(pcs[i]), "recurse");
	assert_int_equal(recurse(pcs, 1000, 100), DA_DEPOT_MAX_FRAMES);
	assert_int_equal(recurse(pcs, 16, 100), 16);
}

/* 16 KiB frames, depth of them, then a capture: on the main thread this
 * grows the stack past what it was at the first capture. */
unsigned grow(uintptr_t *pcs, unsigned max, unsigned depth);
NOINLINE unsigned
grow(uintptr_t *pcs, unsigned max, unsigned depth)
{
	volatile char pad[16384];
	pad[0] = (char)depth;
	pad[sizeof(pad) - 1] = pad[0];
	unsigned n = depth == 0 ? chain_1(pcs, max) : grow(pcs, max, depth - 1);
	BARRIER();
	return n + (unsigned)pad[0] * 0;
}

static void
main_stack_grows(void **state)
{
	(void)state;
	uintptr_t pcs[DA_DEPOT_MAX_FRAMES];
	/* 2 MiB below here: far past the mapping seen at the first
	 * capture, well inside the 8 MiB default limit. */
	assert_int_equal(grow(pcs, 16, 128), 16);
	assert_chain(pcs, 16, "grow");
	for (unsigned i = 4; i < 16; i++)
		assert_string_equal(fn_name(pcs[i]), "grow");
}

/* qsort's comparator plays the entry point: its caller is inside libc. */
static uintptr_t cmp_pcs[DA_DEPOT_MAX_FRAMES];
static unsigned cmp_n, cmp_max;
static uintptr_t cmp_ret0;
static int cmp_done;

static int
cmp_capture(const void *a, const void *b)
{
	if (!cmp_done) {
		cmp_done = 1;
		cmp_ret0 = (uintptr_t)__builtin_return_address(0);
		cmp_n = da_unwind(cmp_pcs, cmp_max, cmp_ret0,
		                  (uintptr_t)__builtin_frame_address(0));
	}
	BARRIER();
	return *(const int *)a - *(const int *)b;
}

NOINLINE void
qsort_caller(void)
{
	int v[16];
	for (int i = 0; i < 16; i++)
		v[i] = (i * 7) % 16;
	cmp_done = 0;
	qsort(v, 16, sizeof(*v), cmp_capture);
	BARRIER();
}

/* The index of the first frame outside the wrapper modules. */
static unsigned
first_own(const uintptr_t *pcs, unsigned n)
{
	unsigned i = 0;
	while (i < n && da_unwind_in_wrapper(pcs[i]))
		i++;
	return i;
}

void qsort_reaches_caller(void **state);
NOINLINE void
qsort_reaches_caller(void **state)
{
	(void)state;
	if (!da_unwind_has_dwarf())
		skip();
	/* Depth 1 still runs on to qsort_caller, through libc. */
	cmp_max = 1;
	qsort_caller();
	BARRIER();
	assert_int_equal(cmp_pcs[0], cmp_ret0);
	assert_true(da_unwind_in_wrapper(cmp_ret0));
	assert_true(cmp_n >= 2);
	assert_int_equal(first_own(cmp_pcs, cmp_n), cmp_n - 1);
	assert_string_equal(fn_name(cmp_pcs[cmp_n - 1]), "qsort_caller");

	/* Deeper: the same frames, then the test itself. */
	unsigned shallow = cmp_n;
	uintptr_t first[DA_DEPOT_MAX_FRAMES];
	memcpy(first, cmp_pcs, sizeof(first));
	cmp_max = 16;
	qsort_caller();
	BARRIER();
	assert_true(cmp_n > shallow);
	assert_memory_equal(cmp_pcs, first, shallow * sizeof(*first));
	assert_string_equal(fn_name(cmp_pcs[shallow]), "qsort_reaches_caller");
}

/*
 * garbage_call(fn, rbp) calls fn with rbp set to rbp, as code built
 * without frame pointers may leave it: fn's saved frame pointer is then
 * that value. It has no frame of its own for the walk to follow.
 */
void garbage_call(void (*fn)(void), uintptr_t rbp);
__asm__(".text\n"
        ".globl garbage_call\n"
        ".type garbage_call, @function\n"
        "garbage_call:\n"
        "	.cfi_startproc\n"
        "	pushq %rbp\n"
        "	.cfi_def_cfa_offset 16\n"
        "	.cfi_offset %rbp, -16\n"
        "	movq %rsi, %rbp\n"
        "	call *%rdi\n"
        "	popq %rbp\n"
        "	.cfi_def_cfa_offset 8\n"
        "	ret\n"
        "	.cfi_endproc\n"
        ".size garbage_call, .-garbage_call\n");

static uintptr_t garbage_pcs[DA_DEPOT_MAX_FRAMES];
static unsigned garbage_n;
static uintptr_t garbage_ret0;

NOINLINE void
garbage_entry(void)
{
	garbage_ret0 = (uintptr_t)__builtin_return_address(0);
	garbage_n = da_unwind(garbage_pcs, 16, garbage_ret0,
	                      (uintptr_t)__builtin_frame_address(0));
	BARRIER();
}

static void
garbage_in_rbp(void **state)
{
	(void)state;
	uintptr_t fake[4];
	int local;
	const uintptr_t values[] = {
	        0x1234,
	        0,
	        1,
	        (uintptr_t)-8,
	        (uintptr_t)1 << 47,
	        0xffffffff81000000ull,
	        (uintptr_t)&local + 3,   /* misaligned, on the stack */
	        (uintptr_t)&fake[0],     /* a fake frame, see below */
	        (uintptr_t)&garbage_pcs, /* not on the stack */
	        (uintptr_t)&qsort,       /* code, not a frame */
	};
	/* A fake frame with a return address that is no code. */
	fake[0] = (uintptr_t)&fake[2];
	fake[1] = 0xdeadbeef;
	fake[2] = 0;
	fake[3] = 0;
	for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++) {
		garbage_n = 0;
		garbage_call(garbage_entry, values[i]);
		BARRIER();
		assert_int_equal(garbage_n, 1);
		assert_int_equal(garbage_pcs[0], garbage_ret0);
		assert_string_equal(fn_name(garbage_ret0), "garbage_call");
	}
	/* Fake frames that look real are followed, until the chain stops
	 * rising. */
	fake[0] = (uintptr_t)&fake[2];
	fake[1] = (uintptr_t)&fp_chain_exact + 8;
	fake[2] = (uintptr_t)&fake[2];
	fake[3] = (uintptr_t)&fp_chain_exact + 16;
	garbage_call(garbage_entry, (uintptr_t)&fake[0]);
	BARRIER();
	assert_int_equal(garbage_n, 3);
	assert_int_equal(garbage_pcs[0], garbage_ret0);
	assert_int_equal(garbage_pcs[1], fake[1]);
	assert_int_equal(garbage_pcs[2], fake[3]);
}

/* Threads on small stacks, and on a stack the program supplied. */
static void *
thread_capture(void *arg)
{
	uintptr_t *pcs = arg;
	pcs[DA_DEPOT_MAX_FRAMES] = chain_1(pcs, 8);
	BARRIER();
	/* The wrapper path too: with little room libunwind is not used,
	 * and the capture still starts at ret0. */
	cmp_max = 4;
	qsort_caller();
	BARRIER();
	return NULL;
}

static void
run_thread(pthread_attr_t *attr)
{
	uintptr_t pcs[DA_DEPOT_MAX_FRAMES + 1];
	pthread_t th;
	memset(pcs, 0, sizeof(pcs));
	assert_int_equal(pthread_create(&th, attr, thread_capture, pcs), 0);
	pthread_join(th, NULL);
	/* thread_capture is static: its name is not checked. */
	assert_chain(pcs, (unsigned)pcs[DA_DEPOT_MAX_FRAMES], NULL);
	assert_true(pcs[DA_DEPOT_MAX_FRAMES] <= 8);
	assert_true(cmp_n >= 1);
	assert_int_equal(cmp_pcs[0], cmp_ret0);
}

static void
small_stacks(void **state)
{
	(void)state;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 16384);
	run_thread(&attr);
	pthread_attr_setstacksize(&attr, 65536);
	run_thread(&attr);
	size_t size = 256 * 1024;
	void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
	                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(stack != MAP_FAILED);
	pthread_attr_setstack(&attr, stack, size);
	run_thread(&attr);
	pthread_attr_destroy(&attr);
	munmap(stack, size);
}

/* A signal handler on an alternate stack: its chain is recorded, and the
 * walk ends at the top of the alternate stack. */
static uintptr_t sig_pcs[DA_DEPOT_MAX_FRAMES];
static unsigned sig_n;
static uintptr_t sig_lo, sig_hi;

NOINLINE void
on_usr1(int sig)
{
	(void)sig;
	int here;
	sig_n = (uintptr_t)&here >= sig_lo && (uintptr_t)&here < sig_hi
	                ? chain_1(sig_pcs, 16)
	                : 0;
	BARRIER();
}

static void
sigaltstack_handler(void **state)
{
	(void)state;
	size_t size = 64 * 1024;
	char *alt = mmap(NULL, size, PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(alt != MAP_FAILED);
	stack_t ss = {.ss_sp = alt, .ss_size = size}, old;
	assert_int_equal(sigaltstack(&ss, &old), 0);
	sig_lo = (uintptr_t)alt;
	sig_hi = sig_lo + size;
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_ONSTACK};
	struct sigaction prev;
	sigaction(SIGUSR1, &sa, &prev);
	raise(SIGUSR1);
	sigaction(SIGUSR1, &prev, NULL);
	stack_t off = {.ss_flags = SS_DISABLE};
	sigaltstack(&off, NULL);
	munmap(alt, size);
	/* chain_3, chain_2, chain_1, on_usr1, and perhaps the signal
	 * trampoline in libc; nothing from the interrupted stack. */
	assert_chain(sig_pcs, sig_n, "on_usr1");
	assert_true(sig_n <= 5);
}

/* A makecontext coroutine runs on memory of the program's: bounds come
 * from the mapping that holds it. */
static ucontext_t co_main, co_ctx;
static uintptr_t co_pcs[DA_DEPOT_MAX_FRAMES];
static unsigned co_n;

NOINLINE void
coroutine_main(void)
{
	co_n = chain_1(co_pcs, 16);
	BARRIER();
}

void coroutine_stack(void **state);
NOINLINE void
coroutine_stack(void **state)
{
	(void)state;
	size_t size = 128 * 1024;
	char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
	                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(stack != MAP_FAILED);
	getcontext(&co_ctx);
	co_ctx.uc_stack.ss_sp = stack;
	co_ctx.uc_stack.ss_size = size;
	co_ctx.uc_link = &co_main;
	makecontext(&co_ctx, coroutine_main, 0);
	assert_int_equal(swapcontext(&co_main, &co_ctx), 0);
	munmap(stack, size);
	assert_chain(co_pcs, co_n, "coroutine_main");
	assert_true(co_n <= 16);
	/* Back on the thread's own stack, walks are whole again. */
	uintptr_t pcs[DA_DEPOT_MAX_FRAMES];
	unsigned n = chain_1(pcs, 8);
	BARRIER();
	assert_chain(pcs, n, "coroutine_stack");
}

/*
 * A capture that starts while another is under way on the same thread (a
 * signal handler's, or a malloc made by libunwind) records ret0 only. The
 * unwinder asks sigaltstack for the bounds of a stack it does not know; this
 * definition (which the test program's own symbols give precedence) captures
 * from inside that call when armed.
 */
static int nest_armed;
static uintptr_t nest_pcs[DA_DEPOT_MAX_FRAMES];
static unsigned nest_n;
static uintptr_t nest_ret0;

int
sigaltstack(const stack_t *restrict ss, stack_t *restrict old)
{
	if (nest_armed) {
		nest_armed = 0;
		nest_ret0 = (uintptr_t)__builtin_return_address(0);
		nest_n = da_unwind(nest_pcs, 16, nest_ret0,
		                   (uintptr_t)__builtin_frame_address(0));
	}
	return (int)syscall(SYS_sigaltstack, ss, old);
}

static void *
nested_thread(void *arg)
{
	uintptr_t *pcs = arg;
	/* A new thread's stack is unknown: the first capture looks. */
	nest_armed = 1;
	pcs[DA_DEPOT_MAX_FRAMES] = chain_1(pcs, 8);
	BARRIER();
	return NULL;
}

static void
nested_capture(void **state)
{
	(void)state;
	uintptr_t pcs[DA_DEPOT_MAX_FRAMES + 1];
	pthread_t th;
	nest_n = 0;
	assert_int_equal(pthread_create(&th, NULL, nested_thread, pcs), 0);
	pthread_join(th, NULL);
	assert_int_equal(nest_armed, 0);
	assert_int_equal(nest_n, 1);
	assert_int_equal(nest_pcs[0], nest_ret0);
	/* The outer capture is whole. */
	assert_chain(pcs, (unsigned)pcs[DA_DEPOT_MAX_FRAMES], NULL);
}

/* Children forked while another thread unwinds through libc can unwind
 * (by libunwind, or by frame pointers if it was busy at the fork). */
static _Atomic(int) stop_unwinding;

static void *
unwind_forever(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_unwinding)) {
		cmp_max = 8;
		qsort_caller();
		BARRIER();
	}
	return NULL;
}

static void
fork_children_unwind(void **state)
{
	(void)state;
	pthread_t th;
	atomic_store(&stop_unwinding, 0);
	assert_int_equal(pthread_create(&th, NULL, unwind_forever, NULL), 0);
	for (int round = 0; round < 20; round++) {
		usleep(1000);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			alarm(10);
			uintptr_t pcs[DA_DEPOT_MAX_FRAMES];
			cmp_max = 8;
			qsort_caller();
			unsigned n = chain_1(pcs, 8);
			_exit(cmp_n >= 1 && cmp_pcs[0] == cmp_ret0 && n >= 4 &&
			                      pcs[1] == ra_chain[3]
			              ? 0
			              : 1);
		}
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	atomic_store(&stop_unwinding, 1);
	pthread_join(th, NULL);
}

/*
 * Captures through libc from signal handlers, on every thread, while the
 * main thread loads and unloads modules: the handler may interrupt dlopen
 * or dlclose holding the loader's lock, and libunwind (handed a new,
 * interrupted pc) must then not wait for a lock of its own that another
 * thread holds while it waits for the loader's. Run in a child, so that a
 * deadlock fails the test instead of hanging it.
 */
static _Atomic(int) storm_stop;
/* Rounds the child has done, in memory shared with the parent: a hang is
 * no round for a while, not a slow machine. */
static _Atomic(int) *storm_rounds;

static void
on_storm(int sig)
{
	(void)sig;
	uintptr_t pcs[DA_DEPOT_MAX_FRAMES];
	int saved_done = cmp_done;
	cmp_max = 8;
	qsort_caller();
	cmp_done = saved_done;
	/* Whole, or ret0 alone when it interrupted a capture. */
	unsigned n = chain_1(pcs, 8);
	if (n != 1 && n < 4)
		_exit(3);
}

static void *
storm_thread(void *arg)
{
	pthread_t *main_thread = arg;
	while (!atomic_load(&storm_stop)) {
		pthread_kill(*main_thread, SIGUSR2);
		cmp_max = 8;
		qsort_caller();
		BARRIER();
	}
	return NULL;
}

static int
storm(void)
{
	struct sigaction sa = {.sa_handler = on_storm, .sa_flags = SA_RESTART};
	sigaction(SIGUSR2, &sa, NULL);
	pthread_t self = pthread_self(), th[3];
	for (int t = 0; t < 3; t++)
		pthread_create(&th[t], NULL, storm_thread, &self);
	static const char *const libs[] = {"libz.so.1", "libm.so.6",
	                                   "libstdc++.so.6"};
	for (int r = 0; r < 2000; r++) {
		void *h = dlopen(libs[r % 3], RTLD_NOW | RTLD_LOCAL);
		for (int t = 0; t < 3; t++)
			pthread_kill(th[t], SIGUSR2);
		if (h != NULL)
			dlclose(h);
		atomic_fetch_add(storm_rounds, 1);
	}
	atomic_store(&storm_stop, 1);
	for (int t = 0; t < 3; t++)
		pthread_join(th[t], NULL);
	return 0;
}

static void
signals_during_dlopen(void **state)
{
	(void)state;
	storm_rounds = mmap(NULL, sizeof(*storm_rounds), PROT_READ | PROT_WRITE,
	                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(storm_rounds != MAP_FAILED);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(storm());
	int status = 0;
	pid_t got = 0;
	/* Hung: 30 s without a round (a round takes milliseconds, seconds
	 * at worst on a loaded machine). */
	int last = -1, still = 0;
	while (got == 0 && still < 300) {
		got = waitpid(pid, &status, WNOHANG);
		if (got != 0)
			break;
		usleep(100000);
		int now = atomic_load(storm_rounds);
		still = now == last ? still + 1 : 0;
		last = now;
	}
	if (got == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("deadlock: captures during dlopen/dlclose hung after "
		         "%d of 2000 rounds",
		         last);
	}
	munmap(storm_rounds, sizeof(*storm_rounds));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A module loaded after da_unwind_init is known at its first pc. */
static void
dlopen_later(void **state)
{
	(void)state;
	void *h = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		skip();
	void *op_new = dlsym(h, "_Znwm");
	assert_non_null(op_new);
	/* Reloads are spaced by at least 10 ms. */
	usleep(20000);
	assert_int_equal(da_unwind_in_wrapper((uintptr_t)op_new), 1);
	void *z = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
	if (z != NULL) {
		void *version = dlsym(z, "zlibVersion");
		usleep(20000);
		assert_int_equal(da_unwind_in_wrapper((uintptr_t)version), 0);
	}
	assert_int_equal(da_unwind_in_wrapper((uintptr_t)&qsort), 1);
}

/* ---- what libunwind is told of the modules (audit/phdrs.c) ---- */

struct seen {
	unsigned n;
	uintptr_t addr[256];
	unsigned phnum[256];
	unsigned long sum[256]; /* of the program headers' words */
};

static int
note_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct seen *s = arg;
	assert_true(size >= offsetof(struct dl_phdr_info, dlpi_adds));
	if (s->n >= 256)
		return 1;
	unsigned long sum = 0;
	const unsigned long *w = (const unsigned long *)info->dlpi_phdr;
	for (size_t i = 0;
	     i < info->dlpi_phnum * sizeof(*info->dlpi_phdr) / sizeof(*w); i++)
		sum += w[i] * (i + 1);
	s->addr[s->n] = info->dlpi_addr;
	s->phnum[s->n] = info->dlpi_phnum;
	s->sum[s->n] = sum;
	s->n++;
	return 0;
}

/* The module at addr in s, or -1. */
static int
seen_at(const struct seen *s, uintptr_t addr)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->addr[i] == addr)
			return (int)i;
	return -1;
}

/* During a capture the copy answers, with what the loader would say of
 * every module but the vDSO (which _dl_find_object does not know). */
static void
copy_matches_loader(void **state)
{
	(void)state;
	assert_int_equal(da_phdrs_hooked(), libunwind_present());
	if (!libunwind_present())
		return;
	static struct seen real, copy;
	memset(&real, 0, sizeof(real));
	memset(&copy, 0, sizeof(copy));
	da_phdrs_reload();
	dl_iterate_phdr(note_module, &real);
	da_phdrs_serve = 1;
	da_phdrs_iterate(note_module, &copy);
	da_phdrs_serve = 0;
	assert_true(copy.n >= 3);
	assert_true(copy.n + 1 >= real.n);
	for (unsigned i = 0; i < copy.n; i++) {
		int k = seen_at(&real, copy.addr[i]);
		assert_true(k >= 0);
		assert_int_equal(copy.phnum[i], real.phnum[k]);
		assert_true(copy.sum[i] == real.sum[k]);
	}
	/* Outside a capture: the loader's own answer. */
	struct seen *again = calloc(1, sizeof(*again));
	assert_non_null(again);
	da_phdrs_iterate(note_module, again);
	assert_int_equal(again->n, real.n);
	free(again);
}

/* A module unloaded after the copy was taken is not offered. */
static void
copy_skips_unloaded(void **state)
{
	(void)state;
	if (!libunwind_present())
		return;
	/* zlib is always installed on Debian; the others are fallbacks. */
	static const char *const libs[] = {"libbz2.so.1.0", "libz.so.1",
	                                   "libexpat.so.1"};
	void *h = NULL;
	const char *name = NULL;
	for (unsigned i = 0; i < 3 && h == NULL; i++) {
		if (dlopen(libs[i], RTLD_NOW | RTLD_NOLOAD) != NULL)
			continue; /* already there: would stay */
		h = dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
		name = libs[i];
	}
	assert_non_null(h);
	struct link_map *lm = NULL;
	assert_int_equal(dlinfo(h, RTLD_DI_LINKMAP, &lm), 0);
	uintptr_t addr = lm->l_addr;
	da_phdrs_reload();
	static struct seen before, after;
	memset(&before, 0, sizeof(before));
	memset(&after, 0, sizeof(after));
	da_phdrs_serve = 1;
	da_phdrs_iterate(note_module, &before);
	da_phdrs_serve = 0;
	assert_true(seen_at(&before, addr) >= 0);
	dlclose(h);
	assert_null(dlopen(name, RTLD_NOW | RTLD_NOLOAD));
	da_phdrs_serve = 1;
	da_phdrs_iterate(note_module, &after);
	da_phdrs_serve = 0;
	assert_int_equal(seen_at(&after, addr), -1);
	assert_int_equal(after.n + 1, before.n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(fp_chain_before_init),
	        cmocka_unit_test(init_classifies_modules),
	        cmocka_unit_test(fp_chain_exact),
	        cmocka_unit_test(deep_stacks),
	        cmocka_unit_test(main_stack_grows),
	        cmocka_unit_test(qsort_reaches_caller),
	        cmocka_unit_test(garbage_in_rbp),
	        cmocka_unit_test(small_stacks),
	        cmocka_unit_test(sigaltstack_handler),
	        cmocka_unit_test(coroutine_stack),
	        cmocka_unit_test(nested_capture),
	        cmocka_unit_test(fork_children_unwind),
	        cmocka_unit_test(signals_during_dlopen),
	        cmocka_unit_test(copy_matches_loader),
	        cmocka_unit_test(copy_skips_unloaded), /* before dlopen_later:
	                                                  it keeps libz */
	        cmocka_unit_test(dlopen_later),
	};
	return cmocka_run_group_tests_name("unwind", tests, NULL, NULL);
}
