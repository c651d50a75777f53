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

# The offline symbolizer (issue 15): a dump's return addresses to function,
# file:line and inlined frames with libdwfl, from the dump's module map and
# build ids. A convenience library for dbgalloc-stats and its tests:
# symbols.c the sessions, frames and cache, symfile.c which file is the
# module's, symscope.c each DWARF unit's function scopes, indexed once.
noinst_LTLIBRARIES += tools/libsymbols.la
tools_libsymbols_la_SOURCES = tools/symbols.h tools/symbols.c \
	tools/symfile.h tools/symfile.c \
	tools/symscope.h tools/symscope.c \
	tools/symmem.h tools/symmem.c
tools_libsymbols_la_CFLAGS = $(DA_CFLAGS) $(DW_CFLAGS)
tools_libsymbols_la_LIBADD = $(DW_LIBS) $(DL_LIBS)

# dbgalloc-stats (issue 15): reads dumps and prints what they hold, as text
# or JSON. stats.c is main and the options; one file per command (or two
# close ones); stats-agg groups sites into rows, stats-site names them
# (frames, keys) through tools/symbols.h, stats-out builds the output once
# and writes it in either form, stats-units reads and writes quantities.
bin_PROGRAMS = tools/dbgalloc-stats
tools_dbgalloc_stats_SOURCES = \
	tools/stats.h tools/stats.c \
	tools/stats-out.h tools/stats-out.c \
	tools/stats-units.h tools/stats-units.c \
	tools/stats-site.h tools/stats-site.c \
	tools/stats-agg.h tools/stats-agg.c \
	tools/stats-summary.c tools/stats-top.c tools/stats-leaks.c \
	tools/stats-classes.c tools/stats-stages.c tools/stats-diff.c \
	tools/stats-check.c tools/stats-temporaries.c
tools_dbgalloc_stats_LDADD = tools/libsymbols.la tools/libdumpread.la \
	tools/libstatspid.la

# `dbgalloc-stats leaks --pid PID` (issue 15): stats-pid.c, with the
# triggers' signal names from audit/trigger.c (and audit/duration.c, which
# trigger.c reads intervals with), as a convenience library linked into
# dbgalloc-stats.
noinst_LTLIBRARIES += tools/libstatspid.la
tools_libstatspid_la_SOURCES = \
	tools/stats-pid.h tools/stats-pid.c \
	audit/trigger.h audit/trigger.c audit/stop.h \
	audit/duration.h audit/duration.c
