/* Unit tests for the virtio-pci transport (devproc/virtio/virtio_pci*.c),
 * driven through trapped accesses the way Linux's virtio_pci_modern does
 * (vpci_drv.h): identity, BAR sizing, capabilities, feature negotiation,
 * queues, MSI-X delivery and masking, reset, the device config and the PCI
 * cfg window. A hostile guest: test_vpci_hostile.c. */
#include "vpci_fixture.h"

/* ---- config space -------------------------------------------------------- */

static int test_identity(void)
{
	struct fixture f;

	CHECK(setup(&f) == 0);
	struct drv *d = &f.drv;
	CHECK(drv_cfg_read(d, 0x00, 2) == 0x1af4);
	CHECK(drv_cfg_read(d, 0x02, 2) == 0x1042);
	CHECK(drv_cfg_read(d, 0x00, 4) == 0x10421af4);
	CHECK(drv_cfg_read(d, 0x08, 1) == 1);		  /* revision: modern */
	CHECK(drv_cfg_read(d, 0x08, 4) >> 8 == 0x018000); /* class */
	CHECK(drv_cfg_read(d, 0x0e, 1) == 0);		  /* header type 0 */
	CHECK(drv_cfg_read(d, 0x2c, 2) == 0x1af4);
	CHECK(drv_cfg_read(d, 0x34, 1) == 0x40);
	CHECK(drv_cfg_read(d, 0x06, 2) & 0x10);
	CHECK(drv_cfg_read(d, 0x3d, 1) == 0); /* no INTx pin */
	for (uint32_t off = 0x18; off < 0x28; off += 4)
		CHECK(drv_cfg_read(d, off, 4) == 0); /* BAR2-5 */
	drv_cfg_write(d, 0x18, 4, 0xffffffff);
	CHECK(drv_cfg_read(d, 0x18, 4) == 0);
	drv_cfg_write(d, 0x30, 4, 0xfffff800); /* no expansion ROM */
	CHECK(drv_cfg_read(d, 0x30, 4) == 0);
	CHECK(drv_cfg_read(d, 0x100, 4) == 0); /* extended space */
	CHECK(drv_cfg_read(d, 0xffc, 4) == 0);
	CHECK(drv_cfg_read(d, 0x1000, 4) == 0xffffffff);
	drv_cfg_write(d, 0x00, 4, 0); /* read-only */
	CHECK(drv_cfg_read(d, 0x00, 4) == 0x10421af4);
	drv_cfg_write(d, 0x3c, 1, 11); /* interrupt line: scratch */
	CHECK(drv_cfg_read(d, 0x3c, 1) == 11);
	vpci_destroy(f.d);
	return 0;
}

static int test_bar_sizing(void)
{
	struct fixture f;

	CHECK(setup(&f) == 0);
	struct drv *d = &f.drv;
	CHECK(drv_cfg_read(d, 0x10, 4) == ((DRV_BAR0 & 0xffffffff) | 4));
	CHECK(drv_cfg_read(d, 0x14, 4) == DRV_BAR0 >> 32);
	drv_cfg_write(d, 0x10, 4, 0xffffffff);
	CHECK(drv_cfg_read(d, 0x10, 4) == ((0xffffffffu & ~(VPCI_BAR0_SIZE - 1)) | 4));
	drv_cfg_write(d, 0x14, 4, 0xffffffff);
	CHECK(drv_cfg_read(d, 0x14, 4) == 0xffffffff);
	CHECK(drv_cfg_read(d, 0x10, 4) == ((0xffffffffu & ~(VPCI_BAR0_SIZE - 1)) | 4));
	drv_cfg_write(d, 0x10, 4, 0x12345000); /* a move: refused */
	drv_cfg_write(d, 0x14, 4, 0x1);
	CHECK(drv_cfg_read(d, 0x10, 4) == ((DRV_BAR0 & 0xffffffff) | 4));
	CHECK(drv_cfg_read(d, 0x14, 4) == DRV_BAR0 >> 32);
	drv_cfg_write(d, 0x10, 4, 0xffffffff);
	drv_cfg_write(d, 0x12, 2, 0xffff); /* partial: back to the address */
	CHECK(drv_cfg_read(d, 0x10, 4) == ((DRV_BAR0 & 0xffffffff) | 4));
	CHECK(drv_size_bar0(d) == VPCI_BAR0_SIZE && d->bar0 == DRV_BAR0);
	vpci_destroy(f.d);
	return 0;
}

