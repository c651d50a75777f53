/*
 * Unit tests of the DBGALLOC_ settings (audit/settings.c): the defaults,
 * every type's parser, the exact words of every error, the suggestion for a
 * misspelt name, and sizes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "audit/settings.h"
#include "audit/failspec.h"

/* Large: two paths of DA_SETTING_PATH_MAX bytes. */
static struct da_settings s;
static char err[512];

/* Parses a NULL-terminated list of entries into s; returns the result. */
static int
parse(const char *first, ...)
{
	char *env[16];
	size_t n = 0;
	va_list ap;
	va_start(ap, first);
	for (const char *e = first; e != NULL; e = va_arg(ap, const char *)) {
		assert_true(n < 15);
		env[n++] = (char *)e;
	}
	va_end(ap);
	env[n] = NULL;
	memset(err, 'x', sizeof(err));
	return da_settings_parse(env, &s, err, sizeof(err));
}

/* One entry fails with exactly the line want. */
static void
fails(const char *entry, const char *want)
{
	assert_int_equal(parse(entry, NULL), -1);
	assert_string_equal(err, want);
}

static const struct da_setting *
setting(const char *name)
{
	for (size_t i = 0; i < da_settings_count; i++)
		if (strcmp(da_settings_table[i].name, name) == 0)
			return &da_settings_table[i];
	fail_msg("no setting %s", name);
	return NULL;
}

/* What the defaults are, and that the static ones (used before the shim's
 * constructor) are the ones da_settings_defaults gives. */
static void
defaults(void **state)
{
	(void)state;
	struct da_settings *d = &da_settings;
	char text[64];
	assert_int_equal(d->leaks, DA_LEAKS_OFF);
	assert_true(d->leaks_exitcode == DA_UNSET);
	assert_string_equal(d->suppressions, "");
	assert_string_equal(d->log, "");
	/* The number is settings.def's to choose: check it is in range and
	 * that the documentation shows the same one. */
	assert_true(d->stack_depth >= 1 && d->stack_depth <= 64);
	da_setting_default(setting("STACK_DEPTH"), text, sizeof(text));
	assert_int_equal(strtoull(text, NULL, 10), d->stack_depth);
	assert_true(d->break_at == DA_UNSET);
	assert_int_equal(d->poison, DA_POISON_BOUNDED);
	assert_int_equal(d->on_error, DA_ON_ERROR_ABORT);

	memset(&s, 0xa5, sizeof(s));
	da_settings_defaults(&s);
	assert_memory_equal(&s, &da_settings, sizeof(s));
}

/* An empty environment, and one without DBGALLOC_ variables, give the
 * defaults; look-alike names are not ours. */
static void
empty_and_foreign_environments(void **state)
{
	(void)state;
	assert_int_equal(parse(NULL), 0);
	assert_string_equal(err, "");
	assert_memory_equal(&s, &da_settings, sizeof(s));
	assert_int_equal(da_settings_parse(NULL, &s, err, sizeof(err)), 0);
	assert_int_equal(parse("PATH=/bin", "DA_TEST_LIB=/x.so", "DBGALLOC=1",
	                       "DBGALLOCX_LEAKS=1", "dbgalloc_leaks=1",
	                       "DBGALLOC_NO_EQUALS_SIGN", "LEAKS=all", NULL),
	                 0);
	assert_memory_equal(&s, &da_settings, sizeof(s));
}

