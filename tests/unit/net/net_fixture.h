/* The fixture of the virtio-net tests (test_net.c, test_net_hostile.c,
 * and with a real backend test_net_tap.c, test_net_slirp.c): the model
 * behind the real virtio-pci transport, a fake guest RAM with two split
 * rings (receiveq 0, transmitq 1), and a fake backend that records what it
 * is sent. The test plays the guest driver (registers through vpci_drv.h,
 * rings here) and moat-net's main loop (it kicks the model through the
 * queues' notify eventfds). */
#pragma once

#include <errno.h>
#include <linux/virtio_net.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "net_model.h"
#include "tap.h"
#include "vpci_drv.h"

#define QSIZE	 256
#define F_NEXT	 1
#define F_WRITE	 2
#define NVECTORS 3 /* config, RX, TX */
#define F_MRG	 (1ull << VIRTIO_NET_F_MRG_RXBUF)
#define F_BASE	 (1ull << VPCI_F_VERSION_1 | 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS)
#define F_EVIDX	 (1ull << VPCI_F_EVENT_IDX)

static const uint8_t test_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* A driver-side split ring (spec 2.7) in the fake RAM. */
struct vring {
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen, next_desc;
};

struct nfix {
	struct ram ram;
	struct vring r[NET_NUM_QUEUES];
	int notify[NET_NUM_QUEUES], irq[NVECTORS];
	struct net_model *m;
	struct drv drv;
	uint64_t next_data;
	/* the fake backend */
	uint8_t sent[NET_FRAME_MAX + 4096];
	size_t sent_len;
	int sends, send_rc, rx_ready;
	int (*on_send)(struct nfix *f); /* run inside send, if set */
};

static inline int be_send(void *be, const struct iovec *iov, int iovcnt, size_t len)
{
	struct nfix *f = be;
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
	((struct nfix *)be)->rx_ready++;
}

static const struct net_backend_ops test_be = {.send = be_send, .rx_ready = be_rx_ready};

static inline void io(void *dev, unsigned space, uint64_t addr, unsigned size, bool is_write,
		      uint64_t *data)
{
	net_model_io(dev, space, addr, size, is_write, data);
}

