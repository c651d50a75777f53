/*
 * audit/settings.c — the table of settings, its defaults, and the parser
 * of DBGALLOC_ variables.
 *
 * All of it is expanded from audit/settings.def. The parser runs before
 * main, possibly inside the first malloc: it never allocates, uses no
 * stdio, and builds its one line of error into the caller's buffer. A bad
 * value or an unknown DBGALLOC_ name is an error, never a silent default
 * (DESIGN: "never a silent default, never a crash").
 */
#include "audit/settings.h"
#include "audit/duration.h"
#include "audit/failspec.h"
#include "audit/guardspec.h"
#include "audit/trigger.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define PREFIX     "DBGALLOC_"
#define PREFIX_LEN (sizeof(PREFIX) - 1)

/* Names and values are quoted in messages at most this long. */
#define QUOTE_MAX 64

struct da_settings da_settings = {
#define DA_ENUM(NAME, FIELD, DFLT, WORDS, DOC)  .FIELD = DFLT,
#define DA_UINT(NAME, FIELD, DFLT, LO, HI, DOC) .FIELD = DFLT,
#define DA_SIZE(NAME, FIELD, DFLT, LO, HI, DOC) .FIELD = DFLT,
#define DA_PATH(NAME, FIELD, DOC)
#define DA_TEXT(NAME, FIELD, CHECK, EXPECTS, DOC)
#define DA_LAUNCHER(NAME, DFLT, DOC)
#include "audit/settings.def"
};

#define DA_WORD_STRING(constant, word) word,
#define DA_ENUM(NAME, FIELD, DFLT, WORDS, DOC) \
	static const char *const words_##FIELD[] = {WORDS(DA_WORD_STRING)};
#define DA_UINT(NAME, FIELD, DFLT, LO, HI, DOC)
#define DA_SIZE(NAME, FIELD, DFLT, LO, HI, DOC)
#define DA_PATH(NAME, FIELD, DOC)
#define DA_TEXT(NAME, FIELD, CHECK, EXPECTS, DOC)
#define DA_LAUNCHER(NAME, DFLT, DOC)
#include "audit/settings.def"

#define NWORDS(FIELD) (sizeof(words_##FIELD) / sizeof(words_##FIELD[0]))

const struct da_setting da_settings_table[] = {
#define DA_ENUM(NAME, FIELD, DFLT, WORDS, DOC)          \
	{.name = #NAME,                                 \
	 .doc = DOC,                                    \
	 .words = words_##FIELD,                        \
	 .dflt = DFLT,                                  \
	 .hi = NWORDS(FIELD) - 1,                       \
	 .offset = offsetof(struct da_settings, FIELD), \
	 .type = DA_SETTING_ENUM},
#define DA_UINT(NAME, FIELD, DFLT, LO, HI, DOC)         \
	{.name = #NAME,                                 \
	 .doc = DOC,                                    \
	 .dflt = DFLT,                                  \
	 .lo = LO,                                      \
	 .hi = HI,                                      \
	 .offset = offsetof(struct da_settings, FIELD), \
	 .type = DA_SETTING_UINT},
#define DA_SIZE(NAME, FIELD, DFLT, LO, HI, DOC)         \
	{.name = #NAME,                                 \
	 .doc = DOC,                                    \
	 .dflt = DFLT,                                  \
	 .lo = LO,                                      \
	 .hi = HI,                                      \
	 .offset = offsetof(struct da_settings, FIELD), \
	 .type = DA_SETTING_SIZE},
#define DA_PATH(NAME, FIELD, DOC)                       \
	{.name = #NAME,                                 \
	 .doc = DOC,                                    \
	 .offset = offsetof(struct da_settings, FIELD), \
	 .type = DA_SETTING_PATH},
#define DA_TEXT(NAME, FIELD, CHECK, EXPECTS, DOC)       \
	{.name = #NAME,                                 \
	 .doc = DOC,                                    \
	 .dflt_text = EXPECTS,                          \
	 .check = CHECK,                                \
	 .offset = offsetof(struct da_settings, FIELD), \
	 .type = DA_SETTING_TEXT},
#define DA_LAUNCHER(NAME, DFLT, DOC) \
	{.name = #NAME,              \
	 .doc = DOC,                 \
	 .dflt_text = DFLT,          \
	 .type = DA_SETTING_LAUNCHER},
#include "audit/settings.def"
};

