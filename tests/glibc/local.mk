# glibc tier: our own programs checking what glibc's malloc tests for fork,
# signals, cancellation and thread exit check, one program per glibc test
# (malloc/tst-<name>). Each is built linked with libdbgalloc and plain;
# run.sh runs both (the plain one under LD_PRELOAD), each bounded by a
# watchdog: about 35 s on 2 cores when all pass. run-upstream.sh (not run
# by make check) builds and runs glibc's own sources of these tests.

DA_GLIBC_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS) -fno-builtin
DA_GLIBC_LINKED_CPPFLAGS = $(AM_CPPFLAGS) -DDA_TEST_LINKED=1
DA_GLIBC_HDRS = tests/glibc/tier.h tests/glibc/mallocfork.h \
	tests/integration/probe.h

check_PROGRAMS += \
	tests/glibc/malloc-fork-deadlock \
	tests/glibc/malloc-fork-deadlock-plain \
	tests/glibc/mallocfork2 \
	tests/glibc/mallocfork2-plain \
	tests/glibc/mallocfork3 \
	tests/glibc/mallocfork3-plain \
	tests/glibc/malloc-stats-cancellation \
	tests/glibc/malloc-stats-cancellation-plain \
	tests/glibc/malloc-thread-exit \
	tests/glibc/malloc-thread-exit-plain

TESTS += tests/glibc/run.sh

EXTRA_DIST += tests/glibc/run.sh tests/glibc/run-upstream.sh

# fork against stdio's locks: forking, getline and fflush(NULL) threads.
tests_glibc_malloc_fork_deadlock_SOURCES = \
	tests/glibc/malloc-fork-deadlock.c $(DA_GLIBC_HDRS)
tests_glibc_malloc_fork_deadlock_CPPFLAGS = $(DA_GLIBC_LINKED_CPPFLAGS)
tests_glibc_malloc_fork_deadlock_CFLAGS = $(DA_GLIBC_CFLAGS)
tests_glibc_malloc_fork_deadlock_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_glibc_malloc_fork_deadlock_plain_SOURCES = \
	$(tests_glibc_malloc_fork_deadlock_SOURCES)
tests_glibc_malloc_fork_deadlock_plain_CFLAGS = $(DA_GLIBC_CFLAGS)
tests_glibc_malloc_fork_deadlock_plain_LDADD = $(PTHREAD_LIBS)

# fork from a signal handler, also inside fork, single-threaded.
tests_glibc_mallocfork2_SOURCES = tests/glibc/mallocfork2.c \
	$(DA_GLIBC_HDRS)
tests_glibc_mallocfork2_CPPFLAGS = $(DA_GLIBC_LINKED_CPPFLAGS)
tests_glibc_mallocfork2_CFLAGS = $(DA_GLIBC_CFLAGS)
tests_glibc_mallocfork2_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_glibc_mallocfork2_plain_SOURCES = $(tests_glibc_mallocfork2_SOURCES)
tests_glibc_mallocfork2_plain_CFLAGS = $(DA_GLIBC_CFLAGS)
tests_glibc_mallocfork2_plain_LDADD = $(PTHREAD_LIBS)

# _Fork from a signal handler of a multithreaded process.
tests_glibc_mallocfork3_SOURCES = tests/glibc/mallocfork3.c \
	$(DA_GLIBC_HDRS)
tests_glibc_mallocfork3_CPPFLAGS = $(DA_GLIBC_LINKED_CPPFLAGS)
tests_glibc_mallocfork3_CFLAGS = $(DA_GLIBC_CFLAGS)
tests_glibc_mallocfork3_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_glibc_mallocfork3_plain_SOURCES = $(tests_glibc_mallocfork3_SOURCES)
tests_glibc_mallocfork3_plain_CFLAGS = $(DA_GLIBC_CFLAGS)
tests_glibc_mallocfork3_plain_LDADD = $(PTHREAD_LIBS)

# malloc_stats() and reports are not cancellation points.
tests_glibc_malloc_stats_cancellation_SOURCES = \
	tests/glibc/malloc-stats-cancellation.c $(DA_GLIBC_HDRS)
tests_glibc_malloc_stats_cancellation_CPPFLAGS = $(DA_GLIBC_LINKED_CPPFLAGS)
tests_glibc_malloc_stats_cancellation_CFLAGS = $(DA_GLIBC_CFLAGS)
tests_glibc_malloc_stats_cancellation_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_glibc_malloc_stats_cancellation_plain_SOURCES = \
	$(tests_glibc_malloc_stats_cancellation_SOURCES)
tests_glibc_malloc_stats_cancellation_plain_CFLAGS = $(DA_GLIBC_CFLAGS)
tests_glibc_malloc_stats_cancellation_plain_LDADD = $(PTHREAD_LIBS)

# Threads starting and exiting together; allocation in TSD destructors.
tests_glibc_malloc_thread_exit_SOURCES = \
	tests/glibc/malloc-thread-exit.c $(DA_GLIBC_HDRS)
tests_glibc_malloc_thread_exit_CPPFLAGS = $(DA_GLIBC_LINKED_CPPFLAGS)
tests_glibc_malloc_thread_exit_CFLAGS = $(DA_GLIBC_CFLAGS)
tests_glibc_malloc_thread_exit_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_glibc_malloc_thread_exit_plain_SOURCES = \
	$(tests_glibc_malloc_thread_exit_SOURCES)
tests_glibc_malloc_thread_exit_plain_CFLAGS = $(DA_GLIBC_CFLAGS)
tests_glibc_malloc_thread_exit_plain_LDADD = $(PTHREAD_LIBS)
