/* moat-vcpu's PCI bus as the guest and its firmware drive it: the chipset
 * functions (i440FX, PIIX3, PIIX4 PM) and their write masks, the PM
 * block following PMBA, 0xCF9, the probes Linux makes, the BAR registers
 * moat-vcpu keeps for a virtio function, and hostile traffic over all of it.
 *
 * No KVM: the VM's two entry points the bus calls (vm_set_irq, vm_end) are
 * recorded here, and so are its KVM ioctls (pci_bus.kvm_ioctl), by a
 * recorder that keeps ioeventfds as KVM does (a second one at the same
 * address is refused). Virtio functions are attached to real I/O rings
 * served by a small device in a thread of this process, so config and
 * MMIO accesses travel the same path as to a device process. */
#include "pci_fixture.h"

/* ---- chipset ------------------------------------------------------------- */

static int t_chipset_ids(void)
{
	CHECK(bus_up(0) == 0);
	/* 00:00.0 i440FX: OVMF picks its platform from this device id. */
	CHECK(cfg32(0, 0, 0x00) == 0x12378086);
	CHECK(cfg32(0, 0, 0x08) == 0x06000002);
	CHECK((cfg32(0, 0, 0x0c) >> 16 & 0xff) == 0x00);
	/* Byte and word reads at every offset of the dword. */
	CHECK(cfg_read(ADDR(0, 0, 0, 8), 0xcfe, 2) == 0x0600);
	CHECK(cfg_read(ADDR(0, 0, 0, 8), 0xcff, 1) == 0x06);
	CHECK(cfg_read(ADDR(0, 0, 0, 0), 0xcfd, 1) == 0x80);
	CHECK(cfg_read(ADDR(0, 0, 0, 0), 0xcfe, 2) == 0x1237);
	/* 00:01.0 PIIX3, multi-function. */
	CHECK(cfg32(1, 0, 0x00) == 0x70008086);
	CHECK((cfg32(1, 0, 0x08) >> 8) == 0x060100);
	CHECK((cfg32(1, 0, 0x0c) >> 16 & 0xff) == 0x80);
	CHECK(cfg32(1, 0, 0x60) == 0x80808080);
	/* 00:01.3 PIIX4 PM. */
	CHECK(cfg32(1, 3, 0x00) == 0x71138086);
	CHECK(cfg32(1, 3, 0x08) == 0x06800003);
	CHECK((cfg32(1, 3, 0x0c) >> 16 & 0xff) == 0x00);
	CHECK(cfg32(1, 3, 0x40) == 0x00000001);
	CHECK(cfg32(1, 3, 0x58) == 0x02000000); /* SMM "already set up" */
	CHECK(cfg32(1, 3, 0x80) == 0);
	/* Everything else: all ones. */
	for (unsigned fn = 1; fn < 8; fn++)
		CHECK(cfg32(0, fn, 0) == 0xffffffff);
	for (unsigned fn = 1; fn < 8; fn++)
		if (fn != 3)
			CHECK(cfg32(1, fn, 0) == 0xffffffff);
	for (unsigned slot = 2; slot < 32; slot++)
		CHECK(cfg32(slot, 0, 0) == 0xffffffff);
	CHECK(cfg_read(ADDR(1, 0, 0, 0), 0xcfc, 4) == 0xffffffff);		  /* bus 1 */
	CHECK(cfg_read(ADDR(0, 0, 0, 0) & ~0x80000000u, 0xcfc, 4) == 0xffffffff); /* disabled */
	/* A dword read that runs past 0xCFF: the part inside the window is the
	 * register, the rest floats high. */
	CHECK(cfg_read(ADDR(0, 0, 0, 8), 0xcfe, 4) == 0xffff0600);
	uint8_t b[4];
	CHECK(!pci_mmio(&vm.pci, 0xc0000000, b, 4, false));
	return 0;
}

