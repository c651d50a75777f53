#!/bin/sh
# run-upstream.sh — glibc's own five malloc tests for fork, signals,
# cancellation and thread exit, built from a glibc source tree and run on
# the system allocator and under LD_PRELOAD of libdbgalloc. Not part of
# make check: it needs a glibc checkout (its tests are LGPL and stay out of
# this tree) and takes 3 to 4 minutes on 2 cores (tst-mallocfork2 and
# tst-mallocfork3 run 10,000 iterations each, 35 to 55 s apiece on glibc).
#
#   tests/glibc/run-upstream.sh GLIBC-SOURCE-DIR [LIBDBGALLOC.so]
#
# The library defaults to $DA_TEST_LIB, then .libs/libdbgalloc.so of the
# build tree this script is run from. glibc's test skeleton needs its
# support/ library; we build that without configuring glibc: every
# support/*.c that compiles against the installed glibc headers goes into
# an archive (a few need glibc internals and are skipped; the five tests do
# not use them), with the two internal headers they include
# (include/array_length.h, include/intprops.h) copied from the tree, the
# install paths support_paths.c wants set to the system's, and one macro
# of glibc's internal sys/cdefs.h. Tried with glibc 2.36 and with glibc's
# master of January 2026 (04e750e75b); a newer tree may need one more such
# definition.
#
#   DA_TEST_UPSTREAM="tst-mallocfork2 ..."  run only these tests
#   DA_TEST_BASELINE=0                      skip the system-allocator runs
#   DA_TEST_KEEP=1                          keep the build directory
set -u

src=${1:?usage: run-upstream.sh GLIBC-SOURCE-DIR [LIBDBGALLOC.so]}
lib=${2:-${DA_TEST_LIB:-$(pwd)/.libs/libdbgalloc.so}}
tests=${DA_TEST_UPSTREAM:-tst-malloc-fork-deadlock tst-mallocfork2 \
tst-mallocfork3 tst-malloc-stats-cancellation tst-malloc-thread-exit}
cc=${CC:-cc}
passed=0
failed=0

if [ ! -f "$src/support/test-driver.c" ] || [ ! -d "$src/malloc" ]; then
	echo "$src: not a glibc source tree (no support/test-driver.c)" >&2
	exit 2
fi
case $lib in
/*) ;;
*) lib=$(pwd)/$lib ;;
esac
if [ ! -r "$lib" ]; then
	echo "$lib: no such library" >&2
	exit 2
fi
work=$(mktemp -d) || exit 1
if [ "${DA_TEST_KEEP:-0}" = 1 ]; then
	echo "build directory: $work"
else
	trap 'rm -rf "$work"' EXIT
fi
trap 'exit 1' INT TERM

# The support library.
mkdir -p "$work/include" "$work/obj"
for h in array_length.h intprops.h; do
	cp "$src/include/$h" "$work/include/" || exit 1
done
ldso=$(ldd /bin/sh | sed -n 's|^[[:space:]]*\(/[^ ]*ld-linux[^ ]*\).*|\1|p')
cat >"$work/include/paths-config.h" <<EOF
#define SRCDIR_PATH "$src"
#define OBJDIR_PATH "$work"
#define OBJDIR_ELF_LDSO_PATH "${ldso:-/lib64/ld-linux-x86-64.so.2}"
#define INSTDIR_PATH "/usr"
#define LIBDIR_PATH "/usr/lib"
#define BINDIR_PATH "/usr/bin"
#define SBINDIR_PATH "/usr/sbin"
#define SLIBDIR_PATH "/lib"
#define ROOTSBINDIR_PATH "/sbin"
#define COMPLOCALEDIR_PATH "/usr/lib/locale"
#define SYSCONFDIR_PATH "/etc"
/* From glibc's internal sys/cdefs.h (newer tests use it). */
#ifndef __attribute_optimization_barrier__
#define __attribute_optimization_barrier__ __attribute__((noinline, noclone))
#endif
EOF
flags="-O1 -g -D_GNU_SOURCE -DTIMEOUTFACTOR=1 -include limits.h \
-include $work/include/paths-config.h -w -pthread"
built=0
skipped=0
for f in "$src"/support/*.c; do
	case ${f##*/} in
	test-driver.c | tst-* | test-container.c | *-skeleton.c)
		continue ;;
	esac
	o=$work/obj/$(basename "$f" .c).o
	# shellcheck disable=SC2086
	if $cc $flags -I"$src" -I"$src/support" -I"$work/include" -c "$f" \
		-o "$o" 2>/dev/null; then
		built=$((built + 1))
	else
		skipped=$((skipped + 1))
	fi
done
ar rcs "$work/libsupport.a" "$work"/obj/*.o || exit 1
echo "support library: $built files built, $skipped skipped"

# run NAME HOW CMD...: glibc's driver exits 0 (PASS), 77 (UNSUPPORTED).
run() {
	name=$1 how=$2
	shift 2
	start=$(date +%s)
	timeout -k 5 300 "$@" >"$work/out" 2>&1 </dev/null &
	group=$!
	wait "$group"
	rc=$?
	kill -KILL -- "-$group" 2>/dev/null
	secs=$(($(date +%s) - start))
	# ld.so only warns when a preload fails: that run proves nothing.
	if grep -q 'cannot be preloaded' "$work/out"; then
		rc=1
	fi
	case $rc in
	0)
		echo "PASS $name ($how, ${secs} s)"
		passed=$((passed + 1))
		;;
	77)
		echo "UNSUPPORTED $name ($how)"
		;;
	*)
		echo "FAIL $name ($how, ${secs} s): exit status $rc"
		sed 's/^/  /' "$work/out" | head -30
		failed=$((failed + 1))
		;;
	esac
}

for t in $tests; do
	# shellcheck disable=SC2086
	if ! $cc $flags -I"$src" -I"$work/include" -o "$work/$t" \
		"$src/malloc/$t.c" "$work/libsupport.a" >"$work/cc.log" 2>&1; then
		echo "FAIL $t: does not build"
		sed 's/^/  /' "$work/cc.log" | head -20
		failed=$((failed + 1))
		continue
	fi
	if [ "${DA_TEST_BASELINE:-1}" != 0 ]; then
		run "$t" "system allocator" "$work/$t"
	fi
	run "$t" "LD_PRELOAD=$lib" env LD_PRELOAD="$lib" "$work/$t"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
