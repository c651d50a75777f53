# The demo (`make demo`, the README's main job) and its test: the demo runs
# under the launcher and must print what it promises.
check_PROGRAMS += tests/demo/demo
tests_demo_demo_SOURCES = tests/demo/demo.c
# No sibling calls: every function of the demo keeps its frame in reports.
tests_demo_demo_CFLAGS = $(DA_CFLAGS) -fno-builtin -fno-optimize-sibling-calls
TESTS += tests/demo/demo-test.sh
EXTRA_DIST += tests/demo/demo-test.sh tests/demo/installcheck.c

demo: tests/demo/demo$(EXEEXT) libdbgalloc.la dbgalloc
	DBGALLOC_LIBRARY='$(abs_top_builddir)/.libs/libdbgalloc.so' \
		./dbgalloc run --leaks -- tests/demo/demo$(EXEEXT)
.PHONY: demo

# The README's two commands are what .ci/run runs.
TESTS += tests/readme-ci.sh
EXTRA_DIST += tests/readme-ci.sh
