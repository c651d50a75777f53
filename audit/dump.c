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

/* Reads up to len - 1 bytes of the file path into buf, terminated;
 * returns the count, or -1. */
static long
read_small(const char *path, char *buf, size_t len)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t have = 0;
	while (have < len - 1) {
		long got = syscall(SYS_read, fd, buf + have, len - 1 - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		have += (size_t)got;
	}
	syscall(SYS_close, fd);
	buf[have] = '\0';
	return (long)have;
}

static uint64_t
parse_dec(const char **s)
{
	uint64_t v = 0;
	while (**s == ' ' || **s == '\t')
		(*s)++;
	for (; **s >= '0' && **s <= '9'; (*s)++)
		v = v * 10 + (uint64_t)(**s - '0');
	return v;
}

/* Resident bytes now and at the most (VmHWM); 0 when unknown. */
static void
read_rss(uint64_t *rss, uint64_t *hwm)
{
	char buf[4096];
	*rss = *hwm = 0;
	if (read_small("/proc/self/statm", buf, sizeof(buf)) > 0) {
		const char *s = buf;
		parse_dec(&s); /* size */
		*rss = parse_dec(&s) * getauxval(AT_PAGESZ);
	}
	if (read_small("/proc/self/status", buf, sizeof(buf)) > 0) {
		const char *s = strstr(buf, "\nVmHWM:");
		if (s != NULL) {
			s += 7;
			*hwm = parse_dec(&s) * 1024;
		}
	}
}

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

/* --- The stacks live blocks name, and their totals. --- */

struct stk {
	uint32_t id;
	uint32_t loader; /* its first frame is the dynamic loader's */
	uint64_t blocks; /* 0: an empty slot */
	uint64_t bytes;
};

