/*
 * shim/leaks.c — the public face of epochs and the leak check: the
 * dbgalloc.h calls, LeakSanitizer's interface for programs written
 * against it, and the report at exit (DBGALLOC_LEAKS).
 *
 * Exit order: the report must come after every other destructor and
 * atexit handler. da_shim_leaks_init runs in our constructor, before
 * __libc_start_main registers the dynamic loader's fini (which runs the
 * shared libraries' destructors) and before main registers anything, so
 * a handler registered then runs after all of them: exit's handlers run
 * in the reverse order of registration. It is registered with
 * __cxa_atexit and no DSO handle: atexit() in a shared library passes the
 * library's own, and __cxa_finalize would then run it with that library's
 * destructors, before those of libraries initialised earlier. Only
 * stdio's final flush comes after it, so an exit status of our own
 * (LEAKS_EXITCODE) flushes stdio itself before _exit. (Linked statically,
 * the program's own destructors are registered before our constructor
 * runs, so they come after the report.)
 */
#include "audit/audit.h"
#include "audit/dangling.h"
#include "audit/epochs.h"
#include "audit/exitcheck.h"
#include "audit/fail.h"
#include "audit/leakreport.h"
#include "audit/scanbound.h"
#include "audit/suppress.h"
#include "audit/symbolize.h"
#include "shim/dbgalloc.h"
#include "shim/dump.h"
#include "shim/export.h"
#include "shim/leaks.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int exit_leaks;      /* DBGALLOC_LEAKS: report at exit */
static unsigned exit_flags; /* DA_LREP_* for the report at exit */
static int exit_code = -1;  /* DBGALLOC_LEAKS_EXITCODE, -1: unset */

/* Per thread: dbgalloc_leaks_disable nesting. */
static __thread unsigned disabled;

/* The suppressions programs build in, added once, at the first report. */
static void
add_default_suppressions(void)
{
	static atomic_int done;
	static const char *const names[] = {
	        "__lsan_default_suppressions",
	        "dbgalloc_default_suppressions",
	};
	if (atomic_exchange(&done, 1) != 0)
		return;
	for (unsigned i = 0; i < 2; i++) {
		const char *(*fn)(void) =
		        (const char *(*)(void))dlsym(RTLD_DEFAULT, names[i]);
		if (fn == NULL) /* not exported: look in the symbol tables */
			fn = (const char *(*)(void))da_sym_lookup_name(
			        names[i]);
		const char *text = fn != NULL ? fn() : NULL;
		char err[256];
		if (text != NULL &&
		    da_supp_add(text, names[i], err, sizeof(err)) != 0) {
			struct da_line l = {.len = 0};
			da_line_str(&l, "dbgalloc: ignored: ");
			da_line_str(&l, err);
			da_line_emit(&l);
		}
	}
}

void
da_shim_leaks_prepare(void)
{
	uint32_t saved = da_gen_tls.site_override;
	da_gen_tls.site_override = DA_SITE_INTERNAL;
	add_default_suppressions();
	da_gen_tls.site_override = saved;
}

static void
counts_out(const struct da_leak_counts *c, struct dbgalloc_leaks *o)
{
	o->definite_bytes = c->bytes[DA_LEAK_DEFINITE];
	o->definite_blocks = c->blocks[DA_LEAK_DEFINITE];
	o->indirect_bytes = c->bytes[DA_LEAK_INDIRECT];
	o->indirect_blocks = c->blocks[DA_LEAK_INDIRECT];
	o->possible_bytes = c->bytes[DA_LEAK_POSSIBLE];
	o->possible_blocks = c->blocks[DA_LEAK_POSSIBLE];
	o->reachable_bytes = c->bytes[DA_LEAK_REACHABLE];
	o->reachable_blocks = c->blocks[DA_LEAK_REACHABLE];
	o->suppressed_bytes = c->suppressed_bytes;
	o->suppressed_blocks = c->suppressed_blocks;
}

int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);

