/*
 * tools/stats.c — dbgalloc-stats: reads dbgalloc dumps (doc/dump-format.md)
 * and prints what they hold, as text or JSON.
 *
 *   dbgalloc-stats COMMAND [OPTIONS] DUMP...
 *
 * This file parses the options (in any order around the command and the
 * dumps), checks that the command takes each one given, runs the command
 * over each dump into one document (stats-out.h) and writes it at the end,
 * so that an error never leaves half an output. Exit status: 0, 1 when a
 * check failed, 2 for bad usage or input that cannot be read, with one
 * line "dbgalloc-stats: ..." on stderr.
 */
#include "tools/stats.h"
#include "tools/stats-pid.h"
#include "tools/symbols.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/stats-units.h"

#define PROG "dbgalloc-stats"

/* Options, by id: the bit a command must have to take one. */
enum opt_id {
	OPT_FORMAT = 256,
	OPT_NO_SYMBOLS,
	OPT_DEBUG_DIR,
	OPT_ALL_FRAMES,
	OPT_VERSION,
	OPT_BY,
	OPT_SORT,
	OPT_SINCE_STAGE,
	OPT_SINCE_GEN,
	OPT_MAX_PEAK,
	OPT_MAX_LIVE,
	OPT_MAX_LEAKED,
	OPT_BASELINE,
	OPT_FAIL_ON_INCREASE,
	OPT_DEPTH = 'd',
	OPT_N = 'n',
	OPT_HELP = 'h',
};

/* The long-only ids from bit 0, then -d, -n and -h. */
#define BIT(id)                                  \
	(1ull << ((id) >= 256         ? (id)-256 \
	          : (id) == OPT_DEPTH ? 40       \
	          : (id) == OPT_N     ? 41       \
	                              : 42))
#define GLOBAL                                                        \
	(BIT(OPT_FORMAT) | BIT(OPT_NO_SYMBOLS) | BIT(OPT_DEBUG_DIR) | \
	 BIT(OPT_ALL_FRAMES) | BIT(OPT_DEPTH))
#define ROWS (BIT(OPT_N) | BIT(OPT_BY))

static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"no-symbols", no_argument, NULL, OPT_NO_SYMBOLS},
        {"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},
        {"all-frames", no_argument, NULL, OPT_ALL_FRAMES},
        {"depth", required_argument, NULL, OPT_DEPTH},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {"by", required_argument, NULL, OPT_BY},
        {"sort", required_argument, NULL, OPT_SORT},
        {"since-stage", required_argument, NULL, OPT_SINCE_STAGE},
        {"since-gen", required_argument, NULL, OPT_SINCE_GEN},
        {"max-peak", required_argument, NULL, OPT_MAX_PEAK},
        {"max-live", required_argument, NULL, OPT_MAX_LIVE},
        {"max-leaked", required_argument, NULL, OPT_MAX_LEAKED},
        {"baseline", required_argument, NULL, OPT_BASELINE},
        {"fail-on-increase", optional_argument, NULL, OPT_FAIL_ON_INCREASE},
        {NULL, 0, NULL, 0},
};

typedef int (*per_dump_fn)(struct o_node *out, struct st_dump *sd);

struct command {
	const char *name;
	per_dump_fn run; /* NULL: diff and check, which read dumps their way */
	uint64_t options;
	unsigned depth; /* frames per site in text by default (0: all) */
	uint64_t n;     /* rows by default */
};

static const struct command commands[] = {
        {"summary", st_summary, GLOBAL, 1, 5},
        {"leaks", st_leaks, GLOBAL | BIT(OPT_SINCE_STAGE) | BIT(OPT_SINCE_GEN),
         0, 0},
        {"top", st_top, GLOBAL | ROWS | BIT(OPT_SORT), 1, 10},
        {"classes", st_classes, GLOBAL, 1, 0},
        {"stages", st_stages, GLOBAL, 1, 0},
        {"diff", NULL, GLOBAL | ROWS, 1, 10},
        {"check", NULL,
         GLOBAL | BIT(OPT_MAX_PEAK) | BIT(OPT_MAX_LIVE) | BIT(OPT_MAX_LEAKED) |
                 BIT(OPT_BASELINE) | BIT(OPT_FAIL_ON_INCREASE),
         5, 5},
        {"temporaries", st_temporaries, GLOBAL | ROWS, 1, 10},
};

