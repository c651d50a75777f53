/*
 * audit/dump.c — the dump writer (see dump.h).
 *
 * Order: open the temporary file (a bad directory fails before anything
 * is stopped); list the live blocks (other threads stopped, then
 * resumed); read the clocks and counters; count the blocks per stack in
 * a table mapped from the OS; then format every record into one 64 KiB
 * buffer, flushed by write(2) as it fills, the CRC following the bytes
 * written; the trailer; fsync; rename. The module map is read after the
 * threads are resumed: the loader's lock may be held by one of them.
 */
#include "audit/dump.h"
#include "alloc/guard.h"
#include "audit/sortkey.h"
#include "alloc/alloc.h"
#include "alloc/lock.h"
#include "alloc/os.h"
#include "audit/acct.h"
#include "audit/crc32c.h"
#include "audit/depot.h"
#include "audit/gen.h"
#include "audit/header.h"
#include "audit/leak.h"
#include "audit/modules.h"
#include "audit/settings.h"
#include "audit/sitestats.h"
#include "audit/steps.h"
#include "audit/timeline.h"
#include "audit/epochs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* --- The output: one buffer, written as it fills. --- */

struct out {
	int fd;
	int err;      /* errno of the first failed write; 0 */
	char *buf;    /* DA_DUMP_BUF bytes */
	size_t len;   /* bytes in buf */
	uint32_t crc; /* of every byte flushed before */
	uint64_t lines;
};

