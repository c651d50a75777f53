/*
 * tools/crc32c.h — CRC-32C (Castagnoli, reflected polynomial 0x82f63b78),
 * the checksum of a dump's trailer (doc/dump-format.md). Table-driven, one
 * byte per step. The check value of "123456789" is 0xe3069283.
 */
#ifndef DA_TOOLS_CRC32C_H
#define DA_TOOLS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Extends crc, the CRC-32C of some bytes, over n more. Start from 0: the
 * initial and final inversions are done inside, so calls chain.
 */
uint32_t da_crc32c(uint32_t crc, const void *buf, size_t n);

/* The CRC of each byte value alone; shared so a test can rebuild it. */
extern const uint32_t da_crc32c_table[256];

#endif
