/*
 * Unit tests of oom-sweep's log reader (tools/sweeplog.c): the injected
 * failure's headline and first frame in each shape dbgalloc writes it, the
 * count line at exit, the leak summary of the report at exit only, and the
 * one-line site the table shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/sweeplog.h"

static const char headline[] = "dbgalloc: injected failure of allocation "
                               "57: malloc() of 24 bytes, from:";

/* A fresh log fed the lines of lines[], up to a NULL. */
static void
feed(struct da_sweeplog *log, const char *const *lines)
{
	da_sweeplog_init(log);
	for (; *lines != NULL; lines++)
		da_sweeplog_line(log, *lines);
}

static void
site_of(const char *frame, int full, char *buf, size_t size)
{
	const char *lines[] = {headline, frame, NULL};
	struct da_sweeplog log;
	feed(&log, lines);
	da_sweeplog_site(&log, full, buf, size);
}

static void
failure_full_frame(void **state)
{
	(void)state;
	const char *lines[] = {
	        headline,
	        "    #0 0x55d0c2a1b19e in parse_line /src/prog.c:42 "
	        "(prog+0x119e)",
	        "    #1 0x55d0c2a1b1ff in main /src/prog.c:60 (prog+0x11ff)",
	        NULL};
	struct da_sweeplog log;
	feed(&log, lines);
	assert_true(log.failed);
	assert_int_equal(log.fail_seq, 57);
	assert_string_equal(log.fail_call, "malloc()");
	assert_string_equal(log.func, "parse_line");
	assert_string_equal(log.file, "/src/prog.c:42");
	assert_string_equal(log.module, "prog+0x119e");
	assert_false(log.counted);
	assert_false(log.leaked);
	char buf[256];
	da_sweeplog_site(&log, 0, buf, sizeof(buf));
	assert_string_equal(buf, "malloc() in parse_line at prog.c:42");
	da_sweeplog_site(&log, 1, buf, sizeof(buf));
	assert_string_equal(buf, "malloc() in parse_line at /src/prog.c:42");
}

/* Frames without a file, a function or the "in". */
static void
failure_partial_frames(void **state)
{
	(void)state;
	char buf[256];
	site_of("    #0 0x55d0c2a1b19e in parse_line (prog+0x119e)", 0, buf,
	        sizeof(buf));
	assert_string_equal(buf, "malloc() in parse_line (prog+0x119e)");
	site_of("    #0 0x7f0c2a1b1234 (libfoo.so+0x1234)", 0, buf,
	        sizeof(buf));
	assert_string_equal(buf, "malloc() at libfoo.so+0x1234");
	site_of("    #0 0x7f0c2a1b1234 in ?? (libfoo.so+0x1234)", 0, buf,
	        sizeof(buf));
	assert_string_equal(buf, "malloc() at libfoo.so+0x1234");
	site_of("    #0 0x7f0c2a1b1234 in ?? (<unknown module>)", 0, buf,
	        sizeof(buf));
	assert_string_equal(buf, "malloc() at <unknown module>");
	site_of("    #0 0x55d0c2a1b19e parse_line /src/prog.c:42", 0, buf,
	        sizeof(buf));
	assert_string_equal(buf, "malloc() in parse_line at prog.c:42");
	site_of("    #0 0x55d0c2a1b19e in parse_line", 0, buf, sizeof(buf));
	assert_string_equal(buf, "malloc() in parse_line");
}

/* A C++ name holds spaces, parentheses and colons, but no ":LINE" end. */
static void
failure_cxx_frame(void **state)
{
	(void)state;
	const char *lines[] = {
	        "dbgalloc: injected failure of allocation 3: operator new() "
	        "of 40 bytes, from:",
	        "    #0 0x55d0c2a1b19e in std::vector<int, "
	        "std::allocator<int> >::push_back(int const&) "
	        "/usr/include/c++/12/bits/stl_vector.h:1287 (prog+0x219e)",
	        NULL};
	struct da_sweeplog log;
	feed(&log, lines);
	assert_string_equal(log.fail_call, "operator new()");
	assert_string_equal(log.func, "std::vector<int, std::allocator<int> "
	                              ">::push_back(int const&)");
	assert_string_equal(log.file,
	                    "/usr/include/c++/12/bits/stl_vector.h:1287");
	assert_string_equal(log.module, "prog+0x219e");
	char buf[256];
	site_of("    #0 0x55d0c2a1b19e in ns::f(int) const (prog+0x219e)", 0,
	        buf, sizeof(buf));
	assert_string_equal(buf, "malloc() in ns::f(int) const (prog+0x219e)");
}

/* Only the first failure is the run's; a frame counts only right after
 * its headline. */
