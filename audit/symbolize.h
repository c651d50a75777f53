/*
 * audit/symbolize.h — turning a return address into words, at report time.
 *
 * Runs outside the allocator (at exit, for the leak report): it may call
 * libc, malloc, stdio and dlopen. Not thread-safe: one reporting thread at a
 * time. Everything a struct da_sym points to stays valid until
 * da_sym_close().
 *
 * Function names come from the ELF symbol tables of the module files
 * (.symtab, else the separate debug file found by build id under
 * /usr/lib/debug/.build-id, else .dynsym); file:line from DWARF through
 * libdw, which is dlopen()ed on first use and never linked, with or
 * without .debug_aranges (clang emits none). Without libdw the lines
 * carry no file:line and are otherwise the same.
 */
#ifndef DA_AUDIT_SYMBOLIZE_H
#define DA_AUDIT_SYMBOLIZE_H

#include "audit/report.h"

#include <stdint.h>

/* One resolved pc. */
struct da_sym {
	const char *func;     /* demangled where possible; NULL if unknown */
	const char *file;     /* source file as DWARF names it; NULL if none */
	unsigned line;        /* 0 when file is NULL */
	const char *module;   /* path; the main program's from /proc/self/exe */
	uintptr_t module_off; /* pc - the module's load bias */
};

/*
 * Snapshots the loaded modules (dl_iterate_phdr). Symbol tables and DWARF
 * are read later, per module, on the first pc that needs them. Modules
 * loaded after this call are unknown until da_sym_close() and a new
 * da_sym_open(). Returns 0, or an errno value. Calling it while open does
 * nothing; the other functions open on first use.
 */
int da_sym_open(void);

/*
 * Resolves pc, a return address: the symbol and line looked up are those
 * of pc - 1 (the call instruction), module_off is that of pc itself.
 * Returns 1 if pc lies in a known module (out filled; func and file may
 * still be NULL), 0 if not (out zeroed).
 */
int da_sym_resolve(uintptr_t pc, struct da_sym *out);

/*
 * Appends one frame to l, in LeakSanitizer's shape:
 *     "    #3 0x55d0c2a1b19e in make_list src/list.c:42 (prog+0x119e)"
 * " FILE:LINE" only where DWARF has a line, "??" for an unknown function,
 * the module's basename always. A pc in no module gives
 *     "    #3 0x1234 in ?? (<unknown module>)"
 */
void da_sym_format(struct da_line *l, unsigned idx, uintptr_t pc);

/* Unmaps the files, ends the libdw session, frees everything. */
void da_sym_close(void);

/* The address of the function named name in any module's symbol tables
 * (.symtab included: a program's own functions that the dynamic linker
 * cannot see), or NULL. Opens the snapshot if needed. */
void *da_sym_lookup_name(const char *name);

/*
 * The library da_sym_open() loads for file:line: soname (default
 * "libdw.so.1"), or NULL for none (names only, which is faster). Takes
 * effect at the next da_sym_open(); soname must outlive it. Lets the
 * caller turn DWARF off, and tests see the output when libdw is missing.
 */
void da_sym_set_libdw(const char *soname);

/*
 * Loads, once in the process's life and for good, what the symbolizer
 * would otherwise load through the dynamic loader on first use: libdw (as
 * da_sym_set_libdw says then) and the C++ demangler's address. Sessions
 * opened afterwards use them and call neither dlopen nor dlsym: a child of
 * a raw fork (the live leak check) must not, since a thread that no longer
 * exists there may have held the loader's lock. Thread-safe.
 */
void da_sym_preload(void);

/*
 * In such a child: drops the session the process had (a thread stopped
 * half-way through a report may have left it inconsistent) without
 * freeing or closing anything; the next call opens a fresh one.
 */
void da_sym_forget(void);

#endif /* DA_AUDIT_SYMBOLIZE_H */
