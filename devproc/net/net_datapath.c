/* virtio-net frames: TX chains to the backend, frames from the backend into
 * RX buffers (spec 5.1.6). Locks as net_model.h says: a queue's lock only,
 * dropped around send and before every interrupt. */
#include <errno.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "net_int.h"

/* ---- TX ------------------------------------------------------------------ */

/* One popped chain (TX lock held; dropped around send). Returns true if
 * it was pushed. */
static bool tx_one(void *dev, struct vdev_queue *q, unsigned qi)
{
	struct net_model *m = dev;
	uint16_t head = q->chain.head;
	uint64_t gen = q->gen;
	int rc;

	if (net_tx_parse_hdr(&q->chain, &m->txf, atomic_load(&m->features) & m->offloads) < 0) {
		atomic_fetch_add(&m->st.tx_dropped_malformed, 1);
		return vq_push(&q->vq, head, 0) == 0;
	}
	/* send may block (a full tap) or call net_model_receive (slirp
	 * answers at once): it must not run under our lock */
	m->tx_sending = true;
	pthread_mutex_unlock(&q->lock);
	if (m->be_ops->send_hdr)
		rc = m->be_ops->send_hdr(m->be, m->txf.hdr, m->txf.iov, m->txf.iovcnt, m->txf.len);
	else
		rc = m->be_ops->send(m->be, m->txf.iov, m->txf.iovcnt, m->txf.len);
	pthread_mutex_lock(&q->lock);
	m->tx_sending = false;
	if (rc < 0) {
		atomic_fetch_add(&m->st.tx_dropped_backend, 1);
	} else {
		atomic_fetch_add(&m->st.tx_frames, 1);
		atomic_fetch_add(&m->st.tx_bytes, m->txf.len);
	}
	/* reset meanwhile: the chain is no longer ours to return */
	if (!q->ready || q->gen != gen)
		return false;
	return vq_push(&q->vq, head, 0) == 0;
}

/* While tx_sending, another thread is in tx_one with the lock dropped;
 * it drains the rest. */
static bool tx_may_pop(void *dev, struct vdev_queue *q, unsigned qi)
{
	return !((struct net_model *)dev)->tx_sending;
}

static const struct vdev_drain tx_drain = {.chain = tx_one, .may_pop = tx_may_pop};

/* Drain the TX queue (bounded: see vdev_drain). */
void net_tx_kick(struct net_model *m)
{
	vdev_drain(m->vd, NET_TXQ, &tx_drain);
}

/* ---- RX ------------------------------------------------------------------ */

/* The next RX chain: 1, 0 when there is none (the driver has then been
 * asked to kick us when it posts more), -EBADMSG on a broken queue.
 * Asking before giving up matters with EVENT_IDX: avail_event must name
 * the index the driver will post next, or it never kicks. */
static int rx_pop(struct vdev_queue *q, struct vq_chain *c)
{
	int r = vq_pop(&q->vq, c);

	if (r != 0)
		return r;
	vq_enable_notify(&q->vq);
	if (!vq_has_avail(&q->vq))
		return 0;
	return vq_pop(&q->vq, c);
}

/* Give back n chains popped but not used: vq_pop only advances
 * last_avail, so they are popped again, afresh, next time. */
static void rx_unpop(struct vdev_queue *q, unsigned n)
{
	q->vq.last_avail = (uint16_t)(q->vq.last_avail - n);
}

/* The header for the guest: the backend's offload fields (checked by
 * net_model_receive_hdr), or none (flags 0, gso_type NONE). */
static void rx_header(uint8_t *hdr, const uint8_t *in, uint16_t num_buffers)
{
	if (in)
		memcpy(hdr, in, NET_HDR_LEN);
	else
		memset(hdr, 0, NET_HDR_LEN);
	hdr[10] = (uint8_t)num_buffers;
	hdr[11] = (uint8_t)(num_buffers >> 8);
}

/* Without MRG_RXBUF the header and the frame go in one chain. */
static int rx_single(struct net_model *m, struct vdev_queue *q, const uint8_t *in_hdr,
		     const uint8_t *frame, size_t len)
{
	struct vq_chain *c = &m->rx_first;
	uint8_t hdr[NET_HDR_LEN];
	int r = rx_pop(q, c);

	if (r <= 0)
		return r == 0 ? -ENOBUFS : r;
	if (c->in_bytes < NET_HDR_LEN + len) {
		rx_unpop(q, 1); /* may still serve a smaller frame */
		return -EMSGSIZE;
	}
	rx_header(hdr, in_hdr, 1);
	vq_chain_write(c, 0, hdr, NET_HDR_LEN);
	vq_chain_write(c, NET_HDR_LEN, frame, len);
	return vq_push(&q->vq, c->head, (uint32_t)(NET_HDR_LEN + len));
}

/* With MRG_RXBUF: as many chains as it takes (spec 5.1.6.4), the header
 * in the first with their count. Nothing is pushed unless all of the
 * frame fits: a partial frame is never handed over. The frame is written
 * as we go; the header last, into the first chain, once the count is
 * known. */
