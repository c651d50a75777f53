#!/bin/sh
# doc/check-man.sh — the man pages render without a single warning, and they
# document what the code prints, so that no message can be added or changed
# without its page:
#   - dbgalloc.1, .3 and .7 format with groff -ww (or man -l) and no warning;
#   - each page's .TH names the version in configure.ac;
#   - every "dbgalloc: ..." headline in alloc/, audit/ and shim/ sources, and
#     every other piece of text they pass to da_line_str(), is in dbgalloc.3;
#     the settings' headlines (audit/settings.c) are in dbgalloc.7 instead;
#   - every function shim/malloc.c exports is in dbgalloc.3;
#   - every message and usage line of the launcher (shim/dbgalloc.in) is in
#     dbgalloc.1, and so is every message of oom-sweep (tools/oom-sweep.c)
#     and every line of its --help;
#   - every variable the built launcher's --help-env lists is in dbgalloc.7,
#     and every option of run that sets one is in dbgalloc.1;
#   - every message of dbgalloc-stats (tools/stats*.c: st_fail() and its
#     "dbgalloc-stats: ..." literals), every message of the dump reader
#     (tools/dumpread.c) and every line of dbgalloc-stats --help is in
#     dbgalloc-stats.1.
# dbgalloc.7 is built (from doc/dbgalloc.7.in and audit/settings.def), so
# it and the launcher are read from the build tree.
# Texts are compared with the rendered page (fonts dropped, no hyphenation,
# white space squeezed); the shell's $variables are cut out of the launcher's
# strings. Run by `make check` with DA_TEST_TOP_SRCDIR and
# DA_TEST_TOP_BUILDDIR set; by hand, it finds the tree from its own path
# (a build in the source tree). Last line: "N passed, M failed".
set -u
top=${DA_TEST_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DA_TEST_TOP_BUILDDIR:-$top}
doc=$top/doc
pages="dbgalloc.1 dbgalloc.3 dbgalloc.7 dbgalloc-stats.1"
pass=0
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-man.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

ok() {
	pass=$((pass + 1))
	echo "PASS: $1"
}

bad() {
	fail=$((fail + 1))
	echo "FAIL: $1"
}

finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

# A formatter is required: a missing one fails the test rather than skip it.
if command -v groff >/dev/null 2>&1; then
	formatter=groff
elif command -v man >/dev/null 2>&1; then
	formatter=man
else
	bad "neither groff nor man is installed (groff is in the groff-base package)"
	finish
fi

# warnings PAGE OUT: format PAGE as a reader sees it; warnings go to OUT.
warnings() {
	if [ "$formatter" = groff ]; then
		groff -man -Tutf8 -ww "$1" 2>"$2" >/dev/null
	else
		MANROFFOPT=-ww MANPAGER=cat PAGER=cat man -l "$1" 2>"$2" >/dev/null
	fi
}

# plain PAGE: the page as one line of plain ASCII text, words separated by
# single spaces, never hyphenated, never broken inside a long line.
plain() {
	if [ "$formatter" = groff ]; then
		groff -man -Tascii -rLL=400n -rHY=0 -P-c -P-b -P-u "$1" 2>/dev/null
	else
		LC_ALL=C MANWIDTH=400 MANPAGER=cat PAGER=cat man -l "$1" 2>/dev/null
	fi | tr -d '\010' | tr '\t\n' '  ' | tr -s ' '
}

# expect TEXTFILE WHAT FRAGMENTS: every line of FRAGMENTS is in TEXTFILE.
expect() {
	while IFS= read -r frag; do
		if grep -qF -e "$frag" "$1"; then
			ok "$2: \"$frag\""
		else
			bad "$2: \"$frag\" is not in the page"
		fi
	done <"$3"
}

# trim: strip each line of blanks at both ends and squeeze the others, as
# in the page; drop lines with no letter (bare punctuation such as ": "
# proves nothing); one copy of each.
trim() {
	sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' \
		-e 's/[[:space:]][[:space:]]*/ /g' |
		grep '[A-Za-z]' | LC_ALL=C sort -u
}

version=$(sed -n 's/^AC_INIT(\[dbgalloc\], *\[\([^]]*\)\].*/\1/p' "$top/configure.ac")
for page in $pages; do
	f=$doc/$page
	[ "$page" = dbgalloc.7 ] && f=$build/doc/$page
	if [ ! -r "$f" ]; then
		bad "$page: missing ($f; built by make)"
		continue
	fi
	if warnings "$f" "$tmp/warn" && [ ! -s "$tmp/warn" ]; then
		ok "$page: $formatter formats it without a warning"
	else
		bad "$page: $formatter warns:"
		sed 's/^/    /' "$tmp/warn"
	fi
	if [ -n "$version" ] && grep -q "^\.TH .*\"dbgalloc $version\"" "$f"; then
		ok "$page: .TH names dbgalloc $version"
	else
		bad "$page: .TH does not name \"dbgalloc ${version:-?}\" (configure.ac)"
	fi
	plain "$f" >"$tmp/$page.txt"
