# tools/ — programs of the launcher's commands other than run (included
# by the top Makefile.am; paths are relative to the top). Each is
# installed in pkglibexecdir, where shim/dbgalloc.in looks for it; an
# environment variable points the launcher at the build tree's copy.
#
#   oom-sweep  `dbgalloc oom-sweep` (DBGALLOC_OOM_SWEEP): oom-sweep.c, the
#              options and the table, over sweeprun.c (the runs, a few at
#              a time) and sweeplog.c (reading each run's reports back).
#              Plain C, not linked with the library: it runs outside it.
pkglibexec_PROGRAMS = tools/oom-sweep
tools_oom_sweep_SOURCES = \
	tools/oom-sweep.c \
	tools/sweeprun.h tools/sweeprun.c \
	tools/sweeplog.h tools/sweeplog.c

# The dump reader (issue 15): doc/dump-format.md read into memory, for
# dbgalloc-stats, the unit tests and the fuzz harness. A convenience
# library: nothing installed, linked into each of them.
noinst_LTLIBRARIES += tools/libdumpread.la
tools_libdumpread_la_SOURCES = \
	tools/dump.h tools/dumpread.c \
	tools/dumpmodel.h tools/dumpmodel.c \
	audit/crc32c.h audit/crc32c.c

# `dbgalloc-stats leaks --pid PID` (issue 15): stats-pid.c, with the
# triggers' signal names from audit/trigger.c, as a convenience library
# for dbgalloc-stats and for the test driver
# (tests/integration/leaks-pid-driver).
noinst_LTLIBRARIES += tools/libstatspid.la
tools_libstatspid_la_SOURCES = \
	tools/stats-pid.h tools/stats-pid.c \
	audit/trigger.h audit/trigger.c audit/stop.h
