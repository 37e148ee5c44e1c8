/* Little-endian field access, and the one bounds test that goes with it.
 *
 * Every multi-byte field of a bzImage, an ELF file, a zero page, an MP or
 * SMBIOS table, a virtio ring or header is little-endian and may sit at any
 * alignment in the caller's buffer, so we go through memcpy (which the
 * compiler turns into one load or store) instead of casting pointers.
 * Callers check bounds first (bytes_fit): the accessors do not. */
#pragma once

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t le16_get(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline uint32_t le32_get(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t le64_get(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline void le16_put(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void le32_put(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void le64_put(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

/* True when the n bytes at offset off fit inside a buffer of len bytes,
 * that is [off, off + n) within [0, len), without computing off + n (which
 * could wrap). n == 0 fits at any off up to len. */
static inline bool bytes_fit(uint64_t off, uint64_t n, uint64_t len)
{
	return off <= len && n <= len - off;
}
