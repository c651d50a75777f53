/*
 * tools/oom-sweep.c — `dbgalloc oom-sweep`: out-of-memory testing in the
 * manner of SQLite's. The command runs once under dbgalloc to count its
 * allocations, then once per allocation number k with DBGALLOC_FAIL_AT=k,
 * and a table tells, for each k, where the failed allocation was made, how
 * the run ended and whether it leaked. Exit status 1 when a run crashed
 * (was killed by a signal) or timed out; 2 when the command cannot be
 * swept (bad usage, not found, no count); 0 otherwise.
 *
 * Installed in pkglibexecdir and started by the launcher (shim/dbgalloc.in),
 * which checks the library and passes it with --library. Runs outside the
 * allocator: stdio and malloc are fine here. Each run's reports go to
 * files of its own in a temporary directory, one per process
 * (DBGALLOC_LOG=DIR/run-K.%p), read back by tools/sweeplog.c; the runs
 * themselves are tools/sweeprun.c's.
 */
#include "tools/sweeplog.h"
#include "tools/sweeprun.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PREFIX "dbgalloc oom-sweep: "

static const char usage_text[] =
        "usage: dbgalloc oom-sweep [OPTIONS] [--] CMD [ARGS...]\n"
        "\n"
        "Runs CMD under dbgalloc once to count its allocations, then once\n"
        "for each allocation number k with DBGALLOC_FAIL_AT=k, so that the\n"
        "k-th allocation of each process fails, and prints for each k the\n"
        "call site of the failed allocation, how the run ended and whether\n"
        "it leaked. Exit status 1 if a run crashed or timed out, else 0.\n"
        "\n"
        "Options:\n"
        "  --from N       the first allocation to fail (default 1)\n"
        "  --to M         the last (default: the count of the first run)\n"
        "  --jobs J       runs at once (default: the number of CPUs)\n"
        "  --timeout SEC  a run's time limit, 0 for none (default: 10\n"
        "                 times the first run's time, at least 10)\n";

/* What the command line asks for. 0 in from/to/jobs: the default. */
struct opts {
	const char *library;
	unsigned long from, to;
	unsigned long jobs;
	double timeout;
	int timeout_set;
	char **cmd;
};

/* One run's result, kept until its row is printed. */
struct result {
	int done;
	struct da_run run;
	struct da_sweeplog top; /* the first process's log */
	int child_failed;       /* a child's log has a failure */
	unsigned long child_pid;
	struct da_sweeplog child;
	int leaked; /* any process of it */
	unsigned long long leak_bytes, leak_blocks;
	unsigned children; /* processes other than the first that logged */
	unsigned long long child_numbered;
};

/* A crash or timeout, for the list after the table. */
struct crash {
	unsigned long k;
	char outcome[32];
	char site[512];
};

/* The state of a sweep, shared by the callbacks of da_runs. */
struct sweep {
	const struct opts *o;
	const char *dir;
	char **env;      /* the base environment; see env_build */
	char *preload;   /* its LD_PRELOAD=... */
	size_t env_vary; /* index of DBGALLOC_LOG; FAIL_AT follows it */
	char *log_var;
	char fail_var[64];
	int count_run;
	struct result count;     /* the count run */
	struct result **pending; /* by k - from, until printed */
	unsigned long printed;   /* rows printed so far */
	unsigned long runs, clean, crashed, leaked, timeouts, unstarted;
	struct crash *crashes;
	size_t ncrashes;
	int kwidth;
};

/* The sweep's own memory; running out of it ends the sweep (status 2). */
static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (p == NULL) {
		fputs(PREFIX "out of memory\n", stderr);
		exit(2);
	}
	return p;
}

static void
usage(FILE *f)
{
	fputs(usage_text, f);
}

/* One line on what is wrong, the usage text, exit status 2. */
__attribute__((format(printf, 1, 2), noreturn)) static void
bad_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs(PREFIX, stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	usage(stderr);
	exit(2);
}

