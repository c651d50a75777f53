/*
 * audit/unwind.c — the frame-pointer walk, the libunwind path, and what
 * both stand on: the module snapshot and the thread's stack bounds.
 *
 * The module snapshot lists the executable segments of the loaded modules
 * (page-rounded, sorted, each marked wrapper or not) and the span of each
 * module. It lives in mmap'ed memory, is built by dl_iterate_phdr in
 * da_unwind_init and again when a pc falls inside a module it does not
 * know (a later dlopen), and is replaced with one atomic store: readers
 * take no lock. An old snapshot is never unmapped (a reader may still be
 * in it); one is published only when the modules changed, so the leak is
 * one snapshot per dlopen or dlclose seen. A per-page cache, tagged with
 * the snapshot's generation, answers most "is this code, is it a
 * wrapper" questions in one load instead of a binary search.
 *
 * Why calling dl_iterate_phdr inside malloc cannot deadlock. It takes the
 * loader's dl_load_write_lock, a recursive lock; the reload below and
 * libunwind both call it. A thread that holds that lock already (a
 * dl_iterate_phdr callback calling strdup, the loader calling malloc, a
 * signal handler that interrupted dlopen or dlclose) takes it again. A
 * thread that waits for it waits for a holder that needs nothing held by
 * a capturing thread, provided captures hold no lock across the call:
 *   - the reload takes no lock of ours (a timestamp CAS elects one
 *     reloader, the others go on without waiting; the snapshot is
 *     published with a CAS);
 *   - neither runs while the capturing thread holds an allocator lock
 *     (da_locks_held), so no cycle passes through the allocator;
 *   - libunwind runs with its cache off (unw_no_lock): with it, libunwind
 *     1.6 holds the cache's lock across dl_iterate_phdr, and a capture
 *     by a thread holding the loader's lock waited for it for ever
 *     (test_unwind signals_during_dlopen hung one run in three);
 *   - libunwind itself does not call the real dl_iterate_phdr during a
 *     capture but phdrs.c's copy (its GOT slot is patched): a handler
 *     that interrupted its own thread inside the lock's lock or unlock
 *     would wait for itself (phdrs.h). The reload below still calls it,
 *     only for a pc in a module the snapshot lacks.
 * A reload happens only for a pc that _dl_find_object (lock-free) places
 * in a module the snapshot lacks, at most once per RELOAD_MS.
 *
 * Fork: libunwind keeps internal locks; a child forked while another
 * thread was inside unw_backtrace could wait on one for ever, so such a
 * child unwinds by frame pointers only.
 */
#include "audit/unwind.h"
#include "alloc/lock.h"
#include "alloc/os.h"
#include "audit/phdrs.h"
#include "audit/sortkey.h"

#include <dlfcn.h>
#include <sys/auxv.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What a pc is. */
enum { PC_NONE = 1, PC_CODE = 2, PC_WRAPPER = 3 };

/* ---- the module snapshot ---------------------------------------------- */

struct seg {
	uintptr_t lo, hi; /* [lo, hi): page-rounded executable segment */
	uintptr_t cls;    /* PC_CODE or PC_WRAPPER */
};

struct span {
	uintptr_t lo, hi;
};

struct snap {
	size_t bytes; /* of its mapping */
	unsigned gen; /* 1, 2, ...: tags the page cache */
	unsigned nsegs, nmods;
	struct seg *segs;  /* sorted by lo */
	struct span *mods; /* whole modules, sorted by lo */
};

static _Atomic(struct snap *) snap_cur;

/* Modules whose code calls malloc for the program, built without frame
 * pointers: their callers are found by libunwind. */
static const char *const wrapper_names[] = {
        "libc.so",    "libc-2.",  "libstdc++.so", "libgcc_s.so",
        "libm.so",    "libm-2.",  "ld-linux",     "ld-2.",
        "libpthread", "libdl.so", "librt.so",
};

