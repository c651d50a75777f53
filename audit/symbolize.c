/*
 * audit/symbolize.c — module snapshot, ELF symbol tables, DWARF lines.
 *
 * A module is what dl_iterate_phdr() reports: its path, load bias and
 * PT_LOAD ranges. On the first pc found in it, its file is mapped and the
 * FUNC symbols of one table are copied into a sorted array (names stay in
 * the mapped string table); lookups are a binary search on pc - 1 - bias.
 * The DWARF side is one Dwfl session, libdw being dlopen()ed on the first
 * pc that needs a line; each module is reported to it on first use. A pc
 * libdwfl finds no line for (its search for the unit reads .debug_aranges,
 * which clang does not emit) is looked up in the unit whose own ranges
 * hold it, from a sorted list of every unit's ranges built on the first
 * such miss in the module.
 * Report time only: this file allocates freely.
 */
#include "audit/symbolize.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if HAVE_LIBDW_H
#include <elfutils/libdwfl.h>
#endif

#define DEBUG_ID_DIR "/usr/lib/debug/.build-id/"
#define BUILD_ID_MAX 64

struct sym {
	uintptr_t addr; /* link-time address (st_value) */
	uintptr_t size;
	const char *name;    /* in a mapped string table */
	char *shown;         /* what to print if not name; malloc'd */
	unsigned char rank;  /* which of several aliases to print */
	unsigned char tried; /* shown computed */
};

/* A file image: mapped from disk, or the vdso in memory (not unmapped). */
struct image {
	const unsigned char *p;
	size_t len;
	int mapped;
};

#if HAVE_LIBDW_H
/* A DWARF unit's address range: [lo, hi) in DWARF addresses (pc - the
 * unit's bias); cu is valid while the Dwfl session is. */
struct unit_range {
	Dwarf_Addr lo, hi;
	Dwarf_Die cu;
};
#endif

struct module {
	char *path;
	uintptr_t bias; /* dlpi_addr: link-time address + bias = runtime */
	const ElfW(Phdr) * phdr; /* in memory */
	unsigned phnum;
	int vdso;
	int loaded; /* symbols read, or found missing */
	struct sym *syms;
	size_t nsyms;
	struct image img, dbg; /* the module's file, its debug file */
	void *dwmod;           /* Dwfl_Module *, NULL if none */
	int dw_tried;
#if HAVE_LIBDW_H
	struct unit_range *units; /* by lo; malloc'd */
	size_t nunits;
	int units_built;
	Dwarf_Addr units_bias; /* DWARF address + units_bias = pc */
#endif
};

static struct {
	int open;
	struct module *mod;
	unsigned nmod, cap;
	unsigned last; /* module of the previous lookup, tried first */
	const char *libdw_soname; /* as set */
	const char *libdw_open;   /* as it was at da_sym_open() */
	char *(*demangle)(const char *, char *, size_t *, int *);
} st = {.libdw_soname = "libdw.so.1"};

/* ---- ELF images ---------------------------------------------------- */

static int
image_map(struct image *im, const char *path)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (size_t)sb.st_size < sizeof(ElfW(Ehdr))) {
		close(fd);
		return -1;
	}
	void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	im->p = p;
	im->len = (size_t)sb.st_size;
	im->mapped = 1;
	return 0;
}

static void
image_unmap(struct image *im)
{
	if (im->mapped)
		munmap((void *)im->p, im->len);
	memset(im, 0, sizeof(*im));
}

static int
in_image(const struct image *im, uint64_t off, uint64_t len)
{
	return off <= im->len && len <= im->len - off;
}

/* The ELF header, if the image is an ELF file of this process's kind. */
static const ElfW(Ehdr) * image_ehdr(const struct image *im)
{
	const ElfW(Ehdr) *e = (const void *)im->p;
	if (im->p == NULL || im->len < sizeof(*e) ||
	    memcmp(e->e_ident, ELFMAG, SELFMAG) != 0)
		return NULL;
#if UINTPTR_MAX == UINT64_MAX
	if (e->e_ident[EI_CLASS] != ELFCLASS64)
		return NULL;
#else
	if (e->e_ident[EI_CLASS] != ELFCLASS32)
		return NULL;
#endif
	return e;
}

