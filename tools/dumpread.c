/*
 * tools/dumpread.c — reading a dump (see dump.h and doc/dump-format.md).
 *
 * The file is cut into lines through one buffer (struct source), each line
 * into fields at single spaces (struct field, pointing into the line), and
 * each record's fields are sorted into the slots of its type's known
 * columns by the map its #fields line built (struct table); a store
 * function per record type then converts the slots and appends to the
 * model. Every line but the trailer goes into the running CRC-32C.
 *
 * Errors, after "PATH: " (dump.h has those without a line number):
 *
 *   line N: line longer than 65536 bytes
 *   line N: bad version line
 *   line N: empty field                    (two spaces, or one at an end)
 *   line N: bad #fields line               (no record type)
 *   line N: column C named twice
 *   line N: #fields T has no column C      (one this reader needs)
 *   line N: record T before its #fields line
 *   line N: record T has X fields, its #fields line names Y
 *   line N: bad number in column C         (not decimal or 0x hex; overflow)
 *   line N: missing value in column C      ("-" where a key must be)
 *   line N: bad string in column C         (bad %XX, %00, a byte to escape)
 *   line N: bad value in column C          (perm, flags, names, build id)
 *   line N: more than 64 buckets in column C   (life_allocs, life_us)
 *   line N: stack ID has depth D but P return addresses
 *   line N: stack ID defined twice / module ID defined twice
 *   line N: stack ID is not defined / module ID is not defined
 *   line N: more than 64 unknown record types
 *   line N: bad trailer
 *   line N: the trailer counts X lines, the file has Y
 *   line N: data after the trailer
 */
#include "tools/dump.h"
#include "audit/crc32c.h"
#include "tools/dumpmodel.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "DBGALLOC-DUMP"

/* Distinct record types this reader skips; more is a corrupt file. */
#define UNKNOWN_MAX 64

/*
 * Read buffer: a whole longest line, and room to read ahead. The fuzz
 * harness makes it as small as it may be, so that lines often straddle
 * two reads.
 */
#ifndef DA_DUMP_SOURCE_BUF
#define DA_DUMP_SOURCE_BUF (4 * DA_DUMP_LINE_MAX)
#endif
#define SOURCE_BUF DA_DUMP_SOURCE_BUF
_Static_assert(SOURCE_BUF >= DA_DUMP_LINE_MAX, "a line fits the buffer");

/*
 * Where lines come from: a file through buf, or memory directly. The bytes
 * not yet cut into lines are data[start, end); eof is set once the file
 * has no more (from the start, for memory).
 */
struct source {
	FILE *f;
	char *buf;
	const char *data;
	size_t start, end;
	size_t total; /* bytes read so far */
	int eof;
	int err; /* errno of a failed read */
};

enum line_status {
	LINE_OK,   /* a line and its newline */
	LINE_LAST, /* the last bytes, without a newline */
	LINE_END,  /* no more bytes */
	LINE_LONG, /* longer than DA_DUMP_LINE_MAX */
	LINE_IOERR,
};

struct field {
	const char *p;
	size_t n;
};

/* How a column's text is read. */
enum kind {
	NUM,   /* number, "-" = DA_DUMP_NONE */
	ID,    /* number that must be there */
	STR,   /* percent-encoded string, "-" = NULL */
	WORD,  /* a name, kept as written */
	RAW,   /* kept as written, "-" = NULL */
	PERM,  /* "rwx" */
	FLAGS, /* A's flags */
	LIST,  /* X's histograms: counts separated by commas, "-" = none */
	LEAK,  /* A's leak verdict: one letter, "-" = none */
};

struct column {
	const char *name;
	enum kind kind;
	int required; /* a #fields line without it is refused */
};

#define SLOTS_MAX 11 /* the most columns a record type here knows */

struct reader;

/* A record type this reader knows. */
struct rtype {
	const char *name;
	const struct column *cols;
	size_t ncols;
	int (*store)(struct reader *r);
};

/* One record type's #fields line: slot[i] is field i's column, or -1. */
struct table {
	int defined;
	size_t ncols; /* fields a record has; for S, before its pcs */
	int *slot;
};

struct reader {
	const char *name;
	char *err;
	size_t errlen;
	struct da_dump *d;
	unsigned long line;
	uint32_t crc;
	int done; /* the trailer was read */

	struct field *f; /* the current line's fields */
	size_t nf, fcap;
	const struct rtype *type;            /* the current record's */
	const struct field *slot[SLOTS_MAX]; /* its fields by column */
	const struct field *tail;            /* S: the pcs */
	size_t ntail;

	struct table tables[10];    /* parallel to types[] */
	char *unknown[UNKNOWN_MAX]; /* their names, and lengths: */
	size_t unknown_len[UNKNOWN_MAX];
	size_t nunknown;
};