static int
is_wrapper(const char *path)
{
	if (path == NULL)
		return 0;
	const char *base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	for (size_t i = 0; i < sizeof(wrapper_names) / sizeof(*wrapper_names);
	     i++)
		if (strncmp(base, wrapper_names[i], strlen(wrapper_names[i])) ==
		    0)
			return 1;
	return 0;
}

struct build {
	struct snap *s; /* NULL: count only */
	unsigned nsegs, nmods, cap_segs, cap_mods;
};

static int
phdr_visit(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct build *b = arg;
	uintptr_t page = DA_PAGE - 1;
	uintptr_t mlo = UINTPTR_MAX, mhi = 0;
	uintptr_t cls = is_wrapper(info->dlpi_name) ? PC_WRAPPER : PC_CODE;
	(void)size;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t lo = (info->dlpi_addr + ph->p_vaddr) & ~page;
		uintptr_t hi =
		        (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page) &
		        ~page;
		if (lo < mlo)
			mlo = lo;
		if (hi > mhi)
			mhi = hi;
		if (!(ph->p_flags & PF_X))
			continue;
		if (b->s != NULL && b->nsegs < b->cap_segs)
			b->s->segs[b->nsegs] = (struct seg){lo, hi, cls};
		b->nsegs++;
	}
	if (mlo < mhi) {
		if (b->s != NULL && b->nmods < b->cap_mods)
			b->s->mods[b->nmods] = (struct span){mlo, mhi};
		b->nmods++;
	}
	return 0;
}

/* A new snapshot of the loaded modules, or NULL. Counts first, then maps
 * room for a few more and fills; tries again if modules came meanwhile. */
static struct snap *
snap_build(void)
{
	for (int attempt = 0; attempt < 4; attempt++) {
		struct build b = {NULL, 0, 0, 0, 0};
		dl_iterate_phdr(phdr_visit, &b);
		unsigned cs = b.nsegs + 8, cm = b.nmods + 8;
		size_t bytes = sizeof(struct snap) + cs * sizeof(struct seg) +
		               cm * sizeof(struct span);
		bytes = (bytes + DA_PAGE - 1) & ~(size_t)(DA_PAGE - 1);
		struct snap *s = da_os_map(bytes);
		if (s == NULL)
			return NULL;
		s->bytes = bytes;
		s->segs = (struct seg *)(s + 1);
		s->mods = (struct span *)(s->segs + cs);
		b = (struct build){s, 0, 0, cs, cm};
		dl_iterate_phdr(phdr_visit, &b);
		if (b.nsegs <= cs && b.nmods <= cm) {
			s->nsegs = b.nsegs;
			s->nmods = b.nmods;
			da_sort_by_addr(s->segs, s->nsegs, sizeof(*s->segs));
			da_sort_by_addr(s->mods, s->nmods, sizeof(*s->mods));
			return s;
		}
		da_os_unmap(s, bytes);
	}
	return NULL;
}

static int
snap_same(const struct snap *a, const struct snap *b)
{
	return a->nsegs == b->nsegs && a->nmods == b->nmods &&
	       memcmp(a->segs, b->segs, a->nsegs * sizeof(struct seg)) == 0 &&
	       memcmp(a->mods, b->mods, a->nmods * sizeof(struct span)) == 0;
}

/* Takes a new snapshot and publishes it if the modules changed. Returns
 * the current snapshot. */
static struct snap *
snap_reload(void)
{
	struct snap *old =
	        atomic_load_explicit(&snap_cur, memory_order_acquire);
	struct snap *s = snap_build();
	if (s == NULL)
		return old;
	if (old != NULL && snap_same(old, s)) {
		da_os_unmap(s, s->bytes);
		return old;
	}
	s->gen = old != NULL ? old->gen + 1 : 1;
	if ((s->gen & 0x3ff) == 0)
		s->gen++;
	if (!atomic_compare_exchange_strong_explicit(&snap_cur, &old, s,
	                                             memory_order_acq_rel,
	                                             memory_order_acquire)) {
		/* Another thread published one taken as late as ours. */
		da_os_unmap(s, s->bytes);
		return old;
	}
	da_phdrs_reload(); /* what libunwind will be told (phdrs.h) */
	return s;
}