static void
failure_first_only(void **state)
{
	(void)state;
	const char *lines[] = {
	        "    #0 0x1000 in stray /x.c:1 (prog+0x1000)",
	        "dbgalloc: injected failure of allocation 5: calloc() of 8 "
	        "bytes, from:",
	        "    #0 0x2000 in first /a.c:10 (prog+0x2000)",
	        "dbgalloc: injected failure of allocation 9: malloc() of 1 "
	        "byte, from:",
	        "    #0 0x3000 in second /b.c:20 (prog+0x3000)",
	        NULL};
	struct da_sweeplog log;
	feed(&log, lines);
	assert_int_equal(log.fail_seq, 5);
	assert_string_equal(log.fail_call, "calloc()");
	assert_string_equal(log.func, "first");
	assert_string_equal(log.file, "/a.c:10");
	/* A headline with no frame under it: a site without a place. */
	const char *bare[] = {headline, "dbgalloc: something else", NULL};
	feed(&log, bare);
	assert_true(log.failed);
	assert_string_equal(log.func, "");
	char buf[64];
	da_sweeplog_site(&log, 0, buf, sizeof(buf));
	assert_string_equal(buf, "malloc()");
	/* No failure, no site. */
	const char *none[] = {"hello", NULL};
	feed(&log, none);
	assert_false(log.failed);
	da_sweeplog_site(&log, 0, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void
count_line(void **state)
{
	(void)state;
	struct da_sweeplog log;
	const char *many[] = {
	        "dbgalloc: 1234 allocations numbered, 1 failure injected",
	        NULL};
	feed(&log, many);
	assert_true(log.counted);
	assert_int_equal(log.numbered, 1234);
	assert_int_equal(log.injected, 1);
	const char *one[] = {
	        "dbgalloc: 1 allocation numbered, 0 failures injected", NULL};
	feed(&log, one);
	assert_true(log.counted);
	assert_int_equal(log.numbered, 1);
	assert_int_equal(log.injected, 0);
	/* Plain decimal only; anything else is not the count line. */
	const char *odd[] = {
	        "dbgalloc: 1,234 allocations numbered, 1 failure injected",
	        "dbgalloc: allocations numbered, 1 failure injected",
	        "dbgalloc: 99999999999999999999999 allocations numbered, 1 "
	        "failure injected",
	        NULL};
	feed(&log, odd);
	assert_false(log.counted);
}

static void
leak_summary(void **state)
{
	(void)state;
	struct da_sweeplog log;
	const char *leak[] = {
	        "dbgalloc: leak report at exit (pid 4242)",
	        "",
	        "Leak of 1,234 bytes in 5 blocks (definitely lost) allocated "
	        "from:",
	        "    #0 0x1000 in f /x.c:1 (prog+0x1000)",
	        "SUMMARY: dbgalloc: 1,234 bytes leaked in 5 blocks "
	        "(definitely lost: 1,234 bytes in 5 blocks)",
	        NULL};
	feed(&log, leak);
	assert_true(log.leaked);
	assert_int_equal(log.leak_bytes, 1234);
	assert_int_equal(log.leak_blocks, 5);
	const char *one[] = {
	        "dbgalloc: leak report at exit (pid 4242)",
	        "SUMMARY: dbgalloc: 1 byte leaked in 1 block (definitely "
	        "lost: 1 byte in 1 block)",
	        NULL};
	feed(&log, one);
	assert_true(log.leaked);
	assert_int_equal(log.leak_bytes, 1);
	assert_int_equal(log.leak_blocks, 1);
	/* All suppressed: a summary, but no leak. */
	const char *suppressed[] = {
	        "dbgalloc: leak report at exit (pid 4242)",
	        "SUMMARY: dbgalloc: 0 bytes leaked in 0 blocks; suppressed: "
	        "100 bytes in 1 block",
	        NULL};
	feed(&log, suppressed);
	assert_false(log.leaked);
	/* A report the program asked for ("now") is not the one at exit;
	 * nor is a summary without its headline. */
	const char *now[] = {"dbgalloc: leak report now (pid 4242)",
	                     "SUMMARY: dbgalloc: 100 bytes leaked in 1 block",
	                     "SUMMARY: dbgalloc: 100 bytes leaked in 1 block",
	                     NULL};
	feed(&log, now);
	assert_false(log.leaked);
	/* Both in one file: only the one at exit counts. */
	const char *both[] = {
	        "dbgalloc: leak report now (pid 4242)",
	        "SUMMARY: dbgalloc: 100 bytes leaked in 1 block",
	        "dbgalloc: leak report at exit (pid 4242)",
	        "SUMMARY: dbgalloc: 2,048 bytes leaked in 2 blocks", NULL};
	feed(&log, both);
	assert_true(log.leaked);
	assert_int_equal(log.leak_bytes, 2048);
	assert_int_equal(log.leak_blocks, 2);
}

/* Long fields are cut, never overrun. */
static void
long_fields(void **state)
{
	(void)state;
	char frame[2048] = "    #0 0x1000 in ";
	memset(frame + strlen(frame), 'f', 1000);
	strcat(frame, " /x.c:1 (prog+0x1000)");
	char buf[64];
	site_of(frame, 0, buf, sizeof(buf));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_memory_equal(buf, "malloc() in ffff", 16);
}

static void
read_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test_sweeplog.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "%s\n", headline);
	fprintf(f, "    #0 0x1000 in parse_line /src/prog.c:42 "
	           "(prog+0x1000)\n");
	fprintf(f, "dbgalloc: 80 allocations numbered, 1 failure injected\n");
	fprintf(f, "dbgalloc: leak report at exit (pid 1)\n");
	/* The last line may lack its newline. */
	fprintf(f, "SUMMARY: dbgalloc: 24 bytes leaked in 1 block");
	fclose(f);
	struct da_sweeplog log;
	da_sweeplog_init(&log);
	assert_int_equal(da_sweeplog_read(&log, path), 0);
	unlink(path);
	assert_string_equal(log.func, "parse_line");
	assert_int_equal(log.numbered, 80);
	assert_true(log.leaked);
	assert_int_equal(log.leak_bytes, 24);
	da_sweeplog_init(&log);
	assert_int_equal(da_sweeplog_read(&log, path), ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(failure_full_frame),
	        cmocka_unit_test(failure_partial_frames),
	        cmocka_unit_test(failure_cxx_frame),
	        cmocka_unit_test(failure_first_only),
	        cmocka_unit_test(count_line),
	        cmocka_unit_test(leak_summary),
	        cmocka_unit_test(long_fields),
	        cmocka_unit_test(read_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