static const char usage_text[] =
        "Usage: dbgalloc-stats COMMAND [OPTIONS] DUMP...\n"
        "Reads the dumps dbgalloc writes (DBGALLOC_DUMP, dbgalloc_dump) and "
        "prints what they hold.\n"
        "\n"
        "Commands:\n"
        "  summary      live and peak heap, RSS, totals, overhead, limit, "
        "top sites at peak, sizes\n"
        "  leaks        the leak report: the leak check's verdict, or every "
        "live block\n"
        "  top          the biggest sites\n"
        "  classes      the size classes\n"
        "  stages       one row per epoch (dbgalloc_mark)\n"
        "  diff A B     per site, live bytes and blocks of B beside A's\n"
        "  check        exit status 1 when a limit is passed\n"
        "  temporaries  the sites with the most short-lived blocks\n"
        "\n"
        "Options:\n"
        "  --format text|json      the output's form (text)\n"
        "  -d, --depth N           frames per site in text (0: all)\n"
        "  --all-frames            show dbgalloc's frames and allocation "
        "wrappers' too\n"
        "  --no-symbols            read no debug information\n"
        "  --debug-dir DIR         where separate debug files are\n"
        "  -n N                    rows: top, diff, temporaries (0: all)\n"
        "  --by site|function|line|file|module|thread\n"
        "                          what rows group: top, diff, temporaries\n"
        "  --sort live|peak|allocated|count|temporary\n"
        "                          what orders rows: top\n"
        "  --since-stage NAME      leaks: blocks of that epoch and later\n"
        "  --since-gen N           leaks: blocks of generation N and later\n"
        "  leaks --pid PID [--timeout SECONDS]\n"
        "                          check a running process for leaks now\n"
        "  --max-peak SIZE         check: the heap's peak\n"
        "  --max-live SIZE         check: the live heap at the dump\n"
        "  --max-leaked SIZE       check: the bytes leaked\n"
        "  --baseline DUMP --fail-on-increase[=PCT]\n"
        "                          check: the peak against an earlier "
        "dump's\n"
        "  -h, --help              this text\n"
        "  --version               the version\n"
        "\n"
        "SIZE: bytes, or with K, M, G, T (1,024-based): 4096, 100M, 1.5G.\n"
        "Exit status: 0 ok, 1 a check failed, 2 bad usage or unreadable "
        "input.\n";

void
st_fail(const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

void *
st_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		st_oom();
	return p;
}

void *
st_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		st_oom();
	return p;
}

char *
st_xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		st_oom();
	return p;
}

void
st_load(struct st_dump *sd, const char *path, const struct st_opts *opt)
{
	char err[1024];
	memset(sd, 0, sizeof(*sd));
	sd->path = path;
	sd->opt = opt;
	if (da_dump_read(path, &sd->d, err, sizeof(err)) != 0)
		st_fail("%s", err);
	unsigned flags = opt->no_symbols ? DA_SYMS_NONE : 0;
	sd->syms = da_syms_open(&sd->d, flags, opt->debug_dir);
	if (sd->syms == NULL)
		sd->syms = da_syms_open(&sd->d, DA_SYMS_NONE, NULL);
	if (sd->syms == NULL)
		st_oom();
}