/* Writes change only the bits a register lets them. */
static int t_chipset_write_masks(void)
{
	CHECK(bus_up(0) == 0);
	for (unsigned reg = 0; reg < 256; reg += 4) {
		uint32_t host = cfg32(0, 0, reg), isa = cfg32(1, 0, reg), pm = cfg32(1, 3, reg);
		cfg_write(0, 0, reg, 4, 0xffffffff);
		cfg_write(1, 0, reg, 4, 0xffffffff);
		cfg_write(1, 3, reg, 4, 0xffffffff);
		uint32_t h1 = cfg32(0, 0, reg), i1 = cfg32(1, 0, reg), p1 = cfg32(1, 3, reg);
		switch (reg) {
		case 0x04: /* command: I/O, memory, bus master */
			CHECK(h1 == (host | 7) && i1 == (isa | 7) && p1 == (pm | 7));
			break;
		case 0x0c: /* cache line size */
			CHECK(h1 == (host | 0xff) && i1 == (isa | 0xff) && p1 == (pm | 0xff));
			break;
		case 0x3c: /* interrupt line */
			CHECK(h1 == (host | 0xff) && i1 == (isa | 0xff) && p1 == (pm | 0xff));
			break;
		case 0x58: /* PAM0 (bits 5:4), PAM1-2 */
			CHECK(h1 == 0x33333000 && i1 == isa && p1 == pm);
			break;
		case 0x5c: /* PAM3-6 */
			CHECK(h1 == 0x33333333 && i1 == isa && p1 == pm);
			break;
		case 0x60: /* PIRQ routing */
			CHECK(h1 == host && i1 == 0x8f8f8f8f && p1 == pm);
			break;
		case 0x40: /* PMBA: bits 15:6, bit 0 reads 1 */
			CHECK(h1 == host && i1 == isa && p1 == 0x0000ffc1);
			break;
		case 0x80: /* PMREGMISC bit 0 */
			CHECK(h1 == host && i1 == isa && p1 == 0x00000001);
			break;
		default:
			CHECK(h1 == host && i1 == isa && p1 == pm);
		}
	}
	/* Byte writes, too. */
	cfg_write(1, 3, 0x41, 1, 0x12);
	cfg_write(1, 3, 0x40, 1, 0x7f);
	CHECK(cfg32(1, 3, 0x40) == 0x1241);
	return 0;
}

/* The PM block decodes at PMBA while PMREGMISC bit 0 is set. */
static int t_pm_decode(void)
{
	CHECK(bus_up(0) == 0);
	CHECK(pci_pm_base(&vm.pci) == 0);
	cfg_write(1, 3, 0x40, 4, 0x0000b001);
	CHECK(pci_pm_base(&vm.pci) == 0); /* not enabled yet */
	CHECK(port_read(0xb004, 2) == 0xffff);
	cfg_write(1, 3, 0x80, 1, 0x01);
	CHECK(pci_pm_base(&vm.pci) == 0xb000);
	CHECK(port_read(0xb004, 2) == ACPI_PM1_SCI_EN);
	CHECK(port_read(0xb008, 4) >> 24 == 0); /* a 24-bit timer */
	CHECK(port_read(0xb03f, 1) == 0);
	CHECK(port_read(0xb040, 1) == 0xff); /* past the 64 ports */
	/* Moved: the old ports float, the new ones answer. */
	cfg_write(1, 3, 0x40, 2, 0x0601);
	CHECK(pci_pm_base(&vm.pci) == 0x600);
	CHECK(port_read(0xb004, 2) == 0xffff);
	CHECK(port_read(0x604, 2) == ACPI_PM1_SCI_EN);
	/* Off again. */
	cfg_write(1, 3, 0x80, 1, 0x00);
	CHECK(pci_pm_base(&vm.pci) == 0);
	CHECK(port_read(0x604, 2) == 0xffff);
	/* Over the config ports: 0xCF8 stays the bus's. */
	cfg_write(1, 3, 0x40, 4, 0x0cc0);
	cfg_write(1, 3, 0x80, 1, 0x01);
	CHECK(pci_pm_base(&vm.pci) == 0xcc0);
	CHECK(port_read(0xcc4, 2) == ACPI_PM1_SCI_EN);
	CHECK(cfg32(0, 0, 0) == 0x12378086);
	/* As firmware leaves it for a direct kernel boot. */
	pci_pm_preset(&vm.pci, 0xb000);
	CHECK(pci_pm_base(&vm.pci) == 0xb000);
	CHECK(cfg32(1, 3, 0x40) == 0xb001 && (cfg32(1, 3, 0x80) & 1) && (cfg32(1, 3, 4) & 1));
	CHECK(port_read(0xb004, 2) == ACPI_PM1_SCI_EN);
	return 0;
}