static int rx_merge(struct net_model *m, struct vdev_queue *q, const uint8_t *in_hdr,
		    const uint8_t *frame, size_t len)
{
	uint64_t off = 0, total = NET_HDR_LEN + len; /* position in header + frame */
	uint8_t hdr[NET_HDR_LEN];
	unsigned n = 0;

	while (off < total) {
		struct vq_chain *c = n == 0 ? &m->rx_first : &q->chain;
		uint64_t take, skip;
		int r;

		if (n == NET_QUEUE_MAX || n == q->vq.size) {
			rx_unpop(q, n); /* a whole ring of tiny buffers */
			return -EMSGSIZE;
		}
		r = rx_pop(q, c);
		if (r <= 0) {
			rx_unpop(q, n);
			return r == 0 ? -ENOBUFS : r;
		}
		/* every buffer holds at least a header (spec 5.1.6.3.1): a
		 * first one that cannot is the driver's loss, returned empty */
		if (n == 0 && c->in_bytes < NET_HDR_LEN) {
			if (vq_push(&q->vq, c->head, 0) < 0)
				return -EBADMSG;
			continue;
		}
		take = total - off < c->in_bytes ? total - off : c->in_bytes;
		skip = n == 0 ? NET_HDR_LEN : 0;
		vq_chain_write(c, skip, frame + off + skip - NET_HDR_LEN, take - skip);
		m->rx_used[n++] = (struct net_rx_used){c->head, (uint32_t)take};
		off += take;
	}
	rx_header(hdr, in_hdr, (uint16_t)n);
	vq_chain_write(&m->rx_first, 0, hdr, NET_HDR_LEN);
	for (unsigned i = 0; i < n; i++)
		if (vq_push(&q->vq, m->rx_used[i].head, m->rx_used[i].len) < 0)
			return -EBADMSG;
	return 0;
}

/* The frame, into the guest (RX lock held). */
static int rx_fill(struct net_model *m, struct vdev_queue *q, const uint8_t *in_hdr,
		   const uint8_t *frame, size_t len)
{
	if (atomic_load(&m->mrg_rxbuf))
		return rx_merge(m, q, in_hdr, frame, len);
	return rx_single(m, q, in_hdr, frame, len);
}

/* May the guest get a frame with these offload fields? Only with what its
 * driver accepted (spec 5.1.6.4.1): a tap set up for an earlier driver,
 * or a frame already queued when offloads changed, may offer more. */
static bool rx_hdr_ok(const uint8_t *h, uint64_t features)
{
	uint8_t flags = h[0], gso = h[1];
	bool csum = (features >> VIRTIO_NET_F_GUEST_CSUM) & 1;

	if (flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	if (flags && !csum)
		return false;
	if ((gso & VIRTIO_NET_HDR_GSO_ECN) && !((features >> VIRTIO_NET_F_GUEST_ECN) & 1))
		return false;
	switch (gso & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return (features >> VIRTIO_NET_F_GUEST_TSO4) & 1;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return (features >> VIRTIO_NET_F_GUEST_TSO6) & 1;
	default:
		return false;
	}
}

int net_model_receive(struct net_model *m, const uint8_t *frame, size_t len)
{
	return net_model_receive_hdr(m, NULL, frame, len);
}

int net_model_receive_hdr(struct net_model *m, const uint8_t hdr[NET_HDR_LEN], const uint8_t *frame,
			  size_t len)
{
	struct vdev_queue *q = vdev_queue(m->vd, NET_RXQ);
	bool notify = false;
	int rc;

	if (len < NET_FRAME_MIN || len > NET_FRAME_MAX)
		return -EINVAL;
	pthread_mutex_lock(&q->lock);
	if (!q->ready || !vdev_live(m->vd) || !atomic_load(&m->link_up)) {
		pthread_mutex_unlock(&q->lock);
		return -ENETDOWN;
	}
	if (hdr && !rx_hdr_ok(hdr, atomic_load(&m->features) & m->offloads)) {
		pthread_mutex_unlock(&q->lock);
		atomic_fetch_add(&m->st.rx_dropped_offload, 1);
		return -EPROTO;
	}
	rc = rx_fill(m, q, hdr, frame, len);
	if (rc == 0)
		notify = vq_should_notify(&q->vq);
	else if (rc == -ENOBUFS)
		m->rx_wanted = true;
	pthread_mutex_unlock(&q->lock);

	if (rc == 0) {
		atomic_fetch_add(&m->st.rx_frames, 1);
		atomic_fetch_add(&m->st.rx_bytes, len);
	} else if (rc == -ENOBUFS) {
		atomic_fetch_add(&m->st.rx_dropped_no_buffers, 1);
	} else if (rc == -EMSGSIZE) {
		atomic_fetch_add(&m->st.rx_dropped_too_big, 1);
	} else if (rc == -EBADMSG) {
		vdev_set_needs_reset(m->vd);
		rc = -ENETDOWN;
	}
	if (notify)
		vdev_interrupt(m->vd, NET_RXQ);
	return rc;
}

/* The driver posted RX buffers: if a receive went without, tell the
 * backend to retry. Kicks that nobody waits for cost only this check. */
void net_rx_kick(struct net_model *m)
{
	struct vdev_queue *q = vdev_queue(m->vd, NET_RXQ);
	bool wake;

	pthread_mutex_lock(&q->lock);
	wake = m->rx_wanted && q->ready && vdev_live(m->vd);
	if (wake)
		m->rx_wanted = false;
	pthread_mutex_unlock(&q->lock);
	if (wake && m->be_ops->rx_ready)
		m->be_ops->rx_ready(m->be);
}