/* The section header table; *n set to its length (0 if there is none). */
static const ElfW(Shdr) * image_shdrs(const struct image *im, size_t *n)
{
	const ElfW(Ehdr) *e = image_ehdr(im);
	*n = 0;
	if (e == NULL || e->e_shoff == 0 ||
	    e->e_shentsize != sizeof(ElfW(Shdr)) ||
	    !in_image(im, e->e_shoff, sizeof(ElfW(Shdr))))
		return NULL;
	const ElfW(Shdr) *sh = (const void *)(im->p + e->e_shoff);
	/* More than SHN_LORESERVE sections: the count is in section 0. */
	size_t count = e->e_shnum != 0 ? e->e_shnum : sh[0].sh_size;
	if (count > im->len / sizeof(ElfW(Shdr)) ||
	    !in_image(im, e->e_shoff, count * sizeof(ElfW(Shdr))))
		return NULL;
	*n = count;
	return sh;
}

/* Copies the build id found in the notes [p, p+len) into id; its length,
 * or 0 if there is none. */
static size_t
notes_build_id(const unsigned char *p, size_t len, size_t align,
               unsigned char *id)
{
	size_t off = 0;
	if (align != 8)
		align = 4;
	while (len - off >= sizeof(ElfW(Nhdr))) {
		const ElfW(Nhdr) *n = (const void *)(p + off);
		size_t name = off + sizeof(*n);
		size_t desc = name + ((n->n_namesz + align - 1) & ~(align - 1));
		size_t next = desc + ((n->n_descsz + align - 1) & ~(align - 1));
		if (desc > len || n->n_descsz > len - desc || next < desc)
			return 0;
		if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
		    memcmp(p + name, "GNU", 4) == 0 && n->n_descsz > 0 &&
		    n->n_descsz <= BUILD_ID_MAX) {
			memcpy(id, p + desc, n->n_descsz);
			return n->n_descsz;
		}
		if (next >= len)
			break;
		off = next;
	}
	return 0;
}

static size_t
image_build_id(const struct image *im, unsigned char *id)
{
	size_t n, k;
	const ElfW(Shdr) *sh = image_shdrs(im, &n);
	for (size_t i = 0; sh != NULL && i < n; i++)
		if (sh[i].sh_type == SHT_NOTE &&
		    in_image(im, sh[i].sh_offset, sh[i].sh_size) &&
		    (k = notes_build_id(im->p + sh[i].sh_offset, sh[i].sh_size,
		                        sh[i].sh_addralign, id)) != 0)
			return k;
	return 0;
}

/* The build id of a loaded module, read from its mapped notes. */
static size_t
module_build_id(const struct module *m, unsigned char *id)
{
	size_t k;
	for (unsigned i = 0; i < m->phnum; i++)
		if (m->phdr[i].p_type == PT_NOTE &&
		    (k = notes_build_id(
		             (const void *)(m->bias + m->phdr[i].p_vaddr),
		             m->phdr[i].p_memsz, m->phdr[i].p_align, id)) != 0)
			return k;
	return 0;
}

/* ---- symbol tables ------------------------------------------------- */

/* Among aliases at one address: global before weak before local, then the
 * name with fewer leading underscores and no "@version". */
static unsigned char
sym_rank(const ElfW(Sym) * s, const char *name)
{
	unsigned bind = ELF64_ST_BIND(s->st_info);
	unsigned r = bind == STB_GLOBAL ? 3 : bind == STB_WEAK ? 2 : 1;
	unsigned under = 0;
	while (name[under] == '_' && under < 3)
		under++;
	r = r * 8 + (3 - under) * 2 + (strchr(name, '@') == NULL);
	return (unsigned char)r;
}

