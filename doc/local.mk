# doc/ — the man pages (included by the top Makefile.am).
#
#   dbgalloc(1)  the launcher, shim/dbgalloc.in
#   dbgalloc(3)  the library: every entry point, the memory layout, and
#                every diagnostic word for word
#   dbgalloc-stats(1)  the dump reader's program, tools/stats*.c: every
#                command, option, output column and message
#   dbgalloc(7)  overview: what it is for, how to use it in a test suite,
#                what it detects and what it does not do yet, the settings
#                (built from doc/dbgalloc.7.in, see below)
#
# doc/check-man.sh (a test) formats each page with groff -ww and fails on
# any warning, and fails when a message in the source (alloc/, audit/, shim/
# and the launcher) or an exported function is missing from its page.
dist_man_MANS = doc/dbgalloc.1 doc/dbgalloc.3 doc/dbgalloc-stats.1

# dbgalloc(7)'s list of settings is printed from audit/settings.def by
# doc/settings-gen (a build tool, not installed), which also gives the
# launcher its options and --help-env text (the dbgalloc rule in
# Makefile.am). The page is built, not distributed: it cannot go stale.
noinst_PROGRAMS = doc/settings-gen
doc_settings_gen_SOURCES = doc/settings-gen.c
doc_settings_gen_LDADD = libdbgalloc-core.la
nodist_man_MANS = doc/dbgalloc.7
EXTRA_DIST += doc/dbgalloc.7.in
CLEANFILES += doc/dbgalloc.7
doc/dbgalloc.7: $(srcdir)/doc/dbgalloc.7.in doc/settings-gen$(EXEEXT)
	$(AM_V_GEN)$(MKDIR_P) doc && \
	doc/settings-gen$(EXEEXT) man > $@.settings && \
	sed -e '/^@DA_SETTINGS[@]$$/{' -e 'r $@.settings' -e 'd' -e '}' \
		$(srcdir)/doc/dbgalloc.7.in > $@.tmp && rm -f $@.settings && \
		mv $@.tmp $@

TESTS += doc/check-man.sh
EXTRA_DIST += doc/check-man.sh
