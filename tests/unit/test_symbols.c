/*
 * Unit tests of the offline symbolizer (tools/symbols.c) on a real dump:
 * tests/unit/symprog runs under the freshly built libdbgalloc.so with
 * DBGALLOC_DUMP set, so the dump is the writer's own (its module map, its
 * build ids, stacks captured by the library's unwinder), and writes down
 * the lines of its calls. Each test finds its stack by the size allocated
 * there (1001 to 1004) and checks names, files, lines and inlined frames
 * exactly. Variants of the same dump (a module's build id, path or
 * segments changed, the library stripped, without .debug_aranges, in a
 * debug directory or named a thousand times, modules naming hostile or
 * spoilt files) are the dump's text edited line by line and sealed again,
 * read from memory; the files they name are made here with objcopy and
 * strip (binutils).
 *
 * A real dump rather than one made from /proc/self/maps: the point is
 * that what the library writes is what the symbolizer reads, and the
 * stacks through strdup and operator new are the library's capture.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/dumpgen.h"
#include "tools/dump.h"
#include "tools/symbols.h"

/* The lines symprog and symtest.cc wrote down. */
static struct {
	unsigned leaf, inl, outer, dup, main_leaf, new_, make;
} at;

static char tmp[256];  /* this run's directory */
static char lib[4200]; /* libsymtest.so */
static char *text;     /* the dump's text, trailer cut */
static size_t text_len;
static struct da_dump dump; /* the dump as written */
static char err[512];

/* ---- running symprog -------------------------------------------------- */

static void
build_paths(char *top, size_t n, char *preload, size_t pn)
{
	const char *b = getenv("DA_TEST_TOP_BUILDDIR");
	if (b != NULL) {
		snprintf(top, n, "%s", b);
	} else {
		/* By hand: this program is TOP/tests/unit/test_symbols. */
		ssize_t k = readlink("/proc/self/exe", top, n - 1);
		assert_true(k > 0);
		top[k] = '\0';
		for (int i = 0; i < 3; i++)
			*strrchr(top, '/') = '\0';
	}
	const char *l = getenv("DA_TEST_LIB");
	if (l != NULL)
		snprintf(preload, pn, "%s", l);
	else
		snprintf(preload, pn, "%s/.libs/libdbgalloc.so", top);
}

static void
run_symprog(const char *top, const char *preload, const char *dump_path,
            const char *lines_path)
{
	char prog[4200];
	snprintf(prog, sizeof(prog), "%s/tests/unit/symprog", top);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("LD_PRELOAD", preload, 1);
		setenv("DBGALLOC_DUMP", dump_path, 1);
		setenv("DBGALLOC_STACK_DEPTH", "8", 1);
		execl(prog, prog, lib, lines_path, (char *)NULL);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
read_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	char name[32];
	unsigned v;
	assert_non_null(f);
	while (fscanf(f, "%31s %u", name, &v) == 2) {
		unsigned *p = strcmp(name, "leaf") == 0        ? &at.leaf
		              : strcmp(name, "inl") == 0       ? &at.inl
		              : strcmp(name, "outer") == 0     ? &at.outer
		              : strcmp(name, "dup") == 0       ? &at.dup
		              : strcmp(name, "main_leaf") == 0 ? &at.main_leaf
		              : strcmp(name, "new") == 0       ? &at.new_
		              : strcmp(name, "make") == 0      ? &at.make
		                                               : NULL;
		assert_non_null(p);
		*p = v;
	}
	fclose(f);
	assert_true(at.leaf && at.inl && at.outer && at.dup && at.main_leaf &&
	            at.new_ && at.make);
}

