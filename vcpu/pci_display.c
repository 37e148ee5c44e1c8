#include "pci_display.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>

#include "guest_layout.h"
#include "ioring.h"
#include "log.h"
#include "pci.h"
#include "vm.h"

#define CFG_COMMAND  0x04
#define CMD_MEMORY   0x02
#define CFG_BAR0     0x10
#define CFG_BAR2     0x18
#define CFG_BARS     0x10 /* BAR0 .. BAR5 and the expansion ROM: ours, */
#define CFG_BARS_END 0x28
#define CFG_ROM	     0x30
#define BAR_PREFETCH 0x08

static void put(uint8_t *c, unsigned off, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		c[off + i] = (uint8_t)(v >> 8 * i);
}

/* The header QEMU gives bochs-display on a PCI bus (no capabilities, no
 * interrupt pin); the OS may write command's enables, the cache line size,
 * latency timer and interrupt line. */
static void header_init(struct pci_display *d)
{
	memset(d->cfg, 0, sizeof(d->cfg));
	memset(d->wmask, 0, sizeof(d->wmask));
	put(d->cfg, 0x00, 2, DISPLAY_VENDOR);
	put(d->cfg, 0x02, 2, DISPLAY_DEVICE);
	put(d->cfg, 0x08, 1, DISPLAY_REVISION);
	put(d->cfg, 0x09, 3, DISPLAY_CLASS);
	put(d->cfg, 0x2c, 2, 0x1af4); /* subsystem: QEMU's, as its bochs-display */
	put(d->cfg, 0x2e, 2, 0x1100);
	d->wmask[CFG_COMMAND] = 0x07; /* I/O, memory, bus master */
	d->wmask[0x0c] = 0xff;
	d->wmask[0x0d] = 0xff;
	d->wmask[0x3c] = 0xff;
}

static bool placed(uint32_t bar, uint32_t mask)
{
	return bar != 0 && bar != mask;
}

/* Called with the bus lock held after any change to a BAR or Memory
 * Space Enable: the video memory's KVM slot follows BAR0 (removed, then
 * added at the new place), BAR2's claim follows BAR2. A slot KVM refuses
 * (BAR0 over RAM or another slot) leaves the video memory unmapped there:
 * the guest's own screen breaks, nothing else. */
