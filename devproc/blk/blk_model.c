/* virtio-blk: the device model behind the virtio-pci transport. See
 * blk_model.h for the threads and locks, blk_req.h for the requests and
 * blk_pool.h for the ordering of flushes. */
#include "blk_model.h"

#include <errno.h>
#include <linux/virtio_blk.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk_pool.h"
#include "blk_req.h"
#include "virtio_pci.h"
#include "virtqueue.h"

#define BLK_CLASS 0x018000 /* mass storage, other */

struct blk_queue {
	pthread_mutex_t lock;
	struct virtqueue vq;
	bool ready;	   /* enabled and not reset since */
	bool throttled;	   /* stopped popping: too much in flight */
	uint64_t gen;	   /* bumped by reset: late completions are dropped */
	unsigned inflight; /* popped, not yet pushed or dropped */
	int notify_fd;
	struct vq_chain chain; /* the main thread's scratch for vq_pop */
};

struct blk_model {
	struct blk_disk disk;
	const struct gmem *mem;
	struct vpci_dev *vpci;
	struct blk_pool pool;
	atomic_bool live; /* DRIVER_OK and no reset since */
	unsigned nq;
	struct blk_queue q[BLK_NUM_QUEUES];
	uint8_t config[sizeof(struct virtio_blk_config)];
};

static void kick_later(struct blk_queue *q)
{
	uint64_t one = 1;

	/* the notify eventfd: the main loop comes back to this queue */
	if (write(q->notify_fd, &one, sizeof(one)) < 0)
		return; /* full (2^64 - 2 kicks pending): it fires anyway */
}

/* ---- the virtio-pci device ops (transport lock held) ---------------------- */

static void blk_config_read(void *model, uint32_t off, unsigned size, uint64_t *data)
{
	struct blk_model *m = model;

	*data = vpci_config_bytes(m->config, off, size);
}

static int blk_queue_enable(void *model, unsigned qi, const struct vpci_queue_cfg *cfg)
{
	struct blk_model *m = model;
	struct blk_queue *q = &m->q[qi];
	int rc;

	pthread_mutex_lock(&q->lock);
	rc =
	    vq_init(&q->vq, m->mem, cfg->size, cfg->desc, cfg->driver, cfg->device, cfg->event_idx);
	q->ready = rc == 0;
	q->gen++;
	pthread_mutex_unlock(&q->lock);
	return rc;
}

static void blk_queue_notify(void *model, unsigned qi)
{
	struct blk_model *m = model;

	kick_later(&m->q[qi]);
}

/* Buffers made available before DRIVER_OK wait until now (spec 3.1.1). */
static void blk_driver_ok(void *model, uint64_t features)
{
	struct blk_model *m = model;

	atomic_store(&m->live, true);
	for (unsigned i = 0; i < m->nq; i++)
		kick_later(&m->q[i]);
}

/* Stop the queues. Queued requests are dropped at once; running ones
 * finish (their data lands where the driver put it, before the driver
 * sees device_status at 0) but are not pushed. */
static int blk_reset(void *model)
{
	struct blk_model *m = model;
	int busy = 0;

	atomic_store(&m->live, false);
	for (unsigned i = 0; i < m->nq; i++) {
		struct blk_queue *q = &m->q[i];
		struct blk_req *r, *next;

		pthread_mutex_lock(&q->lock);
		q->ready = false;
		q->throttled = false;
		q->gen++;
		for (r = blk_pool_cancel(&m->pool, i); r; r = next) {
			next = r->next;
			free(r);
			q->inflight--;
		}
		busy |= q->inflight > 0;
		pthread_mutex_unlock(&q->lock);
	}
	return busy;
}

static const struct vpci_ops blk_vpci_ops = {
    .config_read = blk_config_read,
    .queue_enable = blk_queue_enable,
    .queue_notify = blk_queue_notify,
    .driver_ok = blk_driver_ok,
    .reset = blk_reset,
};

/* ---- requests ------------------------------------------------------------ */

/* A worker finished r: push it unless the queue was reset meanwhile. The
 * pool frees r. */