/* Soft-off, the SCI on IRQ 9 and the power button through the bus. */
static int t_pm_wired(void)
{
	CHECK(bus_up(0) == 0);
	pci_pm_preset(&vm.pci, 0x600);
	CHECK(!pci_power_button(&vm.pci) && rec.sci_calls == 0);
	port_write(0x600, 2, ACPI_PM1_PWRBTN); /* clear the press */
	port_write(0x602, 2, ACPI_PM1_PWRBTN);
	CHECK(pci_power_button(&vm.pci) && rec.sci == 1);
	port_write(0x600, 2, ACPI_PM1_PWRBTN);
	CHECK(rec.sci == 0 && rec.ends == 0);
	port_write(0x604, 2, 5u << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN); /* S1..: ignored */
	CHECK(rec.ends == 0);
	port_write(0x604, 2, ACPI_PM1_SLP_EN);
	CHECK(rec.ends == 1 && rec.reason == MOAT__VCPU__EXIT_EVENT__REASON__POWEROFF);
	CHECK(strcmp(rec.detail, "guest powered off (ACPI S5)") == 0);
	return 0;
}

/* 0xCF9: RST_CPU resets; other bits read back; probes still float. */
static int t_reset_control(void)
{
	CHECK(bus_up(0) == 0);
	CHECK(port_read(0xcf9, 1) == 0);
	port_write(0xcf9, 1, 0x02);
	CHECK(port_read(0xcf9, 1) == 0x02 && rec.ends == 0);
	port_write(0xcf9, 1, 0xf9); /* no RST_CPU */
	CHECK(port_read(0xcf9, 1) == 0x08 && rec.ends == 0);
	/* wider accesses at 0xCF9 are not the register */
	port_write(0xcf9, 2, 0x0606);
	CHECK(rec.ends == 0 && port_read(0xcf9, 2) == 0xffff);
	CHECK(port_read(0xcfa, 1) == 0xff && port_read(0xcfb, 1) == 0xff);
	/* Linux's type 1 probe: a byte at 0xCFB, then the address register. */
	port_write(0xcfb, 1, 0x01);
	port_write(0xcf8, 4, 0x80000000);
	CHECK(port_read(0xcf8, 4) == 0x80000000);
	/* its type 2 probe finds nothing */
	port_write(0xcf8, 1, 0);
	port_write(0xcfa, 1, 0);
	CHECK(port_read(0xcf8, 1) == 0xff && port_read(0xcfa, 1) == 0xff);
	port_write(0xcf9, 1, 0x06);
	CHECK(rec.ends == 1 && rec.reason == MOAT__VCPU__EXIT_EVENT__REASON__RESET);
	CHECK(strcmp(rec.detail, "guest reset (0xCF9)") == 0);
	return 0;
}

/* ---- the BAR registers, pure ------------------------------------------- */

