# Unit tests (cmocka) of alloc/ and audit/ internals, linked against the
# core convenience library so hidden functions are reachable.
DA_UNIT_TESTS = \
	tests/unit/test_sizeclass \
	tests/unit/test_pagemap \
	tests/unit/test_heap \
	tests/unit/test_lookup \
	tests/unit/test_walk \
	tests/unit/test_pages \
	tests/unit/test_remote_race
check_PROGRAMS += $(DA_UNIT_TESTS)
TESTS += $(DA_UNIT_TESTS)
DA_UNIT_CFLAGS = $(DA_CFLAGS) $(CMOCKA_CFLAGS) -ftls-model=initial-exec
DA_UNIT_LDADD = libdbgalloc-core.la $(CMOCKA_LIBS) $(PTHREAD_LIBS)

tests_unit_test_sizeclass_SOURCES = tests/unit/test_sizeclass.c
tests_unit_test_sizeclass_CFLAGS = $(DA_UNIT_CFLAGS)
tests_unit_test_sizeclass_LDADD = $(DA_UNIT_LDADD)
tests_unit_test_pagemap_SOURCES = tests/unit/test_pagemap.c
tests_unit_test_pagemap_CFLAGS = $(DA_UNIT_CFLAGS)
tests_unit_test_pagemap_LDADD = $(DA_UNIT_LDADD)
tests_unit_test_heap_SOURCES = tests/unit/test_heap.c
tests_unit_test_heap_CFLAGS = $(DA_UNIT_CFLAGS) $(PTHREAD_CFLAGS)
tests_unit_test_heap_LDADD = $(DA_UNIT_LDADD)
tests_unit_test_lookup_SOURCES = tests/unit/test_lookup.c
tests_unit_test_lookup_CFLAGS = $(DA_UNIT_CFLAGS)
tests_unit_test_lookup_LDADD = $(DA_UNIT_LDADD)
tests_unit_test_walk_SOURCES = tests/unit/test_walk.c
tests_unit_test_walk_CFLAGS = $(DA_UNIT_CFLAGS)
tests_unit_test_walk_LDADD = $(DA_UNIT_LDADD)
tests_unit_test_pages_SOURCES = tests/unit/test_pages.c
tests_unit_test_pages_CFLAGS = $(DA_UNIT_CFLAGS)
tests_unit_test_pages_LDADD = $(DA_UNIT_LDADD)
# Built with its own copy of alloc/, compiled with DA_TEST_HOOKS: the hook
# that stops a remote free after its CAS exists only there.
tests_unit_test_remote_race_SOURCES = tests/unit/test_remote_race.c \
	alloc/os.c alloc/sizeclass.c alloc/chunk.c alloc/pagemap.c \
	alloc/heap.c alloc/large.c alloc/pages.c alloc/alloc.c alloc/walk.c \
	alloc/guard.c alloc/guardspace.c alloc/guardprot.c
tests_unit_test_remote_race_CPPFLAGS = $(AM_CPPFLAGS) -DDA_TEST_HOOKS=1
tests_unit_test_remote_race_CFLAGS = $(DA_UNIT_CFLAGS) $(PTHREAD_CFLAGS) \
	$(DA_LIB_CFLAGS)
tests_unit_test_remote_race_LDADD = $(CMOCKA_LIBS) $(PTHREAD_LIBS)

# Guard-page blocks (alloc/guard.c): layout, faults, quarantine, lookups,
# the mprotect fallback and its ceiling, 200,000 live blocks (~0.8 GiB).
check_PROGRAMS += tests/unit/test_guard
TESTS += tests/unit/test_guard
tests_unit_test_guard_SOURCES = tests/unit/test_guard.c
tests_unit_test_guard_CFLAGS = $(DA_UNIT_CFLAGS) $(PTHREAD_CFLAGS)
tests_unit_test_guard_LDADD = $(DA_UNIT_LDADD)

# Report-time symbolization and suppressions. -g -O0 for exact call-site
# lines; test_symbolize_nopie is the same test as a non-PIE program (the
# main program's load bias is then 0).
DA_SYM_TESTS = \
	tests/unit/test_symbolize \
	tests/unit/test_symbolize_nopie \
	tests/unit/test_suppress
