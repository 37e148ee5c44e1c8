/* The virtio device core (vdevice.h): the transport ops every device
 * shares, the config image, reset, and the bounded kick loop. */
#include "vdevice.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devstate.h"

struct vdev {
	const struct vdev_ops *ops;
	void *dev;
	const struct gmem *mem;
	struct vpci_dev *vpci;
	atomic_bool live; /* DRIVER_OK and no reset since */
	/* restart: each queue's in-flight record (NULL: not tracked), and
	 * whether queue_enable is a successor taking a queue back */
	struct vq_inflight *rec[VPCI_MAX_QUEUES];
	bool resuming;
	pthread_mutex_t cfg_lock;
	uint8_t config[VPCI_DEVCFG_LEN];
	struct vdev_queue q[VPCI_MAX_QUEUES];
};

struct vdev_queue *vdev_queue(struct vdev *d, unsigned qi)
{
	return &d->q[qi];
}

bool vdev_live(const struct vdev *d)
{
	return atomic_load(&d->live);
}

void vdev_queue_depth(struct vdev *d, unsigned qi, unsigned *waiting, unsigned *taken)
{
	struct vdev_queue *q = &d->q[qi];

	*waiting = *taken = 0;
	pthread_mutex_lock(&q->lock);
	if (q->ready && q->vq.desc) {
		/* avail->idx is the guest's: a bogus one shows as a bogus depth */
		*waiting = (uint16_t)(vq_avail_idx(&q->vq) - q->vq.last_avail);
		*taken = (uint16_t)(q->vq.last_avail - q->vq.used_idx);
	}
	pthread_mutex_unlock(&q->lock);
}

void vdev_irq_stats(struct vdev *d, uint64_t *sent, uint64_t *failed)
{
	vpci_irq_stats(d->vpci, sent, failed);
}

void vdev_kick_later(struct vdev *d, unsigned qi)
{
	uint64_t one = 1;

	/* the notify eventfd: the main loop comes back to this queue */
	if (write(d->q[qi].notify_fd, &one, sizeof(one)) < 0)
		return; /* full (2^64 - 2 kicks pending): it fires anyway */
}

void vdev_interrupt(struct vdev *d, unsigned qi)
{
	vpci_notify_queue(d->vpci, qi);
}

void vdev_set_needs_reset(struct vdev *d)
{
	vpci_set_needs_reset(d->vpci);
}

/* ---- the config image ------------------------------------------------------ */

void vdev_config_set(struct vdev *d, uint32_t off, const void *src, size_t len)
{
	pthread_mutex_lock(&d->cfg_lock);
	memcpy(d->config + off, src, len);
	pthread_mutex_unlock(&d->cfg_lock);
}

void vdev_config_put(struct vdev *d, uint32_t off, unsigned size, uint64_t value)
{
	uint8_t b[8];

	for (unsigned i = 0; i < size; i++)
		b[i] = (uint8_t)(value >> (8 * i));
	vdev_config_set(d, off, b, size);
}

void vdev_config_changed(struct vdev *d)
{
	vpci_config_changed(d->vpci);
}

/* ---- the virtio-pci device ops (transport lock held) ---------------------- */

static void vdev_config_read(void *model, uint32_t off, unsigned size, uint64_t *data)
{
	struct vdev *d = model;

	pthread_mutex_lock(&d->cfg_lock);
	*data = vpci_config_bytes(d->config, off, size);
	pthread_mutex_unlock(&d->cfg_lock);
}

static void vdev_config_write(void *model, uint32_t off, unsigned size, uint64_t data)
{
	struct vdev *d = model;

	if (d->ops->config_write)
		d->ops->config_write(d->dev, off, size, data);
}

static int vdev_queue_enable(void *model, unsigned qi, const struct vpci_queue_cfg *cfg)
{
	struct vdev *d = model;
	struct vdev_queue *q = &d->q[qi];
	int rc;

	pthread_mutex_lock(&q->lock);
	rc =
	    vq_init(&q->vq, d->mem, cfg->size, cfg->desc, cfg->driver, cfg->device, cfg->event_idx);
	q->nresub = q->next_resub = 0;
	if (rc == 0 && d->resuming)
		rc = vq_resume(&q->vq, d->rec[qi],
			       d->ops->in_order ? VQ_RESUME_IN_ORDER : VQ_RESUME_INFLIGHT, q->resub,
			       &q->nresub);
	else if (rc == 0 && d->rec[qi])
		vq_track(&q->vq, d->rec[qi]);
	q->ready = rc == 0;
	q->gen++;
	pthread_mutex_unlock(&q->lock);
	return rc;
}

