/* The virtio-pci transport's life cycle, entry points, locking, interrupt
 * delivery and device reset. Config space: virtio_pci_cfg.c; BAR0
 * registers: virtio_pci_bar.c. */
#include "virtio_pci.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ioring.h"
#include "virtio_pci_int.h"

static bool params_ok(const struct vpci_params *p)
{
	const struct vpci_ops *o = p->ops;

	return o && o->config_read && o->queue_enable && o->queue_notify && o->reset &&
	       p->num_queues >= 1 && p->num_queues <= VPCI_MAX_QUEUES && p->queue_max >= 1 &&
	       p->queue_max <= 32768 && !(p->queue_max & (p->queue_max - 1)) &&
	       p->config_len <= VPCI_DEVCFG_LEN && p->nvectors >= 1 &&
	       p->nvectors <= VPCI_MAX_VECTORS && p->irq_fds && p->bar0_gpa &&
	       !(p->bar0_gpa & (VPCI_BAR0_SIZE - 1)) &&
	       p->bar0_gpa <= UINT64_MAX - VPCI_BAR0_SIZE && p->class_code <= 0xffffff &&
	       p->virtio_id < 0x40 &&
	       !(p->features >> VPCI_F_INDIRECT_DESC); /* the transport's range */
}

static void reset_state(struct vpci_dev *d);

int vpci_create(struct vpci_dev **out, const struct vpci_params *p)
{
	struct vpci_dev *d;

	if (!params_ok(p))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (pthread_mutex_init(&d->lock, NULL) != 0) {
		free(d);
		return -ENOMEM;
	}
	d->p = *p;
	d->p.irq_fds = NULL;
	memcpy(d->irq_fd, p->irq_fds, p->nvectors * sizeof(int));
	d->offered = p->features | 1ull << VPCI_F_VERSION_1 | 1ull << VPCI_F_INDIRECT_DESC |
		     1ull << VPCI_F_EVENT_IDX;
	/* MSI-X entries come out of reset masked (PCI 3.0, 6.8.2.9) */
	for (unsigned v = 0; v < VPCI_MAX_VECTORS; v++)
		d->msix[v].ctrl = VPCI_MSIX_MASKBIT;
	vpci_cfg_init(d);
	reset_state(d);
	*out = d;
	return 0;
}

void vpci_destroy(struct vpci_dev *d)
{
	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* The virtio state's initial values (spec 2.4); PCI state (config space,
 * MSI-X table) is not touched, as on real hardware. */
static void reset_state(struct vpci_dev *d)
{
	d->status = 0;
	d->dfselect = d->gfselect = 0;
	d->driver_features = 0;
	d->isr = 0;
	d->pba = 0; /* interrupts of the old session are void */
	d->msix_config = VPCI_NO_VECTOR;
	d->queue_select = 0;
	for (unsigned i = 0; i < VPCI_MAX_QUEUES; i++)
		d->q[i] = (struct vpci_queue){.size = d->p.queue_max, .vector = VPCI_NO_VECTOR};
}

/* Device reset (device_status = 0). The model stops its queues; if it
 * still has I/O in flight, device_status reads non-zero until that is
 * done (status_read() in virtio_pci_bar.c asks the model again). */
void vpci_reset(struct vpci_dev *d)
{
	int busy = d->p.ops->reset(d->p.model);

	if (!d->reset_pending)
		d->status_before_reset = d->status;
	d->reset_pending = busy > 0;
	reset_state(d);
}

static void fire(struct vpci_dev *d, unsigned vector)
{
	uint64_t one = 1;

	if (write(d->irq_fd[vector], &one, sizeof(one)) == (ssize_t)sizeof(one))
		d->irqs_sent++;
	else
		d->irqs_failed++;
}

/* Spec 4.1.4.5: the ISR bits are set in any case (a driver without MSI-X
 * reads them); the vector fires only through an enabled, unmasked MSI-X
 * entry, and a masked one is held in the PBA until unmasked. Without MSI-X
 * there is no interrupt at all: we have no INTx pin. */
