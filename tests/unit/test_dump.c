/*
 * The dump writer (audit/dump.c), on blocks allocated through the audit
 * layer: the file is read back with a small line parser of the test's own
 * and checked record by record — the version line, #fields before each
 * record type, the header, the counters, the module map (the program's
 * path and build id), exact A, X and S records for known blocks, the
 * epochs, the trailer's line count and CRC-32C. Then the file names, the
 * atomic publish (no temporary file left, the old file replaced whole or
 * kept whole on failure), the error line for a bad directory, and the
 * time to dump a million live blocks (printed, not checked).
 */
#include "audit/audit.h"
#include "audit/crc32c.h"
#include "audit/dump.h"
#include "audit/epochs.h"
#include "audit/leak.h"
#include "audit/settings.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[256]; /* a fresh directory per run */

/* --- A minimal reader: the whole file, split into lines and fields. --- */

#define MAXF 80

struct line {
	char *f[MAXF]; /* fields (NUL-terminated, in the file's copy) */
	int n;
	size_t off; /* of the line in the file */
};

struct file {
	char *text; /* a copy, cut into fields as lines are read */
	char *raw;  /* the bytes as read */
	size_t size;
	size_t pos;   /* of the next line */
	size_t lines; /* read so far */
};

static void
file_read(struct file *f, const char *path)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long size = ftell(fp);
	assert_true(size > 0);
	rewind(fp);
	f->size = (size_t)size;
	f->raw = malloc(f->size + 1);
	f->text = malloc(f->size + 1);
	assert_int_equal(fread(f->raw, 1, f->size, fp), f->size);
	fclose(fp);
	memcpy(f->text, f->raw, f->size);
	f->text[f->size] = '\0';
	f->pos = f->lines = 0;
	/* Every line ends in a newline, including the last. */
	assert_int_equal(f->raw[f->size - 1], '\n');
}

/* The next line, split at single spaces; 0 at the end. */
static int
file_line(struct file *f, struct line *l)
{
	if (f->pos >= f->size)
		return 0;
	char *p = f->text + f->pos;
	char *nl = strchr(p, '\n');
	*nl = '\0';
	l->off = f->pos;
	assert_true((size_t)(nl - p) + 1 <= 65536);
	f->pos += (size_t)(nl - p) + 1;
	f->lines++;
	l->n = 0;
	char *s = p;
	for (;;) {
		char *sp = strchr(s, ' ');
		assert_true(l->n < MAXF);
		l->f[l->n++] = s;
		if (sp == NULL)
			break;
		*sp = '\0';
		s = sp + 1;
		assert_true(*s != ' ' && *s != '\0');
	}
	return 1;
}

static void
file_free(struct file *f)
{
	free(f->text);
	free(f->raw);
}

static uint64_t
num(const char *s)
{
	char *end;
	errno = 0;
	uint64_t v = strncmp(s, "0x", 2) == 0 ? strtoull(s + 2, &end, 16)
	                                      : strtoull(s, &end, 10);
	assert_int_equal(errno, 0);
	assert_true(end != s && *end == '\0');
	return v;
}

/* Percent-decodes s (in place). */
static char *
decode(char *s)
{
	if (strcmp(s, "%") == 0) {
		s[0] = '\0';
		return s;
	}
	char *o = s;
	for (const char *c = s; *c != '\0'; c++) {
		if (c[0] == '%') {
			unsigned v;
			assert_int_equal(sscanf(c + 1, "%2X", &v), 1);
			*o++ = (char)v;
			c += 2;
		} else {
			*o++ = *c;
		}
	}
	*o = '\0';
	return s;
}

/* What a parsed dump holds, by record. */
struct blk {
	uint64_t addr, size, gen, epoch;
	long stack; /* -1: "-" */
	char flags[8];
	uint64_t thread; /* 0: "-" */
	char leak;
};

struct dump {
	struct file f;
	struct blk *a;
	size_t na;
	uint64_t sid[4096], sdepth[4096];
	size_t ns;
	uint64_t xid[4096], xblocks[4096], xbytes[4096];
	/* allocs alloc_bytes frees free_bytes peak_live_bytes temporary */
	uint64_t xmore[4096][6];
	char *xlife[4096][2];
	size_t nx;
	/* slabs slab_bytes live_blocks live_bytes allocs frees peak */
	uint64_t k[80][7], k_size[80];
	size_t nk;
	uint64_t p_mono[4096], p_live[4096];
	char *p_reason[4096];
	size_t np;
	char *h_key[32], *h_val[32];
	size_t nh;
	char *t_name[32];
	uint64_t t_val[32];
	int t_none[32];
	size_t nt;
	char *m_path[256], *m_build[256];
	size_t nm, nl;
	char *c_name[16];
	uint64_t c_first[16];
	uint64_t c_tot[16][5]; /* allocs alloc_bytes frees free_bytes peak */
	int c_mono[16];
	size_t nc;
	uint64_t e_lines, e_crc;
};

