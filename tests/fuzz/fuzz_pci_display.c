/* libFuzzer target: the bochs-display function on moat-vcpu's PCI bus
 * (vcpu/pci_display.c through vcpu/pci.c's configuration mechanism 1)
 * under arbitrary guest config cycles, with KVM's memory-slot calls
 * recorded as KVM would take them.
 *
 * Input: 7-byte operations:
 *   byte 0: bits 0-1 width (1, 2, 4, 4), bit 2 write, bit 3 through the
 *           display's slot (else a neighbouring slot or function, which
 *           must stay absent), bits 4-7 ignored
 *   byte 1: the register (its low bits are aligned to the width)
 *   bytes 2-5: the value written (little-endian)
 *   byte 6: ignored
 *
 * Oracle, after every operation: the identity registers are bochs-
 * display's; KVM was never asked to add a slot over one that exists;
 * the video memory's slot, if any, lies where BAR0 says, aligned to its
 * size, inside 4 GiB, not at 0, and only while Memory Space Enable is on;
 * BAR2's claim likewise (4 KiB aligned); an absent function reads all
 * ones. MMIO is not exercised: it only forwards to the device process. */
#include <linux/kvm.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest_layout.h"
#include "pci.h"
#include "vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SLOT_D VPCI_FIRST_SLOT
#define VRAM   (16u << 20)

static struct vm vm;
static struct remote_dev rd = {.name = "display0"};
static uint8_t vram[64];
static struct {
	uint64_t gpa, size;
	unsigned bad;
} slot;

int vm_set_irq(struct vm *v, unsigned irq, bool level)
{
	(void)v, (void)irq, (void)level;
	return 0;
}

void vm_end(struct vm *v, int reason, unsigned vcpu, const char *detail, const char *dump)
{
	(void)v, (void)reason, (void)vcpu, (void)detail, (void)dump;
}

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	const struct kvm_userspace_memory_region *m = arg;

	(void)fd;
	if (req != KVM_SET_USER_MEMORY_REGION)
		return 0;
	if (m->memory_size && slot.size)
		slot.bad++;
	if (m->memory_size && (m->memory_size != VRAM || m->slot != DISPLAY_KVM_SLOT))
		slot.bad++;
	slot.gpa = m->memory_size ? m->guest_phys_addr : 0;
	slot.size = m->memory_size;
	return 0;
}

static uint32_t conf(unsigned s, unsigned reg, unsigned len, bool write, uint32_t v)
{
	uint32_t addr = 0x80000000u | s << 11 | (reg & 0xfc);

	iobus_access(&vm.pio, 0xcf8, (uint8_t *)&addr, 4, true);
	iobus_access(&vm.pio, (uint16_t)(0xcfc + (reg & 3)), (uint8_t *)&v, len, write);
	return v;
}

static void check(void)
{
	struct pci_display *d = &vm.pci.disp;
	uint32_t cmd = conf(SLOT_D, 0x04, 2, false, 0) & 0xffff;
	uint32_t bar0 = conf(SLOT_D, 0x10, 4, false, 0), bar2 = conf(SLOT_D, 0x18, 4, false, 0);
	uint32_t claim = atomic_load(&d->claim);

	if (conf(SLOT_D, 0x00, 4, false, 0) != 0x11111234 ||
	    conf(SLOT_D, 0x08, 4, false, 0) != 0x03800002 || slot.bad)
		abort();
	if ((bar0 & 0xf) != 0x8 || (bar2 & 0xfff))
		abort();
	if (slot.size && (!(cmd & 2) || slot.gpa != (bar0 & ~0xfu) || slot.gpa % VRAM ||
			  slot.gpa == 0 || slot.gpa + VRAM > (1ULL << 32)))
		abort();
	if (claim && (!(cmd & 2) || claim != bar2 || claim % 0x1000))
		abort();
	if (conf(SLOT_D + 1, 0x00, 4, false, 0) != 0xffffffff ||
	    conf(SLOT_D, 0x00, 4, false, 0) == 0xffffffff)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned width[4] = {1, 2, 4, 4};

	memset(&slot, 0, sizeof(slot));
	memset(&vm.pio, 0, sizeof(vm.pio));
	if (pci_bus_init(&vm.pci, &vm) < 0)
		abort();
	vm.pci.kvm_ioctl = fake_ioctl;
	if (pci_display_add(&vm.pci, &rd, SLOT_D, VPCI_WINDOW(MOAT_PCI_MMIO_GPA, SLOT_D), vram,
			    VRAM, MOAT_VRAM_GPA) < 0)
		abort();
	if (size && data[0] & 0x80 && pci_display_preset(&vm.pci) < 0)
		abort();
	for (size_t i = 0; i + 7 <= size; i += 7) {
		const uint8_t *op = data + i;
		unsigned len = width[op[0] & 3], reg = op[1] & ~(len - 1);
		unsigned s = op[0] & 8 ? SLOT_D : SLOT_D + 1 + (op[6] & 3);
		uint32_t v = op[2] | op[3] << 8 | op[4] << 16 | (uint32_t)op[5] << 24;
		conf(s, reg, len, op[0] & 4, v);
		check();
	}
	return 0;
}
