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

#include "blk_image.h"
#include "blk_pool.h"
#include "blk_req.h"
#include "blk_uring.h"

#define BLK_CLASS 0x018000 /* mass storage, other */

/* What the core does not know of a queue (under the core's queue lock). */
struct blk_queue {
	bool throttled;	   /* stopped popping: too much in flight */
	unsigned inflight; /* popped, not yet pushed or dropped */
};

struct blk_model {
	struct blk_disk disk;	/* disk.fd is ours; changed only while idle */
	struct blk_chain chain; /* a format's image and its backing: disk.img is the top */
	bool ro_device;		/* VIRTIO_BLK_F_RO offered */
	bool held;		/* loop thread: pop nothing (a swap waits) */
	atomic_uint completing; /* workers inside blk_done */
	struct vdev *vd;
	struct blk_uring *uring; /* NULL: the worker pool runs the I/O */
	bool unsubmitted;	 /* uring: queued SQEs a submit left behind */
	struct blk_pool pool;
	unsigned nq;	     /* request queues, 1..BLK_MAX_QUEUES */
	struct vdev_ops ops; /* blk_vdev_ops with this device's queue count */
	struct blk_queue q[BLK_MAX_QUEUES];
};

/* ---- requests ------------------------------------------------------------ */

/* After completions were pushed under queue qi's lock (held): a queue
 * throttled for its in-flight count may take more again; unlock, then the
 * interrupt (if the ring asks for one) and the re-kick, outside the lock. */