static const char *
h_get(const struct dump *d, const char *key)
{
	for (size_t i = 0; i < d->nh; i++)
		if (strcmp(d->h_key[i], key) == 0)
			return d->h_val[i];
	return NULL;
}

static uint64_t
t_get(const struct dump *d, const char *name, int *none)
{
	for (size_t i = 0; i < d->nt; i++)
		if (strcmp(d->t_name[i], name) == 0) {
			if (none != NULL)
				*none = d->t_none[i];
			return d->t_val[i];
		}
	fail_msg("no T %s", name);
	return 0;
}

static long
s_find(const struct dump *d, uint64_t id)
{
	for (size_t i = 0; i < d->ns; i++)
		if (d->sid[i] == id)
			return (long)i;
	return -1;
}

static long
x_find(const struct dump *d, uint64_t id)
{
	for (size_t i = 0; i < d->nx; i++)
		if (d->xid[i] == id)
			return (long)i;
	return -1;
}

static const struct blk *
a_find(const struct dump *d, const void *p)
{
	for (size_t i = 0; i < d->na; i++)
		if (d->a[i].addr == (uintptr_t)p)
			return &d->a[i];
	return NULL;
}

/* The columns each record type must name, in this order. */
static const char *const want_fields[] = {
        "H key value",
        "T name value",
        "M id bias lo hi build_id path",
        "L module vaddr memsz offset perm",
        "S id depth pc...",
        "K block_size slabs slab_bytes live_blocks live_bytes allocs frees "
        "peak_live_blocks",
        "X stack live_blocks live_bytes allocs alloc_bytes frees free_bytes "
        "peak_live_bytes temporary life_allocs life_us",
        "A addr size stack gen epoch flags thread leak",
        "C epoch first_gen mono_ns allocs alloc_bytes frees free_bytes "
        "peak_bytes name",
        "P mono_ns live_bytes rss_bytes gen reason",
        "E lines crc32c",
};
#define NFIELDS (sizeof(want_fields) / sizeof(want_fields[0]))

/* Reads and checks the structure of the dump at path: the version line,
 * #fields before every record, the order H T M L S (X A C) E, every S
 * before its id is named, the trailer last. */