struct stks {
	struct stk *t;
	size_t cap, n; /* slots (a power of two), used */
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
	if (2 * (s->n + 1) > s->cap) {
		struct stks bigger;
		if (stks_init(&bigger, s->cap) != 0)
			return NULL;
		for (size_t i = 0; i < s->cap; i++) {
			const struct stk *e = &s->t[i];
			if (e->blocks == 0)
				continue;
			size_t k = stk_slot(e->id, bigger.cap);
			while (bigger.t[k].blocks != 0)
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
		if (e->blocks == 0) {
			e->id = id;
			s->n++;
			return e;
		}
		if (e->id == id)
			return e;
	}
}

/* Sorts the n used slots (moved to the front) by id: heapsort, no
 * recursion, no memory. */
static void
stks_sort(struct stk *t, size_t n)
{
	for (size_t start = n / 2; start-- > 0;) {
		for (size_t root = start, child; (child = 2 * root + 1) < n;
		     root = child) {
			if (child + 1 < n && t[child].id < t[child + 1].id)
				child++;
			if (t[root].id >= t[child].id)
				break;
			struct stk x = t[root];
			t[root] = t[child];
			t[child] = x;
		}
	}
	for (size_t end = n; end-- > 1;) {
		struct stk x = t[0];
		t[0] = t[end];
		t[end] = x;
		for (size_t root = 0, child; (child = 2 * root + 1) < end;
		     root = child) {
			if (child + 1 < end && t[child].id < t[child + 1].id)
				child++;
			if (t[root].id >= t[child].id)
				break;
			struct stk y = t[root];
			t[root] = t[child];
			t[child] = y;
		}
	}
}

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

/* Counts the listed blocks per stack; 0, or -1 without memory. */
static int
count_stacks(const struct da_leak_scan *ls, const struct ldso *ld,
             struct stks *s)
{
	if (stks_init(s, (size_t)da_depot_count() + 64) != 0)
		return -1;
	for (size_t i = 0; i < ls->n; i++) {
		const struct da_lblock *b = &ls->b[i];
		if (b->site == DA_SITE_INTERNAL || b->site == DA_SITE_IGNORED)
			continue;
		struct stk *e = stks_get(s, b->site);
		if (e == NULL)
			return -1;
		if (e->blocks == 0) {
			const uintptr_t *pcs;
			e->loader = da_depot_get(b->site, &pcs) > 0 &&
			            pcs[0] - ld->lo < ld->hi - ld->lo;
		}
		e->blocks++;
		e->bytes += b->size;
	}
	return 0;
}

/* --- The records. --- */

struct dump {
	struct out o;
	const char *reason;
	uint64_t seq;
	uint64_t unix_ns, mono_ns;
	const char *consistency;
	char exe[DA_DUMP_PATH];
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
	out_str(o, "DBGALLOC-DUMP 1 0");
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
write_counters(struct dump *d)
{
	struct out *o = &d->o;
	struct da_acct_totals t;
	uint64_t rss, hwm;
	da_acct_totals(&t);
	read_rss(&rss, &hwm);
	out_str(o, "#fields T name value");
	out_nl(o);
	t_num(o, "live_bytes", t.live > 0 ? (uint64_t)t.live : 0);
	t_num(o, "live_blocks", t.live_blocks);
	t_num(o, "peak_bytes", t.peak > 0 ? (uint64_t)t.peak : 0);
	t_num(o, "total_allocs", t.allocs);
	t_num(o, "total_bytes", t.bytes);
	t_num(o, "total_frees", t.frees);
	t_num(o, "failed_allocs", t.failed);
	if (t.limit == DA_ACCT_NONE) {
		out_str(o, "T limit -");
		out_nl(o);
	} else {
		t_num(o, "limit", (uint64_t)t.limit);
	}
	t_num(o, "rss_bytes", rss);
	t_num(o, "rss_peak_bytes", hwm);
	t_num(o, "mapped_bytes", da_alloc_mapped());
	t_num(o, "generation", da_gen_top());
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
	out_str(o, "#fields X stack live_blocks live_bytes");
	out_nl(o);
	for (size_t i = 0; i < n; i++) {
		if (t[i].loader)
			continue;
		char *p = out_room(o, 2 + 10 + 1 + 20 + 1 + 20);
		*p++ = 'X';
		*p++ = ' ';
		p = fmt_dec(p, t[i].id);
		*p++ = ' ';
		p = fmt_dec(p, t[i].blocks);
		*p++ = ' ';
		out_end(o, fmt_dec(p, t[i].bytes));
		out_nl(o);
	}
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
write_blocks(struct out *o, const struct da_leak_scan *ls, const struct stk *t,
             size_t nt)
{
	out_str(o, "#fields A addr size stack gen epoch flags");
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
		char *p = out_room(o, 128);
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
		out_end(o, p);
		out_nl(o);
	}
}

static void
write_epochs(struct out *o)
{
	out_str(o, "#fields C epoch first_gen mono_ns name");
	out_nl(o);
	unsigned n = da_gen_epochs();
	for (unsigned e = 0; e < n; e++) {
		out_str(o, "C ");
		out_dec(o, e);
		out_str(o, " ");
		out_dec(o, da_gen_epoch_first(e));
		out_str(o, " ");
		uint64_t mono = da_gen_epoch_mono(e);
		if (mono == 0)
			out_str(o, "-");
		else
			out_dec(o, mono);
		out_str(o, " ");
		out_enc(o, da_gen_epoch_label(e));
		out_nl(o);
	}
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

/* Lists, counts and writes; 0, or an errno value. */
static int
write_all(struct work *w)
{
	struct dump *d = &w->d;
	struct da_leak_scan ls;
	struct stks s = {0};
	struct ldso ld = {getauxval(AT_BASE), 0, 0};
	da_modules_each(ldso_cb, &ld);
	if (da_leak_list(&ls) != 0)
		return ENOMEM;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	d->unix_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	d->mono_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	d->consistency = ls.missed == 0 ? "stopped" : "running";
	int rc = 0;
	if (count_stacks(&ls, &ld, &s) != 0) {
		rc = ENOMEM;
		goto out;
	}
	/* The stacks in id order, packed at the front. */
	size_t n = 0;
	for (size_t i = 0; i < s.cap; i++)
		if (s.t[i].blocks != 0)
			s.t[n++] = s.t[i];
	stks_sort(s.t, n);
	write_header(d);
	write_counters(d);
	write_modules(d);
	write_stacks(&d->o, s.t, n);
	write_blocks(&d->o, &ls, s.t, n);
	write_epochs(&d->o);
	write_trailer(&d->o);
	rc = d->o.err;
out:
	stks_free(&s);
	da_leak_scan_free(&ls);
	return rc;
}

int
da_dump_write(const char *pattern, const char *reason, char *err, size_t errlen)
{
	int saved_errno = errno;
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
	rc = write_all(w);
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