/* Word settings: every word, by its constant. */
static void
words(void **state)
{
	(void)state;
	assert_int_equal(parse("DBGALLOC_LEAKS=0", NULL), 0);
	assert_int_equal(s.leaks, DA_LEAKS_OFF);
	assert_int_equal(parse("DBGALLOC_LEAKS=1", NULL), 0);
	assert_int_equal(s.leaks, DA_LEAKS_ON);
	assert_int_equal(parse("DBGALLOC_LEAKS=all", NULL), 0);
	assert_int_equal(s.leaks, DA_LEAKS_ALL);
	assert_int_equal(parse("DBGALLOC_POISON=full", NULL), 0);
	assert_int_equal(s.poison, DA_POISON_FULL);
	assert_int_equal(parse("DBGALLOC_POISON=off", NULL), 0);
	assert_int_equal(s.poison, DA_POISON_OFF);
	assert_int_equal(parse("DBGALLOC_POISON=bounded", NULL), 0);
	assert_int_equal(s.poison, DA_POISON_BOUNDED);
	assert_int_equal(parse("DBGALLOC_ON_ERROR=report", NULL), 0);
	assert_int_equal(s.on_error, DA_ON_ERROR_REPORT);
	assert_int_equal(parse("DBGALLOC_ON_ERROR=abort", NULL), 0);
	assert_int_equal(s.on_error, DA_ON_ERROR_ABORT);
	/* Only this setting changed. */
	assert_int_equal(parse("DBGALLOC_LEAKS=all", NULL), 0);
	s.leaks = da_settings.leaks;
	assert_memory_equal(&s, &da_settings, sizeof(s));
}

/* Numbers: both ends of each range; 0 is a value, distinct from unset. */
static void
numbers(void **state)
{
	(void)state;
	assert_int_equal(parse("DBGALLOC_LEAKS_EXITCODE=0", NULL), 0);
	assert_true(s.leaks_exitcode == 0);
	assert_int_equal(parse("DBGALLOC_LEAKS_EXITCODE=255", NULL), 0);
	assert_true(s.leaks_exitcode == 255);
	assert_int_equal(parse("DBGALLOC_STACK_DEPTH=1", NULL), 0);
	assert_true(s.stack_depth == 1);
	assert_int_equal(parse("DBGALLOC_STACK_DEPTH=064", NULL), 0);
	assert_true(s.stack_depth == 64);
	assert_int_equal(parse("DBGALLOC_BREAK=1", NULL), 0);
	assert_true(s.break_at == 1);
	assert_int_equal(parse("DBGALLOC_BREAK=9223372036854775808", NULL), 0);
	assert_true(s.break_at == UINT64_C(1) << 63);
	assert_int_equal(
	        parse("DBGALLOC_BREAK=12345", "DBGALLOC_STACK_DEPTH=3", NULL),
	        0);
	assert_true(s.break_at == 12345 && s.stack_depth == 3);
}

/* Paths are copied whole; empty is none; the launcher's variable is known
 * and takes anything. */
static void
paths_and_launcher(void **state)
{
	(void)state;
	static char env_log[] = "DBGALLOC_LOG=/tmp/report.%p.txt";
	char *env[] = {env_log, "DBGALLOC_SUPPRESSIONS=lsan.supp",
	               "DBGALLOC_LIBRARY=any thing: at all", NULL};
	assert_int_equal(da_settings_parse(env, &s, err, sizeof(err)), 0);
	/* setproctitle overwrites environment strings: ours is a copy. */
	memset(env_log, 'z', sizeof(env_log) - 1);
	assert_string_equal(s.log, "/tmp/report.%p.txt");
	assert_string_equal(s.suppressions, "lsan.supp");
	assert_int_equal(parse("DBGALLOC_LOG=", NULL), 0);
	assert_string_equal(s.log, "");

	/* The longest path that fits, and one byte more. */
	static char longest[13 + DA_SETTING_PATH_MAX + 1];
	memcpy(longest, "DBGALLOC_LOG=", 13);
	memset(longest + 13, 'a', DA_SETTING_PATH_MAX - 1);
	assert_int_equal(parse(longest, NULL), 0);
	assert_int_equal(strlen(s.log), DA_SETTING_PATH_MAX - 1);
	longest[13 + DA_SETTING_PATH_MAX - 1] = 'a';
	fails(longest,
	      "dbgalloc: DBGALLOC_LOG=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa...: expected a path of at "
	      "most 4095 bytes");
}

