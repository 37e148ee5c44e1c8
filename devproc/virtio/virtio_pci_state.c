/* The transport's state in a device's state file (issue 15, decision
 * 0024): what the driver programmed, saved after every register write,
 * and taken back by the process that replaces a dead one. The image is a
 * fixed layout of fixed-width fields in one build's byte order (the same
 * moat writes and reads it); its magic changes with its layout. */
#include <errno.h>
#include <linux/virtio_config.h>
#include <stdio.h>
#include <string.h>

#include "virtio_pci_int.h"

#define IMAGE_MAGIC 0x3153504du /* "MPS1" */

#define STATUS_BITS                                                                                \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK |        \
	 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_FAILED | VIRTIO_CONFIG_S_NEEDS_RESET)

struct image_queue {
	uint64_t desc, driver, device;
	uint16_t size, vector;
	uint8_t enabled;
	uint8_t reserved[3];
};

struct image {
	uint32_t magic;
	uint16_t num_queues, nvectors;
	uint64_t driver_features;
	uint32_t dfselect, gfselect;
	uint8_t status, generation, isr, reserved0;
	uint16_t msix_config, queue_select;
	uint32_t pba;
	uint8_t cfg[256];
	struct image_queue q[VPCI_MAX_QUEUES];
	struct vpci_msix_entry msix[VPCI_MAX_VECTORS];
};

size_t vpci_state_save(struct vpci_dev *d, uint8_t *buf, size_t cap)
{
	struct image im;

	if (cap < sizeof(im))
		return 0;
	memset(&im, 0, sizeof(im)); /* no stray padding bytes in the file */
	pthread_mutex_lock(&d->lock);
	im.magic = IMAGE_MAGIC;
	im.num_queues = d->p.num_queues;
	im.nvectors = (uint16_t)d->p.nvectors;
	im.driver_features = d->driver_features;
	im.dfselect = d->dfselect;
	im.gfselect = d->gfselect;
	/* a reset still draining is done for a successor: it has nothing in
	 * flight, and reset_state() has run */
	im.status = d->status;
	im.generation = d->generation;
	im.isr = d->isr;
	im.msix_config = d->msix_config;
	im.queue_select = d->queue_select;
	im.pba = d->pba;
	memcpy(im.cfg, d->cfg, sizeof(im.cfg));
	for (unsigned i = 0; i < d->p.num_queues; i++)
		im.q[i] = (struct image_queue){
		    .desc = d->q[i].desc,
		    .driver = d->q[i].driver,
		    .device = d->q[i].device,
		    .size = d->q[i].size,
		    .vector = d->q[i].vector,
		    .enabled = d->q[i].enabled,
		};
	memcpy(im.msix, d->msix, d->p.nvectors * sizeof(im.msix[0]));
	pthread_mutex_unlock(&d->lock);
	memcpy(buf, &im, sizeof(im));
	return sizeof(im);
}

static bool vector_ok(const struct vpci_dev *d, uint16_t v)
{
	return v == VPCI_NO_VECTOR || v < d->p.nvectors;
}

static bool pow2(unsigned v)
{
	return v && !(v & (v - 1));
}

