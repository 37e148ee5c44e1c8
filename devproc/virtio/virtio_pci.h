/* The virtio 1.x modern PCI transport (virtio spec 4.1), device side, as a
 * library that knows nothing of the device type. A device model plugs in
 * through struct vpci_ops (its identity, features, config space, queues,
 * reset); the transport owns everything PCI: the config space with its
 * capabilities, BAR0 (common config, ISR, device config window, notify
 * region, MSI-X table and PBA) and interrupt delivery through one eventfd
 * per MSI-X vector (KVM turns each into the MSI, through a route moat-vcpu
 * derived from the guest's own writes to the MSI-X table).
 *
 * Register offsets are fixed by ipc/virtio_pci_layout.h, which moat-vcpu
 * relies on too (ioeventfds on the notify addresses, MSI-X snooping).
 *
 * Everything a guest writes is checked: accesses of the wrong size or
 * alignment read 0 and are dropped when written; a guest cannot move BAR0,
 * offer itself features we did not offer, pick a vector beyond the table
 * or enable a queue outside RAM (that sets DEVICE_NEEDS_RESET instead).
 *
 * Memory-space enable (command bit 1) is honoured: while it is clear, BAR0
 * reads float (all ones) and writes are dropped. KVM's ioeventfds and
 * moat-vcpu's MSI-X snooping do not know about it; a guest that writes
 * there with memory decoding off only confuses itself.
 *
 * Locking: one mutex per device guards all transport state. It is taken by
 * every vpci_* entry point and held while the model's callbacks run, so
 * the lock order is: transport lock, then the model's own locks. The model
 * must therefore never call a vpci_* function while it holds one of its own
 * locks, nor from inside a callback (a callback that wants the queue
 * processed defers it, e.g. by writing the queue's notify eventfd). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio_pci_layout.h"

#define VPCI_VENDOR_ID	  0x1af4 /* Red Hat, Inc.: the virtio vendor */
#define VPCI_DEVICE_BASE  0x1040 /* modern device ID = 0x1040 + virtio ID */
#define VPCI_NO_VECTOR	  0xffff
#define VPCI_CONFIG_SPACE 0x1000 /* PCIe-sized; 0x100..0xfff read 0 */

/* Feature bits the transport itself offers, on top of the model's. */
#define VPCI_F_INDIRECT_DESC 28
#define VPCI_F_EVENT_IDX     29
#define VPCI_F_VERSION_1     32

/* A queue as the driver configured it, handed to ops->queue_enable. */
struct vpci_queue_cfg {
	uint16_t size;
	uint64_t desc, driver, device; /* guest-physical, unchecked */
	bool event_idx;		       /* VIRTIO_F_EVENT_IDX negotiated */
};

/* A device model. Every callback runs with the transport lock held (see
 * above) and may be NULL where noted. */
struct vpci_ops {
	/* Device-specific config space: off + size <= config_len is checked;
	 * size is 1, 2, 4 or 8 at any offset. Reads fill *data (little
	 * endian); writes the model does not want are ignored. */
	void (*config_read)(void *model, uint32_t off, unsigned size, uint64_t *data);
	void (*config_write)(void *model, uint32_t off, unsigned size,
			     uint64_t data); /* NULL: RO */
	/* The driver set queue_enable: validate and start the queue (vq_init).
	 * 0, or -errno, after which the transport sets DEVICE_NEEDS_RESET
	 * and raises a configuration interrupt. Also a successor taking the
	 * queue back (vpci_state_load): -EBADMSG then says its in-flight
	 * record is not valid, another error that its rings are not in RAM. */
	int (*queue_enable)(void *model, unsigned q, const struct vpci_queue_cfg *cfg);
	/* A notify write that reached us through the I/O ring instead of the
	 * KVM ioeventfd. Must not process the queue here (see Locking). */
	void (*queue_notify)(void *model, unsigned q);
	/* DRIVER_OK was set, with these features negotiated. May be NULL. */
	void (*driver_ok)(void *model, uint64_t features);
	/* The driver wrote 0 to device_status: stop every queue and forget
	 * it. Must not block. Returns 0 once the model no longer touches guest
	 * memory, or 1 while requests are still in flight; the transport then
	 * keeps device_status non-zero (the driver polls it, spec 4.1.4.3.2)
	 * and calls reset again on each read of it until it returns 0. */
	int (*reset)(void *model);
};

