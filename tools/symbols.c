/*
 * tools/symbols.c — a dump's return addresses to frames, offline, with
 * libdwfl (symbols.h).
 *
 * One Dwfl session per module of the dump's map, begun on the first pc
 * that falls in the module (separate sessions: a hostile map of
 * overlapping modules cannot confuse libdwfl's address lookup). Before a
 * file is handed to libdw it is opened here, checked to be a regular ELF
 * file, and its build id (or, without one, its PT_LOAD segments) compared
 * with the dump's: a name is never taken from a file of another build.
 *
 * Each pc is resolved once: its frames are appended to one array and an
 * entry (pc, first frame, count, hidden) is kept in an open-addressing
 * table keyed by a salted hash of the pc. Names are turned into what is
 * shown (demangled, "@VERSION" cut) once per distinct name string: libdw's
 * strings stay put for the session, so the table is keyed by address.
 */
#include "tools/symbols.h"
#include "tools/dump.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYSTEM_DEBUG_DIR "/usr/lib/debug"
#define BUILD_ID_HEX_MAX 128 /* 64 bytes: longer ids are refused */

enum { MOD_CLOSED, MOD_OPEN, MOD_FAILED };

/* Why a candidate file was refused, worst last: the warning names the
 * worst reason met over all candidates. */
enum {
	FILE_OK,
	FILE_MISSING,
	FILE_OPEN_ERROR,
	FILE_NOT_ELF,
	FILE_TRUNCATED,
	FILE_SEGMENTS,
	FILE_BUILD_ID
};

struct fsym {          /* an ELF FUNC symbol */
	uint64_t addr; /* its runtime address (bias added) */
	uint64_t size;
	const char *name; /* as in the symbol table */
	unsigned rank;    /* among aliases at one address, the highest shown */
};

struct seg {
	uint64_t vaddr, memsz, offset;
};

struct mod {
	char *path;
	uint64_t bias, lo, hi;         /* [lo, hi): where pc - 1 must lie */
	char id[BUILD_ID_HEX_MAX + 1]; /* lower-case hex, "" when none */
	int bad_id;                    /* the dump's id is not hex */
	struct seg *segs;
	size_t nsegs, cap_segs;
	int state; /* MOD_CLOSED until its first pc */
	int own;   /* libdbgalloc itself */
	Dwfl *dwfl;
	Dwfl_Module *dm;
	struct fsym *syms;
	size_t nsyms;
};

struct entry {
	uint64_t pc;
	uint32_t first; /* index in frames */
	uint8_t n;      /* <= DA_SYMS_MAX_FRAMES */
	uint8_t hidden;
};

struct name {
	const char *raw;   /* libdw's string; NULL: free slot */
	const char *shown; /* raw, or one of owned */
};

struct da_syms {
	unsigned flags;
	char *debug_dir; /* absolute; NULL for none */
	char *dw_path;   /* libdw's debuginfo_path */
	Dwfl_Callbacks cb;
	uint64_t salt;

	struct mod *mods;
	size_t nmods;
	size_t *order; /* the modules with lo < hi, by lo */
	size_t norder;
	size_t last; /* index in order of the last module found */

	struct entry *ents;
	size_t nents, cap_ents;
	uint32_t *slots; /* entry index + 1; 0 free */
	size_t nslots;   /* a power of two, or 0 */
	struct da_sym_frame *frames;
	size_t nframes, cap_frames;

