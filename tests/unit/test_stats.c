/*
 * Unit tests of dbgalloc-stats's quantities (tools/stats-units.c: sizes
 * read from options, sizes, counts and deltas written) and of its output
 * document (tools/stats-out.c): the same tree written as text (fields
 * aligned, tables with a header, records, frames cut to a depth, control
 * bytes escaped) and as JSON (exact numbers, null, escapes, U+FFFD for
 * bytes that are not UTF-8, keyless objects merged into their parent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/stats-out.h"
#include "tools/stats-units.h"

#define NONE UINT64_MAX

static void
sizes_read(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
	        {"0", 0},
	        {"4096", 4096},
	        {"4096B", 4096},
	        {"1k", 1024},
	        {"1K", 1024},
	        {"64KiB", 65536},
	        {"64kib", 65536},
	        {"2KB", 2048},
	        {"100M", 100ull << 20},
	        {"1.5G", 3ull << 29},
	        {"0.5K", 512},
	        {"1.0009K", 1024},
	        {"3T", 3ull << 40},
	        {"16777215T", 16777215ull << 40},
	        {"18446744073709551614", 18446744073709551614ull},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 7;
		assert_int_equal(st_parse_size(good[i].s, &v), 0);
		assert_true(v == good[i].v);
	}
	static const char *const bad[] = {
	        "",
	        "K",
	        "-1",
	        "+1",
	        "1x",
	        "1 K",
	        " 1",
	        "1.",
	        ".5",
	        "1e3",
	        "1KK",
	        "1P",
	        "1iB",
	        "1Ki",
	        "1KiBB",
	        "16777216T",
	        "18446744073709551616",
	        "0x10",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 7;
		assert_int_equal(st_parse_size(bad[i], &v), -1);
		assert_int_equal(v, 7);
	}
	uint64_t v;
	assert_int_equal(st_parse_count("123", &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(st_parse_count("1.5", &v), -1);
	assert_int_equal(st_parse_count("1k", &v), -1);
	double p;
	assert_int_equal(st_parse_pct("5", &p), 0);
	assert_true(p == 5.0);
	assert_int_equal(st_parse_pct("2.5%", &p), 0);
	assert_true(p == 2.5);
	assert_int_equal(st_parse_pct("%", &p), -1);
	assert_int_equal(st_parse_pct("5%%", &p), -1);
}

static void
numbers_written(void **state)
{
	(void)state;
	char b[ST_NUM_MAX];
	assert_string_equal(st_fmt_size(0, b), "0 B");
	assert_string_equal(st_fmt_size(1023, b), "1023 B");
	assert_string_equal(st_fmt_size(1024, b), "1.00 KiB");
	assert_string_equal(st_fmt_size(1536, b), "1.50 KiB");
	/* Never "1024.00 KiB": the next unit. */
	assert_string_equal(st_fmt_size(1048575, b), "1.00 MiB");
	assert_string_equal(st_fmt_size(1048576 + 524288, b), "1.50 MiB");
	assert_string_equal(st_fmt_size(UINT64_MAX, b), "16.00 EiB");
	assert_string_equal(st_fmt_delta(0, b), "0 B");
	assert_string_equal(st_fmt_delta(-24, b), "-24 B");
	assert_string_equal(st_fmt_delta(65536, b), "+64.00 KiB");
	assert_string_equal(st_fmt_delta(INT64_MIN, b), "-8.00 EiB");
	assert_string_equal(st_fmt_count(0, b), "0");
	assert_string_equal(st_fmt_count(999, b), "999");
	assert_string_equal(st_fmt_count(1000, b), "1,000");
	assert_string_equal(st_fmt_count(1234567, b), "1,234,567");
	assert_string_equal(st_fmt_count(UINT64_MAX, b),
	                    "18,446,744,073,709,551,615");
	assert_string_equal(st_fmt_cdelta(-1234, b), "-1,234");
	assert_string_equal(st_fmt_cdelta(7, b), "+7");
	assert_string_equal(st_fmt_pct(12.345, b), "12.3 %");
	assert_string_equal(st_fmt_ns(80, b), "80 ns");
	assert_string_equal(st_fmt_ns(12000, b), "12.00 us");
	assert_string_equal(st_fmt_ns(250000000, b), "250.00 ms");
	assert_string_equal(st_fmt_ns(1250000000, b), "1.25 s");
	assert_int_equal(st_add(UINT64_MAX - 2, 5), UINT64_MAX - 1);
	assert_int_equal(st_add(2, 3), 5);
	assert_int_equal(st_sub(5, 3), 2);
	assert_int_equal(st_sub(3, 5), -2);
	assert_true(st_sub(UINT64_MAX, 0) == INT64_MAX);
	assert_true(st_sub(0, UINT64_MAX) == -INT64_MAX);
}

