/*
 * tests/fuzz/driver.c — runs a fuzz harness (tests/fuzz/fuzz.h) without
 * libFuzzer: first over every corpus file, then over random mutations of
 * them until the time is up. The mutations are blind but aimed at the
 * format: bytes that matter to it (space, newline, %, -, #), its tokens,
 * whole lines moved, doubled or taken from another file, cuts, and now and
 * then a line over the length limit.
 *
 *   driver [-s SEED] [-t SECONDS] [FILE|DIR]...
 *
 * Without files, the corpus is $DA_TEST_TOP_SRCDIR/tests/dumps; SECONDS
 * defaults to $DA_FUZZ_SECONDS or 10, SEED to $DA_FUZZ_SEED or the time.
 * The seed is printed; on a crash the input is written to
 * fuzz-crash-SEED.dump in the current directory (by the signal handler,
 * with write(2)) so the run can be repeated with the file alone.
 */
#include "tests/fuzz/fuzz.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define INPUT_MAX (1 << 20)

struct input {
	uint8_t *p;
	size_t n;
};

static struct input *corpus;
static size_t ncorpus;

/* The input being run, for the crash handler. */
static uint8_t *current;
static volatile size_t current_n;
static char crash_path[64];

static uint64_t rng;

/* xorshift64*: fast, and the same sequence for the same seed. */
static uint64_t
next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static size_t
below(size_t n)
{
	return n ? (size_t)(next() % n) : 0;
}

