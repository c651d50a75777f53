/*
 * tools/stats-out.c — the document a command builds, and its two forms
 * (see stats-out.h). Nodes live in chunks of the document and are linked
 * in the order they were added; rendering walks them once per form.
 */
#include "tools/stats-out.h"
#include "tools/stats-units.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum type {
	T_OBJ,
	T_TABLE,
	T_RECORDS,
	T_FRAMES,
	T_ARR,
	T_HIST,
	T_LINE,
	T_FRAME, /* one frame: text and v.frame */
	/* values */
	T_STR,
	T_COUNT,
	T_SIZE,
	T_DELTA,
	T_CDELTA,
	T_PCT,
	T_NS,
	T_HEX,
	T_BOOL,
};

struct o_node {
	enum type type;
	unsigned flags;
	const char *key;       /* in JSON; NULL in arrays */
	const char *label;     /* in text: field label, column header */
	const char *text;      /* title, headline, frame or bucket text */
	const char *suffix;    /* after a field's value */
	const char *none_text; /* a missing value's text */
	int none;              /* the value is missing */
	int indent;            /* added before the content's lines */
	int blank;             /* records: a blank line after each;
	                        * arrays: one between items */
	enum o_frame_style style;
	unsigned depth, skip; /* frames shown in text */
	union {
		uint64_t u;
		int64_t i;
		double f;
		const char *s;
		const struct o_frame_info *frame;
	} v;
	struct o_node *first, *last, *next;
	size_t n;
	struct o_doc *doc;
};

struct chunk {
	struct chunk *next;
	size_t used, size;
	_Alignas(16) char data[];
};

struct o_doc {
	struct chunk *chunks;
	struct o_node *root;
	const char **strings; /* o_intern's, open addressing */
	size_t nstrings, string_slots;
};

#define CHUNK_SIZE (64 * 1024)
#define NONE       UINT64_MAX

void
st_oom(void)
{
	fputs("dbgalloc-stats: out of memory\n", stderr);
	exit(2);
}

