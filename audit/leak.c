/*
 * audit/leak.c — the leak scan (see leak.h).
 *
 * Order: list the roots that need the dynamic loader (module segments,
 * the static TLS size) while everything runs; take every allocator lock
 * (so no thread is stopped holding one); stop the other threads; read the
 * memory map; list the live blocks; mark; resume; release the locks.
 */
#include "audit/leak.h"
#include "alloc/alloc.h"
#include "alloc/os.h"
#include "audit/depot.h"
#include "audit/guarded.h"
#include "audit/header.h"
#include "audit/scanbound.h"
#include "audit/stop.h"

#include <dlfcn.h>
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/auxv.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The scan's marks. */
enum {
	M_NONE = 0,
	M_INTERIOR, /* an interior pointer seen; not yet classified */
	M_REACH,
	M_POSSIBLE,
	M_LEADER,
	M_INDIRECT,
	M_SKIP, /* ignored or internal */
};

/* A range of memory to scan as roots. */
struct range {
	uintptr_t lo, hi;
};

/* Tables mapped from the OS, grown by doubling. */
struct vec {
	void *p;
	size_t n, cap, elem;
};

static int
vec_push(struct vec *v, const void *e)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4096 / v->elem;
		void *p = da_os_map(cap * v->elem);
		if (p == NULL)
			return -1;
		if (v->p != NULL) {
			memcpy(p, v->p, v->n * v->elem);
			da_os_unmap(v->p, v->cap * v->elem);
		}
		v->p = p;
		v->cap = cap;
	}
	memcpy((char *)v->p + v->n * v->elem, e, v->elem);
	v->n++;
	return 0;
}

static void
vec_free(struct vec *v)
{
	if (v->p != NULL)
		da_os_unmap(v->p, v->cap * v->elem);
	v->p = NULL;
	v->n = v->cap = 0;
}

/* --- The memory map: readable ranges, from /proc/self/maps. --- */

static struct vec maps = {.elem = sizeof(struct range)};

static uintptr_t
parse_hex(const char **s)
{
	uintptr_t v = 0;
	for (;; (*s)++) {
		char c = **s;
		if (c >= '0' && c <= '9')
			v = v * 16 + (uintptr_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uintptr_t)(c - 'a' + 10);
		else
			return v;
	}
}

static void keep_static_tls(void);

/* Reads the readable mappings (raw calls: no stdio, no malloc), then
 * keeps only the TLS offsets they show to be static TLS. */
static int
read_maps(void)
{
	maps.n = 0;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/maps",
	                      O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char buf[8192];
	size_t have = 0;
	for (;;) {
		long got = syscall(SYS_read, fd, buf + have,
		                   sizeof(buf) - 1 - have);
		if (got <= 0)
			break;
		have += (size_t)got;
		buf[have] = '\0';
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			const char *s = line;
			struct range r;
			r.lo = parse_hex(&s);
			s++;
			r.hi = parse_hex(&s);
			s++;
			/* "rw-p": readable; [vvar] and the like are skipped
			 * by their names (reading vvar pages can fault). */
			if (s[0] == 'r' && strstr(s, "[vvar") == NULL &&
			    strstr(s, "[vsyscall]") == NULL)
				vec_push(&maps, &r);
			line = nl + 1;
		}
		have = (size_t)(buf + have - line);
		memmove(buf, line, have);
	}
	syscall(SYS_close, fd);
	keep_static_tls();
	return 0;
}

/* The readable mapping containing a, or NULL. */
static const struct range *
mapping_of(uintptr_t a)
{
	const struct range *m = maps.p;
	size_t lo = 0, hi = maps.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m[mid].hi <= a)
			lo = mid + 1;
		else if (m[mid].lo > a)
			hi = mid;
		else
			return &m[mid];
	}
	return NULL;
}

/* --- Roots that need the dynamic loader, listed before the stop. --- */

static struct vec segs = {.elem = sizeof(struct range)};
/* How far below the thread pointer each module's TLS block lies in the
 * calling thread. Only blocks of static TLS (in the thread pointer's own
 * mapping) count: a module loaded later may have its block elsewhere,
 * allocated through malloc, a heap block like any other. (/proc/self/maps
 * may show that heap merged with the thread's mapping, hence the lookup.) */
#define TLS_MODULES 64
static size_t tls_off[TLS_MODULES];
static unsigned tls_n;
static uintptr_t tls_tp; /* the thread pointer they were measured from */

