/* libFuzzer target: virtio-net TX chain parsing (devproc/net/net_tx.c) on
 * arbitrary descriptor chains. The input:
 *   byte 0: number of buffers n (mod VQ_MAX_CHAIN + 1)
 *   n * 6 bytes: offset (le16) and length (le24) in a 128 KiB guest RAM,
 *                flags (bit 0 writable); readable buffers are moved
 *                first, as vq_pop guarantees
 *   the rest: copied into guest RAM from offset 0 (headers, frames)
 * Invariants: a frame is accepted exactly when the chain is all readable,
 * holds a frame of NET_FRAME_MIN..NET_FRAME_MAX bytes and a header whose
 * offloads were negotiated (NEEDS_CSUM with CSUM and its field inside the
 * frame; TCP GSO with HOST_TSO4/6, NEEDS_CSUM and a segment size; ECN with
 * HOST_ECN); then its iov lies inside the chain's buffers, has no empty
 * entry, holds exactly the chain's bytes after the header, and f->hdr is
 * the header with num_buffers 0. */
#include <linux/virtio_net.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_chain.h"
#include "net_model.h"
#include "net_tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE 0x20000

static uint8_t ram[RAM_SIZE];
static uint8_t stream[NET_FRAME_MAX];
static struct vq_chain chain;
static struct net_tx_frame frame;

static uint64_t features_of(uint8_t b)
{
	return (b & 1 ? 1ull << VIRTIO_NET_F_CSUM : 0) |
	       (b & 2 ? 1ull << VIRTIO_NET_F_HOST_TSO4 : 0) |
	       (b & 4 ? 1ull << VIRTIO_NET_F_HOST_TSO6 : 0) |
	       (b & 8 ? 1ull << VIRTIO_NET_F_HOST_ECN : 0);
}

/* The rules of spec 5.1.6.2, written out once more as the oracle. */
static bool hdr_acceptable(const uint8_t *h, uint64_t frame, uint8_t neg)
{
	unsigned start = h[6] | h[7] << 8, off = h[8] | h[9] << 8, gso_size = h[4] | h[5] << 8;
	unsigned kind = h[1] & 0x7f;
	bool csum = h[0] == 1;

	if (h[0] > 1 || (csum && (!(neg & 1) || start + off + 2 > frame)))
		return false;
	if ((h[1] & 0x80) && (!(neg & 8) || kind == 0))
		return false;
	if (kind == 0)
		return true;
	if (!csum || !gso_size)
		return false;
	return (kind == 1 && (neg & 2)) || (kind == 4 && (neg & 4));
}

static bool acceptable(const struct vq_chain *c, uint8_t neg)
{
	uint8_t hdr[NET_HDR_LEN];

	if (c->n != c->n_out || c->out_bytes < NET_HDR_LEN)
		return false;
	if (c->out_bytes - NET_HDR_LEN < NET_FRAME_MIN ||
	    c->out_bytes - NET_HDR_LEN > NET_FRAME_MAX)
		return false;
	vq_chain_read(c, 0, hdr, sizeof(hdr));
	return hdr_acceptable(hdr, c->out_bytes - NET_HDR_LEN, neg);
}

static void check(const struct vq_chain *c, const struct net_tx_frame *f)
{
	uint8_t hdr[NET_HDR_LEN];
	size_t sum = 0;

	vq_chain_read(c, 0, hdr, sizeof(hdr));
	hdr[10] = hdr[11] = 0;
	if (memcmp(hdr, f->hdr, sizeof(hdr)))
		abort();
	if (f->len != c->out_bytes - NET_HDR_LEN || f->iovcnt < 1 || (unsigned)f->iovcnt > c->n)
		abort();
	if (vq_chain_read(c, NET_HDR_LEN, stream, f->len) != f->len)
		abort();
	for (int i = 0; i < f->iovcnt; i++) {
		if (!f->iov[i].iov_len || !fuzz_in_chain(c, &f->iov[i]))
			abort();
		if (memcmp(f->iov[i].iov_base, stream + sum, f->iov[i].iov_len))
			abort();
		sum += f->iov[i].iov_len;
	}
	if (sum != f->len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 2, *end = data + size;
	uint8_t neg;

	if (size < 2)
		return 0;
	neg = data[1] & 15;
	fuzz_build_chain(&chain, ram, RAM_SIZE, 3, &p, end, data[0] % (VQ_MAX_CHAIN + 1));
	fuzz_fill_ram(ram, sizeof(ram), p, end);

	int rc = net_tx_parse_hdr(&chain, &frame, features_of(neg));
	if ((rc == 0) != acceptable(&chain, neg))
		abort();
	if (rc == 0)
		check(&chain, &frame);
	return 0;
}