/* A whole number, digits only. Returns 1 if s is one and fits. */
static int
whole(const char *s, unsigned long *v)
{
	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	char *end;
	*v = strtoul(s, &end, 10);
	return *end == '\0' && errno == 0;
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	int i = 1;
	while (i < argc) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (arg[0] != '-')
			break;
		/* --NAME=VALUE or --NAME VALUE */
		char name[32];
		const char *value = strchr(arg, '=');
		size_t len =
		        value != NULL ? (size_t)(value - arg) : strlen(arg);
		if (len >= sizeof(name))
			len = sizeof(name) - 1;
		memcpy(name, arg, len);
		name[len] = '\0';
		if (strcmp(name, "--library") != 0 &&
		    strcmp(name, "--from") != 0 && strcmp(name, "--to") != 0 &&
		    strcmp(name, "--jobs") != 0 &&
		    strcmp(name, "--timeout") != 0)
			bad_usage("unknown option '%s'", arg);
		if (value != NULL) {
			value++;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			bad_usage("option '%s' needs a value (%s=VALUE)", name,
			          name);
		}
		i++;
		unsigned long v = 0;
		if (strcmp(name, "--library") == 0) {
			o->library = value;
			continue;
		}
		int ok = whole(value, &v);
		if (strcmp(name, "--timeout") == 0) {
			if (!ok)
				bad_usage("--timeout wants a whole number of "
				          "seconds, 0 for none, not '%s'",
				          value);
			o->timeout = (double)v;
			o->timeout_set = 1;
			continue;
		}
		if (!ok || v == 0)
			bad_usage("%s wants a whole number from 1 up, not '%s'",
			          name, value);
		if (strcmp(name, "--from") == 0)
			o->from = v;
		else if (strcmp(name, "--to") == 0)
			o->to = v;
		else
			o->jobs = v;
	}
	if (i >= argc)
		bad_usage("no command to run");
	if (o->library == NULL)
		bad_usage("no library given (--library PATH; the launcher "
		          "passes it)");
	if (o->from != 0 && o->to != 0 && o->from > o->to)
		bad_usage("--from %lu is past --to %lu", o->from, o->to);
	o->cmd = argv + i;
}

/*
 * The environment of every run: ours, less the variables a run sets, then
 * LD_PRELOAD (the library first), DBGALLOC_FAIL_LOG=1, DBGALLOC_LEAKS=1,
 * and two slots that change per run, DBGALLOC_LOG and DBGALLOC_FAIL_AT.
 */
static void
env_build(struct sweep *sw)
{
	static const char *const set[] = {
	        "LD_PRELOAD=", "DBGALLOC_FAIL_AT=", "DBGALLOC_FAIL_LOG=",
	        "DBGALLOC_LEAKS=", "DBGALLOC_LOG="};
	extern char **environ;
	size_t n = 0;
	while (environ[n] != NULL)
		n++;
	char **env = xcalloc(n + 6, sizeof(*env));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int keep = 1;
		for (size_t j = 0; j < sizeof(set) / sizeof(set[0]); j++)
			if (strncmp(environ[i], set[j], strlen(set[j])) == 0)
				keep = 0;
		if (keep)
			env[k++] = environ[i];
	}
	const char *old = getenv("LD_PRELOAD");
	size_t size = strlen(sw->o->library) + (old ? strlen(old) : 0) + 16;
	char *preload = xcalloc(size, 1);
	sw->preload = preload;
	snprintf(preload, size, "LD_PRELOAD=%s%s%s", sw->o->library,
	         old != NULL && *old != '\0' ? " " : "", old ? old : "");
	env[k++] = preload;
	env[k++] = "DBGALLOC_FAIL_LOG=1";
	env[k++] = "DBGALLOC_LEAKS=1";
	sw->env = env;
	sw->env_vary = k;
	/* DBGALLOC_LOG=DIR/run-K.%p, with a % in DIR doubled. */
	size = strlen("DBGALLOC_LOG=") + 2 * strlen(sw->dir) + 64;
	sw->log_var = xcalloc(size, 1);
}

static char *const *
env_for(unsigned long i, void *arg)
{
	struct sweep *sw = arg;
	char *p = sw->log_var;
	p += sprintf(p, "DBGALLOC_LOG=");
	for (const char *c = sw->dir; *c != '\0'; c++) {
		if (*c == '%')
			*p++ = '%';
		*p++ = *c;
	}
	if (sw->count_run) {
		sprintf(p, "/count.%%p");
		sw->env[sw->env_vary] = sw->log_var;
		sw->env[sw->env_vary + 1] = NULL;
	} else {
		unsigned long k = sw->o->from + i;
		sprintf(p, "/run-%lu.%%p", k);
		snprintf(sw->fail_var, sizeof(sw->fail_var),
		         "DBGALLOC_FAIL_AT=%lu", k);
		sw->env[sw->env_vary] = sw->log_var;
		sw->env[sw->env_vary + 1] = sw->fail_var;
	}
	sw->env[sw->env_vary + 2] = NULL;
	return sw->env;
}

