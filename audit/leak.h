/*
 * audit/leak.h — the leak scan: which live blocks the program can still
 * reach, classified as Valgrind does it.
 *
 * A conservative mark from the roots: the writable segments of every
 * loaded module (dl_iterate_phdr; dbgalloc's own excepted), every thread's
 * registers and stack (from its stack pointer to the end of its stack
 * mapping; for the calling thread, from the bound its entry into dbgalloc
 * recorded, scanbound.h, so that dbgalloc's own frames are not read), and
 * every thread's static TLS and thread control block, plus blocks the
 * program asked to ignore (dbgalloc_ignore), whose contents count as
 * roots. Any aligned word that holds the address of a live block's first
 * byte is a start pointer, one inside it an interior one.
 *
 *   still reachable   a chain of start pointers leads to it from a root
 *   possibly lost     only chains with an interior pointer lead to it
 *   definitely lost   nothing leads to it: a root leak, which "holds" the
 *                     lost blocks it reaches
 *   indirectly lost   only other lost blocks lead to it
 *
 * Every other thread is stopped (stop.h) while the blocks are listed and
 * the memory scanned, and resumed before anything is reported. The scan
 * allocates nothing: its tables are mapped from the OS.
 */
#ifndef DA_AUDIT_LEAK_H
#define DA_AUDIT_LEAK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum da_leak_class {
	DA_LEAK_DEFINITE = 0,
	DA_LEAK_INDIRECT,
	DA_LEAK_POSSIBLE,
	DA_LEAK_REACHABLE,
	DA_LEAK_NCLASS,
	DA_LEAK_IGNORED = DA_LEAK_NCLASS, /* never reported */
};

/* One live block of a scan. */
struct da_lblock {
	uintptr_t user;       /* the pointer the program holds */
	uint64_t size;        /* the bytes it asked for */
	uint64_t gen;         /* generation */
	uint64_t held_bytes;  /* definitely lost: the indirectly lost bytes */
	uint32_t held_blocks; /*   and blocks it keeps unreachable */
	uint32_t site;        /* call-site id */
	uint8_t cls;          /* enum da_leak_class */
	uint8_t mark;         /* the scan's own state */
	uint8_t kind;         /* enum da_kind (header.h) */
	uint8_t size_class;   /* alloc's (DA_CLASS_LARGE: none) */
	uint32_t thread;      /* heap.h: whose heap holds it (0: none) */
};

struct da_leak_scan {
	struct da_lblock *b; /* sorted by address */
	size_t n;
	size_t cap; /* entries mapped */
	/* The search index: every block's address, compactly, and every
	 * DA_LEAK_STRIDE-th of them (small enough to stay in cache), so a
	 * lookup misses the cache a few times, not at every step of a
	 * binary search over the blocks. */
	uintptr_t *keys, *top;
	size_t ntop;
	unsigned threads; /* threads whose stacks were scanned */
	unsigned missed;  /* threads that could not be stopped */
};

#define DA_LEAK_STRIDE 64

/* Call-site ids the scan treats specially (never stored in the depot). */
#define DA_SITE_IGNORED  0xfffffffdu /* dbgalloc_ignore: a root */
#define DA_SITE_INTERNAL 0xfffffffeu /* dbgalloc's own: not reported */

/* Scans; returns 0, or -1 when memory for the tables could not be
 * mapped. Must be called outside any allocator operation, and below an
 * entry point's DA_SCAN_ENTER (scanbound.h), or on a thread of dbgalloc's
 * own: otherwise the calling thread's stack is read from the scan's own
 * frame up, dbgalloc's frames above it with their stale words included
 * (fit for a test only). */
int da_leak_scan(struct da_leak_scan *s);
void da_leak_scan_free(struct da_leak_scan *s);

/* Lists the live blocks (in s->b, in no order; no index, no classes),
 * with the other threads stopped. Returns 0, or -1 as da_leak_scan. */
int da_leak_list(struct da_leak_scan *s);

/* What da_leak_scan_fork tells the parent (and, all but child, pause_ns
 * and fork_ns, the child). */
