/*
 * audit/header.h and audit/gen.h: a header holds what was written and
 * notices a write over any of its bytes; the free record likewise; the
 * poison sample is one generation in 64; generations count allocations
 * exactly in one thread, give a batch back at a mark, and the epochs
 * follow the marks.
 */
#include "audit/gen.h"
#include "audit/header.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static _Alignas(16) char block[256];

static void
header_roundtrip(void **state)
{
	(void)state;
	struct da_hdr_info i;
	da_hdr_write(block, 41, (UINT64_C(1) << 36) + 7, 0x1234567,
	             DA_KIND_NEW);
	assert_true(da_hdr_intact(block));
	da_hdr_unpack(block, &i);
	assert_int_equal(i.size, 41);
	assert_int_equal(i.gen, (UINT64_C(1) << 36) + 7);
	assert_int_equal(i.site, 0x1234567);
	assert_int_equal(i.kind, DA_KIND_NEW);
	assert_true(da_canary_intact(block + DA_HDR, 41));
	da_hdr_write(block, 200, 1, 1, DA_KIND_ALIGNED);
	assert_int_equal(da_hdr_size(block), 200);
	assert_int_equal(da_hdr_kind(block), DA_KIND_ALIGNED);
}

static void
header_notices_writes(void **state)
{
	(void)state;
	/* A change to any byte of the header is noticed, but for the
	 * check's 13 bits of hash: over all 16 bytes and 255 changes each,
	 * the expected number of misses is 4,080 / 8,192 = 0.5. */
	unsigned missed = 0;
	for (unsigned at = 0; at < DA_HDR; at++) {
		for (unsigned v = 1; v < 256; v++) {
			da_hdr_write(block, 41, 12345, 77, DA_KIND_MALLOC);
			block[at] ^= (char)v;
			missed += da_hdr_intact(block);
		}
	}
	assert_true(missed <= 3);
	/* A free-list link (a pointer, bits 50-63 zero) or zero in word 0
	 * never passes, whatever word 1 holds. */
	for (uint64_t w1 = 1; w1 < 100000; w1 += 7) {
		((struct da_hdr *)block)->w1 = w1 * 0x9e3779b97f4a7c15ull;
		((struct da_hdr *)block)->w0 = 0x7f0012345670ull + w1 * 16;
		assert_false(da_hdr_intact(block));
		((struct da_hdr *)block)->w0 = 0;
		assert_false(da_hdr_intact(block));
	}
	da_hdr_write(block, 41, 12345, 77, DA_KIND_MALLOC);
	block[DA_HDR + 41] = 'x'; /* one past the end */
	assert_false(da_canary_intact(block + DA_HDR, 41));
}

static void
record_roundtrip(void **state)
{
	(void)state;
	struct da_hdr_info i;
	uint64_t pc;
	da_hdr_write(block, 100, (UINT64_C(3) << 32) + 9, 4242, DA_KIND_MALLOC);
	da_rec_write(block, da_rec_of(((struct da_hdr *)block)->w0),
	             0x55550000abcdull);
	memset(block, 0x77, 8); /* the allocator's link takes word 0 */
	assert_true(da_rec_intact(block));
	da_rec_unpack(block, &i, &pc);
	assert_int_equal(i.size, 100);
	assert_int_equal(i.gen, (UINT64_C(3) << 32) + 9);
	assert_int_equal(i.site, 4242);
	assert_int_equal(pc, 0x55550000abcdull);
	block[DA_HDR + 3] ^= 1; /* a write after free over the record */
	assert_false(da_rec_intact(block));
}

/* A record whose pc carries DA_REC_WHOLE (poisoned whole) is whole, gives
 * the pc back without the mark, and the mark is covered by the check. */
static void
record_whole_mark(void **state)
{
	(void)state;
	struct da_hdr_info i;
	uint64_t pc;
	da_hdr_write(block, 100, 65, 4242, DA_KIND_MALLOC);
	da_rec_write(block, da_rec_of(((struct da_hdr *)block)->w0),
	             0x55550000abcdull | DA_REC_WHOLE);
	memset(block, 0x77, 8);
	assert_true(da_rec_intact(block));
	da_rec_unpack(block, &i, &pc);
	assert_int_equal(pc, 0x55550000abcdull);
	assert_int_equal(i.gen, 65);
	block[DA_HDR + 7] ^= 0x80; /* the mark cleared by a stray write */
	assert_false(da_rec_intact(block));
}

static void
poison_sample(void **state)
{
	(void)state;
	unsigned n = 0;
	for (uint64_t g = 1; g <= 64000; g++)
		n += da_poison_sampled(g);
	assert_in_range(n, 800, 1200); /* one in 64: 1,000 */
}

static void
generations(void **state)
{
	(void)state;
	uint64_t first = da_gen_next();
	for (unsigned k = 1; k < 1000; k++)
		assert_int_equal(da_gen_next(), first + k);
	/* A mark gives the batch back: numbering goes on without a gap,
	 * and the new epoch starts at the next number. */
	unsigned e = da_gen_mark("stage two");
	uint64_t next = da_gen_next();
	assert_int_equal(next, first + 1000);
	assert_int_equal(da_gen_epoch_of(next), e);
	assert_int_equal(da_gen_epoch_of(first), e - 1);
	assert_string_equal(da_gen_epoch_label(e), "stage two");
	assert_string_equal(da_gen_epoch_label(0), "start");
	assert_int_equal(da_gen_epoch_first(e), next);
	assert_int_equal(da_gen_epochs(), e + 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(header_roundtrip),
	        cmocka_unit_test(header_notices_writes),
	        cmocka_unit_test(record_roundtrip),
	        cmocka_unit_test(record_whole_mark),
	        cmocka_unit_test(poison_sample),
	        cmocka_unit_test(generations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
