/*
 * tools/symscope.h — the function scopes of one DWARF compilation unit,
 * indexed once, for tools/symbols.c.
 *
 * dwarf_getscopes and dwarf_getscopes_die answer "which functions and
 * inlined calls contain this address" by walking the unit's DIE tree on
 * every call: on libpython that is 1.5 ms an address. Here the tree is
 * walked once per unit and every function-like DIE with code (subprogram,
 * inlined_subroutine, entry_point) is kept with its address ranges and
 * the function-like DIE that physically encloses it, lexical blocks,
 * namespaces and classes passed through:
 *
 *   unit ── subprogram f [0x100,0x180)
 *            ├── inlined_subroutine g [0x110,0x130)   (its call site in f)
 *            │     └── inlined_subroutine h [0x118,0x120)
 *            └── inlined_subroutine k [0x140,0x150)
 *
 * Each level's ranges are sorted, so an address is found by one binary
 * search per level from the unit down (0x11a: f, g, h; innermost h).
 * Ranges of siblings that overlap (invalid DWARF) make the search pick one
 * of them; nothing is read out of bounds.
 */
#ifndef DA_TOOLS_SYMSCOPE_H
#define DA_TOOLS_SYMSCOPE_H

#include <elfutils/libdw.h>
#include <stddef.h>
#include <stdint.h>

struct da_scope {
	Dwarf_Die die;   /* valid while its Dwarf is */
	uint32_t parent; /* index + 1 of the enclosing scope; 0: none */
	uint32_t kids;   /* its children's ranges: ranges[kids, +nkids) */
	uint32_t nkids;
};

struct da_scope_range {
	uint64_t lo, hi; /* [lo, hi), DWARF addresses */
	uint32_t scope;  /* index in scopes */
	uint32_t parent; /* its scope's parent, the sort key */
};

struct da_scopes {
	struct da_scope *scopes;
	size_t nscopes, cap_scopes;
	struct da_scope_range *ranges;
	size_t nranges, cap_ranges;
	uint32_t top, ntop; /* the ranges of the unit's own scopes */
};

/* Indexes the unit of cu (a DW_TAG_compile_unit or partial_unit DIE).
 * Returns 0, or ENOMEM (*sc then empty: no scope is found in it). */
int da_scopes_build(struct da_scopes *sc, Dwarf_Die *cu);

/* The innermost scope containing DWARF address a, or NULL. Its enclosing
 * ones follow by da_scopes_parent. */
const struct da_scope *da_scopes_find(const struct da_scopes *sc, uint64_t a);
const struct da_scope *da_scopes_parent(const struct da_scopes *sc,
                                        const struct da_scope *s);

void da_scopes_free(struct da_scopes *sc);

#endif
