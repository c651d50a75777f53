/*
 * audit/duration.c — digits, and durations: digits and a unit (see
 * duration.h).
 */
#include "audit/duration.h"

#include <errno.h>
#include <stddef.h>

#define NS_PER_MS UINT64_C(1000000)

int
da_digits(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	int overflow = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - digit) / 10)
			overflow = 1;
		else
			v = v * 10 + digit;
	}
	if (p == s || (end == NULL && *p != '\0'))
		return EINVAL;
	if (end != NULL)
		*end = p;
	if (overflow)
		return ERANGE;
	*out = v;
	return 0;
}

int
da_duration_parse(const char *s, uint64_t *ns)
{
	uint64_t v = 0, unit;
	const char *p;
	/* Syntax first: "99...9x" is EINVAL, "99...9s" ERANGE. */
	int r = da_digits(s, &v, &p);
	if (r == EINVAL)
		return EINVAL;
	int overflow = r == ERANGE;
	if (p[0] == 'm' && p[1] == 's' && p[2] == '\0')
		unit = NS_PER_MS;
	else if (p[0] == 's' && p[1] == '\0')
		unit = 1000 * NS_PER_MS;
	else if (p[0] == 'm' && p[1] == '\0')
		unit = 60 * 1000 * NS_PER_MS;
	else if (p[0] == '\0' && v == 0 && !overflow)
		unit = 1; /* 0 alone */
	else
		return EINVAL;
	if (overflow || v > UINT64_MAX / unit)
		return ERANGE;
	*ns = v * unit;
	return 0;
}

int
da_duration_check(const char *s)
{
	uint64_t ns;
	return da_duration_parse(s, &ns);
}
