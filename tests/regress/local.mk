# Regression tier: one small program per defect found in review, written to
# fail while the defect is there (the reviewers' reproducers are the
# evidence; these programs are our own). Each is built linked with
# libdbgalloc (DA_TEST_LINKED) and plain (NAME-plain, for LD_PRELOAD).
# run.sh runs them all both ways; `run.sh --glibc` checks the tests
# themselves against glibc's malloc (see run.sh for DA_TEST_ONLY and the
# timeouts).

DA_REGRESS_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS) -fno-builtin
DA_REGRESS_LINKED_CPPFLAGS = $(AM_CPPFLAGS) -DDA_TEST_LINKED=1
DA_REGRESS_HDRS = tests/regress/regress.h tests/integration/probe.h

DA_REGRESS_PROGS = \
	tests/regress/rss-remote-free \
	tests/regress/rss-remote-free-plain \
	tests/regress/rss-exited-threads \
	tests/regress/rss-exited-threads-plain \
	tests/regress/decay-fastpath \
	tests/regress/decay-fastpath-plain \
	tests/regress/remote-free-release \
	tests/regress/remote-free-release-plain

check_PROGRAMS += $(DA_REGRESS_PROGS)
TESTS += tests/regress/run.sh
EXTRA_DIST += tests/regress/run.sh

# 1. Cross-thread frees through every size class: RSS bounded, trim works.
tests_regress_rss_remote_free_SOURCES = tests/regress/rss-remote-free.c \
	$(DA_REGRESS_HDRS)
tests_regress_rss_remote_free_CPPFLAGS = $(DA_REGRESS_LINKED_CPPFLAGS)
tests_regress_rss_remote_free_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_rss_remote_free_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_regress_rss_remote_free_plain_SOURCES = \
	$(tests_regress_rss_remote_free_SOURCES)
tests_regress_rss_remote_free_plain_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_rss_remote_free_plain_LDADD = $(PTHREAD_LIBS)

# 2. Blocks of exited threads freed by main: RSS bounded without trim.
tests_regress_rss_exited_threads_SOURCES = tests/regress/rss-exited-threads.c \
	$(DA_REGRESS_HDRS)
tests_regress_rss_exited_threads_CPPFLAGS = $(DA_REGRESS_LINKED_CPPFLAGS)
tests_regress_rss_exited_threads_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_rss_exited_threads_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_regress_rss_exited_threads_plain_SOURCES = \
	$(tests_regress_rss_exited_threads_SOURCES)
tests_regress_rss_exited_threads_plain_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_rss_exited_threads_plain_LDADD = $(PTHREAD_LIBS)

# 8. A freed 1 GiB burst goes back while only fast paths run.
tests_regress_decay_fastpath_SOURCES = tests/regress/decay-fastpath.c \
	$(DA_REGRESS_HDRS)
tests_regress_decay_fastpath_CPPFLAGS = $(DA_REGRESS_LINKED_CPPFLAGS)
tests_regress_decay_fastpath_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_decay_fastpath_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_regress_decay_fastpath_plain_SOURCES = \
	$(tests_regress_decay_fastpath_SOURCES)
tests_regress_decay_fastpath_plain_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_decay_fastpath_plain_LDADD = $(PTHREAD_LIBS)

# 11. A slab emptied by remote frees goes back while its owner lives.
tests_regress_remote_free_release_SOURCES = \
	tests/regress/remote-free-release.c $(DA_REGRESS_HDRS)
tests_regress_remote_free_release_CPPFLAGS = $(DA_REGRESS_LINKED_CPPFLAGS)
tests_regress_remote_free_release_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_remote_free_release_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_regress_remote_free_release_plain_SOURCES = \
	$(tests_regress_remote_free_release_SOURCES)
tests_regress_remote_free_release_plain_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_remote_free_release_plain_LDADD = $(PTHREAD_LIBS)
