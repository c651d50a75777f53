# DA_CHECK_LIBFUZZER: a clang that builds a libFuzzer program with ASan and
# UBSan, for `make fuzz` (tests/fuzz/local.mk). Sets FUZZ_CC to it, or to
# nothing; the fuzz harness's plain driver runs under make check either way.
AC_DEFUN([DA_CHECK_LIBFUZZER], [
  AC_PATH_PROGS([DA_CLANG], [clang clang-16 clang-15 clang-14], [])
  FUZZ_CC=
  have_libfuzzer=no
  AS_IF([test -n "$DA_CLANG"], [
    AC_MSG_CHECKING([whether $DA_CLANG links -fsanitize=fuzzer,address,undefined])
    cat > conftest-fuzz.c <<_DA_EOF
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return d && n; }
_DA_EOF
    AS_IF([$DA_CLANG -fsanitize=fuzzer,address,undefined conftest-fuzz.c \
             -o conftest-fuzz >&AS_MESSAGE_LOG_FD 2>&1],
      [FUZZ_CC=$DA_CLANG; have_libfuzzer=yes])
    rm -f conftest-fuzz.c conftest-fuzz
    AC_MSG_RESULT([$have_libfuzzer])])
  AC_SUBST([FUZZ_CC])
])
