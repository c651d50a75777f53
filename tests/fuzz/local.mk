# tests/fuzz — fuzz harnesses (included by the top Makefile.am).
#
#   fuzz_dumpread  the dump reader (tools/dumpread.c), from the golden
#                  dumps of tests/dumps.
#
# make check runs each harness through driver.c, a plain program that
# mutates the corpus blindly for DA_FUZZ_SECONDS (10 s). make fuzz builds
# the harness with libFuzzer, ASan and UBSan when configure found a clang
# that can (FUZZ_CC), and runs it for FUZZ_SECONDS (60 s); new inputs go to
# tests/fuzz/corpus-dumpread and a crash to tests/fuzz/crash-*. Without
# such a clang, make fuzz runs the plain driver for that long instead.
check_PROGRAMS += tests/fuzz/fuzz_dumpread_driver
TESTS += tests/fuzz/fuzz_dumpread_driver
tests_fuzz_fuzz_dumpread_driver_SOURCES = tests/fuzz/fuzz.h \
	tests/fuzz/fuzz_dumpread.c tests/fuzz/driver.c
# Its own copy of the reader: the read buffer made as small as it may be.
tests_fuzz_fuzz_dumpread_driver_SOURCES += tools/dumpread.c \
	tools/dumpmodel.c audit/crc32c.c
tests_fuzz_fuzz_dumpread_driver_CPPFLAGS = $(AM_CPPFLAGS) \
	-DDA_DUMP_SOURCE_BUF=65536
EXTRA_DIST += tests/fuzz/dump.dict

FUZZ_SECONDS = 60
DA_FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -I$(top_srcdir) -I$(top_builddir) \
	-include config.h -DDA_DUMP_SOURCE_BUF=65536
tests/fuzz/fuzz_dumpread: $(srcdir)/tests/fuzz/fuzz_dumpread.c \
		$(srcdir)/tests/fuzz/fuzz.h $(srcdir)/tools/dumpread.c \
		$(srcdir)/tools/dump.h $(srcdir)/tools/dumpmodel.c \
		$(srcdir)/tools/dumpmodel.h $(srcdir)/audit/crc32c.c \
		$(srcdir)/audit/crc32c.h config.h
	$(AM_V_CCLD)$(FUZZ_CC) $(DA_FUZZ_FLAGS) -o $@ \
		$(srcdir)/tests/fuzz/fuzz_dumpread.c $(srcdir)/tools/dumpread.c \
		$(srcdir)/tools/dumpmodel.c $(srcdir)/audit/crc32c.c
fuzz: tests/fuzz/fuzz_dumpread_driver$(EXEEXT)
	@if test -z '$(FUZZ_CC)'; then \
		echo "make fuzz: no clang with libFuzzer; the plain driver" \
			"instead, $(FUZZ_SECONDS) s"; \
		DA_FUZZ_SECONDS=$(FUZZ_SECONDS) \
			tests/fuzz/fuzz_dumpread_driver$(EXEEXT) \
			$(srcdir)/tests/dumps; \
	else \
		$(MAKE) $(AM_MAKEFLAGS) tests/fuzz/fuzz_dumpread && \
		$(MKDIR_P) tests/fuzz/corpus-dumpread && \
		tests/fuzz/fuzz_dumpread -max_total_time=$(FUZZ_SECONDS) \
			-max_len=140000 -print_final_stats=1 \
			-artifact_prefix=tests/fuzz/crash- \
			-dict=$(srcdir)/tests/fuzz/dump.dict \
			tests/fuzz/corpus-dumpread $(srcdir)/tests/dumps; \
	fi
.PHONY: fuzz
CLEANFILES += tests/fuzz/fuzz_dumpread
clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/corpus-dumpread tests/fuzz/crash-* fuzz-crash-*.dump
.PHONY: clean-fuzz
