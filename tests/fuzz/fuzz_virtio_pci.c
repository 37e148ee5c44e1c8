/* libFuzzer target: the virtio-pci transport (devproc/virtio/virtio_pci*.c)
 * under arbitrary guest register accesses. The input is a sequence of
 * operations of 4 bytes plus, for writes, the value:
 *   byte 0: bits 0-1 size (1, 2, 4, 8), bit 2 write, bits 3-5 region
 *           (config space, common config, ISR, device config, notify,
 *           MSI-X table, PBA, anywhere around BAR0), bits 6-7: 3 = also
 *           raise an interrupt (queue or config, from the offset's low bit)
 *   bytes 1-2: offset in the region (little endian)
 *   byte 3: 0x5a = a device-side event instead (needs reset)
 *   then size bytes of value for a write.
 * Invariants: the identity and capability pointer never change, reads of
 * the BAR give its fixed address once restored, and after the input a
 * Linux-style driver can still reset and bring the device up. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "virtio_pci.h"
#include "virtqueue.h"
#include "vpci_drv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NQ   2
#define NVEC 3

static struct ram ram;
static struct virtqueue vqs[NQ];
static int busy;

static void f_config_read(void *model, uint32_t off, unsigned size, uint64_t *v)
{
	*v = off * 0x01010101u + size;
}

static int f_queue_enable(void *model, unsigned q, const struct vpci_queue_cfg *cfg)
{
	return vq_init(&vqs[q], &ram.g, cfg->size, cfg->desc, cfg->driver, cfg->device,
		       cfg->event_idx);
}

static void f_queue_notify(void *model, unsigned q)
{
	if (q >= NQ)
		abort();
}

static int f_reset(void *model)
{
	/* now and then pretend I/O is still in flight */
	if (busy > 0) {
		busy--;
		return 1;
	}
	return 0;
}

static const struct vpci_ops ops = {
    .config_read = f_config_read,
    .queue_enable = f_queue_enable,
    .queue_notify = f_queue_notify,
    .reset = f_reset,
};

static const uint64_t regions[8] = {0,
				    VPCI_COMMON_OFF,
				    VPCI_ISR_OFF,
				    VPCI_DEVCFG_OFF,
				    VPCI_NOTIFY_OFF,
				    VPCI_MSIX_TABLE_OFF,
				    VPCI_MSIX_PBA_OFF,
				    0};

static void one_op(struct vpci_dev *d, const uint8_t *op, const uint8_t **p, const uint8_t *end)
{
	unsigned size = 1u << (op[0] & 3), region = (op[0] >> 3) & 7;
	bool write = op[0] & 4;
	uint64_t off = op[1] | (uint64_t)op[2] << 8, v = 0;

	if (op[3] == 0x5a) {
		vpci_set_needs_reset(d);
		busy = op[1] & 3;
		return;
	}
	if (write) {
		for (unsigned i = 0; i < size && *p < end; i++)
			v |= (uint64_t) * (*p)++ << (8 * i);
	}
	if (region == 0)
		vpci_cfg_access(d, off & 0x1fff, size, write, &v);
	else if (region == 7)
		vpci_mmio_access(d, DRV_BAR0 - 0x800 + off, size, write, &v);
	else
		vpci_mmio_access(d, DRV_BAR0 + regions[region] + (off & 0xfff), size, write, &v);
	if ((op[0] >> 6) == 3) {
		if (off & 1)
			vpci_config_changed(d);
		else
			vpci_notify_queue(d, (unsigned)(off >> 1) % (NQ + 1));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int irq = -1;
	int fds[NVEC];
	struct vpci_dev *d;
	const uint8_t *p = data, *end = data + size;
	uint64_t drain;

	if (irq < 0) {
		irq = eventfd(0, EFD_NONBLOCK);
		ram_init(&ram, 256);
	}
	memset(ram.mem, 0, 0x10000);
	busy = 0;
	for (int i = 0; i < NVEC; i++)
		fds[i] = irq;
	struct vpci_params prm = {.ops = &ops,
				  .virtio_id = 2,
				  .class_code = 0x018000,
				  .features = 1u << 5,
				  .num_queues = NQ,
				  .queue_max = 256,
				  .config_len = 24,
				  .bar0_gpa = DRV_BAR0,
				  .irq_fds = fds,
				  .nvectors = NVEC};
	if (vpci_create(&d, &prm) != 0)
		abort();
	struct drv drv = {.io = drv_vpci_io, .dev = d};
	while (end - p >= 4) {
		const uint8_t *op = p;
		p += 4;
		one_op(d, op, &p, end);
	}
	if (read(irq, &drain, sizeof(drain)) < 0) {
		/* nothing pending */
	}

	if (drv_cfg_read(&drv, 0, 4) != 0x10421af4 || drv_cfg_read(&drv, 0x34, 1) != 0x40)
		abort();
	/* any write but all ones puts the fixed address back */
	drv_cfg_write(&drv, 0x10, 4, 0);
	drv_cfg_write(&drv, 0x14, 4, 0);
	if (drv_cfg_read(&drv, 0x10, 4) != ((DRV_BAR0 & 0xffffffff) | 4) ||
	    drv_cfg_read(&drv, 0x14, 4) != DRV_BAR0 >> 32)
		abort();
	busy = 0;
	if (drv_probe(&drv) != 0)
		abort();
	if (!(drv_negotiate(&drv, 1ull << VPCI_F_VERSION_1, NULL) & S_FEATURES_OK))
		abort();
	drv_msix_enable(&drv);
	if (drv_setup_queue(&drv, 0, 64, RING_DESC, RING_AVL, RING_USED, 1) != 1)
		abort();
	drv_common_write(&drv, C_STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	if (drv_common_read(&drv, C_STATUS, 1) != (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK))
		abort();
	vpci_destroy(d);
	return 0;
}
