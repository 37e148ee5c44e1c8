/* The virtio-pci transport against a hostile guest: vectors out of range,
 * queue sizes 0, 3 and huge, rings outside RAM, queues enabled before
 * FEATURES_OK or changed while live, accesses of the wrong size or
 * alignment, bad creation parameters, and 10^5 random register accesses
 * that must not crash it nor keep a driver from bringing it up after. */
#include "vpci_fixture.h"

/* queue_size 0, 3, above the maximum; addresses outside RAM: NEEDS_RESET
 * and a configuration interrupt. */
static int bad_queue(uint16_t size, uint64_t desc)
{
	struct fixture f;

	CHECK(setup_probed(&f) == 0);
	CHECK(drv_negotiate(&f.drv, 1ull << VPCI_F_VERSION_1, NULL) & S_FEATURES_OK);
	drv_msix_enable(&f.drv);
	drv_common_write(&f.drv, C_MSIX, 2, 0);
	CHECK(drv_setup_queue(&f.drv, 0, size, desc, RING_AVL, RING_USED, 1) == 0);
	CHECK(drv_common_read(&f.drv, C_STATUS, 1) & S_NEEDS_RESET);
	CHECK(irqs(&f, 0) == 1);
	CHECK(f.m.enabled[0] == 0);
	/* a reset clears it, and the queue then works */
	CHECK(drv_negotiate(&f.drv, 1ull << VPCI_F_VERSION_1, NULL) & S_FEATURES_OK);
	CHECK(!(drv_common_read(&f.drv, C_STATUS, 1) & S_NEEDS_RESET));
	CHECK(drv_setup_queue(&f.drv, 0, 64, RING_DESC, RING_AVL, RING_USED, 1) == 1);
	vpci_destroy(f.d);
	return 0;
}

static int test_vectors_out_of_range(void)
{
	struct fixture f;

	CHECK(setup_probed(&f) == 0);
	drv_common_write(&f.drv, C_MSIX, 2, NVEC);
	CHECK(drv_common_read(&f.drv, C_MSIX, 2) == 0xffff);
	drv_common_write(&f.drv, C_MSIX, 2, NVEC - 1);
	CHECK(drv_common_read(&f.drv, C_MSIX, 2) == NVEC - 1);
	drv_common_write(&f.drv, C_QSELECT, 2, 0);
	drv_common_write(&f.drv, C_QMSIX, 2, 0x8000);
	CHECK(drv_common_read(&f.drv, C_QMSIX, 2) == 0xffff);
	drv_common_write(&f.drv, C_QMSIX, 2, 0xffff);
	CHECK(drv_common_read(&f.drv, C_QMSIX, 2) == 0xffff);
	/* queues that do not exist */
	drv_common_write(&f.drv, C_QSELECT, 2, NQ);
	CHECK(drv_common_read(&f.drv, C_QSIZE, 2) == 0);
	drv_common_write(&f.drv, C_QMSIX, 2, 0);
	CHECK(drv_common_read(&f.drv, C_QMSIX, 2) == 0xffff);
	drv_common_write(&f.drv, C_QENABLE, 2, 1);
	CHECK(drv_common_read(&f.drv, C_QENABLE, 2) == 0);
	vpci_notify_queue(f.d, NQ); /* nothing: no crash */
	vpci_notify_queue(f.d, 0xffff);
	/* table entries beyond the table size are holes */
	drv_bar_write(&f.drv, VPCI_MSIX_TABLE_OFF + 16 * NVEC, 4, 0x1234);
	CHECK(drv_bar_read(&f.drv, VPCI_MSIX_TABLE_OFF + 16 * NVEC, 4) == 0);
	vpci_destroy(f.d);
	return 0;
}

static int test_queue_size_zero(void)
{
	return bad_queue(0, RING_DESC);
}

static int test_queue_size_three(void)
{
	return bad_queue(3, RING_DESC);
}