/* Appends the FUNC symbols of section sh of im. -1 if it is unusable. */
static int
syms_collect(struct module *m, const struct image *im, const ElfW(Shdr) * sh,
             size_t nsh, size_t idx)
{
	const ElfW(Shdr) *tab = &sh[idx];
	if (tab->sh_type == SHT_NOBITS ||
	    tab->sh_entsize != sizeof(ElfW(Sym)) || tab->sh_link >= nsh ||
	    !in_image(im, tab->sh_offset, tab->sh_size))
		return -1;
	const ElfW(Shdr) *str = &sh[tab->sh_link];
	if (str->sh_type == SHT_NOBITS ||
	    !in_image(im, str->sh_offset, str->sh_size) || str->sh_size == 0)
		return -1;
	const char *strs = (const char *)im->p + str->sh_offset;
	const ElfW(Sym) *s = (const void *)(im->p + tab->sh_offset);
	size_t n = tab->sh_size / sizeof(ElfW(Sym));

	struct sym *v = realloc(m->syms, (m->nsyms + n) * sizeof(*v));
	if (v == NULL)
		return -1;
	m->syms = v;
	for (size_t i = 0; i < n; i++) {
		unsigned type = ELF64_ST_TYPE(s[i].st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
		    s[i].st_shndx == SHN_UNDEF || s[i].st_value == 0 ||
		    s[i].st_name == 0 || s[i].st_name >= str->sh_size)
			continue;
		const char *name = strs + s[i].st_name;
		/* The table must end in a NUL for the name to end in one. */
		if (memchr(name, '\0', str->sh_size - s[i].st_name) == NULL)
			continue;
		v[m->nsyms++] = (struct sym){
		        .addr = (uintptr_t)s[i].st_value,
		        .size = (uintptr_t)s[i].st_size,
		        .name = name,
		        .rank = sym_rank(&s[i], name),
		};
	}
	return 0;
}

/* Collects the table of type type (SHT_SYMTAB, SHT_DYNSYM) of im. */
static int
syms_from(struct module *m, const struct image *im, unsigned type)
{
	size_t n;
	const ElfW(Shdr) *sh = image_shdrs(im, &n);
	for (size_t i = 0; sh != NULL && i < n; i++)
		if (sh[i].sh_type == type)
			return syms_collect(m, im, sh, n, i);
	return -1;
}

static int
sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (int)y->rank - (int)x->rank;
}

/* The separate debug file of a stripped module: DEBUG_ID_DIR/ab/cdef.debug,
 * named by the build id, and checked to carry the same id. */
static int
debug_file_map(struct image *dbg, const unsigned char *id, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char path[sizeof(DEBUG_ID_DIR) + 2 * BUILD_ID_MAX + 8];
	unsigned char got[BUILD_ID_MAX];
	char *q = path;

	if (n < 2)
		return -1;
	memcpy(q, DEBUG_ID_DIR, sizeof(DEBUG_ID_DIR) - 1);
	q += sizeof(DEBUG_ID_DIR) - 1;
	for (size_t i = 0; i < n; i++) {
		*q++ = hex[id[i] >> 4];
		*q++ = hex[id[i] & 15];
		if (i == 0)
			*q++ = '/';
	}
	memcpy(q, ".debug", sizeof(".debug"));
	if (image_map(dbg, path) != 0)
		return -1;
	if (image_build_id(dbg, got) != n || memcmp(got, id, n) != 0) {
		image_unmap(dbg);
		return -1;
	}
	return 0;
}

/* The vdso has no file: its whole ELF image is mapped at AT_SYSINFO_EHDR,
 * in the pages that hold its one PT_LOAD segment. */
static void
vdso_image(struct module *m)
{
	size_t end = 0, page = (size_t)sysconf(_SC_PAGESIZE);
	for (unsigned i = 0; i < m->phnum; i++)
		if (m->phdr[i].p_type == PT_LOAD &&
		    m->phdr[i].p_offset + m->phdr[i].p_filesz > end)
			end = m->phdr[i].p_offset + m->phdr[i].p_filesz;
	m->img.p = (const void *)getauxval(AT_SYSINFO_EHDR);
	m->img.len = (end + page - 1) & ~(page - 1);
	m->img.mapped = 0;
}

/* Reads the module's symbols: .symtab, else the debug file's .symtab,
 * else .dynsym. A file whose build id differs from the loaded image's was
 * replaced since: its symbols would lie, so the module gets none. */
static void
module_load(struct module *m)
{
	unsigned char mem_id[BUILD_ID_MAX], file_id[BUILD_ID_MAX];
	size_t mem_n, file_n;

	m->loaded = 1;
	if (m->vdso)
		vdso_image(m);
	else if (image_map(&m->img, m->path) != 0)
		return;
	mem_n = module_build_id(m, mem_id);
	file_n = image_build_id(&m->img, file_id);
	if (mem_n != 0 && file_n != 0 &&
	    (mem_n != file_n || memcmp(mem_id, file_id, mem_n) != 0)) {
		image_unmap(&m->img);
		return;
	}
	if (syms_from(m, &m->img, SHT_SYMTAB) != 0 &&
	    (mem_n == 0 || debug_file_map(&m->dbg, mem_id, mem_n) != 0 ||
	     syms_from(m, &m->dbg, SHT_SYMTAB) != 0))
		syms_from(m, &m->img, SHT_DYNSYM);
	if (m->nsyms == 0)
		return;
	qsort(m->syms, m->nsyms, sizeof(*m->syms), sym_cmp);
	/* One entry per address: the best-ranked alias sorts first. */
	size_t w = 1;
	for (size_t r = 1; r < m->nsyms; r++)
		if (m->syms[r].addr != m->syms[w - 1].addr)
			m->syms[w++] = m->syms[r];
	m->nsyms = w;
}