/* Drops the TLS offsets of blocks outside the measuring thread's own
 * mapping. phdr_cb already skips blocks of ours; this also drops any
 * other block allocated apart. Such an offset, applied to another
 * thread, could span most of its stack (and call its frames TLS). */
static void
keep_static_tls(void)
{
	const struct range *r = mapping_of(tls_tp);
	unsigned k = 0;
	for (unsigned i = 0; i < tls_n; i++)
		if (r != NULL && tls_off[i] <= tls_tp - r->lo)
			tls_off[k++] = tls_off[i];
	tls_n = k;
}

/* The dynamic loader's code. What it allocates (thread vectors, TLS
 * blocks, link maps) it keeps for the life of the process, sometimes only
 * through memory that is none of ours (glibc's cache of exited threads'
 * stacks holds their thread vectors): such blocks count as roots, never
 * as leaks, as LeakSanitizer treats them. */
static uintptr_t ldso_lo, ldso_hi;

static int
phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	uintptr_t self = (uintptr_t)arg;
	int ours = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		/* (Linked statically, dbgalloc is part of the program, whose
		 * data is scanned.) */
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    self >= lo && self < lo + ph->p_memsz &&
		    info->dlpi_name != NULL && info->dlpi_name[0] != '\0')
			ours = 1;
	}
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t base = getauxval(AT_BASE);
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    base != 0 && info->dlpi_addr == base) {
			ldso_lo = info->dlpi_addr + ph->p_vaddr;
			ldso_hi = ldso_lo + ph->p_memsz;
		}
		if (ph->p_type == PT_TLS && info->dlpi_tls_data != NULL) {
			uintptr_t tp = (uintptr_t)__builtin_thread_pointer();
			uintptr_t d = (uintptr_t)info->dlpi_tls_data;
			struct da_block b;
			tls_tp = tp;
			if (d < tp && tls_n < TLS_MODULES &&
			    !da_alloc_lookup((const void *)d, &b))
				tls_off[tls_n++] = tp - d;
		}
		/* dbgalloc's own data holds no pointer the program owns:
		 * its free lists and rings would only hide leaks. */
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || ours)
			continue;
		struct range r = {info->dlpi_addr + ph->p_vaddr,
		                  info->dlpi_addr + ph->p_vaddr + ph->p_memsz};
		vec_push(&segs, &r);
	}
	return 0;
}

/* --- The blocks. --- */

static int
collect_block(const struct da_block *b, void *arg)
{
	struct vec *v = arg;
	const char *blk = b->user;
	/* A block between alloc's hand-out and audit's header (a thread
	 * stopped there), or never given a header, is not the program's. */
	if (b->size < DA_HDR_EXTRA || !da_hdr_intact(blk))
		return 0;
	struct da_hdr_info i;
	da_hdr_unpack(blk, &i);
	/* A size the block cannot hold: not a header of ours after all. */
	if (i.size > b->size - da_audit_extra(blk))
		return 0;
	const uintptr_t *pcs;
	if (i.site != DA_SITE_IGNORED && i.site != DA_SITE_INTERNAL &&
	    da_depot_get(i.site, &pcs) > 0 &&
	    pcs[0] - ldso_lo < ldso_hi - ldso_lo)
		i.site = DA_SITE_IGNORED; /* the loader's: a root */
	unsigned cls;
	uint32_t thread;
	da_alloc_block_owner(b->start, &cls, &thread);
	struct da_lblock e = {
	        .user = (uintptr_t)blk + DA_HDR,
	        .size = i.size,
	        .gen = i.gen,
	        .site = i.site,
	        .cls = DA_LEAK_REACHABLE,
	        .kind = (uint8_t)i.kind,
	        .mark = i.site == DA_SITE_IGNORED || i.site == DA_SITE_INTERNAL
	                        ? M_SKIP
	                        : M_NONE,
	        .size_class = (uint8_t)cls,
	        .thread = thread,
	};
	return vec_push(v, &e) != 0;
}

/* Heapsort: no recursion, no memory (when the radix sort below gets no
 * memory for its tables). */
