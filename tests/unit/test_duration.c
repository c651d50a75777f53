/*
 * Unit tests of durations (audit/duration.c): every unit, zero, leading
 * zeros, what is refused (EINVAL), what is too long to count (ERANGE, at
 * each unit's exact limit), and that both settings that read durations
 * (DBGALLOC_SAMPLE_INTERVAL, DBGALLOC_DUMP_INTERVAL) accept exactly the
 * durations in their range.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "audit/duration.h"
#include "audit/settings.h"
#include "audit/trigger.h"

#define MS UINT64_C(1000000)

static const struct {
	const char *s;
	uint64_t ns;
} good[] = {
        {"0", 0},
        {"000", 0},
        {"0ms", 0},
        {"0s", 0},
        {"0m", 0},
        {"1ms", MS},
        {"9ms", 9 * MS},
        {"10ms", 10 * MS},
        {"500ms", 500 * MS},
        {"1s", 1000 * MS},
        {"30s", 30000 * MS},
        {"0010s", 10000 * MS},
        {"1m", 60000 * MS},
        {"5m", 300000 * MS},
        {"1440m", UINT64_C(86400000) * MS},
        {"1441m", UINT64_C(86460000) * MS},
        {"86401s", UINT64_C(86401000) * MS},
        /* The last of each unit below 2^64 ns. */
        {"18446744073709ms", UINT64_C(18446744073709000000)},
        {"18446744073s", UINT64_C(18446744073000000000)},
        {"307445734m", UINT64_C(18446744040000000000)},
};

static const struct {
	const char *s;
	int err;
} bad[] = {
        {"", EINVAL},
        {"5", EINVAL},
        {"30", EINVAL},
        {"ms", EINVAL},
        {"s", EINVAL},
        {"1h", EINVAL},
        {"1us", EINVAL},
        {"1ns", EINVAL},
        {"1 s", EINVAL},
        {" 1s", EINVAL},
        {"1s ", EINVAL},
        {"1.5s", EINVAL},
        {"-1s", EINVAL},
        {"+1s", EINVAL},
        {"1sx", EINVAL},
        {"1S", EINVAL},
        {"1MS", EINVAL},
        {"1Ms", EINVAL},
        {"30sec", EINVAL},
        {"5mm", EINVAL},
        {"1ms1", EINVAL},
        {"0x10s", EINVAL},
        /* Too many digits and no unit, or a wrong one: not a duration. */
        {"99999999999999999999999", EINVAL},
        {"99999999999999999999x", EINVAL},
        /* Durations too long to count in 64 bits of nanoseconds. */
        {"18446744073710ms", ERANGE},
        {"18446744074s", ERANGE},
        {"307445735m", ERANGE},
        {"18446744073709551616ms", ERANGE},
        {"99999999999999999999s", ERANGE},
        {"99999999999999999999999s", ERANGE},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void
accepted(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(good); i++) {
		uint64_t ns = 1;
		assert_int_equal(da_duration_parse(good[i].s, &ns), 0);
		assert_true(ns == good[i].ns);
		assert_int_equal(da_duration_check(good[i].s), 0);
	}
}

static void
rejected(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(bad); i++) {
		uint64_t ns = 7;
		assert_int_equal(da_duration_parse(bad[i].s, &ns), bad[i].err);
		assert_true(ns == 7);
		assert_int_equal(da_duration_check(bad[i].s), bad[i].err);
	}
}

/* The value of DBGALLOC_NAME=s through the settings' parser: 0 or -1. */
static int
setting(const char *name, const char *s)
{
	static struct da_settings set;
	char entry[128], err[256];
	size_t n = strlen(name), m = strlen(s);
	assert_true(n + m + 1 < sizeof(entry));
	memcpy(entry, name, n);
	entry[n] = '=';
	memcpy(entry + n + 1, s, m + 1);
	char *env[] = {entry, "DBGALLOC_DUMP=/dev/null", NULL};
	return da_settings_parse(env, &set, err, sizeof(err));
}

/* One syntax for both callers: each accepts s exactly when it is a
 * duration in its own range (the sample interval: any; the dump interval:
 * 10ms to 1440m, in whole milliseconds). */
static void
both_callers(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(good) + COUNT(bad); i++) {
		const char *s =
		        i < COUNT(good) ? good[i].s : bad[i - COUNT(good)].s;
		uint64_t ns = 0, ms = 0;
		int ok = da_duration_parse(s, &ns) == 0;
		int in_range =
		        ok && ns >= 10 * MS && ns <= UINT64_C(86400000) * MS;
		/* Empty is "none" to the settings' parser, as for every text
		 * setting; the duration reader itself refuses it. */
		int set_ok = ok || s[0] == '\0';
		assert_int_equal(setting("DBGALLOC_SAMPLE_INTERVAL", s) == 0,
		                 set_ok);
		assert_int_equal(da_trigger_interval_ms(s, &ms) == 0, in_range);
		assert_int_equal(da_trigger_check_interval(s) == 0, in_range);
		if (in_range)
			assert_true(ms * MS == ns);
		assert_int_equal(setting("DBGALLOC_DUMP_INTERVAL", s) == 0,
		                 in_range || s[0] == '\0');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(accepted),
	        cmocka_unit_test(rejected),
	        cmocka_unit_test(both_callers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
