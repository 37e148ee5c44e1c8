/* BAR0 of a virtio-pci function (layout: ipc/virtio_pci_layout.h): the
 * common configuration (features, status, queues), the ISR, the device's
 * own config (delegated to the model), the notify region, and the MSI-X
 * table and PBA. Fields must be accessed with their own width (64-bit
 * queue addresses also as two dwords, spec 4.1.3.1); anything else reads 0
 * and is dropped when written. */
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "virtio_pci_int.h"

#define DRIVER_SETTABLE                                                                            \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK |        \
	 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_FAILED)

static bool in(uint64_t off, unsigned size, uint64_t start, uint64_t len)
{
	return off >= start && off - start + size <= len;
}

/* Width of the common-config field that starts at or covers rel, or 0. */
static unsigned common_width(uint32_t rel)
{
	switch (rel) {
	case VIRTIO_PCI_COMMON_DFSELECT:
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_GFSELECT:
	case VIRTIO_PCI_COMMON_GF:
		return 4;
	case VIRTIO_PCI_COMMON_MSIX:
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_Q_SELECT:
	case VIRTIO_PCI_COMMON_Q_SIZE:
	case VIRTIO_PCI_COMMON_Q_MSIX:
	case VIRTIO_PCI_COMMON_Q_ENABLE:
	case VIRTIO_PCI_COMMON_Q_NOFF:
	case VIRTIO_PCI_COMMON_Q_NDATA:
	case VIRTIO_PCI_COMMON_Q_RESET:
		return 2;
	case VIRTIO_PCI_COMMON_STATUS:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return 1;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
		return 8;
	default:
		return 0;
	}
}

/* Is (rel, size) a whole field, or a dword half of a 64-bit one? */
static bool common_access_ok(uint32_t rel, unsigned size)
{
	if (size == 4 && rel >= VIRTIO_PCI_COMMON_Q_DESCLO && rel < VIRTIO_PCI_COMMON_Q_NDATA)
		return true; /* rel is dword aligned (checked by the caller) */
	return common_width(rel) == size;
}

static struct vpci_queue *cur_queue(struct vpci_dev *d)
{
	return d->queue_select < d->p.num_queues ? &d->q[d->queue_select] : NULL;
}

/* The 64-bit queue address field covering rel. */
static uint64_t *queue_addr(struct vpci_queue *q, uint32_t rel)
{
	if (rel < VIRTIO_PCI_COMMON_Q_AVAILLO)
		return &q->desc;
	if (rel < VIRTIO_PCI_COMMON_Q_USEDLO)
		return &q->driver;
	return &q->device;
}

/* While the model drains after a reset, device_status stays non-zero. */
static uint8_t status_read(struct vpci_dev *d)
{
	if (d->reset_pending && d->p.ops->reset(d->p.model) == 0)
		d->reset_pending = false;
	if (d->reset_pending)
		return d->status_before_reset ? d->status_before_reset
					      : VIRTIO_CONFIG_S_NEEDS_RESET;
	return d->status;
}

static uint64_t common_read(struct vpci_dev *d, uint32_t rel, unsigned size)
{
	struct vpci_queue *q = cur_queue(d);

	if (!common_access_ok(rel, size))
		return 0;
	switch (rel) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		return d->dfselect;
	case VIRTIO_PCI_COMMON_DF:
		return d->dfselect < 2 ? (uint32_t)(d->offered >> (32 * d->dfselect)) : 0;
	case VIRTIO_PCI_COMMON_GFSELECT:
		return d->gfselect;
	case VIRTIO_PCI_COMMON_GF:
		return d->gfselect < 2 ? (uint32_t)(d->driver_features >> (32 * d->gfselect)) : 0;
	case VIRTIO_PCI_COMMON_MSIX:
		return d->msix_config;
	case VIRTIO_PCI_COMMON_NUMQ:
		return d->p.num_queues;
	case VIRTIO_PCI_COMMON_STATUS:
		return status_read(d);
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return d->generation;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		return d->queue_select;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return q ? q->size : 0; /* 0: no such queue */
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return q ? q->vector : VPCI_NO_VECTOR;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return q ? q->enabled : 0;
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return q ? d->queue_select : 0; /* notify at NOTIFY_OFF + q * MULT */
	}
	if (q && rel >= VIRTIO_PCI_COMMON_Q_DESCLO && rel < VIRTIO_PCI_COMMON_Q_NDATA) {
		uint64_t v = *queue_addr(q, rel);
		return size == 8 ? v : (uint32_t)(v >> (rel % 8 ? 32 : 0));
	}
	return 0;
}

