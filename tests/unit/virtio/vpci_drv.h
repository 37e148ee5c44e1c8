/* A virtio-pci driver for the transport and virtio-blk tests, written from
 * the virtio spec (4.1) and the order Linux's virtio_pci_modern follows:
 * walk the capability list, size and enable BAR0, reset, ACKNOWLEDGE,
 * DRIVER, negotiate features, FEATURES_OK (read back), set up the queues
 * and their MSI-X vectors, DRIVER_OK. It reaches the device only through
 * a trapped-access callback, as moat-vcpu would. Plus a fake guest RAM
 * with driver-side split-ring helpers (spec 2.7 layout). */
#pragma once

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gmem.h"
#include "ioring.h"
#include "virtio_pci.h"

#define DRV_BAR0 0xc0000000ull /* where the "monitor" put BAR0 */

/* status bits, feature bits (spec 2.1, 6) */
#define S_ACK	      1
#define S_DRIVER      2
#define S_DRIVER_OK   4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40

/* common configuration offsets (spec 4.1.4.3) */
#define C_DFSELECT 0x00
#define C_DF	   0x04
#define C_GFSELECT 0x08
#define C_GF	   0x0c
#define C_MSIX	   0x10
#define C_NUMQ	   0x12
#define C_STATUS   0x14
#define C_CFGGEN   0x15
#define C_QSELECT  0x16
#define C_QSIZE	   0x18
#define C_QMSIX	   0x1a
#define C_QENABLE  0x1c
#define C_QNOFF	   0x1e
#define C_QDESC	   0x20
#define C_QDRIVER  0x28
#define C_QDEVICE  0x30

typedef void (*drv_io_fn)(void *dev, unsigned space, uint64_t addr, unsigned size, bool is_write,
			  uint64_t *data);

struct drv {
	drv_io_fn io;
	void *dev;
	/* found by drv_probe */
	uint64_t bar0;
	uint32_t common, isr, device, device_len, notify, notify_len, notify_mult;
	unsigned msix_cap, nvec, pcicfg_cap;
	uint32_t msix_table, msix_pba;
};

/* The access callback for a driver of a bare transport: dev is the
 * struct vpci_dev itself. */
static inline void drv_vpci_io(void *dev, unsigned space, uint64_t addr, unsigned size,
			       bool is_write, uint64_t *data)
{
	vpci_io(dev, space, addr, size, is_write, data);
}

static inline uint64_t drv_cfg_read(struct drv *d, uint32_t off, unsigned size)
{
	uint64_t v = 0;

	d->io(d->dev, IORING_SPACE_PCICFG, off, size, false, &v);
	return size == 8 ? v : v & ((1ull << 8 * size) - 1);
}

static inline void drv_cfg_write(struct drv *d, uint32_t off, unsigned size, uint64_t v)
{
	d->io(d->dev, IORING_SPACE_PCICFG, off, size, true, &v);
}

static inline uint64_t drv_bar_read(struct drv *d, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	d->io(d->dev, IORING_SPACE_MMIO, DRV_BAR0 + off, size, false, &v);
	return size == 8 ? v : v & ((1ull << 8 * size) - 1);
}

static inline void drv_bar_write(struct drv *d, uint64_t off, unsigned size, uint64_t v)
{
	d->io(d->dev, IORING_SPACE_MMIO, DRV_BAR0 + off, size, true, &v);
}

static inline uint64_t drv_common_read(struct drv *d, uint32_t off, unsigned size)
{
	return drv_bar_read(d, d->common + off, size);
}

static inline void drv_common_write(struct drv *d, uint32_t off, unsigned size, uint64_t v)
{
	drv_bar_write(d, d->common + off, size, v);
}

/* Linux's __pci_read_base for a 64-bit memory BAR: all ones to each half,
 * read the mask, put the address back. Returns the size, 0 on garbage. */
static inline uint64_t drv_size_bar0(struct drv *d)
{
	uint32_t lo = (uint32_t)drv_cfg_read(d, 0x10, 4), hi = (uint32_t)drv_cfg_read(d, 0x14, 4);
	uint64_t mask;

	if ((lo & 7) != 4)
		return 0;
	drv_cfg_write(d, 0x10, 4, 0xffffffff);
	drv_cfg_write(d, 0x14, 4, 0xffffffff);
	mask = (drv_cfg_read(d, 0x10, 4) & ~0xfull) | drv_cfg_read(d, 0x14, 4) << 32;
	drv_cfg_write(d, 0x10, 4, lo);
	drv_cfg_write(d, 0x14, 4, hi);
	d->bar0 = (lo & ~0xfull) | (uint64_t)hi << 32;
	return ~mask + 1;
}

