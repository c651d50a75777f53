/*
 * guard-prog.c — DBGALLOC_GUARD's misuses and uses, one per case named by
 * argv[1] (argv[2] a count where a case takes one). Built without dbgalloc
 * and run under LD_PRELOAD by tests/guard/run.sh, which checks how each
 * ends (the signal, the status) and what it printed. Pointers pass
 * through opaque() so that the compiler neither folds nor rejects the
 * misuse; every access is volatile, so it happens where it is written.
 *
 * A .preinit_array function installs a SIGSEGV handler before dbgalloc is
 * set up (before every library constructor and the first malloc), so that
 * dbgalloc's handler, installed later, finds it and must pass on the
 * faults that are not in guard pages (case chain).
 */
#include <malloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void *(*volatile opaque_fn)(void *);

static void *
identity(void *p)
{
	return p;
}

static volatile char *
opaque(void *p)
{
	return opaque_fn(p);
}

/* ---- the program's own SIGSEGV handler (case chain) ---- */

static sigjmp_buf own_jmp;
static volatile sig_atomic_t own_armed, own_caught;
static void *volatile own_addr;

static void
own_segv(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	if (own_armed && si->si_addr == own_addr) {
		own_caught++;
		own_armed = 0;
		siglongjmp(own_jmp, 1);
	}
	/* Not the fault it expected: die by the signal. */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
install_own_handler(int argc, char **argv, char **envp)
{
	(void)envp;
	if (argc < 2 || strcmp(argv[1], "chain") != 0)
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = own_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
}

__attribute__((section(".preinit_array"), used)) static void (*const preinit)(
        int, char **, char **) = install_own_handler;

/* ---- helpers ---- */

static int failures;

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "guard-prog: wrong: %s\n", what);
		failures++;
	}
}

/* The block is freed here: a use after free's report names this function
 * in the free's stack. */
__attribute__((noinline)) static void
release_block(void *p)
{
	free((void *)opaque(p));
	__asm__ volatile("" ::: "memory");
}

static void
fill(volatile char *p, size_t n, int c)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(c + i);
}

static int
filled(volatile const char *p, size_t n, int c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (char)(c + i))
			return 0;
	return 1;
}

static int
zeroed(volatile const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static int
aligned(volatile const void *p, size_t a)
{
	return ((uintptr_t)p & (a - 1)) == 0;
}

/* ---- the entry points, used correctly ---- */

static int
uses(void)
{
	static const size_t sizes[] = {1, 13, 16, 100, 4095, 4096, 4097, 70000};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		volatile char *p = opaque(malloc(n));
		check(p != NULL && aligned(p, 1), "malloc");
		check(malloc_usable_size((void *)p) >= n, "malloc_usable_size");
		fill(p, n, (int)i);
		check(filled(p, n, (int)i), "malloc contents");

		volatile char *c = opaque(calloc(n, 3));
		check(c != NULL && zeroed(c, 3 * n), "calloc zeroes");
		fill(c, 3 * n, 1);

		/* realloc keeps the contents, growing and shrinking. */
		volatile char *g = opaque(realloc((void *)p, 2 * n + 4097));
		check(g != NULL && filled(g, n, (int)i), "realloc grows");
		fill(g, 2 * n + 4097, 7);
		volatile char *s = opaque(realloc((void *)g, n / 2 + 1));
		check(s != NULL && filled(s, n / 2 + 1, 7), "realloc shrinks");
		check(malloc_usable_size((void *)s) >= n / 2 + 1,
		      "malloc_usable_size after realloc");
		free((void *)s);
		free((void *)c);
	}
	static const size_t aligns[] = {8, 16, 64, 256, 4096};
	for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		size_t a = aligns[i];
		void *v = NULL;
		check(posix_memalign(&v, a, 100) == 0 && aligned(v, a),
		      "posix_memalign");
		fill(opaque(v), 100, 3);
		check(filled(opaque(v), 100, 3), "posix_memalign contents");
		free(v);
		volatile char *q = opaque(aligned_alloc(a, 3 * a));
		check(q != NULL && aligned(q, a), "aligned_alloc");
		fill(q, 3 * a, 4);
		free((void *)q);
		q = opaque(memalign(a, 13));
		check(q != NULL && aligned(q, a), "memalign");
		check(malloc_usable_size((void *)q) >= 13,
		      "malloc_usable_size (memalign)");
		fill(q, 13, 5);
		free((void *)q);
	}
	volatile char *q = opaque(valloc(5000));
	check(q != NULL && aligned(q, 4096), "valloc");
	fill(q, 5000, 6);
	free((void *)q);
	check(realloc(malloc(10), 0) == NULL, "realloc(p, 0)");
	puts(failures ? "failed" : "uses: right");
	return failures != 0;
}