/* A notify write through the I/O ring: processed from the loop, as the
 * transport's locking wants. */
static void vdev_queue_notify(void *model, unsigned qi)
{
	vdev_kick_later(model, qi);
}

/* Buffers made available before DRIVER_OK wait until now (spec 3.1.1). */
static void vdev_driver_ok(void *model, uint64_t features)
{
	struct vdev *d = model;

	if (d->ops->activate)
		d->ops->activate(d->dev, features);
	atomic_store(&d->live, true);
	for (unsigned i = 0; i < d->ops->num_queues; i++)
		vdev_kick_later(d, i);
}

/* Device reset: no longer live, every queue dropped; busy while the
 * device still has requests touching guest memory (the transport asks
 * again until it has none). */
static int vdev_reset(void *model)
{
	struct vdev *d = model;
	int busy = 0;

	atomic_store(&d->live, false);
	for (unsigned i = 0; i < d->ops->num_queues; i++) {
		struct vdev_queue *q = &d->q[i];

		pthread_mutex_lock(&q->lock);
		q->ready = false;
		q->gen++;
		q->nresub = q->next_resub = 0;
		if (d->ops->quiesce)
			busy |= d->ops->quiesce(d->dev, i) > 0;
		pthread_mutex_unlock(&q->lock);
	}
	return busy;
}

static const struct vpci_ops vdev_vpci_ops = {
    .config_read = vdev_config_read,
    .config_write = vdev_config_write,
    .queue_enable = vdev_queue_enable,
    .queue_notify = vdev_queue_notify,
    .driver_ok = vdev_driver_ok,
    .reset = vdev_reset,
};

/* ---- set-up -------------------------------------------------------------- */

static int check_params(const struct vdev_ops *ops, const struct vdev_params *p, char *err,
			size_t errlen)
{
	if (!ops->notify || ops->num_queues < 1 || ops->num_queues > VPCI_MAX_QUEUES ||
	    ops->queue_max > VQ_MAX_SIZE || ops->config_len > VPCI_DEVCFG_LEN) {
		snprintf(err, errlen, "virtio device %u: bad device table", ops->virtio_id);
		return -EINVAL;
	}
	if (p->nqueues != ops->num_queues || !p->notify_fds || !p->mem) {
		snprintf(err, errlen,
			 "virtio device %u: %u queue notifiers (expected %u) or no memory",
			 ops->virtio_id, p->nqueues, ops->num_queues);
		return -EINVAL;
	}
	return 0;
}

int vdev_create(struct vdev **out, const struct vdev_ops *ops, void *dev, uint64_t features,
		const struct vdev_params *p, char *err, size_t errlen)
{
	struct vdev *d;
	int rc = check_params(ops, p, err, errlen);

	if (rc < 0)
		return rc;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ops = ops;
	d->dev = dev;
	d->mem = p->mem;
	pthread_mutex_init(&d->cfg_lock, NULL);
	for (unsigned i = 0; i < ops->num_queues; i++) {
		pthread_mutex_init(&d->q[i].lock, NULL);
		d->q[i].notify_fd = p->notify_fds[i];
	}
	struct vpci_params vp = {
	    .ops = &vdev_vpci_ops,
	    .model = d,
	    .virtio_id = ops->virtio_id,
	    .class_code = ops->class_code,
	    .features = features,
	    .num_queues = ops->num_queues,
	    .queue_max = ops->queue_max,
	    .config_len = ops->config_len,
	    .bar0_gpa = p->bar0_gpa,
	    .irq_fds = p->irq_fds,
	    .nvectors = p->nvectors,
	};
	rc = vpci_create(&d->vpci, &vp);
	if (rc < 0) {
		snprintf(err, errlen, "virtio-pci transport: %s", strerror(-rc));
		vdev_destroy(d);
		return rc;
	}
	*out = d;
	return 0;
}

void vdev_destroy(struct vdev *d)
{
	if (!d)
		return;
	vpci_destroy(d->vpci);
	for (unsigned i = 0; i < d->ops->num_queues; i++)
		pthread_mutex_destroy(&d->q[i].lock);
	pthread_mutex_destroy(&d->cfg_lock);
	free(d);
}

