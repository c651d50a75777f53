/*
 * tools/symbols.c — a dump's return addresses to frames, offline, with
 * libdwfl (symbols.h).
 *
 * One Dwfl session per file, begun on the first pc that falls in a module
 * of the dump's map that is that file (tools/symfile.c proves it the
 * dump's build), the file reported at its own link-time addresses: a pc
 * is looked up as pc - 1 - the module's bias. Sessions apart, one file
 * each: a hostile map of overlapping modules cannot confuse libdwfl's
 * address lookup, and one that names a library a thousand times reads it
 * once. A module's ELF
 * symbols are sorted once (libdwfl's dwfl_module_addrinfo scans the table
 * on every call), each DWARF unit's function scopes are indexed once
 * (tools/symscope.c), and each pc is resolved once: its frames go to one
 * array, and a salted hash table maps the pc to (first frame, count,
 * hidden). Names are made into what is shown (demangled, "@VERSION" cut)
 * once per distinct string: libdw's strings stay put while the session
 * lives, so that table is keyed by address.
 */
#include "tools/symbols.h"
#include "tools/dump.h"
#include "tools/symfile.h"
#include "tools/symmem.h"
#include "tools/symscope.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MOD_CLOSED, MOD_OPEN, MOD_FAILED };

/* Open addressing over index + 1 (0: free), keyed by a salted hash. */
struct map {
	uint64_t *keys;
	uint32_t *vals;
	size_t slots, n; /* slots: a power of two, or 0 */
};

struct fsym {          /* an ELF FUNC symbol */
	uint64_t addr; /* its address as libdwfl gives it (link-time) */
	uint64_t size;
	const char *name; /* as in the symbol table */
	unsigned rank;    /* among aliases at one address, the highest shown */
};

/* A DWARF unit's address range, for files without .debug_aranges. */
struct unit_range {
	uint64_t lo, hi; /* DWARF addresses */
	Dwarf_Die cu;
};

/*
 * A file read by libdw: one session, reported at its link-time addresses
 * (base 0), shared by every module that is that file, so that a dump
 * naming one library at many places reads it once. Lookups are in
 * link-time addresses: pc - 1 - the module's bias.
 */
struct sess {
	char *file;
	Dwfl *dwfl;
	Dwfl_Module *dm; /* NULL: libdw refused the file, saying err */
	char *err;
	struct fsym *syms;
	size_t nsyms;
	struct map unit_of; /* a unit's DIE offset to index + 1 in units */
	struct da_scopes *units;
	size_t nunits, cap_units;
	struct unit_range *uranges; /* by lo; built on the first miss */
	size_t nuranges, cap_uranges;
	int uranges_built;
	Dwarf_Addr dwbias; /* of the units */
};

struct mod {
	char *path, *build_id;
	uint64_t bias, lo, hi; /* [lo, hi): where pc - 1 must lie */
	struct da_symfile_seg *segs;
	size_t nsegs, cap_segs;
	int state;         /* MOD_CLOSED until its first pc */
	int own;           /* libdbgalloc itself */
	struct sess *sess; /* when MOD_OPEN */
};

struct entry {
	uint32_t first; /* index in frames */
	uint8_t n;      /* <= DA_SYMS_MAX_FRAMES */
	uint8_t hidden;
};

struct da_syms {
	unsigned flags;
	char *debug_dir; /* absolute where it could be made so; or NULL */
	char *dw_path;   /* libdw's debuginfo_path */
	Dwfl_Callbacks cb;
	uint64_t salt;

	struct mod *mods;
	size_t nmods;
	struct sess **sess; /* each allocated apart: modules point to them */
	size_t nsess, cap_sess;
	struct map sess_of; /* a file name's hash to index + 1 in sess */
	size_t *order;      /* the modules with lo < hi, by lo */
	size_t norder;
	size_t last; /* index in order of the last module found */

	struct map entry_of; /* pc to index + 1 in ents */
	struct entry *ents;
	size_t nents, cap_ents;
	struct da_sym_frame *frames;
	size_t nframes, cap_frames;