struct vpci_params {
	const struct vpci_ops *ops;
	void *model;
	uint16_t virtio_id;  /* 2: block */
	uint32_t class_code; /* class << 16 | subclass << 8 | prog-if */
	uint64_t features;   /* device-type feature bits the model offers */
	uint16_t num_queues; /* 1..VPCI_MAX_QUEUES */
	uint16_t queue_max;  /* largest queue size, a power of two <= 32768 */
	uint32_t config_len; /* bytes of device config, <= VPCI_DEVCFG_LEN */
	uint64_t bar0_gpa;   /* fixed, aligned to VPCI_BAR0_SIZE, not 0 */
	/* One eventfd per MSI-X vector, 1..VPCI_MAX_VECTORS; the table has
	 * nvectors entries. Not owned: the caller closes them after
	 * vpci_destroy(). Writes of 1 (8 bytes) interrupt the guest. */
	const int *irq_fds;
	unsigned nvectors;
};

struct vpci_dev;

/* A new device in the PCI reset state. 0 and *out, -EINVAL for bad
 * params, -ENOMEM. */
int vpci_create(struct vpci_dev **out, const struct vpci_params *p);
void vpci_destroy(struct vpci_dev *d); /* NULL is fine */

/* Trapped accesses (any thread). Config space: off is the offset in the
 * function's config space (0..0xfff; beyond reads all ones). MMIO: gpa is
 * a guest-physical address; outside BAR0 reads all ones. size 1, 2, 4 or
 * 8; reads store the answer in *data, writes take the low size bytes. */
void vpci_cfg_access(struct vpci_dev *d, uint64_t off, unsigned size, bool is_write,
		     uint64_t *data);
void vpci_mmio_access(struct vpci_dev *d, uint64_t gpa, unsigned size, bool is_write,
		      uint64_t *data);
/* Both, dispatched on an ioring space (IORING_SPACE_PCICFG or _MMIO;
 * port I/O floats): the body of a dev_kind's io callback. */
void vpci_io(struct vpci_dev *d, unsigned space, uint64_t addr, unsigned size, bool is_write,
	     uint64_t *data);

/* Interrupt the driver for queue q (used buffers): its MSI-X vector if
 * MSI-X is enabled and the vector valid (held pending while masked), the
 * ISR's queue bit otherwise. Call without model locks held. */
void vpci_notify_queue(struct vpci_dev *d, unsigned q);
/* The device config changed: bump config_generation and raise a
 * configuration interrupt. */
void vpci_config_changed(struct vpci_dev *d);
/* The model found the driver broke a queue: set DEVICE_NEEDS_RESET and, if
 * the driver is running, raise a configuration interrupt. */
void vpci_set_needs_reset(struct vpci_dev *d);

/* Restart (virtio_pci_state.c): what the driver programmed (features,
 * status, queues, MSI-X table, the writable config-space bits), for the
 * state file; the bytes written to buf, 0 if cap is too small. */
size_t vpci_state_save(struct vpci_dev *d, uint8_t *buf, size_t cap);
/* A successor takes it back: len bytes a process that may have been
 * compromised wrote. Checked whole first (sizes, vectors, feature and
 * status rules a driver could not break through the registers); then
 * applied, each enabled queue through ops->queue_enable, and DRIVER_OK
 * through ops->driver_ok as when the driver set it. 0, or -EBADMSG with
 * one line in err (the device is then half set up: the process must not
 * start). */
int vpci_state_load(struct vpci_dev *d, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* For tests and stats: interrupts written to an eventfd, and writes that
 * failed (a full or closed descriptor). */
void vpci_irq_stats(struct vpci_dev *d, uint64_t *sent, uint64_t *failed);

/* For config_read implementations: size bytes at off of a device's
 * configuration image, little-endian (the transport has already checked
 * that off + size lies within config_len). */
static inline uint64_t vpci_config_bytes(const uint8_t *cfg, uint32_t off, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)cfg[off + i] << (8 * i);
	return v;
}