void
st_unload(struct st_dump *sd)
{
	const char *w = da_syms_warnings(sd->syms);
	while (w != NULL && *w != '\0') {
		const char *nl = strchr(w, '\n');
		size_t n = nl != NULL ? (size_t)(nl - w) : strlen(w);
		if (n > 0)
			fprintf(stderr, PROG ": %.*s\n", (int)n, w);
		w += n + (nl != NULL);
	}
	da_syms_close(sd->syms);
	da_dump_free(&sd->d);
	free(sd->frames);
	free(sd->key);
	memset(sd, 0, sizeof(*sd));
}

uint64_t
st_counter(const struct st_dump *sd, const char *name)
{
	return da_dump_counter(&sd->d, name);
}

const struct da_dump_epoch *
st_epoch(const struct da_dump *d, uint64_t e)
{
	for (size_t i = 0; i < d->nepochs; i++)
		if (d->epochs[i].epoch == e)
			return &d->epochs[i];
	return NULL;
}

const char *
st_program(struct o_doc *doc, const struct st_dump *sd)
{
	const char *exe = da_dump_header(&sd->d, "exe");
	const char *pid = da_dump_header(&sd->d, "pid");
	const char *name = exe != NULL ? strrchr(exe, '/') : NULL;
	name = name != NULL && name[1] != '\0' ? name + 1 : exe;
	if (name == NULL || *name == '\0')
		name = "?";
	if (pid == NULL)
		return o_strdup(doc, name);
	return o_printf(doc, "%s (pid %s)", name, pid);
}

/* Option parsing. */

static const char *
option_name(int id)
{
	static char buf[8];
	for (const struct option *o = longopts; o->name != NULL; o++)
		if (o->val == id && id >= 256)
			return o->name;
	snprintf(buf, sizeof(buf), "%c", id);
	return buf;
}

/* "--name" or "-c" for the messages. */
static const char *
shown_option(int id)
{
	static char buf[64];
	if (id >= 256 || id == OPT_DEPTH || id == OPT_HELP) {
		for (const struct option *o = longopts; o->name != NULL; o++)
			if (o->val == id) {
				snprintf(buf, sizeof(buf), "--%s", o->name);
				return buf;
			}
	}
	snprintf(buf, sizeof(buf), "-%s", option_name(id));
	return buf;
}

static int
one_of(const char *what, const char *value, const char *const *names, size_t n,
       const char *list)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(value, names[i]) == 0)
			return (int)i;
	st_fail("%s: '%s' is not one of %s", what, value, list);
}

static uint64_t
size_arg(const char *what, const char *value)
{
	uint64_t v;
	if (st_parse_size(value, &v) != 0 || v == ST_NONE)
		st_fail("%s: bad size '%s' (bytes, or a number with K, M, G "
		        "or T: 4096, 100M, 1.5G)",
		        what, value);
	return v;
}

static uint64_t
count_arg(const char *what, const char *value)
{
	uint64_t v;
	if (st_parse_count(value, &v) != 0 || v == ST_NONE)
		st_fail("%s: bad number '%s'", what, value);
	return v;
}

/* The option getopt refused, as the user wrote it. */
static void
refused(int c, char **argv, int at)
{
	const char *arg = at > 0 ? argv[at - 1] : "";
	if (c == ':')
		st_fail("option '%s' needs a value", arg);
	if (strncmp(arg, "--", 2) == 0) {
		const char *eq = strchr(arg, '=');
		size_t len =
		        eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		for (const struct option *o = longopts; o->name != NULL; o++)
			if (eq != NULL && o->has_arg == no_argument &&
			    strlen(o->name) == len &&
			    strncmp(o->name, arg + 2, len) == 0)
				st_fail("option '--%s' takes no value",
				        o->name);
		st_fail("unknown option '%.*s' (see dbgalloc-stats --help)",
		        (int)(eq != NULL ? (size_t)(eq - arg) : strlen(arg)),
		        arg);
	}
	st_fail("unknown option '-%c' (see dbgalloc-stats --help)",
	        optopt ? optopt : '?');
}