	struct name *names;
	size_t nnames, name_slots;
	char **owned; /* strings made here: shown names */
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

/* Appends p to v (of n elements of size sz, room for *cap); 0 or ENOMEM. */
static int
grow(void **v, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 16;
	if (c > SIZE_MAX / sz)
		return ENOMEM;
	void *p = realloc(*v, c * sz);
	if (p == NULL)
		return ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

static char *
own(struct da_syms *s, char *str)
{
	if (str == NULL || grow((void **)&s->owned, &s->cap_owned, s->nowned,
	                        sizeof(*s->owned)) != 0) {
		free(str);
		return NULL;
	}
	s->owned[s->nowned++] = str;
	return str;
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

/* What raw is shown as: "@VERSION" cut, C++ demangled. */
static const char *
name_make(struct da_syms *s, const char *raw)
{
	const char *at = raw[0] != '\0' ? strchr(raw + 1, '@') : NULL;
	char *cut = at != NULL ? strndup(raw, (size_t)(at - raw)) : NULL;
	const char *n = cut != NULL ? cut : raw;
	if (s->demangle != NULL && n[0] == '_' && n[1] == 'Z') {
		int status = -1;
		char *d = s->demangle(n, NULL, NULL, &status);
		if (status == 0 && d != NULL) {
			free(cut);
			return own(s, d);
		}
		free(d);
	}
	if (cut != NULL)
		return own(s, cut);
	return raw;
}

static size_t
name_slot(const struct da_syms *s, const char *raw)
{
	size_t mask = s->name_slots - 1;
	size_t i = (size_t)mix((uint64_t)(uintptr_t)raw, s->salt) & mask;
	while (s->names[i].raw != NULL && s->names[i].raw != raw)
		i = (i + 1) & mask;
	return i;
}

/* The shown form of raw, made once per distinct string address. */
static const char *
name_shown(struct da_syms *s, const char *raw)
{
	if (raw == NULL || raw[0] == '\0')
		return NULL;
	if ((s->nnames + 1) * 2 > s->name_slots) {
		size_t n = s->name_slots ? s->name_slots * 2 : 1024;
		struct name *old = s->names, *t = calloc(n, sizeof(*t));
		if (t == NULL)
			return raw;
		size_t oldn = s->name_slots;
		s->names = t;
		s->name_slots = n;
		for (size_t i = 0; i < oldn; i++)
			if (old[i].raw != NULL)
				s->names[name_slot(s, old[i].raw)] = old[i];
		free(old);
	}
	size_t i = name_slot(s, raw);
	if (s->names[i].raw == NULL) {
		const char *shown = name_make(s, raw);
		s->names[i].raw = raw;
		s->names[i].shown = shown != NULL ? shown : raw;
		s->nnames++;
	}
	return s->names[i].shown;
}

/* The allocation wrappers of symbols.h, as named in C. */
static const char *const wrapper_names[] = {
        "malloc",
        "calloc",
        "realloc",
        "reallocarray",
        "memalign",
        "posix_memalign",
        "aligned_alloc",
        "valloc",
        "pvalloc",
        "__libc_malloc",
        "__libc_calloc",
        "__libc_realloc",
        "__libc_reallocarray",
        "__libc_memalign",
        "__libc_valloc",
        "__libc_pvalloc",
        "__posix_memalign",
        "strdup",
        "strndup",
        "wcsdup",
        "__strdup",
        "__strndup",
        "__wcsdup",
        "asprintf",
        "vasprintf",
        "___asprintf",
        "__asprintf",
        "__vasprintf",
        "__vasprintf_internal",
        "_IO_vasprintf",
        "__asprintf_chk",
        "__vasprintf_chk",
        "realpath",
        "canonicalize_file_name",
        "getcwd",
        "get_current_dir_name",
        "tempnam",
        "__realpath",
        "__realpath_chk",
        "__getcwd",
        "__getcwd_chk",
        "getline",
        "getdelim",
        "__getline",
        "__getdelim",
        "_IO_getdelim",
        "open_memstream",
        "open_wmemstream",
};

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
	for (size_t i = 0; i < sizeof(wrapper_names) / sizeof(*wrapper_names);
	     i++)
		if (strlen(wrapper_names[i]) == len &&
		    memcmp(wrapper_names[i], name, len) == 0)
			return 1;
	return 0;
}

/* ---- the modules' files ------------------------------------------------ */

static int
hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* The dump's build id, lower-cased, if it is hex of whole bytes. */
static void
mod_set_id(struct mod *m, const char *hex)
{
	size_t n = hex != NULL ? strlen(hex) : 0;
	m->id[0] = '\0';
	if (n == 0)
		return;
	if (n % 2 != 0 || n > BUILD_ID_HEX_MAX) {
		m->bad_id = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!hex_digit(hex[i])) {
			m->bad_id = 1;
			m->id[0] = '\0';
			return;
		}
		m->id[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F'
		                          ? hex[i] - 'A' + 'a'
		                          : hex[i]);
	}
	m->id[n] = '\0';
}

/* The file's PT_LOAD segments are the dump's L records of m. */
static int
segments_match(const struct mod *m, Elf *elf)
{
	size_t phnum, k = 0;
	if (elf_getphdrnum(elf, &phnum) != 0)
		return 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(elf, (int)i, &ph) == NULL)
			return 0;
		if (ph.p_type != PT_LOAD)
			continue;
		if (k == m->nsegs || ph.p_vaddr != m->segs[k].vaddr ||
		    ph.p_memsz != m->segs[k].memsz ||
		    ph.p_offset != m->segs[k].offset)
			return 0;
		k++;
	}
	return k == m->nsegs;
}

