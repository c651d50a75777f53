/*
 * audit/guardspec.c — parsing DBGALLOC_GUARD (guardspec.h).
 */
#include "audit/guardspec.h"
#include "audit/duration.h"
#include "audit/settings.h"

#include <string.h>

#define SIZE_TEXT_MAX 32 /* "18446744073709551615B" and room */

/* A size from s[0..n): 0, or -1 if it is not one. */
static int
size_of(const char *s, size_t n, uint64_t *out)
{
	char buf[SIZE_TEXT_MAX];
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return da_settings_parse_size(buf, out) == 0 ? 0 : -1;
}

int
da_guardspec_parse(const char *s, struct da_guardspec *out)
{
	memset(out, 0, sizeof(*out));
	if (s[0] == '\0' || strcmp(s, "0") == 0)
		return 0;
	if (strcmp(s, "1") == 0) {
		out->mode = DA_GUARD_MODE_ALL;
		return 0;
	}
	if (strncmp(s, "sample:", 7) == 0) {
		uint64_t n;
		const char *end;
		if (da_digits(s + 7, &n, &end) != 0 || *end != '\0' || n < 2 ||
		    n > (UINT64_C(1) << 32))
			return -1;
		out->mode = DA_GUARD_MODE_SAMPLE;
		out->period = n;
		return 0;
	}
	if (strncmp(s, "size:", 5) == 0) {
		const char *a = s + 5, *dash = strchr(a, '-');
		if (dash == NULL || size_of(a, (size_t)(dash - a), &out->min) ||
		    size_of(dash + 1, strlen(dash + 1), &out->max) ||
		    out->min > out->max)
			return -1;
		out->mode = DA_GUARD_MODE_SIZE;
		return 0;
	}
	return -1;
}

int
da_guardspec_check(const char *s)
{
	struct da_guardspec g;
	return da_guardspec_parse(s, &g);
}