/* Every malformed value, word for word. */
static void
malformed_values(void **state)
{
	(void)state;
	static const char *const depth[] = {"abc",
	                                    "",
	                                    "0",
	                                    "65",
	                                    "-1",
	                                    "+8",
	                                    " 8",
	                                    "8 ",
	                                    "0x8",
	                                    "8k",
	                                    "99999999999999999999999"};
	char entry[128], want[256];
	for (size_t i = 0; i < sizeof(depth) / sizeof(depth[0]); i++) {
		snprintf(entry, sizeof(entry), "DBGALLOC_STACK_DEPTH=%s",
		         depth[i]);
		snprintf(want, sizeof(want),
		         "dbgalloc: DBGALLOC_STACK_DEPTH=%s: expected a number "
		         "from 1 to 64",
		         depth[i]);
		fails(entry, want);
	}
	fails("DBGALLOC_LEAKS_EXITCODE=256",
	      "dbgalloc: DBGALLOC_LEAKS_EXITCODE=256: expected a number from 0 "
	      "to 255");
	fails("DBGALLOC_BREAK=0", "dbgalloc: DBGALLOC_BREAK=0: expected a "
	                          "number from 1 to 9223372036854775808");
	fails("DBGALLOC_BREAK=9223372036854775809",
	      "dbgalloc: DBGALLOC_BREAK=9223372036854775809: expected a number "
	      "from 1 to 9223372036854775808");
	fails("DBGALLOC_LEAKS=2",
	      "dbgalloc: DBGALLOC_LEAKS=2: expected 0, 1 or all");
	fails("DBGALLOC_LEAKS=",
	      "dbgalloc: DBGALLOC_LEAKS=: expected 0, 1 or all");
	fails("DBGALLOC_POISON=Full",
	      "dbgalloc: DBGALLOC_POISON=Full: expected "
	      "bounded, full or off");
	fails("DBGALLOC_ON_ERROR=ignore",
	      "dbgalloc: DBGALLOC_ON_ERROR=ignore: expected abort or report");
	/* One line whatever the value holds. */
	fails("DBGALLOC_ON_ERROR=a\nb\tc\x7f",
	      "dbgalloc: DBGALLOC_ON_ERROR=a?b?c?: expected abort or report");
}

/* Unknown names, with the nearest known one when it is close. */
static void
unknown_names(void **state)
{
	(void)state;
	fails("DBGALLOC_LEAK=1", "dbgalloc: unknown variable DBGALLOC_LEAK "
	                         "(did you mean DBGALLOC_LEAKS?)");
	fails("DBGALLOC_STACKDEPTH=8", "dbgalloc: unknown variable "
	                               "DBGALLOC_STACKDEPTH (did you mean "
	                               "DBGALLOC_STACK_DEPTH?)");
	fails("DBGALLOC_XYZZY=1", "dbgalloc: unknown variable DBGALLOC_XYZZY");
	/* Case, a swap, the launcher's own name, a near miss of a long one. */
	fails("DBGALLOC_leaks=1", "dbgalloc: unknown variable DBGALLOC_leaks "
	                          "(did you mean DBGALLOC_LEAKS?)");
	fails("DBGALLOC_POSION=off", "dbgalloc: unknown variable "
	                             "DBGALLOC_POSION (did you mean "
	                             "DBGALLOC_POISON?)");
	fails("DBGALLOC_LIBRAY=x", "dbgalloc: unknown variable DBGALLOC_LIBRAY "
	                           "(did you mean DBGALLOC_LIBRARY?)");
	fails("DBGALLOC_LEAKS_EXIT_CODE=1",
	      "dbgalloc: unknown variable DBGALLOC_LEAKS_EXIT_CODE (did you "
	      "mean DBGALLOC_LEAKS_EXITCODE?)");
	/* Too far from everything: no suggestion. */
	fails("DBGALLOC_DEPTH=8", "dbgalloc: unknown variable DBGALLOC_DEPTH");
	fails("DBGALLOC_L=1", "dbgalloc: unknown variable DBGALLOC_L");
	fails("DBGALLOC_FENCE=1", "dbgalloc: unknown variable DBGALLOC_FENCE");
	fails("DBGALLOC_=1", "dbgalloc: unknown variable DBGALLOC_");
	/* A long name is cut, and gets no suggestion. */
	fails("DBGALLOC_LEAKSLEAKSLEAKSLEAKSLEAKSLEAKSLEAKSLEAKSLEAKSLEAKSLEAKS"
	      "LEAKSLEAKS=1",
	      "dbgalloc: unknown variable DBGALLOC_LEAKSLEAKSLEAKSLEAKSLEAKSLEA"
	      "KSLEAKSLEAKSLEAKSLEAKSLEAKSLEAKSLEAK...");
}

