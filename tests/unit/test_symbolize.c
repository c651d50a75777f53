/*
 * Unit tests of report-time symbolization (audit/symbolize.c): static
 * functions of the program with file:line, libc through its separate debug
 * file, a stripped library (.dynsym only), C++ names, the vdso, addresses
 * in no module, the exact line shape, and the output without libdw.
 *
 * Built with -g -O0 (and the pragma below, since the user's CFLAGS come
 * last on the command line): the call-site line numbers must be exact.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O0")
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <elf.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "audit/symbolize.h"

/* ---- helpers ------------------------------------------------------- */

static __attribute__((noinline)) uintptr_t
return_address(void)
{
	return (uintptr_t)__builtin_return_address(0);
}

static int static_call_line;

/* A static function: only .symtab names it. The return address it gets
 * back points just after the call on static_call_line. */
static __attribute__((noinline)) uintptr_t
static_caller(void)
{
	static_call_line = __LINE__ + 1;
	uintptr_t pc = return_address();
	__asm__ volatile("" ::: "memory"); /* no tail call */
	return pc;
}

/* The load bias of the object holding addr. */
static uintptr_t
bias_of(uintptr_t addr)
{
	Dl_info info;
	struct link_map *lm = NULL;
	assert_true(dladdr1((void *)addr, &info, (void **)&lm,
	                    RTLD_DL_LINKMAP) != 0);
	assert_non_null(lm);
	return lm->l_addr;
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s != NULL ? s + 1 : path;
}

static int
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);
	return n >= k && strcmp(s + n - k, tail) == 0;
}

static char exe[PATH_MAX];

static const char *
exe_path(void)
{
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	return exe;
}

struct find_id {
	uintptr_t addr;
	char path[256];
};

static int
find_id_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct find_id *f = arg;
	int in = 0;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		if (p->p_type == PT_LOAD &&
		    f->addr - (info->dlpi_addr + p->p_vaddr) < p->p_memsz)
			in = 1;
	}
	for (int i = 0; in && i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		if (p->p_type != PT_NOTE)
			continue;
		const unsigned char *n =
		        (const void *)(info->dlpi_addr + p->p_vaddr);
		const unsigned char *end = n + p->p_memsz;
		while (n + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *h = (const void *)n;
			const unsigned char *d =
			        n + sizeof(*h) + ((h->n_namesz + 3) & ~3u);
			if (h->n_type == NT_GNU_BUILD_ID) {
				int k = snprintf(f->path, sizeof(f->path),
				                 "/usr/lib/debug/.build-id/");
				for (unsigned j = 0; j < h->n_descsz; j++)
					k += snprintf(f->path + k,
					              sizeof(f->path) -
					                      (size_t)k,
					              j == 1 ? "/%02x" : "%02x",
					              d[j]);
				snprintf(f->path + k,
				         sizeof(f->path) - (size_t)k, ".debug");
				return 1;
			}
			n = d + ((h->n_descsz + 3) & ~3u);
		}
	}
	return in;
}

/* Whether the module holding addr has a separate debug file installed. */
static int
has_debug_file(uintptr_t addr)
{
	struct find_id f = {.addr = addr};
	dl_iterate_phdr(find_id_one, &f);
	return f.path[0] != '\0' && access(f.path, R_OK) == 0;
}

/* Whether libdw can give lines here: built with its header, library
 * present. */
static int
libdw_usable(void)
{
#if HAVE_LIBDW_H
	void *h = dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
	if (h != NULL)
		dlclose(h);
	return h != NULL;
#else
	return 0;
#endif
}

static void
expect_line(uintptr_t pc, unsigned idx, const char *want)
{
	struct da_line l = {.len = 0};
	da_sym_format(&l, idx, pc);
	l.buf[l.len] = '\0';
	assert_string_equal(l.buf, want);
}

static int
teardown(void **state)
{
	(void)state;
	da_sym_close();
	da_sym_set_libdw("libdw.so.1");
	return 0;
}

/* ---- tests --------------------------------------------------------- */

static void
static_function_with_line(void **state)
{
	(void)state;
	uintptr_t pc = static_caller();
	struct da_sym s;
	char want[1024];

	assert_int_equal(da_sym_open(), 0);
	assert_int_equal(da_sym_resolve(pc, &s), 1);
	assert_string_equal(s.func, "static_caller");
	assert_string_equal(s.module, exe_path());
	assert_int_equal(s.module_off, pc - bias_of(pc));
	if (!libdw_usable()) {
		print_message("libdw unavailable: no file:line to check\n");
		assert_null(s.file);
		return;
	}
	/* DWARF may prefix the build directory; the tail is __FILE__. */
	const char *tail = __FILE__;
	while (strncmp(tail, "../", 3) == 0 || strncmp(tail, "./", 2) == 0)
		tail += tail[1] == '/' ? 2 : 3;
	assert_non_null(s.file);
	assert_true(ends_with(s.file, tail));
	assert_int_equal(s.line, static_call_line);

	snprintf(want, sizeof(want),
	         "    #0 0x%lx in static_caller %s:%d (%s+0x%lx)",
	         (unsigned long)pc, s.file, static_call_line,
	         base_name(exe_path()), (unsigned long)(pc - bias_of(pc)));
	expect_line(pc, 0, want);
}

