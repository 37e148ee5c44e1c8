/* Internals of the virtio-pci transport, shared by its three files:
 * virtio_pci.c (life cycle, locking, interrupts, reset), virtio_pci_cfg.c
 * (PCI config space) and virtio_pci_bar.c (BAR0 registers). Every
 * function here expects the device lock to be held. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio_pci.h"

/* Config space: capability chain (fixed: moat-vcpu snoops the MSI-X one). */
#define VPCI_CAP_COMMON_OFF 0x50 /* struct virtio_pci_cap, 16 bytes */
#define VPCI_CAP_NOTIFY_OFF 0x64 /* struct virtio_pci_notify_cap, 20 bytes */
#define VPCI_CAP_ISR_OFF    0x78
#define VPCI_CAP_DEVICE_OFF 0x88
/* VPCI_CAP_PCICFG_OFF, the cfg window: ipc/virtio_pci_layout.h */
#define VPCI_PCICFG_DATA    (VPCI_CAP_PCICFG_OFF + 16)
#define VPCI_COMMON_CAP_LEN 0x40 /* virtio_pci_modern_common_cfg, rounded */

#define VPCI_CMD_MEMORY	      0x0002
#define VPCI_CMD_MASTER	      0x0004
#define VPCI_CMD_INTX_DISABLE 0x0400

#define VPCI_MSIX_MASKBIT 1u /* vector control: entry masked */

#define VPCI_ISR_QUEUE	0x1 /* ISR bits (spec 4.1.4.5) */
#define VPCI_ISR_CONFIG 0x2

struct vpci_queue {
	uint16_t size;	 /* queue_size as the driver left it (max after reset) */
	uint16_t vector; /* queue_msix_vector */
	bool enabled;
	uint64_t desc, driver, device;
};

struct vpci_msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

struct vpci_dev {
	pthread_mutex_t lock;
	struct vpci_params p; /* irq_fds copied to irq_fd[] */
	int irq_fd[VPCI_MAX_VECTORS];
	uint64_t offered; /* model features | the transport's */

	/* PCI config space: the image answers reads; wmask says which bits
	 * a write may change (BAR0 and the PCI cfg window have handlers). */
	uint8_t cfg[256];
	uint8_t wmask[256];

	/* virtio common configuration */
	uint32_t dfselect, gfselect;
	uint64_t driver_features;
	uint8_t status;
	uint8_t status_before_reset; /* what device_status reads while draining */
	bool reset_pending;
	uint8_t generation;
	uint8_t isr;
	uint16_t msix_config;
	uint16_t queue_select;
	struct vpci_queue q[VPCI_MAX_QUEUES];

	/* MSI-X */
	struct vpci_msix_entry msix[VPCI_MAX_VECTORS];
	uint32_t pba; /* bit v: vector v pending */

	uint64_t irqs_sent, irqs_failed;
};

_Static_assert(VPCI_MAX_VECTORS <= 32, "the PBA is kept in 32 bits");

/* Little-endian field access to byte arrays (config space image). */
static inline uint64_t vpci_le_get(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void vpci_le_put(uint8_t *p, unsigned size, uint64_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline bool vpci_size_ok(uint64_t off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) && (off & (size - 1)) == 0;
}

/* virtio_pci_cfg.c */
void vpci_cfg_init(struct vpci_dev *d);
uint64_t vpci_cfg_read(struct vpci_dev *d, uint32_t off, unsigned size);
void vpci_cfg_write(struct vpci_dev *d, uint32_t off, unsigned size, uint64_t val);
bool vpci_msix_enabled(const struct vpci_dev *d);
bool vpci_msix_func_masked(const struct vpci_dev *d);
bool vpci_mem_enabled(const struct vpci_dev *d);

/* virtio_pci_bar.c: off is relative to BAR0. window: the access comes
 * through the VIRTIO_PCI_CAP_PCI_CFG window, which reaches only the virtio
 * structures (not the MSI-X table, whose writes moat-vcpu must see). */
uint64_t vpci_bar_read(struct vpci_dev *d, uint64_t off, unsigned size, bool window);
void vpci_bar_write(struct vpci_dev *d, uint64_t off, unsigned size, uint64_t val, bool window);

/* virtio_pci.c */
/* Raise vector (or, with MSI-X off, only the ISR bits isr_bits). */
void vpci_raise(struct vpci_dev *d, uint16_t vector, uint8_t isr_bits);
/* Deliver every pending vector that is now unmasked. */
void vpci_msix_flush_pending(struct vpci_dev *d);
void vpci_reset(struct vpci_dev *d);
void vpci_needs_reset_locked(struct vpci_dev *d);