/* The first problem in the environment's order is the one reported; as
 * getenv, the first of two entries with one name is the one used. */
static void
first_problem_first_entry(void **state)
{
	(void)state;
	assert_int_equal(parse("DBGALLOC_LEAKS=1", "DBGALLOC_STACK_DEPTH=x",
	                       "DBGALLOC_NOPE=1", NULL),
	                 -1);
	assert_string_equal(err, "dbgalloc: DBGALLOC_STACK_DEPTH=x: expected a "
	                         "number from 1 to 64");
	assert_int_equal(
	        parse("DBGALLOC_NOPE=1", "DBGALLOC_STACK_DEPTH=x", NULL), -1);
	assert_string_equal(err, "dbgalloc: unknown variable DBGALLOC_NOPE");
	assert_int_equal(
	        parse("DBGALLOC_STACK_DEPTH=4", "DBGALLOC_STACK_DEPTH=x", NULL),
	        0);
	assert_true(s.stack_depth == 4);
}

/* err is truncated to fit and always terminated; errlen 0 is allowed. */
static void
error_buffer_limits(void **state)
{
	(void)state;
	char small[12];
	char *env[] = {"DBGALLOC_LEAK=1", NULL};
	memset(small, 'x', sizeof(small));
	assert_int_equal(da_settings_parse(env, &s, small, sizeof(small)), -1);
	assert_string_equal(small, "dbgalloc: u");
	assert_int_equal(da_settings_parse(env, &s, small, 0), -1);
	assert_int_equal(small[0], 'd');
}

/* Sizes: plain bytes and binary units, and what is not a size. */
static void
sizes(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
	        {"100M", UINT64_C(100) << 20},
	        {"100MiB", UINT64_C(100) << 20},
	        {"100MB", UINT64_C(100) << 20},
	        {"100m", UINT64_C(100) << 20},
	        {"1G", UINT64_C(1) << 30},
	        {"512K", 512 * 1024},
	        {"2T", UINT64_C(2) << 40},
	        {"4096", 4096},
	        {"4096B", 4096},
	        {"0", 0},
	        {"16777215T", UINT64_C(16777215) << 40},
	        {"18446744073709551615", UINT64_MAX},
	};
	static const struct {
		const char *s;
		int err;
	} bad[] = {
	        {"10X", EINVAL},
	        {"-1", EINVAL},
	        {"", EINVAL},
	        {"M", EINVAL},
	        {"100 M", EINVAL},
	        {" 100M", EINVAL},
	        {"1.5G", EINVAL},
	        {"100Mi", EINVAL},
	        {"100MiBs", EINVAL},
	        {"100iB", EINVAL},
	        {"100Mb", EINVAL},
	        {"99999999999999999999X", EINVAL},
	        {"18446744073709551616", ERANGE},
	        {"16777216T", ERANGE},
	        {"99999999999999999999G", ERANGE},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 1;
		assert_int_equal(da_settings_parse_size(good[i].s, &v), 0);
		assert_true(v == good[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 7;
		assert_int_equal(da_settings_parse_size(bad[i].s, &v),
		                 bad[i].err);
		assert_true(v == 7);
	}
}

/* A size setting through the generic path (none exists in settings.def
 * yet): range, units in the message, default in words. */
static void
size_setting(void **state)
{
	(void)state;
	const struct da_setting limit = {
	        .name = "LIMIT",
	        .doc = "test",
	        .type = DA_SETTING_SIZE,
	        .lo = 4096,
	        .hi = UINT64_C(1) << 40,
	        .dflt = 100 << 20,
	};
	uint64_t v = 0;
	char text[128];
	assert_int_equal(
	        da_setting_parse_value(&limit, "100M", &v, err, sizeof(err)),
	        0);
	assert_true(v == UINT64_C(100) << 20);
	assert_int_equal(
	        da_setting_parse_value(&limit, "1T", &v, err, sizeof(err)), 0);
	assert_true(v == UINT64_C(1) << 40);
	static const char *const out[] = {"10X", "1K", "1025G", "", "-1"};
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		char want[256];
		v = 7;
		assert_int_equal(da_setting_parse_value(&limit, out[i], &v, err,
		                                        sizeof(err)),
		                 -1);
		assert_true(v == 7);
		snprintf(want, sizeof(want),
		         "dbgalloc: DBGALLOC_LIMIT=%s: expected a size from 4K "
		         "to 1T (bytes, or with K, M, G or T; K = 1024)",
		         out[i]);
		assert_string_equal(err, want);
	}
	da_setting_default(&limit, text, sizeof(text));
	assert_string_equal(text, "100M");
	const struct da_setting odd = {.name = "ODD",
	                               .type = DA_SETTING_SIZE,
	                               .lo = 0,
	                               .hi = 1000,
	                               .dflt = DA_UNSET};
	da_setting_expects(&odd, text, sizeof(text));
	assert_string_equal(text, "a size from 0 to 1000 (bytes, or with K, M, "
	                          "G or T; K = 1024)");
	da_setting_default(&odd, text, sizeof(text));
	assert_string_equal(text, "unset");
}