/* PC_CODE or PC_WRAPPER if pc lies in an executable segment, else PC_NONE. */
static unsigned
snap_class(const struct snap *s, uintptr_t pc)
{
	unsigned lo = 0, hi = s->nsegs;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (pc < s->segs[mid].lo)
			hi = mid;
		else if (pc >= s->segs[mid].hi)
			lo = mid + 1;
		else
			return (unsigned)s->segs[mid].cls;
	}
	return PC_NONE;
}

static int
snap_has_module(const struct snap *s, uintptr_t addr)
{
	for (unsigned i = 0; i < s->nmods; i++)
		if (addr - s->mods[i].lo < s->mods[i].hi - s->mods[i].lo)
			return 1;
	return 0;
}

/* ---- the page cache ----------------------------------------------------- */

/*
 * One word per slot: the page's address | (generation & 0x3ff) << 2 |
 * class. A slot answers only for the snapshot it was filled from (a
 * generation is never 0 modulo 1024, so an empty slot answers nothing); a
 * stale word written by a reader of an older snapshot is ignored for the
 * same reason.
 */
#define PAGE_CACHE_LOG 10
#define RELOAD_MS      10
static _Atomic(uint64_t) page_cache[1 << PAGE_CACHE_LOG];
static _Atomic(uint64_t) last_reload_ms;

/* The generation bits of s's page-cache words. */
DA_INLINE uint64_t
gen_bits(const struct snap *s)
{
	return (uint64_t)(s->gen & 0x3ff) << 2;
}

DA_INLINE _Atomic(uint64_t) *
page_slot(uintptr_t pc)
{
	return &page_cache[((pc >> 12) * 0x9e3779b97f4a7c15ull) >>
	                   (64 - PAGE_CACHE_LOG)];
}

/* pc lies in a loaded object the snapshot lacks: reloads it, at most once
 * per RELOAD_MS, and only where that cannot deadlock. 1 if the snapshot
 * may be stale (do not cache a "not code" answer). */
static int
module_unknown(struct snap **s, uintptr_t pc)
{
#if !__GLIBC_PREREQ(2, 35)
	/* No lock-free way to tell a new module from garbage: modules
	 * loaded after da_unwind_init stay unknown. */
	(void)s;
	(void)pc;
	return 0;
#else
	struct dl_find_object fo;
	if (_dl_find_object((void *)pc, &fo) != 0)
		return 0;
	if (snap_has_module(*s, (uintptr_t)fo.dlfo_map_start))
		return 0;
	if (da_locks_held != 0)
		return 1;
	uint64_t now = da_os_now_ms();
	uint64_t last =
	        atomic_load_explicit(&last_reload_ms, memory_order_relaxed);
	if (now - last < RELOAD_MS ||
	    !atomic_compare_exchange_strong_explicit(&last_reload_ms, &last,
	                                             now, memory_order_relaxed,
	                                             memory_order_relaxed))
		return 1;
	*s = snap_reload();
	return 1;
#endif
}

/* The class of pc by the current snapshot (not necessarily the caller's:
 * the caller's page-cache tag then misses until its next capture). */
static __attribute__((noinline)) unsigned
pc_class_slow(uintptr_t pc)
{
	struct snap *s = atomic_load_explicit(&snap_cur, memory_order_acquire);
	unsigned cls = snap_class(s, pc);
	if (cls == PC_NONE && module_unknown(&s, pc)) {
		cls = snap_class(s, pc);
		if (cls == PC_NONE)
			return cls;
	}
	atomic_store_explicit(page_slot(pc),
	                      (pc & ~(uintptr_t)0xfff) | gen_bits(s) | cls,
	                      memory_order_relaxed);
	return cls;
}