	struct map name_of; /* a raw name's address to index + 1 in shown */
	const char **shown; /* the raw name, or one of owned */
	size_t nshown, cap_shown;
	char **owned; /* strings made here */
	size_t nowned, cap_owned;

	char *warn;
	size_t warn_len, warn_cap;

	char *(*demangle)(const char *, char *, size_t *, int *);
	void *cxxlib;
};

/* ---- small helpers --------------------------------------------------- */

static uint64_t
mix(uint64_t x, uint64_t salt)
{
	uint64_t z = x ^ salt;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t
map_get(const struct map *m, uint64_t key, uint64_t salt)
{
	if (m->slots == 0)
		return 0;
	size_t mask = m->slots - 1;
	for (size_t k = (size_t)mix(key, salt) & mask; m->vals[k] != 0;
	     k = (k + 1) & mask)
		if (m->keys[k] == key)
			return m->vals[k];
	return 0;
}

/* Maps key (not there yet) to val (> 0); 0 or ENOMEM. */
static int
map_put(struct map *m, uint64_t key, uint32_t val, uint64_t salt)
{
	if ((m->n + 1) * 2 > m->slots) {
		size_t n = m->slots ? m->slots * 2 : 1024;
		uint64_t *keys = calloc(n, sizeof(*keys));
		uint32_t *vals = calloc(n, sizeof(*vals));
		if (keys == NULL || vals == NULL) {
			free(keys);
			free(vals);
			return ENOMEM;
		}
		for (size_t i = 0; i < m->slots; i++) {
			if (m->vals[i] == 0)
				continue;
			size_t k = (size_t)mix(m->keys[i], salt) & (n - 1);
			while (vals[k] != 0)
				k = (k + 1) & (n - 1);
			keys[k] = m->keys[i];
			vals[k] = m->vals[i];
		}
		free(m->keys);
		free(m->vals);
		m->keys = keys;
		m->vals = vals;
		m->slots = n;
	}
	size_t k = (size_t)mix(key, salt) & (m->slots - 1);
	while (m->vals[k] != 0)
		k = (k + 1) & (m->slots - 1);
	m->keys[k] = key;
	m->vals[k] = val;
	m->n++;
	return 0;
}

static void
map_free(struct map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static void
warn(struct da_syms *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t need = s->warn_len + (size_t)n + 1;
	if (need > s->warn_cap) {
		size_t c = s->warn_cap ? s->warn_cap : 256;
		while (c < need)
			c *= 2;
		char *p = realloc(s->warn, c);
		if (p == NULL)
			return;
		s->warn = p;
		s->warn_cap = c;
	}
	va_start(ap, fmt);
	vsnprintf(s->warn + s->warn_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s->warn_len += (size_t)n;
}

static const char *
base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b != NULL ? b + 1 : path;
}

/* ---- names ------------------------------------------------------------ */

static const char *
own(struct da_syms *s, char *str)
{
	if (str == NULL || da_sym_grow((void **)&s->owned, &s->cap_owned,
	                               s->nowned, sizeof(*s->owned)) != 0) {
		free(str);
		return NULL;
	}
	s->owned[s->nowned++] = str;
	return str;
}

/* What raw is shown as: "@VERSION" cut, C++ demangled; raw itself when
 * neither applies or memory runs out. */
static const char *
name_make(struct da_syms *s, const char *raw)
{
	const char *at = strchr(raw + 1, '@');
	char *cut = at != NULL ? strndup(raw, (size_t)(at - raw)) : NULL;
	const char *n = cut != NULL ? cut : raw;
	const char *shown = NULL;
	if (s->demangle != NULL && n[0] == '_' && n[1] == 'Z') {
		int status = -1;
		char *d = s->demangle(n, NULL, NULL, &status);
		if (status == 0 && d != NULL)
			shown = own(s, d);
		else
			free(d);
	}
	if (shown == NULL && cut != NULL)
		shown = own(s, cut);
	else
		free(cut);
	return shown != NULL ? shown : raw;
}

/* The shown form of raw (NULL for none or ""), made once per address. */
static const char *
name_shown(struct da_syms *s, const char *raw)
{
	if (raw == NULL || raw[0] == '\0')
		return NULL;
	uint64_t key = (uint64_t)(uintptr_t)raw;
	uint32_t i = map_get(&s->name_of, key, s->salt);
	if (i != 0)
		return s->shown[i - 1];
	const char *shown = name_make(s, raw);
	if (da_sym_grow((void **)&s->shown, &s->cap_shown, s->nshown,
	                sizeof(*s->shown)) == 0 &&
	    map_put(&s->name_of, key, (uint32_t)s->nshown + 1, s->salt) == 0)
		s->shown[s->nshown++] = shown;
	return shown;
}

/* The allocation wrappers of symbols.h, as named in C. */
#define W(name)                        \
	{                              \
		name, sizeof(name) - 1 \
	}
static const struct {
	const char *name;
	size_t len;
} wrappers[] = {
        W("malloc"),
        W("calloc"),
        W("realloc"),
        W("reallocarray"),
        W("memalign"),
        W("posix_memalign"),
        W("aligned_alloc"),
        W("valloc"),
        W("pvalloc"),
        W("__libc_malloc"),
        W("__libc_calloc"),
        W("__libc_realloc"),
        W("__libc_reallocarray"),
        W("__libc_memalign"),
        W("__libc_valloc"),
        W("__libc_pvalloc"),
        W("__posix_memalign"),
        W("strdup"),
        W("strndup"),
        W("wcsdup"),
        W("__strdup"),
        W("__strndup"),
        W("__wcsdup"),
        W("asprintf"),
        W("vasprintf"),
        W("___asprintf"),
        W("__asprintf"),
        W("__vasprintf"),
        W("__vasprintf_internal"),
        W("_IO_vasprintf"),
        W("__asprintf_chk"),
        W("__vasprintf_chk"),
        W("realpath"),
        W("canonicalize_file_name"),
        W("getcwd"),
        W("get_current_dir_name"),
        W("tempnam"),
        W("__realpath"),
        W("__realpath_chk"),
        W("__getcwd"),
        W("__getcwd_chk"),
        W("getline"),
        W("getdelim"),
        W("__getline"),
        W("__getdelim"),
        W("_IO_getdelim"),
        W("open_memstream"),
        W("open_wmemstream"),
};
#undef W

static int
is_wrapper(const char *name)
{
	if (name == NULL)
		return 0;
	if (strncmp(name, "operator new(", 13) == 0 ||
	    strncmp(name, "operator new[](", 15) == 0 ||
	    strncmp(name, "_Znw", 4) == 0 || strncmp(name, "_Zna", 4) == 0)
		return 1;
	if (strncmp(name, "__GI_", 5) == 0)
		name += 5;
	size_t len = strcspn(name, "@");
	for (size_t i = 0; i < sizeof(wrappers) / sizeof(*wrappers); i++)
		if (wrappers[i].len == len &&
		    memcmp(wrappers[i].name, name, len) == 0)
			return 1;
	return 0;
}

/* ---- a module's ELF symbols ------------------------------------------- */

static int
fsym_cmp(const void *a, const void *b)
{
	const struct fsym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->rank < y->rank ? 1 : x->rank > y->rank ? -1 : 0;
}

/* Among aliases at one address the name shown: the fewest leading
 * underscores ("strdup", not "__strdup"), then global or weak before
 * local, then no "@VERSION". */
static unsigned
fsym_rank(const GElf_Sym *sym, const char *name)
{
	unsigned under = 0;
	while (name[under] == '_' && under < 3)
		under++;
	return (3 - under) * 4 + (GELF_ST_BIND(sym->st_info) != STB_LOCAL) * 2 +
	       (strchr(name, '@') == NULL);
}

/* The file's FUNC symbols, sorted by address, one per address. */
static void
sess_symbols(struct sess *x)
{
	int n = dwfl_module_getsymtab(x->dm);
	if (n <= 1)
		return;
	x->syms = calloc((size_t)n, sizeof(*x->syms));
	if (x->syms == NULL)
		return;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(
		        x->dm, i, &sym, &addr, &shndx, NULL, NULL);
		unsigned type = GELF_ST_TYPE(sym.st_info);
		if (name == NULL || name[0] == '\0' ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC) ||
		    shndx == SHN_UNDEF || addr == 0)
			continue;
		x->syms[x->nsyms++] = (struct fsym){
		        .addr = addr,
		        .size = sym.st_size,
		        .name = name,
		        .rank = fsym_rank(&sym, name),
		};
	}
	if (x->nsyms == 0)
		return;
	qsort(x->syms, x->nsyms, sizeof(*x->syms), fsym_cmp);
	size_t w = 1;
	for (size_t r = 1; r < x->nsyms; r++)
		if (x->syms[r].addr != x->syms[w - 1].addr)
			x->syms[w++] = x->syms[r];
	x->nsyms = w;
}

