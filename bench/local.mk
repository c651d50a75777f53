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
# (BENCH_RUNS, BENCH_ONLY, BENCH_ALLOCATORS, BENCH_SCALE, BENCH_TIMEOUT) come
# from the environment; see bench/README.md.

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

DA_BENCH_ARGS = \
	--builddir='$(abs_top_builddir)' \
	--srcdir='$(abs_top_srcdir)' \
	--dbgalloc='$(abs_top_builddir)/.libs/libdbgalloc.so' \
	--python3='$(PYTHON3)' \
	--perl='$(PERL)' \
	--sqlite3='$(SQLITE3)'

bench: $(DA_BENCH_BINS) libdbgalloc.la
	$(SHELL) $(srcdir)/bench/run.sh $(DA_BENCH_ARGS)

# BENCH_SMOKE_SCALE shrinks every workload; the default keeps a run of all
# seven workloads under five allocators well inside a minute.
bench-smoke: $(DA_BENCH_BINS) libdbgalloc.la
	BENCH_RUNS=1 BENCH_SCALE=$${BENCH_SMOKE_SCALE:-0.05} BENCH_TIMEOUT=$${BENCH_TIMEOUT:-60} \
		$(SHELL) $(srcdir)/bench/run.sh $(DA_BENCH_ARGS)

bench-callgrind: bench/churn$(EXEEXT) libdbgalloc.la
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