struct da_leak_fork {
	pid_t parent;      /* the process checked */
	pid_t child;       /* the copy that scans it */
	uint64_t pause_ns; /* from the first lock taken to the last released */
	uint64_t fork_ns;  /* of which the fork (copying the page tables) */
	uint64_t unix_ns;  /* when the threads were stopped (CLOCK_REALTIME) */
	unsigned threads;  /* threads stopped (the caller not counted) */
	unsigned missed;   /* threads that could not be stopped */
};

/*
 * The live check's scan (livecheck.h): takes every allocator lock, stops
 * the other threads, forks a copy of the process, resumes the threads and
 * releases the locks at once. Returns, in the parent, 0 (f filled), or -1
 * with errno when no copy could be made (nothing else changed); in the
 * copy, 1 with s listed and classified as da_leak_scan does, from the
 * memory as it was at the stop, or -2 when memory for the tables could not
 * be mapped. The copy has one thread, the caller's, and still holds every
 * allocator lock: it must call da_heap_fork_child() before it allocates,
 * and end with _exit. Must be called outside any allocator operation,
 * by a thread that blocks every signal the copy must not take.
 */
int da_leak_scan_fork(struct da_leak_scan *s, struct da_leak_fork *f);

/* fork, in the child: no scan is under way there. */
void da_leak_fork_child(void);

/*
 * The same, with a caller's work at the stop: before(arg) runs after the
 * roots that need the dynamic loader are listed and before the allocator's
 * locks are taken (it takes the caller's locks that a stopped thread might
 * otherwise hold), stopped(arg) while the other threads are stopped, after
 * the blocks are listed (it must not allocate), after(arg) once they run
 * again. Any of them may be NULL.
 */
struct da_leak_hook {
	void (*before)(void *arg);
	void (*stopped)(void *arg);
	void (*after)(void *arg);
	void *arg;
};
int da_leak_scan_with(struct da_leak_scan *s, const struct da_leak_hook *h);
int da_leak_list_with(struct da_leak_scan *s, const struct da_leak_hook *h);

/* The index of the block of s containing address a, or -1 (for tests). */
long da_leak_find(const struct da_leak_scan *s, uintptr_t a);

/*
 * The probe: which aligned words of the roots (as the scan reads them) and
 * of every live block of the program's hold a value in one of the ranges
 * [lo[i], hi[i]) (sorted, disjoint) — the pointers still aiming into
 * memory that is no block any more (DBGALLOC_DANGLING). The other threads
 * are stopped meanwhile (waiting patience_ms at most for each round of
 * them), as for a scan, and the same rules hold for the caller (outside
 * any allocator operation, below a DA_SCAN_ENTER or another bound).
 */
enum da_held_in {
	DA_HELD_BLOCK = 0, /* a live block: holder describes it */
	DA_HELD_DATA,      /* a module's writable data (globals) */
	DA_HELD_STACK,     /* a thread's stack */
	DA_HELD_REGS,      /* a stopped thread's registers (at is 0) */
	DA_HELD_TLS,       /* a thread's static TLS or thread control block */
};

struct da_leak_held {
	uintptr_t at;            /* the word's address; 0 for a register */
	uintptr_t value;         /* what it holds */
	uint32_t range;          /* the range value lies in */
	uint8_t in;              /* enum da_held_in */
	pid_t tid;               /* stack, registers, TLS: the thread */
	struct da_lblock holder; /* DA_HELD_BLOCK: the block holding it */
};

struct da_leak_probe {
	/* In: */
	const uintptr_t *lo, *hi; /* n ranges, by address */
	size_t n;
	size_t max;           /* words to note at most (the rest counted) */
	unsigned patience_ms; /* for each round of the stop */
	/* Out (mapped from the OS: da_leak_probe_free): */
	struct da_leak_held *found; /* in the order read: roots first */
	size_t nfound, cap;
	uint64_t total;   /* words found, noted or not */
	size_t blocks;    /* live blocks read */
	unsigned threads; /* threads whose stacks were read */
	unsigned missed;  /* threads that could not be stopped */
};

/* Probes; returns 0, or -1 when memory for the tables could not be
 * mapped (found may then hold what was noted before). */
int da_leak_probe(struct da_leak_probe *p);
void da_leak_probe_free(struct da_leak_probe *p);

#endif /* DA_AUDIT_LEAK_H */