check_PROGRAMS += $(DA_SYM_TESTS)
TESTS += $(DA_SYM_TESTS)
tests_unit_test_symbolize_SOURCES = tests/unit/test_symbolize.c
tests_unit_test_symbolize_CFLAGS = $(DA_UNIT_CFLAGS) -g -O0
tests_unit_test_symbolize_LDADD = $(DA_UNIT_LDADD) $(DL_LIBS)
tests_unit_test_symbolize_nopie_SOURCES = tests/unit/test_symbolize.c
tests_unit_test_symbolize_nopie_CFLAGS = $(DA_UNIT_CFLAGS) -g -O0 -fno-pie
tests_unit_test_symbolize_nopie_LDFLAGS = -no-pie
tests_unit_test_symbolize_nopie_LDADD = $(DA_UNIT_LDADD) $(DL_LIBS)
tests_unit_test_suppress_SOURCES = tests/unit/test_suppress.c
tests_unit_test_suppress_CFLAGS = $(DA_UNIT_CFLAGS) -g -O0
tests_unit_test_suppress_LDADD = $(DA_UNIT_LDADD) $(DL_LIBS)
# The stack depot and the unwinder (audit/depot.c, audit/unwind.c). The
# unwinder's test is built with frame pointers (its call chains are what
# it checks) and exports its functions so dladdr can name them.
check_PROGRAMS += tests/unit/test_depot tests/unit/test_unwind
TESTS += tests/unit/test_depot tests/unit/test_unwind
tests_unit_test_depot_SOURCES = tests/unit/test_depot.c
tests_unit_test_depot_CFLAGS = $(DA_UNIT_CFLAGS) $(PTHREAD_CFLAGS)
tests_unit_test_depot_LDADD = $(DA_UNIT_LDADD)
tests_unit_test_unwind_SOURCES = tests/unit/test_unwind.c
tests_unit_test_unwind_CFLAGS = $(DA_UNIT_CFLAGS) $(PTHREAD_CFLAGS) \
	-fno-omit-frame-pointer -fno-optimize-sibling-calls
tests_unit_test_unwind_LDFLAGS = -export-dynamic
tests_unit_test_unwind_LDADD = $(DA_UNIT_LDADD)
# make soak also runs test_unwind again and again for 10 minutes: its
# captures from signal handlers during dlopen hung about once in a
# hundred runs before libunwind was kept off the loader's lock.
soak: soak-unwind
soak-unwind: tests/unit/test_unwind$(EXEEXT)
	@end=$$(( $$(date +%s) + 600 )); n=0; \
	while [ $$(date +%s) -lt $$end ]; do \
		tests/unit/test_unwind >soak-unwind.log 2>&1 || { \
			cat soak-unwind.log; \
			echo "soak-unwind: run $$n failed"; exit 1; }; \
		n=$$((n + 1)); \
	done; rm -f soak-unwind.log; \
	echo "soak-unwind: $$n runs of test_unwind in 600 s, none failed"
.PHONY: soak-unwind
CLEANFILES += soak-unwind.log

# The DBGALLOC_ settings: every type, default and message.
check_PROGRAMS += tests/unit/test_settings
TESTS += tests/unit/test_settings
tests_unit_test_settings_SOURCES = tests/unit/test_settings.c
tests_unit_test_settings_CFLAGS = $(DA_UNIT_CFLAGS)
tests_unit_test_settings_LDADD = $(DA_UNIT_LDADD)
# Durations (audit/duration.c), as both settings that take one read them.
check_PROGRAMS += tests/unit/test_duration
TESTS += tests/unit/test_duration
tests_unit_test_duration_SOURCES = tests/unit/test_duration.c
tests_unit_test_duration_CFLAGS = $(DA_UNIT_CFLAGS)
tests_unit_test_duration_LDADD = $(DA_UNIT_LDADD)

