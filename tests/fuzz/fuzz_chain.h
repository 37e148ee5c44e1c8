/* For the libFuzzer targets that parse one descriptor chain (fuzz_blk.c,
 * fuzz_net_tx.c): the chain built from the input as vq_pop would hand it
 * over, in a fake guest RAM, and the check that a parsed iovec stays inside
 * the chain's buffers. An input entry is offset (le16), length (len_bytes
 * bytes, little-endian) and flags (bit 0 writable). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "virtqueue.h"

static inline bool fuzz_in_chain(const struct vq_chain *c, const struct iovec *v)
{
	for (unsigned i = 0; i < c->n; i++) {
		const uint8_t *b = c->e[i].ptr, *p = v->iov_base;
		if (p >= b && p + v->iov_len <= b + c->e[i].len)
			return true;
	}
	return false;
}

/* Up to n entries from *p (advanced past them) into *c, readable buffers
 * first, lengths cut at the end of ram. */
static inline void fuzz_build_chain(struct vq_chain *c, uint8_t *ram, uint32_t ram_size,
				    unsigned len_bytes, const uint8_t **p, const uint8_t *end,
				    unsigned n)
{
	unsigned size = 3 + len_bytes, nw = 0;
	struct vq_buf w[VQ_MAX_CHAIN];

	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < n && end - *p >= size; i++, *p += size) {
		uint32_t off = (*p)[0] | (*p)[1] << 8, len = 0;
		for (unsigned k = 0; k < len_bytes; k++)
			len |= (uint32_t)(*p)[2 + k] << (8 * k);
		if (off + len > ram_size)
			len = ram_size - off;
		struct vq_buf b = {
		    .ptr = ram + off, .gpa = off, .len = len, .writable = (*p)[size - 1] & 1};
		if (b.writable) {
			w[nw++] = b;
			c->in_bytes += len;
		} else {
			c->e[c->n_out++] = b;
			c->out_bytes += len;
		}
	}
	c->n = c->n_out;
	for (unsigned i = 0; i < nw; i++)
		c->e[c->n++] = w[i];
}

/* The rest of the input into ram from offset 0, the remainder zeroed. */
static inline void fuzz_fill_ram(uint8_t *ram, size_t ram_size, const uint8_t *p,
				 const uint8_t *end)
{
	size_t n = (size_t)(end - p) < ram_size ? (size_t)(end - p) : ram_size;

	memset(ram, 0, ram_size);
	memcpy(ram, p, n);
}
