# DA_CHECK_CMOCKA: the unit and API tests need cmocka. A missing cmocka is an
# error, not a silent skip: a test suite that quietly skips is worse than none.
AC_DEFUN([DA_CHECK_CMOCKA], [
  PKG_CHECK_MODULES([CMOCKA], [cmocka >= 1.1], [],
    [AC_MSG_ERROR([cmocka not found (apt-get install libcmocka-dev)])])
])
