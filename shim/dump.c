/*
 * shim/dump.c — dumps on the program's behalf: dbgalloc_dump, and the dump
 * at exit that DBGALLOC_DUMP asks for. audit/dump.c writes them.
 *
 * The dump at exit comes from the exit handler of shim/leaks.c, after
 * every other destructor and atexit handler, so what it lists is what the
 * program left live; before the leak report, so a report that ends the
 * process with DBGALLOC_LEAKS_EXITCODE still leaves the dump.
 */
#include "audit/dump.h"
#include "audit/dumper.h"
#include "audit/leak.h"
#include "audit/report.h"
#include "audit/scanbound.h"
#include "audit/settings.h"
#include "shim/dbgalloc.h"
#include "shim/dump.h"
#include "shim/export.h"

#include <errno.h>

/* An entry point (scanbound.h): a dump with the leak check's verdicts
 * would read this thread's stack from here up. */
DA_EXPORT int
dbgalloc_dump(const char *path)
{
	DA_SCAN_ENTER(entered);
	char err[512];
	int rc = -1;
	if (path == NULL)
		path = da_settings.dump;
	if (path[0] == '\0')
		errno = EINVAL;
	else
		rc = da_dump_write(path, "api", err, sizeof(err));
	DA_SCAN_LEAVE(entered);
	return rc;
}

void
da_shim_dump_at_exit(struct da_leak_scan *scan)
{
	char err[512];
	/* A dump the dumper thread is writing is finished first. */
	da_dumper_exit();
	if (scan != NULL)
		scan->threads = 0;
	if (da_settings.dump[0] == '\0' ||
	    da_dump_write_scan(da_settings.dump, "exit", scan, err,
	                       sizeof(err)) == 0)
		return;
	int saved = errno;
	struct da_line l = {.len = 0};
	da_line_str(&l, err);
	da_line_emit(&l);
	errno = saved;
}
