/*
 * dump-check FILE — checks that FILE is a whole, consistent version-1 dump
 * (doc/dump-format.md), for dump.sh and counters.sh; independent of the
 * library (its own CRC-32C, bit by bit) and of the reader (tools/).
 *
 * Checked: the version line; every line ends in a newline and is at most
 * 65,536 bytes; fields separated by single spaces; a #fields line before
 * the first record of its type, each record with as many fields as it
 * names; the order H T, M L, S, then K X A C P, then the trailer E, last,
 * whose line count and CRC-32C match; every stack an A or X record names
 * has its S line before; each X's live blocks and bytes are the sums of
 * the A records naming its stack. Columns are found by name, so minor 0
 * and minor 1 dumps are both read; when the minor-1 columns are there:
 * each X's allocations are at least its live blocks plus its frees (the
 * same for bytes), its temporaries at most its allocations, its lifetime
 * histograms comma-separated counts or "-"; each K's allocations less its
 * frees are its live blocks, at most its peak; the K records' live bytes
 * at least the A records'; the C records numbered from 0, their totals
 * never going down; the P records in time order with a known reason;
 * each A's thread a number or "-", its leak verdict one of d i p r -, and
 * "-" unless H leak_scan is yes.
 *
 * Prints one line, "lines N H N T N M N L N S N K N X N A N C N P N
 * consistency WORD", and exits 0; or one line saying what is wrong, and
 * exits 1. With -v NAME (a T counter, or H key), prints that value
 * instead of the line.
 */
#include "audit/crc32c.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *file;
static unsigned long lineno;

static void
bad(const char *fmt, ...)
{
	va_list ap;
	fprintf(stdout, "%s: line %lu: ", file, lineno);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	exit(1);
}

static uint64_t
num(const char *s, const char *col)
{
	char *end;
	uint64_t v = strncmp(s, "0x", 2) == 0 ? strtoull(s + 2, &end, 16)
	                                      : strtoull(s, &end, 10);
	if (end == s || *end != '\0' || (s[0] == '0' && s[1] == 'x' && !s[2]) ||
	    s[0] == '-' || s[0] == '+')
		bad("bad number in column %s: %s", col, s);
	return v;
}

/* The stacks: id -> whether an S line named it, and the X and A sums. */
struct stack {
	uint64_t id;
	int used, has_s, has_x;
	uint64_t xblocks, xbytes, ablocks, abytes;
};
#define SLOTS (1u << 21)
static struct stack *stacks;

static struct stack *
stack_of(uint64_t id)
{
	size_t k = (size_t)((id * 0x9e3779b97f4a7c15ull) >> 43) & (SLOTS - 1);
	for (;; k = (k + 1) & (SLOTS - 1)) {
		if (!stacks[k].used) {
			stacks[k].used = 1;
			stacks[k].id = id;
			return &stacks[k];
		}
		if (stacks[k].id == id)
			return &stacks[k];
	}
}

/* Each record type's column names (from its #fields line). */
#define MAXF 80
static char *names[128][MAXF];
static int ncols[128];

/* The column of type t named name, or -1. */
static int
col(char t, const char *name)
{
	for (int i = 0; i < ncols[(unsigned char)t]; i++)
		if (strcmp(names[(unsigned char)t][i], name) == 0)
			return i + 1;
	return -1;
}

/* Field name of record f (type t), or NULL if the type has no such
 * column. */
static const char *
field(char *const *f, char t, const char *name)
{
	int c = col(t, name);
	return c < 0 ? NULL : f[c];
}

static uint64_t
fnum(char *const *f, char t, const char *name)
{
	const char *v = field(f, t, name);
	if (v == NULL)
		bad("record %c has no column %s", t, name);
	return num(v, name);
}

/* A lifetime histogram: "-" or counts separated by commas. */
static void
histogram(const char *s, const char *name)
{
	if (strcmp(s, "-") == 0)
		return;
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *tok = strtok(buf, ","); tok != NULL; tok = strtok(NULL, ","))
		num(tok, name);
	if (s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
		bad("bad list in column %s: %s", name, s);
}

