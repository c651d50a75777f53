/*
 * Unit tests of the dump reader (tools/dumpread.c) and its CRC-32C: the
 * golden dumps of tests/dumps (a good one of minor version 0 and one of
 * minor 1, the others each spoilt in one way, with the exact message), then
 * dumps made here by dumpgen for every number, string, column and ordering
 * rule and minor 1's histograms and verdicts, and a large dump whose
 * reading is timed. Files are read by path, the made ones from memory
 * under the name "gen.dump", and a few both ways.
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
#include <time.h>
#include <unistd.h>

#include "audit/crc32c.h"
#include "tools/dump.h"
#include "tests/unit/dumpgen.h"

static char err[512];
static char path[4096];

/* tests/dumps/name in the source tree. */
static const char *
golden(const char *name)
{
	const char *top = getenv("DA_TEST_TOP_SRCDIR");
	snprintf(path, sizeof(path), "%s/tests/dumps/%s", top ? top : ".",
	         name);
	return path;
}

/* Reading the golden dump name fails with "PATH: want". */
static void
golden_fails(const char *name, int code, const char *want)
{
	struct da_dump d;
	char full[4200];
	memset(err, 'x', sizeof(err));
	assert_int_equal(da_dump_read(golden(name), &d, err, sizeof(err)),
	                 code);
	snprintf(full, sizeof(full), "%s: %s", path, want);
	assert_string_equal(err, full);
	assert_int_equal(d.nblocks + d.nstacks + d.nheaders, 0);
	assert_null(d.blocks);
	da_dump_free(&d);
}

/* The text of g (sealed or not, as the test made it) read from memory. */
static int
read_gen(const struct dumpgen *g, struct da_dump *d)
{
	memset(err, 'x', sizeof(err));
	return da_dump_read_mem(g->buf, g->len, "gen.dump", d, err,
	                        sizeof(err));
}

/* The good body, then extra lines, sealed, fails with "gen.dump: want". */
static void
extra_fails(const char *extra, const char *want)
{
	struct dumpgen g;
	struct da_dump d;
	char full[600];
	dumpgen_init(&g);
	dumpgen_sample(&g, 6);
	dumpgen_add(&g, "%s", extra);
	dumpgen_seal(&g);
	assert_int_equal(read_gen(&g, &d), EINVAL);
	snprintf(full, sizeof(full), "gen.dump: %s", want);
	assert_string_equal(err, full);
	da_dump_free(&d);
	dumpgen_free(&g);
}

/* The good body plus extra, sealed, reads; d must be freed. */
static void
extra_reads(const char *extra, struct da_dump *d)
{
	struct dumpgen g;
	dumpgen_init(&g);
	dumpgen_sample(&g, 6);
	dumpgen_add(&g, "%s", extra);
	dumpgen_seal(&g);
	if (read_gen(&g, d) != 0)
		fail_msg("%s", err);
	dumpgen_free(&g);
}

/* Whole text, sealed or not as given, fails with "gen.dump: want". */
static void
text_fails(const char *text, size_t n, const char *want)
{
	struct da_dump d;
	char full[600];
	memset(err, 'x', sizeof(err));
	assert_int_equal(
	        da_dump_read_mem(text, n, "gen.dump", &d, err, sizeof(err)),
	        EINVAL);
	snprintf(full, sizeof(full), "gen.dump: %s", want);
	assert_string_equal(err, full);
	da_dump_free(&d);
}

