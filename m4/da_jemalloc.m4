# DA_WITH_JEMALLOC: --with-jemalloc selects the optional jemalloc backend.
# Accepted and checked now; the backend itself arrives with a later change,
# so the flag only records that libjemalloc is present and usable.
AC_DEFUN([DA_WITH_JEMALLOC], [
  AC_ARG_WITH([jemalloc],
    [AS_HELP_STRING([--with-jemalloc], [build the jemalloc backend (needs libjemalloc-dev)])],
    [], [with_jemalloc=no])
  AS_IF([test "x$with_jemalloc" != xno], [
    AC_CHECK_HEADER([jemalloc/jemalloc.h], [],
      [AC_MSG_ERROR([--with-jemalloc: jemalloc/jemalloc.h not found (apt-get install libjemalloc-dev)])])
    AC_CHECK_LIB([jemalloc], [mallocx], [JEMALLOC_LIBS=-ljemalloc],
      [AC_MSG_ERROR([--with-jemalloc: libjemalloc not found (apt-get install libjemalloc-dev)])])
    AC_DEFINE([DA_HAVE_JEMALLOC], [1], [Define to 1 when the jemalloc backend is built.])
  ])
  AC_SUBST([JEMALLOC_LIBS])
  AM_CONDITIONAL([DA_JEMALLOC], [test "x$with_jemalloc" != xno])
])
