/* moat-vcpu's PCI configuration mechanism 1 as the guest drives it: the
 * host bridge Linux probes for, empty slots, disabled cycles, every port
 * width and offset, and random hostile port traffic. No KVM needed: with no
 * function attached, nothing reaches a device or a route. */
#include <string.h>

#include "pci.h"
#include "tap.h"
#include "vm.h"

static struct vm vm;

static uint32_t cfg_read(uint32_t addr, uint16_t port, unsigned len)
{
	uint8_t b[4] = {0};
	uint32_t v = 0;

	iobus_access(&vm.pio, 0xcf8, (uint8_t *)&addr, 4, true);
	iobus_access(&vm.pio, port, b, len, false);
	memcpy(&v, b, len);
	return v;
}

#define ADDR(bus, slot, fn, reg) (0x80000000u | (bus) << 16 | (slot) << 11 | (fn) << 8 | (reg))

static int t_host_bridge(void)
{
	CHECK(pci_bus_init(&vm.pci, &vm) == 0);
	CHECK(cfg_read(ADDR(0, 0, 0, 0), 0xcfc, 4) == 0x00081b36);
	CHECK(cfg_read(ADDR(0, 0, 0, 8), 0xcfc, 4) == 0x06000000);
	CHECK(cfg_read(ADDR(0, 0, 0, 8), 0xcfe, 2) == 0x0600);
	CHECK(cfg_read(ADDR(0, 0, 0, 8), 0xcff, 1) == 0x06);
	CHECK(cfg_read(ADDR(0, 0, 0, 0), 0xcfd, 1) == 0x1b);
	/* Writes to the bridge are ignored. */
	uint32_t a = ADDR(0, 0, 0, 0), v = 0x12345678;
	iobus_access(&vm.pio, 0xcf8, (uint8_t *)&a, 4, true);
	iobus_access(&vm.pio, 0xcfc, (uint8_t *)&v, 4, true);
	CHECK(cfg_read(ADDR(0, 0, 0, 0), 0xcfc, 4) == 0x00081b36);
	return 0;
}

static int t_nothing_there(void)
{
	CHECK(pci_bus_init(&vm.pci, &vm) == 0);
	CHECK(cfg_read(ADDR(0, 0, 0, 0) & ~0x80000000u, 0xcfc, 4) == 0xffffffff); /* disabled */
	CHECK(cfg_read(ADDR(1, 0, 0, 0), 0xcfc, 4) == 0xffffffff);               /* bus 1 */
	CHECK(cfg_read(ADDR(0, 0, 3, 0), 0xcfc, 4) == 0xffffffff);               /* fn 3 */
	CHECK(cfg_read(ADDR(0, 7, 0, 0), 0xcfc, 4) == 0xffffffff);               /* empty slot */
	CHECK(cfg_read(ADDR(0, 31, 0, 0xfc), 0xcfc, 2) == 0xffff);
	/* A dword read that runs past 0xCFF: the part inside the window is the
	 * register, the rest floats high. */
	CHECK(cfg_read(ADDR(0, 0, 0, 8), 0xcfe, 4) == 0xffff0600);
	/* Byte probes of 0xCFB (Linux's type-1 check) leave the address alone. */
	uint32_t a = ADDR(0, 0, 0, 0);
	uint8_t one = 1;
	iobus_access(&vm.pio, 0xcf8, (uint8_t *)&a, 4, true);
	iobus_access(&vm.pio, 0xcfb, &one, 1, true);
	uint32_t back = 0;
	iobus_access(&vm.pio, 0xcf8, (uint8_t *)&back, 4, false);
	CHECK(back == a);
	uint8_t b[4];
	CHECK(!pci_mmio(&vm.pci, 0xc0000000, b, 4, false));
	return 0;
}

static int t_hostile(void)
{
	CHECK(pci_bus_init(&vm.pci, &vm) == 0);
	srand(7);
	for (int i = 0; i < 100000; i++) {
		uint8_t b[4];
		uint16_t port = 0xcf8 + rand() % 8;
		unsigned len = 1u << (rand() % 3);
		for (unsigned j = 0; j < 4; j++)
			b[j] = (uint8_t)rand();
		iobus_access(&vm.pio, port, b, len, rand() & 1);
		pci_mmio(&vm.pci, (uint64_t)rand() << 12, b, len, rand() & 1);
	}
	/* Still answers properly afterwards. */
	CHECK(cfg_read(ADDR(0, 0, 0, 0), 0xcfc, 4) == 0x00081b36);
	return 0;
}

TAP_MAIN(TEST(t_host_bridge), TEST(t_nothing_there), TEST(t_hostile))