static int t_bar_pure(void)
{
	struct vpci_bar s;
	uint8_t ones[4] = {0xff, 0xff, 0xff, 0xff}, b;

	vpci_bar_reset(&s, 0xc0200000);
	CHECK(vpci_bar_read(&s, 0x10) == 0xc0200000 && vpci_bar_read(&s, 0x13) == 0xc0200000);
	CHECK(vpci_bar_decode(&s) == 0); /* decoding off */
	for (unsigned reg = 0x14; reg < 0x28; reg++)
		CHECK(vpci_bar_owns(reg) && vpci_bar_read(&s, reg) == 0);
	CHECK(vpci_bar_owns(0x30) && vpci_bar_owns(0x33) && vpci_bar_read(&s, 0x30) == 0);
	CHECK(!vpci_bar_owns(0x0f) && !vpci_bar_owns(0x28) && !vpci_bar_owns(0x2c));
	CHECK(!vpci_bar_owns(0x34) && !vpci_bar_owns(0x04));
	/* Memory Space Enable from any write covering byte 0x04. */
	b = 0x02;
	vpci_bar_snoop_cmd(&s, 0x04, &b, 1);
	CHECK(s.mem && vpci_bar_decode(&s) == 0xc0200000);
	b = 0x00;
	vpci_bar_snoop_cmd(&s, 0x05, &b, 1); /* not the enable byte */
	CHECK(s.mem);
	vpci_bar_snoop_cmd(&s, 0x06, ones, 2);
	CHECK(s.mem);
	uint32_t w = 0x00100000; /* status bit, command 0 */
	vpci_bar_snoop_cmd(&s, 0x04, (uint8_t *)&w, 4);
	CHECK(!s.mem);
	w = 0x0406;
	vpci_bar_snoop_cmd(&s, 0x04, (uint8_t *)&w, 2);
	CHECK(s.mem);
	/* Sizing reads the size mask, and does not decode. */
	vpci_bar_write(&s, 0x10, ones, 4);
	CHECK(vpci_bar_read(&s, 0x10) == (uint32_t) ~(VPCI_BAR0_SIZE - 1));
	CHECK(vpci_bar_decode(&s) == 0);
	/* An address is aligned down to the size. */
	w = 0xd0001234;
	vpci_bar_write(&s, 0x10, (uint8_t *)&w, 4);
	CHECK(vpci_bar_read(&s, 0x10) == 0xd0000000 && vpci_bar_decode(&s) == 0xd0000000);
	/* Partial writes merge as a register's bytes would. */
	b = 0xfe;
	vpci_bar_write(&s, 0x13, &b, 1);
	CHECK(vpci_bar_read(&s, 0x10) == 0xfe000000);
	b = 0xff;
	vpci_bar_write(&s, 0x11, &b, 1);
	CHECK(vpci_bar_read(&s, 0x10) == 0xfe008000);
	uint16_t h = 0x1234;
	vpci_bar_write(&s, 0x12, (uint8_t *)&h, 2);
	CHECK(vpci_bar_read(&s, 0x10) == 0x12348000);
	/* Zero is unassigned; other BARs and the ROM take nothing. */
	w = 0;
	vpci_bar_write(&s, 0x10, (uint8_t *)&w, 4);
	CHECK(vpci_bar_decode(&s) == 0);
	for (unsigned reg = 0x14; reg < 0x28; reg += 4)
		vpci_bar_write(&s, reg, ones, 4);
	vpci_bar_write(&s, 0x30, ones, 4);
	for (unsigned reg = 0x14; reg < 0x28; reg += 4)
		CHECK(vpci_bar_read(&s, reg) == 0);
	CHECK(vpci_bar_read(&s, 0x30) == 0 && vpci_bar_read(&s, 0x10) == 0);
	return 0;
}

/* ---- BARs on the bus --------------------------------------------------- */

static bool notify_at(uint32_t bar, const struct dev *d)
{
	for (unsigned q = 0; q < NQ; q++)
		if (io_find(bar + VPCI_NOTIFY_OFF + q * VPCI_NOTIFY_MULT, d->notify[q]) < 0)
			return false;
	return true;
}

