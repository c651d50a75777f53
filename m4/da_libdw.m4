# DA_CHECK_LIBDW: dbgalloc-stats symbolizes dumps offline with libdw and
# libelf (elfutils), linked (the library itself only dlopen()s libdw).
# Sets DW_CFLAGS and DW_LIBS. A missing libdw is an error: the tools are
# part of what is built and tested.
AC_DEFUN([DA_CHECK_LIBDW], [
  PKG_CHECK_MODULES([DW], [libdw >= 0.159], [],
    [AC_MSG_ERROR([libdw not found: dbgalloc-stats needs it to symbolize dumps (apt-get install libdw-dev)])])
])