/* Durations (DBGALLOC_SAMPLE_INTERVAL; the reader is tested in
 * test_duration): through the parser, the one-line error says what it
 * accepts, for a malformed duration as for one too long to count. */
static void
durations(void **state)
{
	(void)state;
	char *env[] = {"DBGALLOC_SAMPLE_INTERVAL=10x", NULL};
	struct da_settings set;
	assert_int_equal(da_settings_parse(env, &set, err, sizeof(err)), -1);
	assert_string_equal(err, "dbgalloc: DBGALLOC_SAMPLE_INTERVAL=10x: "
	                         "expected a duration: a number and ms, s or "
	                         "m (500ms, 2s, 1m), 0 for none");
	char *env1[] = {"DBGALLOC_SAMPLE_INTERVAL=99999999999999999999s", NULL};
	assert_int_equal(da_settings_parse(env1, &set, err, sizeof(err)), -1);
	assert_string_equal(err, "dbgalloc: DBGALLOC_SAMPLE_INTERVAL="
	                         "99999999999999999999s: expected a duration: "
	                         "a number and ms, s or m (500ms, 2s, 1m), 0 "
	                         "for none");
	char *env2[] = {"DBGALLOC_SAMPLE_INTERVAL=250ms",
	                "DBGALLOC_TEMPORARY=3", NULL};
	assert_int_equal(da_settings_parse(env2, &set, err, sizeof(err)), 0);
	assert_string_equal(set.sample_interval, "250ms");
	assert_true(set.temporary == 3);
}

/* The text settings of fault injection: what each accepts, through the
 * parser (the one-line error names the forms) and the readers. */