/*
 * Reads, then removes, the files of one run: prefix is "run-K." or
 * "count."; the file named after the run's pid is its first process's.
 */
static void
collect(struct sweep *sw, const char *prefix, struct result *r)
{
	DIR *d = opendir(sw->dir);
	if (d == NULL)
		return;
	size_t plen = strlen(prefix);
	size_t size = strlen(sw->dir) + 300;
	char *path = xcalloc(size, 1);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, plen) != 0)
			continue;
		unsigned long pid;
		if (!whole(e->d_name + plen, &pid))
			continue;
		snprintf(path, size, "%s/%s", sw->dir, e->d_name);
		struct da_sweeplog log;
		da_sweeplog_init(&log);
		da_sweeplog_read(&log, path);
		unlink(path);
		if (log.leaked) {
			r->leaked = 1;
			r->leak_bytes += log.leak_bytes;
			r->leak_blocks += log.leak_blocks;
		}
		if ((pid_t)pid == r->run.pid) {
			r->top = log;
			continue;
		}
		if (log.counted) {
			r->children++;
			r->child_numbered += log.numbered;
		}
		/* Of the children's failures, the lowest pid's: most often
		 * the first child's. The first process's comes before any. */
		if (log.failed && (!r->child_failed || pid < r->child_pid)) {
			r->child = log;
			r->child_failed = 1;
			r->child_pid = pid;
		}
	}
	closedir(d);
	free(path);
}

/* "exit 1", "SIGSEGV", "timeout", "not run". */
static void
outcome(const struct da_run *r, char *buf, size_t size)
{
	if (r->spawn_err != 0)
		snprintf(buf, size, "not run");
	else if (r->timed_out)
		snprintf(buf, size, "timeout");
	else if (WIFEXITED(r->status))
		snprintf(buf, size, "exit %d", WEXITSTATUS(r->status));
	else if (WIFSIGNALED(r->status)) {
		int sig = WTERMSIG(r->status);
#if HAVE_DECL_SIGABBREV_NP
		const char *name = sigabbrev_np(sig);
		if (name != NULL) {
			snprintf(buf, size, "SIG%s", name);
			return;
		}
#endif
		snprintf(buf, size, "signal %d", sig);
	} else
		snprintf(buf, size, "status %d", r->status);
}

/* The site of the failed allocation, or what stands in for it. */
static void
site(const struct result *r, int full, char *buf, size_t size)
{
	if (r->top.failed) {
		da_sweeplog_site(&r->top, full, buf, size);
	} else if (r->child_failed) {
		char s[480];
		da_sweeplog_site(&r->child, full, s, sizeof(s));
		snprintf(buf, size, "%s (in a child process)", s);
	} else if (r->run.spawn_err != 0) {
		snprintf(buf, size, "(%s)", strerror(r->run.spawn_err));
	} else {
		snprintf(buf, size, "(no failure injected)");
	}
}

/* Prints v with its thousands separated by commas, as dbgalloc does. */
static void
print_count(unsigned long long v)
{
	if (v >= 1000) {
		print_count(v / 1000);
		printf(",%03llu", v % 1000);
	} else {
		printf("%llu", v);
	}
}

/* "N word" or "N words". */
static void
print_counted(unsigned long long v, const char *word)
{
	print_count(v);
	printf(" %s%s", word, v == 1 ? "" : "s");
}

/* Appends arg to f as the shell would read it back. */
static void
shell_quote(FILE *f, const char *arg)
{
	if (*arg != '\0' &&
	    strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                "0123456789_@%+=:,./-") == strlen(arg)) {
		fputs(arg, f);
		return;
	}
	fputc('\'', f);
	for (const char *c = arg; *c != '\0'; c++) {
		if (*c == '\'')
			fputs("'\\''", f);
		else
			fputc(*c, f);
	}
	fputc('\'', f);
}

static void
print_cmd(FILE *f, char **cmd)
{
	for (char **a = cmd; *a != NULL; a++) {
		if (a != cmd)
			fputc(' ', f);
		shell_quote(f, *a);
	}
}