/* What pc is; gen: the gen_bits of a snapshot taken (never NULL). About
 * 10 instructions when the page is cached. */
DA_INLINE unsigned
pc_class(uint64_t gen, uintptr_t pc)
{
	uint64_t e = atomic_load_explicit(page_slot(pc), memory_order_relaxed);
	if (da_likely((e ^ ((pc & ~(uintptr_t)0xfff) | gen)) < 4))
		return (unsigned)(e & 3);
	return pc_class_slow(pc);
}

/* ---- the thread's stack ------------------------------------------------- */

/*
 * Bounds of the stacks this thread runs on, found in /proc/self/maps on
 * first use: its own (the mapping "[stack]" for the main thread, which
 * grows; for other threads the mapping that holds the thread pointer, cut
 * off at it, since glibc keeps the thread descriptor above the stack), and
 * the last other one (a sigaltstack, a coroutine's stack). Looking up
 * other stacks is limited to ALT_LOOKUPS per thread; after that a capture
 * on an unknown stack records ret0 only.
 */
struct bounds {
	uintptr_t lo, hi;
	uintptr_t grows; /* 1: may grow below lo ("[stack]") */
};

#define ALT_LOOKUPS     64
#define GROWTH_MAX      ((uintptr_t)1 << 30) /* for an unlimited stack */
#define DWARF_STACK_MIN 16384 /* libunwind used 6.8 KiB, cold, here */

static __thread struct bounds t_own, t_alt;
static __thread unsigned t_lookups;

static inline int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return 0;
}

/* The mapping that holds addr, and whether it is "[stack]"; 1 if found.
 * Raw system calls and a small buffer: no allocation. */
static int
maps_find(uintptr_t addr, struct bounds *out, int *is_stack)
{
	char buf[512];
	char tail[8] = {0}; /* the last 7 bytes of the matching line */
	uintptr_t lo = 0, hi = 0;
	int field = 0, match = 0, found = 0, done = 0;
	int saved = errno;
	long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/maps",
	                  O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errno = saved;
		return 0;
	}
	while (!done) {
		long n = syscall(SYS_read, fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (long i = 0; i < n && !done; i++) {
			char c = buf[i];
			if (c == '\n') {
				if (match) {
					out->lo = lo;
					out->hi = hi;
					*is_stack =
					        memcmp(tail, "[stack]", 7) == 0;
					found = done = 1;
				}
				lo = hi = 0;
				field = 0;
			} else if (field == 0) {
				if (c == '-')
					field = 1;
				else
					lo = lo << 4 | (uintptr_t)hexval(c);
			} else if (field == 1) {
				if (c == ' ') {
					field = 2;
					match = lo <= addr && addr < hi;
					/* Lines are sorted by address. */
					if (lo > addr)
						done = 1;
				} else {
					hi = hi << 4 | (uintptr_t)hexval(c);
				}
			} else if (match) {
				memmove(tail, tail + 1, 6);
				tail[6] = c;
			}
		}
	}
	syscall(SYS_close, fd);
	errno = saved;
	return found;
}

/* How far the main thread's stack may grow: RLIMIT_STACK. */
static _Atomic(uintptr_t) main_stack_max;

static void
main_stack_max_set(void)
{
	struct rlimit rl;
	int saved = errno;
	long rc = syscall(SYS_prlimit64, 0, RLIMIT_STACK, NULL, &rl);
	errno = saved;
	uintptr_t max = GROWTH_MAX;
	if (rc == 0 && rl.rlim_cur < GROWTH_MAX)
		max = (uintptr_t)rl.rlim_cur;
	atomic_store_explicit(&main_stack_max, max, memory_order_relaxed);
}