/* The dump's text without its trailer line, for the variants. */
static void
read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	text = malloc((size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	text[n] = '\0';
	char *e = strstr(text, "\nE ");
	assert_non_null(e);
	text_len = (size_t)(e - text) + 1;
	text[text_len] = '\0';
}

static int
setup(void **state)
{
	char top[4096], preload[4200], dump_path[300], lines_path[300];
	const char *t = getenv("TMPDIR");
	(void)state;
	snprintf(tmp, sizeof(tmp), "%s/test_symbols.XXXXXX",
	         t != NULL && t[0] != '\0' ? t : "/tmp");
	if (mkdtemp(tmp) == NULL)
		return -1;
	build_paths(top, sizeof(top), preload, sizeof(preload));
	snprintf(lib, sizeof(lib), "%s/tests/unit/.libs/libsymtest.so", top);
	snprintf(dump_path, sizeof(dump_path), "%s/prog.dump", tmp);
	snprintf(lines_path, sizeof(lines_path), "%s/lines", tmp);
	run_symprog(top, preload, dump_path, lines_path);
	read_lines(lines_path);
	read_text(dump_path);
	if (da_dump_read(dump_path, &dump, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];
	(void)state;
	da_dump_free(&dump);
	free(text);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- looking things up ------------------------------------------------- */

/* The stack of the block of that size. */
static const struct da_dump_stack *
stack_of(const struct da_dump *d, uint64_t size)
{
	for (size_t i = 0; i < d->nblocks; i++)
		if (d->blocks[i].size == size) {
			const struct da_dump_stack *st =
			        da_dump_stack(d, d->blocks[i].stack);
			assert_non_null(st);
			return st;
		}
	fail_msg("no block of %llu bytes in the dump",
	         (unsigned long long)size);
	return NULL;
}

/* pcs[k] of the stack of the block of that size; the stack must be that
 * deep (frames through libc need libunwind). */
static uint64_t
pc_of(const struct da_dump *d, uint64_t size, size_t k)
{
	const struct da_dump_stack *st = stack_of(d, size);
	if (st->depth <= k)
		fail_msg("the stack of the %llu-byte block has %zu frames, "
		         "not %zu (is libunwind installed?)",
		         (unsigned long long)size, st->depth, k + 1);
	return st->pcs[k];
}

static const struct da_dump_module *
module_named(const struct da_dump *d, const char *base)
{
	for (size_t i = 0; i < d->nmodules; i++) {
		const char *p = d->modules[i].path;
		const char *b = strrchr(p, '/');
		if (strcmp(b != NULL ? b + 1 : p, base) == 0)
			return &d->modules[i];
	}
	fail_msg("no module %s in the dump", base);
	return NULL;
}

static void
assert_ends(const char *s, const char *tail)
{
	assert_non_null(s);
	size_t n = strlen(s), k = strlen(tail);
	if (n < k || strcmp(s + n - k, tail) != 0)
		fail_msg("\"%s\" does not end in \"%s\"", s, tail);
}

static void
assert_frame(const struct da_sym_frame *f, const char *function,
             const char *file, unsigned line, int inlined)
{
	assert_non_null(f->function);
	assert_string_equal(f->function, function);
	assert_ends(f->file, file);
	assert_int_equal(f->line, line);
	assert_int_equal(f->inlined, inlined);
}

/* ---- the dump as written ------------------------------------------------ */

static void
names_files_lines(void **state)
{
	struct da_sym_frame f[8];
	struct da_sym_where w;
	(void)state;
	struct da_syms *s = da_syms_open(&dump, 0, NULL);
	assert_non_null(s);
	uint64_t pc = pc_of(&dump, 1001, 0);
	assert_int_equal(da_syms_frames(s, pc, f, 8), 1);
	assert_frame(&f[0], "sym_leaf", "tests/unit/symprog.c", at.leaf, 0);
	assert_int_equal(da_syms_frames(s, pc_of(&dump, 1001, 1), f, 8), 1);
	assert_frame(&f[0], "main", "tests/unit/symprog.c", at.main_leaf, 0);
	assert_int_equal(da_syms_hidden(s, pc), 0);

	const struct da_dump_module *m = module_named(&dump, "symprog");
	da_syms_where(s, pc, &w);
	assert_string_equal(w.module, m->path);
	assert_int_equal(w.offset, pc - m->bias);
	assert_string_equal(da_syms_warnings(s), "");
	da_syms_close(s);
}

static void
inlined_frame(void **state)
{
	struct da_sym_frame f[8];
	(void)state;
	struct da_syms *s = da_syms_open(&dump, 0, NULL);
	uint64_t pc = pc_of(&dump, 1002, 0);
	assert_int_equal(da_syms_frames(s, pc, f, 8), 2);
	assert_frame(&f[0], "sym_inl", "tests/unit/symprog.c", at.inl, 1);
	assert_frame(&f[1], "sym_outer", "tests/unit/symprog.c", at.outer, 0);
	/* Room for one: the innermost. */
	memset(f, 0, sizeof(f));
	assert_int_equal(da_syms_frames(s, pc, f, 1), 1);
	assert_frame(&f[0], "sym_inl", "tests/unit/symprog.c", at.inl, 1);
	assert_null(f[1].function);
	assert_int_equal(da_syms_frames(s, pc, f, 0), 0);
	da_syms_close(s);
}

static void
strdup_hidden_caller_shown(void **state)
{
	struct da_sym_frame f[8];
	struct da_sym_where w;
	(void)state;
	struct da_syms *s = da_syms_open(&dump, 0, NULL);
	uint64_t in_strdup = pc_of(&dump, 1003, 0);
	uint64_t caller = pc_of(&dump, 1003, 1);
	da_syms_where(s, in_strdup, &w);
	assert_non_null(w.module);
	assert_non_null(strstr(w.module, "libc.so"));
	assert_int_equal(da_syms_hidden(s, in_strdup), 1);
	/* Named (by DWARF or the symbol table), never NULL. */
	assert_true(da_syms_frames(s, in_strdup, f, 8) >= 1);
	assert_non_null(f[0].function);
	assert_int_equal(da_syms_hidden(s, caller), 0);
	assert_int_equal(da_syms_frames(s, caller, f, 8), 1);
	assert_frame(&f[0], "sym_dup", "tests/unit/symprog.c", at.dup, 0);
	da_syms_close(s);
}

static void
cxx_demangled_operator_new_hidden(void **state)
{
	struct da_sym_frame f[8];
	(void)state;
	struct da_syms *s = da_syms_open(&dump, 0, NULL);
	uint64_t in_new = pc_of(&dump, 1004, 0);
	uint64_t caller = pc_of(&dump, 1004, 1);
	assert_int_equal(da_syms_frames(s, in_new, f, 8), 1);
	assert_frame(&f[0], "operator new(unsigned long, symtest::Arena&)",
	             "tests/unit/symtest.cc", at.new_, 0);
	assert_int_equal(da_syms_hidden(s, in_new), 1);
	assert_int_equal(da_syms_frames(s, caller, f, 8), 1);
	assert_frame(&f[0], "symtest::Box::make(int)", "tests/unit/symtest.cc",
	             at.make, 0);
	assert_int_equal(da_syms_hidden(s, caller), 0);
	assert_string_equal(da_syms_warnings(s), "");
	da_syms_close(s);
}

static void
dbgalloc_module_hidden(void **state)
{
	(void)state;
	const struct da_dump_module *m = module_named(&dump, "libdbgalloc.so");
	for (unsigned flags = 0; flags <= DA_SYMS_NONE; flags++) {
		struct da_syms *s = da_syms_open(&dump, flags, NULL);
		assert_int_equal(da_syms_hidden(s, m->lo + 1), 1);
		assert_int_equal(da_syms_hidden(s, m->hi), 1);
		assert_int_equal(da_syms_hidden(s, m->hi + 1), 0);
		da_syms_close(s);
	}
}

/* Every frame of every pc, twice: the second answer is the cached one,
 * the same strings; the time for all of them is printed. */
static void
every_pc_cached(void **state)
{
	struct da_sym_frame f[DA_SYMS_MAX_FRAMES], g[DA_SYMS_MAX_FRAMES];
	struct timespec t0, t1;
	size_t frames = 0, known = 0;
	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct da_syms *s = da_syms_open(&dump, 0, NULL);
	for (size_t i = 0; i < dump.npcs; i++) {
		size_t n =
		        da_syms_frames(s, dump.pcs[i], f, DA_SYMS_MAX_FRAMES);
		frames += n;
		known += n > 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (size_t i = 0; i < dump.npcs; i++) {
		size_t n =
		        da_syms_frames(s, dump.pcs[i], f, DA_SYMS_MAX_FRAMES);
		assert_int_equal(
		        da_syms_frames(s, dump.pcs[i], g, DA_SYMS_MAX_FRAMES),
		        n);
		assert_memory_equal(f, g, n * sizeof(*f));
	}
	printf("# %zu pcs (%zu named), %zu frames in %.1f ms\n", dump.npcs,
	       known, frames,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	               (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	assert_true(known > 0);
	da_syms_close(s);
}

static void
no_symbols(void **state)
{
	struct da_sym_frame f[8];
	struct da_sym_where w;
	(void)state;
	struct da_syms *s = da_syms_open(&dump, DA_SYMS_NONE, NULL);
	for (size_t i = 0; i < dump.npcs; i++)
		assert_int_equal(da_syms_frames(s, dump.pcs[i], f, 8), 0);
	uint64_t pc = pc_of(&dump, 1003, 0);
	assert_int_equal(da_syms_hidden(s, pc), 0);
	const struct da_dump_module *m = module_named(&dump, "symprog");
	pc = pc_of(&dump, 1001, 0);
	da_syms_where(s, pc, &w);
	assert_string_equal(w.module, m->path);
	assert_int_equal(w.offset, pc - m->bias);
	assert_string_equal(da_syms_warnings(s), "");
	da_syms_close(s);
}

static void
outside_every_module(void **state)
{
	static const uint64_t pcs[] = {0, 1, 2, 0x1000, UINT64_MAX};
	struct da_sym_frame f[8];
	struct da_sym_where w;
	(void)state;
	struct da_syms *s = da_syms_open(&dump, 0, NULL);
	for (size_t i = 0; i < sizeof(pcs) / sizeof(*pcs); i++) {
		assert_int_equal(da_syms_frames(s, pcs[i], f, 8), 0);
		assert_int_equal(da_syms_hidden(s, pcs[i]), 0);
		da_syms_where(s, pcs[i], &w);
		assert_null(w.module);
		assert_int_equal(w.offset, pcs[i]);
	}
	da_syms_close(s);
}

/* ---- variants of the dump ------------------------------------------------- */

/* The dump's text with each M record of libsymtest.so given build id id
 * and path path (NULL: as it was), memsz_add added to each of its L
 * records, and the lines of extra put before the stacks; sealed and read
 * into *d. */
static void
variant(struct da_dump *d, const char *id, const char *path, uint64_t memsz_add,
        const char *extra)
{
	struct dumpgen g;
	char *copy = strdup(text), *save = NULL, mid[32] = "";
	assert_non_null(copy);
	dumpgen_init(&g);
	for (char *line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long f[4];
		char bid[200], p[4096];
		if (strncmp(line, "M ", 2) == 0 &&
		    sscanf(line, "M %llu %llx %llx %llx %199s %4095s", &f[0],
		           &f[1], &f[2], &f[3], bid, p) == 6 &&
		    strcmp(p, lib) == 0) {
			snprintf(mid, sizeof(mid), "%llu", f[0]);
			dumpgen_add(&g, "M %llu 0x%llx 0x%llx 0x%llx %s %s\n",
			            f[0], f[1], f[2], f[3], id ? id : bid,
			            path ? path : p);
			continue;
		}
		if (strncmp(line, "L ", 2) == 0 && mid[0] != '\0' &&
		    sscanf(line, "L %llu %llx %llu %llx %199s", &f[0], &f[1],
		           &f[2], &f[3], bid) == 5 &&
		    strtoull(mid, NULL, 10) == f[0]) {
			dumpgen_add(&g, "L %llu 0x%llx %llu 0x%llx %s\n", f[0],
			            f[1], f[2] + memsz_add, f[3], bid);
			continue;
		}
		if (strncmp(line, "#fields S ", 10) == 0 && extra != NULL)
			dumpgen_add(&g, "%s", extra);
		dumpgen_add(&g, "%s\n", line);
	}
	assert_true(mid[0] != '\0');
	dumpgen_seal(&g);
	if (da_dump_read_mem(g.buf, g.len, "variant.dump", d, err,
	                     sizeof(err)) != 0)
		fail_msg("%s", err);
	dumpgen_free(&g);
	free(copy);
}

/* A symprog pc still resolves in a variant: a failed module leaves the
 * others alone. */
static void
symprog_still_named(struct da_syms *s, const struct da_dump *d)
{
	struct da_sym_frame f[8];
	assert_int_equal(da_syms_frames(s, pc_of(d, 1001, 0), f, 8), 1);
	assert_frame(&f[0], "sym_leaf", "tests/unit/symprog.c", at.leaf, 0);
}

/* The pcs of symtest have no frames, only where; the warnings are want. */
static void
symtest_offsets_only(struct da_syms *s, const struct da_dump *d,
                     const char *want)
{
	struct da_sym_frame f[8];
	struct da_sym_where w;
	const struct da_dump_module *m = module_named(d, "libsymtest.so");
	for (size_t k = 0; k < 2; k++) {
		uint64_t pc = pc_of(d, 1004, k);
		assert_int_equal(da_syms_frames(s, pc, f, 8), 0);
		da_syms_where(s, pc, &w);
		assert_string_equal(w.module, m->path);
		assert_int_equal(w.offset, pc - m->bias);
	}
	/* The operator new frame goes unnamed, so it is not hidden. */
	assert_int_equal(da_syms_hidden(s, pc_of(d, 1004, 0)), 0);
	symprog_still_named(s, d);
	assert_string_equal(da_syms_warnings(s), want);
}

static void
other_build_id(void **state)
{
	struct da_dump d;
	char want[4300];
	(void)state;
	const char *id = module_named(&dump, "libsymtest.so")->build_id;
	assert_non_null(id);
	char *other = strdup(id);
	other[0] = other[0] == '0' ? '1' : '0';
	variant(&d, other, NULL, 0, NULL);
	struct da_syms *s = da_syms_open(&d, 0, NULL);
	snprintf(want, sizeof(want),
	         "%s: build id differs from the dump's; its frames are "
	         "shown as offsets\n",
	         lib);
	symtest_offsets_only(s, &d, want);
	da_syms_close(s);
	da_dump_free(&d);
	free(other);
}

static void
missing_file(void **state)
{
	struct da_dump d;
	char gone[300], want[400];
	(void)state;
	snprintf(gone, sizeof(gone), "%s/gone/libsymtest.so", tmp);
	variant(&d, NULL, gone, 0, NULL);
	struct da_syms *s = da_syms_open(&d, 0, NULL);
	snprintf(want, sizeof(want),
	         "%s: not found; its frames are shown as offsets\n", gone);
	symtest_offsets_only(s, &d, want);
	da_syms_close(s);
	da_dump_free(&d);
}

static void
copy_file(const char *from, const char *to, size_t max)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[65536];
	size_t n, total = 0;
	assert_non_null(in);
	assert_non_null(out);
	while (total < max && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
		if (n > max - total)
			n = max - total;
		assert_int_equal(fwrite(buf, 1, n, out), n);
		total += n;
	}
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* The file found elsewhere: by its basename in the debug directory, and
 * by build id in the debug directory's .build-id tree. */
static void
debug_dir(void **state)
{
	struct da_dump d;
	struct da_sym_frame f[8];
	char dir[300], file[400], gone[300];
	(void)state;
	const char *id = module_named(&dump, "libsymtest.so")->build_id;
	snprintf(gone, sizeof(gone), "%s/elsewhere/libsymtest.so", tmp);
	variant(&d, NULL, gone, 0, NULL);

	snprintf(dir, sizeof(dir), "%s/by-name", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(file, sizeof(file), "%s/libsymtest.so", dir);
	copy_file(lib, file, SIZE_MAX);
	struct da_syms *s = da_syms_open(&d, 0, dir);
	assert_int_equal(da_syms_frames(s, pc_of(&d, 1004, 1), f, 8), 1);
	assert_frame(&f[0], "symtest::Box::make(int)", "tests/unit/symtest.cc",
	             at.make, 0);
	assert_string_equal(da_syms_warnings(s), "");
	da_syms_close(s);

	snprintf(dir, sizeof(dir), "%s/by-id", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(file, sizeof(file), "%s/.build-id", dir);
	assert_int_equal(mkdir(file, 0700), 0);
	snprintf(file, sizeof(file), "%s/.build-id/%.2s", dir, id);
	assert_int_equal(mkdir(file, 0700), 0);
	snprintf(file, sizeof(file), "%s/.build-id/%.2s/%s.debug", dir, id,
	         id + 2);
	copy_file(lib, file, SIZE_MAX);
	s = da_syms_open(&d, 0, dir);
	assert_int_equal(da_syms_frames(s, pc_of(&d, 1004, 0), f, 8), 1);
	assert_frame(&f[0], "operator new(unsigned long, symtest::Arena&)",
	             "tests/unit/symtest.cc", at.new_, 0);
	assert_int_equal(da_syms_hidden(s, pc_of(&d, 1004, 0)), 1);
	assert_string_equal(da_syms_warnings(s), "");
	da_syms_close(s);
	da_dump_free(&d);
}

static void
shell(const char *fmt, ...)
{
	char cmd[16384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("failed: %s", cmd);
}

/* A file without .debug_aranges (clang emits none by default): its units
 * are found by their own ranges, lines by the unit's line table. */
static void
no_aranges(void **state)
{
	struct da_dump d;
	struct da_sym_frame f[8];
	char copy[300];
	(void)state;
	snprintf(copy, sizeof(copy), "%s/noaranges.so", tmp);
	shell("objcopy --remove-section=.debug_aranges '%s' '%s'", lib, copy);
	variant(&d, NULL, copy, 0, NULL);
	struct da_syms *s = da_syms_open(&d, 0, NULL);
	assert_int_equal(da_syms_frames(s, pc_of(&d, 1004, 0), f, 8), 1);
	assert_frame(&f[0], "operator new(unsigned long, symtest::Arena&)",
	             "tests/unit/symtest.cc", at.new_, 0);
	assert_int_equal(da_syms_frames(s, pc_of(&d, 1004, 1), f, 8), 1);
	assert_frame(&f[0], "symtest::Box::make(int)", "tests/unit/symtest.cc",
	             at.make, 0);
	assert_string_equal(da_syms_warnings(s), "");
	da_syms_close(s);
	da_dump_free(&d);
}

/* libsymtest named again by 1,000 more modules, each at its own bias
 * (the same file loaded many times, or a hostile map): a pc at the same
 * offset in any of them has the same frames, and the file is read once
 * (the whole lookup stays fast). */
static void
same_file_many_times(void **state)
{
	const struct da_dump_module *m = module_named(&dump, "libsymtest.so");
	size_t cap = 1000 * 300, len = 0;
	char *extra = malloc(cap);
	struct da_sym_frame f[8], g[8];
	(void)state;
	assert_non_null(extra);
	for (int i = 1; i <= 1000; i++) {
		uint64_t delta = 0x100000000000ull + (uint64_t)i * 0x1000000ull;
		len += (size_t)snprintf(
		        extra + len, cap - len,
		        "M %d 0x%llx 0x%llx 0x%llx %s %s\n", 5000 + i,
		        (unsigned long long)(m->bias + delta),
		        (unsigned long long)(m->lo + delta),
		        (unsigned long long)(m->hi + delta), m->build_id, lib);
		assert_true(len < cap);
	}
	struct da_dump d;
	variant(&d, NULL, NULL, 0, extra);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct da_syms *s = da_syms_open(&d, 0, NULL);
	uint64_t pc = pc_of(&d, 1004, 1);
	assert_int_equal(da_syms_frames(s, pc, f, 8), 1);
	for (int i = 1; i <= 1000; i++) {
		uint64_t delta = 0x100000000000ull + (uint64_t)i * 0x1000000ull;
		struct da_sym_where w;
		assert_int_equal(da_syms_frames(s, pc + delta, g, 8), 1);
		assert_memory_equal(f, g, sizeof(*f));
		da_syms_where(s, pc + delta, &w);
		assert_int_equal(w.offset, pc - m->bias);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_frame(&f[0], "symtest::Box::make(int)", "tests/unit/symtest.cc",
	             at.make, 0);
	assert_string_equal(da_syms_warnings(s), "");
	printf("# one file at 1,001 places: %.1f ms\n",
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	               (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	da_syms_close(s);
	da_dump_free(&d);
	free(extra);
}

/* libsymtest stripped of everything (names from .dynsym only), its DWARF
 * in a separate file: found by build id under the debug directory, or by
 * .gnu_debuglink beside the file, as libdw finds it; neither there: the
 * exported names, no file:line, and the warning. */
static void
separate_debug_info(void **state)
{
	struct da_dump d;
	struct da_sym_frame f[8];
	char dir[300], stripped[400], want[600];
	(void)state;
	const char *id = module_named(&dump, "libsymtest.so")->build_id;
	snprintf(dir, sizeof(dir), "%s/sep", tmp);
	snprintf(stripped, sizeof(stripped), "%s/bin/libsymtest.so", dir);
	shell("mkdir -p '%s/bin' '%s/dbg/.build-id/%.2s' && "
	      "objcopy --only-keep-debug '%s' '%s/dbg/.build-id/%.2s/%s.debug' "
	      "&& strip --strip-all -o '%s' '%s'",
	      dir, dir, id, lib, dir, id, id + 2, stripped, lib);
	variant(&d, NULL, stripped, 0, NULL);

	struct da_syms *s = da_syms_open(&d, 0, NULL);
	assert_int_equal(da_syms_frames(s, pc_of(&d, 1004, 1), f, 8), 1);
	assert_string_equal(f[0].function, "symtest::Box::make(int)");
	assert_null(f[0].file);
	assert_int_equal(f[0].line, 0);
	snprintf(want, sizeof(want),
	         "%s: no debug info; its frames have no file:line\n", stripped);
	assert_string_equal(da_syms_warnings(s), want);
	da_syms_close(s);

	snprintf(want, sizeof(want), "%s/dbg", dir);
	s = da_syms_open(&d, 0, want);
	assert_int_equal(da_syms_frames(s, pc_of(&d, 1004, 1), f, 8), 1);
	assert_frame(&f[0], "symtest::Box::make(int)", "tests/unit/symtest.cc",
	             at.make, 0);
	assert_string_equal(da_syms_warnings(s), "");
	da_syms_close(s);

	shell("cd '%s/bin' && cp '../dbg/.build-id/%.2s/%s.debug' "
	      "libsymtest.debug && "
	      "objcopy --add-gnu-debuglink=libsymtest.debug libsymtest.so",
	      dir, id, id + 2);
	s = da_syms_open(&d, 0, NULL);
	assert_int_equal(da_syms_frames(s, pc_of(&d, 1004, 0), f, 8), 1);
	assert_frame(&f[0], "operator new(unsigned long, symtest::Arena&)",
	             "tests/unit/symtest.cc", at.new_, 0);
	assert_int_equal(da_syms_hidden(s, pc_of(&d, 1004, 0)), 1);
	assert_string_equal(da_syms_warnings(s), "");
	da_syms_close(s);
	da_dump_free(&d);
}

/* Without a build id the segments decide: the dump's own are the file's,
 * one changed is another file's. */
static void
no_build_id_segments(void **state)
{
	struct da_dump d;
	struct da_sym_frame f[8];
	char want[4300];
	(void)state;
	variant(&d, "-", NULL, 0, NULL);
	struct da_syms *s = da_syms_open(&d, 0, NULL);
	assert_int_equal(da_syms_frames(s, pc_of(&d, 1004, 1), f, 8), 1);
	assert_frame(&f[0], "symtest::Box::make(int)", "tests/unit/symtest.cc",
	             at.make, 0);
	assert_string_equal(da_syms_warnings(s), "");
	da_syms_close(s);
	da_dump_free(&d);

	variant(&d, "-", NULL, 16, NULL);
	s = da_syms_open(&d, 0, NULL);
	snprintf(want, sizeof(want),
	         "%s: segments differ from the dump's; its frames are shown "
	         "as offsets\n",
	         lib);
	symtest_offsets_only(s, &d, want);
	da_syms_close(s);
	da_dump_free(&d);
}

/*
 * Modules naming what no symbolizer should trust, each at its own range
 * with the build id of libsymtest (so only the file's kind is in
 * question), each looked up twice: a device, a directory, a FIFO (which
 * must not block), a text file, an empty file, a sparse 64 GiB file, an
 * ELF header with nothing after it, libsymtest cut to 1 KiB (its build id
 * intact), and libsymtest whole but under a build id that is not hex.
 * Each gives exactly one warning line, the first time, and no frames.
 */
static void
hostile_files(void **state)
{
	char names[9][4200], extra[40000], fifo[300];
	size_t len = 0;
	(void)state;
	const char *id = module_named(&dump, "libsymtest.so")->build_id;
	snprintf(names[0], sizeof(names[0]), "/dev/zero");
	snprintf(names[1], sizeof(names[1]), "%s", tmp);
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmp);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(names[2], sizeof(names[2]), "%s", fifo);
	snprintf(names[3], sizeof(names[3]), "%s/lines", tmp);
	snprintf(names[4], sizeof(names[4]), "%s/empty", tmp);
	copy_file(lib, names[4], 0);
	snprintf(names[5], sizeof(names[5]), "%s/sparse", tmp);
	int fd = open(names[5], O_CREAT | O_WRONLY | O_TRUNC, 0600);
	assert_true(fd >= 0);
	if (ftruncate(fd, (off_t)1 << 36) != 0)
		assert_int_equal(ftruncate(fd, (off_t)1 << 30), 0);
	close(fd);
	snprintf(names[6], sizeof(names[6]), "%s/header", tmp);
	copy_file(lib, names[6], 64);
	snprintf(names[7], sizeof(names[7]), "%s/cut", tmp);
	copy_file(lib, names[7], 1024);
	snprintf(names[8], sizeof(names[8]), "%s", lib);

	for (int i = 0; i < 9; i++)
		len += (size_t)snprintf(extra + len, sizeof(extra) - len,
		                        "M %d 0x%llx 0x%llx 0x%llx %s %s\n",
		                        1000 + i,
		                        0x100000000000ull + i * 0x100000ull,
		                        0x100000000000ull + i * 0x100000ull,
		                        0x100000080000ull + i * 0x100000ull,
		                        i == 8 ? "0x12zz" : id, names[i]);
	/* An empty range, one ending before it starts: never looked up. */
	len += (size_t)snprintf(extra + len, sizeof(extra) - len,
	                        "M 2000 0x0 0x200000000000 0x200000000000 - "
	                        "/dev/zero\nM 2001 0x0 0x300000000000 "
	                        "0x2fffffff0000 - /dev/zero\n");
	struct da_dump d;
	variant(&d, NULL, NULL, 0, extra);
	struct da_syms *s = da_syms_open(&d, 0, NULL);
	struct da_sym_frame f[8];
	struct da_sym_where w;
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 9; i++) {
			uint64_t pc =
			        0x100000000000ull + i * 0x100000ull + 0x1234;
			assert_int_equal(da_syms_frames(s, pc, f, 8), 0);
			assert_int_equal(da_syms_hidden(s, pc), 0);
			da_syms_where(s, pc, &w);
			assert_string_equal(w.module, names[i]);
		}
	for (uint64_t pc = 0x200000000000ull; pc < 0x300000000002ull;
	     pc += 0x7fffffffffull) {
		assert_int_equal(da_syms_frames(s, pc, f, 8), 0);
		da_syms_where(s, pc, &w);
		assert_null(w.module);
	}
	static const char *const why[9] = {
	        "not an ELF file",
	        "not an ELF file",
	        "not an ELF file",
	        "not an ELF file",
	        "not an ELF file",
	        "not an ELF file",
	        "truncated ELF file",
	        "truncated ELF file",
	        "build id differs from the dump's",
	};
	char want[sizeof(names) + 9 * 80];
	size_t wlen = 0;
	for (int i = 0; i < 9; i++)
		wlen += (size_t)snprintf(want + wlen, sizeof(want) - wlen,
		                         "%s: %s; its frames are shown as "
		                         "offsets\n",
		                         names[i], why[i]);
	assert_string_equal(da_syms_warnings(s), want);
	da_syms_close(s);
	da_dump_free(&d);
	unlink(names[5]);
}

/*
 * libsymtest with bytes changed past its first 4 KiB (its headers and build
 * id note stay, so it is taken: its DWARF, symbol tables and section
 * headers are what is spoilt), 64 times with a fixed seed: each of the
 * dump's pcs in it is looked up, nothing may crash, and whatever is named
 * has a name that is a string. (1,800 such mutants with random seeds,
 * spoiling one section at a time, ran without a crash.)
 */
static void
mutated_library(void **state)
{
	char mut[300];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	size_t named = 0, refused = 0;
	FILE *in = fopen(lib, "rb");
	(void)state;
	assert_non_null(in);
	assert_int_equal(fseek(in, 0, SEEK_END), 0);
	long size = ftell(in);
	assert_true(size > 8192);
	rewind(in);
	unsigned char *orig = malloc((size_t)size),
	              *data = malloc((size_t)size);
	assert_non_null(orig);
	assert_non_null(data);
	assert_int_equal(fread(orig, 1, (size_t)size, in), (size_t)size);
	fclose(in);
	snprintf(mut, sizeof(mut), "%s/mutant.so", tmp);
	struct da_dump d;
	variant(&d, NULL, mut, 0, NULL);
	for (int round = 0; round < 64; round++) {
		memcpy(data, orig, (size_t)size);
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		int changes = 1 << (seed >> 61); /* 1 to 128 bytes */
		for (int k = 0; k < changes; k++) {
			seed = seed * 6364136223846793005ull +
			       1442695040888963407ull;
			size_t pos = 4096 + (size_t)((seed >> 20) %
			                             (uint64_t)(size - 4096));
			data[pos] = (unsigned char)(seed >> 56);
		}
		FILE *out = fopen(mut, "wb");
		assert_non_null(out);
		assert_int_equal(fwrite(data, 1, (size_t)size, out),
		                 (size_t)size);
		assert_int_equal(fclose(out), 0);
		struct da_syms *s = da_syms_open(&d, 0, NULL);
		for (size_t i = 0; i < d.npcs; i++) {
			struct da_sym_frame f[DA_SYMS_MAX_FRAMES];
			struct da_sym_where w;
			da_syms_where(s, d.pcs[i], &w);
			if (w.module == NULL || strcmp(w.module, mut) != 0)
				continue;
			size_t n = da_syms_frames(s, d.pcs[i], f,
			                          DA_SYMS_MAX_FRAMES);
			named += n > 0;
			for (size_t j = 0; j < n; j++) {
				assert_true(f[j].function == NULL ||
				            strlen(f[j].function) < 65536);
				assert_true(f[j].file == NULL ||
				            strlen(f[j].file) < 65536);
			}
			da_syms_hidden(s, d.pcs[i]);
		}
		refused += strstr(da_syms_warnings(s), "offsets") != NULL;
		da_syms_close(s);
	}
	printf("# 64 mutants: %zu refused, %zu pcs named\n", refused, named);
	da_dump_free(&d);
	free(orig);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(names_files_lines),
	        cmocka_unit_test(inlined_frame),
	        cmocka_unit_test(strdup_hidden_caller_shown),
	        cmocka_unit_test(cxx_demangled_operator_new_hidden),
	        cmocka_unit_test(dbgalloc_module_hidden),
	        cmocka_unit_test(every_pc_cached),
	        cmocka_unit_test(no_symbols),
	        cmocka_unit_test(outside_every_module),
	        cmocka_unit_test(other_build_id),
	        cmocka_unit_test(missing_file),
	        cmocka_unit_test(debug_dir),
	        cmocka_unit_test(no_aranges),
	        cmocka_unit_test(separate_debug_info),
	        cmocka_unit_test(same_file_many_times),
	        cmocka_unit_test(no_build_id_segments),
	        cmocka_unit_test(hostile_files),
	        cmocka_unit_test(mutated_library),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
