/* The bochs-display function on moat-vcpu's PCI bus (vcpu/pci_display.c):
 * its config space as Linux's bochs driver and firmware read it, BAR
 * sizing and moves with the video memory's KVM slot following BAR0, BAR2
 * passed on to the device at its nominal address wherever the guest put
 * it, a dead device, and hostile config traffic. KVM is the recorder of
 * pci_fixture.h; the device is a real I/O ring served by a thread. */
#include "pci_fixture.h"

#define SLOT_D	  (VPCI_FIRST_SLOT + 1)
#define VRAM	  (16u << 20)
#define VRAM_GPA  0xE0000000u
#define VRAM_MASK (~(VRAM - 1))

static uint8_t vram_mem[4096];

/* One virtio function at SLOT_A (so the display is not alone on the bus)
 * and the display at SLOT_D, out of reset. */
static int display_up(void)
{
	CHECK(bus_up(1) == 0);
	CHECK(dev_start(&devs[1], "display0") == 0);
	CHECK(pci_display_add(&vm.pci, &devs[1].rd, SLOT_D, NOMINAL(SLOT_D), vram_mem, VRAM,
			      VRAM_GPA) == 0);
	return 0;
}

static int t_identity(void)
{
	CHECK(display_up() == 0);
	CHECK(cfg32(SLOT_D, 0, 0x00) == 0x11111234);
	CHECK(cfg32(SLOT_D, 0, 0x08) == 0x03800002); /* class 0380, revision 2 */
	CHECK(cfg32(SLOT_D, 0, 0x2c) == 0x11001af4);
	CHECK((cfg32(SLOT_D, 0, 0x04) >> 16 & 0x10) == 0); /* no capability list */
	CHECK(cfg32(SLOT_D, 0, 0x3c) >> 8 == 0);	   /* no interrupt pin */
	CHECK(cfg32(SLOT_D, 0, 0x10) == (VRAM_GPA | 0x8)); /* prefetchable */
	CHECK(cfg32(SLOT_D, 0, 0x18) == (uint32_t)NOMINAL(SLOT_D));
	for (unsigned reg = 0x14; reg < 0x28; reg += 4)
		if (reg != 0x18)
			CHECK(cfg32(SLOT_D, 0, reg) == 0);
	CHECK(cfg32(SLOT_D, 0, 0x30) == 0);
	for (unsigned fn = 1; fn < 8; fn++)
		CHECK(cfg32(SLOT_D, fn, 0) == 0xffffffff);
	/* Nothing decodes until memory space is on: no slot, no claim. */
	CHECK(kvm.slot_calls == 0);
	bool claimed;
	mmio_read(NOMINAL(SLOT_D), 4, &claimed);
	CHECK(!claimed);
	return 0;
}

/* Sizing as firmware does it: all ones, read the mask, write an address. */
static int t_sizing_and_moves(void)
{
	bool claimed;

	CHECK(display_up() == 0);
	cfg_write(SLOT_D, 0, 0x10, 4, 0xffffffff);
	CHECK(cfg32(SLOT_D, 0, 0x10) == (VRAM_MASK | 0x8));
	cfg_write(SLOT_D, 0, 0x18, 4, 0xffffffff);
	CHECK(cfg32(SLOT_D, 0, 0x18) == 0xfffff000);
	cfg_write(SLOT_D, 0, 0x10, 4, 0xd1234567); /* aligned down to 16 MiB */
	CHECK(cfg32(SLOT_D, 0, 0x10) == (0xd1000000 | 0x8));
	cfg_write(SLOT_D, 0, 0x18, 4, 0xd2000abc);
	CHECK(cfg32(SLOT_D, 0, 0x18) == 0xd2000000);
	CHECK(kvm.slot_calls == 0);
	cfg_write(SLOT_D, 0, 0x04, 2, 0x0002); /* memory space on */
	CHECK(kvm.slot_gpa == 0xd1000000 && kvm.slot_size == VRAM);
	/* BAR2 reaches the device at its nominal address + offset. */
	uint32_t v = mmio_read(0xd2000500, 2, &claimed);
	CHECK(claimed && devs[1].last_addr == NOMINAL(SLOT_D) + 0x500 && devs[1].last_size == 2);
	CHECK(v == (mmio_answer(NOMINAL(SLOT_D) + 0x500) & 0xffff));
	mmio_read(0xd2001000, 4, &claimed); /* past BAR2 */
	CHECK(!claimed);
	mmio_read(0xd2000ffe, 4, &claimed); /* straddles its end */
	CHECK(!claimed);
	/* A move: the slot is removed, then placed anew. */
	cfg_write(SLOT_D, 0, 0x10, 4, 0xe0000000);
	CHECK(kvm.slot_gpa == 0xe0000000 && kvm.slot_size == VRAM && kvm.bad == 0);
	/* Memory space off: nowhere. */
	cfg_write(SLOT_D, 0, 0x04, 2, 0x0000);
	CHECK(kvm.slot_size == 0);
	mmio_read(0xd2000500, 2, &claimed);
	CHECK(!claimed);
	/* Sizing with decoding on places nothing. */
	cfg_write(SLOT_D, 0, 0x04, 2, 0x0002);
	cfg_write(SLOT_D, 0, 0x10, 4, 0xffffffff);
	CHECK(kvm.slot_size == 0);
	cfg_write(SLOT_D, 0, 0x10, 4, 0);
	CHECK(kvm.slot_size == 0 && kvm.bad == 0);
	return 0;
}

