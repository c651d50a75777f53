/*
 * audit/crc32c.h — CRC-32C (Castagnoli, reflected polynomial 0x82f63b78, as
 * iSCSI and ext4 use it), the checksum of a dump's trailer
 * (doc/dump-format.md). One file for the writer in the library and the
 * reader in tools/: it needs nothing of the allocator.
 */
#ifndef DA_AUDIT_CRC32C_H
#define DA_AUDIT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32C of p[0..n), continuing crc (0 to start):
 * da_crc32c(da_crc32c(0, a), b) is the CRC of a then b.
 * crc32c("123456789") = 0xe3069283. Async-signal-safe; no allocation. */
uint32_t da_crc32c(uint32_t crc, const void *p, size_t n);

/* The 256-entry table of single bytes (for the test that rebuilds it). */
const uint32_t *da_crc32c_table0(void);

#endif
