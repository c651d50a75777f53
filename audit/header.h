/*
 * audit/header.h — the 16 bytes audit keeps before every block it hands
 * out, the canary after it, and what a free leaves in it.
 *
 * A live block (alloc's block, 16-aligned, of at least 16 + size + 8 bytes):
 *
 *   alloc's block start                        pointer the program holds, p
 *   |                                          |
 *   v                                          v
 *   +--------------------+--------------------+----------------+--------+------+
 *   | word 0             | word 1             | size bytes     | canary | rest |
 *   +--------------------+--------------------+----------------+--------+------+
 *     0 ........... 63     0 ........... 63                      8 bytes
 *
 *   word 0:  bits  0-39  size the program asked for (DA_HDR_SIZE_MAX: at
 *                        least that; the exact size is then alloc's)
 *            bits 40-47  generation, bits 32-39
 *            bits 48-49  kind: enum da_kind (the entry point family)
 *            bits 50-63  check: a hash of both words and the address
 *                        (odd: a free-list link never passes for it)
 *   word 1:  bits  0-31  call-site id (audit/depot.h)
 *            bits 32-63  generation, bits 0-31
 *
 * The canary is DA_CANARY, 8 bytes right after the size bytes (unaligned),
 * checked at free, at realloc and for every live block at exit. A write
 * just before p lands in word 1, which the check covers.
 *
 * Freed, alloc's free-list link takes word 0; word 1 stays. The first 16
 * bytes at p become the free record, and the next ones the poison:
 *
 *   +--------------------+--------------------+--------------------+---------------
 *   | link (alloc's)     | word 1 (as it was) | pc of the free     | rec: size:40 |
 *   |                    |                    |                    | gen hi:8     |
 *   |                    |                    |                    | check:16     |
 *   +--------------------+--------------------+--------------------+---------------
 *   then DA_POISON bytes: 16 of them (bounded), or to the block's end (full,
 *   and one freed block in DA_POISON_SAMPLE under bounded).
 *
 * The pc's bit 63 (DA_REC_WHOLE; user-space code lies below 2^47) says the
 * block was poisoned to its end, so that the next allocation's fast check,
 * which reads the pc for the record's check anyway, leaves such a block to
 * the slow one without working out whether its generation was sampled.
 *
 * The record's check covers word 1, the pc and the record, so a write over
 * any of them, as over the poison, is found when the block is next handed
 * out (or at exit). A write over the link is found by alloc before it
 * follows it (enum da_prev).
 *
 * The block's state (live or freed) is not here but in alloc's live map,
 * one byte per 16 bytes of slab. A state byte in the header would take the
 * live map's place instruction for instruction (one store at malloc, one
 * load and store at free), but the header lies in memory the
 * program can overwrite, so an underflow could forge "live" and turn a
 * double free into a corrupted free list; the live map lies in metadata no
 * block touches. The header's check then catches the underflow itself.
 */
#ifndef DA_AUDIT_HEADER_H
#define DA_AUDIT_HEADER_H

#include "alloc/config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#define DA_HDR       16 /* bytes before p */
#define DA_CANARY_SZ 8  /* bytes after p + size */
/* What audit asks alloc for beyond the program's size. */
#define DA_HDR_EXTRA (DA_HDR + DA_CANARY_SZ)

#define DA_CANARY        0x5ac3a5db5ac3a5dbull
#define DA_POISON        0xdf
#define DA_POISON64      0xdfdfdfdfdfdfdfdfull
#define DA_POISON_HEAD   16 /* poison bytes after the free record */
#define DA_POISON_SAMPLE 64 /* one freed block in this many: all of it */
#define DA_FREE_RECORD   16 /* the pc of the free and the record */
#define DA_REC_WHOLE     (UINT64_C(1) << 63) /* in the pc: poisoned whole */

#define DA_HDR_SIZE_MAX ((UINT64_C(1) << 40) - 1)
#define DA_GEN_MAX      ((UINT64_C(1) << 40) - 1)

/* The entry point families, which must match at release. */
enum da_kind {
	DA_KIND_MALLOC = 0,  /* malloc, calloc, realloc, strdup, ... */
	DA_KIND_NEW = 1,     /* operator new */
	DA_KIND_NEW_ARR = 2, /* operator new[] */
	DA_KIND_ALIGNED = 3, /* aligned_alloc, posix_memalign, memalign, ... */
};

struct da_hdr {
	uint64_t w0;
	uint64_t w1;
};

