/*
 * tools/stats-units.c — quantities read from the command line and written
 * as text (see stats-units.h).
 */
#include "tools/stats-units.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/*
 * The digits of a number with an optional fraction, from *p: its value as
 * an integer part and a fraction. Returns -1 without a digit before or
 * after the point, or when the integer part is over 2^64 - 1.
 */
static int
parse_number(const char **p, uint64_t *whole, double *frac)
{
	const char *s = *p;
	int digits = 0;
	*whole = 0;
	*frac = 0;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		unsigned d = (unsigned)(*s - '0');
		if (*whole > (UINT64_MAX - d) / 10)
			return -1;
		*whole = *whole * 10 + d;
	}
	if (*s == '.') {
		double scale = 0.1;
		int fdigits = 0;
		for (s++; *s >= '0' && *s <= '9'; s++, fdigits++) {
			*frac += (*s - '0') * scale;
			scale /= 10;
		}
		if (fdigits == 0)
			return -1;
	}
	if (digits == 0)
		return -1;
	*p = s;
	return 0;
}

int
st_parse_size(const char *s, uint64_t *v)
{
	uint64_t whole, mult = 1;
	double frac;
	if (parse_number(&s, &whole, &frac) != 0)
		return -1;
	switch (*s) {
	case 'k':
	case 'K':
		mult = 1ull << 10;
		s++;
		break;
	case 'm':
	case 'M':
		mult = 1ull << 20;
		s++;
		break;
	case 'g':
	case 'G':
		mult = 1ull << 30;
		s++;
		break;
	case 't':
	case 'T':
		mult = 1ull << 40;
		s++;
		break;
	default:
		break;
	}
	if (mult > 1 && (*s == 'i' || *s == 'I') &&
	    (s[1] == 'b' || s[1] == 'B'))
		s += 2;
	else if (*s == 'b' || *s == 'B')
		s++;
	if (*s != '\0')
		return -1;
	if (whole > UINT64_MAX / mult)
		return -1;
	uint64_t x = whole * mult, add = (uint64_t)(frac * (double)mult);
	if (x > UINT64_MAX - add)
		return -1;
	*v = x + add;
	return 0;
}

int
st_parse_count(const char *s, uint64_t *v)
{
	uint64_t whole;
	double frac;
	const char *p = s;
	if (strchr(s, '.') != NULL || parse_number(&p, &whole, &frac) != 0 ||
	    *p != '\0')
		return -1;
	*v = whole;
	return 0;
}

int
st_parse_pct(const char *s, double *v)
{
	uint64_t whole;
	double frac;
	if (parse_number(&s, &whole, &frac) != 0)
		return -1;
	if (*s == '%')
		s++;
	if (*s != '\0' || whole > 1000000000)
		return -1;
	*v = (double)whole + frac;
	return 0;
}

char *
st_fmt_size(uint64_t v, char *buf)
{
	static const char *const unit[] = {"KiB", "MiB", "GiB",
	                                   "TiB", "PiB", "EiB"};
	if (v < 1024) {
		snprintf(buf, ST_NUM_MAX, "%" PRIu64 " B", v);
		return buf;
	}
	double x = (double)v / 1024;
	size_t u = 0;
	/* 1023.996 KiB would print as 1024.00 KiB: move up first. */
	while (u + 1 < sizeof(unit) / sizeof(unit[0]) && x >= 1023.995) {
		x /= 1024;
		u++;
	}
	snprintf(buf, ST_NUM_MAX, "%.2f %s", x, unit[u]);
	return buf;
}

char *
st_fmt_delta(int64_t v, char *buf)
{
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	buf[0] = v < 0 ? '-' : '+';
	st_fmt_size(mag, buf + (v != 0));
	return buf;
}

char *
st_fmt_count(uint64_t v, char *buf)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);
	size_t o = 0;
	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

char *
st_fmt_cdelta(int64_t v, char *buf)
{
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	buf[0] = v < 0 ? '-' : '+';
	st_fmt_count(mag, buf + (v != 0));
	return buf;
}

char *
st_fmt_pct(double v, char *buf)
{
	snprintf(buf, ST_NUM_MAX, "%.1f %%", v);
	return buf;
}

char *
st_fmt_ns(uint64_t ns, char *buf)
{
	if (ns >= 1000000000)
		snprintf(buf, ST_NUM_MAX, "%.2f s", (double)ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, ST_NUM_MAX, "%.2f ms", (double)ns / 1e6);
	else if (ns >= 1000)
		snprintf(buf, ST_NUM_MAX, "%.2f us", (double)ns / 1e3);
	else
		snprintf(buf, ST_NUM_MAX, "%" PRIu64 " ns", ns);
	return buf;
}

uint64_t
st_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - 1 - b ? UINT64_MAX - 1 : a + b;
}

int64_t
st_sub(uint64_t b, uint64_t a)
{
	if (b >= a)
		return b - a > (uint64_t)INT64_MAX ? INT64_MAX
		                                   : (int64_t)(b - a);
	return a - b > (uint64_t)INT64_MAX ? -INT64_MAX : -(int64_t)(a - b);
}