done

# headlines FILE...: the "dbgalloc: ..." literals outside comment lines.
headlines() {
	grep -h -E -v '^[[:space:]]*(\*|/\*|//)' "$@" |
		grep -o '"dbgalloc: [^"]*"' | sed 's/^"//; s/"$//' | trim
}

# The library's diagnostics. C sources only; comment lines are skipped.
# The settings' messages belong to dbgalloc.7 (below).
settings_c=$top/audit/settings.c
set --
for f in "$top"/alloc/*.[ch] "$top"/audit/*.[ch] "$top"/shim/*.[ch]; do
	[ "$f" = "$settings_c" ] || set -- "$@" "$f"
done
headlines "$@" >"$tmp/headlines"
# Every literal handed to da_line_str() in a call (an indented line), the
# continuation lines of the call included.
awk '
	/^[ \t]+.*da_line_str\(/ { inside = 1 }
	inside {
		line = $0
		while (match(line, /"([^"\\]|\\.)*"/)) {
			s = substr(line, RSTART + 1, RLENGTH - 2)
			gsub(/\\"/, "\"", s)
			gsub(/\\\\/, "\\", s)
			print s
			line = substr(line, RSTART + RLENGTH)
		}
		if ($0 ~ /;/)
			inside = 0
	}' "$@" | trim >"$tmp/fragments"
if [ -s "$tmp/headlines" ] && [ -s "$tmp/fragments" ]; then
	expect "$tmp/dbgalloc.3.txt" "dbgalloc.3 headline" "$tmp/headlines"
	expect "$tmp/dbgalloc.3.txt" "dbgalloc.3 message text" "$tmp/fragments"
else
	bad "no diagnostics found in alloc/, audit/, shim/ (is the extraction broken?)"
fi

# The exported C functions: "DA_EXPORT type" then "name(" on the next line.
awk 'export && match($0, /^[A-Za-z_][A-Za-z_0-9]*\(/) {
		print substr($0, 1, RLENGTH - 1)
	}
	{ export = ($0 ~ /^DA_EXPORT/) }' "$top/shim/malloc.c" |
	LC_ALL=C sort -u >"$tmp/exports"
if [ -s "$tmp/exports" ]; then
	while IFS= read -r fn; do
		if grep -qwF -e "$fn" "$tmp/dbgalloc.3.txt"; then
			ok "dbgalloc.3 documents $fn"
		else
			bad "dbgalloc.3 does not document $fn (exported by shim/malloc.c)"
		fi
	done <"$tmp/exports"
else
	bad "no exported function found in shim/malloc.c (is the extraction broken?)"
fi

# The launcher: its "dbgalloc: ..." messages and its usage text, with the
# shell's $variables cut out.
awk '
	/<<USAGE/ { usage = 1; next }
	/^USAGE$/ { usage = 0 }
	usage { cut($0); next }
	/echo "dbgalloc: / {
		if (match($0, /"([^"\\]|\\.)*"/))
			cut(substr($0, RSTART + 1, RLENGTH - 2))
	}
	function cut(s) {
		gsub(/\$\{[^}]*\}|\$[A-Za-z_0-9]+/, "\n", s)
		print s
	}' "$top/shim/dbgalloc.in" | trim >"$tmp/launcher"
if [ -s "$tmp/launcher" ]; then
	expect "$tmp/dbgalloc.1.txt" "dbgalloc.1 launcher text" "$tmp/launcher"
else
	bad "no message found in shim/dbgalloc.in (is the extraction broken?)"
fi

# oom-sweep: the text of each message (a call of bad_usage or a format
# after PREFIX, its literals joined, cut at each printf conversion) and
# each line its --help prints.
awk '
	/^[ \t]+.*(bad_usage\(|PREFIX ")/ { inside = 1; msg = "" }
	inside {
		line = $0
		while (match(line, /"([^"\\]|\\.)*"/)) {
			msg = msg substr(line, RSTART + 1, RLENGTH - 2)
			line = substr(line, RSTART + RLENGTH)
		}
		if ($0 ~ /;/) {
			inside = 0
			gsub(/\\n/, "", msg)
			gsub(/\\"/, "\"", msg)
			gsub(/%[-0-9.]*l*[a-z]/, "\n", msg)
			print msg
		}
	}' "$top/tools/oom-sweep.c" | trim >"$tmp/sweep-messages"
"$build/tools/oom-sweep" --help 2>/dev/null | trim >"$tmp/sweep-usage"
if [ -s "$tmp/sweep-messages" ] && [ -s "$tmp/sweep-usage" ]; then
	expect "$tmp/dbgalloc.1.txt" "dbgalloc.1 oom-sweep message" \
		"$tmp/sweep-messages"
	expect "$tmp/dbgalloc.1.txt" "dbgalloc.1 oom-sweep usage" \
		"$tmp/sweep-usage"
else
	bad "no message in tools/oom-sweep.c or no --help from $build/tools/oom-sweep (not built?)"
fi

# The settings: their headlines are in dbgalloc.7; each variable the
# launcher lists, and each option of run (from the generator the launcher
# was built with), is in its page.
headlines "$settings_c" >"$tmp/settings-headlines"
if grep -q 'unknown variable' "$tmp/settings-headlines"; then
	expect "$tmp/dbgalloc.7.txt" "dbgalloc.7 settings headline" \
		"$tmp/settings-headlines"
else
	bad "no headline found in audit/settings.c (is the extraction broken?)"
fi
"$build/dbgalloc" --help-env 2>/dev/null |
	sed -n 's/^\(DBGALLOC_[A-Z0-9_]*\)=.*/\1/p' >"$tmp/variables"