/* The BAR registers are moat-vcpu's; the rest is the device's. */
static int t_bar_config(void)
{
	CHECK(bus_up(1) == 0);
	CHECK(cfg32(SLOT_A, 0, 0) == 0x10421af4); /* the device's */
	CHECK(cfg32(SLOT_A, 0, 0x10) == NOMINAL(SLOT_A));
	for (unsigned reg = 0x14; reg < 0x28; reg += 4)
		CHECK(cfg32(SLOT_A, 0, reg) == 0);
	CHECK(cfg32(SLOT_A, 0, 0x30) == 0);
	CHECK(cfg32(SLOT_A, 1, 0) == 0xffffffff);
	/* Sizing, as firmware and Linux do it. */
	cfg_write(SLOT_A, 0, 0x10, 4, 0xffffffff);
	CHECK(cfg32(SLOT_A, 0, 0x10) == (uint32_t) ~(VPCI_BAR0_SIZE - 1));
	cfg_write(SLOT_A, 0, 0x14, 4, 0xffffffff);
	CHECK(cfg32(SLOT_A, 0, 0x14) == 0); /* not a 64-bit BAR */
	cfg_write(SLOT_A, 0, 0x30, 4, 0xfffff800);
	CHECK(cfg32(SLOT_A, 0, 0x30) == 0); /* no ROM */
	cfg_write(SLOT_A, 0, 0x10, 4, 0xe0004321);
	CHECK(cfg32(SLOT_A, 0, 0x10) == 0xe0000000);
	CHECK(cfg_read(ADDR(0, SLOT_A, 0, 0x10), 0xcfe, 2) == 0xe000);
	/* A dword at 0xCFD: three bytes of the register, two accesses. */
	CHECK(cfg_read(ADDR(0, SLOT_A, 0, 0), 0xcfd, 4) == 0xff10421a);
	CHECK(cfg_read(ADDR(0, SLOT_A, 0, 0x10), 0xcfd, 4) == 0xffe00000);
	/* none of it reached the device, whose own BAR words are unchanged */
	CHECK(devs[0].cfg[0x10] == 0x0c && devs[0].cfg[0x13] == 0xc0 && devs[0].cfg[0x30] == 1);
	/* The command register is the device's, and is seen. */
	cfg_write(SLOT_A, 0, 0x04, 2, 0x0006);
	CHECK((cfg32(SLOT_A, 0, 0x04) & 0xffff) == 0x0006 && devs[0].cfg[4] == 0x06);
	return 0;
}

/* Decoding follows Memory Space Enable and the BAR; the device always
 * sees its nominal address; the ioeventfds follow. */