/* Errors. */

static int
fail_file(struct reader *r, int err, const char *what)
{
	if (r->errlen > 0)
		snprintf(r->err, r->errlen, "%s: %s", r->name, what);
	return err;
}

static int
fail(struct reader *r, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (r->errlen > 0)
		snprintf(r->err, r->errlen, "%s: line %lu: %s", r->name,
		         r->line, what);
	return EINVAL;
}

static int
oom(struct reader *r)
{
	return fail_file(r, ENOMEM, strerror(ENOMEM));
}

/*
 * A field as it may appear in a message: bytes outside '!'..'~' as %XX,
 * cut to about 40 bytes, so a hostile file cannot break the one line.
 */
static const char *
shown(const struct field *f, char *buf, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < f->n && o + 4 < size; i++) {
		unsigned char c = (unsigned char)f->p[i];
		if (o >= 40) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x21 || c > 0x7e || c == '%')
			o += (size_t)snprintf(buf + o, size - o, "%%%02X", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/* Lines. */

static int
source_fill(struct source *s)
{
	if (s->start > 0) {
		memmove(s->buf, s->buf + s->start, s->end - s->start);
		s->end -= s->start;
		s->start = 0;
	}
	size_t got = fread(s->buf + s->end, 1, SOURCE_BUF - s->end, s->f);
	s->end += got;
	s->total += got;
	if (got == 0) {
		if (ferror(s->f))
			return s->err = errno ? errno : EIO;
		s->eof = 1;
	}
	return 0;
}

/*
 * The next line, without its newline, in *line and *n. On LINE_LONG,
 * *line is where the line starts (at least DA_DUMP_LINE_MAX bytes).
 */
static enum line_status
source_line(struct source *s, const char **line, size_t *n)
{
	for (;;) {
		const char *p = s->data + s->start;
		size_t avail = s->end - s->start;
		const char *nl = memchr(p, '\n', avail);
		*line = p;
		if (nl != NULL) {
			*n = (size_t)(nl - p);
			if (*n + 1 > DA_DUMP_LINE_MAX)
				return LINE_LONG;
			s->start += *n + 1;
			return LINE_OK;
		}
		if (avail >= DA_DUMP_LINE_MAX)
			return LINE_LONG;
		if (s->eof) {
			*n = avail;
			s->start = s->end;
			return avail > 0 ? LINE_LAST : LINE_END;
		}
		if (source_fill(s) != 0)
			return LINE_IOERR;
	}
}

/*
 * Cuts line into r->f at single spaces. r->f grows as lines need it, up
 * to the most fields a line can hold (a byte and a space each).
 */
static int
split(struct reader *r, const char *line, size_t n)
{
	const char *p = line, *end = line + n;
	r->nf = 0;
	for (;;) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *e = sp != NULL ? sp : end;
		if (e == p)
			return fail(r, "empty field");
		if (r->nf == r->fcap) {
			size_t cap = r->fcap ? 2 * r->fcap : 16;
			struct field *f = realloc(r->f, cap * sizeof(*f));
			if (f == NULL)
				return oom(r);
			r->f = f;
			r->fcap = cap;
		}
		r->f[r->nf].p = p;
		r->f[r->nf].n = (size_t)(e - p);
		r->nf++;
		if (sp == NULL)
			return 0;
		p = sp + 1;
	}
}

static int
field_is(const struct field *f, const char *s)
{
	return f->n == strlen(s) && memcmp(f->p, s, f->n) == 0;
}

/* Numbers and strings. */

/*
 * A number: 0x and lower-case hex digits, or decimal digits; nothing
 * else, not even a sign. Returns 0, or -1 (not a number, or over 64 bits).
 */
