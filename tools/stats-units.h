/*
 * tools/stats-units.h — how dbgalloc-stats reads and writes quantities:
 * sizes given on the command line (4096, 100M, 1.5G), and the text forms
 * of sizes (1.50 MiB), counts (1,234), signed deltas, percentages and
 * durations. JSON never uses these: it prints exact numbers.
 */
#ifndef DA_TOOLS_STATS_UNITS_H
#define DA_TOOLS_STATS_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* The longest text any of the formatters below writes, with its NUL. */
#define ST_NUM_MAX 40

/*
 * A size: a decimal number, a fraction allowed, then nothing (bytes), B,
 * or one of K, M, G, T (powers of 1,024), optionally followed by B or
 * iB, either case: "4096", "100M", "1.5G", "64KiB". Rounded down to a
 * byte. Returns 0, or -1 when malformed or over 2^64 - 1.
 */
int st_parse_size(const char *s, uint64_t *v);

/* A count: decimal digits only. 0, or -1. */
int st_parse_count(const char *s, uint64_t *v);

/* A percentage: a number, a fraction allowed, an optional '%'. 0 or -1. */
int st_parse_pct(const char *s, double *v);

/* "24 B", "1.00 KiB", "1.50 MiB" ... "16.00 EiB". Returns buf. */
char *st_fmt_size(uint64_t v, char *buf);

/* "+1.50 MiB", "-24 B", "0 B". */
char *st_fmt_delta(int64_t v, char *buf);

/* "1,234,567". */
char *st_fmt_count(uint64_t v, char *buf);

/* "+1,234", "-3", "0". */
char *st_fmt_cdelta(int64_t v, char *buf);

/* "12.3 %". */
char *st_fmt_pct(double v, char *buf);

/* Nanoseconds as "1.25 s", "250.00 ms", "12.00 us", "80 ns". */
char *st_fmt_ns(uint64_t ns, char *buf);

/* a + b, saturated below ST_NONE (2^64 - 1, a missing value). */
uint64_t st_add(uint64_t a, uint64_t b);

/* b - a as a signed 64-bit number, saturated. */
int64_t st_sub(uint64_t b, uint64_t a);

#endif