/* ---- sampling: count how many of n blocks fault ---- */

/*
 * n blocks of 32 bytes (a multiple of every guard alignment, so that a
 * guarded one ends at its guard page), each read one byte past its end
 * and freed. A read past an unguarded block reads its canary and harms
 * nothing; a guarded one faults, and under DBGALLOC_GUARD_RECOVER the
 * program goes on. Each block's number goes to stderr before its read, so
 * that the driver sees which blocks had a report as well as how many.
 */
static int
sample(long n)
{
	volatile char sink = 0;
	for (long i = 0; i < n; i++) {
		volatile char *p = opaque(malloc(32));
		p[0] = 1;
		fprintf(stderr, "block %ld\n", i);
		sink += p[32];
		free((void *)p);
	}
	(void)sink;
	/* On stderr, after any report: the driver checks the order. */
	fprintf(stderr, "guard-prog: %ld blocks read past their end\n", n);
	return 0;
}

/* ---- fork ---- */

static int
forked(void)
{
	volatile char *p = opaque(malloc(13));
	fill(p, 13, 'a');
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		int ok = filled(p, 13, 'a');
		p[12] = 'z';
		ok = ok && p[12] == 'z';
		free((void *)p);
		printf("child: block %s\n", ok ? "inherited" : "damaged");
		fflush(NULL);
		volatile char *c = opaque(malloc(21));
		c[0] = 1;
		c[21] = 1; /* faults: reported in the child */
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return 2;
	printf("parent: child %s %d\n",
	       WIFSIGNALED(st) ? "died by signal" : "exited with",
	       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	check(p[12] == 'a' + 12, "the parent's block changed");
	free((void *)p);
	return failures != 0;
}

/* ---- the program's handler, installed before dbgalloc's ---- */

static int
chain(void)
{
	char *page =
	        mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return 2;
	volatile char *g = opaque(malloc(13)); /* dbgalloc is set up */
	g[0] = 1;
	for (int round = 0; round < 3; round++) {
		own_addr = page + 100 * round;
		own_armed = 1;
		if (sigsetjmp(own_jmp, 1) == 0) {
			((volatile char *)page)[100 * round] = 1;
			fprintf(stderr, "guard-prog: no fault\n");
			return 1;
		}
	}
	fprintf(stderr, "guard-prog: own handler caught %d faults\n",
	        (int)own_caught);
	/* A fault in a guard page is still dbgalloc's. */
	g[13] = 1;
	return 1;
}

int
main(int argc, char **argv)
{
	opaque_fn = identity;
	if (argc < 2)
		return 2;
	const char *c = argv[1];
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
	volatile char sink = 0;

	if (!strcmp(c, "overflow")) { /* one byte past a block of n bytes */
		volatile char *p = opaque(malloc((size_t)n));
		p[0] = 1;
		p[n] = 1;
	} else if (!strcmp(c, "overflow-read")) {
		volatile char *p = opaque(malloc((size_t)n));
		sink += p[n];
	} else if (!strcmp(c, "slack")) { /* n = 13: 3 bytes of slack */
		volatile char *p = opaque(malloc(13));
		p[n] = 1;
		free((void *)p);
		fprintf(stderr, "guard-prog: free went on\n");
	} else if (!strcmp(c, "underflow")) { /* n bytes before the block */
		volatile char *p = opaque(malloc(13));
		sink += p[-n];
	} else if (!strcmp(c, "underflow-write")) {
		volatile char *p = opaque(malloc(13));
		p[-n] = 1;
	} else if (!strcmp(c, "underflow-header")) { /* then free */
		volatile char *p = opaque(malloc(13));
		p[-n] = 1;
		free((void *)p);
	} else if (!strcmp(c, "uaf-read")) {
		volatile char *p = opaque(malloc(13));
		p[3] = 1;
		release_block((void *)p);
		sink += p[3];
	} else if (!strcmp(c, "uaf-write")) {
		volatile char *p = opaque(malloc(13));
		release_block((void *)p);
		p[3] = 1;
	} else if (!strcmp(c, "null")) {
		volatile char *p = opaque(malloc(13));
		p[0] = 1;
		volatile char *z = opaque(NULL);
		z[0] = 1;
	} else if (!strcmp(c, "uses")) {
		return uses();
	} else if (!strcmp(c, "calloc")) { /* calloc(3, 7), byte 21 */
		volatile char *p = opaque(calloc(3, 7));
		check(zeroed(p, 21), "calloc zeroes");
		p[21] = 1;
	} else if (!strcmp(c, "realloc-grow")) {
		volatile char *p = opaque(malloc(13));
		fill(p, 13, 1);
		p = opaque(realloc((void *)p, 4097));
		check(filled(p, 13, 1), "realloc keeps the contents");
		p[4097] = 1;
	} else if (!strcmp(c, "realloc-shrink")) {
		volatile char *p = opaque(malloc(4097));
		fill(p, 4097, 1);
		p = opaque(realloc((void *)p, 13));
		check(filled(p, 13, 1), "realloc keeps the contents");
		p[13] = 1;
	} else if (!strcmp(c, "usable")) { /* writes what it reports */
		volatile char *p = opaque(malloc(13));
		size_t u = malloc_usable_size((void *)p);
		printf("usable %zu\n", u);
		fflush(stdout);
		p[u - 1] = 1;
		p[u] = 1;
	} else if (!strcmp(c, "posix_memalign")) { /* n: the alignment */
		void *v = NULL;
		if (posix_memalign(&v, (size_t)n, 2 * (size_t)n) != 0 ||
		    !aligned(v, (size_t)n))
			return 3;
		volatile char *p = opaque(v);
		p[2 * n] = 1;
	} else if (!strcmp(c, "aligned_alloc")) {
		volatile char *p = opaque(aligned_alloc((size_t)n, (size_t)n));
		if (p == NULL || !aligned(p, (size_t)n))
			return 3;
		p[n] = 1;
	} else if (!strcmp(c, "memalign")) {
		volatile char *p = opaque(memalign((size_t)n, 3 * (size_t)n));
		if (p == NULL || !aligned(p, (size_t)n))
			return 3;
		p[3 * n] = 1;
	} else if (!strcmp(c, "memalign-slack")) { /* 13 bytes at n */
		volatile char *p = opaque(memalign((size_t)n, 13));
		if (p == NULL || !aligned(p, (size_t)n))
			return 3;
		p[13] = 1;
		free((void *)p);
	} else if (!strcmp(c, "valloc")) {
		volatile char *p = opaque(valloc(4096));
		if (p == NULL || !aligned(p, 4096))
			return 3;
		p[4096] = 1;
	} else if (!strcmp(c, "sample")) {
		return sample(n);
	} else if (!strcmp(c, "fork")) {
		return forked();
	} else if (!strcmp(c, "chain")) {
		return chain();
	} else {
		fprintf(stderr, "guard-prog: no case %s\n", c);
		return 2;
	}
	(void)sink;
	fprintf(stderr, "guard-prog: %s went on\n", c);
	return failures ? 1 : 0;
}
