/*
 * tools/symbols.h — a dump's return addresses to function, file:line, offline.
 *
 * For dbgalloc-stats, outside the allocator: stdio, malloc and libdw. The
 * dump's module map (M and L records) says where each module was loaded
 * and which build it was; each module's file is found, checked against
 * that build id, and read with libdwfl (elfutils) on the first pc that
 * falls in it, possibly on another machine than the one that wrote the
 * dump. A module's file is, in this order, the first of these whose build
 * id is the dump's:
 *
 *   PATH                                   the M record's path
 *   DEBUG_DIR/PATH, DEBUG_DIR/BASENAME     when a debug_dir is given
 *   DEBUG_DIR/.build-id/xx/rest.debug      when a debug_dir is given
 *   /usr/lib/debug/.build-id/xx/rest.debug
 *
 * (xx/rest: the build id in hex, split after its first byte). When the dump
 * has no build id for a module, its path is taken if the file's PT_LOAD
 * segments are the dump's L records. The DWARF of a stripped file is found
 * as libdw finds it: by build id under DEBUG_DIR/.build-id and
 * /usr/lib/debug/.build-id, by .gnu_debuglink beside the file, in its
 * .debug directory, under DEBUG_DIR and under /usr/lib/debug (libdw asks
 * debuginfod servers only when DEBUGINFOD_URLS is set).
 *
 * A module no file fits is never guessed at: its pcs have no frames, only
 * where (module and offset), and it gives one warning line, one of
 *
 *   PATH: not found; its frames are shown as offsets
 *   PATH: not an ELF file; its frames are shown as offsets
 *   PATH: truncated ELF file; its frames are shown as offsets
 *   PATH: build id differs from the dump's; its frames are shown as offsets
 *   PATH: segments differ from the dump's; its frames are shown as offsets
 *   PATH: STRERROR; its frames are shown as offsets       (open failed)
 *   PATH: libdw: MESSAGE; its frames are shown as offsets (libdw refused it)
 *
 * and a module whose file has no DWARF (names from its symbol table only):
 *
 *   PATH: no debug info; its frames have no file:line
 *
 * (given once per file, with the path of the first module found to be it:
 * a file is read once however many modules of the map are that file).
 *
 * Function names: from DWARF (a C++ linkage name demangled, with class and
 * arguments; else the name), else from the ELF symbol table (without
 * "@VERSION", demangled; of aliases the one with fewest leading
 * underscores). C++ is demangled with the C++ runtime's __cxa_demangle
 * when one can be loaded (libstdc++.so.6), else shown mangled. File names
 * are DWARF's: relative to the compilation directory when the compiler was
 * given a relative path ("tests/unit/symprog.c", glibc's
 * "./string/strdup.c"), as in the library's own reports.
 *
 * Every answer is computed once per pc and kept (a hash table keyed by
 * pc). Measured: 63,438 return addresses into libpython 3.11, libc and two
 * extension modules, all with DWARF, 1.0 to 2.6 s from a fresh da_syms
 * (bench/symbolize-cost). Not thread-safe: one thread at a time per
 * struct da_syms.
 */
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

/* open flag: no debug info read at all (--no-symbols) */
enum { DA_SYMS_NONE = 1 };

/*
 * Starts symbolizing the pcs of dump d, which must stay alive until
 * da_syms_close() only for this call: what is needed of its module map is
 * copied. debug_dir (NULL for none) is searched as above. No file is
 * opened here. NULL only when memory runs out.
 */
struct da_syms *da_syms_open(const struct da_dump *d, unsigned flags,
                             const char *debug_dir);

/* The frames of return address pc (looked up at pc - 1), innermost (most
 * inlined) first; returns how many were stored (<= max), 0 when nothing is
 * known. Strings live as long as s. At most DA_SYMS_MAX_FRAMES per pc. */
size_t da_syms_frames(struct da_syms *s, uint64_t pc, struct da_sym_frame *out,
                      size_t max);
#define DA_SYMS_MAX_FRAMES 64

/* The module pc - 1 lies in (by the dump's M records) and pc's offset in it;
 * module NULL and offset pc when in none. */
void da_syms_where(struct da_syms *s, uint64_t pc, struct da_sym_where *w);

/*
 * 1 if the frame at pc belongs to dbgalloc itself or an allocation wrapper
 * (strdup, operator new, ...): hidden by default.
 *
 * dbgalloc itself: any pc in a module whose path's basename starts with
 * "libdbgalloc" (known with DA_SYMS_NONE too).
 *
 * Allocation wrappers: functions that return memory the caller owns, by
 * the name of the function pc lies in (its DWARF name or its ELF symbol;
 * glibc's "__GI_" prefix ignored):
 *   - the allocator's entry points: malloc calloc realloc reallocarray
 *     memalign posix_memalign aligned_alloc valloc pvalloc, and glibc's
 *     __libc_malloc __libc_calloc __libc_realloc __libc_reallocarray
 *     __libc_memalign __libc_valloc __libc_pvalloc __posix_memalign;
 *   - strings: strdup strndup wcsdup (and __strdup __strndup __wcsdup);
 *   - asprintf vasprintf (and ___asprintf __asprintf __vasprintf
 *     __vasprintf_internal _IO_vasprintf __asprintf_chk __vasprintf_chk);
 *   - paths: realpath canonicalize_file_name getcwd get_current_dir_name
 *     tempnam (and __realpath __realpath_chk __getcwd __getcwd_chk);
 *   - lines: getline getdelim (and __getline __getdelim _IO_getdelim);
 *   - open_memstream open_wmemstream (their first buffer; the buffer's
 *     growth belongs to the stdio call that wrote, fflush or fclose);
 *   - C++: operator new and operator new[], every overload (the program's
 *     own placement forms too), by demangled name ("_Znw", "_Zna" when it
 *     could not be demangled).
 * Not hidden: xmalloc-style helpers, std::allocator and the containers
 * (they are the program's code, inlined into it), nor any pc that DA_SYMS_NONE
 * or a missing file leaves nameless.
 *
 * Meant use: a stack's frames are shown from the one after its outermost
 * hidden frame (pprof's drop_frames), so that the site of an asprintf is
 * the program's call even when glibc's internals lie between asprintf and
 * malloc.
 */
int da_syms_hidden(struct da_syms *s, uint64_t pc);

/* Warnings gathered (one line each, e.g. a module whose build id differs),
 * to print once: each line ends in "\n"; "" when none (never NULL). A
 * module's warning comes with the first pc looked up in it. */
const char *da_syms_warnings(struct da_syms *s);

/* Ends the libdw sessions, frees everything; s may be NULL. */
void da_syms_close(struct da_syms *s);

#endif