static uint64_t
parse(int argc, char **argv, struct st_opts *opt)
{
	static const char *const formats[] = {"text", "json"};
	static const char *const bys[] = {"site", "function", "line",
	                                  "file", "module",   "thread"};
	static const char *const sorts[] = {"live", "peak", "allocated",
	                                    "count", "temporary"};
	uint64_t seen = 0;
	int c;
	memset(opt, 0, sizeof(*opt));
	opt->since_gen = opt->max_peak = opt->max_live = opt->max_leaked =
	        ST_NONE;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:n:h", longopts, NULL)) != -1) {
		if (c == '?' || c == ':')
			refused(c, argv, optind);
		seen |= BIT(c);
		switch (c) {
		case OPT_HELP:
			fputs(usage_text, stdout);
			exit(0);
		case OPT_VERSION:
			puts(PROG " " PACKAGE_VERSION);
			exit(0);
		case OPT_FORMAT:
			opt->format = (enum o_format)one_of(
			        "--format", optarg, formats, 2, "text, json");
			break;
		case OPT_NO_SYMBOLS:
			opt->no_symbols = 1;
			break;
		case OPT_ALL_FRAMES:
			opt->all_frames = 1;
			break;
		case OPT_DEBUG_DIR: {
			struct stat st;
			if (stat(optarg, &st) != 0)
				st_fail("--debug-dir: %s: %s", optarg,
				        strerror(errno));
			if (!S_ISDIR(st.st_mode))
				st_fail("--debug-dir: %s: %s", optarg,
				        strerror(ENOTDIR));
			opt->debug_dir = optarg;
			break;
		}
		case OPT_DEPTH: {
			uint64_t v = count_arg("--depth", optarg);
			if (v > 100000)
				v = 100000;
			opt->depth = (unsigned)v;
			opt->depth_set = 1;
			break;
		}
		case OPT_N:
			opt->n = count_arg("-n", optarg);
			opt->n_set = 1;
			break;
		case OPT_BY:
			opt->by = (enum st_by)one_of(
			        "--by", optarg, bys, 6,
			        "site, function, line, file, module, thread");
			break;
		case OPT_SORT:
			opt->sort = (enum st_sort)one_of(
			        "--sort", optarg, sorts, 5,
			        "live, peak, allocated, count, temporary");
			break;
		case OPT_SINCE_STAGE:
			opt->since_stage = optarg;
			break;
		case OPT_SINCE_GEN:
			opt->since_gen = count_arg("--since-gen", optarg);
			break;
		case OPT_MAX_PEAK:
			opt->max_peak = size_arg("--max-peak", optarg);
			break;
		case OPT_MAX_LIVE:
			opt->max_live = size_arg("--max-live", optarg);
			break;
		case OPT_MAX_LEAKED:
			opt->max_leaked = size_arg("--max-leaked", optarg);
			break;
		case OPT_BASELINE:
			opt->baseline = optarg;
			break;
		case OPT_FAIL_ON_INCREASE:
			opt->fail_on_increase = 1;
			opt->increase_pct = 0;
			if (optarg != NULL &&
			    st_parse_pct(optarg, &opt->increase_pct) != 0)
				st_fail("--fail-on-increase: bad percentage "
				        "'%s' (a number, e.g. 5 or 2.5%%)",
				        optarg);
			break;
		default:
			refused(c, argv, optind);
		}
	}
	return seen;
}

/* The first option in seen that cmd does not take, or 0. */
static int
not_taken(uint64_t seen, const struct command *cmd)
{
	for (const struct option *o = longopts; o->name != NULL; o++)
		if ((seen & BIT(o->val)) && !(cmd->options & BIT(o->val)))
			return o->val;
	if ((seen & BIT(OPT_N)) && !(cmd->options & BIT(OPT_N)))
		return OPT_N;
	return 0;
}

/* `leaks --pid PID [OPTIONS]` (or --pid=PID): a running process's live
 * check, with options of its own (tools/stats-pid.h). 1 with *rc set if
 * argv is that form. */