/* Prints the row of k and counts it. */
static void
row(struct sweep *sw, unsigned long k, const struct result *r)
{
	char out[32], where[512];
	outcome(&r->run, out, sizeof(out));
	site(r, 0, where, sizeof(where));
	int crashed = r->run.spawn_err == 0 && !r->run.timed_out &&
	              WIFSIGNALED(r->run.status);
	printf("%*lu  %-8s %-6s %s\n", sw->kwidth, k, out,
	       r->leaked ? "yes" : "no", where);
	sw->runs++;
	sw->crashed += crashed;
	sw->leaked += r->leaked != 0;
	sw->timeouts += r->run.timed_out != 0;
	sw->unstarted += r->run.spawn_err != 0;
	if (!crashed && !r->run.timed_out && !r->leaked && !r->run.spawn_err)
		sw->clean++;
	if (crashed || r->run.timed_out) {
		struct crash *c =
		        realloc(sw->crashes, (sw->ncrashes + 1) * sizeof(*c));
		if (c == NULL) {
			fputs(PREFIX "out of memory\n", stderr);
			exit(2);
		}
		sw->crashes = c;
		c += sw->ncrashes++;
		c->k = k;
		snprintf(c->outcome, sizeof(c->outcome), "%s", out);
		site(r, 1, c->site, sizeof(c->site));
	}
}

static void
run_done(const struct da_run *run, void *arg)
{
	struct sweep *sw = arg;
	if (sw->count_run) {
		sw->count.run = *run;
		if (run->spawn_err == 0)
			collect(sw, "count.", &sw->count);
		sw->count.done = 1;
		return;
	}
	struct result *r = xcalloc(1, sizeof(*r));
	r->run = *run;
	char prefix[48];
	snprintf(prefix, sizeof(prefix), "run-%lu.", sw->o->from + run->index);
	if (run->spawn_err == 0)
		collect(sw, prefix, r);
	sw->pending[run->index] = r;
	/* Rows in the order of k, as soon as each is known. */
	while (sw->printed <= sw->o->to - sw->o->from &&
	       sw->pending[sw->printed] != NULL) {
		struct result *p = sw->pending[sw->printed];
		row(sw, sw->o->from + sw->printed, p);
		free(p);
		sw->pending[sw->printed++] = NULL;
	}
	fflush(stdout);
}

