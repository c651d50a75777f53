/*
 * tests/unit/dumpgen.h — writing dumps for the tests of the dump reader
 * (tools/dump.h): text appended in memory, then sealed with the trailer
 * the format asks for (its line count and CRC-32C), so a test can make a
 * good dump and spoil exactly one thing in it. Test code only: every
 * failure to allocate or write aborts.
 */
#ifndef DA_TESTS_DUMPGEN_H
#define DA_TESTS_DUMPGEN_H

#include <stddef.h>

struct dumpgen {
	char *buf;
	size_t len, cap;
};

void dumpgen_init(struct dumpgen *g);
void dumpgen_free(struct dumpgen *g);

/* Appends text as printf formats it; lines end with the "\n" given. */
void dumpgen_add(struct dumpgen *g, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Appends n bytes as they are. */
void dumpgen_bytes(struct dumpgen *g, const void *p, size_t n);

/*
 * A small dump of every record type, without its trailer: the version
 * line, then headers, counters, two modules and their segments, three
 * stacks, their sites, nblocks live blocks (cycling over the stacks, every
 * flag), two epochs and two samples. The values are the ones
 * test_dumpread.c checks.
 */
void dumpgen_sample(struct dumpgen *g, size_t nblocks);

/*
 * The same in minor version 1: H leak_scan yes, three size classes and
 * the large line (K), the sites with their totals and lifetime histograms,
 * the blocks with a thread (i % 3 + 1, "-" every fourth) and a leak verdict
 * (cycling over d, i, p, r, -), three epochs with their totals, two
 * samples with gen and reason. Its last line is A or the blocks' #fields
 * line: C and P come before the blocks. The values are the ones
 * test_dumpread.c checks.
 */
void dumpgen_sample1(struct dumpgen *g, size_t nblocks);

/* Appends "E lines 0xcrc" over everything so far. */
void dumpgen_seal(struct dumpgen *g);

/* Writes the bytes to path. */
void dumpgen_write(const struct dumpgen *g, const char *path);

#endif