/* The ELF symbol holding link-time address a, or NULL. */
static const char *
fsym_find(const struct sess *x, uint64_t a)
{
	size_t lo = 0, hi = x->nsyms;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->syms[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct fsym *f = &x->syms[lo - 1];
	if (f->size == 0 || a - f->addr < f->size)
		return f->name;
	/* a may be past a small symbol nested in a larger one before it. */
	for (size_t i = lo - 1, k = 0; i-- > 0 && k < 8; k++)
		if (a - x->syms[i].addr < x->syms[i].size)
			return x->syms[i].name;
	return NULL;
}

/* ---- modules ----------------------------------------------------------- */

static uint64_t
name_hash(const char *p)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h;
}

/* The session of file (taken over), begun on first use; NULL without
 * memory. A file libdw refuses gets a session with no module. */
static struct sess *
sess_get(struct da_syms *s, struct mod *m, char *file)
{
	uint64_t key = name_hash(file);
	uint32_t i = map_get(&s->sess_of, key, s->salt);
	if (i != 0 && strcmp(s->sess[i - 1]->file, file) == 0) {
		free(file);
		return s->sess[i - 1];
	}
	struct sess *x = calloc(1, sizeof(*x));
	if (x == NULL || da_sym_grow((void **)&s->sess, &s->cap_sess, s->nsess,
	                             sizeof(*s->sess)) != 0) {
		free(x);
		free(file);
		return NULL;
	}
	x->file = file;
	s->sess[s->nsess++] = x;
	/* Another file of the same hash keeps its entry: this one is then
	 * not shared, which costs time, not correctness. */
	if (i == 0)
		map_put(&s->sess_of, key, (uint32_t)s->nsess, s->salt);
	x->dwfl = dwfl_begin(&s->cb);
	if (x->dwfl != NULL) {
		dwfl_report_begin(x->dwfl);
		/* Base 0, add_p_vaddr: the file's own addresses. */
		x->dm = dwfl_report_elf(x->dwfl, m->path, file, -1, 0, true);
		dwfl_report_end(x->dwfl, NULL, NULL);
	}
	if (x->dm == NULL) {
		x->err = strdup(dwfl_errmsg(-1));
		return x;
	}
	sess_symbols(x);
	Dwarf_Addr bias;
	if (dwfl_module_getdwarf(x->dm, &bias) == NULL)
		warn(s, "%s: no debug info; its frames have no file:line\n",
		     m->path);
	return x;
}