/* ---- restart ---------------------------------------------------------------- */

int vdev_attach_state(struct vdev *d, void *live, size_t live_len, char *err, size_t errlen)
{
	unsigned nq = d->ops->num_queues;

	_Static_assert(sizeof(struct vq_inflight) <= DEVSTATE_LIVE_PER_QUEUE,
		       "a queue's record fits its share of the live area");
	if (d->ops->in_order)
		return 0; /* taken back from the used ring */
	if (!live || live_len < (size_t)nq * DEVSTATE_LIVE_PER_QUEUE) {
		snprintf(err, errlen, "the state file has %zu bytes for %u queues' records",
			 live_len, nq);
		return -EINVAL;
	}
	for (unsigned i = 0; i < nq; i++)
		d->rec[i] =
		    (struct vq_inflight *)((char *)live + (size_t)i * DEVSTATE_LIVE_PER_QUEUE);
	return 0;
}

size_t vdev_save(struct vdev *d, uint8_t *buf, size_t cap)
{
	return vpci_state_save(d->vpci, buf, cap);
}

int vdev_restore(struct vdev *d, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	int rc;

	d->resuming = true;
	rc = vpci_state_load(d->vpci, buf, len, err, errlen);
	d->resuming = false;
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < d->ops->num_queues; i++)
		if (d->q[i].ready)
			vdev_interrupt(d, i);
	return 0;
}

/* The next chain for the drain: a request the previous process had
 * taken, else a new one. */
static int next_chain(struct vdev_queue *q)
{
	if (q->next_resub < q->nresub)
		return vq_pop_head(&q->vq, q->resub[q->next_resub++], &q->chain);
	return vq_pop(&q->vq, &q->chain);
}

/* ---- the kick loop --------------------------------------------------------- */

static bool may_pop(struct vdev *d, const struct vdev_drain *h, struct vdev_queue *q, unsigned qi)
{
	return !h->may_pop || h->may_pop(d->dev, q, qi);
}

void vdev_drain(struct vdev *d, unsigned qi, const struct vdev_drain *h)
{
	struct vdev_queue *q = &d->q[qi];
	bool pushed = false, broken = false, notify = false, again = false;
	unsigned budget;

	pthread_mutex_lock(&q->lock);
	if (!q->ready || !atomic_load(&d->live) || !may_pop(d, h, q, qi)) {
		pthread_mutex_unlock(&q->lock);
		return;
	}
	budget = q->vq.size;
	for (;;) {
		int r = 0;

		while (budget && q->ready && may_pop(d, h, q, qi) && (r = next_chain(q)) == 1) {
			pushed |= h->chain(d->dev, q, qi);
			budget--;
		}
		if (!q->ready)
			break; /* reset while the handler had dropped the lock */
		if (r < 0) {
			broken = true;
			break;
		}
		if (!may_pop(d, h, q, qi))
			break; /* the device kicks us again */
		if (!budget) {
			again = true;
			break;
		}
		vq_enable_notify(&q->vq);
		if (!vq_has_avail(&q->vq))
			break;
	}
	if (pushed && q->ready)
		notify = vq_should_notify(&q->vq);
	pthread_mutex_unlock(&q->lock);
	if (broken)
		vdev_set_needs_reset(d);
	if (notify)
		vdev_interrupt(d, qi);
	if (again)
		vdev_kick_later(d, qi);
}

/* ---- the device process's loop ------------------------------------------- */

void vdev_io(struct vdev *d, unsigned space, uint64_t addr, unsigned size, bool is_write,
	     uint64_t *data)
{
	vpci_io(d->vpci, space, addr, size, is_write, data);
}

unsigned vdev_fds(struct vdev *d, struct pollfd *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < d->ops->num_queues && n < max; i++)
		out[n++] = (struct pollfd){.fd = d->q[i].notify_fd, .events = POLLIN};
	return n;
}

void vdev_ready(struct vdev *d, int fd)
{
	for (unsigned i = 0; i < d->ops->num_queues; i++) {
		uint64_t v;

		if (d->q[i].notify_fd != fd)
			continue;
		/* clear the eventfd first: a kick after this read is not lost */
		if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return;
		d->ops->notify(d->dev, i);
	}
}

void vdev_polled(struct vdev *d, const struct pollfd *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i].revents)
			vdev_ready(d, p[i].fd);
}