const size_t da_settings_count =
        sizeof(da_settings_table) / sizeof(da_settings_table[0]);

/* A compile-time count, for the parser's stack array. */
enum {
	SETTINGS_COUNT = 0
#define DA_ENUM(NAME, FIELD, DFLT, WORDS, DOC)    +1
#define DA_UINT(NAME, FIELD, DFLT, LO, HI, DOC)   +1
#define DA_SIZE(NAME, FIELD, DFLT, LO, HI, DOC)   +1
#define DA_PATH(NAME, FIELD, DOC)                 +1
#define DA_TEXT(NAME, FIELD, CHECK, EXPECTS, DOC) +1
#define DA_LAUNCHER(NAME, DFLT, DOC)              +1
#include "audit/settings.def"
};

void
da_settings_defaults(struct da_settings *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < da_settings_count; i++) {
		const struct da_setting *d = &da_settings_table[i];
		void *field = (char *)out + d->offset;
		switch (d->type) {
		case DA_SETTING_ENUM:
			*(unsigned *)field = (unsigned)d->dflt;
			break;
		case DA_SETTING_UINT:
		case DA_SETTING_SIZE:
			*(uint64_t *)field = d->dflt;
			break;
		default:
			break;
		}
	}
}

/* Text being built in a caller's buffer: truncated to fit, always
 * terminated; len counts the whole text, as snprintf's result. */
struct text {
	char *buf;
	size_t cap, len;
};

static void
put_n(struct text *t, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, t->len++)
		if (t->len + 1 < t->cap)
			t->buf[t->len] = s[i];
	if (t->cap > 0)
		t->buf[t->len < t->cap ? t->len : t->cap - 1] = '\0';
}

static void
put(struct text *t, const char *s)
{
	put_n(t, s, strlen(s));
}

static void
put_dec(struct text *t, uint64_t v)
{
	char tmp[24];
	char *q = tmp + sizeof(tmp);
	do
		*--q = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	put_n(t, q, (size_t)(tmp + sizeof(tmp) - q));
}

/* A size in its largest exact unit: 4096 is "4K", 1000 is "1000". */
static void
put_size(struct text *t, uint64_t v)
{
	static const char units[] = "TGMK";
	for (unsigned i = 0; v != 0 && i < 4; i++) {
		unsigned shift = 40 - 10 * i;
		if ((v & ((UINT64_C(1) << shift) - 1)) == 0) {
			put_dec(t, v >> shift);
			put_n(t, &units[i], 1);
			return;
		}
	}
	put_dec(t, v);
}

/* s quoted in a message: one line, at most QUOTE_MAX bytes of it. */
static void
put_quoted(struct text *t, const char *s, size_t n)
{
	for (size_t i = 0; i < n && i < QUOTE_MAX; i++) {
		char c = s[i];
		if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
			c = '?';
		put_n(t, &c, 1);
	}
	if (n > QUOTE_MAX)
		put(t, "...");
}

static void
put_expects(struct text *t, const struct da_setting *d)
{
	switch (d->type) {
	case DA_SETTING_ENUM:
		for (uint64_t i = 0; i <= d->hi; i++) {
			if (i > 0)
				put(t, i == d->hi ? " or " : ", ");
			put(t, d->words[i]);
		}
		break;
	case DA_SETTING_UINT:
		put(t, "a number from ");
		put_dec(t, d->lo);
		put(t, " to ");
		put_dec(t, d->hi);
		break;
	case DA_SETTING_SIZE:
		put(t, "a size from ");
		put_size(t, d->lo);
		put(t, " to ");
		put_size(t, d->hi);
		put(t, " (bytes, or with K, M, G or T; K = 1024)");
		break;
	case DA_SETTING_PATH:
		put(t, "a path of at most ");
		put_dec(t, DA_SETTING_PATH_MAX - 1);
		put(t, " bytes");
		break;
	case DA_SETTING_TEXT:
		put(t, d->dflt_text);
		break;
	case DA_SETTING_LAUNCHER:
		put(t, "anything (the library does not read it)");
		break;
	}
}

