# DBGALLOC_GUARD under LD_PRELOAD (issue 16). run.sh: death tests of
# guard-prog and guard-cxx (built without dbgalloc, misuse chosen by
# argument), the entry points' results, sampling, recovery, chaining of a
# program's SIGSEGV handler, fork. million.sh: a million guarded blocks
# live at once. workloads.sh: python3 and perl under DBGALLOC_GUARD=1.
check_PROGRAMS += tests/guard/guard-prog tests/guard/guard-cxx
tests_guard_guard_prog_SOURCES = tests/guard/guard-prog.c
tests_guard_guard_prog_CFLAGS = $(AM_CFLAGS) -fno-builtin
tests_guard_guard_cxx_SOURCES = tests/guard/guard-cxx.cc
tests_guard_guard_cxx_CXXFLAGS = $(AM_CXXFLAGS) -std=gnu++17 -fno-builtin \
	-fsized-deallocation
TESTS += tests/guard/run.sh
EXTRA_DIST += tests/guard/run.sh

# A million guarded blocks live: some 4.1 GB resident, bounded, run only
# where MemAvailable has room (million.sh says what it measured).
check_PROGRAMS += tests/guard/million
tests_guard_million_SOURCES = tests/guard/million.c
tests_guard_million_CFLAGS = $(AM_CFLAGS) -fno-builtin
TESTS += tests/guard/million.sh
EXTRA_DIST += tests/guard/million.sh

# python3 (pymalloc and PYTHONMALLOC=malloc, and a fork) and perl.
TESTS += tests/guard/workloads.sh
EXTRA_DIST += tests/guard/workloads.sh

# make soak also runs, under DBGALLOC_GUARD=1 and preloaded: 10,000 forks
# among 8 allocating threads (fork-mt), and signal-heavy for 10 minutes.
soak: soak-guard
soak-guard: tests/regress/fork-mt-plain$(EXEEXT) \
		tests/stress/signal-heavy-plain$(EXEEXT) libdbgalloc.la
	DA_TEST_FORKS=10000 DBGALLOC_GUARD=1 \
		LD_PRELOAD='$(abs_top_builddir)/.libs/libdbgalloc.so' \
		tests/regress/fork-mt-plain --expect-dbgalloc
	DBGALLOC_GUARD=1 \
		LD_PRELOAD='$(abs_top_builddir)/.libs/libdbgalloc.so' \
		tests/stress/signal-heavy-plain --expect-dbgalloc 600
.PHONY: soak-guard
