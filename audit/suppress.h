/*
 * audit/suppress.h — LeakSanitizer suppressions, in LeakSanitizer's syntax.
 *
 * Text of lines "leak:PATTERN"; blank lines and "#" comments are skipped,
 * leading and trailing blanks ignored; lines of the other sanitizers'
 * types ("interceptor_via_fun:", "race:", ...) are accepted and ignored,
 * so one file serves ASan and dbgalloc alike. A pattern matches a leak's
 * stack if it matches, in any frame, the function name (demangled), the
 * source file as DWARF names it, or the module's path or basename:
 *   "*" matches any run of characters, a leading "^" and a trailing "$"
 *   anchor; otherwise the pattern matches anywhere in the name.
 * Report time only (allocates, symbolizes). Not thread-safe.
 */
#ifndef DA_AUDIT_SUPPRESS_H
#define DA_AUDIT_SUPPRESS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Adds the suppressions in text, one per line. src names the text in
 * messages (a file name, "__lsan_default_suppressions()"). Returns 0, or
 * -1 for a line without "TYPE:", with nothing added and err set to
 *   SRC:LINE: unknown suppression "TEXT" (expected TYPE:PATTERN, as leak:FUNCTION)
 */
int da_supp_add(const char *text, const char *src, char *err, size_t errlen);

/* Reads the file path and adds it. Returns 0, or -1 with err set to
 *   PATH: cannot read suppressions file: <strerror>
 * or to the parse error of da_supp_add. */
int da_supp_load(const char *path, char *err, size_t errlen);

/*
 * The index of the first (in the order added) leak suppression matching
 * any of the n frames (return addresses, symbolized through
 * da_sym_resolve), or -1.
 */
int da_supp_match(const uintptr_t *pcs, unsigned n);

/* Counts one suppressed leak record of bytes bytes against suppression
 * idx (as returned by da_supp_match; -1 is ignored). */
void da_supp_hit(int idx, size_t bytes);

/* The number of leak suppressions, and each one's pattern and counts. */
unsigned da_supp_count(void);
const char *da_supp_pattern(unsigned idx);
size_t da_supp_hits(unsigned idx);
size_t da_supp_hit_bytes(unsigned idx);

/* Forgets every suppression. */
void da_supp_clear(void);

/*
 * LeakSanitizer's TemplateMatch: 1 if pattern matches name. An empty or
 * NULL name never matches; an empty pattern matches any other. Literal
 * runs are found leftmost-first, without backtracking, as LeakSanitizer
 * does: "a*b$" does not match "abxb".
 */
int da_supp_pattern_match(const char *pattern, const char *name);

#endif /* DA_AUDIT_SUPPRESS_H */
