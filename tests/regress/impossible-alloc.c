/*
 * impossible-alloc.c — a request the machine cannot back must fail.
 *
 * malloc, calloc (both as one element and as many) and realloc of 30 GiB,
 * 100 GiB, 16 TiB and 64 TiB must return NULL with errno ENOMEM, and a
 * failed realloc must leave the old block alone, as glibc's malloc does.
 * A size is only tried when it exceeds the machine's RAM plus swap
 * (/proc/meminfo): on a bigger machine it could rightly succeed. The whole
 * test is skipped (exit 77) when the kernel never refuses memory
 * (vm.overcommit_memory = 1): glibc would then succeed too. Nothing is
 * touched, so a defective allocator that returns memory costs nothing.
 * Defect: huge requests were mapped with MAP_NORESERVE, which the
 * kernel's overcommit heuristic never refuses, so they all succeeded and
 * the program was OOM-killed later instead of handling ENOMEM.
 *
 *   impossible-alloc [--expect-dbgalloc]
 */

#include "tests/regress/regress.h"

static const struct {
	const char *name;
	size_t bytes;
} sizes[] = {
        {"30 GiB", (size_t)30 << 30},
        {"100 GiB", (size_t)100 << 30},
        {"16 TiB", (size_t)16 << 40},
        {"64 TiB", (size_t)64 << 40},
};

static int failures;

/* p came back from call for the named size: it must be NULL, ENOMEM. */
static void
expect_enomem(void *p, int err, const char *call, const char *name)
{
	if (p == NULL && err == ENOMEM) {
		printf("%s, n = %s: NULL, ENOMEM\n", call, name);
		return;
	}
	if (p == NULL)
		printf("FAIL: %s, n = %s: NULL, but errno %d (%s), not "
		       "ENOMEM\n",
		       call, name, err, strerror(err));
	else
		printf("FAIL: %s, n = %s: %p, not NULL\n", call, name, p);
	failures++;
	rg_free(p); /* never touched: costs no memory */
}

static int
overcommit_mode(void)
{
	char c = '0';
	int fd = open("/proc/sys/vm/overcommit_memory", O_RDONLY);

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '0';
		close(fd);
	}
	return c - '0';
}

int
main(int argc, char **argv)
{
	long ram_kib, swap_kib;
	size_t machine, i;
	char *old;
	void *p;
	int err, tried = 0;

	probe_start(&argc, argv);
	if (overcommit_mode() == 1) {
		printf("SKIP: vm.overcommit_memory = 1, the kernel grants any "
		       "size\n");
		return RG_SKIP;
	}
	ram_kib = rg_meminfo_kib("MemTotal");
	swap_kib = rg_meminfo_kib("SwapTotal");
	CHECK(ram_kib > 0 && swap_kib >= 0);
	machine = ((size_t)ram_kib + (size_t)swap_kib) << 10;
	printf("RAM + swap: %zu MiB\n", machine >> 20);

	old = rg_malloc(100);
	CHECK(old != NULL);
	if (old == NULL)
		return 1;
	memset(old, 0x77, 100);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i].bytes;

		if (n <= machine) {
			printf("%s: not more than RAM + swap, not tried\n",
			       sizes[i].name);
			continue;
		}
		tried++;
		errno = 0;
		p = rg_malloc(n);
		err = errno;
		expect_enomem(p, err, "malloc(n)", sizes[i].name);

		errno = 0;
		p = rg_calloc(1, n);
		err = errno;
		expect_enomem(p, err, "calloc(1, n)", sizes[i].name);

		errno = 0;
		p = rg_calloc(n >> 20, (size_t)1 << 20);
		err = errno;
		expect_enomem(p, err, "calloc(n / 1 MiB, 1 MiB)",
		              sizes[i].name);

		errno = 0;
		p = rg_realloc(old, n);
		err = errno;
		if (p != NULL)
			old = NULL; /* it moved: the old block is gone */
		expect_enomem(p, err, "realloc(p, n)", sizes[i].name);
		if (old == NULL) {
			old = rg_malloc(100);
			CHECK(old != NULL);
			if (old == NULL)
				return 1;
			memset(old, 0x77, 100);
		} else if (old[0] != 0x77 || old[99] != 0x77) {
			printf("FAIL: a failed realloc changed the block\n");
			failures++;
		}
	}
	rg_free(old);
	CHECK(tried > 0);
	printf("%d sizes tried, %d failures\n", tried, failures);
	return failures == 0 ? probe_status() : 1;
}