/* The section header table and every section with contents lie within
 * the file's size. (Not the PT_LOAD segments: a separate debug file keeps
 * the program headers of the file it was split from.) */
static int
elf_whole(Elf *elf, const GElf_Ehdr *eh, uint64_t size)
{
	size_t n;
	if (eh->e_shoff != 0 &&
	    (elf_getshdrnum(elf, &n) != 0 || eh->e_shoff > size ||
	     (size - eh->e_shoff) / (eh->e_shentsize ? eh->e_shentsize : 1) <
	             n))
		return 0;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn != NULL;
	     scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) == NULL)
			return 0;
		if (sh.sh_type != SHT_NOBITS &&
		    (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset))
			return 0;
	}
	return 1;
}

/* Whether elf, of size bytes, is m's file: FILE_OK or why not. */
static int
elf_verdict(const struct mod *m, Elf *elf, uint64_t size)
{
	GElf_Ehdr eh;
	if (elf == NULL || elf_kind(elf) != ELF_K_ELF ||
	    gelf_getehdr(elf, &eh) == NULL)
		return FILE_NOT_ELF;
	if (!elf_whole(elf, &eh, size))
		return FILE_TRUNCATED;
	if (m->id[0] == '\0' && !m->bad_id)
		return segments_match(m, elf) ? FILE_OK : FILE_SEGMENTS;
	const unsigned char *id = NULL;
	ssize_t n = dwelf_elf_gnu_build_id(elf, (const void **)&id);
	char hex[BUILD_ID_HEX_MAX + 1];
	if (n <= 0 || (size_t)n * 2 > BUILD_ID_HEX_MAX)
		return FILE_BUILD_ID;
	for (ssize_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	return strcmp(hex, m->id) == 0 ? FILE_OK : FILE_BUILD_ID;
}

/* Whether the file at path is m's: FILE_OK or why not. */
static int
file_check(const struct mod *m, const char *path, int *err)
{
	/* O_NONBLOCK: a FIFO named by a hostile dump must not block open. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		*err = errno;
		return errno == ENOENT || errno == ENOTDIR ? FILE_MISSING
		                                           : FILE_OPEN_ERROR;
	}
	struct stat st;
	int r = FILE_NOT_ELF;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		r = elf_verdict(m, elf, (uint64_t)st.st_size);
		if (elf != NULL)
			elf_end(elf);
	}
	close(fd);
	return r;
}

/* Reports the file at path to a new session for m; 0, or -1 with a warning
 * given. */
static int
mod_report(struct da_syms *s, struct mod *m, const char *path)
{
	m->dwfl = dwfl_begin(&s->cb);
	if (m->dwfl == NULL) {
		warn(s, "%s: libdw: %s; its frames are shown as offsets\n",
		     m->path, dwfl_errmsg(-1));
		return -1;
	}
	dwfl_report_begin(m->dwfl);
	/* add_p_vaddr: base is the load bias, as for a shared object. */
	m->dm = dwfl_report_elf(m->dwfl, m->path, path, -1, m->bias, true);
	dwfl_report_end(m->dwfl, NULL, NULL);
	if (m->dm == NULL) {
		warn(s, "%s: libdw: %s; its frames are shown as offsets\n",
		     m->path, dwfl_errmsg(-1));
		dwfl_end(m->dwfl);
		m->dwfl = NULL;
		return -1;
	}
	return 0;
}

static char *
path_join(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *p = malloc(la + lb + lc + 1);
	if (p != NULL) {
		memcpy(p, a, la);
		memcpy(p + la, b, lb);
		memcpy(p + la + lb, c, lc + 1);
	}
	return p;
}

/* dir/.build-id/xx/rest.debug for m's build id. */
static char *
build_id_path(const struct mod *m, const char *dir)
{
	char tail[BUILD_ID_HEX_MAX + 32];
	if (strlen(m->id) < 4)
		return NULL;
	snprintf(tail, sizeof(tail), "/.build-id/%.2s/%s.debug", m->id,
	         m->id + 2);
	return path_join(dir, tail, "");
}

/* The candidate files of symbols.h, in order; NULL entries are skipped. */
#define NCAND 5
static void
candidates(const struct da_syms *s, const struct mod *m, char **c)
{
	memset(c, 0, NCAND * sizeof(*c));
	c[0] = strdup(m->path);
	if (s->debug_dir != NULL) {
		c[1] = path_join(s->debug_dir, m->path[0] == '/' ? "" : "/",
		                 m->path);
		c[2] = path_join(s->debug_dir, "/", base_name(m->path));
		c[3] = build_id_path(m, s->debug_dir);
	}
	c[4] = build_id_path(m, SYSTEM_DEBUG_DIR);
}

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

/* m's FUNC symbols, sorted by address, one per address. libdwfl's own
 * lookup (dwfl_module_addrinfo) scans the table on every call. */
static void
mod_symbols(struct mod *m)
{
	int n = dwfl_module_getsymtab(m->dm);
	if (n <= 1)
		return;
	m->syms = calloc((size_t)n, sizeof(*m->syms));
	if (m->syms == NULL)
		return;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(
		        m->dm, i, &sym, &addr, &shndx, NULL, NULL);
		unsigned type = GELF_ST_TYPE(sym.st_info);
		if (name == NULL || name[0] == '\0' ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC) ||
		    shndx == SHN_UNDEF || addr == 0)
			continue;
		m->syms[m->nsyms++] = (struct fsym){
		        .addr = addr,
		        .size = sym.st_size,
		        .name = name,
		        .rank = fsym_rank(&sym, name),
		};
	}
	if (m->nsyms == 0)
		return;
	qsort(m->syms, m->nsyms, sizeof(*m->syms), fsym_cmp);
	size_t w = 1;
	for (size_t r = 1; r < m->nsyms; r++)
		if (m->syms[r].addr != m->syms[w - 1].addr)
			m->syms[w++] = m->syms[r];
	m->nsyms = w;
}

