/* The virtio-blk device (virtio ID 2, spec 5.2) on moat's virtio-pci
 * transport: one request queue, served by a pool of worker threads.
 *
 * Threads: the main thread (the device process's loop) serves trapped
 * register accesses (blk_model_io) and pops requests when a queue's notify
 * eventfd fires (blk_model_ready); workers run them and push completions.
 * Locks, outermost first: the transport's (vpci), a queue's, the pool's.
 * Completions are pushed under the queue lock; the interrupt is raised
 * after it is dropped (vpci_notify_queue takes the transport lock). */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gmem.h"

#define BLK_NUM_QUEUES 1
#define BLK_QUEUE_MAX  256 /* Linux sizes its queue to this; seg_max + 2 fits */
#define BLK_WORKERS    4

struct blk_params {
	int image_fd; /* not owned; open for reading (and writing unless read_only) */
	bool read_only;
	const char *serial;	/* NULL or up to 20 bytes */
	const struct gmem *mem; /* not owned; must outlive the model */
	uint64_t bar0_gpa;
	const int *notify_fds; /* one per queue (BLK_NUM_QUEUES); not owned */
	unsigned nqueues;
	const int *irq_fds; /* one per MSI-X vector; not owned */
	unsigned nvectors;
	unsigned workers; /* 0: BLK_WORKERS */
};

struct blk_model;

/* 0 and *out, or -errno with one line in err. */
int blk_model_create(struct blk_model **out, const struct blk_params *p, char *err, size_t errlen);
/* Stops the workers (requests still running finish first). NULL is fine. */
void blk_model_destroy(struct blk_model *m);

/* A trapped access (struct dev_kind's io). */
void blk_model_io(struct blk_model *m, unsigned space, uint64_t addr, unsigned size, bool is_write,
		  uint64_t *data);
/* The notify eventfds, for the main loop to poll (struct dev_kind's fds). */
int blk_model_fds(struct blk_model *m, struct pollfd *out, unsigned max);
/* fd is readable: drain it and process its queue (struct dev_kind's ready). */
void blk_model_ready(struct blk_model *m, int fd);

/* Capacity in sectors (tests). */
uint64_t blk_model_sectors(const struct blk_model *m);