"$build/doc/settings-gen" options 2>/dev/null | tr '|' '\n' |
	sed -n 's/^\([a-z0-9-][a-z0-9-]*\)$/--\1=/p' >"$tmp/options"
if [ -s "$tmp/variables" ] && [ -s "$tmp/options" ]; then
	expect "$tmp/dbgalloc.7.txt" "dbgalloc.7 setting" "$tmp/variables"
	expect "$tmp/dbgalloc.1.txt" "dbgalloc.1 option of run" "$tmp/options"
else
	bad "no setting listed by $build/dbgalloc --help-env or $build/doc/settings-gen options (not built?)"
fi

# dbgalloc-stats: each message given to st_fail() (its literals joined, cut
# at each printf conversion), its other "dbgalloc-stats: ..." literals, the
# dump reader's messages (given to fail() and fail_file(), and the version
# line it formats), and each line of --help.
cut_messages() {
	awk -v start="$1" '
	$0 ~ start { inside = 1; msg = "" }
	inside {
		line = $0
		while (match(line, /"([^"\\]|\\.)*"/)) {
			msg = msg substr(line, RSTART + 1, RLENGTH - 2)
			line = substr(line, RSTART + RLENGTH)
		}
		if ($0 ~ /;/) {
			inside = 0
			gsub(/\\n/, "", msg)
			gsub(/\\"/, "\"", msg)
			gsub(/%%/, "\001", msg)
			gsub(/%[-0-9.*]*[lz]*[a-z]/, "\n", msg)
			gsub(/\001/, "%", msg)
			print msg
		}
	}' "$2"
}
for f in "$top"/tools/stats*.c; do
	cut_messages '^[ \t]+.*st_fail\(' "$f"
	grep -h -E -v '^[[:space:]]*(\*|/\*|//)' "$f" |
		grep -o '"dbgalloc-stats: [^"]*"' | sed 's/^"//; s/"$//; s/\\n$//'
done | trim >"$tmp/stats-messages"
cut_messages '^[ \t]+.*(fail\(r, |fail_file\(r, [A-Z]+, "|snprintf\(what,)' \
	"$top/tools/dumpread.c" | trim >"$tmp/reader-messages"
"$build/tools/dbgalloc-stats" --help 2>/dev/null | trim >"$tmp/stats-usage"
if [ -s "$tmp/stats-messages" ] && [ -s "$tmp/reader-messages" ] &&
	[ -s "$tmp/stats-usage" ]; then
	expect "$tmp/dbgalloc-stats.1.txt" "dbgalloc-stats.1 message" \
		"$tmp/stats-messages"
	expect "$tmp/dbgalloc-stats.1.txt" "dbgalloc-stats.1 reader message" \
		"$tmp/reader-messages"
	expect "$tmp/dbgalloc-stats.1.txt" "dbgalloc-stats.1 usage" \
		"$tmp/stats-usage"
else
	bad "no message in tools/stats*.c or tools/dumpread.c, or no --help from $build/tools/dbgalloc-stats (not built?)"
fi

finish
