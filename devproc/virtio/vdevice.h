/* The virtio device core: what every virtio device does the same way, so a
 * device model keeps only its requests (blk), frames (net) or events.
 *
 * A device is a table of callbacks (struct vdev_ops: its identity, queue
 * count, config length, activate, a per-queue notify handler, quiesce) plus
 * the object they get (dev). The core owns the rest, on top of the
 * virtio-pci transport (virtio_pci.h):
 *   - the queues: set up from what the driver wrote (vq_init) when it
 *     enables one, each with its lock, its ready flag and a generation
 *     bumped by every enable and reset (a late push from an old session is
 *     dropped by comparing it);
 *   - activation: at DRIVER_OK the device hears the features (activate),
 *     and every queue is kicked once, since buffers made available before
 *     DRIVER_OK wait until then (spec 3.1.1);
 *   - the kick loop: each queue's notify eventfd (KVM's ioeventfd) is polled
 *     by the device process's loop (vdev_fds, vdev_polled); a kick is read
 *     off its eventfd, then the device's notify handler runs, and most drain
 *     the queue with vdev_drain, which takes at most one queue's worth of
 *     chains per kick and comes back through the eventfd for the rest;
 *   - the config space image: the device fills it (vdev_config_set) and the
 *     core answers the driver's reads from it;
 *   - reset: the device is no longer live, every queue is dropped, and the
 *     device says whether requests are still in flight (quiesce);
 *   - interrupts through the transport's irq eventfds (vdev_interrupt).
 *
 * Locks, outermost first: the transport's, a queue's (queues are
 * independent, never held together), then the config image's. ops->activate,
 * ops->config_write and ops->quiesce run with the transport lock held, so they
 * must not call vdev_interrupt, vdev_config_changed or vdev_set_needs_reset;
 * ops->notify and the drain's callbacks run on the loop's thread without the
 * transport lock and may. No interrupt is raised with a queue lock held. */
#pragma once

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gmem.h"
#include "virtio_pci.h"
#include "virtqueue.h"

/* One queue. lock guards everything here; chain is scratch for vq_pop. */
struct vdev_queue {
	pthread_mutex_t lock;
	struct virtqueue vq;
	bool ready;   /* enabled and not reset since */
	uint64_t gen; /* bumped by enable and reset */
	int notify_fd;
	struct vq_chain chain;
	/* A successor's requests to take again (vq_resume), before any new
	 * one: resub[next_resub..nresub). */
	uint16_t resub[VQ_MAX_SIZE];
	unsigned nresub, next_resub;
};

struct vdev_ops {
	uint16_t virtio_id;  /* 1: net, 2: block, 18: input */
	uint32_t class_code; /* PCI class << 16 | subclass << 8 | prog-if */
	uint16_t num_queues; /* 1..VPCI_MAX_QUEUES */
	uint16_t queue_max;  /* a power of two <= VQ_MAX_SIZE */
	uint32_t config_len; /* bytes of the config image, <= VPCI_DEVCFG_LEN */
	/* How a restarted process takes the queues back (vq_resume): a
	 * device that pushes in the order it pops (net) from the used ring;
	 * the others from their in-flight records (vdev_attach_state). */
	bool in_order;
	/* Optional: the driver wrote the config space (off + size within
	 * config_len). NULL: the config space is read-only. */
	void (*config_write)(void *dev, uint32_t off, unsigned size, uint64_t data);
	/* Optional: DRIVER_OK with these features; the queues follow (each is
	 * kicked once after this returns). */
	void (*activate)(void *dev, uint64_t features);
	/* Queue qi was kicked (its eventfd already read): serve it. */
	void (*notify)(void *dev, unsigned qi);
	/* Optional: reset, with queue qi's lock held, after the core marked it
	 * not ready: forget what was queued. Returns 1 while requests that
	 * touch guest memory are still running (the driver then waits, and
	 * reset is asked again), 0 once the queue is idle. Must not block. */
	int (*quiesce)(void *dev, unsigned qi);
};

/* What the device process got for the transport (vdev_proc.h takes it from
 * the start request; tests make their own). Nothing here is owned. */
struct vdev_params {
	const struct gmem *mem; /* must outlive the device */
	uint64_t bar0_gpa;
	const int *notify_fds; /* one per queue */
	unsigned nqueues;      /* must be ops->num_queues */
	const int *irq_fds;    /* one per MSI-X vector */
	unsigned nvectors;
};

struct vdev;

/* A device of ops over p, offering features (device-type bits); its config
 * image is zero. 0 and *out, or -errno with one line in err. */
int vdev_create(struct vdev **out, const struct vdev_ops *ops, void *dev, uint64_t features,
		const struct vdev_params *p, char *err, size_t errlen);
