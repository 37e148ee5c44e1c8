/* A split virtqueue (virtio 1.x, section 2.7) on the device side, strict:
 * the guest is hostile. Descriptor tables, avail and used rings must lie in
 * guest RAM (gmem) and be aligned; chains are followed with a hop limit (no
 * loops), indirect tables are validated (length a multiple of 16, not
 * nested, in RAM), buffers must be in RAM, readable descriptors must come
 * before writable ones, and total lengths must not overflow. Any violation
 * fails the chain with -EBADMSG and marks the queue broken (the device then
 * sets DEVICE_NEEDS_RESET); nothing a guest writes can crash or hang the
 * process. VIRTIO_F_EVENT_IDX (used_event / avail_event) is supported.
 *
 * Not thread-safe: the caller serialises vq_pop/vq_push on one queue. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "gmem.h"

#define VQ_MAX_SIZE  1024 /* queue size: a power of two, 1..VQ_MAX_SIZE */
#define VQ_MAX_CHAIN 256  /* descriptors in one chain, indirect ones included */

struct vq_buf {
	void *ptr;     /* host pointer, valid for len bytes (gmem_ptr checked) */
	uint64_t gpa;
	uint32_t len;
	bool writable; /* device-writable (VIRTQ_DESC_F_WRITE) */
};

struct vq_chain {
	uint16_t head;       /* to hand back to vq_push */
	unsigned n;          /* buffers in e[] */
	unsigned n_out;      /* the first n_out are readable, the rest writable */
	uint64_t out_bytes, in_bytes;
	struct vq_buf e[VQ_MAX_CHAIN];
};

struct virtqueue {
	const struct gmem *mem;
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx;
	bool broken;
	uint16_t last_avail; /* next avail index to consume */
	uint16_t used_idx;   /* our copy of used->idx */
	uint16_t signalled_used; /* used_idx at the last interrupt (event idx) */
	bool signalled_valid;
};

/* Set up a queue the driver configured (queue_enable = 1). -EINVAL if the
 * size is not a power of two in range, or a ring is misaligned or not
 * entirely in guest RAM. */
int vq_init(struct virtqueue *vq, const struct gmem *mem, uint16_t size, uint64_t desc_gpa,
	    uint64_t avail_gpa, uint64_t used_gpa, bool event_idx);
/* Take the next available chain: 1 with *c filled, 0 when none is
 * available, -EBADMSG when the guest broke the queue (vq->broken set; every
 * later call returns -EBADMSG too). */
int vq_pop(struct virtqueue *vq, struct vq_chain *c);
/* Return a chain to the driver with `written` bytes written into its
 * writable buffers. -EINVAL if head is out of range, -EBADMSG if broken. */
int vq_push(struct virtqueue *vq, uint16_t head, uint32_t written);
/* After pushes: must the driver be interrupted (VIRTQ_AVAIL_F_NO_INTERRUPT,
 * or the used_event index with event idx)? Updates the signalled state. */
bool vq_should_notify(struct virtqueue *vq);
/* With event idx: publish avail_event so the driver kicks us for the next
 * buffer (call before sleeping on the notify eventfd). */
void vq_enable_notify(struct virtqueue *vq);