static int test_queue_size_huge(void)
{
	return bad_queue(QMAX * 2, RING_DESC) || bad_queue(0xffff, RING_DESC);
}

static int test_queue_outside_ram(void)
{
	return bad_queue(16, 0x1000) || bad_queue(16, RAM_GPA + RAM_LEN - 16) ||
	       bad_queue(16, 0xfffffffffffffff0ull) || bad_queue(16, RING_DESC + 8);
}

static int test_queue_before_features_ok(void)
{
	struct fixture f;

	CHECK(setup_probed(&f) == 0);
	CHECK(drv_setup_queue(&f.drv, 0, 16, RING_DESC, RING_AVL, RING_USED, 1) == 0);
	CHECK(drv_common_read(&f.drv, C_STATUS, 1) & S_NEEDS_RESET);
	vpci_destroy(f.d);
	return 0;
}

static int test_live_queue_is_frozen(void)
{
	struct fixture f;

	CHECK(bring_up(&f) == 0);
	drv_common_write(&f.drv, C_QSELECT, 2, 0);
	drv_common_write(&f.drv, C_QSIZE, 2, 8);
	drv_common_write(&f.drv, C_QDESC, 8, 0x1000);
	CHECK(drv_common_read(&f.drv, C_QSIZE, 2) == QMAX);
	CHECK(drv_common_read(&f.drv, C_QDESC, 8) == RING_DESC);
	drv_common_write(&f.drv, C_QENABLE, 2, 0); /* no queue reset offered */
	CHECK(drv_common_read(&f.drv, C_QENABLE, 2) == 1);
	drv_common_write(&f.drv, C_QENABLE, 2, 1); /* again: no second vq_init */
	CHECK(f.m.enabled[0] == 1);
	vpci_destroy(f.d);
	return 0;
}

static int test_wrong_sizes(void)
{
	struct fixture f;
	uint64_t v;

	CHECK(setup_probed(&f) == 0);
	struct drv *d = &f.drv;
	CHECK(drv_cfg_read(d, 0x00, 8) == ~0ull); /* no 8-byte config cycles */
	CHECK(drv_cfg_read(d, 0x01, 2) == 0xffff);
	CHECK(drv_common_read(d, C_NUMQ, 1) == 0);
	CHECK(drv_common_read(d, C_NUMQ, 4) == 0);
	CHECK(drv_common_read(d, C_DF, 2) == 0);
	CHECK(drv_common_read(d, C_DF + 1, 1) == 0);
	drv_common_write(d, C_QSELECT, 1, 1);
	drv_common_write(d, C_QSELECT, 4, 1);
	CHECK(drv_common_read(d, C_QSELECT, 2) == 0);
	drv_common_write(d, C_STATUS, 2, S_ACK);
	CHECK(drv_common_read(d, C_STATUS, 1) == 0);
	d->io(d->dev, IORING_SPACE_MMIO, DRV_BAR0 + 3, 4, false, &v);
	CHECK(v == 0);
	d->io(d->dev, IORING_SPACE_MMIO, DRV_BAR0, 3, false, &v);
	CHECK(v == 0);
	d->io(d->dev, IORING_SPACE_PCICFG, 0, 0, false, &v);
	CHECK(v == ~0ull);
	CHECK(drv_bar_read(d, d->isr, 8) == 0);
	CHECK(drv_bar_read(d, d->msix_table + 2, 2) == 0);
	vpci_destroy(f.d);
	return 0;
}