/* Removes the directory and anything a run left in it. */
static void
cleanup(const char *dir)
{
	DIR *d = opendir(dir);
	if (d != NULL) {
		struct dirent *e;
		char path[4096];
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

/*
 * After da_runs returned sig: out of memory (-1), or ends the way the
 * signal that stopped the batch would have.
 */
static void
stopped(int sig, const char *dir)
{
	cleanup(dir);
	if (sig < 0) {
		fputs(PREFIX "out of memory\n", stderr);
		exit(2);
	}
	fflush(stdout);
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

/* The first run. Exits (2) when the command cannot be swept. */
static void
count_run(struct sweep *sw)
{
	struct da_runs spec = {
	        .argv = sw->o->cmd,
	        .n = 1,
	        .jobs = 1,
	        .timeout = sw->o->timeout_set ? sw->o->timeout : 0,
	        .env = env_for,
	        .done = run_done,
	        .arg = sw,
	};
	sw->count_run = 1;
	int sig = da_runs(&spec);
	sw->count_run = 0;
	if (sig != 0)
		stopped(sig, sw->dir);
	const struct result *c = &sw->count;
	const char *cmd = sw->o->cmd[0];
	char out[32];
	outcome(&c->run, out, sizeof(out));
	if (c->run.spawn_err == ENOENT) {
		fprintf(stderr, PREFIX "%s: not found\n", cmd);
	} else if (c->run.spawn_err != 0) {
		fprintf(stderr, PREFIX "%s: cannot execute: %s\n", cmd,
		        strerror(c->run.spawn_err));
	} else if (c->run.timed_out) {
		fprintf(stderr, PREFIX "the first run, without any failure, "
		                       "timed out\n");
	} else if (WIFSIGNALED(c->run.status)) {
		fprintf(stderr,
		        PREFIX "the first run, without any failure, was "
		               "killed by %s\n",
		        out);
	} else if (!c->top.counted && sw->o->to == 0) {
		/* The count is written at exit(); _exit() skips it. */
		fprintf(stderr,
		        PREFIX "%s reported no allocation count: it is static "
		               "or set-user-ID (LD_PRELOAD is ignored), or it "
		               "ended with _exit(); --to M sweeps anyway\n",
		        cmd);
	} else {
		return;
	}
	cleanup(sw->dir);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct sweep sw;
	parse_opts(argc, argv, &o);
	memset(&sw, 0, sizeof(sw));
	sw.o = &o;
	if (o.jobs == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		o.jobs = n > 0 ? (unsigned long)n : 1;
	}
	int err = da_runs_init();
	if (err != 0) {
		fprintf(stderr, PREFIX "cannot block signals: %s\n",
		        strerror(err));
		return 2;
	}
	const char *tmp = getenv("TMPDIR");
	size_t size = (tmp != NULL && *tmp != '\0' ? strlen(tmp) : 4) + 32;
	char *dir = xcalloc(size, 1);
	snprintf(dir, size, "%s/dbgalloc-oom.XXXXXX",
	         tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr,
		        PREFIX "cannot make a temporary directory %s: %s\n",
		        dir, strerror(errno));
		return 2;
	}
	sw.dir = dir;
	env_build(&sw);

	count_run(&sw);
	const struct result *c = &sw.count;
	char out[32];
	outcome(&c->run, out, sizeof(out));
	printf("dbgalloc oom-sweep: ");
	print_cmd(stdout, o.cmd);
	printf("\nfirst run: %s, ", out);
	if (c->top.counted) {
		print_counted(c->top.numbered, "allocation");
		printf(" numbered");
	} else {
		printf("no allocation count");
	}
	if (c->children > 0) {
		printf(" (and ");
		print_count(c->child_numbered);
		printf(" in %u other process%s)", c->children,
		       c->children == 1 ? "" : "es");
	}
	/* A leak without any failure shows in every row: say so here. */
	if (c->leaked) {
		printf(", leaked ");
		print_counted(c->leak_bytes, "byte");
		printf(" in ");
		print_counted(c->leak_blocks, "block");
		printf("\n");
	} else {
		printf(", no leak\n");
	}
	if (o.from == 0)
		o.from = 1;
	if (o.to == 0 && o.from > c->top.numbered) {
		if (c->top.numbered == 0)
			printf("nothing to sweep\n");
		else
			fprintf(stderr,
			        PREFIX "--from %lu is past the %llu "
			               "allocations of the first run\n",
			        o.from, c->top.numbered);
		cleanup(dir);
		return c->top.numbered == 0 ? 0 : 2;
	}
	if (o.to == 0)
		o.to = (unsigned long)c->top.numbered;
	if (!o.timeout_set) {
		o.timeout = 10 * c->run.seconds;
		o.timeout = o.timeout < 10 ? 10 : (double)(long)(o.timeout + 1);
	}
	unsigned long n = o.to - o.from + 1;
	if (o.jobs > n)
		o.jobs = n;
	printf("sweep: allocations %lu to %lu, ", o.from, o.to);
	print_counted(n, "run");
	printf(", ");
	print_counted(o.jobs, "job");
	printf(", ");
	if (o.timeout > 0)
		printf("timeout %.0f s each\n\n", o.timeout);
	else
		printf("no timeout\n\n");
	char kw[32];
	sw.kwidth = snprintf(kw, sizeof(kw), "%lu", o.to);
	printf("%*s  %-8s %-6s %s\n", sw.kwidth, "k", "outcome", "leaked",
	       "failed allocation");
	fflush(stdout);

	sw.pending = xcalloc(n, sizeof(*sw.pending));
	struct da_runs spec = {
	        .argv = o.cmd,
	        .n = n,
	        .jobs = (unsigned)o.jobs,
	        .timeout = o.timeout,
	        .env = env_for,
	        .done = run_done,
	        .arg = &sw,
	};
	int sig = da_runs(&spec);
	if (sig != 0)
		stopped(sig, dir);
	cleanup(dir);

	printf("\n");
	print_counted(sw.runs, "run");
	printf(": %lu clean, %lu crashed, %lu leaked, %lu timed out", sw.clean,
	       sw.crashed, sw.leaked, sw.timeouts);
	if (sw.unstarted > 0)
		printf(", %lu not run", sw.unstarted);
	printf("\n");
	if (sw.ncrashes > 0)
		printf("\ncrashed or timed out (replay each with the command "
		       "under it):\n");
	for (size_t i = 0; i < sw.ncrashes; i++) {
		const struct crash *x = &sw.crashes[i];
		printf("%*lu  %-8s %s\n", sw.kwidth, x->k, x->outcome, x->site);
		printf("%*s  DBGALLOC_FAIL_AT=%lu DBGALLOC_FAIL_LOG=1 dbgalloc "
		       "run -- ",
		       sw.kwidth, "", x->k);
		print_cmd(stdout, o.cmd);
		printf("\n");
	}
	free(sw.crashes);
	free(sw.pending);
	free(sw.log_var);
	free(sw.preload);
	free(sw.env);
	free(dir);
	return sw.crashed > 0 || sw.timeouts > 0 || sw.unstarted > 0 ? 1 : 0;
}
