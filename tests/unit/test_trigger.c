/*
 * Unit tests of the triggers' words (audit/trigger.c): signal names and
 * numbers, the signals refused, the names printed, intervals and their
 * range; the live check's UTC time (audit/livecheck.c); and the report
 * capture that writes a report in one write (audit/report.c).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "audit/livecheck.h"
#include "audit/report.h"
#include "audit/trigger.h"

static void
signal_names(void **state)
{
	(void)state;
	assert_int_equal(da_trigger_signal("USR2"), SIGUSR2);
	assert_int_equal(da_trigger_signal("SIGUSR2"), SIGUSR2);
	assert_int_equal(da_trigger_signal("usr1"), SIGUSR1);
	assert_int_equal(da_trigger_signal("SigHup"), SIGHUP);
	assert_int_equal(da_trigger_signal("12"), 12);
	assert_int_equal(da_trigger_signal("POLL"), SIGIO);
	assert_int_equal(da_trigger_signal("RTMIN"), SIGRTMIN);
	assert_int_equal(da_trigger_signal("SIGRTMIN+2"), SIGRTMIN + 2);
	assert_int_equal(da_trigger_signal("rtmax-3"), SIGRTMAX - 3);
	assert_int_equal(da_trigger_signal("RTMAX"), SIGRTMAX);
	assert_int_equal(da_trigger_signal("34"), SIGRTMIN);
}

static void
signals_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "",         "SIG",        "USR3",   "USR",     "USR22",
	        "KILL",     "SIGSTOP",    "SEGV",   "BUS",     "FPE",
	        "ILL",      "TRAP",       "SYS",    "ABRT",    "IOT",
	        "0",        "32",         "33",     "65",      "99999",
	        "-1",       "12x",        "RTMIN+", "RTMIN+x", "RTMAX-1",
	        "RTMIN+99", "SIGSIGUSR1", " USR1",  "USR1 "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(da_trigger_signal(bad[i]), -1);
		assert_int_equal(da_trigger_check_signal(bad[i]), -1);
	}
	/* SIGRTMAX-1 stops threads for the leak check. */
	char num[16];
	snprintf(num, sizeof(num), "%d", SIGRTMAX - 1);
	assert_int_equal(da_trigger_signal(num), -1);
	assert_int_equal(da_trigger_check_signal("USR1"), 0);
}

static void
names_printed(void **state)
{
	(void)state;
	char buf[16];
	assert_string_equal(da_trigger_signal_name(SIGUSR2, buf, sizeof(buf)),
	                    "USR2");
	assert_string_equal(da_trigger_signal_name(SIGABRT, buf, sizeof(buf)),
	                    "ABRT");
	assert_string_equal(da_trigger_signal_name(SIGIO, buf, sizeof(buf)),
	                    "IO");
	assert_string_equal(da_trigger_signal_name(SIGRTMIN, buf, sizeof(buf)),
	                    "RTMIN");
	assert_string_equal(
	        da_trigger_signal_name(SIGRTMIN + 3, buf, sizeof(buf)),
	        "RTMIN+3");
	assert_string_equal(
	        da_trigger_signal_name(SIGRTMAX - 2, buf, sizeof(buf)),
	        "RTMAX-2");
	assert_string_equal(da_trigger_signal_name(SIGRTMAX, buf, sizeof(buf)),
	                    "RTMAX");
	assert_string_equal(da_trigger_signal_name(32, buf, sizeof(buf)), "32");
	/* Cut to fit, terminated. */
	assert_string_equal(da_trigger_signal_name(SIGUSR2, buf, 3), "US");
	/* Every name read back is the same signal. */
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		if (da_trigger_signal(
		            da_trigger_signal_name(sig, buf, sizeof(buf))) < 0)
			continue;
		assert_int_equal(da_trigger_signal(buf), sig);
	}
}

static void
intervals(void **state)
{
	(void)state;
	uint64_t ms = 0;
	assert_int_equal(da_trigger_interval_ms("100ms", &ms), 0);
	assert_int_equal(ms, 100);
	assert_int_equal(da_trigger_interval_ms("30s", &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(da_trigger_interval_ms("5m", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(da_trigger_interval_ms("10ms", &ms), 0);
	assert_int_equal(ms, 10);
	assert_int_equal(da_trigger_interval_ms("1440m", &ms), 0);
	assert_int_equal(ms, 86400000);
	assert_int_equal(da_trigger_interval_ms("0010s", &ms), 0);
	assert_int_equal(ms, 10000);
	static const char *const bad[] = {
	        "",      "30",    "s",      "9ms",
	        "0s",    "1441m", "86401s", "1h",
	        "30 s",  "30S",   "1.5s",   "-1s",
	        "30sec", "ms",    "5mm",    "99999999999999999999999s"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 7;
		assert_int_equal(da_trigger_interval_ms(bad[i], &ms), -1);
		assert_int_equal(ms, 7);
		assert_int_equal(da_trigger_check_interval(bad[i]), -1);
	}
}

static void
utc_times(void **state)
{
	(void)state;
	char buf[32];
	da_live_utc(0, buf);
	assert_string_equal(buf, "1970-01-01 00:00:00 UTC");
	da_live_utc(951782400ull * 1000000000u, buf); /* a leap day */
	assert_string_equal(buf, "2000-02-29 00:00:00 UTC");
	da_live_utc(1740830399ull * 1000000000u + 999999999u, buf);
	assert_string_equal(buf, "2025-03-01 11:59:59 UTC");
	da_live_utc(4102444800ull * 1000000000u, buf);
	assert_string_equal(buf, "2100-01-01 00:00:00 UTC");
}

/* A read that would block: -1. */
static ssize_t
read_now(int fd, char *c)
{
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	ssize_t n = read(fd, c, 1);
	fcntl(fd, F_SETFL, flags);
	return n;
}

/* The capture: lines kept until the end, then written in one write to
 * where reports go (standard error, here a pipe). */
static void
capture_writes_once(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	int saved = dup(2);
	assert_int_equal(dup2(p[1], 2), 2);
	da_report_capture_begin();
	struct da_line l = {.len = 0};
	for (int i = 0; i < 3000; i++) {
		da_line_str(&l, "line ");
		da_line_dec(&l, (unsigned long)i);
		da_line_emit(&l);
	}
	char nothing;
	/* Nothing written yet. */
	assert_int_equal(read_now(p[0], &nothing), -1);
	da_report_capture_end();
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	size_t want = 0;
	for (int i = 0; i < 3000; i++)
		want += (size_t)snprintf(NULL, 0, "line %d\n", i);
	char *all = malloc(want + 1);
	size_t got = 0;
	for (ssize_t n; (n = read(p[0], all + got, want + 1 - got)) > 0;)
		got += (size_t)n;
	assert_int_equal(got, want);
	all[got] = '\0';
	assert_memory_equal(all, "line 0\nline 1\n", 14);
	assert_non_null(strstr(all, "\nline 2999\n"));
	free(all);
	close(p[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(signal_names),
	        cmocka_unit_test(signals_refused),
	        cmocka_unit_test(names_printed),
	        cmocka_unit_test(intervals),
	        cmocka_unit_test(utc_times),
	        cmocka_unit_test(capture_writes_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
