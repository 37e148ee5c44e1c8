/* The virtio cfg window (VIRTIO_PCI_CAP_PCI_CFG), which moat-vcpu answers
 * itself: SeaBIOS in real mode reaches every virtio register through it.
 * Its registers stay here, an access to its data is the BAR access they
 * name (at the device's nominal address), a queue notification signals
 * the queue's eventfd without a trip to the device, the MSI-X table is not
 * writable through it, and nothing the guest does with it crashes. */
#include <sys/eventfd.h>

#include "pci_fixture.h"

#define WIN	 0xa0 /* VPCI_CAP_PCICFG_OFF + 4: bar, id, padding */
#define WIN_OFF	 0xa4
#define WIN_LEN	 0xa8
#define WIN_DATA 0xac

static void window(unsigned slot, uint8_t bar, uint32_t off, uint32_t len)
{
	cfg_write(slot, 0, WIN, 1, bar);
	cfg_write(slot, 0, WIN_OFF, 4, off);
	cfg_write(slot, 0, WIN_LEN, 4, len);
}

static int t_registers_kept(void)
{
	struct dev *d = &devs[0];

	CHECK(bus_up(1) == 0);
	unsigned before = d->mmio_count;
	window(SLOT_A, 0, 0x14, 4);
	cfg_write(SLOT_A, 0, WIN + 1, 2, 0xffff); /* id and padding: read-only */
	CHECK(cfg32(SLOT_A, 0, WIN) == 0);
	CHECK(cfg32(SLOT_A, 0, WIN_OFF) == 0x14);
	CHECK(cfg32(SLOT_A, 0, WIN_LEN) == 4);
	CHECK(d->mmio_count == before);			     /* setting it up reaches nobody */
	CHECK(d->cfg[WIN_OFF] == 0 && d->cfg[WIN_LEN] == 0); /* nor the device's config */
	/* The capability's head is still the device's. */
	d->cfg[0x9c] = 0x09;
	CHECK((cfg32(SLOT_A, 0, 0x9c) & 0xff) == 0x09);
	return 0;
}

static int t_data_is_a_bar_access(void)
{
	struct dev *d = &devs[0];

	CHECK(bus_up(1) == 0);
	/* a read: one MMIO read of the named size at nominal + offset */
	window(SLOT_A, 0, 0x14, 4);
	CHECK(cfg32(SLOT_A, 0, WIN_DATA) == mmio_answer(NOMINAL(SLOT_A) + 0x14));
	CHECK(d->last_addr == NOMINAL(SLOT_A) + 0x14 && d->last_size == 4 && !d->last_write);
	window(SLOT_A, 0, 0x2002, 2);
	CHECK(cfg_read(ADDR(0, SLOT_A, 0, WIN_DATA), 0xcfc, 2) ==
	      (mmio_answer(NOMINAL(SLOT_A) + 0x2002) & 0xffff));
	CHECK(d->last_size == 2);
	/* a write */
	window(SLOT_A, 0, 0x14, 1);
	cfg_write(SLOT_A, 0, WIN_DATA, 1, 0x0f);
	CHECK(d->last_addr == NOMINAL(SLOT_A) + 0x14 && d->last_write && d->last_data == 0x0f);
	/* wherever the guest put BAR0: the device still sees its own address */
	cfg_write(SLOT_A, 0, 0x10, 4, 0xd0000000);
	window(SLOT_A, 0, 0x20, 4);
	cfg32(SLOT_A, 0, WIN_DATA);
	CHECK(d->last_addr == NOMINAL(SLOT_A) + 0x20);
	return 0;
}