/* The document written in a form, as a string to free. */
static char *
written(struct o_doc *doc, enum o_format fmt)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(o_write(doc, f, fmt), 0);
	fclose(f);
	return buf;
}

/* A small document of each kind of node. */
static struct o_doc *
sample(void)
{
	struct o_doc *doc = o_new();
	struct o_node *root = o_root(doc);
	o_flags(o_str(root, "command", NULL, "test"), O_JSON_ONLY);
	struct o_node *f = o_obj(root, NULL, "title line", 2);
	o_suffix(o_size(f, "live_bytes", "live", 1536), " in 3 blocks");
	o_flags(o_count(f, "live_blocks", NULL, 3), O_JSON_ONLY);
	o_none_text(o_size(f, "limit", "limit", NONE), "none");
	o_flags(o_size(f, "rss", "RSS", NONE), O_HIDE_NONE);
	o_str(f, "name", "a longer label", "tab\there \"q\" \\ \xff\xc3\xa9");
	struct o_node *t = o_table(f, "rows", "a table:", 2);
	for (int i = 0; i < 2; i++) {
		struct o_node *r = o_row(t);
		o_size(r, "bytes", "size", i ? 24 : 1048576);
		o_delta(r, "delta", "delta", i ? -24 : 0);
		o_pct(r, "pct", "%", i ? NAN : 50.0);
		o_str(r, "site", "site", i ? "b" : "a.c:1");
		struct o_node *fr = o_frames(r, "frames", O_FRAMES_SHORT, 1, 1);
		for (int k = 0; k < 3; k++) {
			char text[16];
			struct o_frame_info info = {
			        .pc = 0x1000u + (unsigned)k,
			        .function = k ? "f" : NULL,
			        .line = (unsigned)k,
			        .module = "/m",
			        .offset = (uint64_t)k,
			};
			snprintf(text, sizeof(text), "frame%d", k);
			o_frame(fr, text, &info);
		}
	}
	struct o_node *recs = o_records(root, "recs", 1);
	struct o_node *rec = o_record(recs, "Head of a record:");
	o_count(rec, "n", NULL, 5);
	o_line(rec, "a detail line");
	struct o_node *fr = o_frames(rec, "frames", O_FRAMES_CHECK, 1, 0);
	struct o_frame_info info = {.pc = 1, .offset = NONE};
	o_frame(fr, "only", &info);
	o_frame(fr, "cut", &info);
	o_line(root, "ctl\x01line");
	return doc;
}

static void
text_form(void **state)
{
	(void)state;
	struct o_doc *doc = sample();
	char *s = written(doc, O_TEXT);
	assert_string_equal(
	        s, "title line\n"
	           "  live            1.50 KiB in 3 blocks\n"
	           "  limit           none\n"
	           "  a longer label  tab%09here \"q\" \\ \xff\xc3\xa9\n"
	           "  a table:\n"
	           "        size  delta       %  site\n"
	           "    1.00 MiB    0 B  50.0 %  a.c:1\n"
	           "                             frame1\n"
	           "        24 B  -24 B       -  b\n"
	           "                             frame1\n"
	           "Head of a record:\n"
	           "  a detail line\n"
	           "    only\n"
	           "    ...\n"
	           "\n"
	           "ctl%01line\n");
	free(s);
	o_free(doc);
}