void *
o_alloc(struct o_doc *doc, size_t n)
{
	struct chunk *c = doc->chunks;
	n = (n + 15) & ~(size_t)15;
	if (c == NULL || c->size - c->used < n) {
		size_t size = n > CHUNK_SIZE ? n : CHUNK_SIZE;
		c = malloc(sizeof(*c) + size);
		if (c == NULL)
			st_oom();
		c->next = doc->chunks;
		c->used = 0;
		c->size = size;
		doc->chunks = c;
	}
	void *p = c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *
o_strdup(struct o_doc *doc, const char *s)
{
	if (s == NULL)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = o_alloc(doc, n);
	memcpy(p, s, n);
	return p;
}

static char *
vprint(struct o_doc *doc, const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		st_oom();
	char *p = o_alloc(doc, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
o_printf(struct o_doc *doc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = vprint(doc, fmt, ap);
	va_end(ap);
	return p;
}

struct o_doc *
o_new(void)
{
	struct o_doc *doc = calloc(1, sizeof(*doc));
	if (doc == NULL)
		st_oom();
	doc->root = o_alloc(doc, sizeof(struct o_node));
	doc->root->type = T_OBJ;
	doc->root->doc = doc;
	return doc;
}

void
o_free(struct o_doc *doc)
{
	if (doc == NULL)
		return;
	for (struct chunk *c = doc->chunks, *next; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(doc->strings);
	free(doc);
}

struct o_node *
o_root(struct o_doc *doc)
{
	return doc->root;
}

struct o_doc *
o_doc_of(const struct o_node *n)
{
	return n->doc;
}

size_t
o_count_children(const struct o_node *n)
{
	return n->n;
}

/* Building. */

static struct o_node *
add(struct o_node *parent, enum type type, const char *key, const char *label)
{
	struct o_doc *doc = parent->doc;
	struct o_node *n = o_alloc(doc, sizeof(*n));
	n->type = type;
	n->doc = doc;
	/* Keys and labels repeat row after row: kept once. */
	n->key = o_intern(doc, key);
	n->label = o_intern(doc, label);
	if (parent->last != NULL)
		parent->last->next = n;
	else
		parent->first = n;
	parent->last = n;
	parent->n++;
	return n;
}

struct o_node *
o_obj(struct o_node *parent, const char *key, const char *title, int indent)
{
	struct o_node *n = add(parent, T_OBJ, key, NULL);
	n->text = o_strdup(parent->doc, title);
	n->indent = indent;
	return n;
}

struct o_node *
o_table(struct o_node *parent, const char *key, const char *title, int indent)
{
	struct o_node *n = add(parent, T_TABLE, key, NULL);
	n->text = o_strdup(parent->doc, title);
	n->indent = indent;
	return n;
}

struct o_node *
o_row(struct o_node *table)
{
	return add(table, T_OBJ, NULL, NULL);
}

struct o_node *
o_records(struct o_node *parent, const char *key, int blank_after)
{
	struct o_node *n = add(parent, T_RECORDS, key, NULL);
	n->blank = blank_after;
	return n;
}

struct o_node *
o_record(struct o_node *records, const char *headline)
{
	struct o_node *n = add(records, T_OBJ, NULL, NULL);
	n->text = o_strdup(records->doc, headline);
	return n;
}

struct o_node *
o_frames(struct o_node *parent, const char *key, enum o_frame_style style,
         unsigned depth, unsigned skip)
{
	struct o_node *n = add(parent, T_FRAMES, key, NULL);
	n->style = style;
	n->depth = depth;
	n->skip = skip;
	n->indent = 2;
	return n;
}

static uint64_t
str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

const char *
o_intern(struct o_doc *doc, const char *s)
{
	if (s == NULL)
		return NULL;
	if ((doc->nstrings + 1) * 2 > doc->string_slots) {
		size_t slots = doc->string_slots ? 2 * doc->string_slots : 256;
		const char **t = calloc(slots, sizeof(*t));
		if (t == NULL)
			st_oom();
		for (size_t i = 0; i < doc->string_slots; i++) {
			const char *k = doc->strings[i];
			if (k == NULL)
				continue;
			size_t j = (size_t)str_hash(k) & (slots - 1);
			while (t[j] != NULL)
				j = (j + 1) & (slots - 1);
			t[j] = k;
		}
		free(doc->strings);
		doc->strings = t;
		doc->string_slots = slots;
	}
	size_t j = (size_t)str_hash(s) & (doc->string_slots - 1);
	for (; doc->strings[j] != NULL; j = (j + 1) & (doc->string_slots - 1))
		if (strcmp(doc->strings[j], s) == 0)
			return doc->strings[j];
	doc->strings[j] = o_strdup(doc, s);
	doc->nstrings++;
	return doc->strings[j];
}

struct o_node *
o_frame(struct o_node *frames, const char *text,
        const struct o_frame_info *info)
{
	struct o_doc *doc = frames->doc;
	struct o_node *n = add(frames, T_FRAME, NULL, NULL);
	struct o_frame_info *f = o_alloc(doc, sizeof(*f));
	*f = *info;
	f->function = o_intern(doc, info->function);
	f->file = o_intern(doc, info->file);
	f->module = o_intern(doc, info->module);
	n->text = o_strdup(doc, text);
	n->v.frame = f;
	return n;
}

enum o_frame_style
o_frames_style(const struct o_node *frames)
{
	return frames->style;
}

struct o_node *
o_arr(struct o_node *parent, const char *key)
{
	return add(parent, T_ARR, key, NULL);
}

struct o_node *
o_item(struct o_node *arr, const char *title)
{
	struct o_node *n = add(arr, T_OBJ, NULL, NULL);
	n->text = o_strdup(arr->doc, title);
	return n;
}

struct o_node *
o_hist(struct o_node *parent, const char *key, const char *label)
{
	return add(parent, T_HIST, key, label);
}

void
o_bucket(struct o_node *hist, uint64_t lo, uint64_t hi, uint64_t count,
         const char *text)
{
	struct o_node *b = add(hist, T_OBJ, NULL, NULL);
	b->text = o_strdup(hist->doc, text);
	b->v.u = count;
	o_count(b, "min", NULL, lo);
	o_count(b, "max", NULL, hi);
	o_count(b, "count", NULL, count);
}

static struct o_node *
value(struct o_node *p, enum type type, const char *key, const char *label,
      uint64_t v)
{
	struct o_node *n = add(p, type, key, label);
	n->v.u = v;
	n->none = v == NONE;
	return n;
}

struct o_node *
o_str(struct o_node *p, const char *key, const char *label, const char *s)
{
	struct o_node *n = add(p, T_STR, key, label);
	n->v.s = o_strdup(p->doc, s);
	n->none = s == NULL;
	return n;
}

struct o_node *
o_count(struct o_node *p, const char *key, const char *label, uint64_t v)
{
	return value(p, T_COUNT, key, label, v);
}

struct o_node *
o_size(struct o_node *p, const char *key, const char *label, uint64_t v)
{
	return value(p, T_SIZE, key, label, v);
}

struct o_node *
o_delta(struct o_node *p, const char *key, const char *label, int64_t v)
{
	struct o_node *n = add(p, T_DELTA, key, label);
	n->v.i = v;
	return n;
}

struct o_node *
o_cdelta(struct o_node *p, const char *key, const char *label, int64_t v)
{
	struct o_node *n = add(p, T_CDELTA, key, label);
	n->v.i = v;
	return n;
}

struct o_node *
o_pct(struct o_node *p, const char *key, const char *label, double v)
{
	struct o_node *n = add(p, T_PCT, key, label);
	n->v.f = v;
	n->none = !isfinite(v);
	return n;
}

struct o_node *
o_ns(struct o_node *p, const char *key, const char *label, uint64_t v)
{
	return value(p, T_NS, key, label, v);
}

struct o_node *
o_hex(struct o_node *p, const char *key, const char *label, uint64_t v)
{
	return value(p, T_HEX, key, label, v);
}

struct o_node *
o_bool(struct o_node *p, const char *key, const char *label, int v)
{
	return value(p, T_BOOL, key, label, v != 0);
}

struct o_node *
o_line(struct o_node *p, const char *fmt, ...)
{
	struct o_node *n = add(p, T_LINE, NULL, NULL);
	va_list ap;
	va_start(ap, fmt);
	n->text = vprint(p->doc, fmt, ap);
	va_end(ap);
	n->flags = O_TEXT_ONLY;
	return n;
}

struct o_node *
o_flags(struct o_node *n, unsigned flags)
{
	n->flags |= flags;
	return n;
}

struct o_node *
o_suffix(struct o_node *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	n->suffix = vprint(n->doc, fmt, ap);
	va_end(ap);
	return n;
}

struct o_node *
o_indent(struct o_node *n, int indent)
{
	n->indent = indent;
	return n;
}

struct o_node *
o_missing(struct o_node *n)
{
	n->none = 1;
	return n;
}

struct o_node *
o_none_text(struct o_node *n, const char *text)
{
	n->none_text = o_strdup(n->doc, text);
	return n;
}

struct o_node *
o_spaced(struct o_node *arr)
{
	arr->blank = 1;
	return arr;
}

/* Text. */

static int
is_value(const struct o_node *n)
{
	return n->type >= T_STR;
}

static int
in_text(const struct o_node *n)
{
	return !(n->flags & O_JSON_ONLY) &&
	       !(n->none && (n->flags & O_HIDE_NONE));
}

/* A value's text in buf (at least ST_NUM_MAX), or its string. */
static const char *
cell(const struct o_node *n, char *buf)
{
	if (n->none)
		return n->none_text != NULL ? n->none_text : "-";
	switch (n->type) {
	case T_STR:
		return n->v.s;
	case T_COUNT:
		return st_fmt_count(n->v.u, buf);
	case T_SIZE:
		return st_fmt_size(n->v.u, buf);
	case T_DELTA:
		return st_fmt_delta(n->v.i, buf);
	case T_CDELTA:
		return st_fmt_cdelta(n->v.i, buf);
	case T_PCT:
		return st_fmt_pct(n->v.f, buf);
	case T_NS:
		return st_fmt_ns(n->v.u, buf);
	case T_HEX:
		snprintf(buf, ST_NUM_MAX, "0x%" PRIx64, n->v.u);
		return buf;
	case T_BOOL:
		return n->v.u ? "yes" : "no";
	default:
		return "";
	}
}

/* Columns a string takes: UTF-8 continuation bytes take none. */
static size_t
width(const char *s)
{
	size_t w = 0;
	for (; *s != '\0'; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* s with control bytes as %XX, so that a line stays one line. */
static void
put(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			fprintf(f, "%%%02X", c);
		else
			fputc(c, f);
	}
}

static void
pad(FILE *f, size_t n)
{
	for (; n > 0; n--)
		fputc(' ', f);
}

static void
line_start(FILE *f, int indent)
{
	pad(f, indent > 0 ? (size_t)indent : 0);
}

static void text_node(FILE *f, const struct o_node *n, int indent);

static void
text_frames(FILE *f, const struct o_node *n, int indent)
{
	unsigned shown = 0, i = 0;
	const struct o_node *c = n->first;
	for (; c != NULL && i < n->skip; c = c->next, i++)
		;
	if (n->first == NULL && n->style != O_FRAMES_SHORT) {
		line_start(f, indent);
		fputs("(no frames recorded)\n", f);
		return;
	}
	for (; c != NULL; c = c->next, i++) {
		if (n->depth != 0 && shown == n->depth) {
			if (n->style == O_FRAMES_CHECK) {
				line_start(f, indent);
				fputs("...\n", f);
			}
			return;
		}
		line_start(f, indent);
		if (n->style == O_FRAMES_REPORT)
			fprintf(f, "#%u ", i);
		put(f, c->text);
		fputc('\n', f);
		shown++;
	}
}

static void
text_hist(FILE *f, const struct o_node *n, int indent)
{
	line_start(f, indent);
	put(f, n->label != NULL ? n->label : "");
	fputc(':', f);
	for (const struct o_node *b = n->first; b != NULL; b = b->next) {
		if (b->v.u == 0)
			continue;
		fputs("  ", f);
		put(f, b->text);
	}
	fputc('\n', f);
}

static void
text_field(FILE *f, const struct o_node *n, int indent, size_t label_width)
{
	char buf[ST_NUM_MAX];
	line_start(f, indent);
	if (n->label != NULL) {
		put(f, n->label);
		pad(f, label_width - width(n->label) + 2);
	}
	put(f, cell(n, buf));
	if (n->suffix != NULL && !n->none)
		put(f, n->suffix);
	fputc('\n', f);
}

/* An object's content: its fields aligned, the rest in order. */
static void
text_obj(FILE *f, const struct o_node *n, int indent)
{
	size_t lw = 0;
	if (n->text != NULL) {
		line_start(f, indent);
		put(f, n->text);
		fputc('\n', f);
	}
	indent += n->indent;
	for (const struct o_node *c = n->first; c != NULL; c = c->next)
		if (is_value(c) && in_text(c) && c->label != NULL &&
		    width(c->label) > lw)
			lw = width(c->label);
	for (const struct o_node *c = n->first; c != NULL; c = c->next) {
		if (!in_text(c))
			continue;
		if (is_value(c))
			text_field(f, c, indent, lw);
		else
			text_node(f, c, indent);
	}
}

static void
text_table(FILE *f, const struct o_node *t, int indent)
{
	size_t ncols = 0, nrows = t->n;
	if (t->text != NULL) {
		line_start(f, indent);
		put(f, t->text);
		fputc('\n', f);
	}
	indent += t->indent;
	if (nrows == 0) {
		line_start(f, indent);
		fputs("(none)\n", f);
		return;
	}
	for (const struct o_node *c = t->first->first; c != NULL; c = c->next)
		ncols += is_value(c) && in_text(c);
	const struct o_node **head = calloc(ncols ? ncols : 1, sizeof(*head));
	const char **cells = calloc(nrows * ncols + 1, sizeof(*cells));
	char *bufs = malloc((nrows * ncols + 1) * ST_NUM_MAX);
	size_t *w = calloc(ncols + 1, sizeof(*w));
	if (head == NULL || cells == NULL || bufs == NULL || w == NULL)
		st_oom();
	size_t k = 0;
	for (const struct o_node *c = t->first->first; c != NULL; c = c->next)
		if (is_value(c) && in_text(c))
			head[k++] = c;
	for (k = 0; k < ncols; k++)
		w[k] = head[k]->label != NULL ? width(head[k]->label) : 0;
	size_t r = 0;
	for (const struct o_node *row = t->first; row != NULL;
	     row = row->next, r++) {
		k = 0;
		for (const struct o_node *c = row->first;
		     c != NULL && k < ncols; c = c->next) {
			if (!is_value(c) || !in_text(c))
				continue;
			char *b = bufs + (r * ncols + k) * ST_NUM_MAX;
			cells[r * ncols + k] = cell(c, b);
			if (width(cells[r * ncols + k]) > w[k])
				w[k] = width(cells[r * ncols + k]);
			k++;
		}
		for (; k < ncols; k++)
			cells[r * ncols + k] = "";
	}
	/* The last column, when left-aligned, is not padded: it starts here. */
	size_t last_at = 0;
	for (k = 0; k + 1 < ncols; k++)
		last_at += w[k] + 2;
	line_start(f, indent);
	for (k = 0; k < ncols; k++) {
		const char *h = head[k]->label != NULL ? head[k]->label : "";
		int left = head[k]->type == T_STR;
		if (!left)
			pad(f, w[k] - width(h));
		put(f, h);
		if (left && k + 1 < ncols)
			pad(f, w[k] - width(h));
		if (k + 1 < ncols)
			fputs("  ", f);
	}
	fputc('\n', f);
	r = 0;
	for (const struct o_node *row = t->first; row != NULL;
	     row = row->next, r++) {
		line_start(f, indent);
		for (k = 0; k < ncols; k++) {
			const char *s = cells[r * ncols + k];
			int left = head[k]->type == T_STR;
			if (!left)
				pad(f, w[k] - width(s));
			put(f, s);
			if (left && k + 1 < ncols)
				pad(f, w[k] - width(s));
			if (k + 1 < ncols)
				fputs("  ", f);
		}
		fputc('\n', f);
		for (const struct o_node *c = row->first; c != NULL;
		     c = c->next) {
			if (is_value(c) || !in_text(c))
				continue;
			if (c->type == T_FRAMES)
				text_frames(f, c, indent + (int)last_at);
			else if (c->type == T_HIST)
				text_hist(f, c, indent + (int)last_at);
			else
				text_node(f, c, indent + (int)last_at);
		}
	}
	free(head);
	free(cells);
	free(bufs);
	free(w);
}

static void
text_records(FILE *f, const struct o_node *n, int indent)
{
	indent += n->indent;
	for (const struct o_node *rec = n->first; rec != NULL;
	     rec = rec->next) {
		if (rec->text != NULL) {
			line_start(f, indent);
			put(f, rec->text);
			fputc('\n', f);
		}
		/* A record's values are its headline's: JSON only. */
		for (const struct o_node *c = rec->first; c != NULL;
		     c = c->next)
			if (!is_value(c) && in_text(c))
				text_node(f, c, indent + 2);
		if (n->blank)
			fputc('\n', f);
	}
}

static void
text_node(FILE *f, const struct o_node *n, int indent)
{
	switch (n->type) {
	case T_OBJ:
		text_obj(f, n, indent);
		break;
	case T_TABLE:
		text_table(f, n, indent);
		break;
	case T_RECORDS:
		text_records(f, n, indent);
		break;
	case T_FRAMES:
		text_frames(f, n, indent + n->indent);
		break;
	case T_HIST:
		text_hist(f, n, indent + n->indent);
		break;
	case T_LINE:
		line_start(f, indent);
		put(f, n->text);
		fputc('\n', f);
		break;
	case T_ARR:
		for (const struct o_node *c = n->first; c != NULL;
		     c = c->next) {
			if (!in_text(c))
				continue;
			if (n->blank && c != n->first)
				fputc('\n', f);
			if (is_value(c))
				text_field(f, c, indent + n->indent, 0);
			else
				text_node(f, c, indent + n->indent);
		}
		break;
	default:
		text_field(f, n, indent, 0);
		break;
	}
}

/* JSON. */

/* The length of the valid UTF-8 sequence at s, or 0. */
static size_t
utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		unsigned lo = s[0] == 0xe0 ? 0xa0 : 0x80;
		unsigned hi = s[0] == 0xed ? 0x9f : 0xbf;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3
		                                                         : 0;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		unsigned lo = s[0] == 0xf0 ? 0x90 : 0x80;
		unsigned hi = s[0] == 0xf4 ? 0x8f : 0xbf;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
		                       (s[3] & 0xc0) == 0x80
		               ? 4
		               : 0;
	}
	return 0;
}

/* A JSON string: escapes, and U+FFFD for each byte that is not UTF-8. */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
		size_t n = utf8_len(p);
		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p, f);
		} else if (*p == '\n') {
			fputs("\\n", f);
		} else if (*p == '\t') {
			fputs("\\t", f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p);
		} else if (n == 0) {
			fputs("\\ufffd", f);
			n = 1;
		} else {
			fwrite(p, 1, n, f);
		}
		p += n ? n : 1;
	}
	fputc('"', f);
}

