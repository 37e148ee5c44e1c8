/* The virtio-blk device (virtio ID 2, spec 5.2) on moat's virtio device
 * core (vdevice.h): one request queue or several (VIRTIO_BLK_F_MQ, one per
 * vCPU by default: the monitor decides how many), all served by one pool
 * of worker threads or one io_uring.
 *
 * Threads: the main thread (the device process's loop) serves trapped
 * register accesses and pops requests when a queue's notify eventfd fires
 * (both through the core: blk_model_vdev); workers run them and push
 * completions. Locks, outermost first: the transport's, a queue's, the
 * pool's. Completions are pushed under the queue lock; the interrupt is
 * raised after it is dropped.
 *
 * The medium can change while the guest runs (moat ctl disk swap; the
 * protocol side is blk_swap.h): the loop thread holds the queues (no new
 * chain is popped), waits until the model is idle, then switches the image
 * with blk_model_swap and lets go. Requests already in the pool finish
 * against the old image; requests popped after run against the new one.
 * Read-only: VIRTIO_BLK_F_RO is offered at create and cannot change after
 * the driver has negotiated it. A read-only device stays read-only
 * whatever it is swapped to (it never writes, even through a writable
 * descriptor); a read-write device swapped to a read-only medium answers
 * every write with IOERR until it gets a writable medium again (it never
 * writes through a descriptor opened read-only, and never claims a write
 * it did not do). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blk_chain.h"
#include "blk_req.h"
#include "vdevice.h"

#define BLK_MAX_QUEUES VPCI_MAX_QUEUES /* request queues (VIRTIO_BLK_F_MQ) */
#define BLK_QUEUE_MAX  256 /* Linux sizes its queue to this; seg_max + 2 fits */
/* aio=threads: a request holds its worker for the whole of its I/O, so
 * the pool's size is the most the host has in flight for the guest. 4 held
 * an iodepth of 32 to 4 against O_DIRECT (bench/blk: a third of QEMU's
 * random-read IOPS, whose pool grows to 64); 16 is what blk_pool allows.
 * The pool starts 2 and grows as the guest's queue depth asks. */
#define BLK_WORKERS 16

struct blk_params {
	/* open for reading (and writing unless read_only); the model owns it
	 * once create succeeded (closed by destroy, or when swapped out) */
	int image_fd;
	/* qcow2, vmdk: parsed at create (qcow2.h, vmdk.h: a malformed or
	 * unsupported image is refused with -EINVAL and one line), run on the
	 * worker pool; no O_DIRECT, no io_uring, no swap; vmdk read-only */
	enum blk_format format;
	/* The image's backing chain, the layer right below it first
	 * (blk_chain.h); the descriptors stay the caller's. */
	const struct blk_layer *backing;
	unsigned nbacking;
	/* a vmdk descriptor file: its extent files (blk_chain.h), the
	 * caller's */
	const int *extent_fds;
	unsigned nextents;
	/* a raw image whose format was probed, not named: a write to sector
	 * 0 that would make it probe as another format fails (blk_req.c) */
	bool probed_raw;
	bool read_only;
	const char *serial; /* NULL or up to 20 bytes */
	unsigned workers;   /* 0: BLK_WORKERS */
	/* NULL: the worker pool. Else an io_uring (blk_uring_open, before the
	 * sandbox) the model runs the I/O on instead, and owns once create
	 * succeeded; if the kernel will not take the image into it, the model
	 * uses the pool after all (blk_model_uring says which) and the caller
	 * closes it. */
	struct blk_uring *uring;
	struct vdev_params vdev; /* 1..BLK_MAX_QUEUES queues */
};

struct blk_model;
struct blk_uring;

/* Can fd serve as a raw disk image: open for reading, and for writing if
 * writable; a regular file or a block device? Its capacity in whole
 * sectors in *sectors (a partial last sector is left out). 0, or -errno
 * with one line in err: -EBADF for the access mode, -EINVAL for a file of
 * another type (both say the image given is at fault), another for a
 * failed fstat or lseek. */
int blk_image_check(int fd, bool writable, uint64_t *sectors, char *err, size_t errlen);

/* 0 and *out (p->image_fd is the model's then), or -errno with one line
 * in err (p->image_fd is still the caller's). */
int blk_model_create(struct blk_model **out, const struct blk_params *p, char *err, size_t errlen);
/* Stops the workers (requests still running finish first), closes the
 * image. NULL is fine. */
void blk_model_destroy(struct blk_model *m);

/* The device in the core: for trapped accesses and the loop (vdev_io,
 * vdev_fds, vdev_polled). */
struct vdev *blk_model_vdev(struct blk_model *m);
unsigned blk_model_queues(const struct blk_model *m); /* request queues */

/* io_uring: the loop polls this descriptor (-1 with the pool) and calls
 * blk_model_reap when it is readable (and whenever it likes: a reap with
 * nothing to take is cheap). Reap pushes the completed requests, one
 * interrupt for all of them. Loop thread. */
int blk_model_poll_fd(const struct blk_model *m);
void blk_model_reap(struct blk_model *m);
/* Does the model run its I/O on the io_uring (else the worker pool)? */
bool blk_model_uring(const struct blk_model *m);

/* Capacity in sectors (0 without a medium). */
uint64_t blk_model_sectors(const struct blk_model *m);
/* Was the device created read-only (VIRTIO_BLK_F_RO offered)? */
bool blk_model_read_only(const struct blk_model *m);

/* Is nothing the guest asked for queued or running in the pool, and no
 * completion being pushed? Any thread. */
bool blk_model_idle(struct blk_model *m);
/* Loop thread: stop popping chains (kicks are read and wait), or pop
 * again; release kicks every queue, so that the kicks that waited are
 * served. */
void blk_model_hold(struct blk_model *m);
void blk_model_release(struct blk_model *m);
/* Loop thread, no locks held, the model idle (else -EBUSY): switch to the
 * medium fd (-1: none), read-only if read_only (or the device is): a raw
 * image (a qcow2 disk is not swapped: -ENOTSUP). fd is
 * checked as blk_image_check does; the old medium, if it was writable, is
 * synced first (the guest's completed writes must not depend on a flush
 * that would go to the new one), then closed. A changed capacity goes to
 * the config space with a config-change interrupt. 0 (fd is the model's),
 * or -errno with one line in err, and the old medium still in use. */
int blk_model_swap(struct blk_model *m, int fd, bool read_only, char *err, size_t errlen);

/* Tests: run requests with exec instead of blk_req_execute (to make them
 * slow). Before the first request. */
void blk_model_set_exec(struct blk_model *m,
			void (*exec)(const struct blk_disk *disk, struct blk_req *r));