/* Walk the capability list (with Linux's 48-hop limit) and record the
 * virtio structures. 0, or -1 if something Linux needs is missing. */
static inline int drv_probe(struct drv *d)
{
	unsigned pos, ttl = 48;
	bool have[6] = {false};

	if (drv_cfg_read(d, 0, 2) != VPCI_VENDOR_ID || drv_cfg_read(d, 2, 2) < 0x1040 ||
	    !(drv_cfg_read(d, 6, 2) & 0x10) || drv_size_bar0(d) != VPCI_BAR0_SIZE ||
	    d->bar0 != DRV_BAR0)
		return -1;
	for (pos = drv_cfg_read(d, 0x34, 1) & ~3u; pos && ttl--;
	     pos = drv_cfg_read(d, pos + 1, 1) & ~3u) {
		unsigned id = (unsigned)drv_cfg_read(d, pos, 1);
		if (pos < 0x40)
			return -1;
		if (id == 0x11) {
			d->msix_cap = pos;
			d->nvec = (unsigned)(drv_cfg_read(d, pos + 2, 2) & 0x7ff) + 1;
			d->msix_table = (uint32_t)drv_cfg_read(d, pos + 4, 4);
			d->msix_pba = (uint32_t)drv_cfg_read(d, pos + 8, 4);
			continue;
		}
		if (id != 0x09)
			continue;
		unsigned type = (unsigned)drv_cfg_read(d, pos + 3, 1);
		unsigned bar = (unsigned)drv_cfg_read(d, pos + 4, 1);
		uint32_t off = (uint32_t)drv_cfg_read(d, pos + 8, 4);
		uint32_t len = (uint32_t)drv_cfg_read(d, pos + 12, 4);
		if (type < 1 || type > 5 || (type != 5 && bar != 0) ||
		    (type != 5 && (uint64_t)off + len > VPCI_BAR0_SIZE))
			return -1;
		have[type] = true;
		if (type == 1)
			d->common = off;
		else if (type == 2) {
			d->notify = off;
			d->notify_len = len;
			d->notify_mult = (uint32_t)drv_cfg_read(d, pos + 16, 4);
		} else if (type == 3)
			d->isr = off;
		else if (type == 4) {
			d->device = off;
			d->device_len = len;
		} else
			d->pcicfg_cap = pos;
	}
	if (!have[1] || !have[2] || !have[3] || !have[4] || !have[5] || !d->msix_cap)
		return -1;
	/* pci_enable_device + pci_set_master */
	drv_cfg_write(d, 4, 2, drv_cfg_read(d, 4, 2) | 0x6);
	return 0;
}

/* Reset, ACKNOWLEDGE, DRIVER, take `want & offered`, FEATURES_OK; returns
 * the status read back (FEATURES_OK set if accepted). */
static inline uint8_t drv_negotiate(struct drv *d, uint64_t want, uint64_t *offered)
{
	uint64_t f;

	drv_common_write(d, C_STATUS, 1, 0);
	while (drv_common_read(d, C_STATUS, 1) != 0)
		;
	drv_common_write(d, C_STATUS, 1, S_ACK);
	drv_common_write(d, C_STATUS, 1, S_ACK | S_DRIVER);
	drv_common_write(d, C_DFSELECT, 4, 0);
	f = drv_common_read(d, C_DF, 4);
	drv_common_write(d, C_DFSELECT, 4, 1);
	f |= drv_common_read(d, C_DF, 4) << 32;
	if (offered)
		*offered = f;
	drv_common_write(d, C_GFSELECT, 4, 0);
	drv_common_write(d, C_GF, 4, (uint32_t)want);
	drv_common_write(d, C_GFSELECT, 4, 1);
	drv_common_write(d, C_GF, 4, want >> 32);
	drv_common_write(d, C_STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK);
	return (uint8_t)drv_common_read(d, C_STATUS, 1);
}