static void
dump_read(struct dump *d, const char *path)
{
	memset(d, 0, sizeof(*d));
	file_read(&d->f, path);
	struct file *f = &d->f;
	size_t cap = 1024;
	d->a = calloc(cap, sizeof(*d->a));
	struct line line, *l = &line;
	assert_true(file_line(f, l));
	assert_int_equal(l->n, 3);
	assert_string_equal(l->f[0], "DBGALLOC-DUMP");
	assert_string_equal(l->f[1], "1");
	assert_string_equal(l->f[2], "1");
	char declared[128] = {0};
	const char *order = "HTMLSKXACPE";
	int stage = 0; /* index in order of the last record type seen */
	size_t e_off = 0, e_line = 0;
	while (file_line(f, l)) {
		assert_int_equal(e_line, 0); /* nothing after the trailer */
		char *t = l->f[0];
		if (strcmp(t, "#fields") == 0) {
			/* Rebuild "T col col..." and compare. */
			char cols[512] = "";
			for (int k = 2; k < l->n; k++) {
				strcat(cols, k > 2 ? " " : "");
				strcat(cols, l->f[k]);
			}
			int ok = 0;
			for (size_t w = 0; w < NFIELDS; w++) {
				size_t tl = strlen(l->f[1]);
				if (strncmp(want_fields[w], l->f[1], tl) == 0 &&
				    want_fields[w][tl] == ' ' &&
				    strcmp(want_fields[w] + tl + 1, cols) == 0)
					ok = 1;
			}
			assert_true(ok);
			declared[(unsigned char)l->f[1][0]] = 1;
			continue;
		}
		assert_true(t[1] == '\0' && t[0] != '#');
		assert_true(declared[(unsigned char)t[0]]);
		const char *at = strchr(order, t[0]);
		assert_non_null(at);
		int st = (int)(at - order);
		/* K, X, A, C and P in any order among themselves; else
		 * ascending. (M and L interleave.) */
		if (t[0] == 'L' || t[0] == 'M')
			assert_true(stage <= 3);
		else if (st >= 5 && st <= 9)
			assert_true(stage <= 9);
		else
			assert_true(st >= stage);
		if (st > stage)
			stage = st;
		switch (t[0]) {
		case 'H':
			assert_int_equal(l->n, 3);
			d->h_key[d->nh] = l->f[1];
			d->h_val[d->nh++] = l->f[2];
			break;
		case 'T':
			assert_int_equal(l->n, 3);
			d->t_name[d->nt] = l->f[1];
			d->t_none[d->nt] = strcmp(l->f[2], "-") == 0;
			d->t_val[d->nt] = d->t_none[d->nt] ? 0 : num(l->f[2]);
			d->nt++;
			break;
		case 'M':
			assert_int_equal(l->n, 7);
			assert_int_equal(num(l->f[1]), d->nm + 1);
			assert_true(num(l->f[3]) <= num(l->f[4]));
			d->m_build[d->nm] = l->f[5];
			d->m_path[d->nm++] = decode(l->f[6]);
			break;
		case 'L':
			assert_int_equal(l->n, 6);
			assert_int_equal(num(l->f[1]), d->nm);
			num(l->f[2]);
			num(l->f[3]);
			num(l->f[4]);
			assert_int_equal(strlen(l->f[5]), 3);
			assert_int_equal(l->f[5][0], 'r'); /* loadable: read */
			d->nl++;
			break;
		case 'S': {
			uint64_t id = num(l->f[1]), depth = num(l->f[2]);
			assert_int_equal(l->n, 3 + (int)depth);
			assert_int_equal(s_find(d, id), -1);
			for (int k = 3; k < l->n; k++)
				assert_int_equal(strncmp(l->f[k], "0x", 2), 0);
			d->sid[d->ns] = id;
			d->sdepth[d->ns++] = depth;
			break;
		}
		case 'K':
			assert_int_equal(l->n, 9);
			for (int k = 2; k < 9; k++)
				d->k[d->nk][k - 2] = num(l->f[k]);
			d->k_size[d->nk++] =
			        strcmp(l->f[1], "-") == 0 ? 0 : num(l->f[1]);
			break;
		case 'X':
			assert_int_equal(l->n, 12);
			assert_true(s_find(d, num(l->f[1])) >= 0);
			d->xid[d->nx] = num(l->f[1]);
			d->xblocks[d->nx] = num(l->f[2]);
			d->xbytes[d->nx] = num(l->f[3]);
			for (int k = 4; k < 10; k++)
				d->xmore[d->nx][k - 4] = num(l->f[k]);
			d->xlife[d->nx][0] = l->f[10];
			d->xlife[d->nx++][1] = l->f[11];
			break;
		case 'P':
			assert_int_equal(l->n, 6);
			d->p_mono[d->np] = num(l->f[1]);
			d->p_live[d->np] = num(l->f[2]);
			num(l->f[3]);
			num(l->f[4]);
			d->p_reason[d->np++] = l->f[5];
			break;
		case 'A': {
			assert_int_equal(l->n, 9);
			if (d->na == cap) {
				cap *= 2;
				d->a = realloc(d->a, cap * sizeof(*d->a));
				assert_non_null(d->a);
			}
			struct blk *b = &d->a[d->na++];
			assert_int_equal(strncmp(l->f[1], "0x", 2), 0);
			b->addr = num(l->f[1]);
			b->size = num(l->f[2]);
			b->stack = strcmp(l->f[3], "-") == 0
			                   ? -1
			                   : (long)num(l->f[3]);
			if (b->stack >= 0)
				assert_true(s_find(d, (uint64_t)b->stack) >= 0);
			b->gen = num(l->f[4]);
			b->epoch = num(l->f[5]);
			assert_true(strlen(l->f[6]) < sizeof(b->flags));
			strcpy(b->flags, l->f[6]);
			b->thread =
			        strcmp(l->f[7], "-") == 0 ? 0 : num(l->f[7]);
			b->leak = l->f[8][0];
			assert_int_equal(strlen(l->f[8]), 1);
			break;
		}
		case 'C':
			assert_int_equal(l->n, 10);
			assert_int_equal(num(l->f[1]), d->nc);
			d->c_first[d->nc] = num(l->f[2]);
			d->c_mono[d->nc] = strcmp(l->f[3], "-") != 0;
			if (d->c_mono[d->nc])
				num(l->f[3]);
			for (int k = 4; k < 9; k++)
				d->c_tot[d->nc][k - 4] = num(l->f[k]);
			d->c_name[d->nc++] = decode(l->f[9]);
			break;
		case 'E':
			e_off = l->off;
			e_line = f->lines;
			assert_int_equal(l->n, 3);
			d->e_lines = num(l->f[1]);
			assert_int_equal(strncmp(l->f[2], "0x", 2), 0);
			d->e_crc = num(l->f[2]);
			break;
		default:
			fail_msg("unknown record %s", t);
		}
	}
	/* The trailer, last: lines before it, and the CRC of their bytes. */
	assert_true(e_line > 0);
	assert_int_equal(d->e_lines, e_line - 1);
	assert_int_equal(d->e_crc, da_crc32c(0, f->raw, e_off));
}

