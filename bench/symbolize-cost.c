/*
 * bench/symbolize-cost — the time to symbolize every pc of a dump with
 * tools/symbols.c, as dbgalloc-stats will: each distinct return address
 * of its stacks, once, from a fresh session (the files found, read and
 * indexed as they are needed), then all of them again (the cache). Not
 * part of the bench tables; built by make check so it keeps compiling,
 * run by hand:
 *
 *   bench/symbolize-cost DUMP [DEBUG_DIR]
 *
 * prints the counts and times on one line, then the warnings.
 */
#include "tools/dump.h"
#include "tools/symbols.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct da_dump d;
	struct da_sym_frame f[DA_SYMS_MAX_FRAMES];
	char err[512];
	size_t named = 0, frames = 0, inlined = 0, hidden = 0;
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: symbolize-cost DUMP [DEBUG_DIR]\n");
		return 2;
	}
	if (da_dump_read(argv[1], &d, err, sizeof(err)) != 0) {
		fprintf(stderr, "symbolize-cost: %s\n", err);
		return 2;
	}
	double t0 = now();
	struct da_syms *s = da_syms_open(&d, 0, argc == 3 ? argv[2] : NULL);
	if (s == NULL) {
		fprintf(stderr, "symbolize-cost: out of memory\n");
		return 2;
	}
	for (size_t i = 0; i < d.npcs; i++) {
		size_t n = da_syms_frames(s, d.pcs[i], f, DA_SYMS_MAX_FRAMES);
		named += n > 0;
		frames += n;
		for (size_t k = 0; k < n; k++)
			inlined += f[k].inlined;
		hidden += (size_t)da_syms_hidden(s, d.pcs[i]);
	}
	double t1 = now();
	for (size_t i = 0; i < d.npcs; i++)
		da_syms_frames(s, d.pcs[i], f, DA_SYMS_MAX_FRAMES);
	double t2 = now();
	printf("%zu stacks, %zu pcs (%zu named, %zu hidden), %zu frames "
	       "(%zu inlined): %.3f s, %.2f us/pc; cached again: %.3f s\n",
	       d.nstacks, d.npcs, named, hidden, frames, inlined, t1 - t0,
	       d.npcs ? (t1 - t0) * 1e6 / (double)d.npcs : 0.0, t2 - t1);
	fputs(da_syms_warnings(s), stdout);
	da_syms_close(s);
	da_dump_free(&d);
	return 0;
}