static void
sess_free(struct sess *x)
{
	for (size_t k = 0; k < x->nunits; k++)
		da_scopes_free(&x->units[k]);
	free(x->units);
	free(x->uranges);
	map_free(&x->unit_of);
	if (x->dwfl != NULL)
		dwfl_end(x->dwfl);
	free(x->syms);
	free(x->err);
	free(x->file);
	free(x);
}

/* Finds m's file and its session; m is then MOD_OPEN, or MOD_FAILED with
 * one warning given. */
static void
mod_open(struct da_syms *s, struct mod *m)
{
	char why[256];
	struct da_symfile f = {m->path, m->build_id, m->segs, m->nsegs};
	m->state = MOD_FAILED;
	char *file = da_symfile_find(&f, s->debug_dir, why, sizeof(why));
	if (file == NULL) {
		warn(s, "%s: %s; its frames are shown as offsets\n", m->path,
		     why);
		return;
	}
	struct sess *x = sess_get(s, m, file);
	if (x == NULL || x->dm == NULL) {
		warn(s, "%s: libdw: %s; its frames are shown as offsets\n",
		     m->path,
		     x == NULL || x->err == NULL ? strerror(ENOMEM) : x->err);
		return;
	}
	m->sess = x;
	m->state = MOD_OPEN;
}

