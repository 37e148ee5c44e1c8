/* The fixture of the virtio-net tests (test_net.c, test_net_hostile.c,
 * and with a real backend test_net_tap.c, test_net_slirp.c): the shared
 * virtio device fixture (tests/unit/virtio/vdev_fixture.h: receiveq 0,
 * transmitq 1) with the net model and a fake backend that records what it
 * is sent, plus the frames a driver sends and posts. */
#pragma once

#include <linux/virtio_net.h>

#include "net_model.h"

struct vfix;
#define VFIX_DEVICE_FIELDS                                                                         \
	struct net_model *m;                                                                       \
	/* the fake backend */                                                                     \
	uint8_t sent[NET_FRAME_MAX + 4096];                                                        \
	size_t sent_len;                                                                           \
	int sends, send_rc, rx_ready;                                                              \
	int (*on_send)(struct vfix * f); /* run inside send, if set */
#include "vdev_fixture.h"

#define NVECTORS 3 /* config, RX, TX */
#define F_MRG	 (1ull << VIRTIO_NET_F_MRG_RXBUF)
#define F_BASE	 (1ull << VPCI_F_VERSION_1 | 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS)
#define F_EVIDX	 (1ull << VPCI_F_EVENT_IDX)

static const uint8_t test_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static inline int be_send(void *be, const struct iovec *iov, int iovcnt, size_t len)
{
	struct vfix *f = be;
	size_t n = 0;

	for (int i = 0; i < iovcnt; i++) {
		if (n + iov[i].iov_len > sizeof(f->sent))
			abort();
		memcpy(f->sent + n, iov[i].iov_base, iov[i].iov_len);
		n += iov[i].iov_len;
	}
	if (n != len)
		abort(); /* the iov must add up to len */
	f->sent_len = n;
	f->sends++;
	if (f->on_send)
		return f->on_send(f);
	return f->send_rc;
}

static inline void be_rx_ready(void *be)
{
	((struct vfix *)be)->rx_ready++;
}

static const struct net_backend_ops test_be = {.send = be_send, .rx_ready = be_rx_ready};

/* The model, set up but no driver yet, behind the backend ops/be (the
 * fake one, or a real one: test_net_tap.c, test_net_slirp.c). */
static inline int setup_model_offloads(struct vfix *f, const struct net_backend_ops *ops, void *be,
				       uint64_t offloads)
{
	char err[128] = "";
	struct net_params p = {.be_ops = ops, .be = be, .offloads = offloads};

	vfix_init(f, NET_NUM_QUEUES, NVECTORS, &p.vdev);
	memcpy(p.mac, test_mac, sizeof(p.mac));
	if (net_model_create(&f->m, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "net_model_create: %s\n", err);
		return -1;
	}
	vfix_attach(f, net_model_vdev(f->m));
	return 0;
}

static inline int setup_model_be(struct vfix *f, const struct net_backend_ops *ops, void *be)
{
	return setup_model_offloads(f, ops, be, 0);
}

static inline int setup_model(struct vfix *f)
{
	return setup_model_be(f, &test_be, f);
}

static inline int setup(struct vfix *f, uint64_t features)
{
	if (setup_model(f) < 0)
		return -1;
	return driver_up(f, features);
}

static inline void teardown(struct vfix *f)
{
	net_model_destroy(f->m);
	vfix_fini(f);
}

/* Post one writable RX buffer of len bytes; returns its gpa. */
static inline uint64_t post_rx(struct vfix *f, uint32_t len, uint16_t *head)
{
	uint64_t gpa = alloc(f, len);
	struct seg s = {gpa, len, true};
	uint16_t h = offer(f, NET_RXQ, &s, 1);

	memset(ram_ptr(&f->ram, gpa), 0xee, len);
	if (head)
		*head = h;
	return gpa;
}

/* A frame with a recognisable pattern: dst MAC ours, src made up. */
static inline void make_frame(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed + i / 251);
	memcpy(p, test_mac, 6);
}

/* Put a TX header (flags, gso_type) and frame into guest RAM; returns gpa. */
static inline uint64_t tx_buf(struct vfix *f, const uint8_t *frame, size_t len, uint8_t flags,
			      uint8_t gso)
{
	uint64_t gpa = alloc(f, (uint32_t)(NET_HDR_LEN + len));
	uint8_t *p = ram_ptr(&f->ram, gpa);

	memset(p, 0, NET_HDR_LEN);
	p[0] = flags;
	p[1] = gso;
	memcpy(p + NET_HDR_LEN, frame, len);
	return gpa;
}

/* Send frame from the guest: header and frame in one buffer, kicked. */
static inline void guest_send(struct vfix *f, const uint8_t *frame, size_t len)
{
	struct seg s = {tx_buf(f, frame, len, 0, 0), (uint32_t)(NET_HDR_LEN + len), false};

	offer(f, NET_TXQ, &s, 1);
	kick(f, NET_TXQ);
}
