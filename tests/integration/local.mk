# Integration tier: the public API and C++ operators linked with libdbgalloc,
# start-up and exit traps run linked and preloaded, the launcher, real
# programs under LD_PRELOAD, and a part of the suite run with dbgalloc
# already preloaded (inherited-preload.sh). Included by the top
# Makefile.am; paths are relative to the top. Programs named *-plain are
# built without dbgalloc, to be preloaded; scripts find them through
# DA_TEST_TOP_BUILDDIR.

# -fno-builtin: gcc must not fold or reject the allocation calls under test.
DA_INTEGRATION_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS) -fno-builtin
DA_INTEGRATION_LINKED_CPPFLAGS = $(AM_CPPFLAGS) -DDA_TEST_LINKED=1
DA_INTEGRATION_LINKED_LIBS = libdbgalloc.la $(PTHREAD_LIBS)

check_PROGRAMS += \
	tests/integration/api \
	tests/integration/cxx \
	tests/integration/cxx-plain \
	tests/integration/preinit \
	tests/integration/preinit-plain \
	tests/integration/ctor-dlopen \
	tests/integration/ctor-dlopen-plain \
	tests/integration/exit-thread \
	tests/integration/exit-thread-plain \
	tests/integration/interpose \
	tests/integration/interpose-plain \
	tests/integration/interpose-static

TESTS += \
	tests/integration/api \
	tests/integration/cxx \
	tests/integration/startup.sh \
	tests/integration/preload-basic.sh \
	tests/integration/preload-programs.sh \
	tests/integration/inherited-preload.sh

EXTRA_DIST += \
	tests/integration/startup.sh \
	tests/integration/preload-basic.sh \
	tests/integration/preload-programs.sh \
	tests/integration/inherited-preload.sh

# API conformance (cmocka), one test per behaviour of every entry point.
tests_integration_api_SOURCES = tests/integration/api.c
tests_integration_api_CFLAGS = $(DA_INTEGRATION_CFLAGS) $(CMOCKA_CFLAGS)
tests_integration_api_LDADD = libdbgalloc.la $(CMOCKA_LIBS) $(PTHREAD_LIBS)

# Every operator new/delete form, new-handler, bad_alloc, containers;
# cxx-plain is the same test for startup.sh to run preloaded.
DA_INTEGRATION_CXXFLAGS = $(AM_CXXFLAGS) $(PTHREAD_CFLAGS) -std=gnu++17
tests_integration_cxx_SOURCES = tests/integration/cxx.cc
tests_integration_cxx_CPPFLAGS = $(DA_INTEGRATION_LINKED_CPPFLAGS)
tests_integration_cxx_CXXFLAGS = $(DA_INTEGRATION_CXXFLAGS)
tests_integration_cxx_LDADD = $(DA_INTEGRATION_LINKED_LIBS)
tests_integration_cxx_plain_SOURCES = tests/integration/cxx.cc
tests_integration_cxx_plain_CXXFLAGS = $(DA_INTEGRATION_CXXFLAGS)
tests_integration_cxx_plain_LDADD = $(PTHREAD_LIBS)

# operator new under dbgalloc_limit_set: bad_alloc, the new-handler and its
# retry, nothrow nullptr, a container at the limit. Linked.
check_PROGRAMS += tests/integration/limit-cxx
TESTS += tests/integration/limit-cxx
tests_integration_limit_cxx_SOURCES = tests/integration/limit-cxx.cc
tests_integration_limit_cxx_CPPFLAGS = $(DA_INTEGRATION_LINKED_CPPFLAGS)
tests_integration_limit_cxx_CXXFLAGS = $(DA_INTEGRATION_CXXFLAGS)
tests_integration_limit_cxx_LDADD = $(DA_INTEGRATION_LINKED_LIBS)

# Start-up traps, each built linked (run as is) and plain (preloaded) and
# driven by startup.sh.
tests_integration_preinit_SOURCES = tests/integration/preinit.c \
	tests/integration/probe.h