static __attribute__((noinline)) int
stack_find(uintptr_t sp, struct bounds *b)
{
	stack_t ss;
	int saved = errno;
	int rc = sigaltstack(NULL, &ss);
	errno = saved;
	if (rc == 0 && (ss.ss_flags & SS_ONSTACK) &&
	    sp - (uintptr_t)ss.ss_sp < ss.ss_size) {
		t_alt.lo = (uintptr_t)ss.ss_sp;
		t_alt.hi = (uintptr_t)ss.ss_sp + ss.ss_size;
		t_alt.grows = 0;
		*b = t_alt;
		return 1;
	}
	/* The main thread's stack grows down, up to its rlimit: not a new
	 * stack (coroutine stacks mapped by the program lie further down,
	 * below the kernel's gap for it). */
	int growth =
	        t_own.grows && sp < t_own.lo &&
	        t_own.hi - sp <= atomic_load_explicit(&main_stack_max,
	                                              memory_order_relaxed);
	if (!growth) {
		if (t_lookups >= ALT_LOOKUPS)
			return 0;
		t_lookups++;
	}
	struct bounds m = {0, 0, 0};
	int is_stack = 0;
	if (!maps_find(sp, &m, &is_stack))
		return 0;
	uintptr_t tp = (uintptr_t)__builtin_thread_pointer();
	if (is_stack || (tp > sp && tp < m.hi)) {
		if (is_stack)
			main_stack_max_set();
		t_own.lo = m.lo;
		t_own.hi = is_stack ? m.hi : tp;
		t_own.grows = (uintptr_t)is_stack;
		*b = t_own;
		return 1;
	}
	t_alt = m;
	*b = m;
	return 1;
}

/* The stack sp is on, as [lo, hi): 1, or 0 if not known. */
DA_INLINE int
stack_bounds(uintptr_t sp, struct bounds *b)
{
	if (sp - t_own.lo < t_own.hi - t_own.lo) {
		*b = t_own;
		return 1;
	}
	if (sp - t_alt.lo < t_alt.hi - t_alt.lo) {
		*b = t_alt;
		return 1;
	}
	return stack_find(sp, b);
}

/* ---- the walks ---------------------------------------------------------- */

/*
 * x86_64 frames: [fp] = the caller's fp, [fp + 8] = the return address.
 * Every fp read lies on the stack, above sp, 8-aligned, and above the
 * previous one, so the walk ends and never faults, whatever rbp held. A
 * return address must be code of a module we know; before the first
 * snapshot (known == 0), anything that is not tiny and not on the stack.
 * About 25 instructions a frame.
 */
DA_INLINE unsigned
fp_walk_as(int known, uint64_t gen, uintptr_t *pcs, unsigned max,
           uintptr_t ret0, uintptr_t fp, uintptr_t sp, const struct bounds *b)
{
	uintptr_t top = b->hi - 16;
	if (fp < sp || fp > top || (fp & 7) != 0 ||
	    ((const uintptr_t *)fp)[1] != ret0)
		return 1;
	unsigned n = 1;
	while (n < max) {
		uintptr_t next = ((const uintptr_t *)fp)[0];
		if (next <= fp || next > top || (next & 7) != 0)
			break;
		uintptr_t ret = ((const uintptr_t *)next)[1];
		if (known ? pc_class(gen, ret) < PC_CODE
		          : ret < 0x10000 || ret - b->lo < b->hi - b->lo)
			break;
		pcs[n++] = ret;
		fp = next;
	}
	return n;
}

static unsigned
fp_walk(const struct snap *s, uintptr_t *pcs, unsigned max, uintptr_t ret0,
        uintptr_t fp, uintptr_t sp, const struct bounds *b)
{
	if (s != NULL)
		return fp_walk_as(1, gen_bits(s), pcs, max, ret0, fp, sp, b);
	return fp_walk_as(0, 0, pcs, max, ret0, fp, sp, b);
}

typedef int (*backtrace_fn)(void **, int);
static _Atomic(backtrace_fn) unw_backtrace_p;
/* Threads inside unw_backtrace (for the fork child). */
static _Atomic(unsigned) unw_inside;

