/* virtio-net: the device model behind the virtio-pci transport. See
 * net_model.h for the threads and locks, net_datapath.c for the frames. */
#include "net_model.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_int.h"

#define NET_CLASS      0x020000 /* network controller, Ethernet */
#define NET_CONFIG_LEN 10	/* mac[6], status, max_virtqueue_pairs */

void net_kick_later(struct net_model *m, unsigned qi)
{
	uint64_t one = 1;

	/* the notify eventfd: the main loop comes back to this queue */
	if (write(m->q[qi].notify_fd, &one, sizeof(one)) < 0)
		return; /* full (2^64 - 2 kicks pending): it fires anyway */
}

/* ---- the virtio-pci device ops (transport lock held) ---------------------- */

static void net_config_read(void *model, uint32_t off, unsigned size, uint64_t *data)
{
	struct net_model *m = model;
	uint8_t cfg[NET_CONFIG_LEN] = {0};

	memcpy(cfg, m->mac, sizeof(m->mac));
	cfg[6] = atomic_load(&m->link_up) ? VIRTIO_NET_S_LINK_UP : 0;
	/* max_virtqueue_pairs is only meaningful with MQ, which we do not
	 * offer; 1 is the truth anyway */
	cfg[8] = 1;
	*data = vpci_config_bytes(cfg, off, size);
}

static int net_queue_enable(void *model, unsigned qi, const struct vpci_queue_cfg *cfg)
{
	struct net_model *m = model;
	struct net_queue *q = &m->q[qi];
	int rc;

	pthread_mutex_lock(&q->lock);
	rc =
	    vq_init(&q->vq, m->mem, cfg->size, cfg->desc, cfg->driver, cfg->device, cfg->event_idx);
	q->ready = rc == 0;
	q->gen++;
	pthread_mutex_unlock(&q->lock);
	return rc;
}

static void net_queue_notify(void *model, unsigned qi)
{
	struct net_model *m = model;

	net_kick_later(m, qi);
}

/* Buffers made available before DRIVER_OK wait until now (spec 3.1.1). */
static void net_driver_ok(void *model, uint64_t features)
{
	struct net_model *m = model;

	atomic_store(&m->mrg_rxbuf, (features >> VIRTIO_NET_F_MRG_RXBUF) & 1);
	atomic_store(&m->features, features);
	/* told from the loop's thread (net_model_ready), not under our lock */
	atomic_store(&m->features_news, true);
	atomic_store(&m->live, true);
	for (unsigned i = 0; i < NET_NUM_QUEUES; i++)
		net_kick_later(m, i);
}

/* Stop both queues. RX runs whole under its lock, so it is idle once we
 * hold it; a TX frame may be in the backend's send with the lock dropped:
 * report busy until it is back (the guest's buffers are in use).
 * rx_wanted stays set: a backend told -ENOBUFS keeps its frames (and the
 * tap stops reading) until rx_ready, which the kick at the next
 * DRIVER_OK brings; forgetting it here would stall RX for good. */
static int net_reset(void *model)
{
	struct net_model *m = model;
	int busy = 0;

	atomic_store(&m->live, false);
	for (unsigned i = 0; i < NET_NUM_QUEUES; i++) {
		struct net_queue *q = &m->q[i];

		pthread_mutex_lock(&q->lock);
		q->ready = false;
		q->gen++;
		if (i == NET_TXQ)
			busy = m->tx_sending;
		pthread_mutex_unlock(&q->lock);
	}
	return busy;
}

static const struct vpci_ops net_vpci_ops = {
    .config_read = net_config_read,
    .queue_enable = net_queue_enable,
    .queue_notify = net_queue_notify,
    .driver_ok = net_driver_ok,
    .reset = net_reset,
};

/* ---- set-up -------------------------------------------------------------- */

static int transport_init(struct net_model *m, const struct net_params *p)
{
	struct vpci_params vp = {
	    .ops = &net_vpci_ops,
	    .model = m,
	    .virtio_id = 1, /* VIRTIO_ID_NET */
	    .class_code = NET_CLASS,
	    .features = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
			1ull << VIRTIO_NET_F_MRG_RXBUF | m->offloads,
	    .num_queues = NET_NUM_QUEUES,
	    .queue_max = NET_QUEUE_MAX,
	    .config_len = NET_CONFIG_LEN,
	    .bar0_gpa = p->bar0_gpa,
	    .irq_fds = p->irq_fds,
	    .nvectors = p->nvectors,
	};

	return vpci_create(&m->vpci, &vp);
}

static int check_params(const struct net_params *p, char *err, size_t errlen)
{
	if (p->nqueues != NET_NUM_QUEUES || !p->notify_fds || !p->mem) {
		snprintf(err, errlen, "virtio-net: %u queue notifiers (expected %u) or no memory",
			 p->nqueues, NET_NUM_QUEUES);
		return -EINVAL;
	}
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
	m->mem = p->mem;
	m->be_ops = p->be_ops;
	m->be = p->be;
	m->offloads = p->offloads;
	memcpy(m->mac, p->mac, sizeof(m->mac));
	atomic_store(&m->link_up, !p->link_down);
	for (unsigned i = 0; i < NET_NUM_QUEUES; i++) {
		pthread_mutex_init(&m->q[i].lock, NULL);
		m->q[i].notify_fd = p->notify_fds[i];
	}
	rc = transport_init(m, p);
	if (rc < 0) {
		snprintf(err, errlen, "virtio-pci transport: %s", strerror(-rc));
		net_model_destroy(m);
		return rc;
	}
	*out = m;
	return 0;
}

void net_model_destroy(struct net_model *m)
{
	if (!m)
		return;
	vpci_destroy(m->vpci);
	for (unsigned i = 0; i < NET_NUM_QUEUES; i++)
		pthread_mutex_destroy(&m->q[i].lock);
	free(m);
}

/* ---- the main loop's entry points ---------------------------------------- */

void net_model_io(struct net_model *m, unsigned space, uint64_t addr, unsigned size, bool is_write,
		  uint64_t *data)
{
	vpci_io(m->vpci, space, addr, size, is_write, data);
}

int net_model_fds(struct net_model *m, struct pollfd *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NET_NUM_QUEUES && n < max; i++)
		out[n++] = (struct pollfd){.fd = m->q[i].notify_fd, .events = POLLIN};
	return (int)n;
}

void net_model_ready(struct net_model *m, int fd)
{
	if (atomic_exchange(&m->features_news, false) && m->be_ops->features)
		m->be_ops->features(m->be, atomic_load(&m->features));
	for (unsigned i = 0; i < NET_NUM_QUEUES; i++) {
		uint64_t v;

		if (m->q[i].notify_fd != fd)
			continue;
		/* clear the eventfd first: a kick after this read is not lost */
		if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return;
		if (i == NET_TXQ)
			net_tx_kick(m);
		else
			net_rx_kick(m);
	}
}

void net_model_set_link(struct net_model *m, bool up)
{
	if (atomic_exchange(&m->link_up, up) != up)
		vpci_config_changed(m->vpci);
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