# The leak scan's classification (audit/leak.c).
# The triggers' words (signals, intervals), the live check's time, the
# report capture.
check_PROGRAMS += tests/unit/test_trigger
TESTS += tests/unit/test_trigger
tests_unit_test_trigger_SOURCES = tests/unit/test_trigger.c
tests_unit_test_trigger_CFLAGS = $(DA_UNIT_CFLAGS)
tests_unit_test_trigger_LDADD = $(DA_UNIT_LDADD) $(DL_LIBS)
# The live check's forked scan and report, the dumper thread.
check_PROGRAMS += tests/unit/test_livecheck
TESTS += tests/unit/test_livecheck
tests_unit_test_livecheck_SOURCES = tests/unit/test_livecheck.c
tests_unit_test_livecheck_CFLAGS = $(DA_UNIT_CFLAGS) $(PTHREAD_CFLAGS) -O1
tests_unit_test_livecheck_LDADD = $(DA_UNIT_LDADD) $(DL_LIBS)

check_PROGRAMS += tests/unit/test_leak
TESTS += tests/unit/test_leak
tests_unit_test_leak_SOURCES = tests/unit/test_leak.c
tests_unit_test_leak_CFLAGS = $(DA_UNIT_CFLAGS) -O1
tests_unit_test_leak_LDADD = $(DA_UNIT_LDADD) $(DL_LIBS)
# The scan bound: the outermost entry's, what the scan of the calling
# thread's stack reads above and below it, a thread of dbgalloc's own.
check_PROGRAMS += tests/unit/test_scanbound
TESTS += tests/unit/test_scanbound
tests_unit_test_scanbound_SOURCES = tests/unit/test_scanbound.c
tests_unit_test_scanbound_CFLAGS = $(DA_UNIT_CFLAGS) $(PTHREAD_CFLAGS) -O1
tests_unit_test_scanbound_LDADD = $(DA_UNIT_LDADD) $(DL_LIBS) $(PTHREAD_LIBS)

# The block header, the free record, generations and epochs.
check_PROGRAMS += tests/unit/test_header
TESTS += tests/unit/test_header
tests_unit_test_header_SOURCES = tests/unit/test_header.c
tests_unit_test_header_CFLAGS = $(DA_UNIT_CFLAGS)
tests_unit_test_header_LDADD = $(DA_UNIT_LDADD) $(DL_LIBS)

# oom-sweep's reader of the reports (tools/sweeplog.c): every line shape.
check_PROGRAMS += tests/unit/test_sweeplog
TESTS += tests/unit/test_sweeplog
tests_unit_test_sweeplog_SOURCES = tests/unit/test_sweeplog.c \
	tools/sweeplog.h tools/sweeplog.c