/* The ELF symbol holding runtime address a, or NULL. */
static const char *
fsym_find(const struct mod *m, uint64_t a)
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
	const struct fsym *f = &m->syms[lo - 1];
	if (f->size == 0 || a - f->addr < f->size)
		return f->name;
	/* a may be past a small symbol nested in a larger one before it. */
	for (size_t i = lo - 1, k = 0; i-- > 0 && k < 8; k++)
		if (a - m->syms[i].addr < m->syms[i].size)
			return m->syms[i].name;
	return NULL;
}

static const char *
reason(int r, int err)
{
	switch (r) {
	case FILE_MISSING:
		return "not found";
	case FILE_NOT_ELF:
		return "not an ELF file";
	case FILE_TRUNCATED:
		return "truncated ELF file";
	case FILE_SEGMENTS:
		return "segments differ from the dump's";
	case FILE_BUILD_ID:
		return "build id differs from the dump's";
	default:
		return strerror(err);
	}
}

/* Finds m's file, reports it to libdw, reads its symbols; on any failure
 * m is MOD_FAILED with one warning given. */
static void
mod_open(struct da_syms *s, struct mod *m)
{
	char *c[NCAND];
	int worst = FILE_MISSING, worst_err = 0;
	m->state = MOD_FAILED;
	candidates(s, m, c);
	for (int i = 0; i < NCAND; i++) {
		int err = 0, r;
		if (c[i] == NULL)
			continue;
		r = file_check(m, c[i], &err);
		if (r == FILE_OK) {
			if (mod_report(s, m, c[i]) == 0)
				m->state = MOD_OPEN;
			worst = FILE_OK;
			break;
		}
		/* Only the dump's own path says more than "not there". */
		if (i != 0 && r != FILE_BUILD_ID && r != FILE_SEGMENTS &&
		    r != FILE_TRUNCATED)
			continue;
		if (r > worst) {
			worst = r;
			worst_err = err;
		}
	}
	for (int i = 0; i < NCAND; i++)
		free(c[i]);
	if (worst == FILE_OK) {
		if (m->state != MOD_OPEN)
			return;
		Dwarf_Addr bias;
		mod_symbols(m);
		if (dwfl_module_getdwarf(m->dm, &bias) == NULL)
			warn(s,
			     "%s: no debug info; its frames have no "
			     "file:line\n",
			     m->path);
		return;
	}
	warn(s, "%s: %s; its frames are shown as offsets\n", m->path,
	     reason(worst, worst_err));
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

/* ---- one pc ------------------------------------------------------------ */

static int
is_function(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

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
	    grow((void **)&s->frames, &s->cap_frames, s->nframes,
	         sizeof(*s->frames)) != 0)
		return NULL;
	struct da_sym_frame *f = &s->frames[s->nframes++];
	memset(f, 0, sizeof(*f));
	e->n++;
	return f;
}