static int
cmp_int(const void *a, const void *b)
{
	static uintptr_t *seen;
	if (a == NULL) {
		seen = (uintptr_t *)b;
		return 0;
	}
	*seen = (uintptr_t)__builtin_return_address(0);
	return *(const int *)a - *(const int *)b;
}

static void
libc_functions(void **state)
{
	(void)state;
	uintptr_t q = (uintptr_t)dlsym(RTLD_DEFAULT, "qsort");
	struct da_sym s;
	char want[1024];

	assert_true(q != 0);
	/* A return address one byte past qsort's entry resolves to qsort. */
	assert_int_equal(da_sym_resolve(q + 1, &s), 1);
	assert_string_equal(s.func, "qsort");
	assert_string_equal(base_name(s.module), "libc.so.6");
	assert_int_equal(s.module_off, q + 1 - bias_of(q));

	/* Inside libc, where qsort calls back: a static function (glibc
	 * 2.36: msort_with_tmp), named only by libc's debug file. */
	uintptr_t back = 0;
	int v[8] = {5, 3, 7, 1, 8, 2, 6, 4};
	cmp_int(NULL, &back);
	qsort(v, 8, sizeof(int), cmp_int);
	assert_int_equal(da_sym_resolve(back, &s), 1);
	assert_string_equal(base_name(s.module), "libc.so.6");
	if (has_debug_file(back)) {
		assert_non_null(s.func);
		print_message("qsort calls back from %s\n", s.func);
		assert_non_null(strstr(s.func, "msort"));
	} else {
		print_message("no debug file for libc: static names unknown\n");
	}

	/* Without line info for the address, no " FILE:LINE". */
	if (da_sym_resolve(q + 1, &s) && s.file == NULL) {
		snprintf(want, sizeof(want),
		         "    #7 0x%lx in qsort (libc.so.6+0x%lx)",
		         (unsigned long)(q + 1),
		         (unsigned long)(q + 1 - bias_of(q)));
		expect_line(q + 1, 7, want);
	}
}

/* cmocka's library is stripped and has no debug file here: .dynsym. */
static void
stripped_library(void **state)
{
	(void)state;
	uintptr_t f = (uintptr_t)dlsym(RTLD_DEFAULT, "_cmocka_run_group_tests");
	struct da_sym s;

	assert_true(f != 0);
	assert_int_equal(da_sym_resolve(f + 1, &s), 1);
	assert_string_equal(s.func, "_cmocka_run_group_tests");
	assert_non_null(strstr(base_name(s.module), "libcmocka"));
}

/* With libstdc++ loaded, C++ names are demangled. */
static void
cxx_names(void **state)
{
	(void)state;
	void *h = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_GLOBAL);
	struct da_sym s;

	if (h == NULL) {
		print_message("no libstdc++.so.6: skipped\n");
		return;
	}
	/* Modules loaded after da_sym_open() are unknown until reopened. */
	da_sym_close();
	uintptr_t f = (uintptr_t)dlsym(h, "_ZNSt9bad_allocD1Ev");
	assert_true(f != 0);
	assert_int_equal(da_sym_open(), 0);
	assert_int_equal(da_sym_resolve(f + 1, &s), 1);
	assert_non_null(s.func);
	assert_non_null(strstr(s.func, "std::bad_alloc::~bad_alloc()"));
	assert_non_null(strstr(base_name(s.module), "libstdc++"));
	da_sym_close();
	dlclose(h);
}

/* The vdso has no file: its symbols come from its image in memory. */
static void
vdso(void **state)
{
	(void)state;
	struct da_sym s;
	void *h = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
	void *f = h != NULL ? dlsym(h, "__vdso_clock_gettime") : NULL;
	if (f == NULL) {
		print_message("no vdso clock_gettime: skipped\n");
		return;
	}
	assert_int_equal(da_sym_resolve((uintptr_t)f + 1, &s), 1);
	assert_non_null(s.func);
	assert_non_null(strstr(s.func, "clock_gettime"));
	assert_string_equal(base_name(s.module), "linux-vdso.so.1");
	assert_null(s.file);
	print_message("vdso: %s\n", s.func);
	dlclose(h);
}

static void
unknown_addresses(void **state)
{
	(void)state;
	struct da_sym s;
	char want[128];
	void *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(anon != MAP_FAILED);

	assert_int_equal(da_sym_resolve(0x10, &s), 0);
	assert_null(s.func);
	assert_null(s.module);
	assert_int_equal(da_sym_resolve(0, &s), 0);
	assert_int_equal(da_sym_resolve((uintptr_t)anon + 64, &s), 0);
	expect_line(0x10, 2, "    #2 0x10 in ?? (<unknown module>)");
	snprintf(want, sizeof(want), "    #12 0x%lx in ?? (<unknown module>)",
	         (unsigned long)anon + 64);
	expect_line((uintptr_t)anon + 64, 12, want);
	munmap(anon, 4096);
}

