# doc/ — the man pages (included by the top Makefile.am).
#
#   dbgalloc(1)  the launcher, shim/dbgalloc.in
#   dbgalloc(3)  the library: every entry point, the memory layout, and
#                every diagnostic word for word
#   dbgalloc(7)  overview: what it is for, how to use it in a test suite,
#                what it detects and what it does not do yet
#
# doc/check-man.sh (a test) formats each page with groff -ww and fails on
# any warning, and fails when a message in the source (alloc/, audit/, shim/
# and the launcher) or an exported function is missing from its page.
dist_man_MANS = doc/dbgalloc.1 doc/dbgalloc.3 doc/dbgalloc.7

TESTS += doc/check-man.sh
EXTRA_DIST += doc/check-man.sh