tests_unit_test_sweeplog_CFLAGS = $(DA_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sweeplog_LDADD = $(CMOCKA_LIBS)

# The byte accounting, the limit and scopes, through the audit layer.
check_PROGRAMS += tests/unit/test_acct
TESTS += tests/unit/test_acct
tests_unit_test_acct_SOURCES = tests/unit/test_acct.c
tests_unit_test_acct_CFLAGS = $(DA_UNIT_CFLAGS) $(PTHREAD_CFLAGS)
tests_unit_test_acct_LDADD = $(DA_UNIT_LDADD) $(DL_LIBS)

# The dump writer (audit/dump.c): a dump of known blocks read back record
# by record, names, atomic publish, errors, and the time for a million
# live blocks (printed).
# The counters behind the dump's minor-1 records (sitestats, steps,
# timeline, epochs, the classes' counts).
check_PROGRAMS += tests/unit/test_counters
TESTS += tests/unit/test_counters
tests_unit_test_counters_SOURCES = tests/unit/test_counters.c
tests_unit_test_counters_CFLAGS = $(DA_UNIT_CFLAGS) $(PTHREAD_CFLAGS) \
	-fno-omit-frame-pointer -fno-optimize-sibling-calls
tests_unit_test_counters_LDADD = $(DA_UNIT_LDADD) $(DL_LIBS)

check_PROGRAMS += tests/unit/test_dump
TESTS += tests/unit/test_dump
tests_unit_test_dump_SOURCES = tests/unit/test_dump.c
tests_unit_test_dump_CFLAGS = $(DA_UNIT_CFLAGS) -O1
tests_unit_test_dump_LDADD = $(DA_UNIT_LDADD) $(DL_LIBS)

# The dump reader (tools/dumpread.c): the golden dumps of tests/dumps and
# dumps made by dumpgen, every message; a large dump's reading, timed.
check_PROGRAMS += tests/unit/test_dumpread
TESTS += tests/unit/test_dumpread
tests_unit_test_dumpread_SOURCES = tests/unit/test_dumpread.c \
	tests/unit/dumpgen.h tests/unit/dumpgen.c
tests_unit_test_dumpread_CFLAGS = $(DA_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dumpread_LDADD = tools/libdumpread.la $(CMOCKA_LIBS)
EXTRA_DIST += tests/dumps/regen.py tests/dumps/good.dump \
	tests/dumps/truncated.dump tests/dumps/bad-checksum.dump \
	tests/dumps/unknown-record.dump tests/dumps/unknown-columns.dump \
	tests/dumps/minor-version.dump tests/dumps/major-version.dump \
	tests/dumps/overlong-line.dump tests/dumps/before-fields.dump \
	tests/dumps/bad-number.dump tests/dumps/empty.dump \
	tests/dumps/foreign.dump tests/dumps/good-minor1.dump \
	tests/dumps/long-histogram.dump tests/dumps/bad-histogram.dump

# The offline symbolizer (tools/symbols.c) on a real dump: symprog, run
# under the library by the test, allocates from known lines, through an
# inlined function, strdup, and a C++ library it dlopen()s (libsymtest, a
# shared library built for the test only); then the same dump with a
# module's build id, path or segments changed, hostile files, a debug
# directory, and DA_SYMS_NONE. Frame pointers for the program's own stack
# walk; -fno-builtin so that strdup stays a call to libc.
check_PROGRAMS += tests/unit/test_symbols tests/unit/symprog
TESTS += tests/unit/test_symbols
check_LTLIBRARIES = tests/unit/libsymtest.la
tests_unit_test_symbols_SOURCES = tests/unit/test_symbols.c \
	tests/unit/dumpgen.h tests/unit/dumpgen.c
tests_unit_test_symbols_CFLAGS = $(DA_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_symbols_LDADD = tools/libsymbols.la tools/libdumpread.la \
	$(CMOCKA_LIBS)
DA_SYMPROG_FLAGS = -g -fno-omit-frame-pointer -fno-optimize-sibling-calls \
	-fno-builtin
tests_unit_symprog_SOURCES = tests/unit/symprog.c
tests_unit_symprog_CFLAGS = $(DA_CFLAGS) $(DA_SYMPROG_FLAGS)
tests_unit_symprog_LDADD = $(DL_LIBS)
tests_unit_libsymtest_la_SOURCES = tests/unit/symtest.cc
tests_unit_libsymtest_la_CXXFLAGS = $(DA_CXXFLAGS) $(DA_SYMPROG_FLAGS)
tests_unit_libsymtest_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere

# dbgalloc-stats's quantities and its output document (tools/stats-units.c,
# tools/stats-out.c): sizes read and written, text and JSON forms.
check_PROGRAMS += tests/unit/test_stats
TESTS += tests/unit/test_stats
tests_unit_test_stats_SOURCES = tests/unit/test_stats.c \
	tools/stats-out.h tools/stats-out.c \
	tools/stats-units.h tools/stats-units.c
tests_unit_test_stats_CFLAGS = $(DA_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_stats_LDADD = $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_locked_signal
TESTS += tests/unit/test_locked_signal
tests_unit_test_locked_signal_SOURCES = tests/unit/test_locked_signal.c
tests_unit_test_locked_signal_CFLAGS = $(DA_UNIT_CFLAGS) $(PTHREAD_CFLAGS)
tests_unit_test_locked_signal_LDADD = $(DA_UNIT_LDADD) $(DL_LIBS) $(PTHREAD_LIBS)

# The eviction ring of guard-page blocks (alloc/guard.c): what the
# quarantine pushes out, noted for DBGALLOC_DANGLING's sweep.
check_PROGRAMS += tests/unit/test_guardevict
TESTS += tests/unit/test_guardevict
tests_unit_test_guardevict_SOURCES = tests/unit/test_guardevict.c
tests_unit_test_guardevict_CFLAGS = $(DA_UNIT_CFLAGS) $(PTHREAD_CFLAGS)
tests_unit_test_guardevict_LDADD = $(DA_UNIT_LDADD)