static void
heapsort_blocks(struct da_lblock *b, size_t n)
{
	for (size_t start = n / 2; start-- > 0;) {
		size_t root = start;
		for (size_t child; (child = 2 * root + 1) < n; root = child) {
			if (child + 1 < n && b[child].user < b[child + 1].user)
				child++;
			if (b[root].user >= b[child].user)
				break;
			struct da_lblock t = b[root];
			b[root] = b[child];
			b[child] = t;
		}
	}
	for (size_t end = n; end-- > 1;) {
		struct da_lblock t = b[0];
		b[0] = b[end];
		b[end] = t;
		size_t root = 0;
		for (size_t child; (child = 2 * root + 1) < end; root = child) {
			if (child + 1 < end &&
			    b[child].user < b[child + 1].user)
				child++;
			if (b[root].user >= b[child].user)
				break;
			struct da_lblock u = b[root];
			b[root] = b[child];
			b[child] = u;
		}
	}
}

/* Sorts the blocks by address: a radix sort of (address, index) pairs,
 * 16 bits a pass over the 48 bits of a user-space address, then one
 * pass that moves the blocks into place. (Measured on bench/leakaudit's
 * million blocks: the whole check took 0.72 s with the heapsort, whose
 * steps miss the cache, 0.59 s with this.) */