static void unlock_and_signal(struct blk_model *m, unsigned qi, bool notify)
{
	struct vdev_queue *q = vdev_queue(m->vd, qi);
	struct blk_queue *bq = &m->q[qi];
	bool rekick = false;

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

/* A worker finished r: push it unless the queue was reset meanwhile. The
 * pool frees r. `completing` covers the whole of it, from before inflight
 * drops until the interrupt is out, so blk_model_idle sees no gap. */
static void blk_done(void *opaque, struct blk_req *r)
{
	struct blk_model *m = opaque;
	unsigned qi = r->queue;
	struct vdev_queue *q = vdev_queue(m->vd, qi);
	struct blk_queue *bq = &m->q[qi];
	bool notify = false;

	atomic_fetch_add(&m->completing, 1);
	pthread_mutex_lock(&q->lock);
	if (q->ready && r->gen == q->gen && vq_push(&q->vq, r->head, r->used_len) == 0)
		notify = vq_should_notify(&q->vq);
	bq->inflight--;
	unlock_and_signal(m, qi, notify);
	atomic_fetch_sub(&m->completing, 1);
}

/* io_uring: queue r for the submit that ends this notify (blk_notify).
 * A misaligned request on an O_DIRECT image, or one the full ring has no
 * room for, runs here and now (blocking the loop, as a rare exception). */
static bool uring_chain(struct blk_model *m, struct vdev_queue *q, struct blk_req *r)
{
	bool ring_op = (r->op == BLK_OP_READ || r->op == BLK_OP_WRITE || r->op == BLK_OP_FLUSH) &&
		       !blk_req_guarded(&m->disk, r);

	if (ring_op && (r->op == BLK_OP_FLUSH || blk_req_direct_ok(&m->disk, r)) &&
	    (blk_uring_queue(m->uring, r) ||
	     (blk_uring_submit(m->uring) == 0 && blk_uring_queue(m->uring, r)))) {
		m->q[r->queue].inflight++;
		return false;
	}
	/* A flush cannot run here: older writes may still be in the ring (it
	 * has room for every queue's worth, main.c's blk_open_ring, so this
	 * is a submit that failed). */
	if (r->op == BLK_OP_FLUSH) {
		r->status = VIRTIO_BLK_S_IOERR;
		r->op = BLK_OP_DONE;
	}
	blk_req_execute(&m->disk, r);
	vq_push(&q->vq, r->head, r->used_len);
	free(r);
	return true;
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
	if (m->uring)
		return uring_chain(m, q, r);
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

/* ---- io_uring completions (loop thread) ---------------------------------- */

/* The CQEs of one reap, in the order they came (a flush after the writes
 * it covers). */
struct reaped {
	struct blk_model *m;
	struct blk_req *head, **tail;
};

static void uring_done(void *opaque, struct blk_req *r, int res)
{
	struct reaped *rp = opaque;

	blk_req_finish(&rp->m->disk, r, res);
	r->next = NULL;
	*rp->tail = r;
	rp->tail = &r->next;
}

/* Push a reap's requests of queue qi under one lock; one interrupt. */
static void push_batch(struct blk_model *m, unsigned qi, struct blk_req *list)
{
	struct vdev_queue *q = vdev_queue(m->vd, qi);
	struct blk_queue *bq = &m->q[qi];
	bool pushed = false;

	pthread_mutex_lock(&q->lock);
	for (struct blk_req *r = list; r; r = r->next) {
		if (r->queue != qi)
			continue;
		if (q->ready && r->gen == q->gen && vq_push(&q->vq, r->head, r->used_len) == 0)
			pushed = true;
		bq->inflight--;
	}
	unlock_and_signal(m, qi, pushed && vq_should_notify(&q->vq));
}

void blk_model_reap(struct blk_model *m)
{
	struct reaped rp = {.m = m, .tail = &rp.head};
	struct blk_req *r, *next;

	if (!m->uring)
		return;
	if (m->unsubmitted)
		m->unsubmitted = blk_uring_submit(m->uring) < 0;
	if (!blk_uring_reap(m->uring, uring_done, &rp))
		return;
	for (unsigned qi = 0; qi < m->nq; qi++)
		push_batch(m, qi, rp.head);
	for (r = rp.head; r; r = next) {
		next = r->next;
		free(r);
	}
}

int blk_model_poll_fd(const struct blk_model *m)
{
	return m->uring ? m->uring->efd : -1;
}

bool blk_model_uring(const struct blk_model *m)
{
	return m->uring != NULL;
}

static void free_done(void *opaque, struct blk_req *r, int res)
{
	free(r);
}

/* Destroy: wait until the kernel is done with guest memory, push nothing. */
static void uring_drain_close(struct blk_uring *u)
{
	struct io_uring_cqe *cqe;

	if (!u)
		return;
	blk_uring_submit(u);
	while (u->inflight && io_uring_wait_cqe(&u->ring, &cqe) == 0)
		blk_uring_reap(u, free_done, NULL);
	blk_uring_close(u);
}

static const struct vdev_drain blk_drain = {.chain = blk_chain, .may_pop = blk_may_pop};

static void blk_notify(void *dev, unsigned qi)
{
	struct blk_model *m = dev;

	vdev_drain(m->vd, qi, &blk_drain);
	if (m->uring)
		m->unsubmitted = blk_uring_submit(m->uring) < 0;
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
	for (r = m->uring ? NULL : blk_pool_cancel(&m->pool, qi); r; r = next) {
		next = r->next;
		free(r);
		bq->inflight--;
	}
	return bq->inflight > 0;
}

static const struct vdev_ops blk_vdev_ops = {
    .virtio_id = 2, /* VIRTIO_ID_BLOCK */
    .class_code = BLK_CLASS,
    .num_queues = 1, /* blk_model_create sets the device's own */
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

/* qcow2 or vmdk over its backing chain: the headers, tables and features,
 * checked as qcow2.h and vmdk.h say; a feature moat refuses is the user's
 * image at fault too (-EINVAL). */
static int open_format(struct blk_model *m, const struct blk_params *p, char *err, size_t errlen)
{
	struct blk_extents ext = {p->extent_fds, p->nextents};
	int rc = blk_chain_open(p->image_fd, p->format, p->read_only, p->backing, p->nbacking, &ext,
				&m->chain, err, errlen);

	if (rc < 0)
		return rc == -ENOTSUP ? -EINVAL : rc;
	m->disk.img = blk_chain_top(&m->chain);
	m->disk.sectors = blk_image_size(m->disk.img) / BLK_SECTOR;
	return 0;
}

static int disk_init(struct blk_model *m, const struct blk_params *p, char *err, size_t errlen)
{
	struct blk_disk *disk = &m->disk;
	int rc;

	disk->img = NULL;
	if (p->format != BLK_FORMAT_RAW)
		rc = open_format(m, p, err, errlen);
	else if (p->nbacking)
		rc = -EINVAL, snprintf(err, errlen, "a raw image has no backing file");
	else
		rc = blk_image_check(p->image_fd, !p->read_only, &disk->sectors, err, errlen);
	if (rc < 0)
		return rc;
	disk->fd = p->image_fd;
	disk->read_only = p->read_only;
	disk->direct = fcntl(p->image_fd, F_GETFL) & O_DIRECT;
	disk->guard_sector0 = p->probed_raw && p->format == BLK_FORMAT_RAW;
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

/* DISCARD and WRITE_ZEROES (an image format's disk): one segment of at
 * most BLK_MAX_DISCARD_SECTORS a request, discards aligned to the
 * format's cluster (a partial one frees nothing, blk_image.h). */
static void config_ranges(struct blk_model *m)
{
	struct blk_image_info info;
	uint32_t align = 1;

	if (blk_image_info(m->disk.img, &info) == 0 && info.cluster_size >= BLK_SECTOR)
		align = info.cluster_size / BLK_SECTOR;
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, max_discard_sectors), 4,
			BLK_MAX_DISCARD_SECTORS);
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, max_discard_seg), 4, 1);
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, discard_sector_alignment), 4,
			align);
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, max_write_zeroes_sectors), 4,
			BLK_MAX_DISCARD_SECTORS);
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, max_write_zeroes_seg), 4, 1);
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, write_zeroes_may_unmap), 1, 1);
}

