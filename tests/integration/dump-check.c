/*
 * dump-check FILE — checks that FILE is a whole, consistent version-1 dump
 * (doc/dump-format.md), for dump.sh; independent of the library (its own
 * CRC-32C, bit by bit).
 *
 * Checked: the version line; every line ends in a newline and is at most
 * 65,536 bytes; fields separated by single spaces; a #fields line before
 * the first record of its type; the order H T, M L, S, then X A C, then
 * the trailer E, last, whose line count and CRC-32C match; every stack an
 * A or X record names has its S line before; each X's live blocks and
 * bytes are the sums of the A records naming its stack.
 *
 * Prints one line, "lines N H N T N M N L N S N X N A N C N consistency
 * WORD", and exits 0; or one line saying what is wrong, and exits 1.
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
num(const char *s, int col)
{
	char *end;
	uint64_t v = strncmp(s, "0x", 2) == 0 ? strtoull(s + 2, &end, 16)
	                                      : strtoull(s, &end, 10);
	if (end == s || *end != '\0' || (s[0] == '0' && s[1] == 'x' && !s[2]))
		bad("bad number in column %d: %s", col, s);
	return v;
}

/* The stacks: id -> whether an S line named it, and the X and A sums. */
struct stack {
	uint64_t id;
	int used, has_s, has_x;
	uint64_t xblocks, xbytes, ablocks, abytes;
};
#define SLOTS (1u << 20)
static struct stack *stacks;

static struct stack *
stack_of(uint64_t id)
{
	size_t k = (size_t)((id * 0x9e3779b97f4a7c15ull) >> 44) & (SLOTS - 1);
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

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: dump-check FILE\n", stderr);
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
	static const char order[] = "HTMLSXACE";
	unsigned long count[128] = {0};
	char declared[128] = {0}, consistency[32] = "?";
	int stage = 0, ended = 0;
	uint32_t crc = 0;
	unsigned long long e_lines = 0, e_crc = 0;
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
		char *f[80];
		int n = 0;
		for (char *s = line;;) {
			if (n == 80)
				bad("more than 80 fields");
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
			declared[(unsigned char)f[1][0]] = 1;
			continue;
		}
		if (f[0][0] == '#')
			continue;
		if (strlen(f[0]) != 1 || strchr(order, f[0][0]) == NULL)
			bad("unknown record %s", f[0]);
		char t = f[0][0];
		if (!declared[(unsigned char)t])
			bad("record %c before its #fields line", t);
		int st = (int)(strchr(order, t) - order);
		if (t == 'M' || t == 'L') {
			if (stage > 3)
				bad("module record after the stacks");
		} else if (st >= 5 && st <= 7) {
			if (stage > 7)
				bad("record %c after the trailer", t);
		} else if (st < stage) {
			bad("record %c out of order", t);
		}
		if (st > stage)
			stage = st;
		count[(unsigned char)t]++;
		struct stack *s;
		switch (t) {
		case 'H':
			if (n != 3)
				bad("H needs 3 fields");
			if (strcmp(f[1], "consistency") == 0)
				snprintf(consistency, sizeof(consistency), "%s",
				         f[2]);
			break;
		case 'T':
			if (n != 3)
				bad("T needs 3 fields");
			if (strcmp(f[2], "-") != 0)
				num(f[2], 3);
			break;
		case 'M':
			if (n != 7)
				bad("M needs 7 fields");
			for (int k = 1; k <= 4; k++)
				num(f[k], k + 1);
			break;
		case 'L':
			if (n != 6)
				bad("L needs 6 fields");
			for (int k = 1; k <= 4; k++)
				num(f[k], k + 1);
			break;
		case 'S':
			if (n < 3 || (uint64_t)n != 3 + num(f[2], 3))
				bad("S: depth and frames disagree");
			s = stack_of(num(f[1], 2));
			if (s->has_s)
				bad("S %s twice", f[1]);
			s->has_s = 1;
			for (int k = 3; k < n; k++)
				num(f[k], k + 1);
			break;
		case 'X':
			if (n != 4)
				bad("X needs 4 fields");
			s = stack_of(num(f[1], 2));
			if (!s->has_s)
				bad("X names stack %s before its S line", f[1]);
			s->has_x = 1;
			s->xblocks = num(f[2], 3);
			s->xbytes = num(f[3], 4);
			break;
		case 'A':
			if (n != 7)
				bad("A needs 7 fields");
			num(f[1], 2);
			if (strcmp(f[3], "-") != 0) {
				s = stack_of(num(f[3], 4));
				if (!s->has_s)
					bad("A names stack %s with no S line",
					    f[3]);
				s->ablocks++;
				s->abytes += num(f[2], 3);
			}
			num(f[4], 5);
			num(f[5], 6);
			break;
		case 'C':
			if (n != 5)
				bad("C needs 5 fields");
			break;
		case 'E':
			if (n != 3)
				bad("E needs 3 fields");
			e_lines = num(f[1], 2);
			e_crc = num(f[2], 3);
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
	if (lineno == 0)
		bad("empty file");
	if (!ended)
		bad("truncated: no trailer");
	for (size_t k = 0; k < SLOTS; k++) {
		const struct stack *s = &stacks[k];
		if (!s->used)
			continue;
		if (s->has_x &&
		    (s->xblocks != s->ablocks || s->xbytes != s->abytes)) {
			lineno = 0;
			bad("X %llu says %llu blocks, %llu bytes; the A "
			    "records %llu, %llu",
			    (unsigned long long)s->id,
			    (unsigned long long)s->xblocks,
			    (unsigned long long)s->xbytes,
			    (unsigned long long)s->ablocks,
			    (unsigned long long)s->abytes);
		}
		if (s->ablocks > 0 && !s->has_x) {
			lineno = 0;
			bad("stack %llu has A records and no X",
			    (unsigned long long)s->id);
		}
	}
	printf("lines %lu H %lu T %lu M %lu L %lu S %lu X %lu A %lu C %lu "
	       "consistency %s\n",
	       lineno, count['H'], count['T'], count['M'], count['L'],
	       count['S'], count['X'], count['A'], count['C'], consistency);
	free(stacks);
	return 0;
}
