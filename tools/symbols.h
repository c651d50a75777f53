/* tools/symbols.h — a dump's return addresses to function, file:line, offline. */
#ifndef DA_TOOLS_SYMBOLS_H
#define DA_TOOLS_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

struct da_dump;
struct da_syms;
struct da_sym_frame {         /* one frame; inlined callers follow the callee */
	const char *function; /* demangled; NULL when unknown */
	const char *file;     /* NULL when unknown */
	unsigned line;        /* 0 when unknown */
	int inlined;          /* 1: inlined into the next frame */
};
struct da_sym_where {       /* where a pc lies, always known if in a module */
	const char *module; /* the module's path; NULL when in none */
	uint64_t offset;    /* pc - bias (as `addr2line -e module` wants) */
};
enum {
	DA_SYMS_NONE = 1
}; /* open flag: no debug info read at all (--no-symbols) */
struct da_syms *da_syms_open(const struct da_dump *d, unsigned flags,
                             const char *debug_dir);
/* The frames of return address pc (looked up at pc - 1), innermost (most inlined) first;
 * returns how many were stored (<= max), 0 when nothing is known. Strings live as long as s. */
size_t da_syms_frames(struct da_syms *s, uint64_t pc, struct da_sym_frame *out,
                      size_t max);
void da_syms_where(struct da_syms *s, uint64_t pc, struct da_sym_where *w);
/* 1 if the frame at pc belongs to dbgalloc itself or an allocation wrapper (strdup, operator new, ...): hidden by default */
int da_syms_hidden(struct da_syms *s, uint64_t pc);
/* Warnings gathered (one line each, e.g. a module whose build id differs), to print once. */
const char *da_syms_warnings(struct da_syms *s);
void da_syms_close(struct da_syms *s);

#endif