static void json_node(FILE *f, const struct o_node *n, int depth);

static void
json_value(FILE *f, const struct o_node *n)
{
	if (n->none) {
		fputs("null", f);
		return;
	}
	switch (n->type) {
	case T_STR:
		json_str(f, n->v.s);
		break;
	case T_COUNT:
	case T_SIZE:
	case T_NS:
		fprintf(f, "%" PRIu64, n->v.u);
		break;
	case T_DELTA:
	case T_CDELTA:
		fprintf(f, "%" PRId64, n->v.i);
		break;
	case T_PCT:
		fprintf(f, "%.2f", n->v.f);
		break;
	case T_HEX:
		fprintf(f, "\"0x%" PRIx64 "\"", n->v.u);
		break;
	case T_BOOL:
		fputs(n->v.u ? "true" : "false", f);
		break;
	default:
		fputs("null", f);
		break;
	}
}

static int
in_json(const struct o_node *n)
{
	return !(n->flags & O_TEXT_ONLY);
}

/*
 * The members of n, after *first tells whether one came before. An object
 * without a key inside an object is no member: its own are.
 */
static void
json_members(FILE *f, const struct o_node *n, int depth, int keyed, int *first)
{
	for (const struct o_node *c = n->first; c != NULL; c = c->next) {
		if (!in_json(c))
			continue;
		if (keyed && c->key == NULL) {
			if (c->type == T_OBJ)
				json_members(f, c, depth, keyed, first);
			continue;
		}
		fputs(*first ? "\n" : ",\n", f);
		*first = 0;
		pad(f, (size_t)(depth + 1) * 2);
		if (keyed) {
			json_str(f, c->key);
			fputs(": ", f);
		}
		json_node(f, c, depth + 1);
	}
}

