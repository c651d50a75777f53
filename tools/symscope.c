/*
 * tools/symscope.c — one walk of a unit's DIE tree into the scope index of
 * symscope.h. The walk is iterative (a hostile file's nesting depth costs
 * memory, not the C stack), visits DIEs at growing offsets only (each
 * once at most, whatever the sibling links say) and descends only into DIEs that
 * can hold code:
 * the unit, namespaces, modules, classes, structures, unions, and the
 * function-like and block DIEs.
 */
#include "tools/symscope.h"
#include "tools/symmem.h"

#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int
is_function(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

/* Tags whose children may be, or hold, function-like DIEs with code. */
static int
may_hold_code(int tag)
{
	switch (tag) {
	case DW_TAG_namespace:
	case DW_TAG_module:
	case DW_TAG_class_type:
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_interface_type:
	case DW_TAG_lexical_block:
	case DW_TAG_try_block:
	case DW_TAG_catch_block:
	case DW_TAG_with_stmt:
		return 1;
	default:
		return is_function(tag);
	}
}

/* Adds die, enclosed by scope parent (index + 1, 0 for the unit), if it
 * has code: returns its index + 1, 0 if it has none, -1 without memory. */
static int64_t
scope_add(struct da_scopes *sc, Dwarf_Die *die, uint32_t parent)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;
	size_t first = sc->nranges;
	uint32_t idx = (uint32_t)sc->nscopes;
	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		if (lo >= hi)
			continue;
		if (da_sym_grow((void **)&sc->ranges, &sc->cap_ranges,
		                sc->nranges, sizeof(*sc->ranges)) != 0)
			return -1;
		sc->ranges[sc->nranges++] = (struct da_scope_range){
		        .lo = lo, .hi = hi, .scope = idx, .parent = parent};
	}
	if (sc->nranges == first)
		return 0;
	if (da_sym_grow((void **)&sc->scopes, &sc->cap_scopes, sc->nscopes,
	                sizeof(*sc->scopes)) != 0)
		return -1;
	sc->scopes[sc->nscopes++] =
	        (struct da_scope){.die = *die, .parent = parent};
	return (int64_t)idx + 1;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct da_scope_range *x = a, *y = b;
	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* A place in the walk: the next DIE to visit at one level and the scope
 * that encloses that level. */
struct walk {
	Dwarf_Die die;
	uint32_t parent;
};

static int
walk_unit(struct da_scopes *sc, Dwarf_Die *cu)
{
	struct walk *st = NULL;
	size_t n = 0, cap = 0;
	Dwarf_Die child;
	Dwarf_Off last = 0;
	int err = 0, seen = 0;
	if (dwarf_child(cu, &child) != 0)
		return 0;
	if (da_sym_grow((void **)&st, &cap, n, sizeof(*st)) != 0)
		return ENOMEM;
	st[n++] = (struct walk){child, 0};
	while (n > 0 && err == 0) {
		struct walk *w = &st[n - 1];
		Dwarf_Die die = w->die;
		uint32_t parent = w->parent;
		/* A walk in order visits DIEs at growing offsets; a spoilt
		 * sibling or child link that leads back ends its level, so
		 * each DIE is visited once at most. */
		Dwarf_Off off = dwarf_dieoffset(&die);
		if (seen && off <= last) {
			n--;
			continue;
		}
		seen = 1;
		last = off;
		/* The level moves on to die's sibling, or ends with die. */
		if (dwarf_siblingof(&die, &w->die) != 0)
			n--;
		int tag = dwarf_tag(&die);
		if (!may_hold_code(tag))
			continue;
		uint32_t inner = parent;
		if (is_function(tag)) {
			int64_t k = scope_add(sc, &die, parent);
			if (k < 0) {
				err = ENOMEM;
				break;
			}
			/* Without code (a declaration, an abstract
			 * instance) nothing inside it has code either. */
			if (k == 0)
				continue;
			inner = (uint32_t)k;
		}
		if (!dwarf_haschildren(&die) || dwarf_child(&die, &child) != 0)
			continue;
		if (da_sym_grow((void **)&st, &cap, n, sizeof(*st)) != 0) {
			err = ENOMEM;
			break;
		}
		st[n++] = (struct walk){child, inner};
	}
	free(st);
	return err;
}

int
da_scopes_build(struct da_scopes *sc, Dwarf_Die *cu)
{
	memset(sc, 0, sizeof(*sc));
	if (walk_unit(sc, cu) != 0) {
		da_scopes_free(sc);
		return ENOMEM;
	}
	qsort(sc->ranges, sc->nranges, sizeof(*sc->ranges), range_cmp);
	/* Each scope's children's ranges are one run of the sorted array. */
	for (size_t i = 0; i < sc->nranges;) {
		size_t j = i;
		uint32_t p = sc->ranges[i].parent;
		while (j < sc->nranges && sc->ranges[j].parent == p)
			j++;
		if (p == 0) {
			sc->top = (uint32_t)i;
			sc->ntop = (uint32_t)(j - i);
		} else {
			sc->scopes[p - 1].kids = (uint32_t)i;
			sc->scopes[p - 1].nkids = (uint32_t)(j - i);
		}
		i = j;
	}
	return 0;
}

const struct da_scope *
da_scopes_find(const struct da_scopes *sc, uint64_t a)
{
	const struct da_scope *in = NULL;
	uint32_t first = sc->top, count = sc->ntop;
	/* Each step goes one level down: at most as many as scopes. */
	for (size_t steps = 0; steps <= sc->nscopes; steps++) {
		uint32_t lo = 0, hi = count;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (sc->ranges[first + mid].lo <= a)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0 || a >= sc->ranges[first + lo - 1].hi)
			break;
		const struct da_scope *s =
		        &sc->scopes[sc->ranges[first + lo - 1].scope];
		if (s == in)
			break;
		in = s;
		first = s->kids;
		count = s->nkids;
	}
	return in;
}

const struct da_scope *
da_scopes_parent(const struct da_scopes *sc, const struct da_scope *s)
{
	return s->parent != 0 && s->parent <= sc->nscopes
	               ? &sc->scopes[s->parent - 1]
	               : NULL;
}

void
da_scopes_free(struct da_scopes *sc)
{
	free(sc->scopes);
	free(sc->ranges);
	memset(sc, 0, sizeof(*sc));
}