static int t_bar_moves(void)
{
	const uint64_t nom = NOMINAL(SLOT_A), off = VPCI_DEVCFG_OFF + 8;
	bool claimed;
	uint32_t v;

	CHECK(bus_up(1) == 0);
	CHECK(kvm.nio == 0);
	mmio_read(nom + off, 4, &claimed);
	CHECK(!claimed); /* decoding off */
	cfg_write(SLOT_A, 0, 0x04, 2, 0x0002);
	CHECK(notify_at((uint32_t)nom, &devs[0]) && kvm.nio == NQ);
	v = mmio_read(nom + off, 4, &claimed);
	CHECK(claimed && v == mmio_answer(nom + off) && devs[0].last_addr == nom + off);
	/* Firmware moves it, decoding on: */
	cfg_write(SLOT_A, 0, 0x10, 4, 0xd0000000);
	mmio_read(nom + off, 4, &claimed);
	CHECK(!claimed);
	v = mmio_read(0xd0000000 + off, 2, &claimed);
	CHECK(claimed && devs[0].last_addr == nom + off && devs[0].last_size == 2);
	CHECK(v == (mmio_answer(nom + off) & 0xffff));
	CHECK(notify_at(0xd0000000, &devs[0]) && kvm.nio == NQ);
	/* The last byte of the BAR is its; the byte after is not. */
	mmio_read(0xd0000000 + VPCI_BAR0_SIZE - 1, 1, &claimed);
	CHECK(claimed && devs[0].last_addr == nom + VPCI_BAR0_SIZE - 1);
	mmio_read(0xd0000000 + VPCI_BAR0_SIZE - 2, 4, &claimed);
	CHECK(!claimed);
	mmio_read(0xd0000000 + VPCI_BAR0_SIZE, 1, &claimed);
	CHECK(!claimed);
	/* Mid-sizing: nowhere. */
	cfg_write(SLOT_A, 0, 0x10, 4, 0xffffffff);
	mmio_read(0xd0000000 + off, 4, &claimed);
	CHECK(!claimed && kvm.nio == 0);
	cfg_write(SLOT_A, 0, 0x10, 4, 0xd0008000);
	CHECK(notify_at(0xd0008000, &devs[0]) && kvm.nio == NQ);
	/* Decoding off: nowhere; on again: back. */
	cfg_write(SLOT_A, 0, 0x04, 1, 0x04);
	mmio_read(0xd0008000 + off, 4, &claimed);
	CHECK(!claimed && kvm.nio == 0);
	cfg_write(SLOT_A, 0, 0x04, 4, 0x00000006);
	mmio_read(0xd0008000 + off, 4, &claimed);
	CHECK(claimed && notify_at(0xd0008000, &devs[0]) && kvm.nio == NQ);
	/* A write goes to the device at its nominal address. */
	uint32_t w = 0x1234;
	CHECK(pci_mmio(&vm.pci, 0xd0008000 + VPCI_COMMON_OFF + 0x14, (uint8_t *)&w, 4, true));
	CHECK(devs[0].last_write && devs[0].last_addr == nom + 0x14 && devs[0].last_data == 0x1234);
	CHECK(kvm.bad == 0);
	return 0;
}

/* MSI-X: the table is snooped where BAR0 is now. */
static int t_bar_msix(void)
{
	uint32_t entry[4] = {0xfee01000, 0, 0x4041, 0};

	CHECK(bus_up(1) == 0);
	cfg_write(SLOT_A, 0, 0x10, 4, 0xd0000000);
	cfg_write(SLOT_A, 0, 0x04, 2, 0x0006);
	unsigned before = kvm.routes;
	for (unsigned i = 0; i < 3; i++)
		CHECK(pci_mmio(&vm.pci, 0xd0000000 + VPCI_MSIX_TABLE_OFF + VPCI_MSIX_ENTRY + 4 * i,
			       (uint8_t *)&entry[i], 4, true));
	CHECK(kvm.routes > before && kvm.msi_routes == 1 && kvm.last_msi_addr == 0xfee01000);
	CHECK(devs[0].last_addr == NOMINAL(SLOT_A) + VPCI_MSIX_TABLE_OFF + VPCI_MSIX_ENTRY + 8);
	return 0;
}

/* Two functions on one address: the first in slot order claims, and the
 * other takes over when it leaves. */
static int t_bar_overlap(void)
{
	const uint64_t off = VPCI_ISR_OFF;
	bool claimed;

	CHECK(bus_up(2) == 0);
	cfg_write(SLOT_A, 0, 0x04, 2, 0x0002);
	cfg_write(SLOT_B, 0, 0x04, 2, 0x0002);
	CHECK(notify_at((uint32_t)NOMINAL(SLOT_A), &devs[0]));
	CHECK(notify_at((uint32_t)NOMINAL(SLOT_B), &devs[1]) && kvm.nio == 2 * NQ);
	cfg_write(SLOT_B, 0, 0x10, 4, (uint32_t)NOMINAL(SLOT_A)); /* B over A */
	mmio_read(NOMINAL(SLOT_A) + off, 1, &claimed);
	CHECK(claimed && devs[0].last_addr == NOMINAL(SLOT_A) + off && devs[1].mmio_count == 0);
	CHECK(notify_at((uint32_t)NOMINAL(SLOT_A), &devs[0]) && kvm.nio == NQ);
	cfg_write(SLOT_A, 0, 0x10, 4, 0xd0000000); /* A leaves: B has it */
	mmio_read(NOMINAL(SLOT_A) + off, 1, &claimed);
	CHECK(claimed && devs[1].last_addr == NOMINAL(SLOT_B) + off);
	CHECK(notify_at((uint32_t)NOMINAL(SLOT_A), &devs[1]) && notify_at(0xd0000000, &devs[0]));
	CHECK(kvm.nio == 2 * NQ);
	/* A back over B: A again, whichever moved last. */
	cfg_write(SLOT_A, 0, 0x10, 4, (uint32_t)NOMINAL(SLOT_A));
	mmio_read(NOMINAL(SLOT_A) + off, 1, &claimed);
	CHECK(claimed && devs[0].last_addr == NOMINAL(SLOT_A) + off);
	CHECK(notify_at((uint32_t)NOMINAL(SLOT_A), &devs[0]) && kvm.nio == NQ);
	CHECK(kvm.bad == 0);
	return 0;
}