static int
parse_u64(const char *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	if (n > 2 && p[0] == '0' && p[1] == 'x') {
		for (size_t i = 2; i < n; i++) {
			unsigned dig;
			if (p[i] >= '0' && p[i] <= '9')
				dig = (unsigned)(p[i] - '0');
			else if (p[i] >= 'a' && p[i] <= 'f')
				dig = (unsigned)(p[i] - 'a' + 10);
			else
				return -1;
			if (x >> 60 != 0)
				return -1;
			x = x << 4 | dig;
		}
	} else {
		if (n == 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			if (p[i] < '0' || p[i] > '9')
				return -1;
			unsigned dig = (unsigned)(p[i] - '0');
			if (x > (UINT64_MAX - dig) / 10)
				return -1;
			x = x * 10 + dig;
		}
	}
	*v = x;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Percent-decodes f into a new string in *out. A lone "%" is the empty
 * string. Returns 0, -1 when malformed, ENOMEM.
 */
static int
decode(const struct field *f, char **out)
{
	char *s = malloc(f->n + 1);
	size_t o = 0;
	if (s == NULL)
		return ENOMEM;
	if (!(f->n == 1 && f->p[0] == '%')) {
		for (size_t i = 0; i < f->n; i++) {
			unsigned char c = (unsigned char)f->p[i];
			if (c == '%') {
				int hi, lo;
				if (i + 2 >= f->n)
					goto bad;
				hi = hexval(f->p[i + 1]);
				lo = hexval(f->p[i + 2]);
				if (hi < 0 || lo < 0 || (hi | lo) == 0)
					goto bad;
				s[o++] = (char)(hi << 4 | lo);
				i += 2;
			} else if (c < 0x21 || c > 0x7e) {
				goto bad;
			} else {
				s[o++] = (char)c;
			}
		}
	}
	s[o] = '\0';
	*out = s;
	return 0;
bad:
	free(s);
	return -1;
}

/* A copy of f as written. */
static char *
copy(const struct field *f)
{
	char *s = malloc(f->n + 1);
	if (s != NULL) {
		memcpy(s, f->p, f->n);
		s[f->n] = '\0';
	}
	return s;
}

static int
is_dash(const struct field *f)
{
	return f->n == 1 && f->p[0] == '-';
}

/* Slot i of the current record as a number (NUM or ID). */
static int
num(struct reader *r, size_t i, uint64_t *v)
{
	const struct field *f = r->slot[i];
	const struct column *c = &r->type->cols[i];
	if (f == NULL || is_dash(f)) {
		if (c->kind == ID)
			return fail(r, "missing value in column %s", c->name);
		*v = DA_DUMP_NONE;
		return 0;
	}
	/* An id of 2^64 - 1 would read as DA_DUMP_NONE, "none". */
	if (parse_u64(f->p, f->n, v) != 0 ||
	    (c->kind == ID && *v == DA_DUMP_NONE))
		return fail(r, "bad number in column %s", c->name);
	return 0;
}

/* Slot i as a new string (STR, WORD, RAW); NULL when absent or "-". */
static int
text(struct reader *r, size_t i, char **s)
{
	const struct field *f = r->slot[i];
	const struct column *c = &r->type->cols[i];
	*s = NULL;
	if (f == NULL || (c->kind != WORD && is_dash(f)))
		return 0;
	if (c->kind == STR) {
		int e = decode(f, s);
		if (e == ENOMEM)
			return oom(r);
		if (e != 0)
			return fail(r, "bad string in column %s", c->name);
		return 0;
	}
	/* Names and build ids are plain words: printable, nothing escaped. */
	for (size_t k = 0; k < f->n; k++)
		if (f->p[k] < 0x21 || f->p[k] > 0x7e)
			return fail(r, "bad value in column %s", c->name);
	*s = copy(f);
	return *s == NULL ? oom(r) : 0;
}

/* Records: one store function per type, over r->slot[]. */

#define APPEND(r, arr, n)                                              \
	(da_dump_reserve((void **)&(arr), (n), 1, sizeof(*(arr))) != 0 \
	         ? oom(r)                                              \
	         : 0)

static int
store_h(struct reader *r)
{
	struct da_dump *d = r->d;
	struct da_dump_header h;
	int e;
	if ((e = APPEND(r, d->headers, d->nheaders)) != 0)
		return e;
	if ((e = text(r, 0, &h.key)) != 0)
		return e;
	if ((e = text(r, 1, &h.value)) != 0) {
		free(h.key);
		return e;
	}
	d->headers[d->nheaders++] = h;
	return 0;
}

static int
store_t(struct reader *r)
{
	struct da_dump *d = r->d;
	struct da_dump_counter t;
	int e;
	if ((e = APPEND(r, d->counters, d->ncounters)) != 0)
		return e;
	if ((e = num(r, 1, &t.value)) != 0)
		return e;
	if ((e = text(r, 0, &t.name)) != 0)
		return e;
	d->counters[d->ncounters++] = t;
	return 0;
}

static int
store_m(struct reader *r)
{
	struct da_dump *d = r->d;
	struct da_dump_module m;
	int e;
	if ((e = APPEND(r, d->modules, d->nmodules)) != 0 ||
	    (e = num(r, 0, &m.id)) != 0 || (e = num(r, 1, &m.bias)) != 0 ||
	    (e = num(r, 2, &m.lo)) != 0 || (e = num(r, 3, &m.hi)) != 0)
		return e;
	if (da_dump_module(d, m.id) != NULL)
		return fail(r, "module %llu defined twice",
		            (unsigned long long)m.id);
	if ((e = text(r, 4, &m.build_id)) != 0)
		return e;
	if ((e = text(r, 5, &m.path)) != 0) {
		free(m.build_id);
		return e;
	}
	d->modules[d->nmodules] = m;
	if (da_dump_index_module(d, d->nmodules) != 0) {
		free(m.build_id);
		free(m.path);
		return oom(r);
	}
	d->nmodules++;
	return 0;
}

static int
store_l(struct reader *r)
{
	struct da_dump *d = r->d;
	struct da_dump_segment l;
	const struct field *perm = r->slot[4];
	int e;
	if ((e = APPEND(r, d->segments, d->nsegments)) != 0 ||
	    (e = num(r, 0, &l.module)) != 0 || (e = num(r, 1, &l.vaddr)) != 0 ||
	    (e = num(r, 2, &l.memsz)) != 0 || (e = num(r, 3, &l.offset)) != 0)
		return e;
	if (da_dump_module(d, l.module) == NULL)
		return fail(r, "module %llu is not defined",
		            (unsigned long long)l.module);
	memset(l.perm, 0, sizeof(l.perm));
	if (perm != NULL && !is_dash(perm)) {
		if (perm->n != 3)
			return fail(r, "bad value in column perm");
		for (size_t i = 0; i < 3; i++) {
			if (strchr("rwx-", perm->p[i]) == NULL ||
			    perm->p[i] == '\0')
				return fail(r, "bad value in column perm");
			l.perm[i] = perm->p[i];
		}
	}
	d->segments[d->nsegments++] = l;
	return 0;
}

static int
store_s(struct reader *r)
{
	struct da_dump *d = r->d;
	struct da_dump_stack s;
	uint64_t depth;
	int e;
	if ((e = APPEND(r, d->stacks, d->nstacks)) != 0 ||
	    (e = num(r, 0, &s.id)) != 0 || (e = num(r, 1, &depth)) != 0)
		return e;
	if (depth != r->ntail)
		return fail(r,
		            "stack %llu has depth %llu but %zu return "
		            "addresses",
		            (unsigned long long)s.id, (unsigned long long)depth,
		            r->ntail);
	if (da_dump_stack(d, s.id) != NULL)
		return fail(r, "stack %llu defined twice",
		            (unsigned long long)s.id);
	if (da_dump_reserve((void **)&d->pcs, d->npcs, r->ntail,
	                    sizeof(*d->pcs)) != 0)
		return oom(r);
	for (size_t i = 0; i < r->ntail; i++) {
		const struct field *f = &r->tail[i];
		if (is_dash(f))
			return fail(r, "missing value in column pc");
		if (parse_u64(f->p, f->n, &d->pcs[d->npcs + i]) != 0)
			return fail(r, "bad number in column pc");
	}
	/* pcs moves as it grows: da_dump_read points into it at the end. */
	s.depth = r->ntail;
	s.pcs = NULL;
	d->stacks[d->nstacks] = s;
	if (da_dump_index_stack(d, d->nstacks) != 0)
		return oom(r);
	d->npcs += r->ntail;
	d->nstacks++;
	return 0;
}

/* A stack id named by an X or A record must have come in an S before. */
static int
known_stack(struct reader *r, uint64_t id)
{
	if (id != DA_DUMP_NONE && da_dump_stack(r->d, id) == NULL)
		return fail(r, "stack %llu is not defined",
		            (unsigned long long)id);
	return 0;
}

/*
 * Slot i, a histogram, into the pool after the at values already put
 * there for this record; its bucket count in *n (0 for "-" or absent).
 */
static int
list(struct reader *r, size_t i, size_t at, unsigned *n)
{
	const struct field *f = r->slot[i];
	const char *name = r->type->cols[i].name;
	struct da_dump *d = r->d;
	*n = 0;
	if (f == NULL || is_dash(f))
		return 0;
	if (da_dump_reserve((void **)&d->life, d->nlife + at, DA_DUMP_LIFE_MAX,
	                    sizeof(*d->life)) != 0)
		return oom(r);
	for (const char *p = f->p, *end = f->p + f->n;; (*n)++) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma != NULL ? comma : end;
		if (*n == DA_DUMP_LIFE_MAX)
			return fail(r, "more than %d buckets in column %s",
			            DA_DUMP_LIFE_MAX, name);
		if (parse_u64(p, (size_t)(e - p), &d->life[d->nlife + at + *n]))
			return fail(r, "bad number in column %s", name);
		if (comma == NULL) {
			(*n)++;
			return 0;
		}
		p = comma + 1;
	}
}

