/*
 * audit/modules.h — the loaded modules (the program, its libraries, the
 * vDSO) as a dump's module map needs them: load bias, address range,
 * loadable segments and GNU build id, so that the call stacks of a dump
 * can be symbolized later, on another machine.
 *
 * The build id is read from the module's PT_NOTE segments as they are
 * mapped in this process (an NT_GNU_BUILD_ID note, owner "GNU"): no file
 * is opened. Nothing here allocates; dl_iterate_phdr holds the dynamic
 * loader's lock while the callback runs, so the callback must not
 * dlopen, and this must not be called with other threads stopped (one
 * of them may hold that lock).
 */
#ifndef DA_AUDIT_MODULES_H
#define DA_AUDIT_MODULES_H

#include <link.h>
#include <stddef.h>
#include <stdint.h>

#define DA_BUILD_ID_MAX 64 /* longer ids are left out (none seen: 20) */

struct da_module {
	unsigned index;   /* from 0, in the loader's order */
	int is_main;      /* the program itself (its name is "") */
	const char *name; /* the loader's name for it: valid in fn only */
	uintptr_t bias;   /* load bias: runtime address - p_vaddr */
	uintptr_t lo, hi; /* [lo, hi): its PT_LOAD segments, at run time */
	const ElfW(Phdr) * phdr; /* its program headers */
	unsigned phnum;
	unsigned build_id_len; /* 0: none */
	unsigned char build_id[DA_BUILD_ID_MAX];
};

/* Calls fn for every loaded module, in the loader's order (the program
 * first), until fn returns non-zero; returns that, or 0. May allocate:
 * no. */
int da_modules_each(int (*fn)(const struct da_module *m, void *arg), void *arg);

/* Finds the GNU build id among the notes of the mapped module whose
 * headers are phdr[0..phnum) and bias bias: copies it to id (at most
 * DA_BUILD_ID_MAX bytes) and returns its length, or 0. */
unsigned da_modules_build_id(const ElfW(Phdr) * phdr, unsigned phnum,
                             uintptr_t bias, unsigned char *id);

#endif /* DA_AUDIT_MODULES_H */