int
main(int argc, char **argv)
{
	const char *want = NULL;
	if (argc == 4 && strcmp(argv[1], "-v") == 0) {
		want = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fputs("usage: dump-check [-v NAME] FILE\n", stderr);
		return 2;
	}
	file = argv[1];
	FILE *fp = fopen(file, "rb");
	if (fp == NULL) {
		printf("%s: cannot open\n", file);
		return 1;
	}
	stacks = calloc(SLOTS, sizeof(*stacks));
	static char line[65536 + 2];
	static const char order[] = "HTMLSKXACPE";
	unsigned long count[128] = {0};
	char consistency[32] = "?", value[4096] = "";
	int stage = 0, ended = 0, leak_scan = 0, found = 0;
	uint32_t crc = 0;
	unsigned long long e_lines = 0, e_crc = 0;
	uint64_t k_bytes = 0, a_bytes = 0, last_epoch = 0, last_mono = 0;
	uint64_t c_prev[4] = {0};
	while (fgets(line, sizeof(line), fp) != NULL) {
		size_t len = strlen(line);
		lineno++;
		if (ended)
			bad("a line after the trailer");
		if (len == 0 || line[len - 1] != '\n')
			bad(len > 65536 ? "line longer than 65536 bytes"
			                : "no newline (truncated?)");
		int is_trailer = strncmp(line, "E ", 2) == 0;
		if (!is_trailer)
			crc = da_crc32c(crc, line, len);
		line[len - 1] = '\0';
		char *f[MAXF];
		int n = 0;
		for (char *s = line;;) {
			if (n == MAXF)
				bad("more than %d fields", MAXF);
			f[n++] = s;
			char *sp = strchr(s, ' ');
			if (sp == NULL)
				break;
			*sp = '\0';
			s = sp + 1;
			if (*s == ' ' || *s == '\0')
				bad("two spaces, or a space at the end");
		}
		if (lineno == 1) {
			if (n != 3 || strcmp(f[0], "DBGALLOC-DUMP") != 0 ||
			    strcmp(f[1], "1") != 0)
				bad("not a version-1 dump");
			continue;
		}
		if (strcmp(f[0], "#fields") == 0) {
			if (n < 3 || strlen(f[1]) != 1)
				bad("bad #fields line");
			unsigned char t = (unsigned char)f[1][0];
			ncols[t] = n - 2;
			for (int i = 2; i < n; i++)
				names[t][i - 2] = strdup(f[i]);
			continue;
		}
		if (f[0][0] == '#')
			continue;
		if (strlen(f[0]) != 1 || strchr(order, f[0][0]) == NULL)
			bad("unknown record %s", f[0]);
		char t = f[0][0];
		if (t != 'E' && ncols[(unsigned char)t] == 0)
			bad("record %c before its #fields line", t);
		/* S's last name stands for its frames. */
		if (t != 'S' && t != 'E' && n - 1 != ncols[(unsigned char)t])
			bad("record %c has %d fields, its #fields line names "
			    "%d",
			    t, n - 1, ncols[(unsigned char)t]);
		int st = (int)(strchr(order, t) - order);
		if (t == 'M' || t == 'L') {
			if (stage > 3)
				bad("module record after the stacks");
		} else if (st >= 5 && st <= 9) {
			if (stage > 9)
				bad("record %c after the trailer", t);
		} else if (st < stage) {
			bad("record %c out of order", t);
		}
		if (st > stage)
			stage = st;
		count[(unsigned char)t]++;
		struct stack *s;
		const char *v;
		switch (t) {
		case 'H':
			if (strcmp(f[1], "consistency") == 0)
				snprintf(consistency, sizeof(consistency), "%s",
				         f[2]);
			if (strcmp(f[1], "leak_scan") == 0)
				leak_scan = strcmp(f[2], "yes") == 0;
			if (want != NULL && strcmp(f[1], want) == 0) {
				snprintf(value, sizeof(value), "%s", f[2]);
				found = 1;
			}
			break;
		case 'T':
			if (strcmp(f[2], "-") != 0)
				num(f[2], f[1]);
			if (want != NULL && strcmp(f[1], want) == 0) {
				snprintf(value, sizeof(value), "%s", f[2]);
				found = 1;
			}
			break;
		case 'M':
		case 'L':
			for (int k = 1; k <= 4; k++)
				num(f[k], names[(unsigned char)t][k - 1]);
			break;
		case 'S':
			if (n < 3 || (uint64_t)n != 3 + num(f[2], "depth"))
				bad("S: depth and frames disagree");
			s = stack_of(num(f[1], "id"));
			if (s->has_s)
				bad("S %s twice", f[1]);
			s->has_s = 1;
			for (int k = 3; k < n; k++)
				num(f[k], "pc");
			break;
		case 'K': {
			uint64_t live = fnum(f, t, "live_blocks");
			uint64_t allocs = fnum(f, t, "allocs");
			uint64_t frees = fnum(f, t, "frees");
			if (allocs < live || allocs - frees != live)
				bad("K: %llu allocations, %llu frees, %llu "
				    "live",
				    (unsigned long long)allocs,
				    (unsigned long long)frees,
				    (unsigned long long)live);
			if (fnum(f, t, "peak_live_blocks") < live)
				bad("K: peak below the live blocks");
			k_bytes += fnum(f, t, "live_bytes");
			fnum(f, t, "slabs");
			fnum(f, t, "slab_bytes");
			if (strcmp(f[1], "-") != 0)
				fnum(f, t, "block_size");
			break;
		}
		case 'X':
			s = stack_of(fnum(f, t, "stack"));
			if (!s->has_s)
				bad("X names stack %s before its S line", f[1]);
			if (s->has_x)
				bad("X %s twice", f[1]);
			s->has_x = 1;
			s->xblocks = fnum(f, t, "live_blocks");
			s->xbytes = fnum(f, t, "live_bytes");
			if (col(t, "allocs") > 0) {
				uint64_t a = fnum(f, t, "allocs"),
				         b = fnum(f, t, "alloc_bytes"),
				         fr = fnum(f, t, "frees"),
				         fb = fnum(f, t, "free_bytes");
				if (a < s->xblocks + fr || b < s->xbytes + fb)
					bad("X %s: allocated less than live "
					    "and "
					    "freed",
					    f[1]);
				if (fnum(f, t, "temporary") > a)
					bad("X %s: more temporaries than "
					    "allocations",
					    f[1]);
				fnum(f, t, "peak_live_bytes");
				histogram(field(f, t, "life_allocs"),
				          "life_allocs");
				histogram(field(f, t, "life_us"), "life_us");
			}
			break;
		case 'A':
			num(f[1], "addr");
			v = field(f, t, "stack");
			if (v != NULL && strcmp(v, "-") != 0) {
				s = stack_of(num(v, "stack"));
				if (!s->has_s)
					bad("A names stack %s with no S line",
					    v);
				s->ablocks++;
				s->abytes += fnum(f, t, "size");
			}
			a_bytes += fnum(f, t, "size");
			fnum(f, t, "gen");
			fnum(f, t, "epoch");
			if ((v = field(f, t, "thread")) != NULL &&
			    strcmp(v, "-") != 0 && num(v, "thread") == 0)
				bad("A: thread 0");
			if ((v = field(f, t, "leak")) != NULL &&
			    (strlen(v) != 1 || strchr("dipr-", v[0]) == NULL ||
			     (!leak_scan && v[0] != '-')))
				bad("A: bad leak verdict %s", v);
			break;
		case 'C':
			if (fnum(f, t, "epoch") != count['C'] - 1)
				bad("C: epochs not numbered from 0");
			fnum(f, t, "first_gen");
			if (col(t, "allocs") > 0) {
				static const char *const tot[4] = {
				        "allocs", "alloc_bytes", "frees",
				        "free_bytes"};
				for (int k = 0; k < 4; k++) {
					uint64_t x = fnum(f, t, tot[k]);
					if (x < c_prev[k])
						bad("C: %s goes down", tot[k]);
					c_prev[k] = x;
				}
				fnum(f, t, "peak_bytes");
			}
			last_epoch = count['C'] - 1;
			break;
		case 'P': {
			uint64_t mono = fnum(f, t, "mono_ns");
			if (mono < last_mono)
				bad("P: not in time order");
			last_mono = mono;
			fnum(f, t, "live_bytes");
			fnum(f, t, "rss_bytes");
			fnum(f, t, "gen");
			v = field(f, t, "reason");
			if (v == NULL ||
			    (strcmp(v, "step") && strcmp(v, "mark") &&
			     strcmp(v, "interval") && strcmp(v, "dump")))
				bad("P: bad reason");
			break;
		}
		case 'E':
			if (n != 3)
				bad("E needs 3 fields");
			e_lines = num(f[1], "lines");
			e_crc = num(f[2], "crc32c");
			ended = 1;
			if (e_lines != lineno - 1)
				bad("the trailer counts %llu lines, not %lu",
				    e_lines, lineno - 1);
			if (e_crc != crc)
				bad("checksum mismatch: 0x%08llx, computed "
				    "0x%08x",
				    e_crc, crc);
			break;
		}
	}
	fclose(fp);
	(void)last_epoch;
	if (lineno == 0)
		bad("empty file");
	if (!ended)
		bad("truncated: no trailer");
	unsigned long total = lineno;
	lineno = 0;
	for (size_t k = 0; k < SLOTS; k++) {
		const struct stack *s = &stacks[k];
		if (!s->used)
			continue;
		if (s->has_x &&
		    (s->xblocks != s->ablocks || s->xbytes != s->abytes))
			bad("X %llu says %llu blocks, %llu bytes; the A "
			    "records %llu, %llu",
			    (unsigned long long)s->id,
			    (unsigned long long)s->xblocks,
			    (unsigned long long)s->xbytes,
			    (unsigned long long)s->ablocks,
			    (unsigned long long)s->abytes);
		if (s->ablocks > 0 && !s->has_x)
			bad("stack %llu has A records and no X",
			    (unsigned long long)s->id);
	}
	if (count['K'] > 0 && k_bytes < a_bytes)
		bad("the K records hold %llu live bytes, the A records %llu",
		    (unsigned long long)k_bytes, (unsigned long long)a_bytes);
	if (want != NULL) {
		if (!found)
			bad("no H or T %s", want);
		printf("%s\n", value);
	} else {
		printf("lines %lu H %lu T %lu M %lu L %lu S %lu K %lu X %lu A "
		       "%lu C %lu P %lu consistency %s\n",
		       total, count['H'], count['T'], count['M'], count['L'],
		       count['S'], count['K'], count['X'], count['A'],
		       count['C'], count['P'], consistency);
	}
	free(stacks);
	return 0;
}
