/*
 * doc/settings-gen.c — prints the settings of audit/settings.def for the
 * documents built from that list (a build tool, not installed):
 *   settings-gen man      the SETTINGS entries of dbgalloc(7), troff
 *   settings-gen help     the text of `dbgalloc run --help-env`
 *   settings-gen options  the launcher's options as a shell case pattern
 *                         ("leaks|leaks-exitcode|..."), one per setting
 *                         the library reads
 * It reads the parser's own table, so what the pages say a setting accepts
 * is what its error message says, word for word.
 */
#include "audit/settings.h"

#include <stdio.h>
#include <string.h>

/* What a value is called in an option or variable synopsis. */
static const char *
metavar(const struct da_setting *d)
{
	switch (d->type) {
	case DA_SETTING_ENUM:
		return "word";
	case DA_SETTING_UINT:
		return "n";
	case DA_SETTING_SIZE:
		return "size";
	case DA_SETTING_TEXT:
		return "value";
	default:
		return "path";
	}
}

/* The launcher's option for d: the name in lower case, '-' for '_'. */
static void
option(const struct da_setting *d, char *buf, size_t len)
{
	size_t i;
	for (i = 0; d->name[i] != '\0' && i + 1 < len; i++) {
		char c = d->name[i];
		buf[i] = c == '_'                 ? '-'
		         : (c >= 'A' && c <= 'Z') ? c - 'A' + 'a'
		                                  : c;
	}
	buf[i] = '\0';
}

/* s as troff text: no escape or request can start by accident. */
static void
troff(const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", stdout);
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", stdout);
		else if (*s == '-')
			fputs("\\-", stdout);
		else if (*s == '"')
			fputs("\\(dq", stdout);
		else
			putchar(*s);
	}
}

static void
man(void)
{
	char buf[256], opt[64];
	for (size_t i = 0; i < da_settings_count; i++) {
		const struct da_setting *d = &da_settings_table[i];
		printf(".TP\n.BI DBGALLOC_%s= %s\n", d->name, metavar(d));
		troff(d->doc);
		fputs(".\n", stdout);
		da_setting_expects(d, buf, sizeof(buf));
		fputs(".br\nAccepts ", stdout);
		troff(buf);
		fputs("; default: ", stdout);
		da_setting_default(d, buf, sizeof(buf));
		troff(buf);
		fputs(".\n.br\n", stdout);
		if (d->type == DA_SETTING_LAUNCHER) {
			fputs("Read by the launcher only, see\n"
			      ".BR dbgalloc (1).\n",
			      stdout);
			continue;
		}
		option(d, opt, sizeof(opt));
		fputs("Launcher option:\n.BI \"dbgalloc run \\-\\-", stdout);
		troff(opt);
		printf("=\" %s\n", metavar(d));
	}
}

/* Words of s, wrapped at 76 columns, each line indented by four spaces. */
static void
wrapped(const char *s)
{
	size_t col = 0;
	while (*s != '\0') {
		size_t n = strcspn(s, " ");
		if (col > 0 && col + 1 + n > 76) {
			putchar('\n');
			col = 0;
		}
		if (col == 0) {
			fputs("    ", stdout);
			col = 4;
		} else {
			putchar(' ');
			col++;
		}
		fwrite(s, 1, n, stdout);
		col += n;
		s += n;
		s += strspn(s, " ");
	}
	putchar('\n');
}

static void
help(void)
{
	char expects[256], dflt[256], opt[64], line[1024];
	fputs("Settings: environment variables that libdbgalloc reads when a "
	      "program starts.\n"
	      "A bad value or an unknown DBGALLOC_ name stops the program "
	      "with one line on\n"
	      "standard error and exit status 2. See dbgalloc(7), and "
	      "dbgalloc(3) for what\n"
	      "each setting does.\n",
	      stdout);
	for (size_t i = 0; i < da_settings_count; i++) {
		const struct da_setting *d = &da_settings_table[i];
		da_setting_expects(d, expects, sizeof(expects));
		da_setting_default(d, dflt, sizeof(dflt));
		printf("\nDBGALLOC_%s=%s", d->name, metavar(d));
		if (d->type != DA_SETTING_LAUNCHER) {
			option(d, opt, sizeof(opt));
			printf("  (run --%s=%s)", opt, metavar(d));
		}
		putchar('\n');
		snprintf(line, sizeof(line), "%s.", d->doc);
		wrapped(line);
		snprintf(line, sizeof(line), "Accepts %s; default: %s.",
		         expects, dflt);
		wrapped(line);
	}
}

static void
options(void)
{
	char opt[64];
	const char *sep = "";
	for (size_t i = 0; i < da_settings_count; i++) {
		if (da_settings_table[i].type == DA_SETTING_LAUNCHER)
			continue;
		option(&da_settings_table[i], opt, sizeof(opt));
		printf("%s%s", sep, opt);
		sep = "|";
	}
	putchar('\n');
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "man") == 0)
		man();
	else if (argc == 2 && strcmp(argv[1], "help") == 0)
		help();
	else if (argc == 2 && strcmp(argv[1], "options") == 0)
		options();
	else {
		fputs("usage: settings-gen man|help|options\n", stderr);
		return 2;
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
