/* virtio-net: the device model on the virtio device core. See net_model.h
 * for the threads and locks, net_datapath.c for the frames. */
#include "net_model.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"

#define NET_CLASS      0x020000 /* network controller, Ethernet */
#define NET_CONFIG_LEN 10	/* mac[6], status, max_virtqueue_pairs */

/* ---- the device ops ---------------------------------------------------------- */

/* DRIVER_OK (transport lock held): the core kicks both queues after. */
static void net_activate(void *dev, uint64_t features)
{
	struct net_model *m = dev;

	atomic_store(&m->mrg_rxbuf, (features >> VIRTIO_NET_F_MRG_RXBUF) & 1);
	atomic_store(&m->features, features);
	/* told from the loop's thread (net_notify), not under our lock */
	atomic_store(&m->features_news, true);
}

/* A kick, on the loop's thread: the backend hears of new features before
 * any queue is served for that driver. */
static void net_notify(void *dev, unsigned qi)
{
	struct net_model *m = dev;

	if (atomic_exchange(&m->features_news, false) && m->be_ops->features)
		m->be_ops->features(m->be, atomic_load(&m->features));
	if (qi == NET_TXQ)
		net_tx_kick(m);
	else
		net_rx_kick(m);
}

/* Reset, queue lock held. RX runs whole under its lock, so it is idle
 * once we hold it; a TX frame may be in the backend's send with the lock
 * dropped: report busy until it is back (the guest's buffers are in use).
 * rx_wanted stays set: a backend told -ENOBUFS keeps its frames (and the
 * tap stops reading) until rx_ready, which the kick at the next
 * DRIVER_OK brings; forgetting it here would stall RX for good. */
static int net_quiesce(void *dev, unsigned qi)
{
	struct net_model *m = dev;

	return qi == NET_TXQ && m->tx_sending;
}

static const struct vdev_ops net_vdev_ops = {
    .virtio_id = 1, /* VIRTIO_ID_NET */
    .class_code = NET_CLASS,
    .num_queues = NET_NUM_QUEUES,
    .queue_max = NET_QUEUE_MAX,
    .config_len = NET_CONFIG_LEN,
    .activate = net_activate,
    .notify = net_notify,
    .quiesce = net_quiesce,
    /* frames are pushed in the order they were popped: a successor
     * takes both queues back from the used ring */
    .in_order = true,
};

/* ---- set-up -------------------------------------------------------------- */

static int check_params(const struct net_params *p, char *err, size_t errlen)
{
	if (!p->be_ops || !p->be_ops->send) {
		snprintf(err, errlen, "virtio-net: no backend");
		return -EINVAL;
	}
	if ((p->offloads & ~NET_OFFLOADS_TAP) || (p->offloads && !p->be_ops->send_hdr)) {
		snprintf(err, errlen, "virtio-net: offloads the backend cannot take");
		return -EINVAL;
	}
	/* a multicast MAC (the group bit) is not an interface address */
	if (p->mac[0] & 1) {
		snprintf(err, errlen, "virtio-net: multicast MAC address");
		return -EINVAL;
	}
	return 0;
}

int net_model_create(struct net_model **out, const struct net_params *p, char *err, size_t errlen)
{
	struct net_model *m;
	int rc;

	rc = check_params(p, err, errlen);
	if (rc < 0)
		return rc;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->be_ops = p->be_ops;
	m->be = p->be;
	m->offloads = p->offloads;
	atomic_store(&m->link_up, !p->link_down);
	rc = vdev_create(&m->vd, &net_vdev_ops, m,
			 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
			     1ull << VIRTIO_NET_F_MRG_RXBUF | m->offloads,
			 &p->vdev, err, errlen);
	if (rc < 0) {
		free(m);
		return rc;
	}
	/* mac[6], status, max_virtqueue_pairs: only meaningful with MQ, which
	 * we do not offer; 1 is the truth anyway */
	vdev_config_set(m->vd, 0, p->mac, 6);
	vdev_config_put(m->vd, 6, 2, p->link_down ? 0 : VIRTIO_NET_S_LINK_UP);
	vdev_config_put(m->vd, 8, 2, 1);
	*out = m;
	return 0;
}

void net_model_destroy(struct net_model *m)
{
	if (!m)
		return;
	vdev_destroy(m->vd);
	free(m);
}

struct vdev *net_model_vdev(struct net_model *m)
{
	return m->vd;
}

void net_model_set_link(struct net_model *m, bool up)
{
	if (atomic_exchange(&m->link_up, up) == up)
		return;
	vdev_config_put(m->vd, 6, 2, up ? VIRTIO_NET_S_LINK_UP : 0);
	vdev_config_changed(m->vd);
}

void net_model_stats(struct net_model *m, struct net_stats *out)
{
	*out = (struct net_stats){
	    .tx_frames = atomic_load(&m->st.tx_frames),
	    .tx_bytes = atomic_load(&m->st.tx_bytes),
	    .tx_dropped_malformed = atomic_load(&m->st.tx_dropped_malformed),
	    .tx_dropped_backend = atomic_load(&m->st.tx_dropped_backend),
	    .rx_frames = atomic_load(&m->st.rx_frames),
	    .rx_bytes = atomic_load(&m->st.rx_bytes),
	    .rx_dropped_no_buffers = atomic_load(&m->st.rx_dropped_no_buffers),
	    .rx_dropped_too_big = atomic_load(&m->st.rx_dropped_too_big),
	    .rx_dropped_offload = atomic_load(&m->st.rx_dropped_offload),
	};
}
