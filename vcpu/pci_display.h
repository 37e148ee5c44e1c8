/* The bochs-display function (QEMU's -device bochs-display) on moat-vcpu's
 * PCI bus. Its config space is answered here in full: it has no
 * capabilities, no interrupt and nothing its device must decide, and
 * keeping it here means a dead or hostile moat-display cannot make the
 * function look like anything else.
 *
 *   BAR0: the video memory, a 32-bit prefetchable memory BAR of its size
 *         (a power of two). The monitor's memfd is mapped here and becomes
 *         a KVM memory slot wherever the guest puts BAR0 while Memory
 *         Space Enable is on: the guest draws into it at memory speed, and
 *         moat-display reads it through its own read-only mapping.
 *   BAR2: the registers (EDID, DISPI, QEMU extension; 4 KiB), trapped and
 *         passed on over moat-display's ring at its nominal address + the
 *         offset, wherever the guest put BAR2, as virtio BAR0s are
 *         (docs/decisions/0014).
 *
 * Out of reset both BARs hold where the monitor placed them (BAR0 at
 * MOAT_VRAM_GPA, BAR2 at the slot's window) and, for a direct kernel boot
 * (pci_display_preset), decode at once, as firmware would have left them:
 * the boot parameters' screen_info points at BAR0.
 *
 * When moat-display dies, the config space reads all ones and BAR2 zeros,
 * as every dead device's; the video memory stays memory. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct pci_bus;
struct remote_dev;

#define DISPLAY_VENDOR	 0x1234
#define DISPLAY_DEVICE	 0x1111
#define DISPLAY_REVISION 0x02
#define DISPLAY_CLASS	 0x038000 /* display controller, other */
#define DISPLAY_MMIO_LEN 0x1000	  /* BAR2 */
/* The KVM memory slot of the video memory: far above the RAM and firmware
 * slots (vm.c, loader_fw.c), which take the first few. */
#define DISPLAY_KVM_SLOT 32

struct pci_display {
	struct remote_dev *rd;
	unsigned slot;
	uint64_t nominal; /* BAR2's address as moat-display knows it */
	uint8_t *vram;	  /* our mapping, for KVM */
	uint64_t vram_bytes;
	/* Under the bus lock: */
	uint8_t cfg[256], wmask[256]; /* the header, BARs excluded */
	uint32_t bar0, bar2;	      /* address bits as the guest wrote them */
	bool mem;		      /* Memory Space Enable */
	uint32_t slot_at;	      /* where the KVM slot is, 0: nowhere */
	bool slot_warned;
	/* Where BAR2 claims MMIO now, 0: nowhere. Written under the bus lock,
	 * read without it by the vCPUs' MMIO exits. */
	_Atomic uint32_t claim;
};

/* Attach the function at slot, video memory vram (vram_bytes, a power of
 * two of at least 64 KiB, mapped by the caller and kept mapped for the
 * VM's life) out of reset at vram_gpa, registers at nominal (the slot's
 * window). 0 or -errno. */
int pci_display_add(struct pci_bus *b, struct remote_dev *rd, unsigned slot, uint64_t nominal,
		    uint8_t *vram, uint64_t vram_bytes, uint64_t vram_gpa);
/* As firmware leaves it for a direct kernel boot: memory decoding on,
 * both BARs where they are. 0 or -errno (the KVM slot refused). */
int pci_display_preset(struct pci_bus *b);
/* Called by the bus: a config access at reg (within one dword) of the
 * display's slot, and a trapped MMIO access (true if BAR2 claimed it). */
void pci_display_config(struct pci_bus *b, unsigned reg, uint8_t *data, unsigned len,
			bool is_write);
bool pci_display_mmio(struct pci_bus *b, uint64_t gpa, uint8_t *data, unsigned len, bool is_write);