static int test_capabilities(void)
{
	struct fixture f;

	CHECK(setup(&f) == 0);
	struct drv *d = &f.drv;
	CHECK(drv_probe(d) == 0);
	CHECK(d->msix_cap == VPCI_CAP_MSIX_OFF);
	CHECK(d->nvec == NVEC);
	CHECK(d->msix_table == VPCI_MSIX_TABLE_OFF); /* BIR 0 */
	CHECK(d->msix_pba == VPCI_MSIX_PBA_OFF);
	CHECK(d->common == VPCI_COMMON_OFF);
	CHECK(d->isr == VPCI_ISR_OFF);
	CHECK(d->device == VPCI_DEVCFG_OFF && d->device_len >= sizeof(f.m.config));
	CHECK(d->notify == VPCI_NOTIFY_OFF && d->notify_mult == VPCI_NOTIFY_MULT);
	/* Linux: queue_notify_off * multiplier + 2 must fit the notify cap */
	for (unsigned q = 0; q < NQ; q++) {
		drv_common_write(d, C_QSELECT, 2, q);
		uint64_t noff = drv_common_read(d, C_QNOFF, 2);
		CHECK(noff * d->notify_mult + 2 <= d->notify_len);
		CHECK(VPCI_NOTIFY_OFF + noff * VPCI_NOTIFY_MULT == VPCI_NOTIFY_OFF + q * 4);
	}
	CHECK(drv_cfg_read(d, 0x04, 2) == 0x6); /* memory and bus master on */
	vpci_destroy(f.d);
	return 0;
}

static int test_memory_enable(void)
{
	struct fixture f;

	CHECK(setup(&f) == 0);
	struct drv *d = &f.drv;
	CHECK(drv_bar_read(d, C_NUMQ, 2) == 0xffff); /* not decoded yet */
	drv_bar_write(d, C_QSELECT, 2, 1);	     /* dropped */
	drv_cfg_write(d, 0x04, 2, 0x2);
	CHECK(drv_bar_read(d, C_NUMQ, 2) == NQ);
	CHECK(drv_bar_read(d, C_QSELECT, 2) == 0);
	CHECK(drv_bar_read(d, VPCI_BAR0_SIZE - 4, 4) == 0); /* a hole */
	d->io(d->dev, IORING_SPACE_MMIO, DRV_BAR0 + VPCI_BAR0_SIZE, 4, false, &(uint64_t){0});
	uint64_t v = 0;
	d->io(d->dev, IORING_SPACE_MMIO, DRV_BAR0 + VPCI_BAR0_SIZE - 2, 4, false, &v);
	CHECK(v == ~0ull); /* straddles the end of BAR0 */
	d->io(d->dev, IORING_SPACE_PIO, 0xcfc, 4, false, &v);
	CHECK(v == ~0ull);
	drv_cfg_write(d, 0x04, 2, 0xffff); /* only memory, master, INTx disable stick */
	CHECK(drv_cfg_read(d, 0x04, 2) == 0x406);
	vpci_destroy(f.d);
	return 0;
}

/* ---- feature negotiation and status -------------------------------------- */