/* MSI-X on, every entry programmed (address/data made up) and unmasked. */
static inline void drv_msix_enable(struct drv *d)
{
	uint16_t ctrl = (uint16_t)drv_cfg_read(d, d->msix_cap + 2, 2);

	/* Linux: enable with the function masked, program, then unmask */
	drv_cfg_write(d, d->msix_cap + 2, 2, ctrl | 0xc000);
	for (unsigned v = 0; v < d->nvec; v++) {
		uint64_t e = d->msix_table + 16 * v;
		drv_bar_write(d, e, 4, 0xfee00000);
		drv_bar_write(d, e + 4, 4, 0);
		drv_bar_write(d, e + 8, 4, 0x40 + v);
		drv_bar_write(d, e + 12, 4, 0);
	}
	drv_cfg_write(d, d->msix_cap + 2, 2, (ctrl | 0x8000) & ~0x4000);
}

/* Program queue q and enable it; returns queue_enable read back. */
static inline int drv_setup_queue(struct drv *d, unsigned q, uint16_t size, uint64_t desc,
				  uint64_t avail, uint64_t used, uint16_t vector)
{
	drv_common_write(d, C_QSELECT, 2, q);
	drv_common_write(d, C_QSIZE, 2, size);
	drv_common_write(d, C_QMSIX, 2, vector);
	drv_common_write(d, C_QDESC, 4, (uint32_t)desc);
	drv_common_write(d, C_QDESC + 4, 4, desc >> 32);
	drv_common_write(d, C_QDRIVER, 4, (uint32_t)avail);
	drv_common_write(d, C_QDRIVER + 4, 4, avail >> 32);
	drv_common_write(d, C_QDEVICE, 4, (uint32_t)used);
	drv_common_write(d, C_QDEVICE + 4, 4, used >> 32);
	drv_common_write(d, C_QENABLE, 2, 1);
	return (int)drv_common_read(d, C_QENABLE, 2);
}

/* ---- fake guest RAM and driver-side split ring ---------------------------- */

#define RAM_GPA	  0x100000ull
#define RAM_LEN	  0x400000ull
#define RING_DESC (RAM_GPA + 0x0000)
#define RING_AVL  (RAM_GPA + 0x4000)
#define RING_USED (RAM_GPA + 0x6000)
#define RAM_DATA  (RAM_GPA + 0x10000)

struct ram {
	uint8_t *mem;
	struct gmem g;
	uint16_t qsize;
	uint16_t avail_idx, used_seen;
};

static inline void ram_init(struct ram *r, uint16_t qsize)
{
	memset(r, 0, sizeof(*r));
	r->mem = aligned_alloc(4096, RAM_LEN);
	if (!r->mem)
		abort();
	memset(r->mem, 0, RAM_LEN);
	gmem_fake(&r->g, r->mem, RAM_GPA, RAM_LEN);
	r->qsize = qsize;
}

static inline uint8_t *ram_ptr(struct ram *r, uint64_t gpa)
{
	return r->mem + (gpa - RAM_GPA);
}

static inline void ram_desc(struct ram *r, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
			    uint16_t next)
{
	uint8_t *p = ram_ptr(r, RING_DESC) + 16 * i;
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t f = htole16(flags), n = htole16(next);

	memcpy(p, &a, 8);
	memcpy(p + 8, &l, 4);
	memcpy(p + 12, &f, 2);
	memcpy(p + 14, &n, 2);
}

/* Make head available (a release store of idx, as a driver's barrier). */
static inline void ram_offer(struct ram *r, uint16_t head)
{
	uint16_t h = htole16(head);

	memcpy(ram_ptr(r, RING_AVL) + 4 + 2 * (r->avail_idx % r->qsize), &h, 2);
	r->avail_idx++;
	__atomic_store_n((uint16_t *)(ram_ptr(r, RING_AVL) + 2), htole16(r->avail_idx),
			 __ATOMIC_RELEASE);
}

static inline uint16_t ram_used_idx(struct ram *r)
{
	return le16toh(__atomic_load_n((uint16_t *)(ram_ptr(r, RING_USED) + 2), __ATOMIC_ACQUIRE));
}

static inline void ram_used(struct ram *r, uint16_t i, uint32_t *id, uint32_t *len)
{
	uint8_t *e = ram_ptr(r, RING_USED) + 4 + 8 * (i % r->qsize);
	uint32_t a, b;

	memcpy(&a, e, 4);
	memcpy(&b, e + 4, 4);
	*id = le32toh(a);
	*len = le32toh(b);
}
