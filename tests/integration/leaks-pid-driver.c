/*
 * leaks-pid-driver --pid PID [OPTIONS] — runs da_stats_leaks_pid (tools/
 * stats-pid.c), the code of `dbgalloc-stats leaks --pid`, for triggers.sh:
 * its output and exit status are the command's.
 */
#include "tools/stats-pid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "--pid") != 0) {
		fprintf(stderr,
		        "usage: leaks-pid-driver --pid PID [OPTIONS]\n");
		return 2;
	}
	char *end;
	long pid = strtol(argv[2], &end, 10);
	if (*end != '\0' || end == argv[2]) {
		fprintf(stderr, "leaks-pid-driver: bad pid '%s'\n", argv[2]);
		return 2;
	}
	return da_stats_leaks_pid((pid_t)pid, argc - 3, argv + 3);
}
