/* How much of everything one moat VM may have, in one place for every
 * process: the monitor refuses anything past these at parse time (exit 2,
 * one line), and moat-vcpu and the devices size their tables from the same
 * numbers, so any configuration the monitor accepts can start.
 *
 * Named moat_limits.h, not limits.h: machine/ is on the include path of
 * most of the tree, and a limits.h there would hide the C library's. */
#pragma once

#include "channel.h"
#include "ioring.h"
#include "display_layout.h"
#include "virtio_pci_layout.h"

/* vCPUs of one VM. 8 is what moat runs and tests today; the boot tables
 * could say more (the MP table up to 254, SMBIOS up to 255, see
 * vcpu/boot/mptable.c and smbios.h) and the I/O rings have
 * IORING_MAX_SLOTS slots, one per vCPU. */
#define MOAT_MAX_CPUS 8

/* Devices of one VM, by kind: at most one Apple SMC, MOAT_MAX_DISKS
 * virtio-blk, MOAT_MAX_NETS virtio-net and one display, one process each. */
#define MOAT_MAX_SMC	 1
#define MOAT_MAX_DISKS	 8
#define MOAT_MAX_NETS	 4
#define MOAT_MAX_DISPLAY 1
#define MOAT_MAX_DEVICES (MOAT_MAX_SMC + MOAT_MAX_DISKS + MOAT_MAX_NETS + MOAT_MAX_DISPLAY)

/* --smbios options of one VM. */
#define MOAT_MAX_SMBIOS 8

/* Each virtio device kind: its queues and MSI-X vectors (configuration
 * changes, then one per queue). */
/* virtio-blk: request queues (--disk queues=, one per vCPU by default) */
#define MOAT_BLK_MAX_QUEUES  8
#define MOAT_BLK_MAX_VECTORS (1 + MOAT_BLK_MAX_QUEUES)
#define MOAT_NET_QUEUES	 2 /* receiveq, transmitq */
#define MOAT_NET_VECTORS (1 + MOAT_NET_QUEUES)

/* The Apple SMC's ports: where Mac OS X and Linux's applesmc look. */
#define MOAT_SMC_PIO_BASE 0x300
#define MOAT_SMC_PIO_LEN  0x20

/* Descriptors of moat-vcpu's start request (monitor/run.c send_start):
 * /dev/kvm, the RAM memfd, the kernel, the initrd, serial out and in; then
 * a ring and a doorbell per device, per virtio device one notify eventfd
 * per queue and one irqfd per vector, and the display's video memory, its
 * keyboard channel and its input functions' eventfds. */
#define MOAT_VCPU_START_FIXED_FDS 6
#define MOAT_VCPU_START_MAX_FDS                                                                    \
	(MOAT_VCPU_START_FIXED_FDS + 2 * MOAT_MAX_DEVICES +                                        \
	 MOAT_MAX_DISKS * (MOAT_BLK_MAX_QUEUES + MOAT_BLK_MAX_VECTORS) +                                   \
	 MOAT_MAX_NETS * (MOAT_NET_QUEUES + MOAT_NET_VECTORS) +                                    \
	 MOAT_MAX_DISPLAY * (2 + DISPLAY_NQ + DISPLAY_NVEC))

_Static_assert(MOAT_MAX_CPUS <= IORING_MAX_SLOTS, "an I/O ring has one slot per vCPU");
/* Each virtio device takes a slot after the host bridge's; the SMC takes
 * none today, but a device kind that moves to PCI must still fit. */
_Static_assert(MOAT_MAX_DEVICES <= VPCI_MAX_SLOTS, "more devices than PCI slots");
_Static_assert(MOAT_MAX_DISKS + MOAT_MAX_NETS + MOAT_MAX_DISPLAY * DISPLAY_FUNCTIONS <=
		   VPCI_MAX_SLOTS,
	       "more PCI functions than slots");
_Static_assert(DISPLAY_NQ <= VPCI_MAX_QUEUES && DISPLAY_NVEC <= VPCI_MAX_VECTORS,
	       "the display's eventfds do not fit one device's lists");
_Static_assert(MOAT_BLK_MAX_QUEUES <= VPCI_MAX_QUEUES && MOAT_NET_QUEUES <= VPCI_MAX_QUEUES,
	       "a device kind has more queues than the transport");
_Static_assert(MOAT_BLK_MAX_VECTORS <= VPCI_MAX_VECTORS && MOAT_NET_VECTORS <= VPCI_MAX_VECTORS,
	       "a device kind has more vectors than the transport");
_Static_assert(MOAT_VCPU_START_MAX_FDS <= IPC_MAX_FDS,
	       "moat-vcpu's start request could carry more descriptors than a message");