size_t
da_setting_expects(const struct da_setting *d, char *buf, size_t len)
{
	struct text t = {buf, len, 0};
	put_expects(&t, d);
	return t.len;
}

size_t
da_setting_default(const struct da_setting *d, char *buf, size_t len)
{
	struct text t = {buf, len, 0};
	put(&t, "");
	switch (d->type) {
	case DA_SETTING_ENUM:
		put(&t, d->words[d->dflt]);
		break;
	case DA_SETTING_UINT:
	case DA_SETTING_SIZE:
		if (d->dflt == DA_UNSET)
			put(&t, "unset");
		else if (d->type == DA_SETTING_SIZE)
			put_size(&t, d->dflt);
		else
			put_dec(&t, d->dflt);
		break;
	case DA_SETTING_PATH:
	case DA_SETTING_TEXT:
		put(&t, "none");
		break;
	case DA_SETTING_LAUNCHER:
		put(&t, d->dflt_text);
		break;
	}
	return t.len;
}

int
da_settings_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;
	unsigned shift = 0;
	int r = da_digits(s, &v, &p);
	if (r == EINVAL)
		return r;
	switch (*p) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case 'T':
	case 't':
		shift = 40;
		break;
	}
	if (shift != 0)
		p++;
	if (shift != 0 && p[0] == 'i' && p[1] == 'B')
		p += 2;
	else if (p[0] == 'B')
		p++;
	/* Syntax first: "99999999999999999999X" is not a size at all. */
	if (*p != '\0')
		return EINVAL;
	if (r != 0 || v > UINT64_MAX >> shift)
		return ERANGE;
	*out = v << shift;
	return 0;
}

static int
malformed(const struct da_setting *d, const char *value, char *err,
          size_t errlen)
{
	struct text t = {err, errlen, 0};
	put(&t, "dbgalloc: " PREFIX);
	put(&t, d->name);
	put(&t, "=");
	put_quoted(&t, value, strlen(value));
	put(&t, ": expected ");
	put_expects(&t, d);
	return -1;
}

int
da_setting_parse_value(const struct da_setting *d, const char *value,
                       void *field, char *err, size_t errlen)
{
	uint64_t v = 0;
	size_t n;
	switch (d->type) {
	case DA_SETTING_ENUM:
		for (uint64_t i = 0; i <= d->hi; i++) {
			if (strcmp(value, d->words[i]) == 0) {
				*(unsigned *)field = (unsigned)i;
				return 0;
			}
		}
		return malformed(d, value, err, errlen);
	case DA_SETTING_UINT:
	case DA_SETTING_SIZE:
		if ((d->type == DA_SETTING_UINT
		             ? da_digits(value, &v, NULL)
		             : da_settings_parse_size(value, &v)) != 0 ||
		    v < d->lo || v > d->hi)
			return malformed(d, value, err, errlen);
		*(uint64_t *)field = v;
		return 0;
	case DA_SETTING_PATH:
		/* An empty path is none, as if unset: DBGALLOC_LOG= turns an
		 * inherited setting off. */
		n = strlen(value);
		if (n >= DA_SETTING_PATH_MAX)
			return malformed(d, value, err, errlen);
		memcpy(field, value, n + 1);
		return 0;
	case DA_SETTING_TEXT:
		/* Empty is none, as for a path. */
		n = strlen(value);
		if (n >= DA_SETTING_PATH_MAX || (n > 0 && d->check(value) != 0))
			return malformed(d, value, err, errlen);
		memcpy(field, value, n + 1);
		return 0;
	case DA_SETTING_LAUNCHER:
		return 0;
	}
	return 0;
}