void vdev_destroy(struct vdev *d); /* NULL is fine */

/* Restart under a running guest (issue 15, decision 0024). The state
 * file's live area (ipc/devstate.h) holds one in-flight record a queue,
 * DEVSTATE_LIVE_PER_QUEUE bytes apart: every queue enabled from now on is
 * tracked there. Before the loop serves. 0, or -EINVAL with one line in
 * err when live is too small for the queues of a device that needs it. */
int vdev_attach_state(struct vdev *d, void *live, size_t live_len, char *err, size_t errlen);
/* The transport's state as the driver programmed it (virtio_pci_state.c),
 * for the state file after every register write; the bytes written, 0 if
 * cap is too small. */
size_t vdev_save(struct vdev *d, uint8_t *buf, size_t cap);
/* A successor: take back what the previous process saved (hostile input,
 * checked whole before anything is applied), then each enabled queue from
 * its in-flight record (vq_resume), then DRIVER_OK as it was: the device
 * carries on where the old one stopped, each queue is kicked and every
 * queue's vector raised once (a completion pushed just before the kill may
 * not have been signalled). After vdev_attach_state. 0, or -EBADMSG with
 * one line in err. */
int vdev_restore(struct vdev *d, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* The config image: write len bytes at off (off + len <= config_len);
 * vdev_config_put stores a little-endian value of size bytes. Neither
 * interrupts: after a change the driver must hear of, vdev_config_changed. */
void vdev_config_set(struct vdev *d, uint32_t off, const void *src, size_t len);
void vdev_config_put(struct vdev *d, uint32_t off, unsigned size, uint64_t value);
void vdev_config_changed(struct vdev *d);

/* Is the driver running (DRIVER_OK, no reset since)? */
bool vdev_live(const struct vdev *d);
/* Queue qi (< ops->num_queues). */
struct vdev_queue *vdev_queue(struct vdev *d, unsigned qi);
/* How deep queue qi is now (lock taken): chains the driver made available
 * that the device has not taken (waiting) and chains taken but not yet
 * returned in the used ring (taken). Both 0 for a queue not ready. A guest
 * whose I/O stalls shows where: waiting stays up when kicks are lost,
 * taken when the device holds requests, neither when an interrupt is. */
void vdev_queue_depth(struct vdev *d, unsigned qi, unsigned *waiting, unsigned *taken);
/* Interrupts the transport sent through its irq eventfds, and those whose
 * eventfd write failed, since this process started. */
void vdev_irq_stats(struct vdev *d, uint64_t *sent, uint64_t *failed);
/* Have the loop serve queue qi again, through its eventfd. Any thread. */
void vdev_kick_later(struct vdev *d, unsigned qi);
/* Interrupt the driver for queue qi's used buffers. No locks held. */
void vdev_interrupt(struct vdev *d, unsigned qi);
/* The driver broke a queue: DEVICE_NEEDS_RESET. No locks held. */
void vdev_set_needs_reset(struct vdev *d);

/* How vdev_drain hands chains to the device, with the queue lock held. */
struct vdev_drain {
	/* One chain, popped into q->chain. The handler may drop the queue
	 * lock and take it again (to hand a frame to a backend); the queue may
	 * be reset meanwhile (q->ready false, or q->gen changed). Returns true
	 * if it pushed the chain (an interrupt may be due). */
	bool (*chain)(void *dev, struct vdev_queue *q, unsigned qi);
	/* Optional: may another chain be taken now? false stops the drain
	 * without asking the driver for a kick: the device kicks the queue
	 * again itself when it may (too much in flight, or another thread is
	 * in the handler). */
	bool (*may_pop)(void *dev, struct vdev_queue *q, unsigned qi);
};

/* Drain queue qi as virtqueue.h describes, bounded: at most a queue's
 * worth of chains per call, then again through the eventfd, so that the
 * registers are served meanwhile. A broken queue sets DEVICE_NEEDS_RESET.
 * Call from the notify handler (loop thread, no locks held). */
void vdev_drain(struct vdev *d, unsigned qi, const struct vdev_drain *h);

/* The device process's loop: a trapped access (struct dev_kind's io), the
 * notify eventfds to poll (returns how many it wrote, at most max), and
 * after a poll the same entries: each kicked queue is served. */
void vdev_io(struct vdev *d, unsigned space, uint64_t addr, unsigned size, bool is_write,
	     uint64_t *data);
unsigned vdev_fds(struct vdev *d, struct pollfd *out, unsigned max);
void vdev_polled(struct vdev *d, const struct pollfd *p, unsigned n);
/* The eventfd fd is readable: read it, and serve its queue. */
void vdev_ready(struct vdev *d, int fd);
