/* virtio-net TX chains: see net_tx.h. */
#include "net_tx.h"

#include <errno.h>
#include <stdint.h>

#include "net_model.h"

int net_tx_parse(const struct vq_chain *c, struct net_tx_frame *f)
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
	/* flags (NEEDS_CSUM, ...) and gso_type need offloads we do not offer
	 * (spec 5.1.6.2.1); num_buffers is ignored on TX */
	if (hdr[0] != 0 || hdr[1] != 0)
		return -EBADMSG;
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