/* A's leak verdict: one letter, kept; "-" is none. */
static int
leak_verdict(struct reader *r, size_t i, char *v)
{
	const struct field *f = r->slot[i];
	*v = 0;
	if (f == NULL || is_dash(f))
		return 0;
	if (f->n != 1 || !((f->p[0] >= 'a' && f->p[0] <= 'z') ||
	                   (f->p[0] >= 'A' && f->p[0] <= 'Z')))
		return fail(r, "bad value in column %s", r->type->cols[i].name);
	*v = f->p[0];
	return 0;
}

static int
store_k(struct reader *r)
{
	struct da_dump *d = r->d;
	uint64_t v[8];
	int e;
	if ((e = APPEND(r, d->classes, d->nclasses)) != 0)
		return e;
	for (size_t i = 0; i < 8; i++)
		if ((e = num(r, i, &v[i])) != 0)
			return e;
	d->classes[d->nclasses++] = (struct da_dump_class){
	        .block_size = v[0],
	        .slabs = v[1],
	        .slab_bytes = v[2],
	        .live_blocks = v[3],
	        .live_bytes = v[4],
	        .allocs = v[5],
	        .frees = v[6],
	        .peak_live_blocks = v[7],
	};
	return 0;
}

/*
 * The histograms go to the pool, life_allocs then life_us, site after
 * site: da_dump_read points into it at the end, as for the pcs.
 */