/* Writes buf[0..len) (raw calls: not a cancellation point). */
static void
out_flush(struct out *o)
{
	const char *p = o->buf;
	size_t n = o->len;
	o->crc = da_crc32c(o->crc, p, n);
	o->len = 0;
	while (n > 0 && o->err == 0) {
		long w = syscall(SYS_write, o->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			o->err = w < 0 ? errno : EIO;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Makes room for n bytes (n <= DA_DUMP_BUF); returns where they go. */
static char *
out_room(struct out *o, size_t n)
{
	if (o->len + n > DA_DUMP_BUF)
		out_flush(o);
	return o->buf + o->len;
}

static void
out_end(struct out *o, const char *p)
{
	o->len = (size_t)(p - o->buf);
}

static void
out_bytes(struct out *o, const char *s, size_t n)
{
	while (n > 0) {
		size_t room = DA_DUMP_BUF - o->len;
		if (room == 0) {
			out_flush(o);
			room = DA_DUMP_BUF;
		}
		size_t k = n < room ? n : room;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

static void
out_str(struct out *o, const char *s)
{
	out_bytes(o, s, strlen(s));
}

static void
out_nl(struct out *o)
{
	*out_room(o, 1) = '\n';
	o->len++;
	o->lines++;
}

/* Number formatters into p (room checked by the caller); each returns
 * the end. */
static char *
fmt_dec(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static char *
fmt_hex(char *p, uint64_t v)
{
	char tmp[16];
	size_t n = 0;
	*p++ = '0';
	*p++ = 'x';
	do
		tmp[n++] = "0123456789abcdef"[v & 15];
	while ((v >>= 4) != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static void
out_dec(struct out *o, uint64_t v)
{
	out_end(o, fmt_dec(out_room(o, 20), v));
}

static void
out_hex(struct out *o, uint64_t v)
{
	out_end(o, fmt_hex(out_room(o, 18), v));
}

/*
 * Strings. Percent-encoding: '%', space, bytes below 0x21, 0x7f and above
 * are written %XX. The command line encodes each argument first, then the
 * whole (twice), so a space inside an argument is %2520 and the spaces
 * between arguments %20: the reader splits the decoded value at its
 * spaces and decodes each argument again. A field stops at
 * DA_DUMP_STR_MAX encoded bytes.
 */
struct field {
	struct out *o;
	size_t used; /* encoded bytes so far */
	int twice;   /* each item encoded, then the whole */
	int items;   /* items of a list begun */
};

static int
must_encode(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '%';
}

static void
field_put(struct field *f, const char *s, size_t n)
{
	if (f->used + n > DA_DUMP_STR_MAX) {
		f->used = DA_DUMP_STR_MAX;
		return;
	}
	out_bytes(f->o, s, n);
	f->used += n;
}

static void
field_byte(struct field *f, unsigned char c)
{
	if (!must_encode(c)) {
		char one = (char)c;
		field_put(f, &one, 1);
		return;
	}
	char e[5] = {'%', '2', '5', "0123456789ABCDEF"[c >> 4],
	             "0123456789ABCDEF"[c & 15]};
	if (f->twice)
		field_put(f, e, 5);
	else {
		e[2] = '%';
		field_put(f, e + 2, 3);
	}
}

/* A list's next item begins. */
static void
field_item(struct field *f)
{
	if (f->items++ > 0)
		field_put(f, "%20", 3);
}

static void
field_text(struct field *f, const char *s)
{
	for (; *s != '\0'; s++)
		field_byte(f, (unsigned char)*s);
}

/* Ends the field: an empty string is "%". */
static void
field_end(struct field *f)
{
	if (f->used == 0)
		out_bytes(f->o, "%", 1);
}

static void
out_enc(struct out *o, const char *s)
{
	struct field f = {o, 0, 0, 0};
	field_text(&f, s);
	field_end(&f);
}

/* --- What the process says of itself, read with raw calls. --- */

/* The program's path (/proc/self/exe), or "" when it cannot be read. */
static void
read_exe(char *buf, size_t len)
{
	long n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", buf,
	                 len - 1);
	buf[n > 0 ? n : 0] = '\0';
}

/* The command line: arguments (NUL-terminated in /proc/self/cmdline) as
 * a list. */
static void
out_cmdline(struct out *o)
{
	struct field f = {o, 0, 1, 0};
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/cmdline",
	                      O_RDONLY | O_CLOEXEC);
	int fresh = 1; /* the next byte begins an argument */
	if (fd >= 0) {
		char buf[4096];
		for (;;) {
			long got = syscall(SYS_read, fd, buf, sizeof(buf));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				break;
			for (long i = 0; i < got; i++) {
				if (buf[i] == '\0') {
					if (fresh)
						field_item(&f); /* "" */
					fresh = 1;
					continue;
				}
				if (fresh)
					field_item(&f);
				fresh = 0;
				field_byte(&f, (unsigned char)buf[i]);
			}
		}
		syscall(SYS_close, fd);
	}
	field_end(&f);
}

/* The settings that differ from their defaults, as DBGALLOC_NAME=value
 * separated by spaces, the whole encoded once (as the format says; unlike
 * the command line's, a value's own spaces are then not told apart). */
static void
out_options(struct out *o)
{
	struct field f = {o, 0, 0, 0};
	const char *base = (const char *)&da_settings;
	for (size_t i = 0; i < da_settings_count; i++) {
		const struct da_setting *d = &da_settings_table[i];
		const char *field = base + d->offset;
		char num[24];
		const char *value = NULL;
		uint64_t v;
		switch (d->type) {
		case DA_SETTING_ENUM:
			v = *(const unsigned *)(const void *)field;
			if (v != d->dflt)
				value = d->words[v];
			break;
		case DA_SETTING_UINT:
		case DA_SETTING_SIZE:
			memcpy(&v, field, sizeof(v));
			if (v != d->dflt) {
				*fmt_dec(num, v) = '\0';
				value = num;
			}
			break;
		case DA_SETTING_PATH:
		case DA_SETTING_TEXT:
			if (field[0] != '\0')
				value = field;
			break;
		default:
			break; /* the launcher's own */
		}
		if (value == NULL)
			continue;
		field_item(&f);
		field_text(&f, "DBGALLOC_");
		field_text(&f, d->name);
		field_text(&f, "=");
		field_text(&f, value);
	}
	field_end(&f);
}

/* --- The call sites: what their live blocks and their counters say. --- */

struct stk {
	uint32_t id;
	uint8_t used;    /* 0: an empty slot */
	uint8_t loader;  /* its first frame is the dynamic loader's */
	uint8_t placed;  /* loader already looked at */
	uint64_t blocks; /* live */
	uint64_t bytes;
	uint64_t allocs, alloc_bytes, temporary, ignored, ignored_bytes;
	const uint64_t *life_allocs, *life_us; /* sitestats.h; NULL: none */
};

struct stks {
	struct stk *t;
	size_t cap, n; /* slots (a power of two), used */
	int failed;    /* no memory to grow */
};

static size_t
stk_slot(uint32_t id, size_t cap)
{
	return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ull) >> 32) &
	       (cap - 1);
}

static int
stks_init(struct stks *s, size_t want)
{
	size_t cap = 64;
	while (cap < 2 * want)
		cap *= 2;
	s->t = da_os_map(cap * sizeof(struct stk));
	s->cap = cap;
	s->n = 0;
	s->failed = s->t == NULL;
	return s->t != NULL ? 0 : -1;
}

static void
stks_free(struct stks *s)
{
	if (s->t != NULL)
		da_os_unmap(s->t, s->cap * sizeof(struct stk));
	s->t = NULL;
}

/* The slot of id, added if new (NULL without memory to grow). */
static struct stk *
stks_get(struct stks *s, uint32_t id)
{
	if (s->t == NULL)
		return NULL;
	if (2 * (s->n + 1) > s->cap) {
		struct stks bigger;
		if (stks_init(&bigger, s->cap) != 0) {
			s->failed = 1;
			return NULL;
		}
		for (size_t i = 0; i < s->cap; i++) {
			const struct stk *e = &s->t[i];
			if (!e->used)
				continue;
			size_t k = stk_slot(e->id, bigger.cap);
			while (bigger.t[k].used)
				k = (k + 1) & (bigger.cap - 1);
			bigger.t[k] = *e;
		}
		bigger.n = s->n;
		stks_free(s);
		*s = bigger;
	}
	size_t k = stk_slot(id, s->cap);
	for (;; k = (k + 1) & (s->cap - 1)) {
		struct stk *e = &s->t[k];
		if (!e->used) {
			e->id = id;
			e->used = 1;
			s->n++;
			return e;
		}
		if (e->id == id)
			return e;
	}
}

/* da_sort_by_key reads the id as each record's key. */
_Static_assert(offsetof(struct stk, id) == 0 &&
                       sizeof(((struct stk *)0)->id) == 4 &&
                       sizeof(struct stk) <= DA_SORT_RECORD_MAX,
               "a stack slot begins with its 32-bit id");

/* The dynamic loader's code: blocks it allocated have no call site. */
struct ldso {
	uintptr_t base, lo, hi;
};

static int
ldso_cb(const struct da_module *m, void *arg)
{
	struct ldso *l = arg;
	if (l->base == 0 || m->bias != l->base)
		return 0;
	for (unsigned i = 0; i < m->phnum; i++) {
		const ElfW(Phdr) *ph = &m->phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			l->lo = m->bias + ph->p_vaddr;
			l->hi = l->lo + ph->p_memsz;
		}
	}
	return 1;
}

/* Whether each call site's first frame is the loader's. */
static void
mark_loader(struct stks *s, const struct ldso *ld)
{
	for (size_t i = 0; i < s->cap; i++) {
		struct stk *e = &s->t[i];
		if (!e->used)
			continue;
		const uintptr_t *pcs;
		e->loader = da_depot_get(e->id, &pcs) > 0 &&
		            pcs[0] - ld->lo < ld->hi - ld->lo;
	}
}

/* Counts the listed blocks per stack, and their bytes per size class. */
static void
count_stacks(const struct da_leak_scan *ls, struct stks *s,
             uint64_t class_bytes[DA_NCLASSES + 1], uint64_t *program_blocks)
{
	for (size_t i = 0; i < ls->n; i++) {
		const struct da_lblock *b = &ls->b[i];
		/* The classes count every block, dbgalloc's own too. */
		class_bytes[b->size_class <= DA_NCLASSES ? b->size_class
		                                         : DA_NCLASSES] +=
		        b->size;
		if (b->site == DA_SITE_INTERNAL)
			continue;
		++*program_blocks;
		if (b->site == DA_SITE_IGNORED)
			continue;
		struct stk *e = stks_get(s, b->site);
		if (e == NULL)
			continue;
		e->blocks++;
		e->bytes += b->size;
	}
}

/* What is read while the other threads are stopped (the dump's hook). */
struct snap {
	struct stks *stacks;
	struct da_acct_totals t;
	int have_totals; /* t read at the stop (its lock was free) */
	struct da_class_stats classes[DA_NCLASSES + 1];
	uint64_t alloc_metadata;
};

static void
site_row(const struct da_sitestats_row *r, void *arg)
{
	struct stk *e = stks_get(arg, r->site);
	if (e == NULL)
		return;
	e->allocs += r->allocs;
	e->alloc_bytes += r->bytes;
	e->temporary += r->temporary;
	e->ignored += r->ignored;
	e->ignored_bytes += r->ignored_bytes;
	if (r->life_allocs != NULL) {
		e->life_allocs = r->life_allocs;
		e->life_us = r->life_us;
	}
}

/*
 * The call sites' list of threads is locked before the stop (its holders
 * never wait for an allocator lock). The accounting's lock is not: a
 * signal handler's allocation in a thread inside the allocator might wait
 * for it while this thread waits for that allocator lock. It is tried at
 * the stop instead (a stopped thread may hold it), and the totals read
 * after the stop when it was not free.
 */
static void
snap_before(void *arg)
{
	(void)arg;
	da_sitestats_lock();
}

static void
snap_stopped(void *arg)
{
	struct snap *n = arg;
	if (da_acct_trylock()) {
		da_acct_totals_locked(&n->t);
		da_acct_unlock();
		n->have_totals = 1;
	}
	da_sitestats_each(site_row, n->stacks);
	da_alloc_class_stats(n->classes, &n->alloc_metadata);
}

static void
snap_after(void *arg)
{
	struct snap *n = arg;
	da_sitestats_unlock();
	if (!n->have_totals)
		da_acct_totals(&n->t);
}

/* --- The records. --- */

struct dump {
	struct out o;
	const char *reason;
	uint64_t seq;
	uint64_t unix_ns, mono_ns;
	const char *consistency;
	char exe[DA_DUMP_PATH];
	const struct snap *snap; /* the counters, read at the stop */
	int leak_scan;           /* the blocks carry the leak check's verdict */
	uint64_t program_blocks; /* listed blocks that are the program's */
	uint64_t class_bytes[DA_NCLASSES + 1]; /* their bytes per class */
};

static void
h_begin(struct out *o, const char *key)
{
	out_str(o, "H ");
	out_str(o, key);
	out_str(o, " ");
}

static void
h_num(struct out *o, const char *key, uint64_t v)
{
	h_begin(o, key);
	out_dec(o, v);
	out_nl(o);
}

static void
h_str(struct out *o, const char *key, const char *v)
{
	h_begin(o, key);
	if (v[0] == '\0')
		out_str(o, "-");
	else
		out_enc(o, v);
	out_nl(o);
}

static void
write_header(struct dump *d)
{
	struct out *o = &d->o;
	out_str(o, "DBGALLOC-DUMP 1 1");
	out_nl(o);
	out_str(o, "#fields H key value");
	out_nl(o);
	h_str(o, "producer", "dbgalloc " PACKAGE_VERSION);
	h_num(o, "pid", (uint64_t)getpid());
	h_num(o, "ppid", (uint64_t)getppid());
	h_str(o, "exe", d->exe);
	h_begin(o, "cmdline");
	out_cmdline(o);
	out_nl(o);
	h_str(o, "reason", d->reason);
	h_num(o, "dump_seq", d->seq);
	h_num(o, "time_unix_ns", d->unix_ns);
	h_num(o, "mono_ns", d->mono_ns);
	h_num(o, "page_size", getauxval(AT_PAGESZ));
	h_begin(o, "options");
	out_options(o);
	out_nl(o);
	h_str(o, "consistency", d->consistency);
	h_str(o, "leak_scan", d->leak_scan ? "yes" : "no");
	h_num(o, "temporary_threshold", da_settings.temporary);
	h_num(o, "life_sample", DA_LIFE_STAMP);
}

static void
t_num(struct out *o, const char *name, uint64_t v)
{
	out_str(o, "T ");
	out_str(o, name);
	out_str(o, " ");
	out_dec(o, v);
	out_nl(o);
}

static void
t_dash(struct out *o, const char *name)
{
	out_str(o, "T ");
	out_str(o, name);
	out_str(o, " -");
	out_nl(o);
}

static void
write_counters(struct dump *d)
{
	struct out *o = &d->o;
	const struct da_acct_totals *t = &d->snap->t;
	uint64_t rss, hwm;
	da_timeline_rss(&rss, &hwm);
	uint64_t live = t->live > 0 ? (uint64_t)t->live : 0;
	out_str(o, "#fields T name value");
	out_nl(o);
	t_num(o, "live_bytes", live);
	t_num(o, "live_blocks", t->live_blocks);
	t_num(o, "peak_bytes", t->peak > 0 ? (uint64_t)t->peak : 0);
	t_num(o, "total_allocs", t->allocs);
	t_num(o, "total_bytes", t->bytes);
	t_num(o, "total_frees", t->frees);
	t_num(o, "failed_allocs", t->failed);
	if (t->limit == DA_ACCT_NONE)
		t_dash(o, "limit");
	else
		t_num(o, "limit", (uint64_t)t->limit);
	t_num(o, "rss_bytes", rss);
	t_num(o, "rss_peak_bytes", hwm);
	t_num(o, "mapped_bytes", da_alloc_mapped());
	t_num(o, "generation", da_gen_top());
	/* Minor 1. */
	t_num(o, "free_bytes", t->bytes > live ? t->bytes - live : 0);
	if (t->peak_mono_ns == 0)
		t_dash(o, "peak_mono_ns");
	else
		t_num(o, "peak_mono_ns", t->peak_mono_ns);
	t_num(o, "peak_epoch", t->peak_epoch);
	t_num(o, "header_bytes", d->program_blocks * DA_HDR_EXTRA);
	t_num(o, "metadata_bytes",
	      d->snap->alloc_metadata + da_depot_bytes() +
	              da_sitestats_bytes() + da_steps_bytes() +
	              da_timeline_bytes());
	struct da_guard_stats g;
	da_guard_stats(&g);
	t_num(o, "guard_bytes", g.guard_bytes);
	t_num(o, "quarantine_bytes", g.quarantine_bytes);
	t_num(o, "limit_failures", t->limit_failures);
	t_num(o, "injected_failures", t->injected_failures);
}

static int
module_cb(const struct da_module *m, void *arg)
{
	struct dump *d = arg;
	struct out *o = &d->o;
	unsigned id = m->index + 1;
	out_str(o, "M ");
	out_dec(o, id);
	out_str(o, " ");
	out_hex(o, m->bias);
	out_str(o, " ");
	out_hex(o, m->lo);
	out_str(o, " ");
	out_hex(o, m->hi);
	out_str(o, " ");
	if (m->build_id_len == 0)
		out_str(o, "-");
	for (unsigned i = 0; i < m->build_id_len; i++) {
		char *p = out_room(o, 2);
		p[0] = "0123456789abcdef"[m->build_id[i] >> 4];
		p[1] = "0123456789abcdef"[m->build_id[i] & 15];
		out_end(o, p + 2);
	}
	out_str(o, " ");
	const char *path = m->is_main ? d->exe : m->name;
	if (path[0] == '\0')
		out_str(o, "-");
	else
		out_enc(o, path);
	out_nl(o);
	for (unsigned i = 0; i < m->phnum; i++) {
		const ElfW(Phdr) *ph = &m->phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		out_str(o, "L ");
		out_dec(o, id);
		out_str(o, " ");
		out_hex(o, ph->p_vaddr);
		out_str(o, " ");
		out_dec(o, ph->p_memsz);
		out_str(o, " ");
		out_hex(o, ph->p_offset);
		char *p = out_room(o, 4);
		p[0] = ' ';
		p[1] = (ph->p_flags & PF_R) ? 'r' : '-';
		p[2] = (ph->p_flags & PF_W) ? 'w' : '-';
		p[3] = (ph->p_flags & PF_X) ? 'x' : '-';
		out_end(o, p + 4);
		out_nl(o);
	}
	return 0;
}

static void
write_modules(struct dump *d)
{
	out_str(&d->o, "#fields M id bias lo hi build_id path");
	out_nl(&d->o);
	out_str(&d->o, "#fields L module vaddr memsz offset perm");
	out_nl(&d->o);
	da_modules_each(module_cb, d);
}

static void
write_stacks(struct out *o, const struct stk *t, size_t n)
{
	out_str(o, "#fields S id depth pc...");
	out_nl(o);
	for (size_t i = 0; i < n; i++) {
		if (t[i].loader)
			continue;
		const uintptr_t *pcs = NULL;
		unsigned depth = da_depot_get(t[i].id, &pcs);
		char *p = out_room(o, 2 + 10 + 1 + 10);
		*p++ = 'S';
		*p++ = ' ';
		p = fmt_dec(p, t[i].id);
		*p++ = ' ';
		p = fmt_dec(p, depth);
		out_end(o, p);
		for (unsigned k = 0; k < depth; k++) {
			p = out_room(o, 1 + 18);
			*p++ = ' ';
			out_end(o, fmt_hex(p, pcs[k]));
		}
		out_nl(o);
	}
}

static uint64_t
less(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* A lifetime histogram: its counts to the last one not empty, or "-". */
static void
out_life(struct out *o, const uint64_t *h)
{
	unsigned last = 0;
	for (unsigned k = 0; h != NULL && k < DA_LIFE_BUCKETS; k++)
		if (__atomic_load_n(&h[k], __ATOMIC_RELAXED) != 0)
			last = k + 1;
	if (last == 0) {
		out_str(o, "-");
		return;
	}
	for (unsigned k = 0; k < last; k++) {
		char *p = out_room(o, 21);
		if (k > 0)
			*p++ = ',';
		out_end(o,
		        fmt_dec(p, __atomic_load_n(&h[k], __ATOMIC_RELAXED)));
	}
}

/*
 * The call sites. peak_live_bytes: the site's live bytes at the moment
 * nearest the peak that was looked at: the last high-water step
 * (steps.h), or now when the live bytes now are at least those of the
 * step.
 */
static void
write_sites(struct dump *d, const struct stk *t, size_t n)
{
	struct out *o = &d->o;
	const struct da_steps_site *at_step;
	size_t nstep;
	int64_t step_live;
	da_steps_lock(&at_step, &nstep, &step_live);
	int now = step_live < 0 || d->snap->t.live >= step_live;
	out_str(o, "#fields X stack live_blocks live_bytes allocs alloc_bytes "
	           "frees free_bytes peak_live_bytes temporary life_allocs "
	           "life_us");
	out_nl(o);
	for (size_t i = 0; i < n; i++) {
		const struct stk *e = &t[i];
		if (e->loader)
			continue;
		/* Counted before this dump, or allocated while it listed. */
		uint64_t allocs = e->allocs > e->blocks ? e->allocs : e->blocks;
		uint64_t bytes =
		        e->alloc_bytes > e->bytes ? e->alloc_bytes : e->bytes;
		char *p = out_room(o, 2 + 10 + 8 * 21);
		*p++ = 'X';
		*p++ = ' ';
		p = fmt_dec(p, e->id);
		*p++ = ' ';
		p = fmt_dec(p, e->blocks);
		*p++ = ' ';
		p = fmt_dec(p, e->bytes);
		*p++ = ' ';
		p = fmt_dec(p, allocs);
		*p++ = ' ';
		p = fmt_dec(p, bytes);
		*p++ = ' ';
		p = fmt_dec(p, less(allocs - e->blocks, e->ignored));
		*p++ = ' ';
		p = fmt_dec(p, less(bytes - e->bytes, e->ignored_bytes));
		*p++ = ' ';
		p = fmt_dec(p, now ? e->bytes
		                   : da_steps_bytes_of(at_step, nstep, e->id));
		*p++ = ' ';
		p = fmt_dec(p, e->temporary);
		*p++ = ' ';
		out_end(o, p);
		out_life(o, e->life_allocs);
		out_str(o, " ");
		out_life(o, e->life_us);
		out_nl(o);
	}
	da_steps_unlock();
}

/* The stack id in t[0..n), sorted by id, or NULL. */
static const struct stk *
stk_search(const struct stk *t, size_t n, uint32_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && t[lo].id == id ? &t[lo] : NULL;
}

static void
write_blocks(struct dump *d, const struct da_leak_scan *ls, const struct stk *t,
             size_t nt)
{
	static const char verdict[DA_LEAK_NCLASS] = {
	        [DA_LEAK_DEFINITE] = 'd',
	        [DA_LEAK_INDIRECT] = 'i',
	        [DA_LEAK_POSSIBLE] = 'p',
	        [DA_LEAK_REACHABLE] = 'r',
	};
	struct out *o = &d->o;
	out_str(o, "#fields A addr size stack gen epoch flags thread leak");
	out_nl(o);
	for (size_t i = 0; i < ls->n; i++) {
		const struct da_lblock *b = &ls->b[i];
		if (b->site == DA_SITE_INTERNAL)
			continue;
		int ignored = b->site == DA_SITE_IGNORED, named = !ignored;
		if (named) {
			const struct stk *e = stk_search(t, nt, b->site);
			named = e != NULL && !e->loader;
		}
		char *p = out_room(o, 160);
		*p++ = 'A';
		*p++ = ' ';
		p = fmt_hex(p, b->user);
		*p++ = ' ';
		p = fmt_dec(p, b->size);
		*p++ = ' ';
		if (named)
			p = fmt_dec(p, b->site);
		else
			*p++ = '-';
		*p++ = ' ';
		p = fmt_dec(p, b->gen);
		*p++ = ' ';
		p = fmt_dec(p, da_gen_epoch_of(b->gen));
		*p++ = ' ';
		char *flags = p;
		if (ignored)
			*p++ = 'i';
		if (b->kind == DA_KIND_NEW)
			*p++ = 'n';
		else if (b->kind == DA_KIND_NEW_ARR)
			*p++ = 'N';
		else if (b->kind == DA_KIND_ALIGNED)
			*p++ = 'a';
		if (p == flags)
			*p++ = '-';
		*p++ = ' ';
		if (b->size_class < DA_NCLASSES && b->thread != 0)
			p = fmt_dec(p, b->thread);
		else
			*p++ = '-';
		*p++ = ' ';
		*p++ = d->leak_scan && b->cls < DA_LEAK_NCLASS ? verdict[b->cls]
		                                               : '-';
		out_end(o, p);
		out_nl(o);
	}
}

/* The size classes that have had blocks, then the blocks of pages and
 * huge blocks ("-"). */
static void
write_classes(struct dump *d)
{
	struct out *o = &d->o;
	const struct da_class_stats *st = d->snap->classes;
	uint64_t live[DA_NCLASSES + 1], peak[DA_NCLASSES + 1];
	for (unsigned c = 0; c <= DA_NCLASSES; c++)
		live[c] = st[c].live_blocks;
	da_steps_note_classes(live);
	da_steps_class_peaks(peak);
	out_str(o, "#fields K block_size slabs slab_bytes live_blocks "
	           "live_bytes allocs frees peak_live_blocks");
	out_nl(o);
	for (unsigned c = 0; c <= DA_NCLASSES; c++) {
		const struct da_class_stats *k = &st[c];
		if (c < DA_NCLASSES && k->allocs == 0 && k->slabs == 0)
			continue;
		char *p = out_room(o, 2 + 8 * 21);
		*p++ = 'K';
		*p++ = ' ';
		if (c < DA_NCLASSES)
			p = fmt_dec(p, da_class_size[c]);
		else
			*p++ = '-';
		*p++ = ' ';
		p = fmt_dec(p, k->slabs);
		*p++ = ' ';
		p = fmt_dec(p, k->slab_bytes);
		*p++ = ' ';
		p = fmt_dec(p, k->live_blocks);
		*p++ = ' ';
		p = fmt_dec(p, d->class_bytes[c]);
		*p++ = ' ';
		p = fmt_dec(p, k->allocs);
		*p++ = ' ';
		p = fmt_dec(p, less(k->allocs, k->live_blocks));
		*p++ = ' ';
		p = fmt_dec(p, peak[c]);
		out_end(o, p);
		out_nl(o);
	}
}

static void
write_epochs(struct out *o)
{
	out_str(o, "#fields C epoch first_gen mono_ns allocs alloc_bytes "
	           "frees free_bytes peak_bytes name");
	out_nl(o);
	unsigned n = da_gen_epochs();
	for (unsigned e = 0; e < n; e++) {
		struct da_epoch_stats st;
		da_epochs_get(e, &st);
		char *p = out_room(o, 2 + 7 * 21);
		*p++ = 'C';
		*p++ = ' ';
		p = fmt_dec(p, e);
		*p++ = ' ';
		p = fmt_dec(p, da_gen_epoch_first(e));
		*p++ = ' ';
		uint64_t mono = da_gen_epoch_mono(e);
		if (mono == 0)
			*p++ = '-';
		else
			p = fmt_dec(p, mono);
		*p++ = ' ';
		p = fmt_dec(p, st.allocs);
		*p++ = ' ';
		p = fmt_dec(p, st.alloc_bytes);
		*p++ = ' ';
		p = fmt_dec(p, st.frees);
		*p++ = ' ';
		p = fmt_dec(p, st.free_bytes);
		*p++ = ' ';
		p = fmt_dec(p, st.peak_bytes);
		*p++ = ' ';
		out_end(o, p);
		out_enc(o, da_gen_epoch_label(e));
		out_nl(o);
	}
}

/* The timeline: a copy of the ring (it may be taken meanwhile). */
static void
write_timeline(struct out *o)
{
	size_t bytes = DA_TIMELINE_MAX * sizeof(struct da_sample);
	struct da_sample *x = da_os_map(bytes);
	size_t n = x != NULL ? da_timeline_copy(x, DA_TIMELINE_MAX) : 0;
	out_str(o, "#fields P mono_ns live_bytes rss_bytes gen reason");
	out_nl(o);
	for (size_t i = 0; i < n; i++) {
		char *p = out_room(o, 2 + 4 * 21 + 10);
		*p++ = 'P';
		*p++ = ' ';
		p = fmt_dec(p, x[i].mono_ns);
		*p++ = ' ';
		p = fmt_dec(p, x[i].live);
		*p++ = ' ';
		p = fmt_dec(p, x[i].rss);
		*p++ = ' ';
		p = fmt_dec(p, x[i].gen);
		*p++ = ' ';
		out_end(o, p);
		out_str(o, da_sample_reason_name[x[i].reason & 3]);
		out_nl(o);
	}
	if (x != NULL)
		da_os_unmap(x, bytes);
}

/* The trailer, outside the CRC it carries. */
static void
write_trailer(struct out *o)
{
	out_str(o, "#fields E lines crc32c");
	out_nl(o);
	out_flush(o);
	uint64_t lines = o->lines;
	char *p = o->buf;
	*p++ = 'E';
	*p++ = ' ';
	p = fmt_dec(p, lines);
	*p++ = ' ';
	*p++ = '0';
	*p++ = 'x';
	for (int shift = 28; shift >= 0; shift -= 4)
		*p++ = "0123456789abcdef"[(o->crc >> shift) & 15];
	*p++ = '\n';
	o->len = (size_t)(p - o->buf);
	out_flush(o);
}

/* --- Names, and the whole. --- */

static _Atomic uint64_t dumps;      /* dumps begun by this process */
static _Atomic uint64_t tmp_serial; /* temporary names tried */

uint64_t
da_dump_count(void)
{
	return atomic_load_explicit(&dumps, memory_order_relaxed);
}

void
da_dump_fork_child(void)
{
	atomic_store_explicit(&dumps, 0, memory_order_relaxed);
}

/* A bounded string builder (the names). */
struct name {
	char *p;
	size_t len, cap;
	int over;
};

/* Appends what fits of s[0..k); over says something did not. */
static void
name_put(struct name *n, const char *s, size_t k)
{
	if (n->cap == 0) {
		n->over = 1;
		return;
	}
	if (n->len + k >= n->cap) {
		k = n->cap - 1 - n->len;
		n->over = 1;
	}
	memcpy(n->p + n->len, s, k);
	n->len += k;
	n->p[n->len] = '\0';
}

static void
name_str(struct name *n, const char *s)
{
	name_put(n, s, strlen(s));
}

static void
name_dec(struct name *n, uint64_t v)
{
	char tmp[20];
	name_put(n, tmp, (size_t)(fmt_dec(tmp, v) - tmp));
}

static int
expand(const char *pattern, uint64_t seq, const char *exe, char *out,
       size_t len)
{
	struct name n = {out, 0, len, len == 0};
	if (len > 0)
		out[0] = '\0';
	const char *slash = strrchr(exe, '/');
	const char *base = slash != NULL ? slash + 1 : exe;
	for (const char *c = pattern; *c != '\0'; c++) {
		if (c[0] == '%' && c[1] == 'p') {
			name_dec(&n, (uint64_t)getpid());
			c++;
		} else if (c[0] == '%' && c[1] == 'n') {
			name_dec(&n, seq);
			c++;
		} else if (c[0] == '%' && c[1] == 'e') {
			name_str(&n, base[0] != '\0' ? base : "unknown");
			c++;
		} else if (c[0] == '%' && c[1] == '%') {
			name_put(&n, "%", 1);
			c++;
		} else {
			name_put(&n, c, 1);
		}
	}
	return n.over ? ENAMETOOLONG : 0;
}

int
da_dump_name(const char *pattern, uint64_t seq, char *out, size_t len)
{
	char exe[DA_DUMP_PATH];
	read_exe(exe, sizeof(exe));
	return expand(pattern, seq, exe, out, len);
}

/* err: "dbgalloc: cannot write the dump PATH: REASON". */
static void
set_err(char *err, size_t errlen, const char *path, int e)
{
	if (errlen == 0)
		return;
	struct name n = {err, 0, errlen, 0};
	err[0] = '\0';
	name_str(&n, "dbgalloc: cannot write the dump ");
	name_str(&n, path);
	name_str(&n, ": ");
	const char *why = strerrordesc_np(e);
	if (why != NULL) {
		name_str(&n, why);
	} else {
		name_str(&n, "error ");
		name_dec(&n, (uint64_t)e);
	}
}

/* What one dump holds, mapped from the OS. */
struct work {
	struct dump d;
	struct snap snap;
	char path[DA_DUMP_PATH];
	char tmp[DA_DUMP_PATH + 64];
	char buf[DA_DUMP_BUF];
};

/* Creates the temporary file beside w->path; its fd, or -1 (errno). */
static int
open_tmp(struct work *w)
{
	const char *slash = strrchr(w->path, '/');
	size_t dirlen = slash != NULL ? (size_t)(slash - w->path) + 1 : 0;
	const char *base = w->path + dirlen;
	if (base[0] == '\0') {
		errno = EISDIR;
		return -1;
	}
	for (int tries = 0; tries < 64; tries++) {
		struct name n = {w->tmp, 0, sizeof(w->tmp), 0};
		name_put(&n, w->path, dirlen);
		name_put(&n, ".", 1);
		name_str(&n, base);
		name_str(&n, ".tmp.");
		name_dec(&n, (uint64_t)getpid());
		name_put(&n, ".", 1);
		name_dec(&n, atomic_fetch_add(&tmp_serial, 1));
		if (n.over) {
			errno = ENAMETOOLONG;
			return -1;
		}
		int fd = (int)syscall(SYS_openat, AT_FDCWD, w->tmp,
		                      O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		                              O_NOFOLLOW,
		                      0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* Lists (or, for keep, scans: the caller gets the scan), counts and
 * writes; 0, or an errno value. */
static int
write_all(struct work *w, struct da_leak_scan *keep)
{
	struct dump *d = &w->d;
	struct da_leak_scan ls;
	struct stks s = {0};
	struct ldso ld = {getauxval(AT_BASE), 0, 0};
	struct snap *n = &w->snap;
	da_modules_each(ldso_cb, &ld);
	/* Sized before the stop (it grows, if need be, from the OS). */
	if (stks_init(&s, (size_t)da_depot_count() + 64) != 0)
		return ENOMEM;
	n->stacks = &s;
	struct da_leak_hook hook = {snap_before, snap_stopped, snap_after, n};
	int rc = keep != NULL ? da_leak_scan_with(&ls, &hook)
	                      : da_leak_list_with(&ls, &hook);
	if (rc != 0) {
		stks_free(&s);
		return ENOMEM;
	}
	d->snap = n;
	d->leak_scan = keep != NULL;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	d->unix_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	d->mono_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	d->consistency = ls.missed == 0 ? "stopped" : "running";
	count_stacks(&ls, &s, d->class_bytes, &d->program_blocks);
	if (s.failed) {
		rc = ENOMEM;
		goto out;
	}
	mark_loader(&s, &ld);
	/* The stacks in id order, packed at the front. */
	size_t nt = 0;
	for (size_t i = 0; i < s.cap; i++)
		if (s.t[i].used)
			s.t[nt++] = s.t[i];
	da_sort_by_key(s.t, nt, sizeof(*s.t));
	da_timeline_add(DA_SAMPLE_DUMP, n->t.live);
	write_header(d);
	write_counters(d);
	write_modules(d);
	write_stacks(&d->o, s.t, nt);
	write_classes(d);
	write_sites(d, s.t, nt);
	write_blocks(d, &ls, s.t, nt);
	write_epochs(&d->o);
	write_timeline(&d->o);
	write_trailer(&d->o);
	rc = d->o.err;
out:
	stks_free(&s);
	if (keep != NULL)
		*keep = ls;
	else
		da_leak_scan_free(&ls);
	return rc;
}

int
da_dump_write(const char *pattern, const char *reason, char *err, size_t errlen)
{
	return da_dump_write_scan(pattern, reason, NULL, err, errlen);
}

int
da_dump_write_scan(const char *pattern, const char *reason,
                   struct da_leak_scan *scan, char *err, size_t errlen)
{
	int saved_errno = errno;
	if (scan != NULL)
		memset(scan, 0, sizeof(*scan));
	uint32_t saved_site = da_gen_tls.site_override;
	da_gen_tls.site_override = DA_SITE_INTERNAL; /* nothing is ours */
	uint64_t seq = atomic_fetch_add(&dumps, 1) + 1;
	struct work *w = da_os_map(sizeof(struct work));
	int rc = 0, fd = -1;
	if (w == NULL) {
		set_err(err, errlen, pattern, ENOMEM);
		rc = ENOMEM;
		goto done;
	}
	read_exe(w->d.exe, sizeof(w->d.exe));
	rc = expand(pattern, seq, w->d.exe, w->path, sizeof(w->path));
	if (rc != 0) {
		set_err(err, errlen, pattern, rc);
		goto done;
	}
	fd = open_tmp(w);
	if (fd < 0) {
		rc = errno;
		set_err(err, errlen, w->path, rc);
		goto done;
	}
	w->d.o.fd = fd;
	w->d.o.buf = w->buf;
	w->d.reason = reason;
	w->d.seq = seq;
	rc = write_all(w, scan);
	if (rc == 0 && syscall(SYS_fsync, fd) != 0)
		rc = errno;
	if (syscall(SYS_close, fd) != 0 && rc == 0 && errno != EINTR)
		rc = errno;
	if (rc == 0 &&
	    syscall(SYS_renameat, AT_FDCWD, w->tmp, AT_FDCWD, w->path) != 0)
		rc = errno;
	if (rc != 0) {
		syscall(SYS_unlinkat, AT_FDCWD, w->tmp, 0);
		set_err(err, errlen, w->path, rc);
	}
done:
	if (w != NULL)
		da_os_unmap(w, sizeof(struct work));
	da_gen_tls.site_override = saved_site;
	errno = rc != 0 ? rc : saved_errno;
	return rc != 0 ? -1 : 0;
}