/* Where an inlined subroutine was called: its DW_AT_call_file and line. */
static void
call_site(Dwarf_Die *inl, const char **file, unsigned *line)
{
	Dwarf_Attribute at;
	Dwarf_Word v;
	Dwarf_Die cu;
	Dwarf_Files *files;
	size_t nfiles;
	*file = NULL;
	*line = 0;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &at), &v) == 0 &&
	    dwarf_diecu(inl, &cu, NULL, NULL) != NULL &&
	    dwarf_getsrcfiles(&cu, &files, &nfiles) == 0 && v < nfiles)
		*file = dwarf_filesrc(files, v, NULL, NULL);
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &at), &v) == 0 &&
	    v <= UINT_MAX)
		*line = (unsigned)v;
}

/*
 * The frames of address a from DWARF: the innermost function-like scope
 * (an inlined subroutine, or the function), then up its chain of
 * physically enclosing scopes, each inlined subroutine's call site giving
 * the file:line of the frame that called it. The innermost frame's
 * file:line is the line table's at a.
 */
static void
dwarf_frames(struct da_syms *s, struct mod *m, uint64_t a, struct entry *e)
{
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(m->dm, a, &bias), *scopes = NULL;
	if (cu == NULL)
		return;
	int n = dwarf_getscopes(cu, a - bias, &scopes), fn = -1;
	for (int i = 0; i < n; i++)
		if (is_function(dwarf_tag(&scopes[i]))) {
			fn = i;
			break;
		}
	Dwarf_Die *chain = NULL;
	int nc = fn >= 0 ? dwarf_getscopes_die(&scopes[fn], &chain) : 0;
	free(scopes);

	const char *file = NULL;
	unsigned line = 0;
	int ln = 0;
	Dwfl_Line *l = dwfl_module_getsrc(m->dm, a);
	if (l != NULL &&
	    (file = dwfl_lineinfo(l, NULL, &ln, NULL, NULL, NULL)) != NULL &&
	    ln > 0)
		line = (unsigned)ln;
	else
		file = NULL;

	for (int i = 0; i < nc;) {
		struct da_sym_frame *f = frame_add(s, e);
		if (f == NULL)
			break;
		f->function = die_name(s, &chain[i]);
		f->file = file;
		f->line = file != NULL ? line : 0;
		if (dwarf_tag(&chain[i]) != DW_TAG_inlined_subroutine)
			break;
		int j = i + 1;
		while (j < nc && !is_function(dwarf_tag(&chain[j])))
			j++;
		if (j == nc)
			break;
		f->inlined = 1;
		call_site(&chain[i], &file, &line);
		if (line == 0)
			file = NULL;
		i = j;
	}
	free(chain);
	/* Line table but no function DIE (assembly): one nameless frame, named
	 * below from the symbol table. */
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
	e->pc = pc;
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
	uint64_t a = pc - 1;
	const char *sym = name_shown(s, fsym_find(m, a));
	dwarf_frames(s, m, a, e);
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
entry_of(struct da_syms *s, uint64_t pc)
{
	if ((s->nents + 1) * 2 > s->nslots) {
		size_t n = s->nslots ? s->nslots * 2 : 4096;
		uint32_t *t = calloc(n, sizeof(*t));
		if (t == NULL || s->nents >= UINT32_MAX - 1) {
			free(t);
			return NULL;
		}
		for (size_t i = 0; i < s->nents; i++) {
			size_t k =
			        (size_t)mix(s->ents[i].pc, s->salt) & (n - 1);
			while (t[k] != 0)
				k = (k + 1) & (n - 1);
			t[k] = (uint32_t)i + 1;
		}
		free(s->slots);
		s->slots = t;
		s->nslots = n;
	}
	size_t mask = s->nslots - 1;
	size_t k = (size_t)mix(pc, s->salt) & mask;
	for (; s->slots[k] != 0; k = (k + 1) & mask)
		if (s->ents[s->slots[k] - 1].pc == pc)
			return &s->ents[s->slots[k] - 1];
	if (grow((void **)&s->ents, &s->cap_ents, s->nents, sizeof(*s->ents)) !=
	    0)
		return NULL;
	struct entry *e = &s->ents[s->nents];
	pc_resolve(s, pc, e);
	s->slots[k] = (uint32_t)++s->nents;
	return e;
}

/* ---- the interface ------------------------------------------------------ */

size_t
da_syms_frames(struct da_syms *s, uint64_t pc, struct da_sym_frame *out,
               size_t max)
{
	struct entry *e = entry_of(s, pc);
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
	struct entry *e = entry_of(s, pc);
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
		s->dw_path = path_join(":.debug:", s->debug_dir,
		                       ":" SYSTEM_DEBUG_DIR);
	else
		s->dw_path = strdup(":.debug:" SYSTEM_DEBUG_DIR);
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
		m->path = strdup(dm->path != NULL ? dm->path : "");
		if (m->path == NULL)
			return ENOMEM;
		s->nmods = i + 1;
		m->bias = dm->bias;
		m->lo = dm->lo;
		m->hi = dm->hi;
		mod_set_id(m, dm->build_id);
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
		if (grow((void **)&m->segs, &m->cap_segs, m->nsegs,
		         sizeof(*m->segs)) != 0)
			return ENOMEM;
		m->segs[m->nsegs++] =
		        (struct seg){g->vaddr, g->memsz, g->offset};
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
		if (m->dwfl != NULL)
			dwfl_end(m->dwfl);
		free(m->syms);
		free(m->segs);
		free(m->path);
	}
	for (size_t i = 0; i < s->nowned; i++)
		free(s->owned[i]);
	if (s->cxxlib != NULL)
		dlclose(s->cxxlib);
	free(s->owned);
	free(s->names);
	free(s->frames);
	free(s->slots);
	free(s->ents);
	free(s->order);
	free(s->mods);
	free(s->warn);
	free(s->dw_path);
	free(s->debug_dir);
	free(s);
}
