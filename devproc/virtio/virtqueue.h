/* A split virtqueue (virtio 1.x, "Split Virtqueues") on the device side, strict:
 * the guest is hostile. Descriptor tables, avail and used rings must lie in
 * guest RAM (gmem) and be aligned; chains are followed with a hop limit (no
 * loops), indirect tables are validated (length a multiple of 16, not
 * nested, in RAM), buffers must be in RAM, readable descriptors must come
 * before writable ones, and a chain holds at most VQ_MAX_CHAIN buffers and
 * 2^32 bytes. Any violation fails the chain with -EBADMSG and marks the
 * queue broken (the device then sets DEVICE_NEEDS_RESET); nothing a guest
 * writes can crash or hang the process. VIRTIO_F_EVENT_IDX (used_event /
 * avail_event) is supported.
 *
 * Not thread-safe: the caller serialises vq_pop/vq_push on one queue. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "gmem.h"

#define VQ_MAX_SIZE  1024 /* queue size: a power of two, 1..VQ_MAX_SIZE */
#define VQ_MAX_CHAIN 256  /* descriptors in one chain, indirect ones included */

/* Ring flags, with the virtio 1.x spec's names (Linux's uapi header calls
 * them VRING_*, so the two can be included together). */
#define VIRTQ_DESC_F_NEXT	   1
#define VIRTQ_DESC_F_WRITE	   2
#define VIRTQ_DESC_F_INDIRECT	   4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	   1

struct vq_buf {
	void *ptr; /* host pointer, valid for len bytes (gmem_ptr checked) */
	uint64_t gpa;
	uint32_t len;
	bool writable; /* device-writable (VIRTQ_DESC_F_WRITE) */
};

struct vq_chain {
	uint16_t head;	/* to hand back to vq_push */
	unsigned n;	/* buffers in e[] */
	unsigned n_out; /* the first n_out are readable, the rest writable */
	uint64_t out_bytes, in_bytes;
	struct vq_buf e[VQ_MAX_CHAIN];
};

/* A queue's in-flight record (issue 15, decision 0024), after vhost-user's
 * "Inflight I/O tracking": shared memory the monitor keeps (the state
 * file's live area, ipc/devstate.h), so that the process that replaces a
 * dead device knows which requests it had taken and not completed. Only
 * the device writes it, with single stores in an order that a SIGKILL at
 * any instant leaves consistent:
 *   pop:  desc[head] = next++                (head taken; commit point)
 *   push: last_head = head; the used element and used->idx (guest RAM);
 *         desc[head] = 0; used_idx = used->idx
 * so every head taken is either in desc[] or counted in used_idx, except
 * one push cut short after used->idx, which vq_resume recognises. The
 * successor reads it as hostile input (vq_inflight.c). */
struct vq_inflight {
	uint64_t next;	    /* the counter the next pop gets (from 1) */
	uint16_t size;	    /* the queue's size at vq_track; 0: not tracked */
	uint16_t used_idx;  /* used->idx after the last completed push */
	uint16_t last_head; /* the head of the last push begun */
	uint16_t reserved0;
	uint64_t reserved[6];
	uint64_t desc[VQ_MAX_SIZE]; /* per head: 0, or the counter of its pop */
};

struct virtqueue {
	const struct gmem *mem;
	struct vq_inflight *inflight; /* NULL: not tracked */
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx;
	bool broken;
	uint16_t last_avail;	 /* next avail index to consume */
	uint16_t used_idx;	 /* our copy of used->idx */
	uint16_t signalled_used; /* used_idx at the last interrupt (event idx) */
	bool signalled_valid;	 /* false: notify at the next check, to be safe */
	/* Host views of the three parts (gmem_ptr checked by vq_init). */
	uint8_t *desc, *avail, *used;
};

/* Set up a queue the driver configured (queue_enable = 1). -EINVAL if the
 * size is not a power of two in range, or a ring is misaligned or not
 * entirely in guest RAM. */
int vq_init(struct virtqueue *vq, const struct gmem *mem, uint16_t size, uint64_t desc_gpa,
	    uint64_t avail_gpa, uint64_t used_gpa, bool event_idx);
/* Track queue vq (just set up by vq_init, nothing popped) in the shared
 * record r: r is reset to an empty record of vq's size. */
void vq_track(struct virtqueue *vq, struct vq_inflight *r);