/* Frames above ours that may come before ret0 in unw_backtrace's answer
 * (this function, da_unwind, the entry point). */
#define DWARF_SKIP 8

static unsigned
dwarf_walk(const struct snap *s, uintptr_t *pcs, unsigned max, uintptr_t ret0,
           backtrace_fn bt)
{
	void *buf[DA_DEPOT_MAX_FRAMES + DWARF_SKIP];
	int cap = (int)(sizeof(buf) / sizeof(*buf));
	/* Each frame costs libunwind about 8 ns. Our own frames above ret0
	 * are 2 to 4 and the program's frame is usually within 4 of ret0
	 * (strdup: 1): ask for that much first, for all only if short. */
	int want = (int)max + DWARF_SKIP;
	if (want > cap)
		want = cap;
	for (;;) {
		atomic_fetch_add_explicit(&unw_inside, 1, memory_order_relaxed);
		da_phdrs_serve = 1;
		atomic_signal_fence(memory_order_seq_cst);
		int k = bt(buf, want);
		atomic_signal_fence(memory_order_seq_cst);
		da_phdrs_serve = 0;
		atomic_fetch_sub_explicit(&unw_inside, 1, memory_order_relaxed);
		int i = 0;
		while (i < k && i < DWARF_SKIP && (uintptr_t)buf[i] != ret0)
			i++;
		if (i == k || i == DWARF_SKIP)
			return 0;
		unsigned n = 0;
		int own = 0;
		for (; i < k && n < DA_DEPOT_MAX_FRAMES; i++) {
			if (n >= max && own)
				break;
			pcs[n] = (uintptr_t)buf[i];
			if (!own && pc_class(gen_bits(s), pcs[n]) != PC_WRAPPER)
				own = 1;
			n++;
		}
		if (k < want || want == cap || (own && n >= max))
			return n;
		want = cap;
	}
}

static __thread unsigned char t_busy;

/* The capture past ret0: with the guard set, by libunwind if ret0 is in a
 * wrapper (and that is safe here), else by frame pointers. */
static __attribute__((noinline)) unsigned
unwind_more(uintptr_t *pcs, unsigned max, uintptr_t ret0, uintptr_t fp,
            struct snap *s, unsigned cls)
{
	unsigned n = 0;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	struct bounds b;
	if (max > DA_DEPOT_MAX_FRAMES)
		max = DA_DEPOT_MAX_FRAMES;
	t_busy = 1;
	atomic_signal_fence(memory_order_seq_cst);
	if (cls == PC_WRAPPER) {
		backtrace_fn bt = atomic_load_explicit(&unw_backtrace_p,
		                                       memory_order_acquire);
		if (bt != NULL && da_locks_held == 0 && stack_bounds(sp, &b) &&
		    (b.grows || sp - b.lo >= DWARF_STACK_MIN))
			n = dwarf_walk(s, pcs, max, ret0, bt);
	}
	if (n <= 1)
		n = max > 1 && stack_bounds(sp, &b)
		            ? fp_walk(s, pcs, max, ret0, fp, sp, &b)
		            : 1;
	atomic_signal_fence(memory_order_seq_cst);
	t_busy = 0;
	return n;
}

unsigned
da_unwind_fault(uintptr_t *pcs, unsigned max, uintptr_t pc, uintptr_t fp)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	struct bounds b;
	pcs[0] = pc;
	if (max > DA_DEPOT_MAX_FRAMES)
		max = DA_DEPOT_MAX_FRAMES;
	/* Only a frame pointer inside this stack, above this frame, is
	 * read: a function built without one leaves anything in it. */
	if (max <= 1 || !stack_bounds(sp, &b) || fp < sp || fp > b.hi - 16 ||
	    (fp & 7) != 0)
		return 1;
	struct snap *s = atomic_load_explicit(&snap_cur, memory_order_acquire);
	pcs[1] = ((const uintptr_t *)fp)[1];
	return 1 + fp_walk(s, pcs + 1, max - 1, pcs[1], fp, sp, &b);
}