/* The module holding address a (pc - 1), or NULL. */
static struct mod *
mod_find(struct da_syms *s, uint64_t a)
{
	if (s->norder == 0)
		return NULL;
	struct mod *m = &s->mods[s->order[s->last]];
	if (a >= m->lo && a < m->hi)
		return m;
	size_t lo = 0, hi = s->norder;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->mods[s->order[mid]].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	m = &s->mods[s->order[lo - 1]];
	if (a >= m->hi)
		return NULL;
	s->last = lo - 1;
	return m;
}

static int
urange_cmp(const void *a, const void *b)
{
	const struct unit_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Every unit's ranges, from its DIE (DW_AT_ranges, or low_pc and
 * high_pc), sorted. */
static void
uranges_build(struct sess *x)
{
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias;
	x->uranges_built = 1;
	while ((cu = dwfl_module_nextcu(x->dm, cu, &bias)) != NULL) {
		Dwarf_Addr base, lo, hi;
		ptrdiff_t off = 0;
		x->dwbias = bias;
		while ((off = dwarf_ranges(cu, off, &base, &lo, &hi)) > 0) {
			if (lo >= hi)
				continue;
			if (da_sym_grow((void **)&x->uranges, &x->cap_uranges,
			                x->nuranges, sizeof(*x->uranges)) != 0)
				goto sort;
			x->uranges[x->nuranges++] =
			        (struct unit_range){lo, hi, *cu};
		}
	}
sort:
	qsort(x->uranges, x->nuranges, sizeof(*x->uranges), urange_cmp);
}

/* The unit holding address a, and the bias of its addresses: by
 * .debug_aranges (libdwfl), else by the units' own ranges (clang emits
 * no .debug_aranges by default). */
static Dwarf_Die *
unit_find(struct sess *x, uint64_t a, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(x->dm, a, bias);
	if (cu != NULL)
		return cu;
	if (!x->uranges_built)
		uranges_build(x);
	size_t lo = 0, hi = x->nuranges;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->uranges[mid].lo <= a - x->dwbias)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || a - x->dwbias >= x->uranges[lo - 1].hi)
		return NULL;
	*bias = x->dwbias;
	return &x->uranges[lo - 1].cu;
}

/* The scope index of unit cu, built on first use; NULL without
 * memory. */
static const struct da_scopes *
unit_scopes(struct da_syms *s, struct sess *x, Dwarf_Die *cu)
{
	uint64_t key = dwarf_dieoffset(cu);
	uint32_t i = map_get(&x->unit_of, key, s->salt);
	if (i != 0)
		return &x->units[i - 1];
	if (da_sym_grow((void **)&x->units, &x->cap_units, x->nunits,
	                sizeof(*x->units)) != 0)
		return NULL;
	struct da_scopes *sc = &x->units[x->nunits];
	da_scopes_build(sc, cu); /* empty when memory runs out */
	if (map_put(&x->unit_of, key, (uint32_t)x->nunits + 1, s->salt) != 0) {
		da_scopes_free(sc);
		return NULL;
	}
	x->nunits++;
	return sc;
}

/* ---- one pc ------------------------------------------------------------ */

/* The name of a function's DIE: a C++ linkage name, demangled (it has the
 * class and the arguments), else its name (a C linkage name is only an
 * asm label: glibc's "__GI___strdup" for "__strdup"), through abstract
 * origins and specifications. */
static const char *
die_name(struct da_syms *s, Dwarf_Die *die)
{
	Dwarf_Attribute at;
	const char *n = dwarf_formstring(
	        dwarf_attr_integrate(die, DW_AT_linkage_name, &at));
	if (n == NULL)
		n = dwarf_formstring(dwarf_attr_integrate(
		        die, DW_AT_MIPS_linkage_name, &at));
	if (n == NULL || n[0] != '_' || n[1] != 'Z') {
		const char *plain = dwarf_formstring(
		        dwarf_attr_integrate(die, DW_AT_name, &at));
		if (plain != NULL)
			n = plain;
	}
	return name_shown(s, n);
}

