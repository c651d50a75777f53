/*
 * Unit tests of LeakSanitizer suppressions (audit/suppress.c): the pattern
 * rules of sanitizer_common's TemplateMatch, matching a stack by function,
 * source file and module, the file format and its error messages, and the
 * hit counters.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/suppress.h"
#include "audit/symbolize.h"

static __attribute__((noinline)) uintptr_t
return_address(void)
{
	return (uintptr_t)__builtin_return_address(0);
}

/* Its return address is the frame the stacks below start with. */
static __attribute__((noinline)) uintptr_t
leaky_helper(void)
{
	uintptr_t pc = return_address();
	__asm__ volatile("" ::: "memory"); /* no tail call */
	return pc;
}

static int
teardown(void **state)
{
	(void)state;
	da_supp_clear();
	da_sym_close();
	return 0;
}

#define M(p, s) da_supp_pattern_match(p, s)

static void
template_match(void **state)
{
	(void)state;
	/* A bare pattern matches anywhere. */
	assert_true(M("foo", "foo"));
	assert_true(M("foo", "xfooy"));
	assert_false(M("foo", "fo"));
	/* ^ and $ anchor. */
	assert_true(M("^foo", "foobar"));
	assert_false(M("^foo", "xfoo"));
	assert_true(M("foo$", "barfoo"));
	assert_false(M("foo$", "foobar"));
	assert_true(M("^foo$", "foo"));
	assert_false(M("^foo$", "foofoo"));
	/* * in the middle: any run, also an empty one. */
	assert_true(M("foo*bar", "foo_x_bar"));
	assert_true(M("foo*bar", "foobar"));
	assert_false(M("foo*bar", "barfoo"));
	assert_true(M("^std::*::push_back", "std::vector<int>::push_back"));
	assert_true(M("a*b*c", "xxaxxbxxcxx"));
	assert_false(M("a*b*c", "cba"));
	/* ^*$ matches every non-empty name; nothing matches an empty one. */
	assert_true(M("^*$", "anything"));
	assert_true(M("*", "x"));
	assert_false(M("^*$", ""));
	assert_false(M("foo", NULL));
	/* An empty pattern matches every name, as in LeakSanitizer. */
	assert_true(M("", "x"));
	/* * before $ swallows the rest. */
	assert_true(M("^foo*$", "foobar"));
	/* LeakSanitizer's quirks, kept: literal runs match leftmost without
	 * backtracking, and what follows "$" is ignored. */
	assert_false(M("a*b$", "abxb"));
	assert_true(M("a*b$", "axb"));
	assert_true(M("^foo$bar", "foo"));
	assert_false(M("^foo$bar", "foobar"));
	/* ^ after * is an ordinary character. */
	assert_true(M("a*^b", "xa^b"));
	assert_false(M("a*^b", "ab"));
}

static void
match_by_function(void **state)
{
	(void)state;
	uintptr_t pcs[2] = {0x10, leaky_helper()};
	char err[256];

	assert_int_equal(da_supp_match(pcs, 2), -1); /* none loaded */
	assert_int_equal(da_supp_add("leak:no_such_function\n"
	                             "leak:^leaky_h*er$\n"
	                             "leak:leaky\n",
	                             "t", err, sizeof(err)),
	                 0);
	assert_int_equal(da_supp_count(), 3);
	/* The first suppression (in the order added) that matches. */
	assert_int_equal(da_supp_match(pcs, 2), 1);
	assert_int_equal(da_supp_match(pcs, 1), -1); /* frame 0 alone: no */
	assert_int_equal(da_supp_match(pcs, 0), -1);
}

static void
match_by_file(void **state)
{
	(void)state;
	uintptr_t pc = leaky_helper();
	struct da_sym s;
	char err[256];

	assert_int_equal(da_sym_resolve(pc, &s), 1);
	if (s.file == NULL) {
		print_message("no DWARF lines (libdw missing): skipped\n");
		return;
	}
	assert_int_equal(
	        da_supp_add("leak:test_suppress.c$", "t", err, sizeof(err)), 0);
	assert_int_equal(da_supp_match(&pc, 1), 0);
	da_supp_clear();
	assert_int_equal(
	        da_supp_add("leak:no_such_file.c", "t", err, sizeof(err)), 0);
	assert_int_equal(da_supp_match(&pc, 1), -1);
}

static void
match_by_module(void **state)
{
	(void)state;
	char exe[4096], pat[4200], err[256];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	uintptr_t q = (uintptr_t)dlsym(RTLD_DEFAULT, "qsort") + 1;
	uintptr_t pc = leaky_helper();

	/* The program, by basename with both anchors. */
	snprintf(pat, sizeof(pat), "leak:^%s$", strrchr(exe, '/') + 1);
	assert_int_equal(da_supp_add(pat, "t", err, sizeof(err)), 0);
	assert_int_equal(da_supp_match(&pc, 1), 0);
	assert_int_equal(da_supp_match(&q, 1), -1);
	da_supp_clear();

	/* libc, by basename, and by path. */
	assert_int_equal(da_supp_add("leak:^libc.so.6$", "t", err, sizeof(err)),
	                 0);
	assert_int_equal(da_supp_match(&q, 1), 0);
	assert_int_equal(da_supp_match(&pc, 1), -1);
	da_supp_clear();
	assert_int_equal(
	        da_supp_add("leak:^/*/libc.so.6$", "t", err, sizeof(err)), 0);
	assert_int_equal(da_supp_match(&q, 1), 0);
}

