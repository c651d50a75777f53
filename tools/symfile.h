/*
 * tools/symfile.h — the file of a dump's module, found and proved to be
 * that build before any name is read from it (for tools/symbols.c).
 *
 * The candidates, in order (the first that is the module's wins):
 *
 *   PATH                                   the M record's path
 *   DEBUG_DIR/PATH, DEBUG_DIR/BASENAME     when a debug_dir is given
 *   DEBUG_DIR/.build-id/xx/rest.debug      when a debug_dir is given
 *   /usr/lib/debug/.build-id/xx/rest.debug
 *
 * A candidate is the module's when it is a regular ELF file whose section
 * headers and sections lie within it, and whose GNU build id is the
 * dump's, or, when the dump has none, whose PT_LOAD segments (vaddr,
 * memsz, offset) are the dump's L records. A hostile dump may name any
 * file: it is opened O_NONBLOCK (a FIFO does not block), never written,
 * and only read through libelf.
 */
#ifndef DA_TOOLS_SYMFILE_H
#define DA_TOOLS_SYMFILE_H

#include <stddef.h>
#include <stdint.h>

#define DA_SYMFILE_SYSTEM_DEBUG_DIR "/usr/lib/debug"

struct da_symfile_seg {
	uint64_t vaddr, memsz, offset;
};

/* What the dump says of a module. */
struct da_symfile {
	const char *path;
	const char *build_id; /* hex, as written; NULL when the dump has none */
	const struct da_symfile_seg *segs; /* its L records, in order */
	size_t nsegs;
};

/*
 * The path of the module's file (malloc'd), or NULL with why set to the
 * reason of the warning line ("not found", "not an ELF file", "truncated
 * ELF file", "segments differ from the dump's", "build id differs from
 * the dump's", or the system's message when PATH could not be opened; the
 * worst met: only PATH itself says more than "not found", other candidates
 * only a build id, segments or truncation that differ). debug_dir: NULL
 * for none. elf_version() must have been called.
 */
char *da_symfile_find(const struct da_symfile *f, const char *debug_dir,
                      char *why, size_t whylen);

#endif