static void
dump_free(struct dump *d)
{
	free(d->a);
	file_free(&d->f);
}

/* --- Tests. --- */

/* CRC-32C a bit at a time: the definition, to hold the tables against. */
static uint32_t
crc32c_bitwise(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static void
crc32c_vectors(void **state)
{
	(void)state;
	assert_int_equal(da_crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(da_crc32c(0, "", 0), 0);
	static const char text[] =
	        "The quick brown fox jumps over the lazy dog";
	assert_int_equal(da_crc32c(0, text, sizeof(text) - 1), 0x22620404u);
	/* 32 zero bytes (RFC 3720, B.4). */
	static const unsigned char zeros[32];
	assert_int_equal(da_crc32c(0, zeros, 32), 0x8a9136aau);
	/* The written-out table, byte by byte. */
	for (uint32_t i = 0; i < 256; i++) {
		unsigned char b = (unsigned char)i;
		assert_int_equal(da_crc32c_table0()[i],
		                 ~crc32c_bitwise(0xffffffffu, &b, 1));
	}
	/* Long enough for the 8-byte steps, at every length and split. */
	unsigned char buf[300];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	for (size_t n = 0; n <= sizeof(buf); n += 7) {
		uint32_t whole = crc32c_bitwise(0, buf, n);
		assert_int_equal(da_crc32c(0, buf, n), whole);
		for (size_t k = 0; k <= n; k += 13)
			assert_int_equal(
			        da_crc32c(da_crc32c(0, buf, k), buf + k, n - k),
			        whole);
	}
}

static void
names(void **state)
{
	(void)state;
	char out[64], want[128];
	assert_int_equal(
	        da_dump_name("/t/x.%p.%n.%e.%%.%q", 7, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "/t/x.%d.7.test_dump.%%.%%q",
	         (int)getpid());
	assert_string_equal(out, want);
	assert_int_equal(da_dump_name("%", 1, out, sizeof(out)), 0);
	assert_string_equal(out, "%");
	assert_int_equal(da_dump_name("abcdefgh", 1, out, 8), ENAMETOOLONG);
	assert_int_equal(da_dump_name("abcdefg", 1, out, 8), 0);
}

/* The blocks of the known set come from three call sites, each a loop
 * of its own in make_set (one return address each): the helpers are
 * never inlined, or their blocks would share make_set's caller. */
__attribute__((noinline)) static void *
alloc(size_t n)
{
	return da_audit_malloc(n, DA_CALL());
}

__attribute__((noinline)) static void *
alloc_new_arr(size_t n)
{
	return da_audit_alloc(n, DA_KIND_NEW_ARR, DA_CALL());
}

__attribute__((noinline)) static void *
alloc_aligned(size_t n)
{
	return da_audit_aligned(64, n, DA_KIND_ALIGNED, DA_CALL());
}

#define NA 10
#define NB 5
static void *set_a[NA], *set_b[NB], *set_c, *set_ign, *set_late;

__attribute__((noinline)) static void
make_set(void)
{
	for (int i = 0; i < NA; i++)
		set_a[i] = alloc(100);
	for (int i = 0; i < NB; i++)
		set_b[i] = alloc_new_arr(7);
	set_c = alloc_aligned(3000);
	set_ign = alloc(55);
	assert_int_equal(da_audit_ignore(set_ign), 1);
	/* As dbgalloc_mark does it. */
	da_epochs_mark(da_gen_mark("second stage"));
	set_late = alloc(1);
}

static void
free_set(void)
{
	for (int i = 0; i < NA; i++)
		da_audit_free(set_a[i], DA_CALL());
	for (int i = 0; i < NB; i++)
		da_audit_release(set_b[i], DA_E_DELETE_ARR, DA_ACCEPT_DEL_AR,
		                 SIZE_MAX, DA_CALL());
	da_audit_free(set_c, DA_CALL());
	da_audit_free(set_ign, DA_CALL());
	da_audit_free(set_late, DA_CALL());
}

static void
path_in_dir(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

/* Files in dir (the dumps and anything left behind). */
static int
files_in_dir(char names_out[][256], int max)
{
	DIR *dp = opendir(dir);
	assert_non_null(dp);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n < max)
			snprintf(names_out[n], 256, "%s", e->d_name);
		n++;
	}
	closedir(dp);
	return n;
}

static void
known_blocks(void **state)
{
	(void)state;
	char path[512], err[256];
	make_set();
	path_in_dir(path, sizeof(path), "known.%p.%n.dump");
	uint64_t seq = da_dump_count() + 1;
	errno = 12345;
	assert_int_equal(da_dump_write(path, "api", err, sizeof(err)), 0);
	assert_int_equal(errno, 12345); /* preserved */
	char final[512];
	assert_int_equal(da_dump_name(path, seq, final, sizeof(final)), 0);
	struct dump d;
	dump_read(&d, final);

	/* The header. */
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	assert_string_equal(h_get(&d, "pid"), pid);
	snprintf(pid, sizeof(pid), "%d", (int)getppid());
	assert_string_equal(h_get(&d, "ppid"), pid);
	char want[64];
	snprintf(want, sizeof(want), "%llu", (unsigned long long)seq);
	assert_string_equal(h_get(&d, "dump_seq"), want);
	assert_string_equal(h_get(&d, "reason"), "api");
	assert_string_equal(h_get(&d, "consistency"), "stopped");
	assert_string_equal(decode((char *)h_get(&d, "producer")),
	                    "dbgalloc " PACKAGE_VERSION);
	snprintf(want, sizeof(want), "%ld", sysconf(_SC_PAGESIZE));
	assert_string_equal(h_get(&d, "page_size"), want);
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_string_equal(decode((char *)h_get(&d, "exe")), exe);
	/* cmdline: one argument, the program's path as run. */
	char *cmd = decode((char *)h_get(&d, "cmdline"));
	assert_non_null(strstr(cmd, "test_dump"));
	assert_null(strchr(cmd, ' '));
	assert_string_equal(h_get(&d, "options"), "%"); /* none set */
	assert_true(num(h_get(&d, "time_unix_ns")) >
	            (uint64_t)1600000000 * 1000000000u);
	assert_true(num(h_get(&d, "mono_ns")) > 0);

	/* The counters. */
	int none = 0;
	assert_true(t_get(&d, "live_blocks", NULL) >= NA + NB + 3);
	assert_true(t_get(&d, "live_bytes", NULL) >=
	            NA * 100 + NB * 7 + 3000 + 55 + 1);
	assert_true(t_get(&d, "peak_bytes", NULL) >=
	            t_get(&d, "live_bytes", NULL));
	assert_true(t_get(&d, "total_allocs", NULL) >=
	            t_get(&d, "live_blocks", NULL));
	t_get(&d, "total_bytes", NULL);
	t_get(&d, "total_frees", NULL);
	t_get(&d, "failed_allocs", NULL);
	t_get(&d, "limit", &none);
	assert_true(none);
	assert_true(t_get(&d, "rss_bytes", NULL) > 0);
	assert_true(t_get(&d, "rss_peak_bytes", NULL) >=
	            t_get(&d, "rss_bytes", NULL));
	assert_true(t_get(&d, "mapped_bytes", NULL) > 0);
	assert_true(t_get(&d, "generation", NULL) > a_find(&d, set_late)->gen);

	/* The modules: the program first, by its real path, with the
	 * build id the linker gave it; libc among the others. */
	assert_true(d.nm >= 3 && d.nl >= d.nm);
	assert_string_equal(d.m_path[0], exe);
	assert_int_equal(strlen(d.m_build[0]), 40);
	assert_int_equal(strspn(d.m_build[0], "0123456789abcdef"), 40);
	int libc = 0;
	for (size_t i = 0; i < d.nm; i++)
		libc |= strstr(d.m_path[i], "libc.so") != NULL;
	assert_true(libc);

	/* The blocks, exactly. */
	const struct blk *b = a_find(&d, set_a[0]);
	assert_non_null(b);
	long site_a = b->stack;
	assert_true(site_a >= 0);
	for (int i = 0; i < NA; i++) {
		assert_non_null(b = a_find(&d, set_a[i]));
		assert_int_equal(b->size, 100);
		assert_int_equal(b->stack, site_a);
		assert_int_equal(b->epoch, 0);
		assert_string_equal(b->flags, "-");
	}
	assert_non_null(b = a_find(&d, set_b[0]));
	long site_b = b->stack;
	assert_true(site_b >= 0 && site_b != site_a);
	for (int i = 0; i < NB; i++) {
		assert_non_null(b = a_find(&d, set_b[i]));
		assert_int_equal(b->size, 7);
		assert_int_equal(b->stack, site_b);
		assert_string_equal(b->flags, "N");
	}
	assert_non_null(b = a_find(&d, set_c));
	assert_int_equal(b->size, 3000);
	assert_string_equal(b->flags, "a");
	long site_c = b->stack;
	assert_non_null(b = a_find(&d, set_ign));
	assert_int_equal(b->size, 55);
	assert_int_equal(b->stack, -1);
	assert_string_equal(b->flags, "i");
	assert_non_null(b = a_find(&d, set_late));
	assert_int_equal(b->epoch, 1);
	assert_int_equal(b->size, 1);
	const struct blk *late = b;

	/* X: each site's totals, from the blocks; S: one frame each (depth
	 * 1), the call site's return address. */
	long x = x_find(&d, (uint64_t)site_a);
	assert_true(x >= 0);
	assert_int_equal(d.xblocks[x], NA);
	assert_int_equal(d.xbytes[x], NA * 100);
	x = x_find(&d, (uint64_t)site_b);
	assert_true(x >= 0);
	assert_int_equal(d.xblocks[x], NB);
	assert_int_equal(d.xbytes[x], NB * 7);
	x = x_find(&d, (uint64_t)site_c);
	assert_int_equal(d.xblocks[x], 1);
	assert_int_equal(d.xbytes[x], 3000);
	assert_int_equal(d.sdepth[s_find(&d, (uint64_t)site_a)], 1);
	/* Every X sums its A records; every S is named by an A. */
	for (size_t i = 0; i < d.nx; i++) {
		uint64_t blocks = 0, bytes = 0;
		for (size_t k = 0; k < d.na; k++)
			if (d.a[k].stack == (long)d.xid[i]) {
				blocks++;
				bytes += d.a[k].size;
			}
		assert_int_equal(d.xblocks[i], blocks);
		assert_int_equal(d.xbytes[i], bytes);
	}
	assert_int_equal(d.nx, d.ns);
	/* The A records are the live blocks (dbgalloc's own apart). */
	struct da_leak_scan ls;
	assert_int_equal(da_leak_list(&ls), 0);
	size_t live = 0;
	for (size_t i = 0; i < ls.n; i++)
		live += ls.b[i].site != DA_SITE_INTERNAL;
	da_leak_scan_free(&ls);
	assert_int_equal(d.na, live);

	/* Minor 1: the header's new keys. */
	assert_string_equal(h_get(&d, "leak_scan"), "no");
	assert_string_equal(h_get(&d, "temporary_threshold"), "0");
	assert_string_equal(h_get(&d, "life_sample"), "256");
	assert_true(t_get(&d, "free_bytes", NULL) ==
	            t_get(&d, "total_bytes", NULL) -
	                    t_get(&d, "live_bytes", NULL));
	assert_int_equal(t_get(&d, "header_bytes", NULL), d.na * 24);
	assert_true(t_get(&d, "metadata_bytes", NULL) > 0);
	assert_int_equal(t_get(&d, "guard_bytes", NULL), 0);
	assert_int_equal(t_get(&d, "quarantine_bytes", NULL), 0);
	assert_int_equal(t_get(&d, "limit_failures", NULL) +
	                         t_get(&d, "injected_failures", NULL),
	                 t_get(&d, "failed_allocs", NULL));
	assert_true(t_get(&d, "peak_epoch", NULL) <= 1);
	/* The call sites' totals: allocated at least what is live, freed
	 * the rest (the ignored block is neither); all from one thread,
	 * numbered 1, and no leak verdict. */
	x = x_find(&d, (uint64_t)site_a);
	uint64_t *m = d.xmore[x];
	assert_true(m[0] >= NA && m[0] % NA == 0);
	assert_int_equal(m[1], m[0] * 100);
	assert_int_equal(m[2], m[0] - NA);
	assert_int_equal(m[3], (m[0] - NA) * 100);
	assert_int_equal(m[4], NA * 100); /* peak_live_bytes: now */
	x = x_find(&d, (uint64_t)site_b);
	assert_int_equal(d.xmore[x][1], d.xmore[x][0] * 7);
	for (size_t i = 0; i < d.nx; i++) {
		assert_true(d.xmore[i][0] >= d.xblocks[i] + d.xmore[i][2]);
		assert_true(d.xmore[i][5] <= d.xmore[i][0]);
	}
	for (size_t i = 0; i < d.na; i++) {
		assert_int_equal(d.a[i].leak, '-');
		if (d.a[i].addr == (uintptr_t)set_a[0])
			assert_int_equal(d.a[i].thread, 1);
	}
	/* The size classes: allocations less frees are the live blocks;
	 * the blocks of set_a (100 + 24 bytes: the 128-byte class, or the
	 * next for a block whose time is noted, 8 bytes more) among them. */
	assert_true(d.nk >= 2);
	assert_int_equal(d.k_size[d.nk - 1], 0); /* "-" last */
	uint64_t near128 = 0, near128_bytes = 0;
	for (size_t i = 0; i < d.nk; i++) {
		assert_int_equal(d.k[i][4] - d.k[i][5], d.k[i][2]);
		assert_true(d.k[i][6] >= d.k[i][2]);
		if (d.k_size[i] == 128 || d.k_size[i] == 144) {
			near128 += d.k[i][2];
			near128_bytes += d.k[i][3];
		}
	}
	assert_true(near128 >= NA);
	assert_true(near128_bytes >= NA * 100);
	/* The timeline: the mark's sample, then this dump's, last. */
	assert_true(d.np >= 2);
	assert_string_equal(d.p_reason[d.np - 1], "dump");
	int marked = 0;
	for (size_t i = 0; i < d.np; i++) {
		marked |= strcmp(d.p_reason[i], "mark") == 0;
		if (i > 0)
			assert_true(d.p_mono[i] >= d.p_mono[i - 1]);
	}
	assert_true(marked);
	assert_int_equal(d.p_live[d.np - 1], t_get(&d, "live_bytes", NULL));

	/* The epochs. */
	assert_int_equal(d.nc, 2);
	/* The second began after make_set's first 17 blocks: its totals
	 * then are below the totals now, its peak at least its live. */
	assert_true(d.c_tot[1][0] >= NA + NB + 2);
	assert_true(d.c_tot[1][0] <= t_get(&d, "total_allocs", NULL));
	assert_true(d.c_tot[1][4] > 0);
	assert_int_equal(d.c_tot[0][0], 0);
	assert_string_equal(d.c_name[0], "start");
	assert_int_equal(d.c_first[0], 1);
	assert_int_equal(d.c_mono[0], 0);
	assert_string_equal(d.c_name[1], "second stage");
	assert_true(d.c_mono[1]);
	assert_true(d.c_first[1] <= late->gen);
	assert_true(d.c_first[1] > d.c_first[0]);

	dump_free(&d);
	free_set();
	assert_int_equal(unlink(final), 0);
}

/* The final name is replaced whole; nothing else is left in the
 * directory, after success and after a failure. */
static void
atomic_publish(void **state)
{
	(void)state;
	char path[512], err[256], left[8][256];
	path_in_dir(path, sizeof(path), "same.dump");
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("an older file\n", fp);
	fclose(fp);
	uint64_t seq = da_dump_count() + 1;
	assert_int_equal(da_dump_write(path, "api", err, sizeof(err)), 0);
	struct dump d;
	dump_read(&d, path);
	char want[32];
	snprintf(want, sizeof(want), "%llu", (unsigned long long)seq);
	assert_string_equal(h_get(&d, "dump_seq"), want);
	dump_free(&d);
	assert_int_equal(files_in_dir(left, 8), 1);
	assert_string_equal(left[0], "same.dump");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* A write that fails half-way (the file size limit): -1, EFBIG, one
	 * line, the temporary file gone, the old dump untouched. */
	off_t size = st.st_size;
	struct rlimit old, small = {4096, 4096};
	getrlimit(RLIMIT_FSIZE, &old);
	small.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	void *many[2000];
	for (int i = 0; i < 2000; i++)
		many[i] = alloc(8); /* a dump larger than 4 KiB */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	errno = 0;
	assert_int_equal(da_dump_write(path, "api", err, sizeof(err)), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	char line[1024];
	snprintf(line, sizeof(line), "dbgalloc: cannot write the dump %s: %s",
	         path, strerror(EFBIG));
	assert_string_equal(err, line);
	assert_int_equal(files_in_dir(left, 8), 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, size);
	dump_read(&d, path);
	assert_string_equal(h_get(&d, "dump_seq"), want);
	dump_free(&d);
	for (int i = 0; i < 2000; i++)
		da_audit_free(many[i], DA_CALL());
	assert_int_equal(unlink(path), 0);
}

/* H options: the settings that differ from their defaults, the whole
 * percent-encoded once. */
static void
options(void **state)
{
	(void)state;
	char path[512], err[256];
	struct da_settings saved = da_settings;
	da_settings.leaks = DA_LEAKS_ALL;
	da_settings.stack_depth = 8;
	da_settings.limit = 1 << 20;
	snprintf(da_settings.dump, sizeof(da_settings.dump), "/t/x.%%p y");
	path_in_dir(path, sizeof(path), "options.dump");
	int rc = da_dump_write(path, "api", err, sizeof(err));
	da_settings = saved;
	assert_int_equal(rc, 0);
	struct dump d;
	dump_read(&d, path);
	assert_string_equal(h_get(&d, "options"),
	                    "DBGALLOC_LEAKS=all%20DBGALLOC_STACK_DEPTH=8%20"
	                    "DBGALLOC_LIMIT=1048576%20DBGALLOC_DUMP=/t/"
	                    "x.%25p%20y");
	dump_free(&d);

	/* Every path and text setting at its longest, all '%': the field
	 * stops at DA_DUMP_STR_MAX encoded bytes, between two escapes, and
	 * the line stays within 65,536 bytes (dump_read checks it). */
	char *fields[] = {da_settings.suppressions, da_settings.log,
	                  da_settings.fail_at,      da_settings.fail_rate,
	                  da_settings.fail_site,    da_settings.dump};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		memset(fields[i], '%', DA_SETTING_PATH_MAX - 1);
		fields[i][DA_SETTING_PATH_MAX - 1] = '\0';
	}
	rc = da_dump_write(path, "api", err, sizeof(err));
	da_settings = saved;
	assert_int_equal(rc, 0);
	dump_read(&d, path);
	const char *v = h_get(&d, "options");
	assert_int_equal(strlen(v), DA_DUMP_STR_MAX);
	assert_int_equal(strncmp(v, "DBGALLOC_SUPPRESSIONS=%25%25", 28), 0);
	assert_int_equal(strcmp(v + DA_DUMP_STR_MAX - 3, "%25"), 0);
	dump_free(&d);
	assert_int_equal(unlink(path), 0);
}

static void
bad_directory(void **state)
{
	(void)state;
	char err[256], path[512];
	snprintf(path, sizeof(path), "%s/no/such/dir/x.dump", dir);
	errno = 0;
	assert_int_equal(da_dump_write(path, "api", err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	char want[600];
	snprintf(want, sizeof(want),
	         "dbgalloc: cannot write the dump %s: No such file or "
	         "directory",
	         path);
	assert_string_equal(err, want);
	/* A name that is a directory: nothing to create. */
	snprintf(path, sizeof(path), "%s/", dir);
	assert_int_equal(da_dump_write(path, "api", err, sizeof(err)), -1);
	assert_int_equal(errno, EISDIR);
	/* A name too long, and err too short for the line: cut, ended. */
	char longname[6000];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(da_dump_write(longname, "api", err, 20), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(strlen(err), 19);
	char left[8][256];
	assert_int_equal(files_in_dir(left, 8), 0);
}

static double
seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A million live blocks of 16 bytes: the time to dump them, and the
 * bytes of the dump per block (printed; speed is not a test's verdict). */
#define MILLION 1000000
static void
million(void **state)
{
	(void)state;
	void **p = malloc(MILLION * sizeof(*p));
	char path[512], err[256];
	for (int i = 0; i < MILLION; i++)
		p[i] = alloc(16);
	path_in_dir(path, sizeof(path), "million.dump");
	double t0 = seconds();
	assert_int_equal(da_dump_write(path, "api", err, sizeof(err)), 0);
	double t = seconds() - t0;
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	struct dump d;
	dump_read(&d, path);
	assert_true(d.na >= MILLION);
	const struct blk *b = a_find(&d, p[MILLION / 2]);
	assert_non_null(b);
	assert_int_equal(b->size, 16);
	long x = x_find(&d, (uint64_t)b->stack);
	assert_true(x >= 0);
	assert_int_equal(d.xblocks[x], MILLION);
	assert_int_equal(d.xbytes[x], MILLION * 16);
	dump_free(&d);
	printf("dump of %zu live blocks: %.3f s, %lld bytes (%.1f bytes per "
	       "block)\n",
	       (size_t)MILLION, t, (long long)st.st_size,
	       (double)st.st_size / MILLION);
	assert_int_equal(unlink(path), 0);
	for (int i = 0; i < MILLION; i++)
		da_audit_free(p[i], DA_CALL());
	free(p);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/test_dump.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(crc32c_vectors),
	        cmocka_unit_test(names),
	        cmocka_unit_test(known_blocks),
	        cmocka_unit_test(atomic_publish),
	        cmocka_unit_test(options),
	        cmocka_unit_test(bad_directory),
	        cmocka_unit_test(million),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
