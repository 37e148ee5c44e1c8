/* virtio-blk: the device model behind the virtio-pci transport. See
 * blk_model.h for the threads and locks, blk_req.h for the requests and
 * blk_pool.h for the ordering of flushes. The queues, config space and
 * reset are the core's (vdevice.h). */
#include "blk_model.h"

#include <errno.h>
#include <linux/virtio_blk.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk_pool.h"
#include "blk_req.h"

#define BLK_CLASS 0x018000 /* mass storage, other */

/* What the core does not know of a queue (under the core's queue lock). */
struct blk_queue {
	bool throttled;	   /* stopped popping: too much in flight */
	unsigned inflight; /* popped, not yet pushed or dropped */
};

struct blk_model {
	struct blk_disk disk;
	struct vdev *vd;
	struct blk_pool pool;
	struct blk_queue q[BLK_NUM_QUEUES];
};

/* ---- requests ------------------------------------------------------------ */

/* A worker finished r: push it unless the queue was reset meanwhile. The
 * pool frees r. */
static void blk_done(void *opaque, struct blk_req *r)
{
	struct blk_model *m = opaque;
	unsigned qi = r->queue;
	struct vdev_queue *q = vdev_queue(m->vd, qi);
	struct blk_queue *bq = &m->q[qi];
	bool notify = false, rekick = false;

	pthread_mutex_lock(&q->lock);
	if (q->ready && r->gen == q->gen && vq_push(&q->vq, r->head, r->used_len) == 0)
		notify = vq_should_notify(&q->vq);
	bq->inflight--;
	if (bq->throttled && bq->inflight < q->vq.size) {
		bq->throttled = false;
		rekick = true;
	}
	pthread_mutex_unlock(&q->lock);
	if (notify)
		vdev_interrupt(m->vd, qi);
	if (rekick)
		vdev_kick_later(m->vd, qi);
}

/* One chain from the queue (lock held). Returns true if it was completed
 * here (an error, GET_ID, a malformed chain): the core checks for an
 * interrupt. I/O goes to the pool. */
static bool blk_chain(void *dev, struct vdev_queue *q, unsigned qi)
{
	struct blk_model *m = dev;
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
	m->q[qi].inflight++;
	blk_pool_submit(&m->pool, r);
	return false;
}

/* Never more in flight than the queue holds (a driver re-offering a head
 * it has not got back could otherwise make us allocate without end); at
 * the limit, blk_done kicks the queue again. */
static bool blk_may_pop(void *dev, struct vdev_queue *q, unsigned qi)
{
	struct blk_queue *bq = &((struct blk_model *)dev)->q[qi];

	if (bq->inflight < q->vq.size)
		return true;
	bq->throttled = true;
	return false;
}

static const struct vdev_drain blk_drain = {.chain = blk_chain, .may_pop = blk_may_pop};

static void blk_notify(void *dev, unsigned qi)
{
	struct blk_model *m = dev;

	vdev_drain(m->vd, qi, &blk_drain);
}

/* Reset, queue lock held: queued requests are dropped at once; running
 * ones finish (their data lands where the driver put it, before the
 * driver sees device_status at 0) but are not pushed. */
static int blk_quiesce(void *dev, unsigned qi)
{
	struct blk_model *m = dev;
	struct blk_queue *bq = &m->q[qi];
	struct blk_req *r, *next;

	bq->throttled = false;
	for (r = blk_pool_cancel(&m->pool, qi); r; r = next) {
		next = r->next;
		free(r);
		bq->inflight--;
	}
	return bq->inflight > 0;
}

static const struct vdev_ops blk_vdev_ops = {
    .virtio_id = 2, /* VIRTIO_ID_BLOCK */
    .class_code = BLK_CLASS,
    .num_queues = BLK_NUM_QUEUES,
    .queue_max = BLK_QUEUE_MAX,
    .config_len = sizeof(struct virtio_blk_config),
    .notify = blk_notify,
    .quiesce = blk_quiesce,
};

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

static void config_init(struct blk_model *m)
{
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, capacity), 8, m->disk.sectors);
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, seg_max), 4, BLK_SEG_MAX);
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, blk_size), 4, BLK_SECTOR);
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, num_queues), 2, BLK_NUM_QUEUES);
}

static uint64_t blk_features(const struct blk_model *m)
{
	uint64_t f = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		     1ull << VIRTIO_BLK_F_FLUSH;

	return m->disk.read_only ? f | 1ull << VIRTIO_BLK_F_RO : f;
}

int blk_model_create(struct blk_model **out, const struct blk_params *p, char *err, size_t errlen)
{
	struct blk_model *m;
	int rc;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	rc = disk_init(&m->disk, p, err, errlen);
	if (rc == 0)
		rc = vdev_create(&m->vd, &blk_vdev_ops, m, blk_features(m), &p->vdev, err, errlen);
	if (rc < 0)
		goto fail;
	config_init(m);
	rc = blk_pool_start(&m->pool, &m->disk, p->workers ? p->workers : BLK_WORKERS, blk_done, m);
	if (rc < 0) {
		snprintf(err, errlen, "worker threads: %s", strerror(-rc));
		goto fail;
	}
	*out = m;
	return 0;
fail:
	vdev_destroy(m->vd); /* NULL when vdev_create did not get that far */
	free(m);
	return rc;
}

void blk_model_destroy(struct blk_model *m)
{
	if (!m)
		return;
	blk_pool_stop(&m->pool);
	vdev_destroy(m->vd);
	free(m);
}

struct vdev *blk_model_vdev(struct blk_model *m)
{
	return m->vd;
}

uint64_t blk_model_sectors(const struct blk_model *m)
{
	return m->disk.sectors;
}
