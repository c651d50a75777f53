/*
 * audit/suppress.c — parsing LeakSanitizer suppressions, matching stacks.
 *
 * Only "leak:" lines are kept, in the order added; their indices are what
 * da_supp_match returns and the hit counters are indexed by. Patterns are
 * matched with LeakSanitizer's own rules (sanitizer_common's TemplateMatch),
 * reimplemented here without modifying the pattern.
 */
#include "audit/suppress.h"
#include "audit/symbolize.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct supp {
	char *pattern;
	size_t hits, bytes;
};

static struct {
	struct supp *v;
	unsigned n, cap;
} sp;

/* The first occurrence in s of the n bytes at t (no NUL among them).
 * Patterns and names are short: cheaper than memmem's set-up. */
static const char *
find_run(const char *s, const char *t, size_t n)
{
	for (; (s = strchr(s, t[0])) != NULL; s++)
		if (strncmp(s, t, n) == 0)
			return s;
	return NULL;
}

int
da_supp_pattern_match(const char *t, const char *s)
{
	int start = 0, star = 0;

	if (s == NULL || *s == '\0')
		return 0;
	if (*t == '^') {
		start = 1;
		t++;
	}
	while (*t != '\0') {
		if (*t == '*') {
			t++;
			start = 0;
			star = 1;
			continue;
		}
		/* "$" ends the match: the name must end here, unless a "*"
		 * just before it swallows the rest. What follows "$" is
		 * never looked at. */
		if (*t == '$')
			return *s == '\0' || star;
		if (*s == '\0')
			return 0;
		size_t run = strcspn(t, "*$");
		const char *hit = find_run(s, t, run);
		if (hit == NULL || (start && hit != s))
			return 0;
		s = hit + run;
		t += run;
		start = star = 0;
	}
	return 1;
}

static int
supp_push(const char *pattern, size_t len)
{
	if (sp.n == sp.cap) {
		unsigned cap = sp.cap != 0 ? 2 * sp.cap : 16;
		struct supp *v = realloc(sp.v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		sp.v = v;
		sp.cap = cap;
	}
	char *p = strndup(pattern, len);
	if (p == NULL)
		return -1;
	sp.v[sp.n++] = (struct supp){.pattern = p};
	return 0;
}

static void
supp_truncate(unsigned n)
{
	while (sp.n > n)
		free(sp.v[--sp.n].pattern);
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The length of the "TYPE" in "TYPE:..." at s (a run of letters, digits,
 * '_' and '-' followed by ':'), or 0. */
static size_t
type_len(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len &&
	       (s[i] == '_' || s[i] == '-' || (s[i] >= 'a' && s[i] <= 'z') ||
	        (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
		i++;
	return i > 0 && i < len && s[i] == ':' ? i : 0;
}

int
da_supp_add(const char *text, const char *src, char *err, size_t errlen)
{
	unsigned before = sp.n, lineno = 0;
	const char *line = text;

	if (src == NULL)
		src = "<suppressions>";
	while (line != NULL && *line != '\0') {
		const char *nl = strchr(line, '\n');
		const char *end = nl != NULL ? nl : line + strlen(line);
		const char *next = nl != NULL ? nl + 1 : NULL;
		lineno++;
		while (line < end && is_blank(*line))
			line++;
		while (end > line && is_blank(end[-1]))
			end--;
		size_t len = (size_t)(end - line), tl = type_len(line, len);
		if (len == 0 || *line == '#') {
			line = next;
			continue;
		}
		if (tl == 0) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen,
				         "%s:%u: unknown suppression \"%.*s\" "
				         "(expected TYPE:PATTERN, as "
				         "leak:FUNCTION)",
				         src, lineno, len > 80 ? 80 : (int)len,
				         line);
			supp_truncate(before);
			return -1;
		}
		if (tl == 4 && memcmp(line, "leak", 4) == 0 &&
		    supp_push(line + 5, len - 5) != 0) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "%s:%u: out of memory",
				         src, lineno);
			supp_truncate(before);
			return -1;
		}
		line = next;
	}
	return 0;
}

int
da_supp_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = -1, saved;

	if (f == NULL)
		goto fail;
	for (;;) {
		if (cap - len < 4096) {
			char *b = realloc(buf, cap = 2 * cap + 4096);
			if (b == NULL)
				goto fail;
			buf = b;
		}
		size_t got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto fail;
	buf[len] = '\0';
	rc = da_supp_add(buf, path, err, errlen);
	fclose(f);
	free(buf);
	return rc;
fail:
	saved = errno;
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: cannot read suppressions file: %s",
		         path, strerror(saved));
	if (f != NULL)
		fclose(f);
	free(buf);
	return -1;
}

static int
frame_matches(const char *pattern, const struct da_sym *s)
{
	const char *base;
	if (da_supp_pattern_match(pattern, s->func) ||
	    da_supp_pattern_match(pattern, s->file))
		return 1;
	if (s->module == NULL)
		return 0;
	base = strrchr(s->module, '/');
	return da_supp_pattern_match(pattern, s->module) ||
	       (base != NULL && da_supp_pattern_match(pattern, base + 1));
}

int
da_supp_match(const uintptr_t *pcs, unsigned n)
{
	struct da_sym *f;
	int found = -1;

	if (sp.n == 0 || n == 0)
		return -1;
	f = calloc(n, sizeof(*f));
	if (f == NULL)
		return -1;
	for (unsigned k = 0; k < n; k++)
		da_sym_resolve(pcs[k], &f[k]);
	for (unsigned i = 0; i < sp.n && found < 0; i++)
		for (unsigned k = 0; k < n && found < 0; k++)
			if (frame_matches(sp.v[i].pattern, &f[k]))
				found = (int)i;
	free(f);
	return found;
}

void
da_supp_hit(int idx, size_t bytes)
{
	if (idx < 0 || (unsigned)idx >= sp.n)
		return;
	sp.v[idx].hits++;
	sp.v[idx].bytes += bytes;
}

unsigned
da_supp_count(void)
{
	return sp.n;
}

const char *
da_supp_pattern(unsigned idx)
{
	return idx < sp.n ? sp.v[idx].pattern : NULL;
}

size_t
da_supp_hits(unsigned idx)
{
	return idx < sp.n ? sp.v[idx].hits : 0;
}

size_t
da_supp_hit_bytes(unsigned idx)
{
	return idx < sp.n ? sp.v[idx].bytes : 0;
}

void
da_supp_clear(void)
{
	supp_truncate(0);
	free(sp.v);
	sp.v = NULL;
	sp.cap = 0;
}