/* Depth 1 from the program's own code, the default, costs the class of
 * ret0 (one cache load) and no more. */
unsigned
da_unwind(uintptr_t *pcs, unsigned max, uintptr_t ret0, uintptr_t fp)
{
	pcs[0] = ret0;
	if (t_busy)
		return 1;
	struct snap *s = atomic_load_explicit(&snap_cur, memory_order_acquire);
	unsigned cls = s != NULL ? pc_class(gen_bits(s), ret0) : PC_NONE;
	if (max <= 1 && cls != PC_WRAPPER)
		return 1;
	return unwind_more(pcs, max, ret0, fp, s, cls);
}

int
da_unwind_in_wrapper(uintptr_t pc)
{
	struct snap *s = atomic_load_explicit(&snap_cur, memory_order_acquire);
	return s != NULL && pc_class(gen_bits(s), pc) == PC_WRAPPER;
}

int
da_unwind_has_dwarf(void)
{
	return atomic_load_explicit(&unw_backtrace_p, memory_order_relaxed) !=
	       NULL;
}

/* In a child of fork: a thread that was inside libunwind may have left one
 * of its locks taken, and it does not exist here to release it. */
static void
unwind_fork_child(void)
{
	if (atomic_load_explicit(&unw_inside, memory_order_relaxed) != 0) {
		atomic_store_explicit(&unw_backtrace_p, NULL,
		                      memory_order_relaxed);
		atomic_store_explicit(&unw_inside, 0, memory_order_relaxed);
	}
}

/*
 * libunwind 1.6, with its default global cache, holds the cache's lock
 * while it looks up unwind tables with dl_iterate_phdr, which waits for
 * the loader's lock: see the top of this file. Without the cache it takes
 * no lock there; unw_backtrace keeps its own per-thread cache of frames,
 * so a capture costs the same once its pcs were seen (callgrind,
 * bench/unwind-cost wrap8: 1784 instructions against 1780), and a pc a
 * thread meets for the first time costs about 2 us more (the cache would
 * have shared it between threads). 1 if done. (x86_64 names, declared
 * here: libunwind.h would make libunwind-dev a build dependency.)
 */
static int
unw_no_lock(void *h)
{
	enum { UNW_CACHE_NONE = 0 };
	int (*set_policy)(void *, int) =
	        (int (*)(void *, int))dlsym(h, "_ULx86_64_set_caching_policy");
	void **local = dlsym(h, "_ULx86_64_local_addr_space");
	if (set_policy == NULL || local == NULL)
		return 0;
	return set_policy(*local, UNW_CACHE_NONE) == 0;
}

void
da_unwind_init(void)
{
	static _Atomic(int) started;
	if (atomic_exchange(&started, 1))
		return;
	snap_reload();
	/* dlopen and libunwind's first call allocate: those captures walk
	 * frame pointers (unw_backtrace_p is not yet set) or record ret0
	 * only (t_busy). */
	/* A static program (no dynamic loader: AT_BASE is 0) cannot load a
	 * shared libunwind, which would bring a second libc: frame pointers
	 * only there. */
	void *h = getauxval(AT_BASE) != 0
	                  ? dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL)
	                  : NULL;
	backtrace_fn bt = NULL;
	if (h != NULL && unw_no_lock(h))
		bt = (backtrace_fn)dlsym(h, "unw_backtrace");
	snap_reload();
	/* libunwind's module lookups go to phdrs.c's copy: see phdrs.h. */
	if (bt != NULL)
		da_phdrs_hook(h);
	if (bt != NULL) {
		void *warm[4];
		t_busy = 1;
		da_phdrs_serve = 1;
		bt(warm, 4);
		da_phdrs_serve = 0;
		t_busy = 0;
		atomic_store_explicit(&unw_backtrace_p, bt,
		                      memory_order_release);
	}
	pthread_atfork(NULL, NULL, unwind_fork_child);
}