static int
store_x(struct reader *r)
{
	struct da_dump *d = r->d;
	uint64_t v[9];
	unsigned na, nu;
	int e;
	if ((e = APPEND(r, d->sites, d->nsites)) != 0)
		return e;
	for (size_t i = 0; i < 9; i++)
		if ((e = num(r, i, &v[i])) != 0)
			return e;
	if ((e = known_stack(r, v[0])) != 0)
		return e;
	if ((e = list(r, 9, 0, &na)) != 0 || (e = list(r, 10, na, &nu)) != 0)
		return e;
	d->nlife += na + nu;
	d->sites[d->nsites++] = (struct da_dump_site){
	        .stack = v[0],
	        .live_blocks = v[1],
	        .live_bytes = v[2],
	        .allocs = v[3],
	        .alloc_bytes = v[4],
	        .frees = v[5],
	        .free_bytes = v[6],
	        .peak_live_bytes = v[7],
	        .temporary = v[8],
	        .nlife_allocs = na,
	        .nlife_us = nu,
	};
	return 0;
}

static int
store_a(struct reader *r)
{
	struct da_dump *d = r->d;
	struct da_dump_block a;
	const struct field *flags = r->slot[5];
	int e;
	if ((e = APPEND(r, d->blocks, d->nblocks)) != 0 ||
	    (e = num(r, 0, &a.addr)) != 0 || (e = num(r, 1, &a.size)) != 0 ||
	    (e = num(r, 2, &a.stack)) != 0 || (e = num(r, 3, &a.gen)) != 0 ||
	    (e = num(r, 4, &a.epoch)) != 0 || (e = num(r, 6, &a.thread)) != 0 ||
	    (e = leak_verdict(r, 7, &a.leak)) != 0)
		return e;
	if ((e = known_stack(r, a.stack)) != 0)
		return e;
	a.flags = 0;
	if (flags != NULL && !is_dash(flags)) {
		for (size_t i = 0; i < flags->n; i++) {
			char c = flags->p[i];
			if (c == 'i')
				a.flags |= DA_DUMP_IGNORED;
			else if (c == 'n')
				a.flags |= DA_DUMP_NEW;
			else if (c == 'N')
				a.flags |= DA_DUMP_NEW_ARRAY;
			else if (c == 'a')
				a.flags |= DA_DUMP_ALIGNED;
			else if (!((c >= 'a' && c <= 'z') ||
			           (c >= 'A' && c <= 'Z')))
				return fail(r, "bad value in column flags");
			/* Other letters: a later minor version's. */
		}
	}
	d->blocks[d->nblocks++] = a;
	return 0;
}

static int
store_c(struct reader *r)
{
	struct da_dump *d = r->d;
	struct da_dump_epoch c;
	int e;
	if ((e = APPEND(r, d->epochs, d->nepochs)) != 0 ||
	    (e = num(r, 0, &c.epoch)) != 0 ||
	    (e = num(r, 1, &c.first_gen)) != 0 ||
	    (e = num(r, 2, &c.mono_ns)) != 0 ||
	    (e = num(r, 4, &c.allocs)) != 0 ||
	    (e = num(r, 5, &c.alloc_bytes)) != 0 ||
	    (e = num(r, 6, &c.frees)) != 0 ||
	    (e = num(r, 7, &c.free_bytes)) != 0 ||
	    (e = num(r, 8, &c.peak_bytes)) != 0 ||
	    (e = text(r, 3, &c.name)) != 0)
		return e;
	d->epochs[d->nepochs++] = c;
	return 0;
}

static int
store_p(struct reader *r)
{
	struct da_dump *d = r->d;
	struct da_dump_sample p;
	int e;
	if ((e = APPEND(r, d->samples, d->nsamples)) != 0 ||
	    (e = num(r, 0, &p.mono_ns)) != 0 ||
	    (e = num(r, 1, &p.live_bytes)) != 0 ||
	    (e = num(r, 2, &p.rss_bytes)) != 0 ||
	    (e = num(r, 3, &p.gen)) != 0 || (e = text(r, 4, &p.reason)) != 0)
		return e;
	d->samples[d->nsamples++] = p;
	return 0;
}

