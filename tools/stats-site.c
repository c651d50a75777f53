/*
 * tools/stats-site.c — the frames of a call site, their text, and the
 * keys that group sites (see stats-site.h).
 */
#include "tools/stats-site.h"
#include "tools/symbols.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The most frames one return address expands to (inlined callers). */
#define INLINE_MAX 32

static void
push(struct st_dump *sd, size_t *n, const struct st_frame *f)
{
	if (*n == sd->frames_cap) {
		sd->frames_cap = sd->frames_cap ? 2 * sd->frames_cap : 64;
		sd->frames = st_xrealloc(sd->frames,
		                         sd->frames_cap * sizeof(*sd->frames));
	}
	sd->frames[(*n)++] = *f;
}

const struct st_frame *
st_frames(struct st_dump *sd, const struct da_dump_stack *s, size_t *n)
{
	int all = sd->opt->all_frames;
	*n = 0;
	if (s == NULL)
		return sd->frames;
	if (!all) {
		size_t visible = 0;
		for (size_t i = 0; i < s->depth; i++)
			visible += !da_syms_hidden(sd->syms, s->pcs[i]);
		all = visible == 0;
	}
	for (size_t i = 0; i < s->depth; i++) {
		uint64_t pc = s->pcs[i];
		struct da_sym_frame fr[INLINE_MAX];
		struct da_sym_where w;
		if (!all && da_syms_hidden(sd->syms, pc))
			continue;
		da_syms_where(sd->syms, pc, &w);
		size_t k = da_syms_frames(sd->syms, pc, fr, INLINE_MAX);
		struct st_frame f = {
		        .pc = pc,
		        .module = w.module,
		        .offset = w.offset,
		};
		if (k == 0)
			push(sd, n, &f);
		for (size_t j = 0; j < k; j++) {
			f.function = fr[j].function;
			f.file = fr[j].file;
			f.line = fr[j].line;
			f.inlined = fr[j].inlined;
			push(sd, n, &f);
		}
	}
	return sd->frames;
}

static const char *
base(const char *path)
{
	const char *b = strrchr(path, '/');
	return b != NULL && b[1] != '\0' ? b + 1 : path;
}

/* "module+0xOFF" (the module's base name, or its path), or "0xPC". */
static const char *
locator(const struct st_frame *f, int full, char *buf, size_t n)
{
	if (f->module != NULL)
		snprintf(buf, n, "%s+0x%" PRIx64,
		         full ? f->module : base(f->module), f->offset);
	else
		snprintf(buf, n, "0x%" PRIx64, f->pc);
	return buf;
}

const char *
st_frame_text(const struct st_frame *f, enum o_frame_style style, char *buf,
              size_t n)
{
	char loc[512];
	const char *inl = f->inlined ? " [inlined]" : "";
	locator(f, 0, loc, sizeof(loc));
	switch (style) {
	case O_FRAMES_REPORT:
		if (f->function != NULL && f->file != NULL)
			snprintf(buf, n, "0x%" PRIx64 " in %s %s:%u (%s)%s",
			         f->pc, f->function, f->file, f->line, loc,
			         inl);
		else if (f->module != NULL)
			snprintf(buf, n, "0x%" PRIx64 " in %s (%s)%s", f->pc,
			         f->function != NULL ? f->function : "??", loc,
			         inl);
		else
			snprintf(buf, n,
			         "0x%" PRIx64 " in %s (<unknown module>)%s",
			         f->pc,
			         f->function != NULL ? f->function : "??", inl);
		break;
	case O_FRAMES_CHECK:
		if (f->function != NULL && f->file != NULL)
			snprintf(buf, n, "%s:%s:%u%s", f->function, f->file,
			         f->line, inl);
		else if (f->function != NULL)
			snprintf(buf, n, "%s%s", f->function, inl);
		else
			snprintf(buf, n, "%s", loc);
		break;
	case O_FRAMES_SHORT:
	default:
		if (f->function != NULL && f->file != NULL)
			snprintf(buf, n, "%s %s:%u%s", f->function, f->file,
			         f->line, inl);
		else if (f->function != NULL)
			snprintf(buf, n, "%s (%s)%s", f->function, loc, inl);
		else
			snprintf(buf, n, "%s", loc);
		break;
	}
	return buf;
}