/* A pc in the program but in no function: the module, "??". The ELF
 * header's bytes are mapped (first PT_LOAD) and hold no code. */
static void
no_function(void **state)
{
	(void)state;
	uintptr_t pc = (uintptr_t)static_caller;
	uintptr_t hdr = bias_of(pc);
	struct da_sym s;
	char want[1024];

	/* Non-PIE programs are linked at 0x400000: the header is there. */
	if (hdr == 0)
		hdr = (uintptr_t)getauxval(AT_PHDR) - sizeof(ElfW(Ehdr));
	assert_int_equal(da_sym_resolve(hdr + 8, &s), 1);
	assert_null(s.func);
	assert_null(s.file);
	snprintf(want, sizeof(want), "    #1 0x%lx in ?? (%s+0x%lx)",
	         (unsigned long)hdr + 8, base_name(exe_path()),
	         (unsigned long)(hdr + 8 - bias_of(pc)));
	expect_line(hdr + 8, 1, want);
}

/* libdw cannot be loaded: the same lines without " FILE:LINE". */
static void
without_libdw(void **state)
{
	(void)state;
	uintptr_t pc = static_caller();
	struct da_sym s;
	char want[1024];

	da_sym_close();
	da_sym_set_libdw("libdw-dbgalloc-test-missing.so.0");
	assert_int_equal(da_sym_open(), 0);
	assert_int_equal(da_sym_resolve(pc, &s), 1);
	assert_string_equal(s.func, "static_caller");
	assert_null(s.file);
	assert_int_equal(s.line, 0);
	snprintf(want, sizeof(want), "    #0 0x%lx in static_caller (%s+0x%lx)",
	         (unsigned long)pc, base_name(exe_path()),
	         (unsigned long)(pc - bias_of(pc)));
	expect_line(pc, 0, want);

	/* NULL: DWARF off, same output. */
	da_sym_close();
	da_sym_set_libdw(NULL);
	expect_line(pc, 0, want);
}

/* A line too long for struct da_line (C++ names) loses the end of the
 * function name, never the module. */
static void
long_lines_keep_the_module(void **state)
{
	(void)state;
	uintptr_t pc = static_caller();
	struct da_line l = {.len = 0};
	char head[64], tail[128], want[256];

	da_sym_close();
	da_sym_set_libdw(NULL);
	int hn = snprintf(head, sizeof(head), "    #0 0x%lx in ",
	                  (unsigned long)pc);
	int tn = snprintf(tail, sizeof(tail), " (%s+0x%lx)",
	                  base_name(exe_path()),
	                  (unsigned long)(pc - bias_of(pc)));
	/* Leave 7 bytes for the name: "stat...". */
	size_t fill = sizeof(l.buf) - 1 - (size_t)hn - (size_t)tn - 7;
	memset(l.buf, 'x', fill);
	l.len = fill;
	da_sym_format(&l, 0, pc);
	assert_int_equal(l.len, sizeof(l.buf) - 1);
	l.buf[l.len] = '\0';
	snprintf(want, sizeof(want), "%sstat...%s", head, tail);
	assert_true(ends_with(l.buf, want));

	/* Six bytes more: the 13 of the name fit exactly. */
	l.len = fill - 6;
	da_sym_format(&l, 0, pc);
	l.buf[l.len] = '\0';
	snprintf(want, sizeof(want), "%sstatic_caller%s", head, tail);
	assert_true(ends_with(l.buf, want));
}

/* Close frees everything and a new session works the same. */
static void
reopen(void **state)
{
	(void)state;
	uintptr_t pc = static_caller();
	struct da_sym a, b;
	assert_int_equal(da_sym_resolve(pc, &a), 1);
	unsigned line = a.line;
	da_sym_close();
	da_sym_close();
	assert_int_equal(da_sym_open(), 0);
	assert_int_equal(da_sym_open(), 0);
	assert_int_equal(da_sym_resolve(pc, &b), 1);
	assert_string_equal(b.func, "static_caller");
	assert_int_equal(b.line, line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(static_function_with_line, teardown),
	        cmocka_unit_test_teardown(libc_functions, teardown),
	        cmocka_unit_test_teardown(stripped_library, teardown),
	        cmocka_unit_test_teardown(cxx_names, teardown),
	        cmocka_unit_test_teardown(vdso, teardown),
	        cmocka_unit_test_teardown(unknown_addresses, teardown),
	        cmocka_unit_test_teardown(no_function, teardown),
	        cmocka_unit_test_teardown(without_libdw, teardown),
	        cmocka_unit_test_teardown(long_lines_keep_the_module, teardown),
	        cmocka_unit_test_teardown(reopen, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
