/*
 * tests/fuzz/fuzz.h — the entry point a fuzzer calls (libFuzzer's name),
 * shared by the harness and the standalone driver that runs it without
 * libFuzzer, and what the harness counts for the driver's summary.
 */
#ifndef DA_TESTS_FUZZ_H
#define DA_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input; aborts when the code under test misbehaves. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Readings that succeeded, and that were refused, since the start. */
extern unsigned long fuzz_read_ok, fuzz_read_refused;

#endif