/* The symbol holding the link-time address a, or NULL. */
static struct sym *
sym_find(struct module *m, uintptr_t a)
{
	size_t lo = 0, hi = m->nsyms;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->syms[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	struct sym *s = &m->syms[lo - 1];
	/* Sizeless symbols (hand-written assembly) reach the next symbol. */
	if (s->size == 0 || a - s->addr < s->size)
		return s;
	/* a may be past a small symbol nested in a larger one before it. */
	for (size_t i = lo - 1, k = 0; i-- > 0 && k < 8; k++)
		if (a - m->syms[i].addr < m->syms[i].size)
			return &m->syms[i];
	return NULL;
}

/* The name to print: without "@VERSION" (glibc's .symtab has
 * "__libc_start_main@@GLIBC_2.34"), demangled if it is C++. */
static const char *
sym_name(struct sym *s)
{
	if (s->tried)
		return s->shown != NULL ? s->shown : s->name;
	s->tried = 1;
	const char *at = strchr(s->name, '@');
	char *plain =
	        at != NULL ? strndup(s->name, (size_t)(at - s->name)) : NULL;
	const char *n = plain != NULL ? plain : s->name;
	if (st.demangle != NULL && n[0] == '_' && n[1] == 'Z') {
		int status = -1;
		char *d = st.demangle(n, NULL, NULL, &status);
		if (status == 0) {
			free(plain);
			plain = d;
		} else {
			free(d);
		}
	}
	s->shown = plain;
	return s->shown != NULL ? s->shown : s->name;
}

/* ---- DWARF lines, through a dlopen()ed libdw ------------------------ */

#if HAVE_LIBDW_H
/* libdw's functions, as dlsym() found them. */
struct dwlib {
	void *lib;
	Dwfl_Callbacks cb;
	__typeof__(dwfl_begin) *begin;
	__typeof__(dwfl_end) *end;
	__typeof__(dwfl_report_begin_add) *report_begin_add;
	__typeof__(dwfl_report_elf) *report_elf;
	__typeof__(dwfl_report_end) *report_end;
	__typeof__(dwfl_module_getsrc) *getsrc;
	__typeof__(dwfl_lineinfo) *lineinfo;
	/* For units without .debug_aranges: their ranges and line tables. */
	__typeof__(dwfl_module_nextcu) *nextcu;
	__typeof__(dwarf_ranges) *ranges;
	__typeof__(dwarf_getsrc_die) *getsrc_die;
	__typeof__(dwarf_lineno) *lineno;
	__typeof__(dwarf_linesrc) *linesrc;
};

static struct {
	int state; /* 0: not tried, 1: ready, -1: unavailable */
	int owned; /* l.lib is this session's to close */
	struct dwlib l;
	Dwfl *dwfl;
} dw;

static void *
dw_sym(void *lib, const char *name, int *missing)
{
	void *p = dlsym(lib, name);
	if (p == NULL)
		*missing = 1;
	return p;
}

/* Loads libdw (soname) and finds its functions: 0, or -1 (nothing kept).
 * The standard callbacks find separate debug files by build id and
 * .gnu_debuglink. */
static int
dw_load(struct dwlib *l, const char *soname)
{
	int missing = 0;
	memset(l, 0, sizeof(*l));
	/* A static program (AT_BASE 0: no dynamic loader) cannot load a
	 * shared libdw, which would bring a second libc. */
	if (soname == NULL || getauxval(AT_BASE) == 0 ||
	    (l->lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return -1;
	*(void **)&l->begin = dw_sym(l->lib, "dwfl_begin", &missing);
	*(void **)&l->end = dw_sym(l->lib, "dwfl_end", &missing);
	*(void **)&l->report_begin_add =
	        dw_sym(l->lib, "dwfl_report_begin_add", &missing);
	*(void **)&l->report_elf = dw_sym(l->lib, "dwfl_report_elf", &missing);
	*(void **)&l->report_end = dw_sym(l->lib, "dwfl_report_end", &missing);
	*(void **)&l->getsrc = dw_sym(l->lib, "dwfl_module_getsrc", &missing);
	*(void **)&l->lineinfo = dw_sym(l->lib, "dwfl_lineinfo", &missing);
	*(void **)&l->nextcu = dw_sym(l->lib, "dwfl_module_nextcu", &missing);
	*(void **)&l->ranges = dw_sym(l->lib, "dwarf_ranges", &missing);
	*(void **)&l->getsrc_die = dw_sym(l->lib, "dwarf_getsrc_die", &missing);
	*(void **)&l->lineno = dw_sym(l->lib, "dwarf_lineno", &missing);
	*(void **)&l->linesrc = dw_sym(l->lib, "dwarf_linesrc", &missing);
	*(void **)&l->cb.find_elf =
	        dw_sym(l->lib, "dwfl_build_id_find_elf", &missing);
	*(void **)&l->cb.find_debuginfo =
	        dw_sym(l->lib, "dwfl_standard_find_debuginfo", &missing);
	*(void **)&l->cb.section_address =
	        dw_sym(l->lib, "dwfl_offline_section_address", &missing);
	l->cb.debuginfo_path = NULL; /* ":.debug:/usr/lib/debug" */
	if (missing) {
		dlclose(l->lib);
		memset(l, 0, sizeof(*l));
		return -1;
	}
	return 0;
}
#endif /* HAVE_LIBDW_H */

/* What da_sym_preload() loaded, kept for the life of the process. */
static struct {
	int done;
	char *(*demangle)(const char *, char *, size_t *, int *);
#if HAVE_LIBDW_H
	int have_dw;
	struct dwlib dw;
#endif
} pre;

#if HAVE_LIBDW_H
/* Starts an offline session, with the preloaded libdw if there is one. */
static int
dw_start(void)
{
	if (dw.state != 0)
		return dw.state;
	dw.state = -1;
	if (pre.done) {
		if (!pre.have_dw || st.libdw_open == NULL)
			return -1;
		dw.l = pre.dw;
		dw.owned = 0;
	} else if (dw_load(&dw.l, st.libdw_open) == 0) {
		dw.owned = 1;
	} else {
		return -1;
	}
	if ((dw.dwfl = dw.l.begin(&dw.l.cb)) == NULL) {
		if (dw.owned)
			dlclose(dw.l.lib);
		memset(&dw, 0, sizeof(dw));
		dw.state = -1;
		return -1;
	}
	dw.state = 1;
	return 1;
}

static void
dw_stop(void)
{
	if (dw.state == 1) {
		dw.l.end(dw.dwfl);
		if (dw.owned)
			dlclose(dw.l.lib);
	}
	memset(&dw, 0, sizeof(dw));
}

static int
unit_cmp(const void *a, const void *b)
{
	const struct unit_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Every unit's ranges in m, from its DIE (DW_AT_ranges, or low_pc and
 * high_pc), sorted; as many as memory allows. */
static void
units_build(struct module *m)
{
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias;
	size_t cap = 0;
	m->units_built = 1;
	while ((cu = dw.l.nextcu(m->dwmod, cu, &bias)) != NULL) {
		Dwarf_Addr base, lo, hi;
		ptrdiff_t off = 0;
		m->units_bias = bias;
		while ((off = dw.l.ranges(cu, off, &base, &lo, &hi)) > 0) {
			if (lo >= hi)
				continue;
			if (m->nunits == cap) {
				size_t c = cap != 0 ? 2 * cap : 16;
				struct unit_range *v =
				        realloc(m->units, c * sizeof(*v));
				if (v == NULL)
					goto sort;
				m->units = v;
				cap = c;
			}
			m->units[m->nunits++] =
			        (struct unit_range){lo, hi, *cu};
		}
	}
sort:
	if (m->nunits > 1)
		qsort(m->units, m->nunits, sizeof(*m->units), unit_cmp);
}

/* The line of pc a from the line table of the unit whose own ranges hold
 * a, for modules without .debug_aranges; NULL if none. */
static Dwarf_Line *
unit_line(struct module *m, uintptr_t a)
{
	if (!m->units_built)
		units_build(m);
	Dwarf_Addr d = a - m->units_bias;
	size_t lo = 0, hi = m->nunits;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->units[mid].lo <= d)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || d >= m->units[lo - 1].hi)
		return NULL;
	return dw.l.getsrc_die(&m->units[lo - 1].cu, d);
}

/* file:line of link-time-plus-bias address a in m; 0 if none. */
static int
dw_line(struct module *m, uintptr_t a, const char **file, unsigned *line)
{
	if (m->vdso || dw_start() != 1)
		return 0;
	if (!m->dw_tried) {
		m->dw_tried = 1;
		dw.l.report_begin_add(dw.dwfl);
		/* add_p_vaddr: the base given is the bias, as for ET_DYN. */
		m->dwmod = dw.l.report_elf(dw.dwfl, m->path, m->path, -1,
		                           m->bias, true);
		dw.l.report_end(dw.dwfl, NULL, NULL);
	}
	if (m->dwmod == NULL)
		return 0;
	Dwfl_Line *l = dw.l.getsrc(m->dwmod, a);
	Dwarf_Line *dl = l == NULL ? unit_line(m, a) : NULL;
	int n = 0;
	const char *f = NULL;
	if (l != NULL)
		f = dw.l.lineinfo(l, NULL, &n, NULL, NULL, NULL);
	else if (dl != NULL && dw.l.lineno(dl, &n) == 0)
		f = dw.l.linesrc(dl, NULL, NULL);
	if (f == NULL || n <= 0)
		return 0;
	*file = f;
	*line = (unsigned)n;
	return 1;
}
#else
static int
dw_line(struct module *m, uintptr_t a, const char **file, unsigned *line)
{
	(void)m, (void)a, (void)file, (void)line;
	return 0;
}

static void
dw_stop(void)
{
}
#endif /* HAVE_LIBDW_H */

/* ---- modules ------------------------------------------------------- */

static char *
main_path(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return strdup("/proc/self/exe");
	buf[n] = '\0';
	return strdup(buf);
}

static int
snapshot_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Ehdr) *vdso = arg;
	struct module *m;
	(void)size;

	if (st.nmod == st.cap) {
		unsigned cap = st.cap != 0 ? 2 * st.cap : 32;
		m = realloc(st.mod, cap * sizeof(*m));
		if (m == NULL)
			return ENOMEM;
		st.mod = m;
		st.cap = cap;
	}
	m = &st.mod[st.nmod];
	memset(m, 0, sizeof(*m));
	m->bias = info->dlpi_addr;
	m->phdr = info->dlpi_phdr;
	m->phnum = info->dlpi_phnum;
	m->vdso = vdso != NULL && (const char *)info->dlpi_phdr ==
	                                  (const char *)vdso + vdso->e_phoff;
	if (m->vdso)
		m->path = strdup(info->dlpi_name[0] != '\0' ? info->dlpi_name
		                                            : "[vdso]");
	else if (info->dlpi_name[0] == '\0')
		m->path = main_path();
	else
		m->path = strdup(info->dlpi_name);
	if (m->path == NULL)
		return ENOMEM;
	st.nmod++;
	return 0;
}