tests_integration_preinit_CPPFLAGS = $(DA_INTEGRATION_LINKED_CPPFLAGS)
tests_integration_preinit_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_preinit_LDADD = $(DA_INTEGRATION_LINKED_LIBS)
tests_integration_preinit_plain_SOURCES = $(tests_integration_preinit_SOURCES)
tests_integration_preinit_plain_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_preinit_plain_LDADD = $(PTHREAD_LIBS)

tests_integration_ctor_dlopen_SOURCES = tests/integration/ctor-dlopen.c \
	tests/integration/probe.h
tests_integration_ctor_dlopen_CPPFLAGS = $(DA_INTEGRATION_LINKED_CPPFLAGS)
tests_integration_ctor_dlopen_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_ctor_dlopen_LDADD = $(DA_INTEGRATION_LINKED_LIBS)
tests_integration_ctor_dlopen_plain_SOURCES = \
	$(tests_integration_ctor_dlopen_SOURCES)
tests_integration_ctor_dlopen_plain_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_ctor_dlopen_plain_LDADD = $(PTHREAD_LIBS)

tests_integration_exit_thread_SOURCES = tests/integration/exit-thread.c \
	tests/integration/probe.h
tests_integration_exit_thread_CPPFLAGS = $(DA_INTEGRATION_LINKED_CPPFLAGS)
tests_integration_exit_thread_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_exit_thread_LDADD = $(DA_INTEGRATION_LINKED_LIBS)
tests_integration_exit_thread_plain_SOURCES = \
	$(tests_integration_exit_thread_SOURCES)
tests_integration_exit_thread_plain_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_exit_thread_plain_LDADD = $(PTHREAD_LIBS)

tests_integration_interpose_SOURCES = tests/integration/interpose.c \
	tests/integration/probe.h
tests_integration_interpose_CPPFLAGS = $(DA_INTEGRATION_LINKED_CPPFLAGS)
tests_integration_interpose_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_interpose_LDADD = $(DA_INTEGRATION_LINKED_LIBS)
tests_integration_interpose_plain_SOURCES = \
	$(tests_integration_interpose_SOURCES)
tests_integration_interpose_plain_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_interpose_plain_LDADD = $(PTHREAD_LIBS)
# libtool's -static: link libdbgalloc.a into a dynamic executable.
tests_integration_interpose_static_SOURCES = \
	$(tests_integration_interpose_SOURCES)
tests_integration_interpose_static_CPPFLAGS = $(DA_INTEGRATION_LINKED_CPPFLAGS)
tests_integration_interpose_static_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_interpose_static_LDFLAGS = -static
tests_integration_interpose_static_LDADD = $(DA_INTEGRATION_LINKED_LIBS)

# The statistics, the limit and scopes through dbgalloc.h (cmocka), linked.
# -g and frame pointers, no sibling calls: scope listings name the
# allocating function.
DA_INTEGRATION_SITES_CFLAGS = -g -fno-omit-frame-pointer \
	-fno-optimize-sibling-calls
check_PROGRAMS += tests/integration/limit
TESTS += tests/integration/limit
tests_integration_limit_SOURCES = tests/integration/limit.c \
	tests/integration/limitload.h
tests_integration_limit_CFLAGS = $(DA_INTEGRATION_CFLAGS) $(CMOCKA_CFLAGS) \
	$(DA_INTEGRATION_SITES_CFLAGS)
tests_integration_limit_LDADD = libdbgalloc.la $(CMOCKA_LIBS) $(PTHREAD_LIBS)
# DBGALLOC_LIMIT, DBGALLOC_LIMIT_ACTION and the fault injection settings
# end to end, preloaded and through the launcher, on limit-prog (built
# plain, to be preloaded; its allocating functions are named in the
# reports) and on real programs.
check_PROGRAMS += tests/integration/limit-prog
tests_integration_limit_prog_SOURCES = tests/integration/limit-prog.c
tests_integration_limit_prog_CFLAGS = $(DA_INTEGRATION_CFLAGS) \
	$(DA_INTEGRATION_SITES_CFLAGS)