static void
json_children(FILE *f, const struct o_node *n, int depth, int keyed)
{
	int first = 1;
	fputc(keyed ? '{' : '[', f);
	json_members(f, n, depth, keyed, &first);
	if (!first) {
		fputc('\n', f);
		pad(f, (size_t)depth * 2);
	}
	fputc(keyed ? '}' : ']', f);
}

static void
json_frame(FILE *f, const struct o_frame_info *fr, int depth)
{
	const char *const keys[] = {"pc",     "function", "file",   "line",
	                            "module", "offset",   "inlined"};
	fputc('{', f);
	for (int k = 0; k < 7; k++) {
		fputs(k ? ",\n" : "\n", f);
		pad(f, (size_t)(depth + 1) * 2);
		json_str(f, keys[k]);
		fputs(": ", f);
		const char *s = k == 1   ? fr->function
		                : k == 2 ? fr->file
		                         : fr->module;
		switch (k) {
		case 0:
			fprintf(f, "\"0x%" PRIx64 "\"", fr->pc);
			break;
		case 3:
			if (fr->line == 0)
				fputs("null", f);
			else
				fprintf(f, "%u", fr->line);
			break;
		case 5:
			if (fr->offset == NONE)
				fputs("null", f);
			else
				fprintf(f, "\"0x%" PRIx64 "\"", fr->offset);
			break;
		case 6:
			fputs(fr->inlined ? "true" : "false", f);
			break;
		default:
			if (s == NULL)
				fputs("null", f);
			else
				json_str(f, s);
			break;
		}
	}
	fputc('\n', f);
	pad(f, (size_t)depth * 2);
	fputc('}', f);
}

static void
json_node(FILE *f, const struct o_node *n, int depth)
{
	if (n->type == T_FRAME) {
		json_frame(f, n->v.frame, depth);
		return;
	}
	if (is_value(n) || n->none)
		json_value(f, n);
	else
		json_children(f, n, depth, n->type == T_OBJ);
}

int
o_write(struct o_doc *doc, FILE *f, enum o_format fmt)
{
	if (fmt == O_JSON) {
		json_node(f, doc->root, 0);
		fputc('\n', f);
	} else {
		text_node(f, doc->root, 0);
	}
	if (fflush(f) != 0 || ferror(f))
		return errno ? errno : EIO;
	return 0;
}
