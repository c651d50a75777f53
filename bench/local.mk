# bench/ — the benchmark suite (included by the top Makefile.am).
#
#   make bench            every workload under glibc, dbgalloc and the other
#                         installed allocators; one table of ratios to glibc
#   make bench-smoke      the same, once each and scaled down (< 1 minute);
#                         fails when any run crashes or fails
#   make bench-callgrind  instruction counts of the churn loop (valgrind)
#
# The programs are check programs: `make` does not build them, `make check`
# and these targets do. They are plain C at -O2 and do not link dbgalloc:
# every allocator reaches the same binaries through LD_PRELOAD. Settings
# (BENCH_RUNS, BENCH_ONLY, BENCH_ALLOCATORS, BENCH_SCALE, BENCH_GUARD_SCALE,
# BENCH_FENCE_SCALE, BENCH_TIMEOUT) come from the environment; see
# bench/README.md.

DA_BENCH_BINS = \
	bench/churn$(EXEEXT) \
	bench/churn-fp$(EXEEXT) \
	bench/realloc$(EXEEXT) \
	bench/prodcons$(EXEEXT) \
	bench/large$(EXEEXT) \
	bench/xclass$(EXEEXT) \
	bench/leakaudit$(EXEEXT) \
	bench/runone$(EXEEXT)
