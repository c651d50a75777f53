/*
 * tools/sweeplog.c — reading one process's dbgalloc log back (see
 * sweeplog.h). The lines it knows, as dbgalloc writes them (dbgalloc(3)):
 *
 *   dbgalloc: injected failure of allocation 57: malloc() of 24 bytes, from:
 *       #0 0x55d0c2a1b19e in parse_line /src/prog.c:42 (prog+0x119e)
 *   dbgalloc: 1234 allocations numbered, 1 failure injected
 *   dbgalloc: leak report at exit (pid 4242)
 *   SUMMARY: dbgalloc: 1,234 bytes leaked in 5 blocks (...)
 *
 * A frame may lack its file:line, its function ("??"), or the "in". A
 * function name may hold spaces (C++), so a frame is cut from its end: the
 * module in parentheses, then a last word ending in ":LINE" is the file.
 */
#include "tools/sweeplog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
da_sweeplog_init(struct da_sweeplog *log)
{
	memset(log, 0, sizeof(*log));
}

/* Copies n bytes of s into dst (of size size), cut and terminated. */
static void
copy(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* If *p starts with word, steps over it and returns 1. */
static int
skip(const char **p, const char *word)
{
	size_t n = strlen(word);
	if (strncmp(*p, word, n) != 0)
		return 0;
	*p += n;
	return 1;
}

/*
 * Reads a decimal number at *p, with thousands separated by commas if
 * commas is set ("1,234"), and steps over it. Returns 1, or 0 when there
 * is no digit or it overflows.
 */
static int
number(const char **p, unsigned long long *v, int commas)
{
	const char *s = *p;
	unsigned long long n = 0;
	if (*s < '0' || *s > '9')
		return 0;
	for (;; s++) {
		if (commas && *s == ',' && s[1] >= '0' && s[1] <= '9')
			continue;
		if (*s < '0' || *s > '9')
			break;
		if (n > (~0ULL - 9) / 10)
			return 0;
		n = n * 10 + (unsigned long long)(*s - '0');
	}
	*v = n;
	*p = s;
	return 1;
}

/* "dbgalloc: injected failure of allocation N: CALL of ..., from:" */
static int
failure_line(struct da_sweeplog *log, const char *p)
{
	unsigned long long seq;
	if (!skip(&p, "dbgalloc: injected failure of allocation ") ||
	    !number(&p, &seq, 0) || !skip(&p, ": "))
		return 0;
	if (log->failed)
		return 1; /* only the first failure is the run's */
	log->failed = 1;
	log->fail_seq = seq;
	const char *end = strstr(p, " of ");
	if (end == NULL)
		end = strstr(p, ", from:");
	if (end == NULL)
		end = p + strlen(p);
	copy(log->fail_call, sizeof(log->fail_call), p, (size_t)(end - p));
	log->want_frame = 1;
	return 1;
}

/* A word that ends in ":LINE", LINE all digits. */
static int
is_file_line(const char *s, size_t n)
{
	size_t i = n;
	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
		i--;
	return i < n && i >= 2 && s[i - 1] == ':';
}

/* "    #0 0xADDR [in] [FUNC] [FILE:LINE] [(MODULE+0xOFF)]" */
static void
frame_line(struct da_sweeplog *log, const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	if (!skip(&p, "#0 "))
		return;
	p += strspn(p, "0123456789abcdefABCDEFx");
	p += strspn(p, " ");
	skip(&p, "in ");
	const char *end = p + strlen(p);
	/* The module: the last "(...)" at the end of the line. */
	if (end > p && end[-1] == ')') {
		const char *open = end - 1;
		while (open > p && !(open[-1] == ' ' && open[0] == '('))
			open--;
		if (open == p && *p != '(')
			open = NULL; /* no " (": a C++ name ending in ")" */
		if (open != NULL) {
			copy(log->module, sizeof(log->module), open + 1,
			     (size_t)(end - 1 - (open + 1)));
			end = open > p ? open - 1 : open;
		}
	}
	while (end > p && end[-1] == ' ')
		end--;
	/* The file:line: the last word, if a function comes before it. */
	const char *word = end;
	while (word > p && word[-1] != ' ')
		word--;
	if (word > p && is_file_line(word, (size_t)(end - word))) {
		copy(log->file, sizeof(log->file), word, (size_t)(end - word));
		end = word;
		while (end > p && end[-1] == ' ')
			end--;
	}
	if (end - p == 2 && strncmp(p, "??", 2) == 0)
		end = p;
	copy(log->func, sizeof(log->func), p, (size_t)(end - p));
}

/* "dbgalloc: N allocation[s] numbered, M failure[s] injected" */
static int
count_line(struct da_sweeplog *log, const char *p)
{
	unsigned long long n, m;
	if (!skip(&p, "dbgalloc: ") || !number(&p, &n, 0) ||
	    !skip(&p, " allocation"))
		return 0;
	skip(&p, "s");
	if (!skip(&p, " numbered, ") || !number(&p, &m, 0) ||
	    !skip(&p, " failure"))
		return 0;
	log->counted = 1;
	log->numbered = n;
	log->injected = m;
	return 1;
}

/* "SUMMARY: dbgalloc: B byte[s] leaked in N block[s]..." */
static int
summary_line(struct da_sweeplog *log, const char *p)
{
	unsigned long long bytes, blocks;
	if (!skip(&p, "SUMMARY: dbgalloc: ") || !number(&p, &bytes, 1) ||
	    !skip(&p, " byte"))
		return 0;
	skip(&p, "s");
	if (!skip(&p, " leaked in ") || !number(&p, &blocks, 1))
		return 0;
	/* "0 bytes leaked in 0 blocks; suppressed: ..." is no leak. */
	if (blocks > 0) {
		log->leaked = 1;
		log->leak_bytes += bytes;
		log->leak_blocks += blocks;
	}
	return 1;
}

void
da_sweeplog_line(struct da_sweeplog *log, const char *line)
{
	if (log->want_frame) {
		log->want_frame = 0;
		if (line[0] == ' ') {
			frame_line(log, line);
			return;
		}
	}
	if (failure_line(log, line) || count_line(log, line))
		return;
	if (strncmp(line, "dbgalloc: leak report ", 22) == 0) {
		log->exit_report = strncmp(line + 22, "at exit (", 9) == 0;
		return;
	}
	if (log->exit_report && summary_line(log, line))
		log->exit_report = 0;
}

int
da_sweeplog_read(struct da_sweeplog *log, const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return errno;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		da_sweeplog_line(log, line);
	}
	int err = ferror(f) ? EIO : 0;
	free(line);
	fclose(f);
	return err;
}

void
da_sweeplog_site(const struct da_sweeplog *log, int full, char *buf,
                 size_t size)
{
	buf[0] = '\0';
	if (!log->failed)
		return;
	const char *file = log->file;
	const char *slash = strrchr(file, '/');
	if (!full && slash != NULL)
		file = slash + 1;
	const char *call = log->fail_call[0] != '\0' ? log->fail_call : "?";
	if (log->func[0] != '\0' && file[0] != '\0')
		snprintf(buf, size, "%s in %s at %s", call, log->func, file);
	else if (log->func[0] != '\0' && log->module[0] != '\0')
		snprintf(buf, size, "%s in %s (%s)", call, log->func,
		         log->module);
	else if (log->func[0] != '\0')
		snprintf(buf, size, "%s in %s", call, log->func);
	else if (log->module[0] != '\0')
		snprintf(buf, size, "%s at %s", call, log->module);
	else
		snprintf(buf, size, "%s", call);
}