/* A number column of A written as num fails, or reads as want. */
static void
a_size(const char *num, const char *fails, uint64_t want)
{
	char line[128];
	snprintf(line, sizeof(line), "A 0x10 %s 7 1 0 -\n", num);
	if (fails != NULL) {
		extra_fails(line, fails);
		return;
	}
	struct da_dump d;
	extra_reads(line, &d);
	assert_int_equal(d.nblocks, 7);
	assert_true(d.blocks[6].size == want);
	da_dump_free(&d);
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* good.dump: every record, every field. */
static void
check_good(const struct da_dump *d)
{
	assert_int_equal(d->major, 1);
	assert_int_equal(d->minor, 0);
	assert_int_equal(d->lines, 51);
	assert_int_equal(d->nheaders, 12);
	assert_string_equal(da_dump_header(d, "producer"), "dbgalloc 0.1.0");
	assert_string_equal(da_dump_header(d, "exe"), "/usr/local/bin/img srv");
	assert_string_equal(da_dump_header(d, "cmdline"),
	                    "img%20srv --port 8080");
	assert_string_equal(da_dump_header(d, "reason"), "signal:USR2");
	assert_string_equal(da_dump_header(d, "options"),
	                    "DBGALLOC_LIMIT=100M DBGALLOC_LEAKS=1");
	assert_null(da_dump_header(d, "host"));

	assert_int_equal(d->ncounters, 12);
	assert_int_equal(da_dump_counter(d, "live_bytes"), 1048600);
	assert_int_equal(da_dump_counter(d, "generation"), 12);
	assert_true(da_dump_counter(d, "limit") == DA_DUMP_NONE);
	assert_true(da_dump_counter(d, "nonesuch") == DA_DUMP_NONE);

	assert_int_equal(d->nmodules, 2);
	const struct da_dump_module *m = da_dump_module(d, 1);
	assert_non_null(m);
	assert_int_equal(m->bias, 0x55ecae0a5000);
	assert_int_equal(m->hi, 0x55ecae0a9048);
	assert_string_equal(m->build_id,
	                    "378a63ace770e0c38c49fa38205a3c376766b2bf");
	assert_string_equal(m->path, "/usr/local/bin/img srv");
	m = da_dump_module(d, 2);
	assert_non_null(m);
	assert_null(m->build_id);
	assert_string_equal(m->path, "/lib/x86_64-linux-gnu/libc.so.6");
	assert_null(da_dump_module(d, 3));

	assert_int_equal(d->nsegments, 3);
	assert_int_equal(d->segments[1].module, 1);
	assert_int_equal(d->segments[1].vaddr, 0x1000);
	assert_int_equal(d->segments[1].memsz, 0x2c1);
	assert_int_equal(d->segments[1].offset, 0x1000);
	assert_string_equal(d->segments[1].perm, "r-x");
	assert_string_equal(d->segments[0].perm, "r--");

	assert_int_equal(d->nstacks, 2);
	const struct da_dump_stack *s = da_dump_stack(d, 29027);
	assert_non_null(s);
	assert_int_equal(s->depth, 3);
	assert_int_equal(s->pcs[0], 0x55ecae0a6234);
	assert_int_equal(s->pcs[2], 0x7f5ba285224a);
	s = da_dump_stack(d, 5);
	assert_non_null(s);
	assert_int_equal(s->depth, 1);
	assert_int_equal(s->pcs[0], 0x55ecae0a6300);
	assert_null(da_dump_stack(d, 6));

	assert_int_equal(d->nsites, 2);
	assert_int_equal(d->sites[1].stack, 5);
	assert_int_equal(d->sites[1].live_blocks, 2);
	assert_int_equal(d->sites[1].live_bytes, 24);
	assert_int_equal(d->sites[1].allocs, 11);
	assert_int_equal(d->sites[1].alloc_bytes, 2097152);
	assert_int_equal(d->sites[1].frees, 9);
	assert_int_equal(d->sites[1].free_bytes, 2097128);
	assert_int_equal(d->sites[1].peak_live_bytes, 1048600);
	assert_int_equal(d->sites[1].temporary, 8);

	assert_int_equal(d->nblocks, 3);
	assert_int_equal(d->blocks[0].addr, 0x7f5b9c000010);
	assert_int_equal(d->blocks[0].size, 1048576);
	assert_int_equal(d->blocks[0].stack, 29027);
	assert_int_equal(d->blocks[0].gen, 10);
	assert_int_equal(d->blocks[0].epoch, 1);
	assert_int_equal(d->blocks[0].flags, 0);
	assert_int_equal(d->blocks[1].flags, DA_DUMP_NEW | DA_DUMP_NEW_ARRAY);
	assert_true(d->blocks[2].stack == DA_DUMP_NONE);
	assert_int_equal(d->blocks[2].flags, DA_DUMP_IGNORED | DA_DUMP_ALIGNED);

	assert_int_equal(d->nepochs, 2);
	assert_string_equal(d->epochs[0].name, "start");
	assert_true(d->epochs[0].mono_ns == DA_DUMP_NONE);
	assert_int_equal(d->epochs[1].first_gen, 5);
	assert_string_equal(d->epochs[1].name, "warm up");

	assert_int_equal(d->nsamples, 2);
	assert_int_equal(d->samples[1].mono_ns, 5000000000);
	assert_int_equal(d->samples[1].live_bytes, 1048600);
	assert_int_equal(d->samples[1].rss_bytes, 127205376);

	/* Minor 1's columns are missing from a minor-0 dump. */
	assert_int_equal(d->nclasses, 0);
	assert_null(d->classes);
	assert_int_equal(d->sites[0].nlife_allocs, 0);
	assert_null(d->sites[0].life_allocs);
	assert_int_equal(d->sites[1].nlife_us, 0);
	assert_null(d->sites[1].life_us);
	for (size_t i = 0; i < d->nblocks; i++) {
		assert_true(d->blocks[i].thread == DA_DUMP_NONE);
		assert_int_equal(d->blocks[i].leak, 0);
	}
	assert_true(d->epochs[1].allocs == DA_DUMP_NONE);
	assert_true(d->epochs[1].peak_bytes == DA_DUMP_NONE);
	assert_true(d->samples[0].gen == DA_DUMP_NONE);
	assert_null(d->samples[0].reason);
	assert_int_equal(d->nlife, 0);
}

/* good-minor1.dump: every record and column minor 1 adds. */
static void
good_minor1(void **state)
{
	(void)state;
	struct da_dump d;
	memset(err, 'x', sizeof(err));
	assert_int_equal(
	        da_dump_read(golden("good-minor1.dump"), &d, err, sizeof(err)),
	        0);
	assert_string_equal(err, "");
	assert_int_equal(d.minor, 1);
	assert_int_equal(d.lines, 45);
	assert_string_equal(da_dump_header(&d, "leak_scan"), "yes");
	assert_string_equal(da_dump_header(&d, "temporary_threshold"), "0");
	assert_int_equal(da_dump_counter(&d, "peak_epoch"), 2);
	assert_int_equal(da_dump_counter(&d, "free_bytes"), 11336);

	assert_int_equal(d.nclasses, 3);
	assert_int_equal(d.classes[0].block_size, 32);
	assert_int_equal(d.classes[0].slabs, 1);
	assert_int_equal(d.classes[0].slab_bytes, 65536);
	assert_int_equal(d.classes[0].live_blocks, 3);
	assert_int_equal(d.classes[0].live_bytes, 88);
	assert_int_equal(d.classes[0].allocs, 38);
	assert_int_equal(d.classes[0].frees, 35);
	assert_int_equal(d.classes[0].peak_live_blocks, 9);
	assert_true(d.classes[1].peak_live_blocks == DA_DUMP_NONE);
	assert_true(d.classes[2].block_size == DA_DUMP_NONE);
	assert_int_equal(d.classes[2].slab_bytes, 1052672);

	assert_int_equal(d.nsites, 2);
	assert_int_equal(d.sites[0].nlife_allocs, 0);
	assert_null(d.sites[0].life_allocs);
	assert_int_equal(d.sites[0].nlife_us, 0);
	const struct da_dump_site *x = &d.sites[1];
	assert_int_equal(x->temporary, 30);
	assert_int_equal(x->peak_live_bytes, 1424);
	assert_int_equal(x->nlife_allocs, 4);
	assert_int_equal(x->life_allocs[0], 30);
	assert_int_equal(x->life_allocs[1], 0);
	assert_int_equal(x->life_allocs[2], 4);
	assert_int_equal(x->life_allocs[3], 2);
	assert_int_equal(x->nlife_us, 12);
	assert_int_equal(x->life_us[0], 12);
	assert_int_equal(x->life_us[1], 20);
	assert_int_equal(x->life_us[10], 0);
	assert_int_equal(x->life_us[11], 4);
	assert_int_equal(d.nlife, 16);

	assert_int_equal(d.nblocks, 4);
	assert_true(d.blocks[0].thread == DA_DUMP_NONE);
	assert_int_equal(d.blocks[0].leak, DA_DUMP_LEAK_DEFINITE);
	assert_int_equal(d.blocks[1].thread, 1);
	assert_int_equal(d.blocks[1].leak, DA_DUMP_LEAK_INDIRECT);
	assert_int_equal(d.blocks[2].thread, 2);
	assert_int_equal(d.blocks[2].leak, DA_DUMP_LEAK_REACHABLE);
	assert_int_equal(d.blocks[2].flags, DA_DUMP_NEW);
	assert_int_equal(d.blocks[3].leak, 0);

	assert_int_equal(d.nepochs, 3);
	assert_int_equal(d.epochs[0].allocs, 0);
	assert_true(d.epochs[0].mono_ns == DA_DUMP_NONE);
	assert_int_equal(d.epochs[1].allocs, 10);
	assert_int_equal(d.epochs[1].alloc_bytes, 1000);
	assert_int_equal(d.epochs[1].frees, 8);
	assert_int_equal(d.epochs[1].free_bytes, 800);
	assert_int_equal(d.epochs[1].peak_bytes, 2000);
	assert_string_equal(d.epochs[2].name, "serve");
	assert_int_equal(d.epochs[2].peak_bytes, 1050000);

	assert_int_equal(d.nsamples, 3);
	assert_int_equal(d.samples[0].gen, 10);
	assert_string_equal(d.samples[0].reason, "mark");
	assert_string_equal(d.samples[1].reason, "step");
	assert_null(d.samples[2].reason);
	assert_int_equal(d.samples[2].gen, 40);
	da_dump_free(&d);
	assert_null(d.life);
	assert_null(d.classes);
}

static void
good_dump(void **state)
{
	(void)state;
	struct da_dump d;
	memset(err, 'x', sizeof(err));
	assert_int_equal(
	        da_dump_read(golden("good.dump"), &d, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	check_good(&d);
	da_dump_free(&d);
	/* Freed twice: the second finds it empty. */
	da_dump_free(&d);
	assert_null(d.blocks);
}

/* The same bytes from memory give the same model. */
static void
good_dump_from_memory(void **state)
{
	(void)state;
	static char buf[1 << 16];
	FILE *f = fopen(golden("good.dump"), "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct da_dump d;
	assert_int_equal(da_dump_read_mem(buf, n, "good", &d, err, sizeof(err)),
	                 0);
	check_good(&d);
	da_dump_free(&d);
}

static void
golden_errors(void **state)
{
	(void)state;
	golden_fails("truncated.dump", EINVAL, "truncated: no trailer");
	golden_fails("bad-checksum.dump", EINVAL, "checksum mismatch");
	golden_fails("major-version.dump", EINVAL,
	             "dump version 2 is not supported (this reader reads "
	             "version 1)");
	golden_fails("overlong-line.dump", EINVAL,
	             "line 13: line longer than 65536 bytes");
	golden_fails("before-fields.dump", EINVAL,
	             "line 42: record A before its #fields line");
	golden_fails("bad-number.dump", EINVAL,
	             "line 44: bad number in column size");
	golden_fails("empty.dump", EINVAL, "empty file");
	golden_fails("long-histogram.dump", EINVAL,
	             "line 32: more than 64 buckets in column life_allocs");
	golden_fails("bad-histogram.dump", EINVAL,
	             "line 32: bad number in column life_allocs");
	golden_fails("foreign.dump", EINVAL, "not a dbgalloc dump");
	golden_fails("nonesuch.dump", ENOENT, strerror(ENOENT));
}

/* An unknown record type, with columns or none, is skipped. */
static void
unknown_record(void **state)
{
	(void)state;
	struct da_dump d;
	assert_int_equal(da_dump_read(golden("unknown-record.dump"), &d, err,
	                              sizeof(err)),
	                 0);
	assert_int_equal(d.lines, 55);
	assert_int_equal(d.nsites, 2);
	assert_int_equal(d.nblocks, 3);
	assert_int_equal(d.blocks[2].addr, 0x55ecaf0002c0);
	da_dump_free(&d);
}

/* Columns by name: unknown ones skipped, known ones in any order. */
static void
unknown_columns(void **state)
{
	(void)state;
	struct da_dump d;
	assert_int_equal(da_dump_read(golden("unknown-columns.dump"), &d, err,
	                              sizeof(err)),
	                 0);
	assert_int_equal(d.nblocks, 3);
	assert_int_equal(d.blocks[0].addr, 0x7f5b9c000010);
	assert_int_equal(d.blocks[0].size, 1048576);
	assert_int_equal(d.blocks[0].stack, 29027);
	assert_int_equal(d.blocks[0].gen, 10);
	assert_int_equal(d.blocks[0].epoch, 1);
	assert_int_equal(d.blocks[0].flags, 0);
	assert_int_equal(d.blocks[1].flags, DA_DUMP_NEW | DA_DUMP_NEW_ARRAY);
	assert_true(d.blocks[2].stack == DA_DUMP_NONE);
	assert_int_equal(d.blocks[2].flags, DA_DUMP_IGNORED | DA_DUMP_ALIGNED);
	/* "#fields S id thread depth ip…": the pcs after the names. */
	const struct da_dump_stack *s = da_dump_stack(&d, 29027);
	assert_non_null(s);
	assert_int_equal(s->depth, 3);
	assert_int_equal(s->pcs[1], 0x55ecae0a62eb);
	assert_int_equal(da_dump_stack(&d, 5)->pcs[0], 0x55ecae0a6300);
	da_dump_free(&d);
}

/* A later minor version: its additions are skipped. */
static void
minor_version(void **state)
{
	(void)state;
	struct da_dump d;
	assert_int_equal(da_dump_read(golden("minor-version.dump"), &d, err,
	                              sizeof(err)),
	                 0);
	assert_int_equal(d.major, 1);
	assert_int_equal(d.minor, 7);
	assert_string_equal(da_dump_header(&d, "unwinder"), "fp");
	assert_int_equal(d.nsamples, 2);
	assert_int_equal(d.samples[0].rss_bytes, 88080384);
	da_dump_free(&d);
}

/* The version line. */
static void
version_line(void **state)
{
	(void)state;
	static const char two[] = "DBGALLOC-DUMP 2 0";
	text_fails(two, sizeof(two) - 1,
	           "dump version 2 is not supported (this reader reads "
	           "version 1)");
	static const char cut[] = "DBGALLOC-DUMP 1 0";
	text_fails(cut, sizeof(cut) - 1, "truncated: no trailer");
	static const char only[] = "DBGALLOC-DUMP 1 0\n";
	text_fails(only, sizeof(only) - 1, "truncated: no trailer");
	static const char x[] = "DBGALLOC-DUMP x 0\n";
	text_fails(x, sizeof(x) - 1, "line 1: bad number in column major");
	static const char minor[] = "DBGALLOC-DUMP 1 -1\n";
	text_fails(minor, sizeof(minor) - 1,
	           "line 1: bad number in column minor");
	static const char short_[] = "DBGALLOC-DUMP 1\n";
	text_fails(short_, sizeof(short_) - 1, "line 1: bad version line");
	static const char other[] = "DBGALLOC-DUMPS 1 0\n";
	text_fails(other, sizeof(other) - 1, "not a dbgalloc dump");
	static const char nl[] = "\n";
	text_fails(nl, 1, "not a dbgalloc dump");
	text_fails("", 0, "empty file");
	/* A foreign file of long lines is foreign, not overlong. */
	static char big[70000];
	memset(big, 'x', sizeof(big));
	text_fails(big, sizeof(big), "not a dbgalloc dump");
}

/* Numbers: 0x and lower-case hex, or decimal; 64 bits. */
static void
numbers(void **state)
{
	(void)state;
	a_size("0", NULL, 0);
	a_size("007", NULL, 7);
	a_size("0x0", NULL, 0);
	a_size("0xdeadbeef", NULL, 0xdeadbeef);
	a_size("18446744073709551614", NULL, 18446744073709551614ull);
	a_size("0xfffffffffffffffe", NULL, 0xfffffffffffffffeull);
	a_size("0x00000000000000000001", NULL, 1);
	a_size("-", NULL, DA_DUMP_NONE);
	static const char *const bad[] = {
	        "18446744073709551616",
	        "99999999999999999999",
	        "0x10000000000000000",
	        "0xDEADBEEF",
	        "0X10",
	        "0x",
	        "x10",
	        "+1",
	        "-1",
	        "1.5",
	        "12k",
	        "1e3",
	        "--",
	        "0x-1",
	        "%31",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		a_size(bad[i], "line 41: bad number in column size", 0);
	/* A key column cannot be missing. */
	extra_fails("A - 1 7 1 0 -\n", "line 41: missing value in column addr");
	extra_fails("A 0x10 1 7 1 0 -\r\n",
	            "line 41: bad value in column flags");
	extra_fails("P 1 2 3\r\n", "line 41: bad number in column rss_bytes");
}

/* Fields are separated by exactly one space. */
static void
empty_fields(void **state)
{
	(void)state;
	extra_fails("A 0x10  1 7 1 0 -\n", "line 41: empty field");
	extra_fails("A 0x10 1 7 1 0 - \n", "line 41: empty field");
	extra_fails(" A 0x10 1 7 1 0 -\n", "line 41: empty field");
	extra_fails("\n", "line 41: empty field");
	extra_fails("#fields\n", "line 41: bad #fields line");
	extra_fails("#fields  A addr\n", "line 41: empty field");
}

/* Strings are percent-decoded; a raw byte that needs escaping is bad. */
static void
strings(void **state)
{
	(void)state;
	struct da_dump d;
	extra_reads("C 2 7 - %41%62%2a%25%20%e2%80%A6\nC 3 8 - %\n"
	            "C 4 9 - %2D\nC 5 9 - -\nH x %C3%A9t%C3%A9\n"
	            "#fields C epoch first_gen\nC 6 10\n",
	            &d);
	assert_int_equal(d.nepochs, 7);
	assert_string_equal(d.epochs[2].name, "Ab*% \xe2\x80\xa6");
	assert_string_equal(d.epochs[3].name, "");
	assert_string_equal(d.epochs[4].name, "-");
	assert_null(d.epochs[5].name);
	assert_string_equal(da_dump_header(&d, "x"), "\xc3\xa9t\xc3\xa9");
	/* Columns the #fields line leaves out read as missing. */
	assert_int_equal(d.epochs[6].first_gen, 10);
	assert_null(d.epochs[6].name);
	assert_true(d.epochs[6].mono_ns == DA_DUMP_NONE);
	da_dump_free(&d);
	extra_fails("#fields C epoch name\nC 6 \xff\n",
	            "line 42: bad string in column name");
	static const char *const bad[] = {
	        "%4", "%", "%zz", "%00", "a%", "%%", "a\tb", "\x7f",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[64];
		if (strcmp(bad[i], "%") == 0)
			continue; /* the empty string */
		snprintf(line, sizeof(line), "C 2 7 - %s\n", bad[i]);
		extra_fails(line, "line 41: bad string in column name");
	}
}

/* The longest line is 65,536 bytes with its newline. */
static void
line_length(void **state)
{
	(void)state;
	static char line[DA_DUMP_LINE_MAX + 2];
	struct da_dump d;
	/* "H k " and a value that fills the line to the limit. */
	memcpy(line, "H k ", 4);
	memset(line + 4, 'v', DA_DUMP_LINE_MAX - 5);
	line[DA_DUMP_LINE_MAX - 1] = '\n';
	line[DA_DUMP_LINE_MAX] = '\0';
	extra_reads(line, &d);
	assert_int_equal(strlen(da_dump_header(&d, "k")), DA_DUMP_LINE_MAX - 5);
	da_dump_free(&d);
	/* One byte more. */
	memset(line + 4, 'v', DA_DUMP_LINE_MAX - 4);
	line[DA_DUMP_LINE_MAX] = '\n';
	line[DA_DUMP_LINE_MAX + 1] = '\0';
	extra_fails(line, "line 41: line longer than 65536 bytes");
	/* Many short fields: S with the most pcs a line holds. */
	struct dumpgen g;
	dumpgen_init(&g);
	dumpgen_sample(&g, 0);
	size_t n = (DA_DUMP_LINE_MAX - 1 - strlen("S 9 32765")) / 2;
	dumpgen_add(&g, "S 9 %zu", n);
	for (size_t i = 0; i < n; i++)
		dumpgen_add(&g, " %zu", i % 10);
	dumpgen_add(&g, "\n");
	dumpgen_seal(&g);
	assert_int_equal(read_gen(&g, &d), 0);
	assert_int_equal(da_dump_stack(&d, 9)->depth, n);
	assert_int_equal(da_dump_stack(&d, 9)->pcs[n - 1], (n - 1) % 10);
	da_dump_free(&d);
	dumpgen_free(&g);
}

/* #fields: required columns, duplicates, field counts, redefinition. */
static void
fields_lines(void **state)
{
	(void)state;
	struct da_dump d;
	extra_fails("#fields A size stack\n",
	            "line 41: #fields A has no column addr");
	extra_fails("#fields S id pc...\n",
	            "line 41: #fields S has no column depth");
	extra_fails("#fields A addr size addr\n",
	            "line 41: column addr named twice");
	extra_fails("A 0x10 1 7 1 0\n",
	            "line 41: record A has 5 fields, its #fields line names 6");
	extra_fails("A 0x10 1 7 1 0 - 9\n",
	            "line 41: record A has 7 fields, its #fields line names 6");
	extra_fails("Z 1\n", "line 41: record Z before its #fields line");
	extra_fails("\x01\xff 1\n",
	            "line 41: record %01%FF before its #fields line");
	extra_fails("#fields A addr\nA 0x10 1\n",
	            "line 42: record A has 2 fields, its #fields line names 1");
	/* A later #fields line replaces the earlier. */
	extra_reads("#fields A size addr\nA 5 0x20\n# a comment\n"
	            "#fieldsX is one too\n#fields Z\nZ\n#fields E x y\n",
	            &d);
	assert_int_equal(d.nblocks, 7);
	assert_int_equal(d.blocks[6].addr, 0x20);
	assert_int_equal(d.blocks[6].size, 5);
	assert_true(d.blocks[6].stack == DA_DUMP_NONE);
	assert_true(d.blocks[6].gen == DA_DUMP_NONE);
	assert_int_equal(d.blocks[6].flags, 0);
	da_dump_free(&d);
	/* S without a name for its pcs: they follow the named columns. */
	extra_reads("#fields S depth id\nS 2 77 0x1 0x2\n", &d);
	assert_int_equal(da_dump_stack(&d, 77)->pcs[1], 2);
	da_dump_free(&d);
	/* Any last name but id and depth names the pcs. */
	extra_reads("#fields S id depth pcs\nS 78 2 0x1 0x2\n", &d);
	assert_int_equal(da_dump_stack(&d, 78)->pcs[1], 2);
	da_dump_free(&d);
	extra_fails("#fields S id depth pcs\nS 79 0\n"
	            "#fields S id depth thread pcs\nS 80 1 9 0x5\nS 81 1 9\n",
	            "line 45: stack 81 has depth 1 but 0 return addresses");
	/* Unknown record types are bounded. */
	struct dumpgen g;
	dumpgen_init(&g);
	dumpgen_sample(&g, 0);
	for (int i = 0; i < 65; i++)
		dumpgen_add(&g, "#fields Z%d a\n", i);
	dumpgen_add(&g, "#fields Z0 b\n");
	dumpgen_seal(&g);
	assert_int_equal(read_gen(&g, &d), EINVAL);
	assert_string_equal(err,
	                    "gen.dump: line 99: more than 64 unknown record "
	                    "types");
	dumpgen_free(&g);
}

/* Stacks and modules: defined once, before they are named. */
static void
references(void **state)
{
	(void)state;
	extra_fails("S 7 0\n", "line 41: stack 7 defined twice");
	extra_fails("S 8 2 0x1\n",
	            "line 41: stack 8 has depth 2 but 1 return addresses");
	extra_fails("S 8 0 0x1\n",
	            "line 41: stack 8 has depth 0 but 1 return addresses");
	extra_fails("S 8 1 -\n", "line 41: missing value in column pc");
	extra_fails("S 8 1 0xg\n", "line 41: bad number in column pc");
	extra_fails("S - 0\n", "line 41: missing value in column id");
	extra_fails("A 0x10 1 8 1 0 -\n", "line 41: stack 8 is not defined");
	extra_fails("#fields X stack live_blocks live_bytes\nX 8 1 1\n",
	            "line 42: stack 8 is not defined");
	/* 2^64 - 1 would be "none": no id may take it (found by the
	 * fuzzer: a site without a stack). */
	extra_fails("#fields X stack live_blocks live_bytes\n"
	            "X 18446744073709551615 1 1\n",
	            "line 42: bad number in column stack");
	extra_fails("S 18446744073709551615 0\n",
	            "line 41: bad number in column id");
	extra_fails("#fields M id path\nM 2 /x\n",
	            "line 42: module 2 defined twice");
	extra_fails("#fields L module perm\nL 3 r-x\n",
	            "line 42: module 3 is not defined");
	extra_fails("#fields L module perm\nL 1 rw\n",
	            "line 42: bad value in column perm");
	extra_fails("#fields L module perm\nL 1 r-q\n",
	            "line 42: bad value in column perm");
	extra_fails("A 0x10 1 7 1 0 n-\n",
	            "line 41: bad value in column flags");
	struct da_dump d;
	/* Letters of a later minor version are skipped; "-" is no perm. */
	extra_reads("A 0x10 1 7 1 0 nzQ\n#fields L module perm\nL 2 -\n", &d);
	assert_int_equal(d.blocks[6].flags, DA_DUMP_NEW);
	assert_string_equal(d.segments[3].perm, "");
	da_dump_free(&d);
}

/* The trailer: last, whole, and right. */
static void
trailers(void **state)
{
	(void)state;
	struct dumpgen g;
	struct da_dump d;

	dumpgen_init(&g);
	dumpgen_sample(&g, 2);
	dumpgen_seal(&g);
	assert_int_equal(read_gen(&g, &d), 0);
	da_dump_free(&d);
	/* Without its newline the trailer line is cut: truncated. */
	g.len--;
	assert_int_equal(read_gen(&g, &d), EINVAL);
	assert_string_equal(err, "gen.dump: truncated: no trailer");
	g.len++;
	/* Anything after it. */
	dumpgen_add(&g, "# after\n");
	assert_int_equal(read_gen(&g, &d), EINVAL);
	assert_string_equal(err, "gen.dump: line 38: data after the trailer");
	g.len -= 2;
	assert_int_equal(read_gen(&g, &d), EINVAL);
	assert_string_equal(err, "gen.dump: line 38: data after the trailer");
	dumpgen_free(&g);

	/* A wrong count, the right CRC (a writer's bug, not corruption). */
	dumpgen_init(&g);
	dumpgen_sample(&g, 2);
	uint32_t crc = da_crc32c(0, g.buf, g.len);
	dumpgen_add(&g, "E 35 0x%x\n", (unsigned)crc);
	assert_int_equal(read_gen(&g, &d), EINVAL);
	assert_string_equal(err, "gen.dump: line 37: the trailer counts 35 "
	                         "lines, the file has 36");
	dumpgen_free(&g);

	dumpgen_init(&g);
	dumpgen_sample(&g, 2);
	crc = da_crc32c(0, g.buf, g.len);
	dumpgen_add(&g, "E 36 %u\n", (unsigned)crc);
	assert_int_equal(read_gen(&g, &d), 0);
	assert_int_equal(d.crc32c, crc);
	assert_int_equal(d.lines, 36);
	da_dump_free(&d);
	dumpgen_free(&g);

	extra_fails("E 1\n", "line 41: bad trailer");
	extra_fails("E 1 2 3\n", "line 41: bad trailer");
	extra_fails("E x 0x0\n", "line 41: bad number in column lines");
	extra_fails("E 42 0x100000000\n",
	            "line 41: bad number in column crc32c");
	extra_fails("E 42 0x0\n", "checksum mismatch");
}

/*
 * Many stacks and modules: the indexes grow and find each one, with ids
 * that differ only in their high bits (one chain under a weak hash).
 */
static void
many_ids(void **state)
{
	(void)state;
	enum { N = 100000 };
	struct dumpgen g;
	struct da_dump d;
	dumpgen_init(&g);
	dumpgen_sample(&g, 0);
	dumpgen_add(&g, "#fields M id path\n");
	for (uint64_t i = 0; i < 1000; i++)
		dumpgen_add(&g, "M %llu m%llu\n",
		            (unsigned long long)(i << 40 | 3),
		            (unsigned long long)i);
	for (uint64_t i = 0; i < N; i++)
		dumpgen_add(&g, "S 0x%llx 1 0x%llx\n",
		            (unsigned long long)(i << 40),
		            (unsigned long long)i);
	dumpgen_add(&g, "A 0x10 1 0x%llx 1 0 -\n",
	            (unsigned long long)((uint64_t)(N - 1) << 40));
	dumpgen_seal(&g);
	double t0 = now();
	assert_int_equal(read_gen(&g, &d), 0);
	printf("# %d stacks, 1000 modules read in %.1f ms\n", N,
	       (now() - t0) * 1e3);
	assert_int_equal(d.nstacks, N + 3);
	for (uint64_t i = 0; i < N; i++) {
		const struct da_dump_stack *s = da_dump_stack(&d, i << 40);
		assert_non_null(s);
		assert_int_equal(s->id, i << 40);
		assert_int_equal(s->pcs[0], i);
	}
	assert_null(da_dump_stack(&d, (uint64_t)N << 40));
	for (uint64_t i = 0; i < 1000; i++) {
		char name[32];
		snprintf(name, sizeof(name), "m%llu", (unsigned long long)i);
		assert_string_equal(da_dump_module(&d, i << 40 | 3)->path,
		                    name);
	}
	assert_int_equal(da_dump_module(&d, 1)->bias, 0x55ecae0a5000);
	da_dump_free(&d);
	dumpgen_free(&g);
}

/* Reading a file that cannot be read. */
static void
unreadable(void **state)
{
	(void)state;
	struct da_dump d;
	char want[64];
	assert_int_equal(da_dump_read("/", &d, err, sizeof(err)), EISDIR);
	snprintf(want, sizeof(want), "/: %s", strerror(EISDIR));
	assert_string_equal(err, want);
	/* A short err buffer is cut, and terminated. */
	assert_int_equal(da_dump_read(golden("empty.dump"), &d, err, 8),
	                 EINVAL);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(da_dump_read(golden("empty.dump"), &d, NULL, 0),
	                 EINVAL);
}

/* dumpgen_sample1 with nblocks blocks, then extra, sealed, read. */
static int
read_sample1(size_t nblocks, const char *extra, struct da_dump *d)
{
	struct dumpgen g;
	dumpgen_init(&g);
	dumpgen_sample1(&g, nblocks);
	dumpgen_add(&g, "%s", extra);
	dumpgen_seal(&g);
	int e = read_gen(&g, d);
	dumpgen_free(&g);
	return e;
}

/* The same, which fails with "gen.dump: want". */
static void
sample1_fails(const char *extra, const char *want)
{
	struct da_dump d;
	char full[600];
	assert_int_equal(read_sample1(2, extra, &d), EINVAL);
	snprintf(full, sizeof(full), "gen.dump: %s", want);
	assert_string_equal(err, full);
	assert_null(d.life);
	assert_null(d.classes);
	da_dump_free(&d);
}

/* Minor 1 made by dumpgen: every verdict, thread, bucket and class. */
static void
minor1_sample(void **state)
{
	(void)state;
	static const char verdicts[] = {'d', 'i', 'p', 'r', 0};
	struct da_dump d;
	if (read_sample1(10, "", &d) != 0)
		fail_msg("%s", err);
	assert_int_equal(d.minor, 1);
	assert_int_equal(d.nclasses, 4);
	assert_int_equal(d.classes[2].block_size, 4096);
	assert_int_equal(d.classes[2].live_bytes, 4000);
	assert_true(d.classes[3].block_size == DA_DUMP_NONE);
	assert_int_equal(d.classes[3].peak_live_blocks, 4);
	assert_int_equal(d.sites[0].nlife_allocs, 2);
	assert_int_equal(d.sites[0].life_allocs[1], 2);
	assert_int_equal(d.sites[0].nlife_us, 0);
	/* The most buckets a reader keeps. */
	assert_int_equal(d.sites[1].nlife_us, DA_DUMP_LIFE_MAX);
	for (unsigned k = 0; k < DA_DUMP_LIFE_MAX; k++)
		assert_int_equal(d.sites[1].life_us[k], k);
	assert_int_equal(d.sites[1].life_allocs[3], 5);
	assert_int_equal(d.nlife, 2 + 4 + 64);
	for (size_t i = 0; i < 10; i++) {
		const struct da_dump_block *a = &d.blocks[i];
		assert_int_equal(a->leak, verdicts[i % 5]);
		if (i % 4 == 3)
			assert_true(a->thread == DA_DUMP_NONE);
		else
			assert_int_equal(a->thread, i % 3 + 1);
	}
	assert_true(d.epochs[2].mono_ns == DA_DUMP_NONE);
	assert_true(d.epochs[2].peak_bytes == DA_DUMP_NONE);
	assert_int_equal(d.epochs[2].free_bytes, 8000);
	assert_true(d.samples[1].gen == DA_DUMP_NONE);
	assert_null(d.samples[1].reason);
	da_dump_free(&d);

	/* Histograms: counts, "-", hex as anywhere; columns in any order. */
	if (read_sample1(0,
	                 "#fields X life_us stack life_allocs\n"
	                 "X 0x10,0 2 -\nX 7 1 0,0,0\n",
	                 &d) != 0)
		fail_msg("%s", err);
	assert_int_equal(d.nsites, 4);
	assert_int_equal(d.sites[2].nlife_us, 2);
	assert_int_equal(d.sites[2].life_us[0], 16);
	assert_int_equal(d.sites[2].nlife_allocs, 0);
	assert_true(d.sites[2].live_bytes == DA_DUMP_NONE);
	assert_int_equal(d.sites[3].nlife_us, 1);
	assert_int_equal(d.sites[3].life_us[0], 7);
	assert_int_equal(d.sites[3].nlife_allocs, 3);
	/* The pool holds them in the order of the file. */
	assert_true(d.sites[3].life_allocs == d.sites[2].life_us + 2);
	assert_true(d.sites[3].life_us == d.sites[3].life_allocs + 3);
	assert_true(d.sites[1].life_us + 64 == d.sites[2].life_us);
	da_dump_free(&d);

	/* A later letter of a verdict is kept; a missing column is none. */
	if (read_sample1(0, "#fields A leak addr\nA x 0x10\nA - 0x20\n", &d))
		fail_msg("%s", err);
	assert_int_equal(d.blocks[0].leak, 'x');
	assert_true(d.blocks[0].thread == DA_DUMP_NONE);
	assert_int_equal(d.blocks[1].leak, 0);
	da_dump_free(&d);
}

/* Minor 1's columns refused, each with its message. */
static void
minor1_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "1,,2", ",1", "1,",  ",",   "x",
	        "1;2",  "-1", "1,-", "0X1", "18446744073709551616",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[128];
		snprintf(line, sizeof(line),
		         "#fields X stack life_allocs\nX 1 %s\n", bad[i]);
		sample1_fails(line,
		              "line 34: bad number in column life_allocs");
	}
	sample1_fails("#fields X stack life_allocs\nX 1 1, 2\n",
	              "line 34: record X has 3 fields, its #fields line "
	              "names 2");
	char line[512] = "#fields X stack life_us\nX 1 ";
	for (int i = 0; i < 65; i++)
		strcat(line, i ? ",0" : "0");
	strcat(line, "\n");
	sample1_fails(line, "line 34: more than 64 buckets in column life_us");
	sample1_fails("#fields A addr leak\nA 0x10 dd\n",
	              "line 34: bad value in column leak");
	sample1_fails("#fields A addr leak\nA 0x10 1\n",
	              "line 34: bad value in column leak");
	sample1_fails("#fields A addr leak\nA 0x10 %\n",
	              "line 34: bad value in column leak");
	sample1_fails("#fields A addr thread\nA 0x10 t1\n",
	              "line 34: bad number in column thread");
	sample1_fails("#fields K slabs\nK 1\n",
	              "line 33: #fields K has no column block_size");
	sample1_fails("K 16 1 2 3 4 5 6 x\n",
	              "line 33: bad number in column peak_live_blocks");
	sample1_fails("K 16 1 2 3 4 5 6\n",
	              "line 33: record K has 7 fields, its #fields line "
	              "names 8");
	sample1_fails("#fields C epoch peak_bytes name\nC 3 7x name\n",
	              "line 34: bad number in column peak_bytes");
	sample1_fails("#fields P mono_ns reason\nP 1 st\x7fp\n",
	              "line 34: bad value in column reason");
	sample1_fails("#fields P mono_ns gen\nP 1 4x\n",
	              "line 34: bad number in column gen");
	sample1_fails("#fields X stack life_allocs\nX 9 1\n",
	              "line 34: stack 9 is not defined");
}

/* 200,000 live blocks, through a file; the time is printed. */
static void
large_dump(void **state)
{
	(void)state;
	enum { N = 200000 };
	struct dumpgen g;
	struct da_dump d;
	char tmp[] = "/tmp/test_dumpread.XXXXXX";
	int fd = mkstemp(tmp);
	assert_true(fd >= 0);
	close(fd);
	dumpgen_init(&g);
	dumpgen_sample(&g, N);
	dumpgen_seal(&g);
	dumpgen_write(&g, tmp);

	double t0 = now();
	int e = da_dump_read(tmp, &d, err, sizeof(err));
	double t = now() - t0;
	unlink(tmp);
	if (e != 0)
		fail_msg("%s", err);
	printf("# read %zu bytes, %zu blocks in %.1f ms (%.0f MB/s)\n", g.len,
	       d.nblocks, t * 1e3, (double)g.len / t / 1e6);
	assert_int_equal(d.nblocks, N);
	assert_int_equal(da_dump_counter(&d, "live_blocks"), N);
	size_t ignored = 0, nostack = 0;
	for (size_t i = 0; i < d.nblocks; i++) {
		ignored += (d.blocks[i].flags & DA_DUMP_IGNORED) != 0;
		nostack += d.blocks[i].stack == DA_DUMP_NONE;
		assert_true(d.blocks[i].size == i + 1);
	}
	assert_int_equal(ignored, N / 6 + (N % 6 > 1));
	assert_int_equal(nostack, N / 4);
	assert_int_equal(d.blocks[N - 1].addr, 0x7f0000000010 + 16 * (N - 1));
	assert_int_equal(d.blocks[N - 1].epoch, (N - 1) / 1000);
	assert_int_equal(da_dump_stack(&d, 18446744073709551614ull)->depth, 0);
	da_dump_free(&d);
	dumpgen_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(good_dump),
	        cmocka_unit_test(good_dump_from_memory),
	        cmocka_unit_test(good_minor1),
	        cmocka_unit_test(minor1_sample),
	        cmocka_unit_test(minor1_errors),
	        cmocka_unit_test(golden_errors),
	        cmocka_unit_test(unknown_record),
	        cmocka_unit_test(unknown_columns),
	        cmocka_unit_test(minor_version),
	        cmocka_unit_test(version_line),
	        cmocka_unit_test(numbers),
	        cmocka_unit_test(empty_fields),
	        cmocka_unit_test(strings),
	        cmocka_unit_test(line_length),
	        cmocka_unit_test(fields_lines),
	        cmocka_unit_test(references),
	        cmocka_unit_test(trailers),
	        cmocka_unit_test(many_ids),
	        cmocka_unit_test(unreadable),
	        cmocka_unit_test(large_dump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
