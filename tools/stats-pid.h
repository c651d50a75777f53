/*
 * tools/stats-pid.h — `dbgalloc-stats leaks --pid PID`: a leak check of a
 * running process, which goes on running (the live check of
 * DBGALLOC_LEAKS_SIGNAL, described in dbgalloc(3)).
 *
 * From /proc/PID it learns that the process runs under dbgalloc (a
 * libdbgalloc mapped), which signal asks for the check (its
 * DBGALLOC_LEAKS_SIGNAL, which it must catch: a signal it does not catch
 * could end it) and where its reports go (DBGALLOC_LOG, %p expanded, a
 * relative name taken from the process's working directory). It sends the
 * signal, waits for the report to appear after what the file held before,
 * and prints it: from the line "dbgalloc: live leak check of pid PID at"
 * to the SUMMARY line. Without DBGALLOC_LOG the report goes to the
 * process's standard error: if that is a regular file, it is read the same
 * way; if not (a terminal, a pipe), the tool says where the report went
 * and exits 0 after sending the signal.
 *
 * Options (argv[0..argc), the arguments after --pid PID):
 *   --timeout SECONDS   how long to wait for the report (1 to 3600, 30)
 *   --format text       the only format (json: not yet)
 *
 * Returns the exit status: 0 with the report printed on standard output,
 * 2 with one line on standard error ("dbgalloc-stats: ..."): no such
 * process, permission denied, not running under dbgalloc, no
 * DBGALLOC_LEAKS_SIGNAL, a signal it does not catch, the check failed in
 * the process, no report in time, bad options.
 */
#ifndef DA_TOOLS_STATS_PID_H
#define DA_TOOLS_STATS_PID_H

#include <sys/types.h>

int da_stats_leaks_pid(pid_t pid, int argc, char **argv);

#endif /* DA_TOOLS_STATS_PID_H */
