/*
 * prodcons — cross-thread frees: one thread allocates, another frees.
 *
 *   prodcons [SCALE]   blocks = 4,000,000 × SCALE (default 1)
 *
 * The producer (main thread) mallocs blocks of 16–1024 bytes, writes a
 * value into each and pushes it into a single-producer single-consumer
 * ring; the consumer thread pops each block, adds the value to a checksum
 * and frees it. Every free is remote: the block was allocated by the other
 * thread. The ring is lock-free (C11 acquire/release, head and tail on their
 * own cache lines); a side that finds it full or empty spins briefly, then
 * yields, so the benchmark behaves on a busy two-core machine.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/common.h"

#define BLOCKS   4000000.0
#define RING     1024 /* a power of two */
#define MIN_SIZE 16
#define MAX_SIZE 1024
#define SPINS    64
#define LINE     64

struct ring {
	_Alignas(LINE) _Atomic uint64_t head; /* written by the producer */
	_Alignas(LINE) _Atomic uint64_t tail; /* written by the consumer */
	_Alignas(LINE) uint64_t *slot[RING];
};

static struct ring ring;
static uint64_t total;

static void
backoff(unsigned *spins)
{
	if (++*spins < SPINS)
		return;
	*spins = 0;
	sched_yield();
}

static void *
consumer(void *arg)
{
	uint64_t n = *(const uint64_t *)arg, tail = 0, sum = 0;

	while (tail < n) {
		uint64_t head =
		        atomic_load_explicit(&ring.head, memory_order_acquire);
		unsigned spins = 0;

		while (head == tail) {
			backoff(&spins);
			head = atomic_load_explicit(&ring.head,
			                            memory_order_acquire);
		}
		for (; tail < head; tail++) {
			uint64_t *p = ring.slot[tail & (RING - 1)];

			sum += p[0];
			free(p);
		}
		atomic_store_explicit(&ring.tail, tail, memory_order_release);
	}
	total = sum;
	return NULL;
}

int
main(int argc, char **argv)
{
	uint64_t n = (uint64_t)(BLOCKS * bench_scale("prodcons", argc, argv));
	uint64_t state = 0x2545f4914f6cdd1dULL, head = 0;
	pthread_t thread;
	int err;

	err = pthread_create(&thread, NULL, consumer, &n);
	if (err != 0) {
		fprintf(stderr, "prodcons: pthread_create failed (%d)\n", err);
		return 1;
	}
	while (head < n) {
		uint64_t tail =
		        atomic_load_explicit(&ring.tail, memory_order_acquire);
		unsigned spins = 0;

		while (head - tail == RING) {
			backoff(&spins);
			tail = atomic_load_explicit(&ring.tail,
			                            memory_order_acquire);
		}
		for (; head - tail < RING && head < n; head++) {
			uint64_t r = xorshift64(&state);
			uint64_t *p = malloc(MIN_SIZE +
			                     below(r, MAX_SIZE - MIN_SIZE + 1));

			if (p == NULL) {
				fputs("prodcons: out of memory\n", stderr);
				exit(1);
			}
			p[0] = r & 0xffff;
			ring.slot[head & (RING - 1)] = p;
			/* Publish in small batches: one store per block would
			 * make the ring's cache line, not malloc, the cost. */
			if ((head & 15) == 15)
				atomic_store_explicit(&ring.head, head + 1,
				                      memory_order_release);
		}
		atomic_store_explicit(&ring.head, head, memory_order_release);
	}
	pthread_join(thread, NULL);
	printf("prodcons %llu blocks checksum %llu\n", (unsigned long long)n,
	       (unsigned long long)total);
	return 0;
}
