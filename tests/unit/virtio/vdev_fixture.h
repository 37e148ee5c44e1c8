/* The fixture of the virtio device tests (blk_fixture.h, net_fixture.h):
 * a device on the virtio device core (devproc/virtio/vdevice.h) behind the
 * real virtio-pci transport, a fake guest RAM with one driver-side split
 * ring per queue (spec 2.7 layout; queue 0 is vpci_drv.h's RING_*), the
 * queues' notify eventfds and the vectors' irq eventfds. The test plays
 * the guest driver (registers through vpci_drv.h, rings here) and the
 * device process's loop (it kicks the device through a queue's notify
 * eventfd, as the loop would see it).
 *
 * One fixture type for every device: the device's fixture defines
 * VFIX_DEVICE_FIELDS (its model, its fakes) before including this. */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "tap.h"
#include "vdevice.h"
#include "vpci_drv.h"

#ifndef VFIX_DEVICE_FIELDS
#define VFIX_DEVICE_FIELDS
#endif

#define QSIZE		 256
#define F_NEXT		 1
#define F_WRITE		 2
#define F_INDIRECT	 4
#define VFIX_MAX_QUEUES	 4 /* virtio-blk's MQ tests */
#define VFIX_MAX_VECTORS 5

/* A driver-side split ring in the fake RAM. */
struct vring {
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen, next_desc;
};

struct vfix {
	struct ram ram;
	unsigned nq, nvec;
	struct vring r[VFIX_MAX_QUEUES];
	int notify[VFIX_MAX_QUEUES], irq[VFIX_MAX_VECTORS];
	struct vdev *vd; /* the device in the core, set by the device's fixture */
	struct drv drv;
	uint64_t next_data;
	VFIX_DEVICE_FIELDS
};

static inline void vfix_io(void *dev, unsigned space, uint64_t addr, unsigned size, bool is_write,
			   uint64_t *data)
{
	vdev_io(dev, space, addr, size, is_write, data);
}

/* RAM, rings and eventfds for nq queues and nvec vectors; what the device
 * is created with comes back in *p. */
static inline void vfix_init(struct vfix *f, unsigned nq, unsigned nvec, struct vdev_params *p)
{
	memset(f, 0, sizeof(*f));
	ram_init(&f->ram, QSIZE);
	f->nq = nq;
	f->nvec = nvec;
	for (unsigned q = 0; q < nq; q++) {
		uint64_t base = RAM_GPA + 0x8000 * q;
		f->r[q] =
		    (struct vring){.desc = base, .avail = base + 0x4000, .used = base + 0x6000};
		f->notify[q] = eventfd(0, EFD_NONBLOCK);
	}
	for (unsigned v = 0; v < nvec; v++)
		f->irq[v] = eventfd(0, EFD_NONBLOCK);
	/* buffers after the rings (0x8000 of RAM each) */
	f->next_data = RAM_GPA + 0x8000ull * nq > RAM_DATA ? RAM_GPA + 0x8000ull * nq : RAM_DATA;
	*p = (struct vdev_params){
	    .mem = &f->ram.g,
	    .bar0_gpa = DRV_BAR0,
	    .notify_fds = f->notify,
	    .nqueues = nq,
	    .irq_fds = f->irq,
	    .nvectors = nvec,
	};
}

/* The device is up: the driver reaches it through the core. */
static inline void vfix_attach(struct vfix *f, struct vdev *vd)
{
	f->vd = vd;
	f->drv = (struct drv){.io = vfix_io, .dev = vd};
}

static inline void vfix_fini(struct vfix *f)
{
	for (unsigned q = 0; q < f->nq; q++)
		close(f->notify[q]);
	for (unsigned v = 0; v < f->nvec; v++)
		close(f->irq[v]);
	free(f->ram.mem);
}

/* Probe, negotiate, MSI-X (config on vector 0, queue q on q + 1), every
 * queue, DRIVER_OK: what Linux does before the first request. */
