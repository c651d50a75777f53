# Regression tier: one small program per defect found in review, written to
# fail while the defect is there (the reviewers' reproducers are the
# evidence; these programs are our own). Each is built linked with
# libdbgalloc (DA_TEST_LINKED) and plain (NAME-plain, for LD_PRELOAD);
# static-fork is linked fully static, with libdbgalloc.a and, as the
# baseline, with glibc's malloc. run.sh runs them all both ways (about
# 2 minutes on 2 cores, most of it fork-mt); `run.sh --glibc` checks the
# tests themselves against glibc's malloc (see run.sh for DA_TEST_ONLY and
# the timeouts).
#
#   make soak   not part of make check: the same programs with much larger
#               counts (DA_TEST_SOAK=1): 100,000 forks among 8 threads,
#               20,000 forks from a signal handler, 10,000 static forks,
#               10 minutes each of dbgalloc_owns() and mallinfo2() against
#               concurrent frees, 50 size-class sweeps, 3,000 thread rounds,
#               10 x 1 GiB bursts. Each program's own DA_TEST_* variable
#               (see its header) overrides its count; DA_TEST_ONLY picks
#               programs.

DA_REGRESS_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS) -fno-builtin
DA_REGRESS_CXXFLAGS = $(AM_CXXFLAGS) $(PTHREAD_CFLAGS) -fno-builtin -std=gnu++17
DA_REGRESS_LINKED_CPPFLAGS = $(AM_CPPFLAGS) -DDA_TEST_LINKED=1
DA_REGRESS_HDRS = tests/regress/regress.h tests/integration/probe.h

DA_REGRESS_PROGS = \
	tests/regress/rss-remote-free \
	tests/regress/rss-remote-free-plain \
	tests/regress/rss-exited-threads \
	tests/regress/rss-exited-threads-plain \
	tests/regress/fork-mt \
	tests/regress/fork-mt-plain \
	tests/regress/static-fork \
	tests/regress/static-fork-plain \
	tests/regress/fork-in-handler-fastpath \
	tests/regress/fork-in-handler-fastpath-plain \
	tests/regress/owns-concurrent \
	tests/regress/owns-concurrent-plain \
	tests/regress/mallinfo-concurrent \
	tests/regress/mallinfo-concurrent-plain \
	tests/regress/decay-fastpath \
	tests/regress/decay-fastpath-plain \
	tests/regress/impossible-alloc \
	tests/regress/impossible-alloc-plain \
	tests/regress/impossible-alloc-cxx \
	tests/regress/impossible-alloc-cxx-plain \
	tests/regress/double-free-kinds \
	tests/regress/double-free-kinds-plain \
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

# 3. fork among 8 allocating, stdio-using threads: no child hangs.
tests_regress_fork_mt_SOURCES = tests/regress/fork-mt.c $(DA_REGRESS_HDRS)
tests_regress_fork_mt_CPPFLAGS = $(DA_REGRESS_LINKED_CPPFLAGS)
tests_regress_fork_mt_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_fork_mt_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_regress_fork_mt_plain_SOURCES = $(tests_regress_fork_mt_SOURCES)
tests_regress_fork_mt_plain_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_fork_mt_plain_LDADD = $(PTHREAD_LIBS)

# 4. The same in a fully static program: libtool's -all-static links
# libdbgalloc.a (and glibc's libc.a) into a static executable.
tests_regress_static_fork_SOURCES = tests/regress/static-fork.c \
	$(DA_REGRESS_HDRS)
tests_regress_static_fork_CPPFLAGS = $(DA_REGRESS_LINKED_CPPFLAGS)
tests_regress_static_fork_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_static_fork_LDFLAGS = -all-static
tests_regress_static_fork_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_regress_static_fork_plain_SOURCES = $(tests_regress_static_fork_SOURCES)
tests_regress_static_fork_plain_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_static_fork_plain_LDFLAGS = -all-static
tests_regress_static_fork_plain_LDADD = $(PTHREAD_LIBS)

# 5. fork in a signal handler that interrupted malloc(32)/free.
tests_regress_fork_in_handler_fastpath_SOURCES = \
	tests/regress/fork-in-handler-fastpath.c $(DA_REGRESS_HDRS)