/* Appends s to sd's key. */
static void
key_add(struct st_dump *sd, size_t *len, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 1 > sd->key_cap) {
		while (*len + n + 1 > sd->key_cap)
			sd->key_cap = sd->key_cap ? 2 * sd->key_cap : 256;
		sd->key = st_xrealloc(sd->key, sd->key_cap);
	}
	memcpy(sd->key + *len, s, n + 1);
	*len += n;
}

const char *
st_key(struct st_dump *sd, const struct da_dump_stack *s, enum st_by by,
       const char **label)
{
	static char text[1024];
	char buf[1024];
	size_t n, len = 0;
	const struct st_frame *f = st_frames(sd, s, &n);
	key_add(sd, &len, "");
	if (n == 0) {
		*label = "(no frames)";
		key_add(sd, &len, "(no frames)");
		return sd->key;
	}
	switch (by) {
	case ST_BY_SITE:
		/* Each return address once, inlined frames sharing theirs. */
		for (size_t i = 0; i < n; i++) {
			if (i > 0 && f[i].pc == f[i - 1].pc)
				continue;
			if (len > 0)
				key_add(sd, &len, ";");
			key_add(sd, &len, locator(&f[i], 1, buf, sizeof(buf)));
		}
		*label = st_frame_text(&f[0], O_FRAMES_SHORT, text,
		                       sizeof(text));
		return sd->key;
	case ST_BY_FUNCTION:
		if (f->function != NULL) {
			key_add(sd, &len, f->function);
			*label = sd->key;
			return sd->key;
		}
		break;
	case ST_BY_LINE:
		if (f->file != NULL && f->line != 0) {
			snprintf(buf, sizeof(buf), "%s:%u", f->file, f->line);
			key_add(sd, &len, buf);
			*label = sd->key;
			return sd->key;
		}
		break;
	case ST_BY_FILE:
		if (f->file != NULL) {
			key_add(sd, &len, f->file);
			*label = sd->key;
			return sd->key;
		}
		/* Unknown files group by module. */
		snprintf(buf, sizeof(buf), "[%s]",
		         f->module != NULL ? f->module : "no module");
		key_add(sd, &len, buf);
		snprintf(text, sizeof(text), "[%s]",
		         f->module != NULL ? base(f->module) : "no module");
		*label = text;
		return sd->key;
	case ST_BY_MODULE:
	case ST_BY_THREAD:
		key_add(sd, &len,
		        f->module != NULL ? f->module : "(no module)");
		*label = sd->key;
		return sd->key;
	}
	/* A function or line not known: the frame's place. */
	key_add(sd, &len, locator(f, 1, buf, sizeof(buf)));
	*label = locator(f, 0, text, sizeof(text));
	return sd->key;
}

struct o_node *
st_add_frames(struct o_node *parent, struct st_dump *sd,
              const struct da_dump_stack *s, enum o_frame_style style,
              unsigned depth, unsigned skip)
{
	char buf[2048];
	size_t n;
	const struct st_frame *f = st_frames(sd, s, &n);
	struct o_node *frames = o_frames(parent, "frames", style, depth, skip);
	for (size_t i = 0; i < n; i++) {
		struct o_frame_info info = {
		        .pc = f[i].pc,
		        .function = f[i].function,
		        .file = f[i].file,
		        .line = f[i].line,
		        .module = f[i].module,
		        .offset = f[i].module != NULL ? f[i].offset : ST_NONE,
		        .inlined = f[i].inlined,
		};
		o_frame(frames, st_frame_text(&f[i], style, buf, sizeof(buf)),
		        &info);
	}
	return frames;
}

void
st_row_frames(struct o_node *row, struct st_dump *sd,
              const struct da_dump_stack *s, unsigned depth)
{
	struct o_node *frames = st_add_frames(row, sd, s, O_FRAMES_SHORT,
	                                      depth ? depth - 1 : 0, 1);
	if (depth == 1)
		o_flags(frames, O_JSON_ONLY);
}