# Built for make check too: tests/bench-smoke.sh runs every workload once,
# scaled down, under every installed allocator (it measures nothing; it
# proves the benchmark runs and that every allocator gives the same output).
check_PROGRAMS += $(DA_BENCH_BINS)
TESTS += bench/smoke.sh
EXTRA_DIST += bench/smoke.sh
CLEANFILES += \
	bench/results/latest.csv bench/results/latest.txt \
	bench/results/runs.csv bench/results/failures.txt \
	bench/results/failed/*

# -O2 after the warnings: the speed of the benchmark loop itself should not
# depend on how the library is being built (a user CFLAGS still comes last).
DA_BENCH_CFLAGS = $(DA_CFLAGS) -O2
bench_churn_SOURCES = bench/churn.c bench/common.h
bench_churn_CFLAGS = $(DA_BENCH_CFLAGS)
# The same loop with frame pointers kept: DBGALLOC_STACK_DEPTH above 1 walks
# them, and where the program keeps none the walk stops at the first frame.
bench_churn_fp_SOURCES = bench/churn.c bench/common.h
bench_churn_fp_CFLAGS = $(DA_BENCH_CFLAGS) -fno-omit-frame-pointer
bench_realloc_SOURCES = bench/realloc.c
bench_realloc_CFLAGS = $(DA_BENCH_CFLAGS)
bench_prodcons_SOURCES = bench/prodcons.c
bench_prodcons_CFLAGS = $(DA_BENCH_CFLAGS) $(PTHREAD_CFLAGS)
bench_prodcons_LDADD = $(PTHREAD_LIBS)
bench_large_SOURCES = bench/large.c
bench_large_CFLAGS = $(DA_BENCH_CFLAGS)
bench_xclass_SOURCES = bench/xclass.c bench/common.h
bench_xclass_CFLAGS = $(DA_BENCH_CFLAGS) $(PTHREAD_CFLAGS)
bench_xclass_LDADD = $(PTHREAD_LIBS)
bench_leakaudit_SOURCES = bench/leakaudit.c bench/common.h
bench_leakaudit_CFLAGS = $(DA_BENCH_CFLAGS)
bench_runone_SOURCES = bench/runone.c
bench_runone_CFLAGS = $(DA_BENCH_CFLAGS)

EXTRA_DIST += \
	bench/README.md \
	bench/run.sh \
	bench/table.awk \
	bench/callgrind.sh \
	bench/pyjson.py \
	bench/perlhash.pl \
	bench/sqlite.sql

# LeakSanitizer builds of the C programs, for the lsan column: LSan is
# linked in (clang -fsanitize=leak, compiler-rt), not preloaded, so these
# binaries run instead of the ones above. bench/lsan/probe.txt says "ok" when
# $(DA_BENCH_CLANG) can link such a program, else why not; then nothing is
# built and run.sh notes the reason in the table. Warnings as for the gcc
# builds, but never -Werror: a clang-only warning must not stop make check.
DA_BENCH_CLANG = clang
DA_BENCH_LSAN_BINS = \
	bench/lsan/churn \
	bench/lsan/churn-fp \
	bench/lsan/realloc \
	bench/lsan/prodcons \
	bench/lsan/large \
	bench/lsan/xclass \
	bench/lsan/leakaudit
DA_BENCH_LSAN_CC = $(DA_BENCH_CLANG) $(DEFS) $(DEFAULT_INCLUDES) \
	$(AM_CPPFLAGS) $(CPPFLAGS) $(filter-out -Werror,$(DA_CFLAGS)) -O2 \
	-fsanitize=leak $(PTHREAD_CFLAGS)
# Builds $@ from the sources named after it, if the probe said ok.
DA_BENCH_LSAN_BUILD = \
	if test "`cat bench/lsan/probe.txt`" = ok; then \
		$(DA_BENCH_LSAN_CC) -o $@ $(PTHREAD_LIBS)
check_SCRIPTS += $(DA_BENCH_LSAN_BINS)
CLEANFILES += $(DA_BENCH_LSAN_BINS) bench/lsan/probe.txt bench/lsan/probe \
	bench/lsan/probe.err

bench/lsan/probe.txt: Makefile
	$(AM_V_GEN)mkdir -p bench/lsan && \
	if ! command -v $(DA_BENCH_CLANG) >/dev/null 2>&1; then \
		echo "$(DA_BENCH_CLANG) not found (Debian package clang)" >$@; \
	elif echo 'int main(void) { return 0; }' | \
		$(DA_BENCH_CLANG) -fsanitize=leak -x c -o bench/lsan/probe - \
		>bench/lsan/probe.err 2>&1; then \
		echo ok >$@; \
	else \
		echo "$(DA_BENCH_CLANG) -fsanitize=leak cannot link a program:" \
			"`head -n 1 bench/lsan/probe.err`" >$@; \
	fi; rm -f bench/lsan/probe bench/lsan/probe.err
bench/lsan/churn: bench/churn.c bench/common.h bench/lsan/probe.txt
	$(AM_V_GEN)$(DA_BENCH_LSAN_BUILD) $(srcdir)/bench/churn.c; fi
bench/lsan/churn-fp: bench/churn.c bench/common.h bench/lsan/probe.txt
	$(AM_V_GEN)$(DA_BENCH_LSAN_BUILD) -fno-omit-frame-pointer \
		$(srcdir)/bench/churn.c; fi
bench/lsan/realloc: bench/realloc.c bench/lsan/probe.txt
	$(AM_V_GEN)$(DA_BENCH_LSAN_BUILD) $(srcdir)/bench/realloc.c; fi
bench/lsan/prodcons: bench/prodcons.c bench/lsan/probe.txt
	$(AM_V_GEN)$(DA_BENCH_LSAN_BUILD) $(srcdir)/bench/prodcons.c; fi
bench/lsan/large: bench/large.c bench/lsan/probe.txt
	$(AM_V_GEN)$(DA_BENCH_LSAN_BUILD) $(srcdir)/bench/large.c; fi
bench/lsan/xclass: bench/xclass.c bench/common.h bench/lsan/probe.txt
	$(AM_V_GEN)$(DA_BENCH_LSAN_BUILD) $(srcdir)/bench/xclass.c; fi
bench/lsan/leakaudit: bench/leakaudit.c bench/common.h bench/lsan/probe.txt
	$(AM_V_GEN)$(DA_BENCH_LSAN_BUILD) $(srcdir)/bench/leakaudit.c; fi

DA_BENCH_ARGS = \
	--builddir='$(abs_top_builddir)' \
	--srcdir='$(abs_top_srcdir)' \
	--dbgalloc='$(abs_top_builddir)/.libs/libdbgalloc.so' \
	--python3='$(PYTHON3)' \
	--perl='$(PERL)' \
	--sqlite3='$(SQLITE3)'

bench: $(DA_BENCH_BINS) $(DA_BENCH_LSAN_BINS) libdbgalloc.la
	$(SHELL) $(srcdir)/bench/run.sh $(DA_BENCH_ARGS)

# BENCH_SMOKE_SCALE shrinks every workload; the default keeps a run of all
# seven workloads under five allocators well inside a minute.
bench-smoke: $(DA_BENCH_BINS) $(DA_BENCH_LSAN_BINS) libdbgalloc.la
	BENCH_RUNS=1 BENCH_SCALE=$${BENCH_SMOKE_SCALE:-0.05} BENCH_TIMEOUT=$${BENCH_TIMEOUT:-60} \
		$(SHELL) $(srcdir)/bench/run.sh $(DA_BENCH_ARGS)

bench-callgrind: bench/churn$(EXEEXT) bench/churn-fp$(EXEEXT) libdbgalloc.la
	$(SHELL) $(srcdir)/bench/callgrind.sh \
		--builddir='$(abs_top_builddir)' \
		--dbgalloc='$(abs_top_builddir)/.libs/libdbgalloc.so'

.PHONY: bench bench-smoke bench-callgrind

# bench/unwind-cost: ns per call-site capture and per depot lookup, to
# choose the default depth (not part of the tables above). Unlike the
# others it links the core's internals; built by make check so it keeps
# compiling, run by hand: bench/unwind-cost [scale].
check_PROGRAMS += bench/unwind-cost
bench_unwind_cost_SOURCES = bench/unwind-cost.c
bench_unwind_cost_CFLAGS = $(DA_BENCH_CFLAGS) $(PTHREAD_CFLAGS) \
	-fno-omit-frame-pointer -fno-optimize-sibling-calls
bench_unwind_cost_LDADD = libdbgalloc-core.la $(PTHREAD_LIBS)

# bench/guard-cost: us per malloc/free pair of guarded blocks (alloc/guard.c
# directly) and where the time goes: system calls, page faults, the
# kernel's prices on their own. Built by make check so it keeps compiling;
# run by hand: bench/guard-cost [scale].
check_PROGRAMS += bench/guard-cost
bench_guard_cost_SOURCES = bench/guard-cost.c bench/common.h
bench_guard_cost_CFLAGS = $(DA_BENCH_CFLAGS)
bench_guard_cost_LDADD = libdbgalloc-core.la $(PTHREAD_LIBS)

# bench/symbolize-cost: the time tools/symbols.c takes for every pc of a
# dump, cold and cached (what dbgalloc-stats pays before it prints). Built
# by make check so it keeps compiling; run by hand:
# bench/symbolize-cost DUMP [DEBUG_DIR].
check_PROGRAMS += bench/symbolize-cost
bench_symbolize_cost_SOURCES = bench/symbolize-cost.c
bench_symbolize_cost_CFLAGS = $(DA_BENCH_CFLAGS)
bench_symbolize_cost_LDADD = tools/libsymbols.la tools/libdumpread.la

# make bench-stats: dbgalloc-stats's time and memory on a dump of a million
# live blocks, written by bench/statsdump (bench/stats.sh). BENCH_STATS_BLOCKS
# and BENCH_STATS_STACKS change the dump's size.
check_PROGRAMS += bench/statsdump
bench_statsdump_SOURCES = bench/statsdump.c
bench_statsdump_CFLAGS = $(DA_BENCH_CFLAGS)
bench_statsdump_LDADD = tools/libdumpread.la
EXTRA_DIST += bench/stats.sh
bench-stats: bench/statsdump$(EXEEXT) tools/dbgalloc-stats$(EXEEXT)
	$(SHELL) $(srcdir)/bench/stats.sh --builddir='$(abs_top_builddir)'
.PHONY: bench-stats

# make bench-livecheck: the pause of the live leak check with 1 GiB live
# (bench/livecheck.sh; BENCH_MIB, BENCH_RUNS), against 16 MiB.
bench-livecheck: tests/integration/trigger-prog$(EXEEXT) libdbgalloc.la
	DA_TEST_LIB='$(abs_top_builddir)/.libs/libdbgalloc.so' \
	DA_TEST_TOP_BUILDDIR='$(abs_top_builddir)' \
		$(SHELL) $(srcdir)/bench/livecheck.sh
EXTRA_DIST += bench/livecheck.sh
.PHONY: bench-livecheck