static void
lsan_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test_suppress.XXXXXX", err[256];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char text[] = "# Suppressions shared with ASan.\n"
	                           "\n"
	                           "leak:libfontconfig\n"
	                           "   # indented comment\n"
	                           "interceptor_via_fun:bad_strlen_user\n"
	                           "\tleak:^make_list$  \r\n"
	                           "interceptor_via_lib:libfoo.so\n"
	                           "odr_violation:^g_ptr$\n"
	                           "leak:src/cache.c";
	assert_int_equal(write(fd, text, sizeof(text) - 1),
	                 (ssize_t)sizeof(text) - 1);
	close(fd);

	assert_int_equal(da_supp_load(path, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(da_supp_count(), 3);
	assert_string_equal(da_supp_pattern(0), "libfontconfig");
	assert_string_equal(da_supp_pattern(1), "^make_list$");
	assert_string_equal(da_supp_pattern(2), "src/cache.c");
	assert_null(da_supp_pattern(3));

	/* More text appends after what is there. */
	assert_int_equal(
	        da_supp_add("leak:extra", "defaults", err, sizeof(err)), 0);
	assert_int_equal(da_supp_count(), 4);
	assert_string_equal(da_supp_pattern(3), "extra");
}

static void
malformed_line(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(da_supp_add("leak:kept", "a.supp", err, sizeof(err)),
	                 0);
	assert_int_equal(da_supp_add("leak:one\n"
	                             "# comment\n"
	                             "\n"
	                             "  make_list  \n"
	                             "leak:two\n",
	                             "dbgalloc.supp", err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "dbgalloc.supp:4: unknown suppression "
	                         "\"make_list\" (expected TYPE:PATTERN, as "
	                         "leak:FUNCTION)");
	/* Nothing of the bad text was added. */
	assert_int_equal(da_supp_count(), 1);
	assert_string_equal(da_supp_pattern(0), "kept");

	/* A type must be a word: no blanks, not empty. */
	assert_int_equal(da_supp_add("leak foo:bar", "x", err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "x:1: unknown suppression \"leak foo:bar\" "
	                         "(expected TYPE:PATTERN, as leak:FUNCTION)");
	assert_int_equal(da_supp_add(":foo", "x", err, sizeof(err)), -1);
	assert_int_equal(da_supp_add("leak", "x", err, sizeof(err)), -1);
	assert_int_equal(da_supp_count(), 1);
	/* A short buffer gets a truncated message, still NUL-terminated. */
	char small[8];
	assert_int_equal(da_supp_add("oops", "x", small, sizeof(small)), -1);
	assert_string_equal(small, "x:1: un");
}

static void
missing_file(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(
	        da_supp_load("/nonexistent-dbgalloc/x.supp", err, sizeof(err)),
	        -1);
	assert_string_equal(err, "/nonexistent-dbgalloc/x.supp: cannot read "
	                         "suppressions file: No such file or "
	                         "directory");
	assert_int_equal(da_supp_load("/", err, sizeof(err)), -1);
	assert_string_equal(err, "/: cannot read suppressions file: Is a "
	                         "directory");
	assert_int_equal(da_supp_count(), 0);
}

static void
hit_counts(void **state)
{
	(void)state;
	char err[256];
	uintptr_t pc = leaky_helper();
	assert_int_equal(da_supp_add("leak:zzz_none\nleak:leaky_helper", "t",
	                             err, sizeof(err)),
	                 0);
	int i = da_supp_match(&pc, 1);
	assert_int_equal(i, 1);
	da_supp_hit(i, 100);
	da_supp_hit(i, 28);
	da_supp_hit(-1, 5);
	da_supp_hit(7, 5);
	assert_int_equal(da_supp_hits(0), 0);
	assert_int_equal(da_supp_hit_bytes(0), 0);
	assert_int_equal(da_supp_hits(1), 2);
	assert_int_equal(da_supp_hit_bytes(1), 128);
	assert_int_equal(da_supp_hits(9), 0);
	da_supp_clear();
	assert_int_equal(da_supp_count(), 0);
	assert_int_equal(da_supp_match(&pc, 1), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(template_match, teardown),
	        cmocka_unit_test_teardown(match_by_function, teardown),
	        cmocka_unit_test_teardown(match_by_file, teardown),
	        cmocka_unit_test_teardown(match_by_module, teardown),
	        cmocka_unit_test_teardown(lsan_file, teardown),
	        cmocka_unit_test_teardown(malformed_line, teardown),
	        cmocka_unit_test_teardown(missing_file, teardown),
	        cmocka_unit_test_teardown(hit_counts, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