static void
sort_blocks(struct da_lblock *b, size_t n)
{
	struct pair {
		uintptr_t key;
		size_t i;
	};
	size_t bytes = n * sizeof(struct pair);
	struct pair *x = n ? da_os_map(bytes) : NULL;
	struct pair *y = n ? da_os_map(bytes) : NULL;
	struct da_lblock *out = n ? da_os_map(n * sizeof(*b)) : NULL;
	size_t *count = da_os_map(65536 * sizeof(size_t));
	if (x == NULL || y == NULL || out == NULL || count == NULL) {
		heapsort_blocks(b, n);
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		x[i].key = b[i].user;
		x[i].i = i;
	}
	for (unsigned shift = 0; shift < 48; shift += 16) {
		memset(count, 0, 65536 * sizeof(size_t));
		for (size_t i = 0; i < n; i++)
			count[(x[i].key >> shift) & 0xffff]++;
		size_t sum = 0;
		for (size_t d = 0; d < 65536; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			y[count[(x[i].key >> shift) & 0xffff]++] = x[i];
		struct pair *t = x;
		x = y;
		y = t;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = b[x[i].i];
	memcpy(b, out, n * sizeof(*b));
done:
	if (x != NULL)
		da_os_unmap(x, bytes);
	if (y != NULL)
		da_os_unmap(y, bytes);
	if (out != NULL)
		da_os_unmap(out, n * sizeof(*b));
	if (count != NULL)
		da_os_unmap(count, 65536 * sizeof(size_t));
}

/* Builds the search index of s (sorted); 0, or -1 without memory (the
 * lookups then search the blocks themselves). */
static int
index_build(struct da_leak_scan *s)
{
	s->ntop = (s->n + DA_LEAK_STRIDE - 1) / DA_LEAK_STRIDE;
	s->keys = s->n ? da_os_map(s->n * sizeof(uintptr_t)) : NULL;
	s->top = s->ntop ? da_os_map(s->ntop * sizeof(uintptr_t)) : NULL;
	if ((s->n && s->keys == NULL) || (s->ntop && s->top == NULL))
		return -1;
	for (size_t i = 0; i < s->n; i++)
		s->keys[i] = s->b[i].user;
	for (size_t k = 0; k < s->ntop; k++)
		s->top[k] = s->keys[k * DA_LEAK_STRIDE];
	return 0;
}

/* The last index in [lo, hi) whose key is at or below a (keys[lo] <= a). */
static size_t
last_at_or_below(const uintptr_t *keys, size_t lo, size_t hi, uintptr_t a)
{
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (keys[mid] <= a)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

long
da_leak_find(const struct da_leak_scan *s, uintptr_t a)
{
	if (s->n == 0 || a < s->b[0].user)
		return -1;
	size_t i;
	if (s->keys != NULL && s->top != NULL) {
		size_t k = last_at_or_below(s->top, 0, s->ntop, a);
		size_t lo = k * DA_LEAK_STRIDE, hi = lo + DA_LEAK_STRIDE;
		i = last_at_or_below(s->keys, lo, hi < s->n ? hi : s->n, a);
	} else {
		i = 0;
		for (size_t hi = s->n; hi - i > 1;) {
			size_t mid = i + (hi - i) / 2;
			if (s->b[mid].user <= a)
				i = mid;
			else
				hi = mid;
		}
	}
	const struct da_lblock *b = &s->b[i];
	if (a == b->user || a - b->user < b->size)
		return (long)i;
	return -1;
}

/* --- Marking. --- */

struct marker {
	struct da_leak_scan *s;
	struct vec stack; /* block indices to scan */
	struct vec cand;  /* blocks an interior pointer reached */
	int phase;        /* 'A' start pointers, 'B' any, 'C' cliques */
	size_t leader;
	/* da_leak_probe: the words are looked up in its ranges instead of
	 * among the blocks; what is being read, for the words it finds. */
	struct da_leak_probe *probe;
	struct vec found; /* struct da_leak_held */
	uint8_t in;       /* enum da_held_in */
	pid_t tid;        /* the thread whose stack, TLS or registers */
	size_t holder;    /* DA_HELD_BLOCK: the block's index */
};

static void probe_word(struct marker *m, uintptr_t at, uintptr_t w);

static void
push(struct marker *m, size_t i)
{
	uint32_t v = (uint32_t)i;
	vec_push(&m->stack, &v);
}

/* What one word that may point at block i does, in the current phase. */
static void
hit(struct marker *m, uintptr_t w)
{
	if (m->probe != NULL) {
		probe_word(m, 0, w); /* a register, or a pointer made up */
		return;
	}
	if (da_pagemap_kind((void *)w) == DA_PM_NONE)
		return;
	long i = da_leak_find(m->s, w);
	if (i < 0) {
		/* A block in flight in a stopped thread (inside malloc or
		 * free) may be held only as the address of its header. */
		i = da_leak_find(m->s, w + DA_HDR);
		if (i < 0 || m->s->b[i].user <= w)
			return;
		w = m->s->b[i].user;
	}
	struct da_lblock *b = &m->s->b[i];
	switch (m->phase) {
	case 'A':
		if (w == b->user) {
			if (b->mark == M_NONE || b->mark == M_INTERIOR) {
				b->mark = M_REACH;
				push(m, (size_t)i);
			}
		} else if (b->mark == M_NONE) {
			b->mark = M_INTERIOR;
			uint32_t v = (uint32_t)i;
			vec_push(&m->cand, &v);
		}
		break;
	case 'B':
		if (b->mark == M_NONE || b->mark == M_INTERIOR) {
			b->mark = M_POSSIBLE;
			push(m, (size_t)i);
		}
		break;
	default: { /* 'C': everything lost that the leader reaches */
		struct da_lblock *l = &m->s->b[m->leader];
		if ((size_t)i == m->leader)
			break;
		if (b->mark == M_NONE) {
			b->mark = M_INDIRECT;
			l->held_bytes += b->size;
			l->held_blocks++;
			push(m, (size_t)i);
		} else if (b->mark == M_LEADER) {
			/* An earlier root leak is reached from this one: it
			 * and all it held now belong to this one. */
			b->mark = M_INDIRECT;
			l->held_bytes += b->size + b->held_bytes;
			l->held_blocks += 1 + b->held_blocks;
			b->held_bytes = 0;
			b->held_blocks = 0;
		}
		break;
	}
	}
}

static void
scan_range(struct marker *m, uintptr_t lo, uintptr_t hi)
{
	lo = (lo + 7) & ~(uintptr_t)7;
	if (m->probe != NULL) {
		for (uintptr_t a = lo; a + 8 <= hi; a += 8)
			probe_word(m, a, *(const uintptr_t *)a);
		return;
	}
	for (uintptr_t a = lo; a + 8 <= hi; a += 8)
		hit(m, *(const uintptr_t *)a);
}

/* Scans [lo, hi) where it is readable (roots may cover holes). */
static void
scan_root(struct marker *m, uintptr_t lo, uintptr_t hi)
{
	while (lo < hi) {
		const struct range *r = mapping_of(lo);
		if (r == NULL) {
			/* Skip to the next mapping. */
			const struct range *all = maps.p;
			size_t k = 0;
			while (k < maps.n && all[k].lo <= lo)
				k++;
			if (k == maps.n)
				return;
			lo = all[k].lo;
			continue;
		}
		uintptr_t end = r->hi < hi ? r->hi : hi;
		scan_range(m, lo, end);
		lo = end;
	}
}

static void
drain(struct marker *m)
{
	while (m->stack.n > 0) {
		uint32_t i = ((uint32_t *)m->stack.p)[--m->stack.n];
		struct da_lblock *b = &m->s->b[i];
		scan_range(m, b->user, b->user + b->size);
	}
}

/*
 * The calling thread's stack: the program's part of it, from the bound its
 * entry into dbgalloc recorded (scanbound.h: the program's registers at
 * that call included) to the end of the mapping; none of it on a thread of
 * dbgalloc's own. Without a bound (a test calling the scan directly), from
 * this frame up, with the registers spilled to it. A bound outside this
 * stack (an entry on another stack, a signal's) is not used.
 */
__attribute__((noinline)) static void
scan_own_stack(struct marker *m)
{
	uintptr_t lo = da_scan_bound();
	if (lo == DA_SCAN_OURS)
		return;
	__builtin_unwind_init();
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	const struct range *r = mapping_of(sp);
	if (r == NULL)
		return;
	if (lo >= sp && lo < r->hi)
		sp = lo;
	m->in = DA_HELD_STACK;
	m->tid = (pid_t)syscall(SYS_gettid);
	scan_root(m, sp, r->hi);
}

/* The dynamic thread vector of the thread whose pointer is tp: the main
 * thread's was allocated by the dynamic loader before malloc was ours, so
 * it is no block of ours, but it points to the TLS blocks of modules
 * loaded later, which are. glibc's layout: the TCB's second word points
 * to entry 1; entry -1 holds the number of entries; 16 bytes each. */
static void
scan_dtv(struct marker *m, uintptr_t tp)
{
	if (mapping_of(tp + 8) == NULL)
		return;
	uintptr_t dtv = ((const uintptr_t *)tp)[1];
	const struct range *r = mapping_of(dtv - 16);
	if (dtv < 16 || r == NULL || mapping_of(dtv) != r)
		return;
	uintptr_t n = ((const uintptr_t *)(dtv - 16))[0];
	if (n > 65536)
		return;
	uintptr_t end = dtv + (n + 1) * 16;
	scan_root(m, dtv - 16, end < r->hi ? end : r->hi);
	/* A thread's vector is a block of ours (calloc'd by pthread_create)
	 * that the TCB points 16 bytes into: that pointer means its start. */
	hit(m, dtv - 16);
}

/* A thread's static TLS and thread control block (for threads other than
 * the main one, they lie in its stack mapping and were scanned with it;
 * the main thread's TCB lies elsewhere). */
static void
scan_tls(struct marker *m, uintptr_t tp)
{
	const struct range *r = mapping_of(tp);
	if (r == NULL)
		return;
	m->in = DA_HELD_TLS;
	uintptr_t lo = tp;
	for (unsigned i = 0; i < tls_n; i++)
		if (tls_off[i] <= tp - r->lo && tp - tls_off[i] < lo)
			lo = tp - tls_off[i];
	/* The TCB (struct pthread, 2,304 bytes in glibc 2.36) follows. */
	scan_root(m, lo, tp + 4096 < r->hi ? tp + 4096 : r->hi);
	scan_dtv(m, tp);
}

/*
 * A stopped thread: its registers and its stack from its stack pointer
 * (and the red zone under it) up; stopped inside an entry point of
 * dbgalloc's (scanbound.h), only its stack from the bound up, where the
 * program's registers at that call lie; a thread of dbgalloc's own, none
 * of either. Its TLS in every case.
 */
static void
scan_stopped(struct marker *m, const struct da_stopped *st)
{
	m->tid = st->tid;
	scan_tls(m, st->tp);
	if (st->bound == DA_SCAN_OURS)
		return;
	const struct range *r = mapping_of(st->sp);
	m->in = DA_HELD_STACK;
	if (r != NULL && st->bound > st->sp && st->bound < r->hi) {
		scan_root(m, st->bound, r->hi);
		return;
	}
	m->in = DA_HELD_REGS;
	for (unsigned k = 0; k < DA_STOP_REGS; k++)
		hit(m, st->regs[k]);
	m->in = DA_HELD_STACK;
	if (r != NULL)
		scan_root(m, st->sp > r->lo + 128 ? st->sp - 128 : r->lo,
		          r->hi);
}

static void
scan_roots(struct marker *m, const struct da_world *w)
{
	const struct range *sg = segs.p;
	m->in = DA_HELD_DATA;
	for (size_t i = 0; i < segs.n; i++)
		scan_root(m, sg[i].lo, sg[i].hi);
	scan_own_stack(m);
	scan_tls(m, (uintptr_t)__builtin_thread_pointer());
	for (unsigned t = 0; t < w->n; t++)
		scan_stopped(m, &w->t[t]);
	/* Ignored blocks are roots (a probe reads every block anyway). */
	for (size_t i = 0; i < m->s->n && m->probe == NULL; i++)
		if (m->s->b[i].mark == M_SKIP &&
		    m->s->b[i].site == DA_SITE_IGNORED)
			scan_range(m, m->s->b[i].user,
			           m->s->b[i].user + m->s->b[i].size);
}

static void
classify(struct da_leak_scan *s, const struct da_world *w)
{
	struct marker m = {.s = s,
	                   .stack = {.elem = sizeof(uint32_t)},
	                   .cand = {.elem = sizeof(uint32_t)},
	                   .phase = 'A'};
	scan_roots(&m, w);
	drain(&m);
	/* Possibly lost: reached through an interior pointer, from a root
	 * or a reachable block, and what those reach. */
	m.phase = 'B';
	for (size_t k = 0; k < m.cand.n; k++) {
		uint32_t i = ((uint32_t *)m.cand.p)[k];
		if (s->b[i].mark == M_INTERIOR) {
			s->b[i].mark = M_POSSIBLE;
			push(&m, i);
		}
	}
	drain(&m);
	/* Lost: each block nothing reached leads a clique of what it
	 * reaches; a later leader that reaches an earlier one takes it. */
	m.phase = 'C';
	for (size_t i = 0; i < s->n; i++) {
		if (s->b[i].mark != M_NONE)
			continue;
		s->b[i].mark = M_LEADER;
		m.leader = i;
		push(&m, i);
		drain(&m);
	}
	for (size_t i = 0; i < s->n; i++) {
		static const uint8_t cls[] = {
		        [M_NONE] = DA_LEAK_DEFINITE,
		        [M_INTERIOR] = DA_LEAK_POSSIBLE,
		        [M_REACH] = DA_LEAK_REACHABLE,
		        [M_POSSIBLE] = DA_LEAK_POSSIBLE,
		        [M_LEADER] = DA_LEAK_DEFINITE,
		        [M_INDIRECT] = DA_LEAK_INDIRECT,
		        [M_SKIP] = DA_LEAK_IGNORED,
		};
		s->b[i].cls = cls[s->b[i].mark];
	}
	vec_free(&m.stack);
	vec_free(&m.cand);
}

/* One scan at a time: the roots listed before the stop (segs, tls_off)
 * are shared, and filled outside the allocator locks that serialize the
 * rest. A thread waiting here holds no lock; another thread's stop stops
 * it like any other. */
static atomic_flag scanning = ATOMIC_FLAG_INIT;

static void
scan_begin(void)
{
	while (atomic_flag_test_and_set(&scanning))
		sched_yield();
}

static void
scan_end(void)
{
	atomic_flag_clear(&scanning);
}

void
da_leak_fork_child(void)
{
	scan_end();
}

int
da_leak_scan(struct da_leak_scan *s)
{
	return da_leak_scan_with(s, NULL);
}

static void
hook_run(const struct da_leak_hook *h, void (*fn)(void *arg))
{
	if (h != NULL && fn != NULL)
		fn(h->arg);
}

int
da_leak_scan_with(struct da_leak_scan *s, const struct da_leak_hook *h)
{
	struct vec blocks = {.elem = sizeof(struct da_lblock)};
	struct da_world w = {0};
	memset(s, 0, sizeof(*s));
	scan_begin();
	segs.n = 0;
	tls_n = 0;
	dl_iterate_phdr(phdr_cb, (void *)(uintptr_t)&da_leak_scan);

	hook_run(h, h != NULL ? h->before : NULL);
	da_heap_fork_prepare(); /* every allocator lock */
	int stopped = da_world_stop(&w) == 0;
	int rc = read_maps();
	if (rc == 0)
		rc = da_alloc_walk(collect_block, &blocks) ? -1 : 0;
	if (rc == 0) {
		s->b = blocks.p;
		s->n = blocks.n;
		s->cap = blocks.cap;
		sort_blocks(s->b, s->n);
		index_build(s);
		classify(s, &w);
	} else {
		vec_free(&blocks);
	}
	hook_run(h, h != NULL ? h->stopped : NULL);
	s->threads = w.n + 1;
	s->missed = w.missed;
	if (stopped)
		da_world_resume(&w);
	da_heap_fork_parent();
	hook_run(h, h != NULL ? h->after : NULL);
	scan_end();
	return rc;
}

/* --- The live check's scan: in a copy of the process. --- */

static uint64_t
now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct fork_ctx {
	struct da_leak_scan *s;
	struct da_leak_fork *f;
	int rc; /* da_leak_scan_fork's */
};

/* Scans the copy: the memory as the stopped world left it. In the child,
 * with the allocator locks still held from before the fork. */
static int
scan_copy(struct da_leak_scan *s, const struct da_world *w)
{
	struct vec blocks = {.elem = sizeof(struct da_lblock)};
	int rc = read_maps();
	if (rc == 0)
		rc = da_alloc_walk(collect_block, &blocks) ? -1 : 0;
	if (rc != 0) {
		vec_free(&blocks);
		return -1;
	}
	s->b = blocks.p;
	s->n = blocks.n;
	s->cap = blocks.cap;
	sort_blocks(s->b, s->n);
	index_build(s);
	classify(s, w);
	s->threads = w->n + 1;
	s->missed = w->missed;
	return 0;
}

/*
 * Runs inside dl_iterate_phdr, whose lock (the dynamic loader's list lock,
 * recursive) is held from before the stop to after the resume: no stopped
 * thread can hold it, so the child may walk the modules (the symbolizer
 * does). A raw clone, not fork(): no atfork handler runs (they would take
 * the allocator locks held here), the program gets no SIGCHLD (exit
 * signal 0: only a wait with __WCLONE or __WALL sees the child), and glibc
 * keeps the parent thread's id in its thread structure, so the child,
 * the copy of this thread, is still the owner of that recursive lock, and
 * takes and releases it as its owner would.
 */
static int
fork_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)info, (void)size;
	struct fork_ctx *x = arg;
	struct da_leak_fork *f = x->f;
	struct da_world w = {0};
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	da_heap_fork_prepare(); /* every allocator lock */
	int stopped = da_world_stop(&w) == 0;
	f->unix_ns = now_ns(CLOCK_REALTIME);
	f->parent = getpid();
	f->threads = w.n;
	f->missed = w.missed;
	uint64_t t1 = now_ns(CLOCK_MONOTONIC);
	long pid = syscall(SYS_clone, 0L, 0L, 0L, 0L, 0L);
	if (pid == 0) {
		x->rc = scan_copy(x->s, &w) == 0 ? 1 : -2;
		return 1;
	}
	int e = errno;
	f->fork_ns = now_ns(CLOCK_MONOTONIC) - t1;
	/* The locks released (no stopped thread waits for them), then the
	 * threads woken: the pause ends there (when the scheduler runs each
	 * woken thread is the machine's business). da_world_resume goes on
	 * to wait until each has left the stop handler, which pauses no
	 * one. */
	da_heap_fork_parent();
	f->pause_ns = now_ns(CLOCK_MONOTONIC) - t0;
	if (stopped)
		da_world_resume(&w);
	f->child = (pid_t)pid;
	x->rc = pid > 0 ? 0 : -1;
	errno = e;
	return 1;
}

int
da_leak_scan_fork(struct da_leak_scan *s, struct da_leak_fork *f)
{
	struct fork_ctx x = {s, f, -1};
	memset(s, 0, sizeof(*s));
	memset(f, 0, sizeof(*f));
	scan_begin();
	segs.n = 0;
	tls_n = 0;
	dl_iterate_phdr(phdr_cb, (void *)(uintptr_t)&da_leak_scan);
	dl_iterate_phdr(fork_cb, &x);
	if (x.rc == 0 || x.rc == -1)
		scan_end(); /* the parent's; the copy never scans again */
	return x.rc;
}

int
da_leak_list(struct da_leak_scan *s)
{
	return da_leak_list_with(s, NULL);
}

int
da_leak_list_with(struct da_leak_scan *s, const struct da_leak_hook *h)
{
	struct vec blocks = {.elem = sizeof(struct da_lblock)};
	struct da_world w = {0};
	memset(s, 0, sizeof(*s));
	hook_run(h, h != NULL ? h->before : NULL);
	da_heap_fork_prepare(); /* every allocator lock */
	int stopped = da_world_stop(&w) == 0;
	int rc = da_alloc_walk(collect_block, &blocks) ? -1 : 0;
	hook_run(h, h != NULL ? h->stopped : NULL);
	s->b = blocks.p;
	s->n = blocks.n;
	s->cap = blocks.cap;
	s->threads = w.n + 1;
	s->missed = w.missed;
	if (stopped)
		da_world_resume(&w);
	da_heap_fork_parent();
	hook_run(h, h != NULL ? h->after : NULL);
	if (rc != 0)
		da_leak_scan_free(s);
	return rc;
}

void
da_leak_scan_free(struct da_leak_scan *s)
{
	if (s->b != NULL)
		da_os_unmap(s->b, s->cap * sizeof(struct da_lblock));
	if (s->keys != NULL)
		da_os_unmap(s->keys, s->n * sizeof(uintptr_t));
	if (s->top != NULL)
		da_os_unmap(s->top, s->ntop * sizeof(uintptr_t));
	memset(s, 0, sizeof(*s));
}

/* --- The probe: which words hold a value in given ranges. --- */

/* Notes the word at at (0: a register) if it holds w in a range. */
static void
probe_word(struct marker *m, uintptr_t at, uintptr_t w)
{
	struct da_leak_probe *p = m->probe;
	if (w < p->lo[0] || w >= p->hi[p->n - 1])
		return;
	size_t a = 0, b = p->n; /* the last range starting at or below w */
	while (b - a > 1) {
		size_t mid = a + (b - a) / 2;
		if (p->lo[mid] <= w)
			a = mid;
		else
			b = mid;
	}
	if (w >= p->hi[a])
		return;
	p->total++;
	if (m->found.n >= p->max)
		return;
	struct da_leak_held h = {
	        .at = at,
	        .value = w,
	        .range = (uint32_t)a,
	        .in = m->in,
	        .tid = m->in == DA_HELD_DATA || m->in == DA_HELD_BLOCK ? 0
	                                                               : m->tid,
	};
	if (m->in == DA_HELD_BLOCK)
		h.holder = m->s->b[m->holder];
	vec_push(&m->found, &h);
}

struct probe_ctx {
	struct da_leak_probe *p;
	int rc;
};

/* With the world stopped: the roots, then every block of the program's. */
static void
probe_stopped(const struct da_world *w, void *arg)
{
	struct probe_ctx *x = arg;
	struct vec blocks = {.elem = sizeof(struct da_lblock)};
	struct da_leak_scan s;
	memset(&s, 0, sizeof(s));
	x->rc = read_maps();
	if (x->rc == 0)
		x->rc = da_alloc_walk(collect_block, &blocks) ? -1 : 0;
	if (x->rc == 0) {
		s.b = blocks.p;
		s.n = blocks.n;
		struct marker m = {
		        .s = &s,
		        .probe = x->p,
		        .found = {.elem = sizeof(struct da_leak_held)}};
		scan_roots(&m, w);
		m.in = DA_HELD_BLOCK;
		for (size_t i = 0; i < s.n; i++) {
			if (s.b[i].site == DA_SITE_INTERNAL)
				continue;
			m.holder = i;
			scan_range(&m, s.b[i].user, s.b[i].user + s.b[i].size);
		}
		x->p->found = m.found.p;
		x->p->nfound = m.found.n;
		x->p->cap = m.found.cap;
		x->p->blocks = s.n;
	}
	x->p->threads = w->n + 1;
	vec_free(&blocks);
}

int
da_leak_probe(struct da_leak_probe *p)
{
	p->found = NULL;
	p->nfound = p->cap = 0;
	p->total = 0;
	p->blocks = 0;
	p->threads = p->missed = 0;
	if (p->n == 0)
		return 0;
	struct probe_ctx x = {p, -1};
	scan_begin();
	segs.n = 0;
	tls_n = 0;
	dl_iterate_phdr(phdr_cb, (void *)(uintptr_t)&da_leak_scan);
	int missed = da_world_run(1, p->patience_ms, probe_stopped, &x);
	p->missed = missed > 0 ? (unsigned)missed : 0;
	scan_end();
	return x.rc;
}

void
da_leak_probe_free(struct da_leak_probe *p)
{
	if (p->found != NULL)
		da_os_unmap(p->found, p->cap * sizeof(struct da_leak_held));
	p->found = NULL;
	p->nfound = p->cap = 0;
}