static void blk_done(void *opaque, struct blk_req *r)
{
	struct blk_model *m = opaque;
	unsigned qi = r->queue;
	struct blk_queue *q = &m->q[qi];
	bool notify = false, rekick = false;

	pthread_mutex_lock(&q->lock);
	if (q->ready && r->gen == q->gen && vq_push(&q->vq, r->head, r->used_len) == 0)
		notify = vq_should_notify(&q->vq);
	q->inflight--;
	if (q->throttled && q->inflight < q->vq.size) {
		q->throttled = false;
		rekick = true;
	}
	pthread_mutex_unlock(&q->lock);
	if (notify)
		vpci_notify_queue(m->vpci, qi);
	if (rekick)
		kick_later(q);
}

/* One chain from the queue (lock held). Returns true if it was completed
 * here (an error, GET_ID, a malformed chain): the caller checks for an
 * interrupt. I/O goes to the pool. */
static bool handle_chain(struct blk_model *m, struct blk_queue *q, unsigned qi)
{
	const struct vq_chain *c = &q->chain;
	struct blk_req *r = malloc(blk_req_size(c));

	if (!r || blk_req_parse(c, &m->disk, r) < 0) {
		free(r);
		vq_push(&q->vq, c->head, 0); /* nowhere to say why */
		return true;
	}
	r->head = c->head;
	r->queue = qi;
	r->gen = q->gen;
	if (r->op == BLK_OP_DONE || r->op == BLK_OP_GET_ID) {
		blk_req_execute(&m->disk, r);
		vq_push(&q->vq, r->head, r->used_len);
		free(r);
		return true;
	}
	q->inflight++;
	blk_pool_submit(&m->pool, r);
	return false;
}

/* Drain queue qi, as virtqueue.h describes. Bounded: at most one queue's
 * worth of chains per call (then we come back through the eventfd, so the
 * registers are served meanwhile), and never more in flight than the
 * queue holds (a driver re-offering a head it has not got back could
 * otherwise make us allocate without end). */
static void blk_kick(struct blk_model *m, unsigned qi)
{
	struct blk_queue *q = &m->q[qi];
	bool completed = false, broken = false, notify = false, again = false;
	unsigned budget;

	pthread_mutex_lock(&q->lock);
	if (!q->ready || !atomic_load(&m->live)) {
		pthread_mutex_unlock(&q->lock);
		return;
	}
	budget = q->vq.size;
	for (;;) {
		int r = 0;

		while (budget && q->inflight < q->vq.size && (r = vq_pop(&q->vq, &q->chain)) == 1) {
			completed |= handle_chain(m, q, qi);
			budget--;
		}
		if (r < 0) {
			broken = true;
			break;
		}
		if (q->inflight >= q->vq.size) {
			q->throttled = true; /* blk_done kicks us again */
			break;
		}
		if (!budget) {
			again = true;
			break;
		}
		vq_enable_notify(&q->vq);
		if (!vq_has_avail(&q->vq))
			break;
	}
	if (completed)
		notify = vq_should_notify(&q->vq);
	pthread_mutex_unlock(&q->lock);
	if (broken)
		vpci_set_needs_reset(m->vpci);
	if (notify)
		vpci_notify_queue(m->vpci, qi);
	if (again)
		kick_later(q);
}

/* ---- set-up -------------------------------------------------------------- */

static int disk_init(struct blk_disk *disk, const struct blk_params *p, char *err, size_t errlen)
{
	struct stat st;
	off_t end;

	if (fstat(p->image_fd, &st) < 0) {
		snprintf(err, errlen, "image: fstat: %s", strerror(errno));
		return -errno;
	}
	if (S_ISBLK(st.st_mode)) {
		end = lseek(p->image_fd, 0, SEEK_END);
		if (end < 0) {
			snprintf(err, errlen, "image: size of the block device: %s",
				 strerror(errno));
			return -errno;
		}
	} else if (S_ISREG(st.st_mode)) {
		end = st.st_size;
	} else {
		snprintf(err, errlen, "image: neither a regular file nor a block device");
		return -EINVAL;
	}
	/* a partial last sector is left out: the guest addresses sectors */
	disk->fd = p->image_fd;
	disk->sectors = (uint64_t)end / BLK_SECTOR;
	disk->read_only = p->read_only;
	memset(disk->serial, 0, sizeof(disk->serial));
	if (p->serial) {
		if (strlen(p->serial) > BLK_SERIAL_LEN) {
			snprintf(err, errlen, "serial: more than %u bytes", BLK_SERIAL_LEN);
			return -EINVAL;
		}
		memcpy(disk->serial, p->serial, strlen(p->serial));
	}
	return 0;
}

