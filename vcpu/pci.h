/* The PCI bus of moat-vcpu: configuration mechanism 1 (ports 0xCF8/0xCFC),
 * a host bridge at 00:00.0, and virtio-pci functions owned by device
 * processes at 00:SLOT.0. This is generic bus logic only: config-space and
 * BAR0 accesses of a function go to its device process over the ring;
 * moat-vcpu keeps the routing (fixed BAR windows, ipc/virtio_pci_layout.h),
 * registers one KVM ioeventfd per queue notify address, and turns the
 * guest's writes to each MSI-X table entry into a KVM MSI route for the
 * irqfd of that vector. A device never asks for a route, so a compromised
 * one cannot aim interrupts anywhere the guest did not.
 *
 * When a function's process dies, its config space reads all ones (no
 * device) and its BAR0 reads zeros (a device held in reset), so that the
 * guest's driver can still reset it and shut down. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "remote.h"
#include "virtio_pci_layout.h"

struct vm;

struct msix_shadow {
	uint32_t addr_lo, addr_hi, data;
};

struct pci_fn {
	struct remote_dev *rd;
	unsigned slot;
	uint64_t bar0;
	unsigned nq, nvec;
	unsigned gsi_base; /* GSI of vector 0; vector v is gsi_base + v */
	struct msix_shadow msix[VPCI_MAX_VECTORS];
};

struct pci_bus {
	struct vm *vm;
	pthread_mutex_t lock; /* the address latch, the MSI-X shadows, the routes */
	uint32_t addr;        /* 0xCF8 */
	struct pci_fn fn[VPCI_MAX_SLOTS];
	unsigned nfn;
};

int pci_bus_init(struct pci_bus *b, struct vm *vm);
/* Attach a function: its ioeventfds and irqfds are registered with KVM
 * now (notify_fd[q] signalled by a write at its notify address; irq_fd[v]
 * delivering vector v once the guest has programmed it). */
int pci_add_fn(struct pci_bus *b, struct remote_dev *rd, unsigned slot, uint64_t bar0,
	       const int *notify_fd, unsigned nq, const int *irq_fd, unsigned nvec);
/* A trapped MMIO access: true if a function's BAR0 claimed it. */
bool pci_mmio(struct pci_bus *b, uint64_t gpa, uint8_t *data, unsigned len, bool is_write);