static void
exit_checks(void)
{
	da_audit_exit_check();
	da_dangling_exit();
	da_fail_exit_report();
	/* With the leak check to come, the dump makes the scan for its
	 * blocks' verdicts, and the report takes them from it: one scan. It
	 * runs deep in the dump writer, but reads this thread's stack from
	 * leaks_at_exit's frame up only (scanbound.h), as the report's own
	 * scan would: the same verdicts. Without it (no dump asked for, or
	 * the dump failed before its scan), the report scans. */
	struct da_leak_scan scan;
	da_shim_dump_at_exit(exit_leaks ? &scan : NULL);
	if (!exit_leaks)
		return;
	struct da_leak_counts c;
	uint32_t saved = da_gen_tls.site_override;
	da_gen_tls.site_override = DA_SITE_INTERNAL;
	add_default_suppressions();
	da_gen_tls.site_override = saved;
	if ((scan.threads > 0
	             ? da_leak_report_scanned(&scan, exit_flags, "at exit", &c)
	             : da_leak_report(exit_flags, "at exit", &c)) != 0)
		return;
	if (exit_code >= 0 &&
	    c.blocks[DA_LEAK_DEFINITE] + c.blocks[DA_LEAK_INDIRECT] > 0) {
		fflush(NULL);
		_exit(exit_code);
	}
}

/* The exit handler, dbgalloc's first frame on the exiting thread: the
 * scans below it read the stack from here up (scanbound.h). */
static void
leaks_at_exit(void *arg)
{
	(void)arg;
	DA_SCAN_ENTER(entered);
	exit_checks();
	DA_SCAN_LEAVE(entered);
}

int
da_shim_leaks_init(int mode, int exitcode, const char *suppressions)
{
	exit_code = exitcode;
	if (suppressions != NULL) {
		char err[256];
		uint32_t saved = da_gen_tls.site_override;
		da_gen_tls.site_override = DA_SITE_INTERNAL;
		int rc = da_supp_load(suppressions, err, sizeof(err));
		da_gen_tls.site_override = saved;
		if (rc != 0) {
			struct da_line l = {.len = 0};
			da_line_str(&l, "dbgalloc: DBGALLOC_SUPPRESSIONS: ");
			da_line_str(&l, err);
			da_line_emit(&l);
			return -1;
		}
	}
	exit_leaks = mode != 0;
	exit_flags = mode == 2 ? DA_LREP_ALL : 0;
	__cxa_atexit(leaks_at_exit, NULL, NULL);
	return 0;
}

DA_EXPORT unsigned
dbgalloc_mark(const char *label)
{
	unsigned e = da_gen_mark(label);
	da_epochs_mark(e);
	return e;
}

DA_EXPORT struct dbgalloc_leaks
dbgalloc_leak_check(unsigned flags)
{
	DA_SCAN_ENTER(entered);
	struct da_leak_counts c;
	struct dbgalloc_leaks o = {0};
	unsigned f = 0;
	if (flags & DBGALLOC_LEAKS_ALL)
		f |= DA_LREP_ALL;
	if (flags & DBGALLOC_LEAKS_NEW)
		f |= DA_LREP_NEW;
	uint32_t saved = da_gen_tls.site_override;
	da_gen_tls.site_override = DA_SITE_INTERNAL;
	add_default_suppressions();
	da_gen_tls.site_override = saved;
	if (da_leak_report(f, "now", &c) == 0)
		counts_out(&c, &o);
	DA_SCAN_LEAVE(entered);
	return o;
}

DA_EXPORT int
dbgalloc_ignore(const void *p)
{
	return da_audit_ignore(p);
}

DA_EXPORT void
dbgalloc_leaks_disable(void)
{
	if (disabled++ == 0 && da_gen_tls.site_override == 0)
		da_gen_tls.site_override = DA_SITE_IGNORED;
}

DA_EXPORT void
dbgalloc_leaks_enable(void)
{
	if (disabled > 0 && --disabled == 0 &&
	    da_gen_tls.site_override == DA_SITE_IGNORED)
		da_gen_tls.site_override = 0;
}

/* LeakSanitizer's interface (sanitizer/lsan_interface.h), for programs
 * written against it. */
void __lsan_ignore_object(const void *p);
void __lsan_disable(void);
void __lsan_enable(void);
int __lsan_do_recoverable_leak_check(void);

DA_EXPORT void
__lsan_ignore_object(const void *p)
{
	da_audit_ignore(p);
}

DA_EXPORT void
__lsan_disable(void)
{
	dbgalloc_leaks_disable();
}

DA_EXPORT void
__lsan_enable(void)
{
	dbgalloc_leaks_enable();
}

DA_EXPORT int
__lsan_do_recoverable_leak_check(void)
{
	DA_SCAN_ENTER(entered);
	struct dbgalloc_leaks o = dbgalloc_leak_check(0);
	DA_SCAN_LEAVE(entered);
	return o.definite_blocks + o.indirect_blocks > 0;
}
