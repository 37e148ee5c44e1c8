/* PCI config space of a virtio-pci function: a type 0 header, BAR0 fixed
 * at the address moat gave it (sizing answered, moves refused), and the
 * capability chain at fixed offsets: MSI-X at 0x40, then the five virtio
 * vendor capabilities (common, notify, ISR, device, PCI cfg window).
 *
 * Reads come from a 256-byte image; a write changes only the bits its
 * byte's write mask allows (the PCI spec's read-only and reserved bits
 * stay put), then the few registers with side effects act on it. */
#include <linux/virtio_pci.h>
#include <string.h>

#include "virtio_pci_int.h"

#define BAR0_LO	    0x10
#define BAR0_HI	    0x14
#define BAR_MEM64   0x4 /* memory, 64-bit, not prefetchable */
#define MSIX_CAP_ID 0x11
#define VNDR_CAP_ID 0x09
#define STATUS_CAPS 0x0010 /* status: capability list present */
/* Drivers ignore the subsystem device of a modern virtio device; QEMU's
 * value, in case a tool prints it. */
#define SUBSYS_ID 0x1100

static void put(struct vpci_dev *d, unsigned off, unsigned size, uint64_t v)
{
	vpci_le_put(&d->cfg[off], size, v);
}

static void writable(struct vpci_dev *d, unsigned off, unsigned size, uint64_t mask)
{
	vpci_le_put(&d->wmask[off], size, mask);
}

/* One struct virtio_pci_cap (virtio spec 4.1.4) pointing into BAR0. */
static void vendor_cap(struct vpci_dev *d, unsigned off, unsigned next, unsigned len, unsigned type,
		       uint32_t bar_off, uint32_t length)
{
	put(d, off + VIRTIO_PCI_CAP_VNDR, 1, VNDR_CAP_ID);
	put(d, off + VIRTIO_PCI_CAP_NEXT, 1, next);
	put(d, off + VIRTIO_PCI_CAP_LEN, 1, len);
	put(d, off + VIRTIO_PCI_CAP_CFG_TYPE, 1, type);
	put(d, off + VIRTIO_PCI_CAP_BAR, 1, 0);
	put(d, off + VIRTIO_PCI_CAP_OFFSET, 4, bar_off);
	put(d, off + VIRTIO_PCI_CAP_LENGTH, 4, length);
}

static void bar0_set(struct vpci_dev *d, bool sizing_lo, bool sizing_hi)
{
	uint64_t mask = ~(uint64_t)(VPCI_BAR0_SIZE - 1);
	uint64_t lo = sizing_lo ? mask : d->p.bar0_gpa;
	uint64_t hi = sizing_hi ? mask : d->p.bar0_gpa;

	put(d, BAR0_LO, 4, (lo & 0xfffffff0u) | BAR_MEM64);
	put(d, BAR0_HI, 4, hi >> 32);
}

/* Build the image of a function just out of reset. */
void vpci_cfg_init(struct vpci_dev *d)
{
	uint32_t devcfg_len = d->p.config_len < 4 ? 4 : (d->p.config_len + 3) & ~3u;

	memset(d->cfg, 0, sizeof(d->cfg));
	memset(d->wmask, 0, sizeof(d->wmask));
	put(d, 0x00, 2, VPCI_VENDOR_ID);
	put(d, 0x02, 2, VPCI_DEVICE_BASE + d->p.virtio_id);
	put(d, 0x06, 2, STATUS_CAPS);
	put(d, 0x08, 1, 1); /* revision 1: a modern (non-transitional) device */
	put(d, 0x09, 3, d->p.class_code);
	put(d, 0x2c, 2, VPCI_VENDOR_ID);
	put(d, 0x2e, 2, SUBSYS_ID);
	put(d, 0x34, 1, VPCI_CAP_MSIX_OFF);
	bar0_set(d, false, false);
	/* interrupt pin 0: MSI-X only (INTx would need MP-table entries) */
	writable(d, 0x04, 2, VPCI_CMD_MEMORY | VPCI_CMD_MASTER | VPCI_CMD_INTX_DISABLE);
	writable(d, 0x0c, 1, 0xff); /* cache line size: scratch for the OS */
	writable(d, 0x3c, 1, 0xff); /* interrupt line: scratch for the OS */

	put(d, VPCI_CAP_MSIX_OFF, 1, MSIX_CAP_ID);
	put(d, VPCI_CAP_MSIX_OFF + 1, 1, VPCI_CAP_COMMON_OFF);
	put(d, VPCI_MSIX_CTRL_OFF, 2, d->p.nvectors - 1);      /* table size - 1 */
	put(d, VPCI_CAP_MSIX_OFF + 4, 4, VPCI_MSIX_TABLE_OFF); /* BIR 0 */
	put(d, VPCI_CAP_MSIX_OFF + 8, 4, VPCI_MSIX_PBA_OFF);   /* BIR 0 */
	writable(d, VPCI_MSIX_CTRL_OFF, 2, VPCI_MSIX_CTRL_ENABLE | VPCI_MSIX_CTRL_MASKALL);

	vendor_cap(d, VPCI_CAP_COMMON_OFF, VPCI_CAP_NOTIFY_OFF, 16, VIRTIO_PCI_CAP_COMMON_CFG,
		   VPCI_COMMON_OFF, VPCI_COMMON_CAP_LEN);
	vendor_cap(d, VPCI_CAP_NOTIFY_OFF, VPCI_CAP_ISR_OFF, 20, VIRTIO_PCI_CAP_NOTIFY_CFG,
		   VPCI_NOTIFY_OFF, (uint32_t)d->p.num_queues * VPCI_NOTIFY_MULT);
	put(d, VPCI_CAP_NOTIFY_OFF + 16, 4, VPCI_NOTIFY_MULT);
	vendor_cap(d, VPCI_CAP_ISR_OFF, VPCI_CAP_DEVICE_OFF, 16, VIRTIO_PCI_CAP_ISR_CFG,
		   VPCI_ISR_OFF, VPCI_ISR_LEN);
	vendor_cap(d, VPCI_CAP_DEVICE_OFF, VPCI_CAP_PCICFG_OFF, 16, VIRTIO_PCI_CAP_DEVICE_CFG,
		   VPCI_DEVCFG_OFF, devcfg_len);
	vendor_cap(d, VPCI_CAP_PCICFG_OFF, 0, 20, VIRTIO_PCI_CAP_PCI_CFG, 0, 0);
	/* the window's bar, offset, length and data are the driver's */
	writable(d, VPCI_CAP_PCICFG_OFF + VIRTIO_PCI_CAP_BAR, 1, 0xff);
	writable(d, VPCI_CAP_PCICFG_OFF + VIRTIO_PCI_CAP_OFFSET, 4, 0xffffffff);
	writable(d, VPCI_CAP_PCICFG_OFF + VIRTIO_PCI_CAP_LENGTH, 4, 0xffffffff);
	writable(d, VPCI_PCICFG_DATA, 4, 0xffffffff);
}