/* A header's fields, unpacked. */
struct da_hdr_info {
	uint64_t size;
	uint64_t gen;
	uint32_t site;
	unsigned kind;
};

/* Never 0: word 0 of a freed block is alloc's free-list link, a pointer
 * (or NULL) whose bits 50-63 are 0, so no link ever reads as a whole
 * header, whatever the hash of the rest. */
DA_INLINE uint64_t
da_hdr_check(uint64_t w0, uint64_t w1, const void *blk)
{
	uint64_t x = (w0 & ((UINT64_C(1) << 50) - 1)) ^
	             ((w1 << 17) | (w1 >> 47)) ^ (uintptr_t)blk;
	return ((x * UINT64_C(0x9e3779b97f4a7c15)) >> 50) | 1;
}

/* Writes the header of blk (alloc's block start), without a canary: a
 * guarded block has its guard page there (audit/guarded.h). */
DA_INLINE void
da_hdr_write_words(void *blk, uint64_t size, uint64_t gen, uint32_t site,
                   unsigned kind)
{
	struct da_hdr *h = (struct da_hdr *)blk;
	uint64_t s = size < DA_HDR_SIZE_MAX ? size : DA_HDR_SIZE_MAX;
	uint64_t w1 = (uint64_t)site | (gen << 32);
	uint64_t w0 = s | ((gen >> 32) & 0xff) << 40 | (uint64_t)kind << 48;
	h->w1 = w1;
	h->w0 = w0 | da_hdr_check(w0, w1, blk) << 50;
}

/* Writes the header of blk (alloc's block start) and the canary. */
DA_INLINE void
da_hdr_write(void *blk, uint64_t size, uint64_t gen, uint32_t site,
             unsigned kind)
{
	uint64_t c = DA_CANARY;
	/* The canary first: a thread stopped (or a process forked) between
	 * the stores leaves a header that is broken, or whole with its
	 * canary in place, never a whole header without its canary. */
	memcpy((char *)blk + DA_HDR + size, &c, sizeof(c));
	atomic_signal_fence(memory_order_seq_cst);
	da_hdr_write_words(blk, size, gen, site, kind);
}

/* 1 if blk's header is whole (its check matches). */
DA_INLINE int
da_hdr_intact(const void *blk)
{
	const struct da_hdr *h = (const struct da_hdr *)blk;
	return (h->w0 >> 50) == da_hdr_check(h->w0, h->w1, blk);
}

DA_INLINE void
da_hdr_unpack(const void *blk, struct da_hdr_info *i)
{
	const struct da_hdr *h = (const struct da_hdr *)blk;
	i->size = h->w0 & DA_HDR_SIZE_MAX;
	i->gen = (h->w1 >> 32) | ((h->w0 >> 40) & 0xff) << 32;
	i->site = (uint32_t)h->w1;
	i->kind = (unsigned)(h->w0 >> 48) & 3;
}

DA_INLINE uint64_t
da_hdr_size(const void *blk)
{
	return ((const struct da_hdr *)blk)->w0 & DA_HDR_SIZE_MAX;
}

DA_INLINE uint32_t
da_hdr_site(const void *blk)
{
	return (uint32_t)((const struct da_hdr *)blk)->w1;
}

/* Bits 0-31 of the generation (word 1's high half, which a free keeps). */
DA_INLINE uint32_t
da_hdr_gen_lo(const void *blk)
{
	uint32_t g;
	memcpy(&g, (const char *)blk + 12, sizeof(g));
	return g;
}

DA_INLINE unsigned
da_hdr_kind(const void *blk)
{
	return (unsigned)(((const struct da_hdr *)blk)->w0 >> 48) & 3;
}

/* 1 if the canary after size bytes at p is whole. */
DA_INLINE int
da_canary_intact(const void *p, uint64_t size)
{
	uint64_t c;
	memcpy(&c, (const char *)p + size, sizeof(c));
	return c == DA_CANARY;
}

/* The generation bits 0-31 in word 1 survive a free; bits 32-39 go to the
 * free record. */
DA_INLINE uint64_t
da_rec_check(uint64_t pc, uint64_t rec, uint64_t w1, const void *blk)
{
	uint64_t x = (pc ^ ((rec << 23) | (rec >> 41)) ^ w1 ^ (uintptr_t)blk) *
	             UINT64_C(0xd6e8feb86659fd93);
	return x >> 48;
}

/* What of word 0 the free record keeps: the size and generation bits. */
DA_INLINE uint64_t
da_rec_of(uint64_t w0)
{
	return w0 & ((UINT64_C(1) << 48) - 1);
}