static void config_init(struct blk_model *m)
{
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, capacity), 8, m->disk.sectors);
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, seg_max), 4, BLK_SEG_MAX);
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, blk_size), 4, BLK_SECTOR);
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, num_queues), 2, m->nq);
	if (m->disk.img)
		config_ranges(m);
}

/* MQ only with more than one queue: a driver that takes it reads
 * num_queues; one without it uses queue 0 alone, which is all there is. */
static uint64_t blk_features(const struct blk_model *m)
{
	uint64_t f = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		     1ull << VIRTIO_BLK_F_FLUSH;

	if (m->nq > 1)
		f |= 1ull << VIRTIO_BLK_F_MQ;
	if (m->disk.img && !m->ro_device)
		f |= 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;

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
	if (p->vdev.nqueues < 1 || p->vdev.nqueues > BLK_MAX_QUEUES) {
		snprintf(err, errlen, "%u request queues (1 to %u)", p->vdev.nqueues,
			 BLK_MAX_QUEUES);
		free(m);
		return -EINVAL;
	}
	m->nq = p->vdev.nqueues;
	m->ops = blk_vdev_ops;
	m->ops.num_queues = (uint16_t)m->nq;
	rc = disk_init(m, p, err, errlen);
	if (rc == 0)
		rc = vdev_create(&m->vd, &m->ops, m, blk_features(m), &p->vdev, err, errlen);
	if (rc < 0)
		goto fail;
	config_init(m);
	/* io_uring: the image into the ring's slot; if the kernel will not
	 * have it, the threads (main.c says which the disk got). A format
	 * other than raw always runs on the threads. */
	if (p->uring && !m->disk.img && blk_uring_set_file(p->uring, m->disk.fd) == 0) {
		m->uring = p->uring;
		*out = m;
		return 0;
	}
	rc = blk_pool_start(&m->pool, &m->disk, p->workers ? p->workers : BLK_WORKERS, blk_done, m);
	if (rc < 0) {
		snprintf(err, errlen, "worker threads: %s", strerror(-rc));
		goto fail;
	}
	*out = m;
	return 0;
fail:
	vdev_destroy(m->vd); /* NULL when vdev_create did not get that far */
	blk_chain_close(&m->chain);
	free(m);
	return rc;
}

void blk_model_destroy(struct blk_model *m)
{
	if (!m)
		return;
	if (m->uring)
		uring_drain_close(m->uring);
	else
		blk_pool_stop(&m->pool);
	vdev_destroy(m->vd);
	blk_chain_close(&m->chain);
	if (m->disk.fd >= 0)
		close(m->disk.fd);
	free(m);
}

struct vdev *blk_model_vdev(struct blk_model *m)
{
	return m->vd;
}

unsigned blk_model_queues(const struct blk_model *m)
{
	return m->nq;
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

	for (unsigned qi = 0; qi < m->nq; qi++) {
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
	for (unsigned qi = 0; qi < m->nq; qi++)
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

	if (m->disk.img) {
		snprintf(err, errlen, "a qcow2 or vmdk disk cannot be swapped");
		return -ENOTSUP;
	}
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
	if (m->uring && (rc = blk_uring_set_file(m->uring, fd)) < 0) {
		snprintf(err, errlen, "io_uring: the new image: %s", strerror(-rc));
		return rc;
	}
	m->disk.fd = fd;
	m->disk.read_only = ro;
	m->disk.direct = fd >= 0 && (fcntl(fd, F_GETFL) & O_DIRECT);
	if (old >= 0)
		close(old); /* the old image's lock goes with its last descriptor */
	if (sectors == m->disk.sectors)
		return 0;
	m->disk.sectors = sectors;
	vdev_config_put(m->vd, offsetof(struct virtio_blk_config, capacity), 8, sectors);
	vdev_config_changed(m->vd);
	return 0;
}