int
da_sym_open(void)
{
	if (st.open)
		return 0;
	const ElfW(Ehdr) *vdso = (const void *)getauxval(AT_SYSINFO_EHDR);
	int err = dl_iterate_phdr(snapshot_one, (void *)vdso);
	if (pre.done)
		st.demangle = pre.demangle;
	else
		*(void **)&st.demangle = dlsym(RTLD_DEFAULT, "__cxa_demangle");
	st.libdw_open = st.libdw_soname;
	st.open = 1;
	if (err != 0) {
		da_sym_close();
		return err;
	}
	return 0;
}

static int
module_has(const struct module *m, uintptr_t a)
{
	for (unsigned i = 0; i < m->phnum; i++) {
		const ElfW(Phdr) *p = &m->phdr[i];
		if (p->p_type == PT_LOAD &&
		    a - (m->bias + p->p_vaddr) < p->p_memsz)
			return 1;
	}
	return 0;
}

static struct module *
module_of(uintptr_t a)
{
	if (st.last < st.nmod && module_has(&st.mod[st.last], a))
		return &st.mod[st.last];
	for (unsigned i = 0; i < st.nmod; i++)
		if (module_has(&st.mod[i], a)) {
			st.last = i;
			return &st.mod[i];
		}
	return NULL;
}