static void display_update(struct pci_bus *b, struct pci_display *d)
{
	uint32_t mask0 = ~(uint32_t)(d->vram_bytes - 1), mask2 = ~(uint32_t)(DISPLAY_MMIO_LEN - 1);
	uint32_t want0 = d->mem && placed(d->bar0, mask0) ? d->bar0 : 0;
	uint32_t want2 = d->mem && placed(d->bar2, mask2) ? d->bar2 : 0;
	struct kvm_userspace_memory_region m = {
	    .slot = DISPLAY_KVM_SLOT,
	    .userspace_addr = (uint64_t)(uintptr_t)d->vram,
	};

	atomic_store_explicit(&d->claim, want2, memory_order_release);
	if (want0 == d->slot_at)
		return;
	if (d->slot_at) {
		m.guest_phys_addr = d->slot_at;
		m.memory_size = 0;
		if (b->kvm_ioctl(b->vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0)
			log_warn_errno(-errno, "%s: cannot remove the video memory at %#x: %m",
				       d->rd->name, d->slot_at);
		d->slot_at = 0;
	}
	if (!want0)
		return;
	m.guest_phys_addr = want0;
	m.memory_size = d->vram_bytes;
	if (b->kvm_ioctl(b->vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) == 0) {
		d->slot_at = want0;
	} else if (!d->slot_warned) {
		d->slot_warned = true;
		log_warn_errno(-errno, "%s: no video memory with BAR0 at %#x (%m)", d->rd->name,
			       want0);
	}
}

int pci_display_add(struct pci_bus *b, struct remote_dev *rd, unsigned slot, uint64_t nominal,
		    uint8_t *vram, uint64_t vram_bytes, uint64_t vram_gpa)
{
	struct pci_display *d = &b->disp;

	if (b->has_disp || slot < VPCI_FIRST_SLOT || slot > VPCI_LAST_SLOT ||
	    nominal != VPCI_WINDOW(MOAT_PCI_MMIO_GPA, slot) || vram_bytes < 0x10000 ||
	    vram_bytes > (1ULL << 31) || (vram_bytes & (vram_bytes - 1)) || vram_gpa % vram_bytes ||
	    vram_gpa + vram_bytes > (1ULL << 32) || nominal % DISPLAY_MMIO_LEN ||
	    nominal >= (1ULL << 32))
		return -EINVAL;
	for (unsigned i = 0; i < b->nfn; i++)
		if (b->fn[i].slot == slot)
			return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->rd = rd;
	d->slot = slot;
	d->nominal = nominal;
	d->vram = vram;
	d->vram_bytes = vram_bytes;
	d->bar0 = (uint32_t)vram_gpa;
	d->bar2 = (uint32_t)nominal;
	header_init(d);
	pthread_mutex_lock(&b->lock);
	b->has_disp = true;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int pci_display_preset(struct pci_bus *b)
{
	struct pci_display *d = &b->disp;
	int rc;

	pthread_mutex_lock(&b->lock);
	d->mem = true;
	d->cfg[CFG_COMMAND] |= CMD_MEMORY;
	display_update(b, d);
	rc = d->slot_at ? 0 : -EADDRINUSE;
	pthread_mutex_unlock(&b->lock);
	return rc;
}

/* A BAR register's value: BAR0 prefetchable memory, BAR2 memory, the
 * rest (and the expansion ROM: no option ROM yet) 0. */
static uint32_t bar_read(const struct pci_display *d, unsigned reg)
{
	switch (reg & ~3u) {
	case CFG_BAR0:
		return d->bar0 | BAR_PREFETCH;
	case CFG_BAR2:
		return d->bar2;
	default:
		return 0;
	}
}

static void bar_write(struct pci_display *d, unsigned reg, const uint8_t *data, unsigned len)
{
	uint32_t *bar = (reg & ~3u) == CFG_BAR0	  ? &d->bar0
			: (reg & ~3u) == CFG_BAR2 ? &d->bar2
						  : NULL;
	uint32_t mask = (reg & ~3u) == CFG_BAR0 ? ~(uint32_t)(d->vram_bytes - 1)
						: ~(uint32_t)(DISPLAY_MMIO_LEN - 1);
	uint32_t v;

	if (!bar)
		return;
	v = *bar;
	for (unsigned i = 0; i < len && (reg & 3) + i < 4; i++) {
		unsigned shift = 8 * ((reg & 3) + i);
		v = (v & ~(0xffu << shift)) | (uint32_t)data[i] << shift;
	}
	*bar = v & mask;
}

static bool is_bar(unsigned reg)
{
	return (reg >= CFG_BARS && reg < CFG_BARS_END) || (reg >= CFG_ROM && reg < CFG_ROM + 4);
}

void pci_display_config(struct pci_bus *b, unsigned reg, uint8_t *data, unsigned len, bool is_write)
{
	struct pci_display *d = &b->disp;

	if (atomic_load(&d->rd->detached)) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&b->lock);
	if (is_bar(reg) && is_write) {
		bar_write(d, reg, data, len);
		display_update(b, d);
	} else if (is_bar(reg)) {
		uint32_t v = bar_read(d, reg) >> 8 * (reg & 3);
		memcpy(data, &v, len);
	} else if (is_write) {
		for (unsigned i = 0; i < len; i++) {
			uint8_t m = d->wmask[reg + i];
			d->cfg[reg + i] = (uint8_t)((d->cfg[reg + i] & ~m) | (data[i] & m));
		}
		if (reg <= CFG_COMMAND && reg + len > CFG_COMMAND) {
			d->mem = d->cfg[CFG_COMMAND] & CMD_MEMORY;
			display_update(b, d);
		}
	} else {
		memcpy(data, d->cfg + reg, len);
	}
	pthread_mutex_unlock(&b->lock);
}

/* BAR2, wherever it decodes: passed on at the nominal address. A dead
 * moat-display's registers read 0. */
bool pci_display_mmio(struct pci_bus *b, uint64_t gpa, uint8_t *data, unsigned len, bool is_write)
{
	struct pci_display *d = &b->disp;
	uint32_t at = atomic_load_explicit(&d->claim, memory_order_acquire);

	if (!at || gpa < at || gpa - at >= DISPLAY_MMIO_LEN || len > DISPLAY_MMIO_LEN - (gpa - at))
		return false;
	if (remote_access(d->rd, IORING_SPACE_MMIO, d->nominal + (gpa - at), data, len, is_write) <
		0 &&
	    !is_write)
		memset(data, 0, len);
	return true;
}
