/*
 * leak-stale — a lost block whose last copies are stale words on the
 * stack: in the frame of the program function that dropped it, and in
 * dbgalloc's frames of the malloc that made it, further down. Then another
 * chain of program calls, as deep, overwrites what the program left, and
 * at its bottom asks dbgalloc_leak_check for the verdict: the block must be
 * definitely lost. dbgalloc's frames of that call lie where malloc's lay;
 * the scan must not read them (audit/scanbound.h: it reads this thread's
 * stack from the entry point's frame up). Each trial moves malloc's frames
 * another 16 bytes down (alloca), so dbgalloc's frames meet malloc's
 * leftovers at every alignment, and frees the block after (the next
 * trial's block takes its place: dbgalloc's stale words of earlier trials
 * point to it too).
 *
 * Before each trial, main zeroes the stack below it: what ran there before
 * (start-up, the last trial's free) leaves words in the slots the chain's
 * frames never write (padding), words the scan rightly reads as the
 * program's, which would point to the block when it reuses a slot. Nothing
 * runs between the two chains, and the program is linked with -z now: the
 * dynamic loader's lazy binding, run there, would save registers that
 * malloc left holding the block's address onto that part of the stack.
 *
 * Linked with dbgalloc; the reports go to /dev/null. Prints each failed
 * trial, then "N passed, N failed".
 */
#include "shim/dbgalloc.h"

#include <alloca.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEPTH  12
#define TRIALS 64
#define SIZE   200 /* the lost block: a size nothing else has */
#define KEY    ((uintptr_t)0x5a5a5a5a5a5a5a5aull)

static uintptr_t lost; /* the lost block's address, disguised */
static struct dbgalloc_leaks verdict;

/*
 * The program's frames, of one shape for both calls: the leak (check 0)
 * and the check (check 1). At the bottom, the leak moves malloc's frames
 * shift bytes further down, and drops the block; the check calls the
 * report right under the same frame.
 */
__attribute__((noinline)) static void
chain(int n, int check, size_t shift)
{
	void *volatile frame[16];
	memset((void *)frame, 0, sizeof(frame));
	if (n > 0) {
		chain(n - 1, check, shift);
		return;
	}
	if (check) {
		verdict = dbgalloc_leak_check(0);
		return;
	}
	char *pad = alloca(shift + 16);
	__asm__ volatile("" : : "r"(pad) : "memory");
	frame[0] = malloc(SIZE);
	lost = (uintptr_t)frame[0] ^ KEY;
	/* returns with the only pointers left in frame[0] and malloc's
	 * frames */
}

/* Zeroes the stack below the caller's frame. */
__attribute__((noinline)) static void
scrub(void)
{
	volatile char buf[32768];
	memset((char *)buf, 0, sizeof(buf));
	__asm__ volatile("" : : "r"(buf) : "memory");
}

int
main(void)
{
	int passed = 0, failed = 0;
	int quiet = open("/dev/null", O_WRONLY);
	int saved = dup(2);
	if (quiet < 0 || saved < 0) {
		perror("leak-stale: /dev/null");
		return 1;
	}
	for (int t = 0; t < TRIALS; t++) {
		dup2(quiet, 2);
		scrub();
		chain(DEPTH, 0, (size_t)t * 16);
		chain(DEPTH, 1, 0);
		dup2(saved, 2);
		if (verdict.definite_blocks == 1 &&
		    verdict.definite_bytes == SIZE) {
			passed++;
		} else {
			failed++;
			printf("FAIL: trial %d (shift %d): %zu bytes in %zu "
			       "blocks definitely lost, want %d in 1\n",
			       t, t * 16, verdict.definite_bytes,
			       verdict.definite_blocks, SIZE);
		}
		free((void *)(lost ^ KEY));
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
