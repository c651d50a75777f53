/*
 * tools/symfile.c — a dump's module to the file that is that build
 * (symfile.h).
 */
#include "tools/symfile.h"
#include "tools/symmem.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUILD_ID_HEX_MAX 128 /* 64 bytes: longer ids are refused */

/* Why a candidate is refused, worst last. */
enum {
	FILE_OK,
	FILE_MISSING,
	FILE_OPEN_ERROR,
	FILE_NOT_ELF,
	FILE_TRUNCATED,
	FILE_SEGMENTS,
	FILE_BUILD_ID
};

/* The dump's build id, lower-cased into hex; "" when it has none; -1 when
 * it is not hex of whole bytes (no file can be that build). */
static int
id_hex(const char *id, char *hex)
{
	size_t n = id != NULL ? strlen(id) : 0;
	hex[0] = '\0';
	if (n == 0)
		return 0;
	if (n % 2 != 0 || n > BUILD_ID_HEX_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			hex[0] = '\0';
			return -1;
		}
		hex[i] = c;
	}
	hex[n] = '\0';
	return 0;
}

/* The file's PT_LOAD segments are the dump's L records. */
static int
segments_match(const struct da_symfile *f, Elf *elf)
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
		if (k == f->nsegs || ph.p_vaddr != f->segs[k].vaddr ||
		    ph.p_memsz != f->segs[k].memsz ||
		    ph.p_offset != f->segs[k].offset)
			return 0;
		k++;
	}
	return k == f->nsegs;
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

/* Whether elf, of size bytes, is the module's file: FILE_OK or why not.
 * hex: the dump's id ("" for none), bad: it is not hex. */
static int
elf_verdict(const struct da_symfile *f, const char *hex, int bad, Elf *elf,
            uint64_t size)
{
	GElf_Ehdr eh;
	if (elf == NULL || elf_kind(elf) != ELF_K_ELF ||
	    gelf_getehdr(elf, &eh) == NULL)
		return FILE_NOT_ELF;
	if (!elf_whole(elf, &eh, size))
		return FILE_TRUNCATED;
	if (hex[0] == '\0' && !bad)
		return segments_match(f, elf) ? FILE_OK : FILE_SEGMENTS;
	const unsigned char *id = NULL;
	ssize_t n = dwelf_elf_gnu_build_id(elf, (const void **)&id);
	char got[BUILD_ID_HEX_MAX + 1];
	if (bad || n <= 0 || (size_t)n * 2 > BUILD_ID_HEX_MAX)
		return FILE_BUILD_ID;
	for (ssize_t i = 0; i < n; i++)
		snprintf(got + 2 * i, 3, "%02x", id[i]);
	return strcmp(got, hex) == 0 ? FILE_OK : FILE_BUILD_ID;
}

static int
file_check(const struct da_symfile *f, const char *hex, int bad,
           const char *path, int *err)
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
		r = elf_verdict(f, hex, bad, elf, (uint64_t)st.st_size);
		if (elf != NULL)
			elf_end(elf);
	}
	close(fd);
	return r;
}

/* dir/.build-id/xx/rest.debug; hex is checked hex, so no path tricks. */
static char *
build_id_path(const char *hex, const char *dir)
{
	char tail[BUILD_ID_HEX_MAX + 32];
	if (strlen(hex) < 4)
		return NULL;
	snprintf(tail, sizeof(tail), "/.build-id/%.2s/%s.debug", hex, hex + 2);
	return da_sym_concat(dir, tail, "");
}

#define NCAND 5

static void
candidates(const struct da_symfile *f, const char *hex, const char *dir,
           char **c)
{
	const char *base = strrchr(f->path, '/');
	base = base != NULL ? base + 1 : f->path;
	memset(c, 0, NCAND * sizeof(*c));
	c[0] = strdup(f->path);
	if (dir != NULL) {
		c[1] = da_sym_concat(dir, f->path[0] == '/' ? "" : "/",
		                     f->path);
		c[2] = da_sym_concat(dir, "/", base);
		c[3] = build_id_path(hex, dir);
	}
	c[4] = build_id_path(hex, DA_SYMFILE_SYSTEM_DEBUG_DIR);
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

char *
da_symfile_find(const struct da_symfile *f, const char *debug_dir, char *why,
                size_t whylen)
{
	char hex[BUILD_ID_HEX_MAX + 1], *c[NCAND], *found = NULL;
	int bad = id_hex(f->build_id, hex) != 0;
	int worst = FILE_MISSING, worst_err = 0;
	candidates(f, hex, debug_dir, c);
	for (int i = 0; i < NCAND && found == NULL; i++) {
		int err = 0, r;
		if (c[i] == NULL)
			continue;
		r = file_check(f, hex, bad, c[i], &err);
		if (r == FILE_OK) {
			found = c[i];
			c[i] = NULL;
		} else if ((i == 0 || r == FILE_BUILD_ID ||
		            r == FILE_SEGMENTS || r == FILE_TRUNCATED) &&
		           r > worst) {
			worst = r;
			worst_err = err;
		}
	}
	for (int i = 0; i < NCAND; i++)
		free(c[i]);
	if (found == NULL)
		snprintf(why, whylen, "%s", reason(worst, worst_err));
	return found;
}
