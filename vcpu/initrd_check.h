/* A sanity check of an initrd before boot, so a truncated or damaged file
 * fails with one clear line instead of a kernel panic deep in the guest.
 * gzip members are inflated to their end (with zlib) and their trailer CRC
 * and size checked; a plain newc cpio must end with its TRAILER!!! entry.
 * Other formats (xz, zstd, lz4...) are passed through unchecked. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* NULL when the initrd looks whole, else a static string saying why not. */
const char *initrd_check(const uint8_t *buf, size_t len);
