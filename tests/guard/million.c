/*
 * million.c — N guarded blocks live at once (argv[1], default 1000000),
 * for tests/guard/million.sh under LD_PRELOAD with DBGALLOC_GUARD=1: far
 * more than one mapping per guard page would allow under vm.max_map_count.
 * Each block (8 to 64 bytes) gets its first and last byte written; then
 * the mappings are counted (/proc/self/maps) and the memory measured
 * (VmRSS, VmSize of /proc/self/status), every block is checked and freed,
 * and the mappings are counted again. Prints one line of numbers, then
 * "million: right" if all is as it should be; status 1 otherwise. With a
 * second argument "any-maps" the mappings may be many (mprotect's guards,
 * DBGALLOC_GUARD_MPROTECT=1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *(*volatile opaque_fn)(void *);

static void *
identity(void *p)
{
	return p;
}

/* Lines of /proc/self/maps. */
static long
maps_lines(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;
	if (f == NULL)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* The kB of a /proc/self/status field such as "VmRSS:". */
static long
status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	size_t len = strlen(field);
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, len) == 0) {
			kib = strtol(line + len, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}

static size_t
size_of(size_t i)
{
	return 8 + i % 57;
}

int
main(int argc, char **argv)
{
	opaque_fn = identity;
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	long before = maps_lines();
	long rss0 = status_kib("VmRSS:");
	char **p = malloc(n * sizeof(*p));
	int bad = 0;
	if (p == NULL) {
		fprintf(stderr, "million: no room for %zu pointers\n", n);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		p[i] = opaque_fn(malloc(size_of(i)));
		if (p[i] == NULL) {
			fprintf(stderr, "million: malloc failed at block %zu\n",
			        i);
			return 1;
		}
		p[i][0] = (char)i;
		p[i][size_of(i) - 1] = (char)(i >> 8);
	}
	long live = maps_lines();
	long rss = status_kib("VmRSS:"), vm = status_kib("VmSize:");
	for (size_t i = 0; i < n; i++) {
		if (p[i][0] != (char)i ||
		    p[i][size_of(i) - 1] != (char)(i >> 8))
			bad++;
		free(p[i]);
	}
	free(p);
	long after = maps_lines();
	printf("%zu blocks: maps %ld lines before, %ld live, %ld after; "
	       "VmRSS %ld kB before, %ld kB live (%ld bytes a block); "
	       "VmSize %ld kB\n",
	       n, before, live, after, rss0, rss,
	       n ? (rss - rss0) * 1024 / (long)n : 0, vm);
	if (bad)
		printf("million: %d blocks changed\n", bad);
	/* Few mappings however many blocks: no mapping per guard page. */
	int any_maps = argc > 2 && strcmp(argv[2], "any-maps") == 0;
	int ok = !bad && live >= 0 &&
	         (any_maps || (live < before + 1000 && after < before + 1000));
	puts(ok ? "million: right" : "million: wrong");
	return !ok;
}