int
da_sym_resolve(uintptr_t pc, struct da_sym *out)
{
	memset(out, 0, sizeof(*out));
	if (!st.open && da_sym_open() != 0)
		return 0;
	/* The call instruction ends just before the return address. */
	uintptr_t a = pc - 1;
	struct module *m = pc != 0 ? module_of(a) : NULL;
	if (m == NULL)
		return 0;
	if (!m->loaded)
		module_load(m);
	struct sym *s = sym_find(m, a - m->bias);
	out->func = s != NULL ? sym_name(s) : NULL;
	if (!dw_line(m, a, &out->file, &out->line))
		out->file = NULL, out->line = 0;
	out->module = m->path;
	out->module_off = pc - m->bias;
	return 1;
}

/* Appends s, cut to at most room bytes ending in "..." if it is longer. */
static void
line_str_cut(struct da_line *l, const char *s, size_t room)
{
	size_t n = strlen(s);
	if (n <= room) {
		da_line_str(l, s);
		return;
	}
	if (room < 3)
		return;
	memcpy(l->buf + l->len, s, room - 3);
	memcpy(l->buf + l->len + room - 3, "...", 3);
	l->len += room;
}

void
da_sym_format(struct da_line *l, unsigned idx, uintptr_t pc)
{
	struct da_line tail = {.len = 0};
	struct da_sym s;
	da_line_str(l, "    #");
	da_line_dec(l, idx);
	da_line_str(l, " ");
	da_line_hex(l, pc);
	da_line_str(l, " in ");
	if (!da_sym_resolve(pc, &s)) {
		da_line_str(l, "?? (<unknown module>)");
		return;
	}
	if (s.file != NULL) {
		da_line_str(&tail, " ");
		da_line_str(&tail, s.file);
		da_line_str(&tail, ":");
		da_line_dec(&tail, s.line);
	}
	const char *base = strrchr(s.module, '/');
	da_line_str(&tail, " (");
	da_line_str(&tail, base != NULL ? base + 1 : s.module);
	da_line_str(&tail, "+");
	da_line_hex(&tail, s.module_off);
	da_line_str(&tail, ")");
	tail.buf[tail.len] = '\0';
	/* C++ names can fill the line: cut the name, keep where it is. */
	size_t room = sizeof(l->buf) - 1 - l->len;
	line_str_cut(l, s.func != NULL ? s.func : "??",
	             room > tail.len ? room - tail.len : 0);
	da_line_str(l, tail.buf);
}