static void
fault_injection_settings(void **state)
{
	(void)state;
	assert_int_equal(parse("DBGALLOC_FAIL_AT=17,5,200,5",
	                       "DBGALLOC_FAIL_RATE=2.5%",
	                       "DBGALLOC_FAIL_SITE=parse_*",
	                       "DBGALLOC_LIMIT=100MB", NULL),
	                 0);
	assert_string_equal(s.fail_at, "17,5,200,5");
	assert_true(s.limit == UINT64_C(100) << 20);
	uint64_t at[8];
	size_t n;
	assert_int_equal(da_failspec_at(s.fail_at, at, 8, &n), 0);
	assert_int_equal(n, 3); /* sorted, the duplicate dropped */
	assert_true(at[0] == 5 && at[1] == 17 && at[2] == 200);
	uint64_t ppb;
	assert_int_equal(da_failspec_rate(s.fail_rate, &ppb), 0);
	assert_true(ppb == 25000000);
	assert_int_equal(da_failspec_rate("0.000000001", &ppb), 0);
	assert_true(ppb == 1);
	assert_int_equal(da_failspec_rate("1", &ppb), 0);
	assert_true(ppb == DA_FAIL_PPB);
	static const char *const bad_rates[] = {
	        "1.5", "0.0000000001", "101%", ".5", "0.", "1e-3", "-0.1"};
	for (size_t i = 0; i < sizeof(bad_rates) / sizeof(bad_rates[0]); i++)
		assert_int_equal(da_failspec_rate(bad_rates[i], &ppb), -1);
	static const char *const bad_at[] = {
	        "0", "1,,2", "1,", "x", "1;2", "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad_at) / sizeof(bad_at[0]); i++)
		assert_int_equal(da_failspec_at(bad_at[i], at, 8, &n), -1);
	/* More numbers than room: refused, not cut. */
	assert_int_equal(da_failspec_at("1,2,3", at, 2, &n), -1);
	fails("DBGALLOC_FAIL_AT=3,x",
	      "dbgalloc: DBGALLOC_FAIL_AT=3,x: expected allocation numbers "
	      "from 1, separated by commas (5 or 5,17,200)");
	fails("DBGALLOC_FAIL_RATE=2",
	      "dbgalloc: DBGALLOC_FAIL_RATE=2: expected a fraction from 0 "
	      "to 1 (0.01) or a percentage (1%)");
	fails("DBGALLOC_LIMIT=100Q",
	      "dbgalloc: DBGALLOC_LIMIT=100Q: expected a size from 0 to "
	      "1048576T (bytes, or with K, M, G or T; K = 1024)");
	fails("DBGALLOC_LIMIT_ACTION=crash",
	      "dbgalloc: DBGALLOC_LIMIT_ACTION=crash: expected fail or abort");
	fails("DBGALLOC_DUMP_SIGNAL=USR3",
	      "dbgalloc: DBGALLOC_DUMP_SIGNAL=USR3: expected a signal's name "
	      "or number (USR2, SIGUSR2, RTMIN+2 or 12)");
	fails("DBGALLOC_LEAKS_SIGNAL=KILL",
	      "dbgalloc: DBGALLOC_LEAKS_SIGNAL=KILL: expected a signal's name "
	      "or number (USR1, SIGUSR1, RTMIN+2 or 10)");
	fails("DBGALLOC_DUMP_INTERVAL=30",
	      "dbgalloc: DBGALLOC_DUMP_INTERVAL=30: expected a time from 10ms "
	      "to 1440m with its unit, ms, s or m (100ms, 30s, 5m)");
	assert_int_equal(parse("DBGALLOC_DUMP_SIGNAL=sigusr2",
	                       "DBGALLOC_DUMP_INTERVAL=250ms",
	                       "DBGALLOC_LEAKS_SIGNAL=10", NULL),
	                 0);
	assert_string_equal(s.dump_signal, "sigusr2");
	assert_string_equal(s.dump_interval, "250ms");
	assert_string_equal(s.leaks_signal, "10");
	/* Empty is none, as for paths. */
	assert_int_equal(parse("DBGALLOC_FAIL_AT=", NULL), 0);
	assert_string_equal(s.fail_at, "");
}

/* The words the documentation shows, for every setting. */
static void
expects_and_defaults_in_words(void **state)
{
	(void)state;
	static const struct {
		const char *name, *expects, *dflt;
	} want[] = {
	        {"LEAKS", "0, 1 or all", "0"},
	        {"LEAKS_EXITCODE", "a number from 0 to 255", "unset"},
	        {"SUPPRESSIONS", "a path of at most 4095 bytes", "none"},
	        {"LOG", "a path of at most 4095 bytes", "none"},
	        {"BREAK", "a number from 1 to 9223372036854775808", "unset"},
	        {"POISON", "bounded, full or off", "bounded"},
	        {"ON_ERROR", "abort or report", "abort"},
	        {"LIMIT",
	         "a size from 0 to 1048576T (bytes, or with K, M, G or T; K = "
	         "1024)",
	         "unset"},
	        {"LIMIT_ACTION", "fail or abort", "fail"},
	        {"FAIL_AT",
	         "allocation numbers from 1, separated by commas (5 or "
	         "5,17,200)",
	         "none"},
	        {"FAIL_RATE",
	         "a fraction from 0 to 1 (0.01) or a percentage (1%)", "none"},
	        {"FAIL_LOG", "0 or 1", "0"},
	        {"DUMP", "a path of at most 4095 bytes", "none"},
	        {"DUMP_SIGNAL",
	         "a signal's name or number (USR2, SIGUSR2, RTMIN+2 or 12)",
	         "none"},
	        {"DUMP_INTERVAL",
	         "a time from 10ms to 1440m with its unit, ms, s or m (100ms, "
	         "30s, 5m)",
	         "none"},
	        {"LEAKS_SIGNAL",
	         "a signal's name or number (USR1, SIGUSR1, RTMIN+2 or 10)",
	         "none"},
	        {"LIBRARY", "anything (the library does not read it)",
	         "the one installed with the launcher"},
	        {"OOM_SWEEP", "anything (the library does not read it)",
	         "the one installed with the launcher"},
	};
	char text[128];
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct da_setting *d = setting(want[i].name);
		assert_int_equal(da_setting_expects(d, text, sizeof(text)),
		                 strlen(want[i].expects));
		assert_string_equal(text, want[i].expects);
		da_setting_default(d, text, sizeof(text));
		assert_string_equal(text, want[i].dflt);
	}
	/* Truncated to the buffer, the whole length returned. */
	assert_int_equal(da_setting_expects(setting("LEAKS"), text, 4), 11);
	assert_string_equal(text, "0, ");
}