/* A direct kernel boot: decoding on from the start, where the monitor put
 * both BARs; the other function keeps its own. */
static int t_preset(void)
{
	bool claimed;

	CHECK(display_up() == 0);
	CHECK(pci_display_preset(&vm.pci) == 0);
	CHECK(kvm.slot_gpa == VRAM_GPA && kvm.slot_size == VRAM);
	CHECK((cfg32(SLOT_D, 0, 0x04) & 2) == 2);
	mmio_read(NOMINAL(SLOT_D) + 0x600, 4, &claimed);
	CHECK(claimed && devs[1].last_addr == NOMINAL(SLOT_D) + 0x600);
	CHECK(cfg32(SLOT_A, 0, 0x00) == 0x10421af4);
	return 0;
}

/* A BAR0 KVM refuses (over RAM): warned, nothing mapped, nothing breaks. */
static int t_refused_slot(void)
{
	CHECK(display_up() == 0);
	kvm.slot_refuse_at = 0xc0000000;
	cfg_write(SLOT_D, 0, 0x04, 2, 0x0002);
	cfg_write(SLOT_D, 0, 0x10, 4, 0xc0000000);
	CHECK(kvm.slot_size == 0);
	cfg_write(SLOT_D, 0, 0x10, 4, 0xe0000000);
	CHECK(kvm.slot_gpa == 0xe0000000 && kvm.bad == 0);
	return 0;
}

/* Only the writable bits change; the identity never does. */
static int t_write_masks(void)
{
	CHECK(display_up() == 0);
	for (unsigned reg = 0; reg < 256; reg += 4) {
		if (reg >= 0x10 && reg < 0x28)
			continue;
		uint32_t before = cfg32(SLOT_D, 0, reg);
		cfg_write(SLOT_D, 0, reg, 4, 0xffffffff);
		uint32_t after = cfg32(SLOT_D, 0, reg);
		if (reg == 0x04)
			CHECK(after == (before | 7));
		else if (reg == 0x0c)
			CHECK(after == (before | 0xffff));
		else if (reg == 0x3c)
			CHECK(after == (before | 0xff));
		else
			CHECK(after == before);
	}
	return 0;
}

/* A dead moat-display: config space all ones, BAR2 zeros, the slot kept. */
static int t_dead(void)
{
	bool claimed;

	CHECK(display_up() == 0);
	CHECK(pci_display_preset(&vm.pci) == 0);
	remote_detach(&devs[1].rd, "test");
	CHECK(cfg32(SLOT_D, 0, 0x00) == 0xffffffff);
	CHECK(cfg32(SLOT_D, 0, 0x10) == 0xffffffff);
	cfg_write(SLOT_D, 0, 0x10, 4, 0xd0000000);
	CHECK(kvm.slot_gpa == VRAM_GPA);
	uint32_t v = mmio_read(NOMINAL(SLOT_D) + 0x500, 4, &claimed);
	CHECK(claimed && v == 0);
	return 0;
}

/* Bad attachments are refused before anything is registered. */
static int t_bad_attach(void)
{
	CHECK(bus_up(1) == 0);
	CHECK(dev_start(&devs[1], "display0") == 0);
	struct remote_dev *rd = &devs[1].rd;
	CHECK(pci_display_add(&vm.pci, rd, SLOT_A, NOMINAL(SLOT_A), vram_mem, VRAM, VRAM_GPA) < 0);
	CHECK(pci_display_add(&vm.pci, rd, SLOT_D, NOMINAL(SLOT_A), vram_mem, VRAM, VRAM_GPA) < 0);
	CHECK(pci_display_add(&vm.pci, rd, SLOT_D, NOMINAL(SLOT_D), vram_mem, 3u << 20, 0) < 0);
	CHECK(pci_display_add(&vm.pci, rd, SLOT_D, NOMINAL(SLOT_D), vram_mem, VRAM,
			      VRAM_GPA + 0x100000) < 0);
	CHECK(pci_display_add(&vm.pci, rd, 40, NOMINAL(40), vram_mem, VRAM, VRAM_GPA) < 0);
	CHECK(!vm.pci.has_disp);
	CHECK(pci_display_add(&vm.pci, rd, SLOT_D, NOMINAL(SLOT_D), vram_mem, VRAM, VRAM_GPA) == 0);
	CHECK(pci_display_add(&vm.pci, rd, SLOT_D + 1, NOMINAL(SLOT_D + 1), vram_mem, VRAM,
			      VRAM_GPA) < 0);
	return 0;
}

/* Hostile config traffic at every offset and width never breaks the bus. */
static int t_hostile(void)
{
	CHECK(display_up() == 0);
	uint32_t x = 12345;
	for (unsigned i = 0; i < 20000; i++) {
		x = x * 1103515245u + 12345u;
		unsigned reg = (x >> 8) & 0xff, len = 1u << ((x >> 16) % 3);
		cfg_write(SLOT_D, 0, reg & ~(len - 1), len, x);
	}
	CHECK(cfg32(SLOT_D, 0, 0x00) == 0x11111234 && kvm.bad == 0);
	return 0;
}

TAP_MAIN(TEST(t_identity), TEST(t_sizing_and_moves), TEST(t_preset), TEST(t_refused_slot),
	 TEST(t_write_masks), TEST(t_dead), TEST(t_bad_attach), TEST(t_hostile))