TESTS += tests/integration/limit.sh tests/integration/fail.sh
EXTRA_DIST += tests/integration/limit.sh tests/integration/fail.sh \
	tests/integration/limit-env.sh
# The prologue most test scripts source (its header names them): the
# build's paths, a temporary directory, a clean environment, pass, fail
# and finish.
EXTRA_DIST += tests/integration/test-env.sh

# Dumps end to end (DBGALLOC_DUMP, run --dump, dbgalloc_dump) on dump-prog,
# built plain to be preloaded; dump-check reads each dump whole.
check_PROGRAMS += tests/integration/dump-prog tests/integration/dump-check
tests_integration_dump_prog_SOURCES = tests/integration/dump-prog.c
tests_integration_dump_prog_CFLAGS = $(DA_INTEGRATION_CFLAGS) \
	$(DA_INTEGRATION_SITES_CFLAGS)
tests_integration_dump_prog_LDADD = $(PTHREAD_LIBS)
tests_integration_dump_check_SOURCES = tests/integration/dump-check.c
tests_integration_dump_check_LDADD = tools/libdumpread.la
TESTS += tests/integration/dump.sh
EXTRA_DIST += tests/integration/dump.sh
# The dump's counters (minor 1) to exact numbers on counters-prog, built plain
# to be preloaded, and real programs' dumps read whole.
check_PROGRAMS += tests/integration/counters-prog
tests_integration_counters_prog_SOURCES = tests/integration/counters-prog.c
tests_integration_counters_prog_CFLAGS = $(DA_INTEGRATION_CFLAGS) \
	$(DA_INTEGRATION_SITES_CFLAGS)
tests_integration_counters_prog_LDADD = $(PTHREAD_LIBS)
TESTS += tests/integration/counters.sh
EXTRA_DIST += tests/integration/counters.sh

# What the limit keeps under threads: statistics sampled never above the
# limit, a shrinking realloc never refused.
check_PROGRAMS += tests/integration/limit-races
TESTS += tests/integration/limit-races
tests_integration_limit_races_SOURCES = tests/integration/limit-races.c \
	tests/integration/limitload.h
tests_integration_limit_races_CFLAGS = $(DA_INTEGRATION_CFLAGS) \
	$(CMOCKA_CFLAGS)
tests_integration_limit_races_LDADD = libdbgalloc.la $(CMOCKA_LIBS) \
	$(PTHREAD_LIBS)

# The DBGALLOC_ settings: checked by the library preloaded and linked, set
# by the launcher's options, listed by --help-env.
TESTS += tests/integration/settings.sh
EXTRA_DIST += tests/integration/settings.sh

# The leak report over real programs (leaks-programs.sh: python3, perl, sh,
# git, sqlite3, every report checked for its shape and sums) and through
# the launcher (leaks-launcher.sh: every process of a command, the exit
# code, a log file per process) with two small programs, leak-hundred
# (100 bytes in 1 block) and leak-none, built plain to be preloaded.
check_PROGRAMS += \
	tests/integration/leak-hundred \
	tests/integration/leak-none
tests_integration_leak_hundred_SOURCES = tests/integration/leak-hundred.c
tests_integration_leak_hundred_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_leak_none_SOURCES = tests/integration/leak-none.c
tests_integration_leak_none_CFLAGS = $(DA_INTEGRATION_CFLAGS)
TESTS += \
	tests/integration/leaks-programs.sh \
	tests/integration/leaks-launcher.sh
EXTRA_DIST += \
	tests/integration/leaks-programs.sh \
	tests/integration/leaks-launcher.sh