static void
on_crash(int sig)
{
	int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		size_t off = 0;
		while (off < current_n) {
			ssize_t w = write(fd, current + off, current_n - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		close(fd);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
add(const uint8_t *p, size_t n)
{
	corpus = realloc(corpus, (ncorpus + 1) * sizeof(*corpus));
	if (corpus == NULL)
		abort();
	corpus[ncorpus].p = malloc(n ? n : 1);
	if (corpus[ncorpus].p == NULL)
		abort();
	memcpy(corpus[ncorpus].p, p, n);
	corpus[ncorpus].n = n;
	ncorpus++;
}

static void
load_file(const char *path)
{
	static uint8_t buf[INPUT_MAX];
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	add(buf, n);
}

static void
load(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	if (dir == NULL) {
		load_file(path);
		return;
	}
	while ((e = readdir(dir)) != NULL) {
		char sub[4096];
		size_t len = strlen(e->d_name);
		/* The dumps only: not the script that writes them. */
		if (len < 5 || strcmp(e->d_name + len - 5, ".dump") != 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		load_file(sub);
	}
	closedir(dir);
}

static const char *const tokens[] = {
        " ",
        "\n",
        "%",
        "-",
        "#",
        "#fields",
        "0x",
        "0",
        "%20",
        "%00",
        "%zz",
        "...",
        "\xe2\x80\xa6",
        "E ",
        "S ",
        "A ",
        "X ",
        "M ",
        "L ",
        "H ",
        "T ",
        "C ",
        "P ",
        "K ",
        "Z ",
        ",",
        "0,0,",
        "DBGALLOC-DUMP 1 0\n",
        "DBGALLOC-DUMP 1 1\n",
        "DBGALLOC-DUMP 2 0\n",
        "18446744073709551615",
        "18446744073709551616",
        "0xffffffffffffffff",
        "0x10000000000000000",
        "4294967295",
        "\r",
        "\xff",
        "E 1 0x0\n",
        "#fields S id depth pc...\n",
        "#fields A addr size stack\n",
        "#fields A addr thread leak\n",
        "#fields X stack life_allocs life_us\n",
        "#fields K block_size slabs\n",
        "#fields Z a b\n",
};

/* Start and length of the line holding offset at in b (newline in). */
static void
line_at(const uint8_t *b, size_t n, size_t at, size_t *start, size_t *len)
{
	size_t s = at, e = at;
	while (s > 0 && b[s - 1] != '\n')
		s--;
	while (e < n && b[e] != '\n')
		e++;
	if (e < n)
		e++;
	*start = s;
	*len = e - s;
}

/* Replaces len bytes at at in b (of *n) with the n2 bytes of p. */
static void
replace(uint8_t *b, size_t *n, size_t at, size_t len, const void *p, size_t n2)
{
	if (*n - len + n2 > INPUT_MAX)
		return;
	memmove(b + at + n2, b + at + len, *n - at - len);
	memcpy(b + at, p, n2);
	*n = *n - len + n2;
}

static void
mutate(uint8_t *b, size_t *n)
{
	static uint8_t tmp[INPUT_MAX];
	size_t at = below(*n + 1), s, len;
	switch (below(12)) {
	case 0: /* flip a bit */
		if (*n)
			b[below(*n)] ^= (uint8_t)(1u << below(8));
		break;
	case 1: { /* a byte that matters */
		static const char bytes[] = " \n%-#0x9aE.\t";
		if (*n)
			b[below(*n)] = (uint8_t)bytes[below(sizeof(bytes) - 1)];
		break;
	}
	case 2: { /* a token inserted */
		const char *t = tokens[below(sizeof(tokens) / sizeof(*tokens))];
		replace(b, n, at, 0, t, strlen(t));
		break;
	}
	case 3: /* a range deleted */
		len = below(*n - (at < *n ? at : *n) + 1) % 64;
		replace(b, n, at, len, "", 0);
		break;
	case 4: /* a line deleted */
		if (*n) {
			line_at(b, *n, below(*n), &s, &len);
			replace(b, n, s, len, "", 0);
		}
		break;
	case 5: /* a line doubled */
		if (*n) {
			line_at(b, *n, below(*n), &s, &len);
			memcpy(tmp, b + s, len);
			replace(b, n, s, 0, tmp, len);
		}
		break;
	case 6: { /* a line from another input */
		const struct input *o = &corpus[below(ncorpus)];
		if (o->n) {
			line_at(o->p, o->n, below(o->n), &s, &len);
			memcpy(tmp, o->p + s, len);
			replace(b, n, at, 0, tmp, len);
		}
		break;
	}
	case 7: /* two lines swapped: the order of records */
		if (*n) {
			size_t s2, len2;
			line_at(b, *n, below(*n), &s, &len);
			line_at(b, *n, below(*n), &s2, &len2);
			if (s2 < s) {
				size_t t = s;
				s = s2;
				s2 = t;
				t = len;
				len = len2;
				len2 = t;
			}
			if (s + len <= s2) {
				memcpy(tmp, b + s2, len2);
				memcpy(tmp + len2, b + s + len, s2 - s - len);
				memcpy(tmp + len2 + s2 - s - len, b + s, len);
				memcpy(b + s, tmp, s2 + len2 - s);
			}
		}
		break;
	case 8: /* cut */
		*n = at < *n ? at : *n;
		break;
	case 9: /* a number's digits repeated: overflow */
		if (*n) {
			size_t k = below(*n), e = k;
			while (e < *n && b[e] >= '0' && b[e] <= '9')
				e++;
			if (e > k) {
				memcpy(tmp, b + k, e - k);
				replace(b, n, e, 0, tmp, e - k);
			}
		}
		break;
	case 10: /* now and then, a line at or over the limit */
		if (below(16) == 0) {
			len = 65530 + below(12);
			memset(tmp, 'a' + (int)below(26), len);
			replace(b, n, at, 0, tmp, len);
		}
		break;
	default: /* a space into a newline, or back */
		for (size_t k = 0; k < 4 && *n; k++) {
			size_t j = below(*n);
			if (b[j] == ' ' || b[j] == '\n')
				b[j] = b[j] == ' ' ? '\n' : ' ';
		}
		break;
	}
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	const char *env;
	double seconds = 10;
	unsigned long long seed = (unsigned long long)time(NULL);
	unsigned long runs = 0;
	int opt;

	if ((env = getenv("DA_FUZZ_SECONDS")) != NULL)
		seconds = atof(env);
	if ((env = getenv("DA_FUZZ_SEED")) != NULL)
		seed = strtoull(env, NULL, 0);
	while ((opt = getopt(argc, argv, "s:t:")) != -1) {
		if (opt == 's')
			seed = strtoull(optarg, NULL, 0);
		else if (opt == 't')
			seconds = atof(optarg);
		else {
			fprintf(stderr,
			        "usage: %s [-s SEED] [-t SECONDS] "
			        "[FILE|DIR]...\n",
			        argv[0]);
			return 2;
		}
	}
	if (optind == argc) {
		char dir[4096];
		env = getenv("DA_TEST_TOP_SRCDIR");
		snprintf(dir, sizeof(dir), "%s/tests/dumps", env ? env : ".");
		load(dir);
	}
	for (int i = optind; i < argc; i++)
		load(argv[i]);
	if (ncorpus == 0) {
		fprintf(stderr, "%s: no corpus\n", argv[0]);
		return 2;
	}
	snprintf(crash_path, sizeof(crash_path), "fuzz-crash-%llu.dump", seed);
	signal(SIGABRT, on_crash);
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGFPE, on_crash);
	printf("# seed %llu, %zu corpus files, %.0f s\n", seed, ncorpus,
	       seconds);
	fflush(stdout);
	rng = seed * 0x9e3779b97f4a7c15ull + 1;

	current = malloc(INPUT_MAX);
	if (current == NULL)
		abort();
	for (size_t i = 0; i < ncorpus; i++) {
		memcpy(current, corpus[i].p, corpus[i].n);
		current_n = corpus[i].n;
		LLVMFuzzerTestOneInput(current, current_n);
		runs++;
	}
	double start = now(), end = start + seconds;
	while (now() < end) {
		for (int batch = 0; batch < 64; batch++) {
			const struct input *in = &corpus[below(ncorpus)];
			unsigned long ok = fuzz_read_ok;
			size_t n = in->n;
			memcpy(current, in->p, n);
			for (size_t k = 1 + below(8); k > 0; k--)
				mutate(current, &n);
			current_n = n;
			LLVMFuzzerTestOneInput(current, n);
			runs++;
			/* Some mutants that read are kept, to mutate further. */
			if (fuzz_read_ok > ok && below(8) == 0 &&
			    ncorpus < 4096 && n < 65536)
				add(current, n);
		}
	}
	printf("# %lu inputs in %.1f s: %lu readings succeeded, %lu refused\n",
	       runs, now() - start, fuzz_read_ok, fuzz_read_refused);
	return 0;
}
