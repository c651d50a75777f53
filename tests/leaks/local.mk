# Leak report tier: a program with known leaks (leaky.c), checked for exact
# numbers per site and class by run.sh, linked and preloaded.
check_PROGRAMS += tests/leaks/leaky tests/leaks/leaky-plain
tests_leaks_leaky_SOURCES = tests/leaks/leaky.c
tests_leaks_leaky_CFLAGS = $(DA_CFLAGS) $(PTHREAD_CFLAGS) -fno-builtin -O1
tests_leaks_leaky_LDADD = libdbgalloc.la $(PTHREAD_LIBS)
tests_leaks_leaky_plain_SOURCES = tests/leaks/leaky.c
tests_leaks_leaky_plain_CPPFLAGS = $(AM_CPPFLAGS) -DDA_TEST_PLAIN=1
tests_leaks_leaky_plain_CFLAGS = $(DA_CFLAGS) $(PTHREAD_CFLAGS) -fno-builtin -O1
tests_leaks_leaky_plain_LDADD = $(PTHREAD_LIBS)
TESTS += tests/leaks/run.sh
EXTRA_DIST += tests/leaks/run.sh tests/leaks/lsan.supp