# The leak report's file:line in programs built by clang -g, which have no
# .debug_aranges (symbolize-clang.sh): clang-leak.c and its library
# clang-leak-lib.c are built by the script with clang, not by make (a
# missing clang fails the test).
TESTS += tests/integration/symbolize-clang.sh
EXTRA_DIST += \
	tests/integration/symbolize-clang.sh \
	tests/integration/clang-leak.c \
	tests/integration/clang-leak-lib.c

# make check-leaks: the whole suite again, under the launcher with the
# leak report on (dbgalloc run --leaks -- make check), so that every
# process of it (make, the harness's shells and seds, each test program
# and what it starts) reports its leaks at exit: the reports of test
# processes land in their .log files, those of make and the harness on
# the terminal. Everything is built first without dbgalloc, so no
# compiler runs under it. Scripts that need exact stderr or a status of
# their own drop the inherited DBGALLOC_ settings (those that source
# tests/integration/test-env.sh); death tests need nothing, as an abort
# runs no exit report. About 4-6 minutes on 2 cores, as long as make
# check. Not part of make check, which it runs.
check-leaks: all dbgalloc
	$(MAKE) $(AM_MAKEFLAGS) $(check_PROGRAMS) $(check_SCRIPTS)
	DBGALLOC_LIBRARY='$(abs_top_builddir)/.libs/libdbgalloc.so' \
		./dbgalloc run --leaks -- $(MAKE) $(AM_MAKEFLAGS) check
.PHONY: check-leaks

# dbgalloc oom-sweep (tools/oom-sweep.c) through the launcher: five small
# programs built plain, each one behaviour on out of memory (right
# everywhere, a crash, a leak, a hang, an uncaught std::bad_alloc), swept
# by oom-sweep.sh.
check_PROGRAMS += \
	tests/integration/oom-clean \
	tests/integration/oom-crash \
	tests/integration/oom-leak \
	tests/integration/oom-hang \
	tests/integration/oom-cxx
tests_integration_oom_clean_SOURCES = tests/integration/oom-clean.c
tests_integration_oom_clean_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_oom_crash_SOURCES = tests/integration/oom-crash.c
tests_integration_oom_crash_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_oom_leak_SOURCES = tests/integration/oom-leak.c
tests_integration_oom_leak_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_oom_hang_SOURCES = tests/integration/oom-hang.c
tests_integration_oom_hang_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_oom_cxx_SOURCES = tests/integration/oom-cxx.cc
tests_integration_oom_cxx_CXXFLAGS = $(DA_INTEGRATION_CXXFLAGS)
TESTS += tests/integration/oom-sweep.sh
EXTRA_DIST += tests/integration/oom-sweep.sh

# The test helpers of dbgalloc-test.h and dbgalloc-cmocka.h: check-cmocka
# (some tests must fail, with their messages) and check-plain (the macro
# form), both run and judged by cmocka-helpers.sh. -g and frame pointers,
# so that the messages' call sites name the allocating functions.
check_PROGRAMS += \
	tests/integration/check-cmocka \
	tests/integration/check-plain
DA_CHECK_HELPERS_CFLAGS = $(DA_INTEGRATION_CFLAGS) -g -fno-omit-frame-pointer
tests_integration_check_cmocka_SOURCES = tests/integration/check-cmocka.c
tests_integration_check_cmocka_CFLAGS = $(DA_CHECK_HELPERS_CFLAGS) \
	$(CMOCKA_CFLAGS)
tests_integration_check_cmocka_LDADD = libdbgalloc.la $(CMOCKA_LIBS) \
	$(PTHREAD_LIBS)
tests_integration_check_plain_SOURCES = tests/integration/check-plain.c
tests_integration_check_plain_CFLAGS = $(DA_CHECK_HELPERS_CFLAGS)
tests_integration_check_plain_LDADD = $(DA_INTEGRATION_LINKED_LIBS)
TESTS += tests/integration/cmocka-helpers.sh
EXTRA_DIST += tests/integration/cmocka-helpers.sh