static int
leaks_pid(int argc, char **argv, int *rc)
{
	if (argc < 3 || strcmp(argv[1], "leaks") != 0 ||
	    strncmp(argv[2], "--pid", 5) != 0 ||
	    (argv[2][5] != '\0' && argv[2][5] != '='))
		return 0;
	const char *arg = argv[2][5] == '=' ? argv[2] + 6 : argv[3];
	int rest = argv[2][5] == '=' ? 3 : 4;
	if (arg == NULL)
		st_fail("--pid needs a process id");
	char *end;
	errno = 0;
	long pid = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || pid <= 0 ||
	    pid > INT32_MAX)
		st_fail("--pid: '%s' is not a process id", arg);
	*rc = da_stats_leaks_pid((pid_t)pid, argc - rest, argv + rest);
	return 1;
}

int
main(int argc, char **argv)
{
	struct st_opts opt;
	int pid_rc;
	if (leaks_pid(argc, argv, &pid_rc))
		return pid_rc;
	uint64_t seen = parse(argc, argv, &opt);
	const struct command *cmd = NULL;
	int rc = 0;

	if (optind >= argc)
		st_fail("no command (see dbgalloc-stats --help)");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL)
		st_fail("unknown command '%s' (see dbgalloc-stats --help)",
		        argv[optind]);
	int id = not_taken(seen, cmd);
	if (id != 0)
		st_fail("%s does not take %s", cmd->name, shown_option(id));
	if (!opt.depth_set)
		opt.depth = cmd->depth;
	if (!opt.n_set)
		opt.n = cmd->n;

	char **dumps = argv + optind + 1;
	int ndumps = argc - optind - 1;
	if (cmd->run == NULL && strcmp(cmd->name, "diff") == 0) {
		if (ndumps != 2)
			st_fail("diff needs two dumps, A and B, not %d",
			        ndumps);
	} else if (ndumps == 0) {
		st_fail("%s needs a dump (dbgalloc-stats %s DUMP...)",
		        cmd->name, cmd->name);
	}
	if (strcmp(cmd->name, "check") == 0) {
		if (opt.baseline != NULL && !opt.fail_on_increase)
			st_fail("check: --baseline needs --fail-on-increase");
		if (opt.fail_on_increase && opt.baseline == NULL)
			st_fail("check: --fail-on-increase needs --baseline");
		if (opt.max_peak == ST_NONE && opt.max_live == ST_NONE &&
		    opt.max_leaked == ST_NONE && opt.baseline == NULL)
			st_fail("check: nothing to check (give --max-peak, "
			        "--max-live, --max-leaked or --baseline with "
			        "--fail-on-increase)");
	}

	struct o_doc *doc = o_new();
	struct o_node *root = o_root(doc);
	o_flags(o_str(root, "command", NULL, cmd->name), O_JSON_ONLY);
	if (cmd->run == NULL && strcmp(cmd->name, "diff") == 0) {
		rc = st_diff(root, dumps[0], dumps[1], &opt);
	} else {
		struct o_node *arr = o_arr(root, "dumps");
		if (ndumps > 1)
			o_spaced(arr);
		for (int i = 0; i < ndumps; i++) {
			struct st_dump sd;
			struct o_node *item = o_item(
			        arr,
			        ndumps > 1
			                ? o_printf(doc, "==> %s <==", dumps[i])
			                : NULL);
			o_flags(o_str(item, "file", NULL, dumps[i]),
			        O_JSON_ONLY);
			if (cmd->run == NULL) {
				rc |= st_check(item, dumps[i], &opt);
				continue;
			}
			st_load(&sd, dumps[i], &opt);
			rc |= cmd->run(item, &sd);
			st_unload(&sd);
		}
	}
	int e = o_write(doc, stdout, opt.format);
	o_free(doc);
	if (e != 0)
		st_fail("writing the output: %s", strerror(e));
	return rc;
}
