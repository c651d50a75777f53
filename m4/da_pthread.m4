# AX_PTHREAD_SIMPLE: glibc >= 2.34 has pthreads in libc; -pthread keeps older
# toolchains and the C++ tests honest.
AC_DEFUN([AX_PTHREAD_SIMPLE], [
  PTHREAD_CFLAGS=-pthread
  PTHREAD_LIBS=-pthread
  AC_SUBST([PTHREAD_CFLAGS])
  AC_SUBST([PTHREAD_LIBS])
])
