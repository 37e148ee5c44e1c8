/* The PCI bus of moat-vcpu: configuration mechanism 1 (ports 0xCF8/0xCFC),
 * the chipset that firmware expects, and virtio-pci functions owned by
 * device processes at 00:SLOT.0 (SLOT from VPCI_FIRST_SLOT).
 *
 * The chipset is answered here: 00:00.0 i440FX host bridge, 00:01.0 PIIX3
 * ISA bridge, 00:01.3 PIIX4 power management with its ACPI PM block
 * (acpi_pm.h) at the PMBA the guest programs, and the PIIX3's reset
 * control register at port 0xCF9. Any other function reads all ones.
 *
 * A virtio function's config space is its device process's, over the
 * ring, except its BAR registers (0x10-0x27, and the expansion ROM at
 * 0x30), which moat-vcpu owns: BAR0 is a 32-bit memory BAR that starts at
 * the monitor's window and goes where the guest writes it. moat-vcpu
 * snoops the command register's Memory Space Enable (the write still goes
 * to the device), decodes BAR0 where it is while that bit is set, passes
 * each access on at the device's nominal address (its window + offset),
 * keeps one KVM ioeventfd per queue notify address where BAR0 is, and
 * turns the guest's writes to each MSI-X table entry into a KVM MSI route
 * for the irqfd of that vector. A device never asks for a route, so a
 * compromised one cannot aim interrupts anywhere the guest did not.
 * docs/decisions/0014 says why.
 *
 * When a function's process dies, its config space reads all ones (no
 * device) and its BAR0 reads zeros (a device held in reset), so that the
 * guest's driver can still reset it and shut down. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "acpi_pm.h"
#include "pci_display.h"
#include "remote.h"
#include "virtio_pci_layout.h"

struct vm;

/* ---- the BAR registers of a virtio function (pure) -------------------- */

/* What moat-vcpu keeps of a virtio function's BARs: BAR0's address bits
 * (aligned to VPCI_BAR0_SIZE) and Memory Space Enable as the guest last
 * wrote it. BARs 1-5 and the expansion ROM read 0 and ignore writes. */
struct vpci_bar {
	uint32_t bar0;
	bool mem;
};

/* The config registers moat-vcpu answers for a virtio function. */
bool vpci_bar_owns(unsigned reg);
/* Out of reset: BAR0 at the nominal window, decoding off. */
void vpci_bar_reset(struct vpci_bar *s, uint32_t nominal);
/* The dword at reg & ~3 (reg one of vpci_bar_owns). */
uint32_t vpci_bar_read(const struct vpci_bar *s, unsigned reg);
/* A config write of len bytes at reg (within one dword, one of
 * vpci_bar_owns): merged into BAR0 as a register would take it. All ones
 * reads back as the size mask; any address is aligned down to the size. */
void vpci_bar_write(struct vpci_bar *s, unsigned reg, const uint8_t *data, unsigned len);
/* A config write at reg (within one dword): if it covers the command
 * register's low byte, Memory Space Enable follows it. */
void vpci_bar_snoop_cmd(struct vpci_bar *s, unsigned reg, const uint8_t *data, unsigned len);
/* Where BAR0 decodes: its address while Memory Space Enable is set and
 * the BAR is placed, else 0. Not placed: 0 (unassigned) or the sizing
 * value (all ones written, not yet given an address). */
uint32_t vpci_bar_decode(const struct vpci_bar *s);

/* ---- the bus ------------------------------------------------------------ */

struct msix_shadow {
	uint32_t addr_lo, addr_hi, data;
};