/* The columns this reader uses, by record type, in slot order. */
static const struct column h_cols[] = {{"key", WORD, 1}, {"value", STR, 1}};
static const struct column t_cols[] = {{"name", WORD, 1}, {"value", NUM, 1}};
static const struct column m_cols[] = {
        {"id", ID, 1},  {"bias", NUM, 0},     {"lo", NUM, 0},
        {"hi", NUM, 0}, {"build_id", RAW, 0}, {"path", STR, 0},
};
static const struct column l_cols[] = {
        {"module", ID, 1},  {"vaddr", NUM, 0}, {"memsz", NUM, 0},
        {"offset", NUM, 0}, {"perm", PERM, 0},
};
static const struct column s_cols[] = {{"id", ID, 1}, {"depth", ID, 1}};
static const struct column k_cols[] = {
        {"block_size", NUM, 1}, {"slabs", NUM, 0},
        {"slab_bytes", NUM, 0}, {"live_blocks", NUM, 0},
        {"live_bytes", NUM, 0}, {"allocs", NUM, 0},
        {"frees", NUM, 0},      {"peak_live_blocks", NUM, 0},
};
static const struct column x_cols[] = {
        {"stack", ID, 1},        {"live_blocks", NUM, 0},
        {"live_bytes", NUM, 0},  {"allocs", NUM, 0},
        {"alloc_bytes", NUM, 0}, {"frees", NUM, 0},
        {"free_bytes", NUM, 0},  {"peak_live_bytes", NUM, 0},
        {"temporary", NUM, 0},   {"life_allocs", LIST, 0},
        {"life_us", LIST, 0},
};
static const struct column a_cols[] = {
        {"addr", ID, 1},    {"size", NUM, 0},  {"stack", NUM, 0},
        {"gen", NUM, 0},    {"epoch", NUM, 0}, {"flags", FLAGS, 0},
        {"thread", NUM, 0}, {"leak", LEAK, 0},
};
static const struct column c_cols[] = {
        {"epoch", ID, 1},  {"first_gen", NUM, 0},  {"mono_ns", NUM, 0},
        {"name", STR, 0},  {"allocs", NUM, 0},     {"alloc_bytes", NUM, 0},
        {"frees", NUM, 0}, {"free_bytes", NUM, 0}, {"peak_bytes", NUM, 0},
};
static const struct column p_cols[] = {
        {"mono_ns", NUM, 1}, {"live_bytes", NUM, 0}, {"rss_bytes", NUM, 0},
        {"gen", NUM, 0},     {"reason", RAW, 0},
};

#define TYPE(name, cols, store)                                   \
	{                                                         \
		name, cols, sizeof(cols) / sizeof(cols[0]), store \
	}
static const struct rtype types[] = {
        TYPE("H", h_cols, store_h), TYPE("T", t_cols, store_t),
        TYPE("M", m_cols, store_m), TYPE("L", l_cols, store_l),
        TYPE("S", s_cols, store_s), TYPE("K", k_cols, store_k),
        TYPE("X", x_cols, store_x), TYPE("A", a_cols, store_a),
        TYPE("C", c_cols, store_c), TYPE("P", p_cols, store_p),
};
#define NTYPES (sizeof(types) / sizeof(types[0]))
_Static_assert(NTYPES == sizeof(((struct reader *)0)->tables) /
                                 sizeof(struct table),
               "one #fields table per record type");

static const struct rtype *
type_of(const struct field *f)
{
	for (size_t i = 0; i < NTYPES; i++)
		if (field_is(f, types[i].name))
			return &types[i];
	return NULL;
}

/* An unknown record type's place in r->unknown, or -1. */
static int
unknown_of(struct reader *r, const struct field *f)
{
	for (size_t i = 0; i < r->nunknown; i++)
		if (r->unknown_len[i] == f->n &&
		    memcmp(r->unknown[i], f->p, f->n) == 0)
			return (int)i;
	return -1;
}

/*
 * Does this last column of #fields S name the pcs? Any name but the
 * columns S has before them does: "pc...", "ip…", "pcs". Without one, the
 * pcs follow the named columns all the same.
 */
static int
names_tail(const struct rtype *t, const struct field *f)
{
	for (size_t k = 0; k < t->ncols; k++)
		if (field_is(f, t->cols[k].name))
			return 0;
	return 1;
}

