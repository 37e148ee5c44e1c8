/* The virtio-blk device (virtio ID 2, spec 5.2) on moat's virtio device
 * core (vdevice.h): one request queue, served by a pool of worker threads.
 *
 * Threads: the main thread (the device process's loop) serves trapped
 * register accesses and pops requests when a queue's notify eventfd fires
 * (both through the core: blk_model_vdev); workers run them and push
 * completions. Locks, outermost first: the transport's, a queue's, the
 * pool's. Completions are pushed under the queue lock; the interrupt is
 * raised after it is dropped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdevice.h"

#define BLK_NUM_QUEUES 1
#define BLK_QUEUE_MAX  256 /* Linux sizes its queue to this; seg_max + 2 fits */
#define BLK_WORKERS    4

struct blk_params {
	int image_fd; /* not owned; open for reading (and writing unless read_only) */
	bool read_only;
	const char *serial;	 /* NULL or up to 20 bytes */
	unsigned workers;	 /* 0: BLK_WORKERS */
	struct vdev_params vdev; /* BLK_NUM_QUEUES queues */
};

struct blk_model;

/* 0 and *out, or -errno with one line in err. */
int blk_model_create(struct blk_model **out, const struct blk_params *p, char *err, size_t errlen);
/* Stops the workers (requests still running finish first). NULL is fine. */
void blk_model_destroy(struct blk_model *m);

/* The device in the core: for trapped accesses and the loop (vdev_io,
 * vdev_fds, vdev_polled). */
struct vdev *blk_model_vdev(struct blk_model *m);

/* Capacity in sectors (tests). */
uint64_t blk_model_sectors(const struct blk_model *m);