static void put_le(uint8_t *p, unsigned size, uint64_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void config_init(struct blk_model *m)
{
	memset(m->config, 0, sizeof(m->config));
	put_le(m->config + offsetof(struct virtio_blk_config, capacity), 8, m->disk.sectors);
	put_le(m->config + offsetof(struct virtio_blk_config, seg_max), 4, BLK_SEG_MAX);
	put_le(m->config + offsetof(struct virtio_blk_config, blk_size), 4, BLK_SECTOR);
	put_le(m->config + offsetof(struct virtio_blk_config, num_queues), 2, m->nq);
}

static uint64_t blk_features(const struct blk_model *m)
{
	uint64_t f = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		     1ull << VIRTIO_BLK_F_FLUSH;

	return m->disk.read_only ? f | 1ull << VIRTIO_BLK_F_RO : f;
}

static int transport_init(struct blk_model *m, const struct blk_params *p)
{
	struct vpci_params vp = {
	    .ops = &blk_vpci_ops,
	    .model = m,
	    .virtio_id = 2, /* VIRTIO_ID_BLOCK */
	    .class_code = BLK_CLASS,
	    .features = blk_features(m),
	    .num_queues = (uint16_t)m->nq,
	    .queue_max = BLK_QUEUE_MAX,
	    .config_len = sizeof(m->config),
	    .bar0_gpa = p->bar0_gpa,
	    .irq_fds = p->irq_fds,
	    .nvectors = p->nvectors,
	};

	return vpci_create(&m->vpci, &vp);
}

int blk_model_create(struct blk_model **out, const struct blk_params *p, char *err, size_t errlen)
{
	struct blk_model *m;
	int rc;

	if (p->nqueues != BLK_NUM_QUEUES || !p->notify_fds || !p->mem) {
		snprintf(err, errlen, "virtio-blk: %u queue notifiers (expected %u) or no memory",
			 p->nqueues, BLK_NUM_QUEUES);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	rc = disk_init(&m->disk, p, err, errlen);
	if (rc < 0) {
		free(m);
		return rc;
	}
	m->mem = p->mem;
	m->nq = p->nqueues;
	for (unsigned i = 0; i < m->nq; i++) {
		pthread_mutex_init(&m->q[i].lock, NULL);
		m->q[i].notify_fd = p->notify_fds[i];
	}
	config_init(m);
	rc = transport_init(m, p);
	if (rc < 0) {
		snprintf(err, errlen, "virtio-pci transport: %s", strerror(-rc));
		free(m);
		return rc;
	}
	rc = blk_pool_start(&m->pool, &m->disk, p->workers ? p->workers : BLK_WORKERS, blk_done, m);
	if (rc < 0) {
		snprintf(err, errlen, "worker threads: %s", strerror(-rc));
		vpci_destroy(m->vpci);
		free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void blk_model_destroy(struct blk_model *m)
{
	if (!m)
		return;
	blk_pool_stop(&m->pool);
	vpci_destroy(m->vpci);
	for (unsigned i = 0; i < m->nq; i++)
		pthread_mutex_destroy(&m->q[i].lock);
	free(m);
}

/* ---- the main loop's entry points ---------------------------------------- */

void blk_model_io(struct blk_model *m, unsigned space, uint64_t addr, unsigned size, bool is_write,
		  uint64_t *data)
{
	vpci_io(m->vpci, space, addr, size, is_write, data);
}

int blk_model_fds(struct blk_model *m, struct pollfd *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->nq && n < max; i++)
		out[n++] = (struct pollfd){.fd = m->q[i].notify_fd, .events = POLLIN};
	return (int)n;
}

void blk_model_ready(struct blk_model *m, int fd)
{
	for (unsigned i = 0; i < m->nq; i++) {
		uint64_t v;

		if (m->q[i].notify_fd != fd)
			continue;
		/* clear the eventfd first: a kick after this read is not lost */
		if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return;
		blk_kick(m, i);
	}
}

uint64_t blk_model_sectors(const struct blk_model *m)
{
	return m->disk.sectors;
}