/* "#fields T name..." */
static int
fields_line(struct reader *r)
{
	const struct rtype *t;
	struct table *tab;
	size_t ncols;
	int seen[SLOTS_MAX] = {0};
	int *slot;

	if (r->nf < 2)
		return fail(r, "bad #fields line");
	t = type_of(&r->f[1]);
	if (t == NULL) {
		/* The trailer's form is fixed; other types are skipped. */
		if (field_is(&r->f[1], "E") || unknown_of(r, &r->f[1]) >= 0)
			return 0;
		if (r->nunknown == UNKNOWN_MAX)
			return fail(r, "more than %d unknown record types",
			            UNKNOWN_MAX);
		if ((r->unknown[r->nunknown] = copy(&r->f[1])) == NULL)
			return oom(r);
		r->unknown_len[r->nunknown++] = r->f[1].n;
		return 0;
	}
	tab = &r->tables[t - types];
	ncols = r->nf - 2;
	if (t->store == store_s && ncols > 0 && names_tail(t, &r->f[r->nf - 1]))
		ncols--;
	slot = malloc((ncols ? ncols : 1) * sizeof(*slot));
	if (slot == NULL)
		return oom(r);
	for (size_t i = 0; i < ncols; i++) {
		const struct field *name = &r->f[2 + i];
		slot[i] = -1;
		for (size_t k = 0; k < t->ncols; k++) {
			if (!field_is(name, t->cols[k].name))
				continue;
			if (seen[k]) {
				free(slot);
				return fail(r, "column %s named twice",
				            t->cols[k].name);
			}
			seen[k] = 1;
			slot[i] = (int)k;
		}
	}
	for (size_t k = 0; k < t->ncols; k++) {
		if (t->cols[k].required && !seen[k]) {
			free(slot);
			return fail(r, "#fields %s has no column %s", t->name,
			            t->cols[k].name);
		}
	}
	free(tab->slot);
	tab->slot = slot;
	tab->ncols = ncols;
	tab->defined = 1;
	return 0;
}

/* "E lines crc32c", checked against what was read. */
static int
trailer(struct reader *r)
{
	uint64_t lines, crc;
	if (r->nf != 3)
		return fail(r, "bad trailer");
	if (parse_u64(r->f[1].p, r->f[1].n, &lines) != 0)
		return fail(r, "bad number in column lines");
	if (parse_u64(r->f[2].p, r->f[2].n, &crc) != 0 || crc > UINT32_MAX)
		return fail(r, "bad number in column crc32c");
	if (crc != r->crc)
		return fail_file(r, EINVAL, "checksum mismatch");
	if (lines != r->line - 1)
		return fail(r,
		            "the trailer counts %llu lines, the file has %lu",
		            (unsigned long long)lines, r->line - 1);
	r->d->lines = r->line - 1;
	r->d->crc32c = (uint32_t)crc;
	r->done = 1;
	return 0;
}

/* A record line, split. */
static int
record(struct reader *r)
{
	const struct rtype *t = type_of(&r->f[0]);
	const struct table *tab;
	size_t nfields = r->nf - 1;
	char buf[64];

	if (t == NULL) {
		if (unknown_of(r, &r->f[0]) < 0)
			return fail(r, "record %s before its #fields line",
			            shown(&r->f[0], buf, sizeof(buf)));
		return 0;
	}
	tab = &r->tables[t - types];
	if (!tab->defined)
		return fail(r, "record %s before its #fields line", t->name);
	if (t->store == store_s ? nfields < tab->ncols : nfields != tab->ncols)
		return fail(r,
		            "record %s has %zu fields, its #fields line "
		            "names %zu",
		            t->name, nfields, tab->ncols);
	r->type = t;
	memset(r->slot, 0, sizeof(r->slot));
	for (size_t i = 0; i < tab->ncols; i++)
		if (tab->slot[i] >= 0)
			r->slot[tab->slot[i]] = &r->f[1 + i];
	r->tail = &r->f[1 + tab->ncols];
	r->ntail = nfields - tab->ncols;
	return t->store(r);
}

/* "DBGALLOC-DUMP 1 0" */
static int
has_magic(const char *line, size_t n)
{
	size_t m = sizeof(MAGIC) - 1;
	return n >= m && memcmp(line, MAGIC, m) == 0 &&
	       (n == m || line[m] == ' ');
}

static int
version_line(struct reader *r, const char *line, size_t n)
{
	uint64_t major, minor;
	int e;
	if (!has_magic(line, n))
		return fail_file(r, EINVAL, "not a dbgalloc dump");
	if ((e = split(r, line, n)) != 0)
		return e;
	if (r->nf < 3)
		return fail(r, "bad version line");
	if (parse_u64(r->f[1].p, r->f[1].n, &major) != 0)
		return fail(r, "bad number in column major");
	if (major != DA_DUMP_MAJOR) {
		char what[128];
		snprintf(what, sizeof(what),
		         "dump version %llu is not supported (this reader "
		         "reads version %d)",
		         (unsigned long long)major, DA_DUMP_MAJOR);
		return fail_file(r, EINVAL, what);
	}
	if (parse_u64(r->f[2].p, r->f[2].n, &minor) != 0 || minor > 0xffff)
		return fail(r, "bad number in column minor");
	r->d->major = (unsigned)major;
	r->d->minor = (unsigned)minor;
	return 0;
}

