/*
 * tools/sweeplog.h — what oom-sweep reads back from the reports dbgalloc
 * writes for one process of a run (DBGALLOC_FAIL_LOG=1, DBGALLOC_LEAKS=1,
 * DBGALLOC_LOG=FILE.%p): the first injected failure and the first frame of
 * its stack, the count line written at exit, and the summary of the leak
 * report at exit. Lines are fed one at a time, without their newline;
 * anything else in the file (other reports, a leak report made "now" by
 * the program) is skipped. Runs outside the allocator: plain libc.
 */
#ifndef DA_TOOLS_SWEEPLOG_H
#define DA_TOOLS_SWEEPLOG_H

#include <stddef.h>

/*
 * One process's log. Strings are empty when the report did not have them;
 * longer ones are cut. Zero it with da_sweeplog_init before the first line.
 */
struct da_sweeplog {
	/* The first "injected failure" headline, and the #0 frame under it. */
	int failed;
	unsigned long long fail_seq;
	char fail_call[48]; /* "malloc()", "operator new()"... */
	char func[160];     /* "parse_line"; "" when "??" or missing */
	char file[256];     /* "/src/prog.c:42" */
	char module[160];   /* "prog+0x119e" */

	/* "dbgalloc: N allocations numbered, M failures injected" */
	int counted;
	unsigned long long numbered;
	unsigned long long injected;

	/* The SUMMARY line of the leak report at exit; none when no leak. */
	int leaked;
	unsigned long long leak_bytes;
	unsigned long long leak_blocks;

	/* Parser state. */
	int want_frame;  /* the line after a failure headline comes next */
	int exit_report; /* inside "dbgalloc: leak report at exit" */
};

void da_sweeplog_init(struct da_sweeplog *log);

/* Takes one line of a log, without its newline. */
void da_sweeplog_line(struct da_sweeplog *log, const char *line);

/* Feeds every line of the file at path. Returns 0 or an errno value. */
int da_sweeplog_read(struct da_sweeplog *log, const char *path);

/*
 * Writes where the failed allocation was made, in buf (always terminated):
 * "malloc() in parse_line at prog.c:42", with the file's directory dropped
 * unless full is set; "malloc() in parse_line (prog+0x119e)" without a
 * file; "malloc() at libfoo.so+0x1234" without a function; "" when no
 * failure was seen.
 */
void da_sweeplog_site(const struct da_sweeplog *log, int full, char *buf,
                      size_t size);

#endif
