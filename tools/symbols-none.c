/*
 * tools/symbols-none.c — TEMPORARY: the interface of tools/symbols.h with
 * no debug information at all, until the libdw implementation
 * (tools/symbols.c) lands: no frame is ever known, a pc is placed in the
 * dump's modules by their M records (lo <= pc - 1 < hi, offset pc - bias),
 * nothing is hidden, and there is nothing to warn about.
 */
#include "tools/symbols.h"
#include "tools/dump.h"

#include <stdlib.h>

struct da_syms {
	const struct da_dump *d;
};

struct da_syms *
da_syms_open(const struct da_dump *d, unsigned flags, const char *debug_dir)
{
	(void)flags;
	(void)debug_dir;
	struct da_syms *s = calloc(1, sizeof(*s));
	if (s != NULL)
		s->d = d;
	return s;
}

size_t
da_syms_frames(struct da_syms *s, uint64_t pc, struct da_sym_frame *out,
               size_t max)
{
	(void)s;
	(void)pc;
	(void)out;
	(void)max;
	return 0;
}

void
da_syms_where(struct da_syms *s, uint64_t pc, struct da_sym_where *w)
{
	w->module = NULL;
	w->offset = pc;
	for (size_t i = 0; i < s->d->nmodules; i++) {
		const struct da_dump_module *m = &s->d->modules[i];
		if (m->lo == DA_DUMP_NONE || m->hi == DA_DUMP_NONE ||
		    m->bias == DA_DUMP_NONE || m->path == NULL || pc == 0)
			continue;
		if (pc - 1 >= m->lo && pc - 1 < m->hi) {
			w->module = m->path;
			w->offset = pc - m->bias;
			return;
		}
	}
}

int
da_syms_hidden(struct da_syms *s, uint64_t pc)
{
	(void)s;
	(void)pc;
	return 0;
}

const char *
da_syms_warnings(struct da_syms *s)
{
	(void)s;
	return "";
}

void
da_syms_close(struct da_syms *s)
{
	free(s);
}