bool vpci_msix_enabled(const struct vpci_dev *d)
{
	return vpci_le_get(&d->cfg[VPCI_MSIX_CTRL_OFF], 2) & VPCI_MSIX_CTRL_ENABLE;
}

bool vpci_msix_func_masked(const struct vpci_dev *d)
{
	return vpci_le_get(&d->cfg[VPCI_MSIX_CTRL_OFF], 2) & VPCI_MSIX_CTRL_MASKALL;
}

bool vpci_mem_enabled(const struct vpci_dev *d)
{
	return d->cfg[0x04] & VPCI_CMD_MEMORY;
}

/* The VIRTIO_PCI_CAP_PCI_CFG window (virtio spec 4.1.4.9): the driver
 * names a BAR, an offset and a length of 1, 2 or 4 (aligned), and an
 * access to pci_cfg_data becomes that access to the BAR. False if what it
 * named is not a valid access to BAR0. */
static bool window(const struct vpci_dev *d, uint64_t *off, unsigned *len)
{
	uint32_t bar = d->cfg[VPCI_CAP_PCICFG_OFF + VIRTIO_PCI_CAP_BAR];
	uint32_t o = (uint32_t)vpci_le_get(&d->cfg[VPCI_CAP_PCICFG_OFF + VIRTIO_PCI_CAP_OFFSET], 4);
	uint32_t l = (uint32_t)vpci_le_get(&d->cfg[VPCI_CAP_PCICFG_OFF + VIRTIO_PCI_CAP_LENGTH], 4);

	if (bar != 0 || (l != 1 && l != 2 && l != 4) || o % l || o >= VPCI_BAR0_SIZE)
		return false;
	*off = o;
	*len = l;
	return true;
}

static bool overlaps(uint32_t off, unsigned size, uint32_t start, unsigned len)
{
	return off < start + len && start < off + size;
}

/* off + size <= 256, naturally aligned, size 1, 2 or 4: checked by the caller. */
uint64_t vpci_cfg_read(struct vpci_dev *d, uint32_t off, unsigned size)
{
	uint64_t woff;
	unsigned wlen;

	if (overlaps(off, size, VPCI_PCICFG_DATA, 4) && window(d, &woff, &wlen))
		put(d, VPCI_PCICFG_DATA, wlen, vpci_bar_read(d, woff, wlen, true));
	return vpci_le_get(&d->cfg[off], size);
}

/* A write to BAR0: all ones (in the address bits) to a whole dword starts
 * sizing that dword; anything else puts the fixed address back. */
static void bar0_write(struct vpci_dev *d, uint32_t off, unsigned size, uint64_t val)
{
	/* each dword sizes on its own: Linux probes the low one, then the
	 * high one, then restores both */
	bool lo = vpci_le_get(&d->cfg[BAR0_LO], 4) != ((d->p.bar0_gpa & 0xfffffff0u) | BAR_MEM64);
	bool hi = vpci_le_get(&d->cfg[BAR0_HI], 4) != (d->p.bar0_gpa >> 32);
	bool ones = (val | 0xf) == 0xffffffff;

	if (size != 4)
		lo = hi = false; /* a partial write: no sizing */
	else if (off == BAR0_LO)
		lo = ones;
	else
		hi = ones;
	bar0_set(d, lo, hi);
}

void vpci_cfg_write(struct vpci_dev *d, uint32_t off, unsigned size, uint64_t val)
{
	uint16_t ctrl_before = (uint16_t)vpci_le_get(&d->cfg[VPCI_MSIX_CTRL_OFF], 2);
	uint64_t woff;
	unsigned wlen;

	if (overlaps(off, size, BAR0_LO, 8)) {
		bar0_write(d, off, size, val);
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		uint8_t m = d->wmask[off + i];
		d->cfg[off + i] = (uint8_t)((d->cfg[off + i] & ~m) | ((val >> (8 * i)) & m));
	}
	if (overlaps(off, size, VPCI_MSIX_CTRL_OFF, 2)) {
		uint16_t ctrl = (uint16_t)vpci_le_get(&d->cfg[VPCI_MSIX_CTRL_OFF], 2);
		/* enabled or unmasked: vectors held pending can go now */
		if (ctrl != ctrl_before)
			vpci_msix_flush_pending(d);
	}
	if (overlaps(off, size, VPCI_PCICFG_DATA, 4) && window(d, &woff, &wlen))
		vpci_bar_write(d, woff, wlen, vpci_le_get(&d->cfg[VPCI_PCICFG_DATA], wlen), true);
}
