/*
 * audit/failspec.c — parsing the fault-injection settings (failspec.h).
 */
#include "audit/failspec.h"

#include <string.h>

/* Decimal digits at *s, at least one; advances *s. -1 on none or
 * overflow. */
static int
digits(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*s = p;
	*v = x;
	return 0;
}

int
da_failspec_at(const char *s, uint64_t *out, size_t max, size_t *n)
{
	size_t k = 0;
	for (;;) {
		uint64_t v;
		if (digits(&s, &v) != 0 || v == 0 || k == max)
			return -1;
		/* Insertion keeps it sorted: lists are short. */
		size_t i = k;
		while (i > 0 && out[i - 1] > v) {
			out[i] = out[i - 1];
			i--;
		}
		if (i > 0 && out[i - 1] == v) {
			memmove(&out[i], &out[i + 1], (k - i) * sizeof(*out));
		} else {
			out[i] = v;
			k++;
		}
		if (*s == '\0')
			break;
		if (*s++ != ',')
			return -1;
	}
	*n = k;
	return 0;
}

int
da_failspec_rate(const char *s, uint64_t *ppb)
{
	uint64_t whole, frac = 0, scale = DA_FAIL_PPB;
	if (digits(&s, &whole) != 0 || whole > 100)
		return -1;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (scale == 1)
				return -1; /* more than nine decimals */
			scale /= 10;
			frac += (uint64_t)(*s - '0') * scale;
		}
	}
	uint64_t v = whole * DA_FAIL_PPB + frac;
	if (*s == '%') {
		s++;
		v /= 100;
	}
	if (*s != '\0' || v > DA_FAIL_PPB)
		return -1;
	*ppb = v;
	return 0;
}

int
da_failspec_check_at(const char *s)
{
	uint64_t v[DA_FAIL_AT_MAX];
	size_t n;
	return da_failspec_at(s, v, DA_FAIL_AT_MAX, &n);
}

int
da_failspec_check_rate(const char *s)
{
	uint64_t v;
	return da_failspec_rate(s, &v);
}

int
da_failspec_check_site(const char *s)
{
	return s[0] != '\0' ? 0 : -1;
}
