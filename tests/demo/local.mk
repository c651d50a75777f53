# The demo (`make demo`, the README's main job) and its test: the demo runs
# under the launcher and must print what it promises.
check_PROGRAMS += tests/demo/demo
tests_demo_demo_SOURCES = tests/demo/demo.c
# No sibling calls: every function of the demo keeps its frame in reports.
tests_demo_demo_CFLAGS = $(DA_CFLAGS) -fno-builtin -fno-optimize-sibling-calls
TESTS += tests/demo/demo-test.sh
EXTRA_DIST += tests/demo/demo-test.sh tests/demo/installcheck.c

# Each process of the demo writes a dump at exit (demo.PID.dgd here); the
# parent's, the last written, is summarised.
demo: tests/demo/demo$(EXEEXT) libdbgalloc.la dbgalloc \
		tools/dbgalloc-stats$(EXEEXT)
	rm -f demo.*.dgd
	DBGALLOC_LIBRARY='$(abs_top_builddir)/.libs/libdbgalloc.so' \
		./dbgalloc run --leaks --dump='demo.%p.dgd' -- \
		tests/demo/demo$(EXEEXT)
	tools/dbgalloc-stats summary "$$(ls -t demo.*.dgd | head -n 1)"
.PHONY: demo
clean-local: clean-demo
clean-demo:
	rm -f demo.*.dgd
.PHONY: clean-demo

# The README's two commands are what .ci/run runs.
TESTS += tests/readme-ci.sh
EXTRA_DIST += tests/readme-ci.sh