/* FEATURES_OK only for a subset of what we offered that includes
 * VERSION_1 (we are not a legacy device); DRIVER_OK only after it. */
static void status_write(struct vpci_dev *d, uint8_t val)
{
	uint8_t next, added;

	if (val == 0) {
		vpci_reset(d);
		return;
	}
	if (d->reset_pending ||
	    (val & d->status & DRIVER_SETTABLE) != (d->status & DRIVER_SETTABLE))
		return; /* bits are only cleared by a reset */
	next = (uint8_t)((val & DRIVER_SETTABLE) | (d->status & VIRTIO_CONFIG_S_NEEDS_RESET));
	added = next & ~d->status;
	if ((added & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    (!(d->driver_features & (1ull << VIRTIO_F_VERSION_1)) ||
	     (d->driver_features & ~d->offered)))
		next &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
	if (!(next & VIRTIO_CONFIG_S_FEATURES_OK))
		next &= (uint8_t)~VIRTIO_CONFIG_S_DRIVER_OK;
	d->status = next;
	if ((next & added & VIRTIO_CONFIG_S_DRIVER_OK) && d->p.ops->driver_ok)
		d->p.ops->driver_ok(d->p.model, d->driver_features);
}

/* queue_enable = 1: the transport's checks, then the model's (vq_init). */
static void queue_enable(struct vpci_dev *d, unsigned qi)
{
	struct vpci_queue *q = &d->q[qi];
	struct vpci_queue_cfg cfg = {
	    .size = q->size,
	    .desc = q->desc,
	    .driver = q->driver,
	    .device = q->device,
	    .event_idx = d->driver_features & (1ull << VPCI_F_EVENT_IDX),
	};

	if (!(d->status & VIRTIO_CONFIG_S_FEATURES_OK) || q->size == 0 ||
	    q->size > d->p.queue_max || (q->size & (q->size - 1)) ||
	    d->p.ops->queue_enable(d->p.model, qi, &cfg) < 0) {
		vpci_needs_reset_locked(d);
		return;
	}
	q->enabled = true;
}

static uint16_t vector_ok(const struct vpci_dev *d, uint64_t v)
{
	return v < d->p.nvectors ? (uint16_t)v : VPCI_NO_VECTOR;
}

static void queue_write(struct vpci_dev *d, struct vpci_queue *q, uint32_t rel, unsigned size,
			uint64_t val)
{
	if (rel == VIRTIO_PCI_COMMON_Q_MSIX) {
		q->vector = vector_ok(d, val);
		return;
	}
	if (rel == VIRTIO_PCI_COMMON_Q_ENABLE) {
		if (val == 1 && !q->enabled)
			queue_enable(d, (unsigned)(q - d->q));
		return; /* 0 would be a queue reset, which we do not offer */
	}
	if (q->enabled)
		return; /* the driver may not change a live queue */
	if (rel == VIRTIO_PCI_COMMON_Q_SIZE) {
		q->size = (uint16_t)val; /* checked at queue_enable */
	} else if (rel >= VIRTIO_PCI_COMMON_Q_DESCLO && rel < VIRTIO_PCI_COMMON_Q_NDATA) {
		uint64_t *a = queue_addr(q, rel);
		if (size == 8)
			*a = val;
		else if (rel % 8)
			*a = (*a & 0xffffffffu) | val << 32;
		else
			*a = (*a & ~0xffffffffull) | (uint32_t)val;
	}
}

static void common_write(struct vpci_dev *d, uint32_t rel, unsigned size, uint64_t val)
{
	struct vpci_queue *q = cur_queue(d);

	if (!common_access_ok(rel, size))
		return;
	if (rel == VIRTIO_PCI_COMMON_STATUS) {
		status_write(d, (uint8_t)val);
		return;
	}
	if (d->reset_pending)
		return;
	switch (rel) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		d->dfselect = (uint32_t)val;
		return;
	case VIRTIO_PCI_COMMON_GFSELECT:
		d->gfselect = (uint32_t)val;
		return;
	case VIRTIO_PCI_COMMON_GF:
		if (d->gfselect < 2 && !(d->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
			unsigned sh = 32 * d->gfselect;
			d->driver_features = (d->driver_features & ~(0xffffffffull << sh)) |
					     ((val & 0xffffffffull) << sh);
		}
		return;
	case VIRTIO_PCI_COMMON_MSIX:
		d->msix_config = vector_ok(d, val);
		return;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		d->queue_select = (uint16_t)val;
		return;
	}
	if (q)
		queue_write(d, q, rel, size, val);
}

/* ISR status (spec 4.1.4.5): reading it returns and clears the bits. */
static uint64_t isr_read(struct vpci_dev *d, uint64_t rel)
{
	uint8_t v = d->isr;

	if (rel != 0)
		return 0;
	d->isr = 0;
	return v;
}

static uint64_t msix_read(struct vpci_dev *d, uint64_t rel, unsigned size)
{
	const struct vpci_msix_entry *e = &d->msix[rel / VPCI_MSIX_ENTRY];
	uint32_t w[4] = {e->addr_lo, e->addr_hi, e->data, e->ctrl};
	unsigned i = (unsigned)(rel % VPCI_MSIX_ENTRY) / 4;

	if (size == 8)
		return w[i] | (uint64_t)w[i + 1] << 32;
	return size == 4 ? w[i] : 0;
}

static void msix_write_dword(struct vpci_dev *d, uint64_t rel, uint32_t v)
{
	struct vpci_msix_entry *e = &d->msix[rel / VPCI_MSIX_ENTRY];

	switch (rel % VPCI_MSIX_ENTRY) {
	case 0:
		e->addr_lo = v;
		break;
	case 4:
		e->addr_hi = v;
		break;
	case 8:
		e->data = v;
		break;
	default:
		e->ctrl = v & VPCI_MSIX_MASKBIT; /* the other bits are reserved */
		if (!(e->ctrl & VPCI_MSIX_MASKBIT))
			vpci_msix_flush_pending(d);
		break;
	}
}

static void msix_write(struct vpci_dev *d, uint64_t rel, unsigned size, uint64_t val)
{
	if (size == 4 || size == 8)
		msix_write_dword(d, rel, (uint32_t)val);
	if (size == 8)
		msix_write_dword(d, rel + 4, (uint32_t)(val >> 32));
}

/* off + size <= VPCI_BAR0_SIZE and natural alignment are the caller's. */
uint64_t vpci_bar_read(struct vpci_dev *d, uint64_t off, unsigned size, bool window)
{
	uint64_t v = 0;

	if (in(off, size, VPCI_COMMON_OFF, VPCI_COMMON_LEN))
		return common_read(d, (uint32_t)(off - VPCI_COMMON_OFF), size);
	if (in(off, size, VPCI_ISR_OFF, VPCI_ISR_LEN))
		return isr_read(d, off - VPCI_ISR_OFF);
	if (in(off, size, VPCI_DEVCFG_OFF, d->p.config_len)) {
		d->p.ops->config_read(d->p.model, (uint32_t)(off - VPCI_DEVCFG_OFF), size, &v);
		return v;
	}
	if (window)
		return 0; /* the MSI-X structures only through the BAR itself */
	if (in(off, size, VPCI_MSIX_TABLE_OFF, (uint64_t)d->p.nvectors * VPCI_MSIX_ENTRY))
		return msix_read(d, off - VPCI_MSIX_TABLE_OFF, size);
	if (off == VPCI_MSIX_PBA_OFF && size >= 4)
		return d->pba;
	return 0; /* the notify region, holes, the PBA's upper half */
}

void vpci_bar_write(struct vpci_dev *d, uint64_t off, unsigned size, uint64_t val, bool window)
{
	if (in(off, size, VPCI_COMMON_OFF, VPCI_COMMON_LEN)) {
		common_write(d, (uint32_t)(off - VPCI_COMMON_OFF), size, val);
	} else if (in(off, size, VPCI_DEVCFG_OFF, d->p.config_len)) {
		if (d->p.ops->config_write)
			d->p.ops->config_write(d->p.model, (uint32_t)(off - VPCI_DEVCFG_OFF), size,
					       val);
	} else if (in(off, size, VPCI_NOTIFY_OFF, (uint64_t)d->p.num_queues * VPCI_NOTIFY_MULT)) {
		/* Normally KVM's ioeventfd takes these. The value written is
		 * the queue index (or more with NOTIFICATION_DATA, which we
		 * do not offer); the address says which queue it is. */
		unsigned q = (unsigned)((off - VPCI_NOTIFY_OFF) / VPCI_NOTIFY_MULT);
		if (size <= 4 && (d->status & VIRTIO_CONFIG_S_DRIVER_OK) && d->q[q].enabled)
			d->p.ops->queue_notify(d->p.model, q);
	} else if (!window &&
		   in(off, size, VPCI_MSIX_TABLE_OFF, (uint64_t)d->p.nvectors * VPCI_MSIX_ENTRY)) {
		msix_write(d, off - VPCI_MSIX_TABLE_OFF, size, val);
	}
	/* ISR and PBA are read-only; holes ignore writes */
}
