# Death tests: programs that commit one misuse each (chosen by argument);
# run.sh requires SIGABRT and the exact diagnostic. misuse is linked with
# libdbgalloc, misuse-plain is not (it runs under LD_PRELOAD).
check_PROGRAMS += tests/abort/misuse tests/abort/misuse-plain \
	tests/abort/misuse-cxx
tests_abort_misuse_SOURCES = tests/abort/misuse.c
tests_abort_misuse_CFLAGS = $(DA_CFLAGS) -fno-builtin
tests_abort_misuse_LDADD = libdbgalloc.la
tests_abort_misuse_plain_SOURCES = tests/abort/misuse.c
tests_abort_misuse_plain_CFLAGS = $(DA_CFLAGS) -fno-builtin
tests_abort_misuse_cxx_SOURCES = tests/abort/misuse-cxx.cc
tests_abort_misuse_cxx_CXXFLAGS = $(DA_CXXFLAGS) -fno-builtin -fsized-deallocation
tests_abort_misuse_cxx_LDADD = libdbgalloc.la
TESTS += tests/abort/run.sh
EXTRA_DIST += tests/abort/run.sh