static inline int driver_up(struct nfix *f, uint64_t features)
{
	uint64_t offered;

	if (drv_probe(&f->drv) < 0)
		return -1;
	if (!(drv_negotiate(&f->drv, features, &offered) & S_FEATURES_OK))
		return -1;
	drv_msix_enable(&f->drv);
	drv_common_write(&f->drv, C_MSIX, 2, 0);
	for (unsigned q = 0; q < NET_NUM_QUEUES; q++) {
		struct vring *r = &f->r[q];
		if (drv_setup_queue(&f->drv, q, QSIZE, r->desc, r->avail, r->used,
				    (uint16_t)(q + 1)) != 1)
			return -1;
	}
	drv_common_write(&f->drv, C_STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return 0;
}

/* The model, set up but no driver yet, behind the backend ops/be (the
 * fake one, or a real one: test_net_tap.c, test_net_slirp.c). */
static inline int setup_model_offloads(struct nfix *f, const struct net_backend_ops *ops, void *be,
				       uint64_t offloads)
{
	char err[128] = "";

	memset(f, 0, sizeof(*f));
	ram_init(&f->ram, QSIZE);
	for (unsigned q = 0; q < NET_NUM_QUEUES; q++) {
		uint64_t base = RAM_GPA + 0x8000 * q;
		f->r[q] =
		    (struct vring){.desc = base, .avail = base + 0x4000, .used = base + 0x6000};
		f->notify[q] = eventfd(0, EFD_NONBLOCK);
	}
	for (unsigned v = 0; v < NVECTORS; v++)
		f->irq[v] = eventfd(0, EFD_NONBLOCK);
	struct net_params p = {
	    .mem = &f->ram.g,
	    .bar0_gpa = DRV_BAR0,
	    .notify_fds = f->notify,
	    .nqueues = NET_NUM_QUEUES,
	    .irq_fds = f->irq,
	    .nvectors = NVECTORS,
	    .be_ops = ops,
	    .be = be,
	    .offloads = offloads,
	};
	memcpy(p.mac, test_mac, sizeof(p.mac));
	if (net_model_create(&f->m, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "net_model_create: %s\n", err);
		return -1;
	}
	f->drv = (struct drv){.io = io, .dev = f->m};
	f->next_data = RAM_DATA;
	return 0;
}

static inline int setup_model_be(struct nfix *f, const struct net_backend_ops *ops, void *be)
{
	return setup_model_offloads(f, ops, be, 0);
}

static inline int setup_model(struct nfix *f)
{
	return setup_model_be(f, &test_be, f);
}

static inline int setup(struct nfix *f, uint64_t features)
{
	if (setup_model(f) < 0)
		return -1;
	return driver_up(f, features);
}

static inline void teardown(struct nfix *f)
{
	net_model_destroy(f->m);
	for (unsigned q = 0; q < NET_NUM_QUEUES; q++)
		close(f->notify[q]);
	for (unsigned v = 0; v < NVECTORS; v++)
		close(f->irq[v]);
	free(f->ram.mem);
}

static inline uint64_t irqs(struct nfix *f, unsigned v)
{
	uint64_t n = 0;

	if (read(f->irq[v], &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* Guest memory for a buffer (16-aligned, never reused within a test). */
static inline uint64_t alloc(struct nfix *f, uint32_t len)
{
	uint64_t gpa = f->next_data;

	f->next_data += (len + 15) & ~15u;
	if (f->next_data > RAM_GPA + RAM_LEN)
		abort();
	return gpa;
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool w;
};

/* Write descriptors for segs on queue q, linked, and offer the chain. */
static inline uint16_t offer(struct nfix *f, unsigned q, const struct seg *s, unsigned n)
{
	struct vring *r = &f->r[q];
	uint16_t head = r->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % QSIZE);
		uint8_t *d = ram_ptr(&f->ram, r->desc) + 16 * idx;
		uint64_t a = htole64(s[i].gpa);
		uint32_t l = htole32(s[i].len);
		memcpy(d, &a, 8);
		memcpy(d + 8, &l, 4);
		put16(d + 12, (uint16_t)((s[i].w ? F_WRITE : 0) | (i + 1 < n ? F_NEXT : 0)));
		put16(d + 14, (uint16_t)((idx + 1) % QSIZE));
	}
	r->next_desc = (uint16_t)((head + n) % QSIZE);
	put16(ram_ptr(&f->ram, r->avail) + 4 + 2 * (r->avail_idx % QSIZE), head);
	r->avail_idx++;
	__atomic_store_n((uint16_t *)(ram_ptr(&f->ram, r->avail) + 2), htole16(r->avail_idx),
			 __ATOMIC_RELEASE);
	return head;
}

static inline uint16_t used_idx(struct nfix *f, unsigned q)
{
	return le16toh(
	    __atomic_load_n((uint16_t *)(ram_ptr(&f->ram, f->r[q].used) + 2), __ATOMIC_ACQUIRE));
}

static inline void used_elem(struct nfix *f, unsigned q, uint16_t i, uint32_t *id, uint32_t *len)
{
	uint8_t *e = ram_ptr(&f->ram, f->r[q].used) + 4 + 8 * (i % QSIZE);

	*id = get32(e);
	*len = get32(e + 4);
}

/* avail_event (EVENT_IDX): where the device wants the next kick */
static inline uint16_t avail_event(struct nfix *f, unsigned q)
{
	return get16(ram_ptr(&f->ram, f->r[q].used) + 4 + 8 * QSIZE);
}

static inline void kick(struct nfix *f, unsigned q)
{
	uint64_t one = 1;

	if (write(f->notify[q], &one, sizeof(one)) != sizeof(one))
		abort();
	net_model_ready(f->m, f->notify[q]);
}

/* Post one writable RX buffer of len bytes; returns its gpa. */
static inline uint64_t post_rx(struct nfix *f, uint32_t len, uint16_t *head)
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
static inline uint64_t tx_buf(struct nfix *f, const uint8_t *frame, size_t len, uint8_t flags,
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