static struct da_sym_frame *
frame_add(struct da_syms *s, struct entry *e)
{
	if (e->n >= DA_SYMS_MAX_FRAMES ||
	    da_sym_grow((void **)&s->frames, &s->cap_frames, s->nframes,
	                sizeof(*s->frames)) != 0)
		return NULL;
	struct da_sym_frame *f = &s->frames[s->nframes++];
	memset(f, 0, sizeof(*f));
	e->n++;
	return f;
}

/* Where an inlined subroutine was called: its DW_AT_call_file and line;
 * file NULL and line 0 when either is missing. */
static void
call_site(Dwarf_Die *inl, const char **file, unsigned *line)
{
	Dwarf_Attribute at;
	Dwarf_Word f, l;
	Dwarf_Die cu;
	Dwarf_Files *files;
	size_t nfiles;
	*file = NULL;
	*line = 0;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &at), &f) != 0 ||
	    dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &at), &l) != 0 ||
	    l == 0 || l > UINT_MAX ||
	    dwarf_diecu(inl, &cu, NULL, NULL) == NULL ||
	    dwarf_getsrcfiles(&cu, &files, &nfiles) != 0 || f >= nfiles ||
	    (*file = dwarf_filesrc(files, f, NULL, NULL)) == NULL)
		return;
	*line = (unsigned)l;
}

/*
 * The frames of address a from DWARF: the innermost function-like scope
 * holding it (an inlined subroutine, or the function), then each scope
 * that physically encloses it, an inlined subroutine's call site giving
 * the file:line of the frame that called it. The innermost frame's
 * file:line is the line table's at a (libdwfl's lookup, else the unit's
 * own table when the unit was found by its ranges).
 */
static void
dwarf_frames(struct da_syms *s, struct sess *x, uint64_t a, struct entry *e)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = unit_find(x, a, &bias);
	const struct da_scopes *sc = cu != NULL ? unit_scopes(s, x, cu) : NULL;
	const struct da_scope *in =
	        sc != NULL ? da_scopes_find(sc, a - bias) : NULL;
	const char *file = NULL;
	unsigned line = 0;
	int ln = 0;
	Dwfl_Line *l = dwfl_module_getsrc(x->dm, a);
	Dwarf_Line *dl =
	        l == NULL && cu != NULL ? dwarf_getsrc_die(cu, a - bias) : NULL;
	if (l != NULL)
		file = dwfl_lineinfo(l, NULL, &ln, NULL, NULL, NULL);
	else if (dl != NULL && dwarf_lineno(dl, &ln) == 0)
		file = dwarf_linesrc(dl, NULL, NULL);
	if (file != NULL && ln > 0)
		line = (unsigned)ln;
	else
		file = NULL;

	while (in != NULL) {
		struct da_sym_frame *f = frame_add(s, e);
		if (f == NULL)
			break;
		Dwarf_Die die = in->die;
		f->function = die_name(s, &die);
		f->file = file;
		f->line = line;
		const struct da_scope *up = da_scopes_parent(sc, in);
		if (dwarf_tag(&die) != DW_TAG_inlined_subroutine || up == NULL)
			break;
		f->inlined = 1;
		call_site(&die, &file, &line);
		in = up;
	}
	/* A line but no function DIE (assembly): one frame, named from the
	 * symbol table by the caller. */
	if (e->n == 0 && file != NULL) {
		struct da_sym_frame *f = frame_add(s, e);
		if (f != NULL) {
			f->file = file;
			f->line = line;
		}
	}
}