static void
json_form(void **state)
{
	(void)state;
	struct o_doc *doc = sample();
	char *s = written(doc, O_JSON);
	/* The frames of the first row, then the rest. */
	const char *want_start =
	        "{\n"
	        "  \"command\": \"test\",\n"
	        "  \"live_bytes\": 1536,\n"
	        "  \"live_blocks\": 3,\n"
	        "  \"limit\": null,\n"
	        "  \"rss\": null,\n"
	        "  \"name\": \"tab\\there \\\"q\\\" \\\\ \\ufffd\xc3\xa9\",\n"
	        "  \"rows\": [\n"
	        "    {\n"
	        "      \"bytes\": 1048576,\n"
	        "      \"delta\": 0,\n"
	        "      \"pct\": 50.00,\n"
	        "      \"site\": \"a.c:1\",\n"
	        "      \"frames\": [\n"
	        "        {\n"
	        "          \"pc\": \"0x1000\",\n"
	        "          \"function\": null,\n"
	        "          \"file\": null,\n"
	        "          \"line\": null,\n"
	        "          \"module\": \"/m\",\n"
	        "          \"offset\": \"0x0\",\n"
	        "          \"inlined\": false\n"
	        "        },\n";
	assert_memory_equal(s, want_start, strlen(want_start));
	assert_non_null(strstr(s, "      \"delta\": -24,\n"
	                          "      \"pct\": null,\n"));
	assert_non_null(strstr(s, "\"function\": \"f\",\n"
	                          "          \"file\": null,\n"
	                          "          \"line\": 2,\n"));
	assert_non_null(strstr(s, "  \"recs\": [\n"
	                          "    {\n"
	                          "      \"n\": 5,\n"
	                          "      \"frames\": [\n"));
	assert_non_null(strstr(s, "\"offset\": null,"));
	/* Text lines are not in the JSON. */
	assert_null(strstr(s, "detail"));
	assert_null(strstr(s, "ctl"));
	assert_null(strstr(s, "title"));
	assert_int_equal(s[strlen(s) - 2], '}');
	free(s);
	o_free(doc);
}

static void
interned(void **state)
{
	(void)state;
	struct o_doc *doc = o_new();
	char a[] = "/lib/libc.so.6", b[] = "/lib/libc.so.6";
	const char *x = o_intern(doc, a);
	assert_ptr_equal(x, o_intern(doc, b));
	assert_ptr_not_equal(x, a);
	assert_null(o_intern(doc, NULL));
	/* Many strings: the table grows and finds each. */
	const char *kept[2000];
	for (int i = 0; i < 2000; i++) {
		char s[32];
		snprintf(s, sizeof(s), "s%d", i);
		kept[i] = o_intern(doc, s);
	}
	for (int i = 0; i < 2000; i++) {
		char s[32];
		snprintf(s, sizeof(s), "s%d", i);
		assert_ptr_equal(o_intern(doc, s), kept[i]);
	}
	assert_ptr_equal(o_intern(doc, "/lib/libc.so.6"), x);
	o_free(doc);
}

/* A stream that fails: an error, not a silent loss. */
static void
write_error(void **state)
{
	(void)state;
	struct o_doc *doc = sample();
	FILE *f = fopen("/dev/full", "w");
	if (f == NULL)
		skip();
	assert_int_not_equal(o_write(doc, f, O_TEXT), 0);
	fclose(f);
	o_free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(sizes_read), cmocka_unit_test(numbers_written),
	        cmocka_unit_test(text_form),  cmocka_unit_test(json_form),
	        cmocka_unit_test(interned),   cmocka_unit_test(write_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
