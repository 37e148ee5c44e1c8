/* virtio-net TX chains: see net_tx.h. */
#include "net_tx.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <stdint.h>
#include <string.h>

#include "net_model.h"

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static bool has(uint64_t features, unsigned bit)
{
	return (features >> bit) & 1;
}

/* The header's offload requests, against what was negotiated (spec
 * 5.1.6.2). The kernel checks a tap's headers again; checking here keeps a
 * hostile guest's garbage away from the host's GSO code altogether. */
static bool hdr_ok(const uint8_t *h, uint64_t frame, uint64_t features)
{
	uint8_t flags = h[0], gso = h[1];
	uint16_t gso_size = le16(h + 4), csum_start = le16(h + 6), csum_offset = le16(h + 8);
	bool csum = flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;

	if (flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false; /* DATA_VALID is for RX; RSC_INFO is not ours */
	if (csum && (!has(features, VIRTIO_NET_F_CSUM) ||
		     (uint64_t)csum_start + csum_offset + 2 > frame))
		return false;
	if ((gso & VIRTIO_NET_HDR_GSO_ECN) && !has(features, VIRTIO_NET_F_HOST_ECN))
		return false;
	switch (gso & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return !(gso & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return has(features, VIRTIO_NET_F_HOST_TSO4) && csum && gso_size;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return has(features, VIRTIO_NET_F_HOST_TSO6) && csum && gso_size;
	default:
		return false;
	}
}

int net_tx_parse(const struct vq_chain *c, struct net_tx_frame *f)
{
	return net_tx_parse_hdr(c, f, 0);
}

int net_tx_parse_hdr(const struct vq_chain *c, struct net_tx_frame *f, uint64_t features)
{
	uint8_t hdr[NET_HDR_LEN];
	uint64_t skip = NET_HDR_LEN, frame;

	/* a TX chain is all device-readable (spec 5.1.6.2): a writable
	 * buffer means a confused or hostile driver */
	if (c->n != c->n_out || c->out_bytes < NET_HDR_LEN)
		return -EBADMSG;
	frame = c->out_bytes - NET_HDR_LEN;
	if (frame < NET_FRAME_MIN || frame > NET_FRAME_MAX)
		return -EBADMSG;
	/* checked on a copy: the guest can rewrite its buffers at any time */
	if (vq_chain_read(c, 0, hdr, sizeof(hdr)) != sizeof(hdr))
		return -EBADMSG;
	if (!hdr_ok(hdr, frame, features))
		return -EBADMSG;
	memcpy(f->hdr, hdr, sizeof(f->hdr));
	f->hdr[10] = f->hdr[11] = 0; /* num_buffers: meaningless on TX */
	f->iovcnt = 0;
	f->len = (size_t)frame;
	for (unsigned i = 0; i < c->n; i++) {
		const struct vq_buf *b = &c->e[i];

		if (skip >= b->len) {
			skip -= b->len;
			continue;
		}
		f->iov[f->iovcnt++] = (struct iovec){
		    .iov_base = (uint8_t *)b->ptr + skip,
		    .iov_len = b->len - skip,
		};
		skip = 0;
	}
	return 0;
}
