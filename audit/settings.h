/*
 * audit/settings.h — the DBGALLOC_ environment variables, parsed.
 *
 * Every setting is defined once, in audit/settings.def; the struct, its
 * defaults, the parser's table, dbgalloc(7) and `dbgalloc run --help-env`
 * are all expanded from that list. The shim parses the environment once,
 * in its constructor; until then da_settings holds the defaults, so the
 * allocations ld.so and libc make before it (PITFALLS 2) use those.
 * Nothing here allocates: parsing may run inside the first malloc.
 */
#ifndef DA_AUDIT_SETTINGS_H
#define DA_AUDIT_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

/* A number setting that was not set: no value in any range is this. */
#define DA_UNSET UINT64_MAX

/* Paths are copied: a program may overwrite its environment strings
 * (setproctitle does), and reports read the path at exit. */
#define DA_SETTING_PATH_MAX 4096

/* The constants of the word settings: enum da_<field>. */
#define DA_WORD_CONSTANT(constant, word) constant,
#define DA_ENUM(NAME, FIELD, DFLT, WORDS, DOC) \
	enum da_##FIELD{WORDS(DA_WORD_CONSTANT)};
#define DA_UINT(NAME, FIELD, DFLT, LO, HI, DOC)
#define DA_SIZE(NAME, FIELD, DFLT, LO, HI, DOC)
#define DA_PATH(NAME, FIELD, DOC)
#define DA_TEXT(NAME, FIELD, CHECK, EXPECTS, DOC)
#define DA_LAUNCHER(NAME, DFLT, DOC)
#include "audit/settings.def"

/* One field per setting the library reads: a word setting is one of its
 * enum's constants, a number or size a uint64_t (DA_UNSET: not set), a
 * path a string ("": none). Launcher-only settings have no field. */
struct da_settings {
#define DA_ENUM(NAME, FIELD, DFLT, WORDS, DOC)  unsigned FIELD;
#define DA_UINT(NAME, FIELD, DFLT, LO, HI, DOC) uint64_t FIELD;
#define DA_SIZE(NAME, FIELD, DFLT, LO, HI, DOC) uint64_t FIELD;
#define DA_PATH(NAME, FIELD, DOC)               char FIELD[DA_SETTING_PATH_MAX];
#define DA_TEXT(NAME, FIELD, CHECK, EXPECTS, DOC) \
	char FIELD[DA_SETTING_PATH_MAX];
#define DA_LAUNCHER(NAME, DFLT, DOC)
#include "audit/settings.def"
};

/* The process's settings: the defaults until the shim's constructor has
 * parsed the environment, never changed after that. */
extern struct da_settings da_settings;

enum da_setting_type {
	DA_SETTING_ENUM,
	DA_SETTING_UINT,
	DA_SETTING_SIZE,
	DA_SETTING_PATH,
	DA_SETTING_TEXT,
	DA_SETTING_LAUNCHER
};

/* A setting as the parser and the documentation generator see it. */
struct da_setting {
	const char *name;         /* without the "DBGALLOC_" prefix */
	const char *doc;          /* one line, for dbgalloc(7) and --help-env */
	const char *const *words; /* DA_SETTING_ENUM: by constant */
	const char *dflt_text;    /* DA_SETTING_LAUNCHER: the default;
	                             DA_SETTING_TEXT: what it expects */
	int (*check)(const char *); /* DA_SETTING_TEXT: 0 if valid */
	uint64_t dflt;              /* ENUM, UINT, SIZE: the default */
	uint64_t lo, hi;            /* the accepted range (ENUM: constants) */
	size_t offset;              /* of the field in struct da_settings */
	enum da_setting_type type;
};

/* Every setting, in the order of settings.def. */
extern const struct da_setting da_settings_table[];
extern const size_t da_settings_count;

/* Sets every field of out to its default. May allocate: no. */
void da_settings_defaults(struct da_settings *out);

/*
 * Parses envp (NULL-terminated "NAME=value" strings): out gets the defaults,
 * then the value of each DBGALLOC_ variable. As getenv, the first of two
 * entries with one name wins. Returns 0, or -1 with one line (no newline)
 * in err for the first problem in envp's order; out is then partly set.
 *   dbgalloc: DBGALLOC_STACK_DEPTH=abc: expected a number from 1 to 64
 *   dbgalloc: unknown variable DBGALLOC_LEAK (did you mean DBGALLOC_LEAKS?)
 * Values and names are quoted at most 64 bytes long, unprintable bytes as
 * '?'. err is always terminated (if errlen > 0), truncated to fit.
 * May allocate: no (it runs before main, possibly inside the first malloc).
 */
int da_settings_parse(char *const *envp, struct da_settings *out, char *err,
                      size_t errlen);

/*
 * Parses value for the setting d into field (unsigned for a word, uint64_t
 * for a number or size, DA_SETTING_PATH_MAX bytes for a path; nothing for
 * a launcher setting). Returns 0, or -1 with the line for a malformed
 * value in err (as da_settings_parse). May allocate: no.
 */
int da_setting_parse_value(const struct da_setting *d, const char *value,
                           void *field, char *err, size_t errlen);

/*
 * A size: decimal digits, then optionally K, M, G or T (either case, binary:
 * K = 1024), then optionally "B" or "iB"; "B" alone means bytes. Returns 0
 * with *out set, EINVAL if s is not a size, ERANGE if it exceeds 2^64 - 1.
 */
int da_settings_parse_size(const char *s, uint64_t *out);

/* What d accepts, in words, as error messages end ("a number from 1 to
 * 64", "0, 1 or all"). Writes at most len bytes, terminated; returns the
 * length of the whole text. */
size_t da_setting_expects(const struct da_setting *d, char *buf, size_t len);

/* d's default, in words ("8", "bounded", "unset", "none"). As above. */
size_t da_setting_default(const struct da_setting *d, char *buf, size_t len);

#endif /* DA_AUDIT_SETTINGS_H */
