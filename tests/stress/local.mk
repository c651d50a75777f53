# Stress tier: threads, fork, thread churn and allocating signal handlers,
# each built linked with libdbgalloc (run directly) and plain (run by
# preload.sh under LD_PRELOAD). About 20 s on 2 cores; keep it under a
# minute.

DA_STRESS_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS) -fno-builtin
DA_STRESS_LINKED_CPPFLAGS = $(AM_CPPFLAGS) -DDA_TEST_LINKED=1

check_PROGRAMS += \
	tests/stress/threads \
	tests/stress/threads-plain \
	tests/stress/fork \
	tests/stress/fork-plain \
	tests/stress/thread-churn \
	tests/stress/thread-churn-plain \
	tests/stress/signal \
	tests/stress/signal-plain \
	tests/stress/signal-heavy \
	tests/stress/signal-heavy-plain \
	tests/stress/fork-zombies \
	tests/stress/fork-zombies-plain \
	tests/stress/limit-threads \
	tests/stress/limit-threads-plain

TESTS += \
	tests/stress/threads \
	tests/stress/fork \
	tests/stress/thread-churn \
	tests/stress/signal \
	tests/stress/signal-heavy \
	tests/stress/fork-zombies \
	tests/stress/limit-threads \
	tests/stress/preload.sh

EXTRA_DIST += tests/stress/preload.sh

# 8 threads x 1,000,000 operations, cross-thread frees, pattern checks.
tests_stress_threads_SOURCES = tests/stress/threads.c \
	tests/integration/probe.h
tests_stress_threads_CPPFLAGS = $(DA_STRESS_LINKED_CPPFLAGS)
tests_stress_threads_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_threads_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_stress_threads_plain_SOURCES = $(tests_stress_threads_SOURCES)
tests_stress_threads_plain_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_threads_plain_LDADD = $(PTHREAD_LIBS)

# fork from a signal handler, and 50 forks while 4 threads allocate.
tests_stress_fork_SOURCES = tests/stress/fork.c tests/integration/probe.h
tests_stress_fork_CPPFLAGS = $(DA_STRESS_LINKED_CPPFLAGS)
tests_stress_fork_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_fork_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_stress_fork_plain_SOURCES = $(tests_stress_fork_SOURCES)
tests_stress_fork_plain_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_fork_plain_LDADD = $(PTHREAD_LIBS)

# 2000 short-lived threads; their blocks are freed after they are gone.
tests_stress_thread_churn_SOURCES = tests/stress/thread-churn.c \
	tests/integration/probe.h
tests_stress_thread_churn_CPPFLAGS = $(DA_STRESS_LINKED_CPPFLAGS)
tests_stress_thread_churn_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_thread_churn_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_stress_thread_churn_plain_SOURCES = $(tests_stress_thread_churn_SOURCES)
tests_stress_thread_churn_plain_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_thread_churn_plain_LDADD = $(PTHREAD_LIBS)

# Signal handlers that allocate, interrupting two allocating threads.
tests_stress_signal_SOURCES = tests/stress/signal.c tests/integration/probe.h
tests_stress_signal_CPPFLAGS = $(DA_STRESS_LINKED_CPPFLAGS)
tests_stress_signal_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_signal_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_stress_signal_plain_SOURCES = $(tests_stress_signal_SOURCES)
tests_stress_signal_plain_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_signal_plain_LDADD = $(PTHREAD_LIBS)

# Handlers that allocate while eight threads hold the chunk lock most of
# the time: none of their allocations may fail.
tests_stress_signal_heavy_SOURCES = tests/stress/signal-heavy.c \
	tests/integration/probe.h
tests_stress_signal_heavy_CPPFLAGS = $(DA_STRESS_LINKED_CPPFLAGS)
tests_stress_signal_heavy_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_signal_heavy_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_stress_signal_heavy_plain_SOURCES = $(tests_stress_signal_heavy_SOURCES)
tests_stress_signal_heavy_plain_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_signal_heavy_plain_LDADD = $(PTHREAD_LIBS)

# A child of a multithreaded process frees and reuses what the parent's
# other threads allocated, first alone, then with a second thread.
tests_stress_fork_zombies_SOURCES = tests/stress/fork-zombies.c \
	tests/integration/probe.h
tests_stress_fork_zombies_CPPFLAGS = $(DA_STRESS_LINKED_CPPFLAGS)
tests_stress_fork_zombies_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_fork_zombies_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_stress_fork_zombies_plain_SOURCES = $(tests_stress_fork_zombies_SOURCES)
tests_stress_fork_zombies_plain_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_fork_zombies_plain_LDADD = $(PTHREAD_LIBS)

# Rounds of 2 to 8 threads under a limit (3 s; 10 minutes under make
# soak, DA_TEST_SOAK=1): their own count of live bytes never above the
# room, refusals all ENOMEM, the whole room back once they are gone.
tests_stress_limit_threads_SOURCES = tests/stress/limit-threads.c \
	tests/integration/limitload.h tests/integration/probe.h
tests_stress_limit_threads_CPPFLAGS = $(DA_STRESS_LINKED_CPPFLAGS)
tests_stress_limit_threads_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_limit_threads_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_stress_limit_threads_plain_SOURCES = $(tests_stress_limit_threads_SOURCES)
tests_stress_limit_threads_plain_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_limit_threads_plain_LDADD = $(PTHREAD_LIBS)

# dbgalloc_leak_check while 4 threads allocate and free: nothing lost.
check_PROGRAMS += tests/stress/leakcheck-threads
TESTS += tests/stress/leakcheck-threads
tests_stress_leakcheck_threads_SOURCES = tests/stress/leakcheck-threads.c
tests_stress_leakcheck_threads_CFLAGS = $(DA_STRESS_CFLAGS)
tests_stress_leakcheck_threads_LDADD = libdbgalloc.la $(PTHREAD_LIBS)

# make soak (the regression tier's, tests/regress/local.mk) also runs
# limit-threads and signal-heavy for 10 minutes each, linked and preloaded.
soak: soak-stress
soak-stress: tests/stress/limit-threads$(EXEEXT) \
		tests/stress/limit-threads-plain$(EXEEXT) \
		tests/stress/signal-heavy$(EXEEXT) \
		tests/stress/signal-heavy-plain$(EXEEXT) libdbgalloc.la
	DA_TEST_SOAK=1 tests/stress/limit-threads
	DA_TEST_SOAK=1 LD_PRELOAD='$(abs_top_builddir)/.libs/libdbgalloc.so' \
		tests/stress/limit-threads-plain --expect-dbgalloc
	tests/stress/signal-heavy --expect-dbgalloc 600
	LD_PRELOAD='$(abs_top_builddir)/.libs/libdbgalloc.so' \
		tests/stress/signal-heavy-plain --expect-dbgalloc 600
.PHONY: soak-stress