static void
pc_resolve(struct da_syms *s, uint64_t pc, struct entry *e)
{
	e->first = (uint32_t)s->nframes;
	e->n = 0;
	e->hidden = 0;
	struct mod *m = pc != 0 ? mod_find(s, pc - 1) : NULL;
	if (m == NULL)
		return;
	e->hidden = (uint8_t)m->own;
	if (s->flags & DA_SYMS_NONE)
		return;
	if (m->state == MOD_CLOSED)
		mod_open(s, m);
	if (m->state != MOD_OPEN)
		return;
	uint64_t a = pc - 1 - m->bias;
	const char *sym = name_shown(s, fsym_find(m->sess, a));
	dwarf_frames(s, m->sess, a, e);
	if (e->n == 0 && sym != NULL) {
		struct da_sym_frame *f = frame_add(s, e);
		if (f != NULL)
			f->function = sym;
	}
	if (e->n == 0)
		return;
	struct da_sym_frame *outer = &s->frames[e->first + e->n - 1];
	if (outer->function == NULL)
		outer->function = sym;
	if (is_wrapper(outer->function) || is_wrapper(sym))
		e->hidden = 1;
}

/* The entry of pc, resolved on first use; NULL only without memory. */
static struct entry *
entry_get(struct da_syms *s, uint64_t pc)
{
	uint32_t i = map_get(&s->entry_of, pc, s->salt);
	if (i != 0)
		return &s->ents[i - 1];
	if (da_sym_grow((void **)&s->ents, &s->cap_ents, s->nents,
	                sizeof(*s->ents)) != 0)
		return NULL;
	struct entry *e = &s->ents[s->nents];
	size_t nframes = s->nframes;
	pc_resolve(s, pc, e);
	if (map_put(&s->entry_of, pc, (uint32_t)s->nents + 1, s->salt) != 0) {
		s->nframes = nframes;
		return NULL;
	}
	s->nents++;
	return e;
}

/* ---- the interface ------------------------------------------------------ */

size_t
da_syms_frames(struct da_syms *s, uint64_t pc, struct da_sym_frame *out,
               size_t max)
{
	struct entry *e = entry_get(s, pc);
	size_t n = e != NULL ? e->n : 0;
	if (n > max)
		n = max;
	if (n > 0)
		memcpy(out, &s->frames[e->first], n * sizeof(*out));
	return n;
}

void
da_syms_where(struct da_syms *s, uint64_t pc, struct da_sym_where *w)
{
	struct mod *m = pc != 0 ? mod_find(s, pc - 1) : NULL;
	w->module = m != NULL ? m->path : NULL;
	w->offset = m != NULL ? pc - m->bias : pc;
}

int
da_syms_hidden(struct da_syms *s, uint64_t pc)
{
	struct entry *e = entry_get(s, pc);
	if (e != NULL)
		return e->hidden;
	struct mod *m = pc != 0 ? mod_find(s, pc - 1) : NULL;
	return m != NULL && m->own;
}

const char *
da_syms_warnings(struct da_syms *s)
{
	return s->warn != NULL ? s->warn : "";
}

static int
order_cmp(const void *a, const void *b, void *arg)
{
	const struct mod *mods = arg;
	uint64_t x = mods[*(const size_t *)a].lo,
	         y = mods[*(const size_t *)b].lo;
	return x < y ? -1 : x > y;
}

/* libdw's debuginfo_path: the file's own directory, its .debug, then
 * debug_dir (unless a ':' in it would split it) and /usr/lib/debug. */
static int
set_debug_dir(struct da_syms *s, const char *debug_dir)
{
	if (debug_dir != NULL && debug_dir[0] != '\0') {
		s->debug_dir = realpath(debug_dir, NULL);
		if (s->debug_dir == NULL)
			s->debug_dir = strdup(debug_dir);
		if (s->debug_dir == NULL)
			return ENOMEM;
	}
	if (s->debug_dir != NULL && s->debug_dir[0] == '/' &&
	    strchr(s->debug_dir, ':') == NULL)
		s->dw_path = da_sym_concat(":.debug:", s->debug_dir,
		                           ":" DA_SYMFILE_SYSTEM_DEBUG_DIR);
	else
		s->dw_path = strdup(":.debug:" DA_SYMFILE_SYSTEM_DEBUG_DIR);
	return s->dw_path != NULL ? 0 : ENOMEM;
}