# dbgalloc-stats: every command on the dumps of tests/dumps against its
# golden output (stats-golden.sh, cases in tests/dumps/stats/cases), then
# on dumps of real programs (stats.sh).
TESTS += tests/integration/stats-golden.sh
EXTRA_DIST += tests/integration/stats-golden.sh tests/dumps/stats
check_PROGRAMS += tests/integration/stats-prog
tests_integration_stats_prog_SOURCES = tests/integration/stats-prog.c
tests_integration_stats_prog_CFLAGS = $(DA_INTEGRATION_CFLAGS) \
	$(DA_INTEGRATION_SITES_CFLAGS)
TESTS += tests/integration/stats.sh
EXTRA_DIST += tests/integration/stats.sh

# The dump triggers and the live leak check (triggers.sh): trigger-prog
# (see its header), built plain to be preloaded, with frame pointers and
# -g so that its call sites have names and lines; the live checks go
# through `dbgalloc-stats leaks --pid` (tools/stats-pid.c); dump-check
# (above) reads each dump whole.
check_PROGRAMS += tests/integration/trigger-prog
tests_integration_trigger_prog_SOURCES = tests/integration/trigger-prog.c
tests_integration_trigger_prog_CFLAGS = $(DA_INTEGRATION_CFLAGS) \
	$(DA_INTEGRATION_SITES_CFLAGS)
tests_integration_trigger_prog_LDADD = $(PTHREAD_LIBS)
TESTS += tests/integration/triggers.sh
EXTRA_DIST += tests/integration/triggers.sh

# make soak (the regression tier's, tests/regress/local.mk) also runs
# triggers.sh with its signal storm (dumps and live checks asked for every
# 50 ms by 8 working threads) lasting 10 minutes.
soak: soak-triggers
soak-triggers: tests/integration/trigger-prog$(EXEEXT) \
		tools/dbgalloc-stats$(EXEEXT) \
		tests/integration/dump-check$(EXEEXT) \
		tests/integration/limit-prog$(EXEEXT) libdbgalloc.la dbgalloc
	DA_TEST_LIB='$(abs_top_builddir)/.libs/libdbgalloc.so' \
	DA_TEST_TOP_BUILDDIR='$(abs_top_builddir)' \
	PYTHON3='$(PYTHON3)' PERL='$(PERL)' DA_TEST_SOAK_SECONDS=600 \
		$(SHELL) $(srcdir)/tests/integration/triggers.sh
.PHONY: soak-triggers

# A lost block whose last copies are stale words, the program's overwritten
# by a second call chain, dbgalloc's below the report's entry point: the
# report must find it lost at every alignment of the two. Linked.
check_PROGRAMS += tests/integration/leak-stale
TESTS += tests/integration/leak-stale
tests_integration_leak_stale_SOURCES = tests/integration/leak-stale.c
tests_integration_leak_stale_CPPFLAGS = $(DA_INTEGRATION_LINKED_CPPFLAGS)
tests_integration_leak_stale_CFLAGS = $(DA_INTEGRATION_CFLAGS)
tests_integration_leak_stale_LDFLAGS = -Wl,-z,now
tests_integration_leak_stale_LDADD = $(DA_INTEGRATION_LINKED_LIBS)

# DBGALLOC_DANGLING: a stale pointer planted in a live block and in a
# global, found by the sweep when its block leaves the quarantine
# (dangling.sh); dangling-prog is built plain, to be preloaded, with
# frame pointers and -g so that the reports name its functions.
check_PROGRAMS += tests/integration/dangling-prog
tests_integration_dangling_prog_SOURCES = tests/integration/dangling-prog.c
tests_integration_dangling_prog_CFLAGS = $(DA_INTEGRATION_CFLAGS) \
	$(DA_INTEGRATION_SITES_CFLAGS)
tests_integration_dangling_prog_LDADD = $(PTHREAD_LIBS)
TESTS += tests/integration/dangling.sh
EXTRA_DIST += tests/integration/dangling.sh