void vpci_raise(struct vpci_dev *d, uint16_t vector, uint8_t isr_bits)
{
	d->isr |= isr_bits;
	if (!vpci_msix_enabled(d) || vector >= d->p.nvectors)
		return;
	if (vpci_msix_func_masked(d) || (d->msix[vector].ctrl & VPCI_MSIX_MASKBIT)) {
		d->pba |= 1u << vector;
		return;
	}
	fire(d, vector);
}

void vpci_msix_flush_pending(struct vpci_dev *d)
{
	if (!vpci_msix_enabled(d) || vpci_msix_func_masked(d))
		return;
	for (unsigned v = 0; v < d->p.nvectors; v++) {
		if ((d->pba & (1u << v)) && !(d->msix[v].ctrl & VPCI_MSIX_MASKBIT)) {
			d->pba &= ~(1u << v);
			fire(d, v);
		}
	}
}

void vpci_needs_reset_locked(struct vpci_dev *d)
{
	d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	vpci_raise(d, d->msix_config, VPCI_ISR_CONFIG);
}

void vpci_cfg_access(struct vpci_dev *d, uint64_t off, unsigned size, bool is_write, uint64_t *data)
{
	bool ok = vpci_size_ok(off, size) && size <= 4;

	pthread_mutex_lock(&d->lock);
	if (off >= VPCI_CONFIG_SPACE || !ok) {
		if (!is_write)
			*data = ~0ull; /* like an access no function claims */
	} else if (off >= 0x100) {
		if (!is_write)
			*data = 0; /* no extended capabilities */
	} else if (is_write) {
		vpci_cfg_write(d, (uint32_t)off, size, *data);
	} else {
		*data = vpci_cfg_read(d, (uint32_t)off, size);
	}
	pthread_mutex_unlock(&d->lock);
}

void vpci_mmio_access(struct vpci_dev *d, uint64_t gpa, unsigned size, bool is_write,
		      uint64_t *data)
{
	uint64_t off = gpa - d->p.bar0_gpa;
	bool ours = gpa >= d->p.bar0_gpa && off < VPCI_BAR0_SIZE && size <= VPCI_BAR0_SIZE - off;

	pthread_mutex_lock(&d->lock);
	if (!ours || !vpci_mem_enabled(d)) {
		if (!is_write)
			*data = ~0ull; /* not decoded: the bus floats */
	} else if (!vpci_size_ok(off, size)) {
		if (!is_write)
			*data = 0;
	} else if (is_write) {
		vpci_bar_write(d, off, size, size == 8 ? *data : *data & ((1ull << 8 * size) - 1),
			       false);
	} else {
		*data = vpci_bar_read(d, off, size, false);
	}
	pthread_mutex_unlock(&d->lock);
}

void vpci_io(struct vpci_dev *d, unsigned space, uint64_t addr, unsigned size, bool is_write,
	     uint64_t *data)
{
	if (space == IORING_SPACE_PCICFG)
		vpci_cfg_access(d, addr, size, is_write, data);
	else if (space == IORING_SPACE_MMIO)
		vpci_mmio_access(d, addr, size, is_write, data);
	else if (!is_write)
		*data = ~0ull;
}

void vpci_notify_queue(struct vpci_dev *d, unsigned q)
{
	pthread_mutex_lock(&d->lock);
	if (q < d->p.num_queues && d->q[q].enabled)
		vpci_raise(d, d->q[q].vector, VPCI_ISR_QUEUE);
	pthread_mutex_unlock(&d->lock);
}

void vpci_config_changed(struct vpci_dev *d)
{
	pthread_mutex_lock(&d->lock);
	d->generation++;
	vpci_raise(d, d->msix_config, VPCI_ISR_CONFIG);
	pthread_mutex_unlock(&d->lock);
}

void vpci_set_needs_reset(struct vpci_dev *d)
{
	pthread_mutex_lock(&d->lock);
	if (!(d->status & VIRTIO_CONFIG_S_NEEDS_RESET) && !d->reset_pending)
		vpci_needs_reset_locked(d);
	pthread_mutex_unlock(&d->lock);
}

void vpci_irq_stats(struct vpci_dev *d, uint64_t *sent, uint64_t *failed)
{
	pthread_mutex_lock(&d->lock);
	*sent = d->irqs_sent;
	*failed = d->irqs_failed;
	pthread_mutex_unlock(&d->lock);
}