static inline int driver_up(struct vfix *f, uint64_t features)
{
	uint64_t offered;

	if (drv_probe(&f->drv) < 0)
		return -1;
	if (!(drv_negotiate(&f->drv, features, &offered) & S_FEATURES_OK))
		return -1;
	drv_msix_enable(&f->drv);
	drv_common_write(&f->drv, C_MSIX, 2, 0);
	for (unsigned q = 0; q < f->nq; q++) {
		struct vring *r = &f->r[q];
		if (drv_setup_queue(&f->drv, q, QSIZE, r->desc, r->avail, r->used,
				    (uint16_t)(q + 1)) != 1)
			return -1;
	}
	drv_common_write(&f->drv, C_STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return 0;
}

/* After a reset the driver starts again on fresh rings: every queue's
 * ring zeroed in RAM, its indices back at 0 (then driver_up() again). */
static inline void vfix_fresh_rings(struct vfix *f)
{
	for (unsigned q = 0; q < f->nq; q++) {
		struct vring *r = &f->r[q];
		memset(ram_ptr(&f->ram, r->desc), 0, 0x8000);
		r->avail_idx = r->used_seen = r->next_desc = 0;
	}
}

/* Interrupts on vector v since the last call. */
static inline uint64_t irqs(struct vfix *f, unsigned v)
{
	uint64_t n = 0;

	if (read(f->irq[v], &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* The interrupt may follow the used index a moment later (another thread). */
static inline uint64_t wait_irqs(struct vfix *f, unsigned v)
{
	uint64_t n = 0;

	for (int i = 0; i < 1000 && !n; i++) {
		n = irqs(f, v);
		if (!n)
			usleep(1000);
	}
	return n;
}

/* Guest memory for a buffer (16-aligned, never reused within a test). */
static inline uint64_t alloc(struct vfix *f, uint32_t len)
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

/* Write descriptor idx of queue q's table. */
static inline void desc_put(struct vfix *f, unsigned q, unsigned idx, uint64_t addr, uint32_t len,
			    uint16_t flags, uint16_t next)
{
	uint8_t *d = ram_ptr(&f->ram, f->r[q].desc) + 16 * idx;
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);

	memcpy(d, &a, 8);
	memcpy(d + 8, &l, 4);
	put16(d + 12, flags);
	put16(d + 14, next);
}

/* Make head available on queue q (a release store of idx, as a driver's
 * barrier). */
static inline void offer_head(struct vfix *f, unsigned q, uint16_t head)
{
	struct vring *r = &f->r[q];

	put16(ram_ptr(&f->ram, r->avail) + 4 + 2 * (r->avail_idx % QSIZE), head);
	r->avail_idx++;
	__atomic_store_n((uint16_t *)(ram_ptr(&f->ram, r->avail) + 2), htole16(r->avail_idx),
			 __ATOMIC_RELEASE);
}

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool w;
};

/* Write descriptors for segs on queue q, linked, and offer the chain. */
static inline uint16_t offer(struct vfix *f, unsigned q, const struct seg *s, unsigned n)
{
	struct vring *r = &f->r[q];
	uint16_t head = r->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % QSIZE);
		desc_put(f, q, idx, s[i].gpa, s[i].len,
			 (uint16_t)((s[i].w ? F_WRITE : 0) | (i + 1 < n ? F_NEXT : 0)),
			 (uint16_t)((idx + 1) % QSIZE));
	}
	r->next_desc = (uint16_t)((head + n) % QSIZE);
	offer_head(f, q, head);
	return head;
}

static inline uint16_t used_idx(struct vfix *f, unsigned q)
{
	return le16toh(
	    __atomic_load_n((uint16_t *)(ram_ptr(&f->ram, f->r[q].used) + 2), __ATOMIC_ACQUIRE));
}

static inline void used_elem(struct vfix *f, unsigned q, uint16_t i, uint32_t *id, uint32_t *len)
{
	uint8_t *e = ram_ptr(&f->ram, f->r[q].used) + 4 + 8 * (i % QSIZE);

	*id = get32(e);
	*len = get32(e + 4);
}

/* avail_event (EVENT_IDX): where the device wants the next kick */
static inline uint16_t avail_event(struct vfix *f, unsigned q)
{
	return get16(ram_ptr(&f->ram, f->r[q].used) + 4 + 8 * QSIZE);
}

/* The driver's notify write, then the loop's turn for that eventfd. */
static inline void kick(struct vfix *f, unsigned q)
{
	uint64_t one = 1;

	if (write(f->notify[q], &one, sizeof(one)) != sizeof(one))
		abort();
	vdev_ready(f->vd, f->notify[q]);
}