static int
copy_modules(struct da_syms *s, const struct da_dump *d)
{
	if (d->nmodules == 0)
		return 0;
	s->mods = calloc(d->nmodules, sizeof(*s->mods));
	s->order = calloc(d->nmodules, sizeof(*s->order));
	if (s->mods == NULL || s->order == NULL)
		return ENOMEM;
	for (size_t i = 0; i < d->nmodules; i++) {
		const struct da_dump_module *dm = &d->modules[i];
		struct mod *m = &s->mods[i];
		s->nmods = i + 1;
		m->path = strdup(dm->path != NULL ? dm->path : "");
		if (m->path == NULL ||
		    (dm->build_id != NULL &&
		     (m->build_id = strdup(dm->build_id)) == NULL))
			return ENOMEM;
		m->bias = dm->bias;
		m->lo = dm->lo;
		m->hi = dm->hi;
		m->own = strncmp(base_name(m->path), "libdbgalloc", 11) == 0;
		if (m->path[0] != '\0' && dm->lo != DA_DUMP_NONE &&
		    dm->hi != DA_DUMP_NONE && dm->lo < dm->hi &&
		    dm->bias != DA_DUMP_NONE)
			s->order[s->norder++] = i;
	}
	/* Each L record to its module, found by id (the reader's index). */
	for (size_t k = 0; k < d->nsegments; k++) {
		const struct da_dump_segment *g = &d->segments[k];
		const struct da_dump_module *dm = da_dump_module(d, g->module);
		if (dm == NULL)
			continue;
		struct mod *m = &s->mods[dm - d->modules];
		if (da_sym_grow((void **)&m->segs, &m->cap_segs, m->nsegs,
		                sizeof(*m->segs)) != 0)
			return ENOMEM;
		m->segs[m->nsegs++] =
		        (struct da_symfile_seg){g->vaddr, g->memsz, g->offset};
	}
	qsort_r(s->order, s->norder, sizeof(*s->order), order_cmp, s->mods);
	return 0;
}

struct da_syms *
da_syms_open(const struct da_dump *d, unsigned flags, const char *debug_dir)
{
	struct da_syms *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->flags = flags;
	/* The dump's own random salt (see tools/dumpmodel.c), mixed with
	 * this session's address. */
	s->salt = mix(d->salt ^ (uint64_t)(uintptr_t)s, 0x5bd1e995u);
	if (set_debug_dir(s, debug_dir) != 0 || copy_modules(s, d) != 0) {
		da_syms_close(s);
		return NULL;
	}
	s->cb.find_elf = dwfl_build_id_find_elf;
	s->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	s->cb.section_address = dwfl_offline_section_address;
	s->cb.debuginfo_path = &s->dw_path;
	elf_version(EV_CURRENT);
	if (!(flags & DA_SYMS_NONE)) {
		/* The C++ runtime's demangler: in the process already, or
		 * loaded for it. */
		*(void **)&s->demangle = dlsym(RTLD_DEFAULT, "__cxa_demangle");
		if (s->demangle == NULL &&
		    (s->cxxlib = dlopen("libstdc++.so.6",
		                        RTLD_LAZY | RTLD_LOCAL)) != NULL)
			*(void **)&s->demangle =
			        dlsym(s->cxxlib, "__cxa_demangle");
	}
	return s;
}

void
da_syms_close(struct da_syms *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nmods; i++) {
		struct mod *m = &s->mods[i];
		free(m->segs);
		free(m->build_id);
		free(m->path);
	}
	for (size_t i = 0; i < s->nsess; i++)
		sess_free(s->sess[i]);
	free(s->sess);
	map_free(&s->sess_of);
	for (size_t i = 0; i < s->nowned; i++)
		free(s->owned[i]);
	if (s->cxxlib != NULL)
		dlclose(s->cxxlib);
	map_free(&s->entry_of);
	map_free(&s->name_of);
	free(s->owned);
	free(s->shown);
	free(s->frames);
	free(s->ents);
	free(s->order);
	free(s->mods);
	free(s->warn);
	free(s->dw_path);
	free(s->debug_dir);
	free(s);
}