/* How a device's successor takes a queue back (vq_resume). */
enum vq_resume_mode {
	/* The device completes in any order (virtio-blk): the requests in
	 * r's desc[] are taken again, in the order they were popped, and
	 * last_avail is used_idx plus their count. */
	VQ_RESUME_INFLIGHT,
	/* The device completes in the order it pops (virtio-net): whatever
	 * was popped and not pushed is popped again; last_avail is the
	 * guest's used->idx. r is not used. */
	VQ_RESUME_IN_ORDER,
};

/* The successor's side: vq was just set up by vq_init with what the
 * driver had programmed. Reads r once into private memory, checks it
 * (size, heads, counters, the cut-short push), sets last_avail and
 * used_idx, and writes the heads to take again into heads[] in pop order
 * (*n of them, at most vq->size). Then tracks vq in r again, with those
 * heads still in flight. 0, or -EBADMSG for a record no device writes (the
 * successor refuses to start). */
int vq_resume(struct virtqueue *vq, struct vq_inflight *r, enum vq_resume_mode mode,
	      uint16_t *heads, unsigned *n);
/* The chain that starts at head, for a request taken again: 1 with *c
 * filled, -EBADMSG if it is no longer a valid chain (the queue is then
 * broken), -EINVAL if head is out of range. Does not touch last_avail. */
int vq_pop_head(struct virtqueue *vq, uint16_t head, struct vq_chain *c);

/* Take the next available chain: 1 with *c filled, 0 when none is
 * available, -EBADMSG when the guest broke the queue (vq->broken set; every
 * later call returns -EBADMSG too), -EINVAL on an uninitialised queue. *c
 * is meaningful only after a 1. Every buffer in c->e[] is inside guest RAM;
 * its contents stay guest-writable, so copy what you parse before checking
 * it (vq_chain_read).
 *
 * Indirect descriptors are accepted whether or not VIRTIO_F_INDIRECT_DESC
 * was negotiated (the queue has no way to know, and a valid table is
 * harmless); an indirect table needs no alignment (the spec sets none),
 * must be 16 * 1..VQ_MAX_CHAIN bytes, and its descriptor must not also
 * have NEXT. A chain may hold at most 2^32 bytes in total (as the spec says). */
int vq_pop(struct virtqueue *vq, struct vq_chain *c);
/* Return a chain to the driver with `written` bytes written into its
 * writable buffers. -EINVAL if head is out of range, -EBADMSG if broken. */
int vq_push(struct virtqueue *vq, uint16_t head, uint32_t written);
/* After pushes: must the driver be interrupted (VIRTQ_AVAIL_F_NO_INTERRUPT,
 * or the used_event index with event idx)? Updates the signalled state. */
bool vq_should_notify(struct virtqueue *vq);
/* Ask the driver to kick us for the next buffer: with event idx publish
 * avail_event = last_avail, without it clear VIRTQ_USED_F_NO_NOTIFY. Ends
 * with a full barrier, so that a vq_has_avail() right after cannot miss a
 * buffer the driver added without kicking. Before sleeping on the notify
 * eventfd, a device drains the queue like this:
 *
 *	for (;;) {
 *		while ((r = vq_pop(vq, c)) == 1)
 *			handle(c);         // then vq_push, vq_should_notify
 *		if (r < 0)
 *			break;             // broken: set DEVICE_NEEDS_RESET
 *		vq_enable_notify(vq);
 *		if (!vq_has_avail(vq))
 *			break;             // now sleep: the driver will kick
 *	}
 */
void vq_enable_notify(struct virtqueue *vq);
/* The opposite, for a device that polls (busy or batching): without event
 * idx set VIRTQ_USED_F_NO_NOTIFY; with it do nothing, since avail_event is
 * only advanced by vq_enable_notify and the driver stops kicking once it
 * has passed it. Kicks may still come: both are only hints. */
void vq_disable_notify(struct virtqueue *vq);
/* Has the driver made a chain available that vq_pop has not taken yet?
 * false on a broken or uninitialised queue. Reads avail->idx with acquire
 * semantics; a bogus index is left for vq_pop to report. */
bool vq_has_avail(struct virtqueue *vq);
/* The driver's avail->idx as it is now (0 for a queue not set up). */
uint16_t vq_avail_idx(const struct virtqueue *vq);

/* Copy up to len bytes at offset off of the chain's readable part (its
 * first n_out buffers, as one byte stream) into dst; returns the count
 * copied (less when the readable part is shorter). */
uint64_t vq_chain_read(const struct vq_chain *c, uint64_t off, void *dst, uint64_t len);
/* Copy up to len bytes from src into the chain's writable part at offset
 * off; returns the count copied. */
uint64_t vq_chain_write(const struct vq_chain *c, uint64_t off, const void *src, uint64_t len);