static int t_notify_signals(void)
{
	struct dev *d = &devs[0];
	uint64_t n = 0;
	int efd;

	CHECK(bus_up(1) == 0);
	efd = eventfd(0, EFD_NONBLOCK);
	CHECK(efd >= 0);
	vm.pci.fn[0].notify_fd[1] = efd;
	unsigned before = d->mmio_count;
	window(SLOT_A, 0, VPCI_NOTIFY_OFF + 1 * VPCI_NOTIFY_MULT, 2);
	cfg_write(SLOT_A, 0, WIN_DATA, 2, 1);
	CHECK(read(efd, &n, 8) == 8 && n == 1);
	CHECK(d->mmio_count == before); /* no trip to the device */
	/* past the last queue: an ordinary write, which the device ignores */
	window(SLOT_A, 0, VPCI_NOTIFY_OFF + NQ * VPCI_NOTIFY_MULT, 2);
	cfg_write(SLOT_A, 0, WIN_DATA, 2, 1);
	CHECK(d->mmio_count == before + 1);
	CHECK(read(efd, &n, 8) < 0);
	return 0;
}

static int t_msix_not_writable(void)
{
	struct dev *d = &devs[0];

	CHECK(bus_up(1) == 0);
	unsigned before = d->mmio_count;
	window(SLOT_A, 0, VPCI_MSIX_TABLE_OFF, 4);
	cfg_write(SLOT_A, 0, WIN_DATA, 4, 0xfee00000);
	CHECK(d->mmio_count == before);
	CHECK(vm.pci.fn[0].msix[0].addr_lo == 0); /* and no route from it */
	cfg32(SLOT_A, 0, WIN_DATA);		  /* reading it is allowed */
	CHECK(d->mmio_count == before + 1 && !d->last_write);
	return 0;
}

static int t_bad_windows(void)
{
	static const struct {
		uint8_t bar;
		uint32_t off, len;
	} bad[] = {
	    {1, 0x14, 4}, {0, 0x14, 3},		  {0, 0x14, 8},	      {0, 0x15, 4},
	    {0, 0x13, 2}, {0, VPCI_BAR0_SIZE, 4}, {0, 0xfffffffc, 4}, {0xff, 0, 0},
	};
	struct dev *d = &devs[0];

	CHECK(bus_up(1) == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned before = d->mmio_count;
		window(SLOT_A, bad[i].bar, bad[i].off, bad[i].len);
		cfg_write(SLOT_A, 0, WIN_DATA, 4, 0x12345678);
		CHECK(cfg32(SLOT_A, 0, WIN_DATA) == 0x12345678); /* plain storage */
		CHECK(d->mmio_count == before);
	}
	return 0;
}

static int t_dead_device(void)
{
	CHECK(bus_up(1) == 0);
	window(SLOT_A, 0, 0x14, 4);
	remote_detach(&devs[0].rd, "test");
	CHECK(cfg32(SLOT_A, 0, WIN_DATA) == 0xffffffff);
	CHECK(cfg32(SLOT_A, 0, WIN_OFF) == 0xffffffff);
	return 0;
}

/* Random window traffic from two functions: nothing breaks, and the
 * window still works after it. */
static int t_hostile(void)
{
	uint64_t s = 7;

	CHECK(bus_up(2) == 0);
	for (int i = 0; i < 20000; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		unsigned slot = SLOT_A + (s >> 60) % 2, reg = WIN + (s >> 40) % 16;
		unsigned len = 1u << ((s >> 20) % 3);
		reg &= ~(len - 1);
		if ((s >> 10) & 1)
			cfg_write(slot, 0, reg, len, (uint32_t)(s >> 32));
		else
			cfg_read(ADDR(0, slot, 0, reg & 0xfc), (uint16_t)(0xcfc + (reg & 3)), len);
	}
	window(SLOT_B, 0, 0x14, 4);
	CHECK(cfg32(SLOT_B, 0, WIN_DATA) == mmio_answer(NOMINAL(SLOT_B) + 0x14));
	return 0;
}

TAP_MAIN(TEST(t_registers_kept), TEST(t_data_is_a_bar_access), TEST(t_notify_signals),
	 TEST(t_msix_not_writable), TEST(t_bad_windows), TEST(t_dead_device), TEST(t_hostile))