static int
fold(char c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/*
 * The optimal string alignment distance between a[0..n) and b[0..m),
 * ignoring case: insertions, deletions, substitutions and swaps of two
 * neighbours cost 1. Both at most QUOTE_MAX long. Three rows on the stack.
 */
static unsigned
distance(const char *a, size_t n, const char *b, size_t m)
{
	unsigned rows[3][QUOTE_MAX + 1];
	unsigned *two = rows[0], *one = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= m; j++)
		one[j] = (unsigned)j;
	for (size_t i = 1; i <= n; i++) {
		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= m; j++) {
			unsigned cost = fold(a[i - 1]) != fold(b[j - 1]);
			unsigned d = one[j - 1] + cost;
			if (one[j] + 1 < d)
				d = one[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (i > 1 && j > 1 &&
			    fold(a[i - 1]) == fold(b[j - 2]) &&
			    fold(a[i - 2]) == fold(b[j - 1]) &&
			    two[j - 2] + 1 < d)
				d = two[j - 2] + 1;
			cur[j] = d;
		}
		unsigned *t = two;
		two = one;
		one = cur;
		cur = t;
	}
	return one[m];
}

/*
 * The known name nearest to name[0..n), or NULL if none is close: a
 * suggestion must be within a third of the name's length (at most 3 edits),
 * so a word that merely shares letters with a setting gets none.
 */
static const struct da_setting *
nearest(const char *name, size_t n)
{
	const struct da_setting *best = NULL;
	unsigned best_d = (unsigned)(n + 2) / 3;
	if (best_d > 3)
		best_d = 3;
	if (n > QUOTE_MAX)
		return NULL;
	for (size_t i = 0; i < da_settings_count; i++) {
		const char *known = da_settings_table[i].name;
		size_t m = strlen(known);
		unsigned d;
		if (m > QUOTE_MAX)
			continue;
		d = distance(name, n, known, m);
		if (d <= best_d && (best == NULL || d < best_d)) {
			best = &da_settings_table[i];
			best_d = d;
		}
	}
	return best;
}

static int
unknown(const char *name, size_t n, char *err, size_t errlen)
{
	struct text t = {err, errlen, 0};
	const struct da_setting *d = nearest(name, n);
	put(&t, "dbgalloc: unknown variable " PREFIX);
	put_quoted(&t, name, n);
	if (d != NULL) {
		put(&t, " (did you mean " PREFIX);
		put(&t, d->name);
		put(&t, "?)");
	}
	return -1;
}

static const struct da_setting *
find(const char *name, size_t n)
{
	for (size_t i = 0; i < da_settings_count; i++) {
		const char *known = da_settings_table[i].name;
		if (strncmp(known, name, n) == 0 && known[n] == '\0')
			return &da_settings_table[i];
	}
	return NULL;
}

int
da_settings_parse(char *const *envp, struct da_settings *out, char *err,
                  size_t errlen)
{
	unsigned char seen[SETTINGS_COUNT] = {0};
	if (errlen > 0)
		err[0] = '\0';
	da_settings_defaults(out);
	for (; envp != NULL && *envp != NULL; envp++) {
		const char *e = *envp, *eq;
		const struct da_setting *d;
		if (strncmp(e, PREFIX, PREFIX_LEN) != 0)
			continue;
		/* An entry without '=' is no variable (getenv skips it). */
		if ((eq = strchr(e, '=')) == NULL)
			continue;
		d = find(e + PREFIX_LEN, (size_t)(eq - e) - PREFIX_LEN);
		if (d == NULL)
			return unknown(e + PREFIX_LEN,
			               (size_t)(eq - e) - PREFIX_LEN, err,
			               errlen);
		if (seen[d - da_settings_table])
			continue;
		seen[d - da_settings_table] = 1;
		if (da_setting_parse_value(d, eq + 1, (char *)out + d->offset,
		                           err, errlen) != 0)
			return -1;
	}
	return 0;
}