/* KVM refuses an ioeventfd: that queue's notifications trap and reach the
 * device as MMIO writes. */
static int t_bar_refused(void)
{
	const uint32_t at = 0xd0000000, q1 = at + VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT;
	uint16_t idx = 1;

	CHECK(bus_up(1) == 0);
	kvm.refuse_at = q1;
	cfg_write(SLOT_A, 0, 0x10, 4, at);
	cfg_write(SLOT_A, 0, 0x04, 2, 0x0002);
	CHECK(kvm.nio == NQ - 1 && io_find(q1, -1) < 0);
	CHECK(pci_mmio(&vm.pci, q1, (uint8_t *)&idx, 2, true));
	CHECK(devs[0].last_write && devs[0].last_size == 2 && devs[0].last_data == 1);
	CHECK(devs[0].last_addr == NOMINAL(SLOT_A) + VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT);
	/* Moving on removes exactly what was registered. */
	cfg_write(SLOT_A, 0, 0x10, 4, 0xd0010000);
	CHECK(notify_at(0xd0010000, &devs[0]) && kvm.nio == NQ);
	return 0;
}

/* Wherever the guest puts BAR0 it is only an address to the bus: over
 * RAM (KVM's memory wins there and never exits), the LAPIC, the top of
 * the 32-bit space, or 0 (unassigned: nowhere). */
static int t_bar_hostile_places(void)
{
	static const uint32_t places[] = {
	    0x100000, 0x8000, MOAT_LAPIC_GPA, MOAT_IOAPIC_GPA, 0xffff0000, 0xfffe8000, 0};
	bool claimed;

	CHECK(bus_up(1) == 0);
	cfg_write(SLOT_A, 0, 0x04, 2, 0x0002);
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		uint32_t at = places[i];
		cfg_write(SLOT_A, 0, 0x10, 4, at);
		CHECK(cfg32(SLOT_A, 0, 0x10) == at);
		mmio_read((uint64_t)at + 4, 4, &claimed);
		CHECK(claimed == (at != 0));
		CHECK(at ? notify_at(at, &devs[0]) && kvm.nio == NQ : kvm.nio == 0);
	}
	return 0;
}

/* A dead device: its config space, BARs included, reads all ones; its
 * BAR0 still decodes, reading zeros. */
static int t_bar_dead(void)
{
	bool claimed;

	CHECK(bus_up(1) == 0);
	cfg_write(SLOT_A, 0, 0x04, 2, 0x0002);
	remote_detach(&devs[0].rd, "test");
	CHECK(cfg32(SLOT_A, 0, 0) == 0xffffffff && cfg32(SLOT_A, 0, 0x10) == 0xffffffff);
	CHECK(mmio_read(NOMINAL(SLOT_A) + 4, 4, &claimed) == 0 && claimed);
	return 0;
}

/* ---- hostile ------------------------------------------------------------ */

/* What the bus must still be after anything: for each function, its
 * ioeventfds exactly where BAR0 decodes (the first in slot order on an
 * address shared), computed from what a guest can read back. */
