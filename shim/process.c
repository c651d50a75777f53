/*
 * shim/process.c — process-level concerns: settings and fork.
 *
 * The allocator needs no initialisation before its first call (its state is
 * static and lazily built), so allocations made by ld.so, libc and other
 * constructors before ours are served normally (PITFALLS 1, 2). What must
 * be set up is done by a constructor: it reads the DBGALLOC_ settings
 * (audit/settings.h) from the environment, and registers handlers that take
 * every allocator lock before fork and release or reset them after, so a
 * child of a multithreaded program inherits consistent heaps (PITFALLS 5).
 *
 * Lock order against stdio. glibc's fork runs the prepare handlers, then
 * takes the stdio list lock, then its own malloc locks: a thread holding
 * the list lock (fflush(NULL)) may wait for a FILE lock whose holder
 * (getline) waits in realloc. If our prepare handler took the allocator's
 * locks first, the forking thread would hold them while it waits for the
 * list lock, and the three threads would wait on each other for ever. So
 * in a multithreaded process our prepare handler takes the list lock
 * itself, before the allocator's: the same order as glibc's. The list lock
 * is recursive, so glibc's own _IO_list_lock in fork takes it again; glibc
 * releases it once in the parent and we release our hold after it, and in
 * the child glibc resets it before any child handler runs.
 *
 * A signal handler may fork while its thread is inside fork (glibc's
 * tst-mallocfork2): each fork level keeps its own record of what it took.
 */
#include "audit/audit.h"
#include "audit/guarded.h"
#include "audit/limit.h"
#include "audit/settings.h"
#include "shim/guardsig.h"
#include "shim/leaks.h"
#include "shim/triggers.h"
#include "alloc/os.h"

#include <pthread.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/single_threaded.h>
#include <unistd.h>

/* glibc's stdio list lock (exported by libc.so and libc.a, not declared
 * in any installed header). */
void _IO_list_lock(void);
void _IO_list_unlock(void);

/* What each nested fork level took; deeper levels take nothing. */
#define FORK_LEVELS 16
static __thread unsigned fork_level;
static __thread unsigned char fork_took_list[FORK_LEVELS];

static void
fork_prepare(void)
{
	unsigned level = fork_level++;
	int list = !__libc_single_threaded && level < FORK_LEVELS;
	if (list)
		_IO_list_lock();
	if (level < FORK_LEVELS)
		fork_took_list[level] = (unsigned char)list;
	da_audit_fork_prepare();
}

static void
fork_parent(void)
{
	da_audit_fork_parent();
	unsigned level = --fork_level;
	if (level < FORK_LEVELS && fork_took_list[level])
		_IO_list_unlock();
}

static void
fork_child(void)
{
	/* glibc has reset the list lock in the child already. */
	da_audit_fork_child();
	fork_level--;
}

/*
 * Parses the environment into da_settings once. Allocations made before
 * this constructor (by ld.so, libc, libraries initialised earlier and the
 * executable's preinit functions) ran with the defaults that da_settings
 * holds statically. A bad setting stops the process here, before main,
 * with one line and status 2: never a silent default. In secure-execution
 * mode (set-user-ID programs) DBGALLOC_ variables are ignored, as glibc
 * ignores MALLOC_ ones (PITFALLS 22): a log path chosen by the caller must
 * not be opened with the program's privileges.
 */
static void
settings_load(void)
{
	char line[512];
	if (getauxval(AT_SECURE))
		return;
	if (da_settings_parse(environ, &da_settings, line, sizeof(line) - 1) ==
	    0)
		return;
	size_t n = strlen(line);
	line[n++] = '\n';
	da_os_write(2, line, n);
	_exit(2);
}

/* DBGALLOC_LIMIT: a limit below what is live already (the loader's and
 * the C library's start-up) would refuse everything: say so and stop. */
static void
limit_apply(uint64_t limit)
{
	struct da_acct_totals t;
	da_limit_set_source("DBGALLOC_LIMIT");
	da_acct_totals(&t);
	if ((int64_t)limit < t.live) {
		struct da_line l = {.len = 0};
		da_line_str(&l, "dbgalloc: DBGALLOC_LIMIT=");
		da_line_dec(&l, limit);
		da_line_str(&l, " is below the ");
		da_line_bytes(&l, (unsigned long)t.live);
		da_line_str(&l, " live at start-up");
		da_line_emit_to(&l, 2);
		_exit(2);
	}
	da_acct_set_limit((int64_t)limit);
}

/* The settings reach the layers that read them: audit's hot paths, the
 * report's destination, the break, the unwinder, the leak report. */
static void
settings_apply(void)
{
	const struct da_settings *s = &da_settings;
	char line[512];
	da_audit_configure(s);
	da_shim_guardsig_setup();
	if (da_guarded.mode != DA_GUARD_MODE_OFF)
		da_shim_guardsig_init();
	if (s->log[0] != '\0' &&
	    da_report_open_log(s->log, line, sizeof(line)) != 0) {
		da_os_write(2, line, strlen(line));
		_exit(2);
	}
	/* Loading libunwind is dbgalloc's own doing: its allocations are not
	 * the program's (not counted, not numbered, never made to fail). */
	uint32_t saved = da_gen_tls.site_override;
	da_gen_tls.site_override = DA_SITE_INTERNAL;
	da_unwind_init();
	da_gen_tls.site_override = saved;
	if (s->limit != DA_UNSET && s->limit > 0)
		limit_apply(s->limit);
	int mode = s->leaks == DA_LEAKS_ALL ? 2 : s->leaks == DA_LEAKS_ON;
	if (da_shim_leaks_init(
	            mode,
	            s->leaks_exitcode == DA_UNSET ? -1 : (int)s->leaks_exitcode,
	            s->suppressions[0] ? s->suppressions : NULL) != 0)
		_exit(2);
	if (da_shim_triggers_init(s) != 0)
		_exit(2);
}

__attribute__((constructor(101))) static void
da_shim_init(void)
{
	settings_load();
	settings_apply();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/*
 * Referenced from shim/malloc.c: a static link (libdbgalloc.a) pulls an
 * archive member only for a symbol something needs, and nothing else needs
 * this file, so without the reference the constructor above would be left
 * out and no fork handler registered.
 */
const char da_shim_process_linked = 1;
