/* virtio-blk: the device model behind the virtio-pci transport. See
 * blk_model.h for the threads and locks, blk_req.h for the requests and
 * blk_pool.h for the ordering of flushes. The queues, config space and
 * reset are the core's (vdevice.h). */
#include "blk_model.h"

#include <errno.h>
#include <fcntl.h>
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

#define BLK_CLASS 0x018000 /* mass storage, other */

/* What the core does not know of a queue (under the core's queue lock). */
struct blk_queue {
	bool throttled;	   /* stopped popping: too much in flight */
	unsigned inflight; /* popped, not yet pushed or dropped */
};

struct blk_model {
	struct blk_disk disk;	/* disk.fd is ours; changed only while idle */
	bool ro_device;		/* VIRTIO_BLK_F_RO offered */
	bool held;		/* loop thread: pop nothing (a swap waits) */
	atomic_uint completing; /* workers inside blk_done */
	struct vdev *vd;
	struct blk_pool pool;
	struct blk_queue q[BLK_NUM_QUEUES];
};

/* ---- requests ------------------------------------------------------------ */

/* A worker finished r: push it unless the queue was reset meanwhile. The
 * pool frees r. `completing` covers the whole of it, from before inflight
 * drops until the interrupt is out, so blk_model_idle sees no gap. */
static void blk_done(void *opaque, struct blk_req *r)
{
	struct blk_model *m = opaque;
	unsigned qi = r->queue;
	struct vdev_queue *q = vdev_queue(m->vd, qi);
	struct blk_queue *bq = &m->q[qi];
	bool notify = false, rekick = false;

	atomic_fetch_add(&m->completing, 1);
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
	atomic_fetch_sub(&m->completing, 1);
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
 * the limit, blk_done kicks the queue again. Nothing while held: the
 * release kicks every queue. */
static bool blk_may_pop(void *dev, struct vdev_queue *q, unsigned qi)
{
	struct blk_model *m = dev;
	struct blk_queue *bq = &m->q[qi];

	if (m->held)
		return false;
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

int blk_image_check(int fd, bool writable, uint64_t *sectors, char *err, size_t errlen)
{
	struct stat st;
	off_t end;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || (fl & O_ACCMODE) == O_WRONLY || (writable && (fl & O_ACCMODE) == O_RDONLY)) {
		snprintf(err, errlen, "image: not open for %s",
			 writable ? "reading and writing (the disk is not read-only)" : "reading");
		return -EBADF;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "image: fstat: %s", strerror(errno));
		return -errno;
	}
	if (S_ISBLK(st.st_mode)) {
		/* fstat gives a block device's size as 0 */
		end = lseek(fd, 0, SEEK_END);
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
	*sectors = (uint64_t)end / BLK_SECTOR;
	return 0;
}

static int disk_init(struct blk_disk *disk, const struct blk_params *p, char *err, size_t errlen)
{
	int rc = blk_image_check(p->image_fd, !p->read_only, &disk->sectors, err, errlen);

	if (rc < 0)
		return rc;
	disk->fd = p->image_fd;
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

	return m->ro_device ? f | 1ull << VIRTIO_BLK_F_RO : f;
}

int blk_model_create(struct blk_model **out, const struct blk_params *p, char *err, size_t errlen)
{
	struct blk_model *m;
	int rc;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ro_device = p->read_only;
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
	if (m->disk.fd >= 0)
		close(m->disk.fd);
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

bool blk_model_read_only(const struct blk_model *m)
{
	return m->ro_device;
}

void blk_model_set_exec(struct blk_model *m,
			void (*exec)(const struct blk_disk *disk, struct blk_req *r))
{
	m->pool.exec = exec;
}

/* ---- the medium (blk_model.h: a swap) ------------------------------------ */

/* inflight counts what was popped and not yet pushed (queued in the pool or
 * running); a worker past the push is still `completing` until its
 * interrupt is out. Read in this order: a worker counts itself completing
 * before it drops inflight under the lock we take here. */
bool blk_model_idle(struct blk_model *m)
{
	bool idle = true;

	for (unsigned qi = 0; qi < BLK_NUM_QUEUES; qi++) {
		struct vdev_queue *q = vdev_queue(m->vd, qi);

		pthread_mutex_lock(&q->lock);
		idle &= m->q[qi].inflight == 0;
		pthread_mutex_unlock(&q->lock);
	}
	return idle && atomic_load(&m->completing) == 0;
}

void blk_model_hold(struct blk_model *m)
{
	m->held = true;
}

void blk_model_release(struct blk_model *m)
{
	m->held = false;
	for (unsigned qi = 0; qi < BLK_NUM_QUEUES; qi++)
		vdev_kick_later(m->vd, qi);
}

/* The workers read m->disk only while running a request, and none runs:
 * the next one is handed over through the pool lock, after these stores.
 * The loop thread (ours) parses chains against m->disk too, but not now. */
int blk_model_swap(struct blk_model *m, int fd, bool read_only, char *err, size_t errlen)
{
	bool ro = m->ro_device || read_only;
	uint64_t sectors = 0;
	int old = m->disk.fd, rc;

	if (!blk_model_idle(m)) {
		snprintf(err, errlen, "requests in flight");
		return -EBUSY;
	}
	if (fd >= 0 && (rc = blk_image_check(fd, !ro, &sectors, err, errlen)) < 0)
		return rc;
	if (old >= 0 && !m->disk.read_only && fdatasync(old) < 0) {
		rc = -errno;
		snprintf(err, errlen, "the old image: fdatasync: %s", strerror(errno));
		return rc;
	}
	m->disk.fd = fd;
	m->disk.read_only = ro;
	if (old >= 0)
		close(old); /* the old image's lock goes with its last descriptor */
	if (sectors == m->disk.sectors)
		return 0;
	m->disk.sectors = sectors;
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, capacity), 8, sectors);
	vdev_config_changed(m->vd);
	return 0;
}