static int test_features(void)
{
	struct fixture f;
	uint64_t offered;

	CHECK(setup_probed(&f) == 0);
	uint64_t v1 = 1ull << VPCI_F_VERSION_1;
	CHECK(drv_negotiate(&f.drv, v1, &offered) & S_FEATURES_OK);
	CHECK(offered ==
	      (MODEL_FEATURES | v1 | 1ull << VPCI_F_INDIRECT_DESC | 1ull << VPCI_F_EVENT_IDX));
	CHECK(!(offered & 1ull << 33)); /* no ACCESS_PLATFORM */
	/* no VERSION_1: refused (we are no legacy device) */
	CHECK(!(drv_negotiate(&f.drv, MODEL_FEATURES, NULL) & S_FEATURES_OK));
	/* a bit we did not offer: refused */
	CHECK(!(drv_negotiate(&f.drv, v1 | 1ull << 3, NULL) & S_FEATURES_OK));
	CHECK(!(drv_negotiate(&f.drv, v1 | 1ull << 34, NULL) & S_FEATURES_OK));
	/* DRIVER_OK without FEATURES_OK does not stick */
	drv_common_write(&f.drv, C_STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	CHECK(!(drv_common_read(&f.drv, C_STATUS, 1) & S_DRIVER_OK));
	CHECK(f.m.driver_ok == 0);
	/* the good path; features cannot change after FEATURES_OK */
	CHECK(drv_negotiate(&f.drv, v1 | 1ull << 5, NULL) & S_FEATURES_OK);
	drv_common_write(&f.drv, C_GFSELECT, 4, 0);
	drv_common_write(&f.drv, C_GF, 4, 0xffffffff);
	CHECK(drv_common_read(&f.drv, C_GF, 4) == 1u << 5);
	drv_common_write(&f.drv, C_STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	CHECK(f.m.driver_ok == 1 && f.m.features == (v1 | 1ull << 5));
	/* status bits are not cleared except by reset */
	drv_common_write(&f.drv, C_STATUS, 1, S_ACK);
	CHECK(drv_common_read(&f.drv, C_STATUS, 1) ==
	      (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK));
	drv_common_write(&f.drv, C_DFSELECT, 4, 7); /* no such word */
	CHECK(drv_common_read(&f.drv, C_DF, 4) == 0);
	vpci_destroy(f.d);
	return 0;
}

/* ---- queues and interrupts ----------------------------------------------- */

static int test_queue_and_interrupt(void)
{
	struct fixture f;

	CHECK(bring_up(&f) == 0);
	struct drv *d = &f.drv;
	CHECK(f.m.enabled[0] == 1);
	CHECK(f.m.vq[0].size == QMAX && f.m.vq[0].event_idx);
	drv_common_write(d, C_QSELECT, 2, 0);
	CHECK(drv_common_read(d, C_QDESC, 8) == RING_DESC);
	CHECK(drv_common_read(d, C_QDRIVER, 4) == (uint32_t)RING_AVL);
	CHECK(drv_common_read(d, C_QDEVICE + 4, 4) == 0);
	CHECK(drv_common_read(d, C_QMSIX, 2) == 1);
	/* a used buffer: interrupt on vector 1 */
	vpci_notify_queue(f.d, 0);
	CHECK(irqs(&f, 1) == 1 && irqs(&f, 0) == 0 && irqs(&f, 2) == 0);
	/* masked entry: held in the PBA, sent at unmask */
	uint64_t e1 = d->msix_table + 16;
	drv_bar_write(d, e1 + 12, 4, 1);
	vpci_notify_queue(f.d, 0);
	CHECK(irqs(&f, 1) == 0);
	CHECK(drv_bar_read(d, d->msix_pba, 4) == 2);
	drv_bar_write(d, e1 + 12, 4, 0);
	CHECK(irqs(&f, 1) == 1);
	CHECK(drv_bar_read(d, d->msix_pba, 4) == 0);
	/* function mask likewise */
	uint16_t ctrl = (uint16_t)drv_cfg_read(d, d->msix_cap + 2, 2);
	drv_cfg_write(d, d->msix_cap + 2, 2, ctrl | 0x4000);
	vpci_notify_queue(f.d, 0);
	CHECK(irqs(&f, 1) == 0);
	drv_cfg_write(d, d->msix_cap + 2, 2, ctrl);
	CHECK(irqs(&f, 1) == 1);
	/* the table reads back what was written; reserved control bits stay 0 */
	CHECK(drv_bar_read(d, e1, 4) == 0xfee00000 && drv_bar_read(d, e1 + 8, 4) == 0x41);
	drv_bar_write(d, e1 + 12, 4, 0xfffffffe);
	CHECK(drv_bar_read(d, e1 + 12, 4) == 0);
	CHECK(drv_bar_read(d, e1 + 8, 8) == 0x41);
	/* config change: generation moves, vector 0 fires, ISR bit 1 */
	uint64_t gen = drv_common_read(d, C_CFGGEN, 1);
	vpci_config_changed(f.d);
	CHECK(drv_common_read(d, C_CFGGEN, 1) == ((gen + 1) & 0xff));
	CHECK(irqs(&f, 0) == 1);
	CHECK(drv_bar_read(d, d->isr, 1) & 2);
	CHECK(drv_bar_read(d, d->isr, 1) == 0); /* read cleared it */
	/* a notify that came through the ring */
	drv_bar_write(d, d->notify + 0 * d->notify_mult, 2, 0);
	CHECK(f.m.notified[0] == 1);
	drv_bar_write(d, d->notify + 1 * d->notify_mult, 2, 1); /* queue 1 not enabled */
	CHECK(f.m.notified[1] == 0);
	uint64_t sent, failed;
	vpci_irq_stats(f.d, &sent, &failed);
	CHECK(sent == 4 && failed == 0);
	vpci_destroy(f.d);
	return 0;
}

static int test_msix_disabled_uses_isr(void)
{
	struct fixture f;

	CHECK(setup_probed(&f) == 0);
	CHECK(drv_negotiate(&f.drv, 1ull << VPCI_F_VERSION_1, NULL) & S_FEATURES_OK);
	CHECK(drv_setup_queue(&f.drv, 0, 16, RING_DESC, RING_AVL, RING_USED, 1) == 1);
	vpci_notify_queue(f.d, 0);
	CHECK(irqs(&f, 1) == 0); /* no MSI-X, no INTx: only the ISR */
	CHECK(drv_bar_read(&f.drv, f.drv.isr, 1) == 1);
	CHECK(drv_bar_read(&f.drv, f.drv.isr, 1) == 0);
	vpci_destroy(f.d);
	return 0;
}

static int test_reset(void)
{
	struct fixture f;

	CHECK(bring_up(&f) == 0);
	struct drv *d = &f.drv;
	int resets = f.m.resets;
	f.m.busy = 2; /* busy at the reset and at the first poll */
	drv_common_write(d, C_STATUS, 1, 0);
	CHECK(f.m.resets == resets + 1);
	CHECK(drv_common_read(d, C_STATUS, 1) != 0);
	drv_common_write(d, C_QSELECT, 2, 1); /* ignored while draining */
	CHECK(drv_common_read(d, C_STATUS, 1) == 0);
	CHECK(f.m.resets == resets + 3);
	CHECK(drv_common_read(d, C_QSELECT, 2) == 0);
	CHECK(drv_common_read(d, C_MSIX, 2) == 0xffff);
	drv_common_write(d, C_QSELECT, 2, 0);
	CHECK(drv_common_read(d, C_QENABLE, 2) == 0);
	CHECK(drv_common_read(d, C_QSIZE, 2) == QMAX);
	CHECK(drv_common_read(d, C_QMSIX, 2) == 0xffff);
	CHECK(drv_common_read(d, C_QDESC, 8) == 0);
	vpci_notify_queue(f.d, 0); /* a late completion: no interrupt */
	CHECK(irqs(&f, 1) == 0);
	/* the MSI-X table survives a virtio reset, as on real hardware */
	CHECK(drv_bar_read(d, d->msix_table + 16, 4) == 0xfee00000);
	/* the whole dance works again */
	CHECK(drv_negotiate(d, 1ull << VPCI_F_VERSION_1, NULL) & S_FEATURES_OK);
	vpci_destroy(f.d);
	return 0;
}

static int test_device_config(void)
{
	struct fixture f;

	CHECK(setup_probed(&f) == 0);
	struct drv *d = &f.drv;
	CHECK(drv_bar_read(d, d->device, 1) == 0xa0);
	CHECK(drv_bar_read(d, d->device + 2, 2) == 0xa3a2);
	CHECK(drv_bar_read(d, d->device + 4, 4) == 0xa7a6a5a4);
	CHECK(drv_bar_read(d, d->device + 8, 2) == 0xa9a8);
	CHECK(drv_bar_read(d, d->device + 8, 4) == 0); /* runs past the end */
	CHECK(drv_bar_read(d, d->device + 1, 2) == 0); /* misaligned */
	drv_bar_write(d, d->device, 1, 0x55);
	CHECK(drv_bar_read(d, d->device, 1) == 0x55);
	drv_bar_write(d, d->device + 12, 4, 0x55); /* outside: dropped */
	vpci_destroy(f.d);
	return 0;
}

/* The VIRTIO_PCI_CAP_PCI_CFG window reaches the virtio structures but not
 * the MSI-X table (moat-vcpu must see every table write). */
static int test_pci_cfg_window(void)
{
	struct fixture f;

	CHECK(setup_probed(&f) == 0);
	struct drv *d = &f.drv;
	unsigned cap = d->pcicfg_cap;
	drv_cfg_write(d, cap + 4, 1, 0);
	drv_cfg_write(d, cap + 8, 4, VPCI_COMMON_OFF + C_NUMQ);
	drv_cfg_write(d, cap + 12, 4, 2);
	CHECK(drv_cfg_read(d, cap + 16, 2) == NQ);
	drv_cfg_write(d, cap + 8, 4, VPCI_COMMON_OFF + C_QSELECT);
	drv_cfg_write(d, cap + 16, 2, 1);
	CHECK(drv_common_read(d, C_QSELECT, 2) == 1);
	drv_cfg_write(d, cap + 8, 4, VPCI_MSIX_TABLE_OFF);
	drv_cfg_write(d, cap + 12, 4, 4);
	drv_cfg_write(d, cap + 16, 4, 0xdeadbeef);
	CHECK(drv_bar_read(d, VPCI_MSIX_TABLE_OFF, 4) == 0);
	CHECK(drv_cfg_read(d, cap + 16, 4) == 0);
	drv_cfg_write(d, cap + 12, 4, 3); /* bad length: nothing happens */
	drv_cfg_write(d, cap + 8, 4, VPCI_COMMON_OFF + C_QSELECT);
	drv_cfg_write(d, cap + 16, 4, 0);
	CHECK(drv_common_read(d, C_QSELECT, 2) == 1);
	drv_cfg_write(d, cap + 4, 1, 2); /* BAR2: nothing there */
	drv_cfg_write(d, cap + 12, 4, 2);
	drv_cfg_write(d, cap + 16, 2, 0);
	CHECK(drv_common_read(d, C_QSELECT, 2) == 1);
	vpci_destroy(f.d);
	return 0;
}

TAP_MAIN(TEST(test_identity), TEST(test_bar_sizing), TEST(test_capabilities),
	 TEST(test_memory_enable), TEST(test_features), TEST(test_queue_and_interrupt),
	 TEST(test_msix_disabled_uses_isr), TEST(test_reset), TEST(test_device_config),
	 TEST(test_pci_cfg_window))
