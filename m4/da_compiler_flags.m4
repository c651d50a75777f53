# DA_COMPILER_FLAGS: warnings, --enable-debug, --enable-werror, --enable-ubsan.
# Sets DA_CFLAGS (all C code), DA_CXXFLAGS and DA_LIB_CFLAGS (the library only).
AC_DEFUN([DA_COMPILER_FLAGS], [
  AC_ARG_ENABLE([debug],
    [AS_HELP_STRING([--enable-debug], [internal assertions in the allocator])],
    [], [enable_debug=no])
  AC_ARG_ENABLE([werror],
    [AS_HELP_STRING([--enable-werror], [treat compiler warnings as errors])],
    [], [enable_werror=no])
  AC_ARG_ENABLE([ubsan],
    [AS_HELP_STRING([--enable-ubsan], [build with -fsanitize=undefined])],
    [], [enable_ubsan=no])

  DA_CFLAGS="-Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes -Wshadow -Wundef"
  DA_CXXFLAGS="-Wall -Wextra -Wshadow -Wundef"
  AS_IF([test "x$enable_werror" = xyes], [
    DA_CFLAGS="$DA_CFLAGS -Werror"
    DA_CXXFLAGS="$DA_CXXFLAGS -Werror"])
  AS_IF([test "x$enable_debug" = xyes],
    [AC_DEFINE([DA_DEBUG], [1], [Define to 1 for internal assertions.])],
    [AC_DEFINE([DA_DEBUG], [0], [Define to 1 for internal assertions.])])
  AS_IF([test "x$enable_ubsan" = xyes], [
    DA_CFLAGS="$DA_CFLAGS -fsanitize=undefined -fno-sanitize-recover=undefined"
    DA_CXXFLAGS="$DA_CXXFLAGS -fsanitize=undefined -fno-sanitize-recover=undefined"
    LDFLAGS="$LDFLAGS -fsanitize=undefined"])
  # The library exports only the malloc family and the dbgalloc_ API;
  # initial-exec TLS because dynamic TLS calls malloc (PITFALLS 3).
  # Frame pointers: the stack walk (audit/unwind.c) starts at an entry
  # point's frame and passes through ours.
  DA_LIB_CFLAGS="-fvisibility=hidden -ftls-model=initial-exec -fno-omit-frame-pointer -fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc"
  AC_SUBST([DA_CFLAGS])
  AC_SUBST([DA_CXXFLAGS])
  AC_SUBST([DA_LIB_CFLAGS])
])
