/* Where a moat virtio-pci device's registers live, shared by the device
 * process (which implements them) and moat-vcpu (which routes accesses,
 * registers one KVM ioeventfd per queue notify address, and derives MSI
 * routes from the guest's writes to the MSI-X table: generic PCI bus logic,
 * so the device never asks for a route and cannot aim interrupts).
 *
 * Slots: 00:00.0 is the i440FX host bridge and 00:01.x the PIIX3/PIIX4
 * functions, answered by moat-vcpu; device processes' functions are
 * 00:SLOT.0 for SLOT from VPCI_FIRST_SLOT, at most VPCI_MAX_SLOTS of them.
 *
 * BAR0: the monitor gives slot N the nominal window
 * VPCI_WINDOW(N) = MOAT_PCI_MMIO_GPA + N * VPCI_WINDOW_SIZE, and the
 * device's registers live there as far as the device knows: every MMIO
 * access reaches it at that address. The guest sees something else:
 * moat-vcpu owns the BAR registers (a 32-bit memory BAR of VPCI_BAR0_SIZE
 * that starts at the nominal window and goes wherever the guest, or its
 * firmware, writes it), decodes BAR0 where the guest put it and passes
 * each access on at nominal window + offset (docs/decisions/0014). */
#pragma once

#include <stdint.h>

#define VPCI_FIRST_SLOT		2  /* 00:00.0 host bridge, 00:01.x PIIX3/PIIX4 */
#define VPCI_MAX_SLOTS		16 /* device functions: 00:02.0 .. 00:11.0 */
#define VPCI_LAST_SLOT		(VPCI_FIRST_SLOT + VPCI_MAX_SLOTS - 1)
#define VPCI_WINDOW_SIZE	0x100000ULL /* 1 MiB per slot in the PCI hole */
#define VPCI_WINDOW(base, slot) ((base) + (uint64_t)(slot)*VPCI_WINDOW_SIZE)

/* BAR0 layout (each region page aligned; BAR0 is VPCI_BAR0_SIZE bytes). */
#define VPCI_BAR0_SIZE	    0x8000
#define VPCI_COMMON_OFF	    0x0000 /* struct virtio_pci_common_cfg */
#define VPCI_COMMON_LEN	    0x0100
#define VPCI_ISR_OFF	    0x1000 /* one byte, read to clear */
#define VPCI_ISR_LEN	    0x0004
#define VPCI_DEVCFG_OFF	    0x2000 /* device-specific configuration */
#define VPCI_DEVCFG_LEN	    0x1000
#define VPCI_NOTIFY_OFF	    0x3000 /* queue q's doorbell: NOTIFY_OFF + q * MULT */
#define VPCI_NOTIFY_MULT    4
#define VPCI_NOTIFY_LEN	    0x1000
#define VPCI_MSIX_TABLE_OFF 0x4000 /* 16 bytes per vector */
#define VPCI_MSIX_PBA_OFF   0x5000
#define VPCI_MSIX_ENTRY	    16

#define VPCI_MAX_QUEUES	 8 /* per device: one notify eventfd each */
#define VPCI_MAX_VECTORS 9 /* per device: config change + one per queue */

/* Capability list in config space (fixed offsets, so moat-vcpu can snoop
 * the MSI-X enable and function-mask bits). */
#define VPCI_CAP_MSIX_OFF      0x40 /* MSI-X capability: ID 0x11, then message control */
#define VPCI_MSIX_CTRL_OFF     (VPCI_CAP_MSIX_OFF + 2)
#define VPCI_MSIX_CTRL_ENABLE  0x8000
#define VPCI_MSIX_CTRL_MASKALL 0x4000
/* virtio vendor capabilities (ID 0x09) follow at 0x50, 0x64, 0x78, 0x88, 0x9c.
 * The last, the VIRTIO_PCI_CAP_PCI_CFG window (struct virtio_pci_cfg_cap),
 * is answered from its bar field on (bytes 4-19) by moat-vcpu: firmware in
 * real mode reaches every register through it, and keeping it beside the
 * BARs turns each of its accesses into one trip to the device instead of
 * four, and a queue notification into none. */
#define VPCI_CAP_PCICFG_OFF 0x9c

_Static_assert(VPCI_LAST_SLOT <= 31, "a PCI bus has 32 device numbers");