static int consistent(unsigned nfn)
{
	uint32_t want[2] = {0};
	unsigned n = 0;

	for (unsigned i = 0; i < nfn; i++) {
		uint32_t bar = cfg32(SLOT_A + i, 0, 0x10);
		bool mem = devs[i].cfg[4] & 2;
		if (mem && bar && bar != (uint32_t) ~(VPCI_BAR0_SIZE - 1))
			want[i] = bar;
		if (i && want[i] == want[0])
			want[i] = 0;
		if (want[i]) {
			CHECK(notify_at(want[i], &devs[i]));
			n += NQ;
		}
	}
	CHECK(kvm.nio == n && kvm.bad == 0);
	return 0;
}

static int t_hostile(void)
{
	static const uint32_t sane[] = {(uint32_t)NOMINAL(SLOT_A), (uint32_t)NOMINAL(SLOT_B),
					0xd0000000};

	CHECK(bus_up(2) == 0);
	srand(7);
	for (int i = 0; i < 100000; i++) {
		uint8_t b[4];
		unsigned len = 1u << (rand() % 3), k = rand() % 2;
		uint32_t at = atomic_load(&vm.pci.fn[k].claim);
		for (unsigned j = 0; j < 4; j++)
			b[j] = (uint8_t)rand();
		switch (rand() % 6) {
		case 0: { /* an address on bus 0, mostly near the functions */
			unsigned slot = rand() % 4 ? rand() % 4 : rand() % 32;
			uint32_t a = ADDR(0, slot, rand() % 8, rand() % 256);
			if (rand() % 16 == 0)
				a = (uint32_t)rand() << 1 ^ (uint32_t)rand();
			iobus_access(&vm.pio, 0xcf8, (uint8_t *)&a, 4, true);
			break;
		}
		case 1:
			iobus_access(&vm.pio, 0xcf8 + rand() % 8, b, len, rand() & 1);
			break;
		case 2: /* wherever the PM block may be */
			iobus_access(&vm.pio, (uint16_t)rand(), b, len, rand() & 1);
			break;
		case 3: /* a guest that places and enables BARs, often on each other */
			cfg_write(SLOT_A + k, 0, 0x10, 4, sane[rand() % 3]);
			cfg_write(SLOT_A + k, 0, 0x04, 2, 0x0006);
			break;
		case 4: /* at a BAR that decodes */
			if (at)
				pci_mmio(&vm.pci, at + rand() % (VPCI_BAR0_SIZE + 8), b, len,
					 rand() & 1);
			break;
		default: {
			uint64_t gpa = rand() % 2 ? 0xc0000000u + (rand() % 0x4000000)
						  : (uint64_t)rand() << 12;
			pci_mmio(&vm.pci, gpa, b, len, rand() & 1);
		}
		}
		if (i % 997 == 0 && consistent(2))
			return 1;
	}
	/* Still answers properly afterwards, the devices attached. */
	fprintf(stderr, "MMIO accesses reaching the devices: %u, %u\n", devs[0].mmio_count,
		devs[1].mmio_count);
	CHECK(devs[0].mmio_count > 100 && devs[1].mmio_count > 100);
	CHECK(cfg32(0, 0, 0) == 0x12378086 && cfg32(1, 3, 0) == 0x71138086);
	CHECK(cfg32(SLOT_A, 0, 0) == 0x10421af4 && cfg32(SLOT_B, 0, 0) == 0x10421af4);
	return consistent(2);
}

TAP_MAIN(TEST(t_chipset_ids), TEST(t_chipset_write_masks), TEST(t_pm_decode), TEST(t_pm_wired),
	 TEST(t_reset_control), TEST(t_bar_pure), TEST(t_bar_config), TEST(t_bar_moves),
	 TEST(t_bar_msix), TEST(t_bar_overlap), TEST(t_bar_refused), TEST(t_bar_hostile_places),
	 TEST(t_bar_dead), TEST(t_hostile))