/* Writes the free record of block blk (p = blk + 16): rec (da_rec_of its
 * word 0, read before the free) and the pc of the free. */
DA_INLINE void
da_rec_write(void *blk, uint64_t rec, uint64_t pc)
{
	struct da_hdr *h = (struct da_hdr *)blk;
	uint64_t *u = (uint64_t *)((char *)blk + DA_HDR);
	u[0] = pc;
	u[1] = rec | da_rec_check(pc, rec, h->w1, blk) << 48;
}

/* 1 if the free record of the freed block blk is whole. */
DA_INLINE int
da_rec_intact(const void *blk)
{
	const struct da_hdr *h = (const struct da_hdr *)blk;
	const uint64_t *u = (const uint64_t *)((const char *)blk + DA_HDR);
	uint64_t rec = u[1] & ((UINT64_C(1) << 48) - 1);
	return (u[1] >> 48) == da_rec_check(u[0], rec, h->w1, blk);
}

/* What a freed block's header and record say (only meaningful when the
 * record is intact). */
DA_INLINE void
da_rec_unpack(const void *blk, struct da_hdr_info *i, uint64_t *free_pc)
{
	const struct da_hdr *h = (const struct da_hdr *)blk;
	const uint64_t *u = (const uint64_t *)((const char *)blk + DA_HDR);
	i->size = u[1] & DA_HDR_SIZE_MAX;
	i->gen = (h->w1 >> 32) | ((u[1] >> 40) & 0xff) << 32;
	i->site = (uint32_t)h->w1;
	i->kind = DA_KIND_MALLOC;
	*free_pc = u[0] & ~DA_REC_WHOLE;
}

/*
 * 1 if the freed block of generation gen is poisoned whole under the
 * bounded mode: one in DA_POISON_SAMPLE, chosen by its generation, so the
 * same blocks are chosen in every run of a program. Exactly one number of
 * each run of 64 (aligned) is chosen, at a place that moves from run to
 * run (bits 0-5 equal to bits 6-11), so a program whose allocations
 * repeat with any period has every one of them chosen in turn. The same
 * blocks are the samples of lifetimes (audit/sitestats.h). Only the low 12
 * bits of gen matter.
 */
DA_INLINE int
da_poison_sampled(uint64_t gen)
{
	return ((gen ^ (gen >> 6)) & (DA_POISON_SAMPLE - 1)) == 0;
}

/* Of those, the blocks whose allocation time is noted (after the canary:
 * sitestats.h), one in DA_LIFE_STAMP: those of one run of 64 in
 * DA_LIFE_STAMP / DA_POISON_SAMPLE, chosen by a multiplicative hash of the
 * run's number (not by its low bits, which would choose the same place
 * modulo 4 in every run: a program that allocates two blocks a loop would
 * have only one of them chosen). Only the low 32 bits of gen matter, as
 * for da_poison_sampled. */
#define DA_LIFE_STAMP 256

DA_INLINE int
da_life_run_chosen(uint64_t run)
{
	uint32_t h = ((uint32_t)run & 0x3ffffffu) * 0x9e3779b9u;
	return h < UINT32_MAX / (DA_LIFE_STAMP / DA_POISON_SAMPLE) + 1;
}

DA_INLINE int
da_life_stamped(uint64_t gen)
{
	return da_poison_sampled(gen) && da_life_run_chosen(gen >> 6);
}

/* The first generation from from on that da_life_stamped chooses (a few
 * runs looked at: a hash of golden-ratio steps leaves no long gap). */
DA_INLINE uint64_t
da_life_next_stamp(uint64_t from)
{
	uint64_t run = from >> 6;
	if ((run << 6 | (run & 63)) < from)
		run++;
	while (!da_life_run_chosen(run))
		run++;
	return run << 6 | (run & 63);
}

/* The note of a stamped block's allocation time, 8 bytes after its
 * canary: the time in microseconds (CLOCK_MONOTONIC) above a 16-bit check
 * of the time, the generation and the address, so that a block without a
 * note is told apart (but for one in 65,536). */
DA_INLINE uint64_t
da_life_note_check(uint64_t us, uint64_t gen, const void *blk)
{
	uint64_t x = (us ^ (gen << 20) ^ (uintptr_t)blk) *
	             UINT64_C(0xd6e8feb86659fd93);
	return x >> 48;
}

#endif /* DA_AUDIT_HEADER_H */