static int test_bad_params(void)
{
	struct model m = {0};
	int fds[1] = {-1};
	struct vpci_params p = {.ops = &m_ops,
				.model = &m,
				.virtio_id = 2,
				.num_queues = 1,
				.queue_max = 256,
				.config_len = 8,
				.bar0_gpa = DRV_BAR0,
				.irq_fds = fds,
				.nvectors = 1};
	struct vpci_dev *d;

	CHECK(vpci_create(&d, &p) == 0);
	vpci_destroy(d);
	vpci_destroy(NULL);
	struct vpci_params q = p;
	q.nvectors = VPCI_MAX_VECTORS + 1;
	CHECK(vpci_create(&d, &q) == -EINVAL);
	q = p, q.num_queues = 0;
	CHECK(vpci_create(&d, &q) == -EINVAL);
	q = p, q.queue_max = 100;
	CHECK(vpci_create(&d, &q) == -EINVAL);
	q = p, q.bar0_gpa = DRV_BAR0 + 0x1000;
	CHECK(vpci_create(&d, &q) == -EINVAL);
	q = p, q.config_len = VPCI_DEVCFG_LEN + 1;
	CHECK(vpci_create(&d, &q) == -EINVAL);
	q = p, q.features = 1ull << VPCI_F_VERSION_1;
	CHECK(vpci_create(&d, &q) == -EINVAL);
	return 0;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random accesses, biased to where the registers are: 10^5 steps must not
 * crash, and the identity and BAR must survive them. */
static int test_random_registers(void)
{
	static const uint64_t bases[] = {0,
					 VPCI_ISR_OFF,
					 VPCI_DEVCFG_OFF,
					 VPCI_NOTIFY_OFF,
					 VPCI_MSIX_TABLE_OFF,
					 VPCI_MSIX_PBA_OFF};
	struct fixture f;
	uint64_t s = 0x9e3779b97f4a7c15ull;

	CHECK(bring_up(&f) == 0);
	for (int i = 0; i < 100000; i++) {
		uint64_t r = rnd(&s), v = rnd(&s), addr;
		unsigned size = 1u << (r & 3);
		bool write = r & 4;
		unsigned space = (r >> 3) & 1 ? IORING_SPACE_MMIO : IORING_SPACE_PCICFG;

		if (space == IORING_SPACE_PCICFG)
			addr = (r >> 8) % ((r >> 40) & 1 ? 0x1100 : 0x100);
		else if ((r >> 4) & 7)
			addr = DRV_BAR0 + bases[(r >> 8) % 6] + ((r >> 16) % 0x80);
		else
			addr = DRV_BAR0 - 0x100 + (r >> 16) % (VPCI_BAR0_SIZE + 0x200);
		if ((r >> 20) % 4 == 0)
			v &= 0xff;
		if (!write)
			v = 0x5a5a5a5a5a5a5a5aull;
		vpci_io(f.d, space, addr, size, write, &v);
		if ((r >> 24) % 64 == 0)
			vpci_notify_queue(f.d, (unsigned)(r >> 30) % 4);
		if ((r >> 24) % 512 == 1)
			vpci_config_changed(f.d);
		if ((r >> 24) % 512 == 2)
			vpci_set_needs_reset(f.d);
		if ((r >> 36) % 8 == 0)
			irqs(&f, (unsigned)(r >> 40) % NVEC); /* drain the eventfds */
	}
	CHECK(drv_cfg_read(&f.drv, 0, 4) == 0x10421af4);
	CHECK(drv_cfg_read(&f.drv, 0x34, 1) == 0x40);
	drv_cfg_write(&f.drv, 0x10, 4, 0);
	drv_cfg_write(&f.drv, 0x14, 4, 0);
	CHECK(drv_cfg_read(&f.drv, 0x10, 4) == ((DRV_BAR0 & 0xffffffff) | 4));
	/* and a driver can still bring it up */
	CHECK(drv_probe(&f.drv) == 0);
	CHECK(drv_negotiate(&f.drv, 1ull << VPCI_F_VERSION_1, NULL) & S_FEATURES_OK);
	vpci_destroy(f.d);
	return 0;
}

TAP_MAIN(TEST(test_vectors_out_of_range), TEST(test_queue_size_zero), TEST(test_queue_size_three),
	 TEST(test_queue_size_huge), TEST(test_queue_outside_ram),
	 TEST(test_queue_before_features_ok), TEST(test_live_queue_is_frozen),
	 TEST(test_wrong_sizes), TEST(test_bad_params), TEST(test_random_registers))