/* One whole line (newline seen), number r->line. */
static int
line(struct reader *r, const char *p, size_t n)
{
	int e;
	if (r->done)
		return fail(r, "data after the trailer");
	if (r->line == 1)
		return version_line(r, p, n);
	if (n > 0 && p[0] == '#') {
		if (n < 7 || memcmp(p, "#fields", 7) != 0 ||
		    (n > 7 && p[7] != ' '))
			return 0; /* a comment */
		if ((e = split(r, p, n)) != 0)
			return e;
		return fields_line(r);
	}
	if ((e = split(r, p, n)) != 0)
		return e;
	if (field_is(&r->f[0], "E"))
		return trailer(r);
	return record(r);
}

static int
run(struct reader *r, struct source *s)
{
	for (;;) {
		const char *p;
		size_t n;
		enum line_status st = source_line(s, &p, &n);
		int e;
		r->line++;
		switch (st) {
		case LINE_OK:
			if ((e = line(r, p, n)) != 0)
				return e;
			/* After the trailer, nothing counts: it must end. */
			if (!r->done)
				r->crc = da_crc32c(r->crc, p, n + 1);
			break;
		case LINE_LAST:
			/* The version line says what the file is, even cut. */
			if (r->line == 1 && (e = version_line(r, p, n)) != 0)
				return e;
			if (r->done)
				return fail(r, "data after the trailer");
			return fail_file(r, EINVAL, "truncated: no trailer");
		case LINE_END:
			if (s->total == 0)
				return fail_file(r, EINVAL, "empty file");
			if (!r->done)
				return fail_file(r, EINVAL,
				                 "truncated: no trailer");
			return 0;
		case LINE_LONG:
			if (r->line == 1 && !has_magic(p, DA_DUMP_LINE_MAX))
				return fail_file(r, EINVAL,
				                 "not a dbgalloc dump");
			return fail(r, "line longer than %d bytes",
			            DA_DUMP_LINE_MAX);
		case LINE_IOERR:
			return fail_file(r, s->err, strerror(s->err));
		}
	}
}

static int
read_source(struct source *s, const char *name, struct da_dump *d, char *err,
            size_t errlen)
{
	struct reader r;
	int e;
	memset(&r, 0, sizeof(r));
	memset(d, 0, sizeof(*d));
	r.name = name;
	r.err = err;
	r.errlen = errlen;
	r.d = d;
	if (errlen > 0)
		err[0] = '\0';
	e = run(&r, s);
	free(r.f);
	for (size_t i = 0; i < NTYPES; i++)
		free(r.tables[i].slot);
	for (size_t i = 0; i < r.nunknown; i++)
		free(r.unknown[i]);
	if (e != 0) {
		da_dump_free(d);
		return e;
	}
	for (size_t i = 0, at = 0; i < d->nstacks; i++) {
		d->stacks[i].pcs = d->pcs + at;
		at += d->stacks[i].depth;
	}
	for (size_t i = 0, at = 0; i < d->nsites; i++) {
		struct da_dump_site *x = &d->sites[i];
		x->life_allocs = x->nlife_allocs ? d->life + at : NULL;
		at += x->nlife_allocs;
		x->life_us = x->nlife_us ? d->life + at : NULL;
		at += x->nlife_us;
	}
	return 0;
}

int
da_dump_read(const char *path, struct da_dump *d, char *err, size_t errlen)
{
	struct source s;
	int e;
	memset(&s, 0, sizeof(s));
	memset(d, 0, sizeof(*d));
	s.f = fopen(path, "rb");
	if (s.f == NULL) {
		e = errno;
		if (errlen > 0)
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		return e;
	}
	s.buf = malloc(SOURCE_BUF);
	if (s.buf == NULL) {
		fclose(s.f);
		if (errlen > 0)
			snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return ENOMEM;
	}
	s.data = s.buf;
	e = read_source(&s, path, d, err, errlen);
	free(s.buf);
	fclose(s.f);
	return e;
}

int
da_dump_read_mem(const void *data, size_t size, const char *name,
                 struct da_dump *d, char *err, size_t errlen)
{
	struct source s;
	memset(&s, 0, sizeof(s));
	s.data = size > 0 ? data : "";
	s.end = size;
	s.total = size;
	s.eof = 1;
	return read_source(&s, name, d, err, errlen);
}