void *
da_sym_lookup_name(const char *name)
{
	if (!st.open && da_sym_open() != 0)
		return NULL;
	for (unsigned i = 0; i < st.nmod; i++) {
		struct module *m = &st.mod[i];
		if (!m->loaded)
			module_load(m);
		for (size_t k = 0; k < m->nsyms; k++)
			if (strcmp(m->syms[k].name, name) == 0)
				return (void *)(m->bias + m->syms[k].addr);
	}
	return NULL;
}

void
da_sym_close(void)
{
	dw_stop();
	for (unsigned i = 0; i < st.nmod; i++) {
		struct module *m = &st.mod[i];
		for (size_t k = 0; k < m->nsyms; k++)
			free(m->syms[k].shown);
		free(m->syms);
		image_unmap(&m->img);
		image_unmap(&m->dbg);
		free(m->path);
#if HAVE_LIBDW_H
		free(m->units);
#endif
	}
	free(st.mod);
	st.mod = NULL;
	st.nmod = st.cap = st.last = 0;
	st.demangle = NULL;
	st.open = 0;
}

static void
preload_once(void)
{
	*(void **)&pre.demangle = dlsym(RTLD_DEFAULT, "__cxa_demangle");
#if HAVE_LIBDW_H
	pre.have_dw = dw_load(&pre.dw, st.libdw_soname) == 0;
#endif
	pre.done = 1;
}

void
da_sym_preload(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, preload_once);
}

void
da_sym_forget(void)
{
	const char *soname = st.libdw_soname;
	memset(&st, 0, sizeof(st));
	st.libdw_soname = soname;
#if HAVE_LIBDW_H
	memset(&dw, 0, sizeof(dw));
#endif
}

void
da_sym_set_libdw(const char *soname)
{
	st.libdw_soname = soname;
}