struct pci_fn {
	struct remote_dev *rd;
	unsigned slot;
	unsigned index;	  /* which of its process's functions (0: the first) */
	uint64_t nominal; /* the device's own BAR0 address: MMIO reaches it there */
	unsigned nq, nvec;
	unsigned gsi_base;		/* GSI of vector 0; vector v is gsi_base + v */
	int notify_fd[VPCI_MAX_QUEUES]; /* borrowed: open for the VM's lifetime */
	/* Under the bus lock: */
	struct vpci_bar bar;
	/* The cfg window's bar, id, padding, offset, length and data bytes
	 * (VPCI_CAP_PCICFG_OFF + 4 .. + 19), as the guest wrote them. */
	uint8_t win[16];
	uint32_t io_at;	  /* where the ioeventfds were last placed, 0: nowhere */
	uint32_t io_mask; /* the queues whose ioeventfd is registered at io_at */
	bool io_warned;
	struct msix_shadow msix[VPCI_MAX_VECTORS];
	/* Where BAR0 claims MMIO now, 0: nowhere. Written under the bus lock,
	 * read without it by the vCPUs' MMIO exits. */
	_Atomic uint32_t claim;
};

/* A chipset function's config space: its image and which bits a write
 * may change. */
struct pci_cfg {
	uint8_t cfg[256];
	uint8_t wmask[256];
};

struct pci_bus {
	struct vm *vm;
	/* KVM's ioctl on the VM descriptor (ioctl(2)); the unit tests put a
	 * recorder here. */
	int (*kvm_ioctl)(int fd, unsigned long req, void *arg);
	pthread_mutex_t lock; /* all below but the PM block, which has its own */
	uint32_t addr;	      /* 0xCF8 */
	uint8_t rcr;	      /* 0xCF9 */
	struct pci_cfg host, isa, pm;
	int pm_range; /* the PM block's movable iobus range */
	struct acpi_pm acpi;
	struct pci_fn fn[VPCI_MAX_SLOTS];
	unsigned nfn;
	struct pci_display disp; /* the display's function, if has_disp */
	bool has_disp;
};

/* The chipset, the config ports, 0xCF9 and the PM block (not decoding
 * until the guest programs PMBA and PMREGMISC, or pci_pm_preset), on
 * vm->pio. The PM block's SCI is IRQ 9, its soft-off ends the VM
 * (POWEROFF), 0xCF9's reset ends it (RESET). 0 or -errno. */
int pci_bus_init(struct pci_bus *b, struct vm *vm);
/* Attach a function at slot (VPCI_FIRST_SLOT .. VPCI_LAST_SLOT) whose
 * device serves BAR0 at bar0, its nominal window (VPCI_WINDOW): its
 * irqfds are registered with KVM now (irq_fd[v] delivering vector v once
 * the guest has programmed it); its ioeventfds (notify_fd[q] signalled by
 * a 16-bit write at queue q's notify address) whenever BAR0 decodes. The
 * descriptors stay the caller's and must stay open. 0 or -errno. */
int pci_add_fn(struct pci_bus *b, struct remote_dev *rd, unsigned slot, uint64_t bar0,
	       const int *notify_fd, unsigned nq, const int *irq_fd, unsigned nvec);
/* The function at slot is its device process's function index (> 0):
 * its config accesses carry it on the ring (ioring.h, IORING_SPACE_PCICFG).
 * Before the vCPUs run. */
void pci_fn_set_index(struct pci_bus *b, unsigned slot, unsigned index);
/* A trapped MMIO access: true if a function's BAR0 claimed it. */
bool pci_mmio(struct pci_bus *b, uint64_t gpa, uint8_t *data, unsigned len, bool is_write);
/* As firmware would leave the PM function for a direct kernel boot: PMBA
 * = base (64-aligned), I/O space and PMREGMISC enabled, the block decoding. */
void pci_pm_preset(struct pci_bus *b, uint16_t base);
/* The PM block's base now; 0 while it does not decode. */
uint16_t pci_pm_base(struct pci_bus *b);
/* Press the ACPI power button; true if the guest's OS listens for it
 * (acpi_pm_power_button). */
bool pci_power_button(struct pci_bus *b);