tests_regress_fork_in_handler_fastpath_CPPFLAGS = $(DA_REGRESS_LINKED_CPPFLAGS)
tests_regress_fork_in_handler_fastpath_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_fork_in_handler_fastpath_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_regress_fork_in_handler_fastpath_plain_SOURCES = \
	$(tests_regress_fork_in_handler_fastpath_SOURCES)
tests_regress_fork_in_handler_fastpath_plain_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_fork_in_handler_fastpath_plain_LDADD = $(PTHREAD_LIBS)

# 6. dbgalloc_owns() on blocks being freed and unmapped.
tests_regress_owns_concurrent_SOURCES = tests/regress/owns-concurrent.c \
	$(DA_REGRESS_HDRS)
tests_regress_owns_concurrent_CPPFLAGS = $(DA_REGRESS_LINKED_CPPFLAGS)
tests_regress_owns_concurrent_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_owns_concurrent_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_regress_owns_concurrent_plain_SOURCES = \
	$(tests_regress_owns_concurrent_SOURCES)
tests_regress_owns_concurrent_plain_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_owns_concurrent_plain_LDADD = $(PTHREAD_LIBS)

# 7. mallinfo2() while aligned blocks are freed.
tests_regress_mallinfo_concurrent_SOURCES = \
	tests/regress/mallinfo-concurrent.c $(DA_REGRESS_HDRS)
tests_regress_mallinfo_concurrent_CPPFLAGS = $(DA_REGRESS_LINKED_CPPFLAGS)
tests_regress_mallinfo_concurrent_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_mallinfo_concurrent_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_regress_mallinfo_concurrent_plain_SOURCES = \
	$(tests_regress_mallinfo_concurrent_SOURCES)
tests_regress_mallinfo_concurrent_plain_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_mallinfo_concurrent_plain_LDADD = $(PTHREAD_LIBS)

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

# 9. Requests beyond RAM + swap fail with ENOMEM; new[] throws.
tests_regress_impossible_alloc_SOURCES = tests/regress/impossible-alloc.c \
	$(DA_REGRESS_HDRS)
tests_regress_impossible_alloc_CPPFLAGS = $(DA_REGRESS_LINKED_CPPFLAGS)
tests_regress_impossible_alloc_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_impossible_alloc_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_regress_impossible_alloc_plain_SOURCES = \
	$(tests_regress_impossible_alloc_SOURCES)
tests_regress_impossible_alloc_plain_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_impossible_alloc_plain_LDADD = $(PTHREAD_LIBS)
tests_regress_impossible_alloc_cxx_SOURCES = \
	tests/regress/impossible-alloc-cxx.cc
tests_regress_impossible_alloc_cxx_CPPFLAGS = $(DA_REGRESS_LINKED_CPPFLAGS)
tests_regress_impossible_alloc_cxx_CXXFLAGS = $(DA_REGRESS_CXXFLAGS)
tests_regress_impossible_alloc_cxx_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_regress_impossible_alloc_cxx_plain_SOURCES = \
	$(tests_regress_impossible_alloc_cxx_SOURCES)
tests_regress_impossible_alloc_cxx_plain_CXXFLAGS = $(DA_REGRESS_CXXFLAGS)
tests_regress_impossible_alloc_cxx_plain_LDADD = $(PTHREAD_LIBS)

# 10. Death tests: each kind of double free is called one.
tests_regress_double_free_kinds_SOURCES = tests/regress/double-free-kinds.c
tests_regress_double_free_kinds_CFLAGS = $(DA_REGRESS_CFLAGS)
tests_regress_double_free_kinds_LDADD = libdbgalloc.la
tests_regress_double_free_kinds_plain_SOURCES = \
	$(tests_regress_double_free_kinds_SOURCES)
tests_regress_double_free_kinds_plain_CFLAGS = $(DA_REGRESS_CFLAGS)

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

soak: $(DA_REGRESS_PROGS:=$(EXEEXT)) libdbgalloc.la
	DA_TEST_LIB='$(abs_top_builddir)/.libs/libdbgalloc.so' \
	DA_TEST_TOP_BUILDDIR='$(abs_top_builddir)' DA_TEST_SOAK=1 \
		$(SHELL) $(srcdir)/tests/regress/run.sh
.PHONY: soak