/* The table: the variables of this release, each once, with a name the
 * environment and the launcher's --option can carry and one line of text. */
static void
table_is_well_formed(void **state)
{
	(void)state;
	static const char *const names[] = {
	        "LEAKS",        "LEAKS_EXITCODE",  "SUPPRESSIONS",
	        "LOG",          "STACK_DEPTH",     "BREAK",
	        "POISON",       "ON_ERROR",        "LIMIT",
	        "LIMIT_ACTION", "FAIL_AT",         "FAIL_RATE",
	        "FAIL_SEED",    "FAIL_SITE",       "FAIL_LOG",
	        "TEMPORARY",    "SAMPLE_INTERVAL", "DUMP",
	        "DUMP_SIGNAL",  "DUMP_INTERVAL",   "LEAKS_SIGNAL",
	        "GUARD",        "GUARD_SIDE",      "GUARD_ALIGN",
	        "QUARANTINE",   "GUARD_RECOVER",   "GUARD_SEED",
	        "DANGLING",     "LIBRARY",         "OOM_SWEEP"};
	assert_int_equal(da_settings_count, sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < da_settings_count; i++) {
		const struct da_setting *d = &da_settings_table[i];
		assert_string_equal(d->name, names[i]);
		assert_true(strspn(d->name,
		                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
		            strlen(d->name));
		assert_true(d->doc[0] >= 'A' && d->doc[0] <= 'Z');
		assert_null(strchr(d->doc, '\n'));
		assert_true(d->offset < sizeof(struct da_settings));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(d->name,
			                        da_settings_table[j].name);
		if (d->type == DA_SETTING_UINT || d->type == DA_SETTING_SIZE)
			assert_true(d->lo <= d->hi && d->hi != DA_UNSET);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(defaults),
	        cmocka_unit_test(empty_and_foreign_environments),
	        cmocka_unit_test(words),
	        cmocka_unit_test(numbers),
	        cmocka_unit_test(paths_and_launcher),
	        cmocka_unit_test(malformed_values),
	        cmocka_unit_test(unknown_names),
	        cmocka_unit_test(first_problem_first_entry),
	        cmocka_unit_test(error_buffer_limits),
	        cmocka_unit_test(sizes),
	        cmocka_unit_test(size_setting),
	        cmocka_unit_test(durations),
	        cmocka_unit_test(fault_injection_settings),
	        cmocka_unit_test(expects_and_defaults_in_words),
	        cmocka_unit_test(table_is_well_formed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