/* What the registers would never have let a driver set. */
static const char *image_check(const struct vpci_dev *d, const struct image *im)
{
	bool features_ok = im->status & VIRTIO_CONFIG_S_FEATURES_OK;

	if (im->magic != IMAGE_MAGIC)
		return "not a transport image of this version";
	if (im->num_queues != d->p.num_queues || im->nvectors != d->p.nvectors)
		return "queue or vector count differs";
	if (im->status & ~STATUS_BITS)
		return "unknown status bits";
	if ((im->status & VIRTIO_CONFIG_S_DRIVER_OK) && !features_ok)
		return "DRIVER_OK without FEATURES_OK";
	if (features_ok && ((im->driver_features & ~d->offered) ||
			    !(im->driver_features & (1ull << VIRTIO_F_VERSION_1))))
		return "features not offered";
	if (im->isr & ~(VPCI_ISR_QUEUE | VPCI_ISR_CONFIG) || im->pba >> d->p.nvectors)
		return "ISR or PBA bits out of range";
	if (!vector_ok(d, im->msix_config))
		return "config vector out of range";
	for (unsigned v = 0; v < d->p.nvectors; v++)
		if (im->msix[v].ctrl & ~VPCI_MSIX_MASKBIT)
			return "reserved MSI-X control bits";
	for (unsigned i = 0; i < VPCI_MAX_QUEUES; i++) {
		const struct image_queue *q = &im->q[i];

		if (i >= d->p.num_queues) {
			if (q->size || q->enabled || q->desc || q->driver || q->device)
				return "a queue beyond the device's";
			continue;
		}
		/* a disabled queue's size is whatever the driver wrote */
		if (!vector_ok(d, q->vector) || q->enabled > 1)
			return "queue vector or enable out of range";
		if (q->enabled && (!features_ok || !pow2(q->size) || q->size > d->p.queue_max))
			return "an enabled queue the driver could not have enabled";
	}
	return NULL;
}

/* The config space: only the bits a driver may write come from the image
 * (BAR0, the IDs and the capabilities stay this process's). */
static void cfg_apply(struct vpci_dev *d, const uint8_t *cfg)
{
	for (unsigned i = 0; i < sizeof(d->cfg); i++)
		d->cfg[i] = (uint8_t)((d->cfg[i] & ~d->wmask[i]) | (cfg[i] & d->wmask[i]));
}

static int apply(struct vpci_dev *d, const struct image *im, char *err, size_t errlen)
{
	int rc;

	cfg_apply(d, im->cfg);
	d->driver_features = im->driver_features;
	d->dfselect = im->dfselect;
	d->gfselect = im->gfselect;
	d->status = im->status;
	d->generation = im->generation;
	d->isr = im->isr;
	d->msix_config = im->msix_config;
	d->queue_select = im->queue_select;
	d->pba = im->pba;
	memcpy(d->msix, im->msix, d->p.nvectors * sizeof(d->msix[0]));
	for (unsigned i = 0; i < d->p.num_queues; i++) {
		const struct image_queue *q = &im->q[i];
		struct vpci_queue_cfg qc = {
		    .size = q->size,
		    .desc = q->desc,
		    .driver = q->driver,
		    .device = q->device,
		    .event_idx = im->driver_features & (1ull << VPCI_F_EVENT_IDX),
		};

		d->q[i] = (struct vpci_queue){.size = q->size,
					      .vector = q->vector,
					      .desc = q->desc,
					      .driver = q->driver,
					      .device = q->device};
		if (!q->enabled)
			continue;
		/* the rings were in RAM when the driver enabled them, and RAM
		 * does not move: a failure here is a forged image or record */
		rc = d->p.ops->queue_enable(d->p.model, i, &qc);
		if (rc < 0) {
			snprintf(err, errlen, "queue %u cannot be taken back: %s", i,
				 rc == -EBADMSG ? "its in-flight record is not valid"
						: "its rings are not in guest RAM");
			return -EBADMSG;
		}
		d->q[i].enabled = true;
	}
	if ((d->status & VIRTIO_CONFIG_S_DRIVER_OK) && d->p.ops->driver_ok)
		d->p.ops->driver_ok(d->p.model, d->driver_features);
	return 0;
}

int vpci_state_load(struct vpci_dev *d, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct image im;
	const char *why;
	int rc;

	if (len != sizeof(im)) {
		snprintf(err, errlen, "the transport state has %zu bytes, not %zu", len,
			 sizeof(im));
		return -EBADMSG;
	}
	memcpy(&im, buf, sizeof(im));
	why = image_check(d, &im);
	if (why) {
		snprintf(err, errlen, "the transport state is not valid: %s", why);
		return -EBADMSG;
	}
	pthread_mutex_lock(&d->lock);
	rc = apply(d, &im, err, errlen);
	pthread_mutex_unlock(&d->lock);
	return rc;
}
