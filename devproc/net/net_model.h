/* The virtio-net device (virtio ID 1, spec 5.1) on moat's virtio device
 * core (vdevice.h), as a library that knows nothing of the backend (libslirp or
 * a tap descriptor): receiveq 0 and transmitq 1, the MAC and link status
 * in config space, mergeable receive buffers. Checksum and TCP segmentation
 * offloads are offered only when the backend takes virtio-net headers
 * (the tap: net_params.offloads); otherwise every frame crosses whole and
 * checksummed.
 *
 * Frames from the guest (TX) go to the backend through net_backend_ops.send
 * with the virtio-net header stripped; frames for the guest (RX) come in
 * through net_model_receive. Malformed TX chains are dropped and counted
 * (struct net_stats), never trusted.
 *
 * Threads: the device process's loop serves trapped accesses and the
 * queues' notify eventfds (through the core: net_model_vdev, from one
 * thread only); net_model_receive may be called from any thread,
 * including from inside send (slirp answers an ARP request synchronously).
 * Locks, outermost first: the transport's, then a queue's (RX and
 * TX are independent, never held together). No callback into the backend
 * (send, rx_ready) and no interrupt is made with a lock held. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vdevice.h"

#define NET_RXQ	       0
#define NET_TXQ	       1
#define NET_NUM_QUEUES 2
#define NET_QUEUE_MAX  256

#define NET_HDR_LEN   12 /* struct virtio_net_hdr_v1: VERSION_1 always has num_buffers */
#define NET_FRAME_MIN 14 /* an Ethernet header */
/* The largest frame either way, without the virtio-net header. Without
 * TSO a guest sends at most its MTU plus 14 (18 with a VLAN tag): this
 * covers any MTU up to 65518, and keeps every frame within 64 KiB. */
#define NET_FRAME_MAX 65536

struct net_backend_ops {
	/* One frame from the guest: len bytes in iov[0..iovcnt), which point
	 * into guest RAM (the guest may change them meanwhile: copy, do not
	 * parse in place). 0, or -errno (the frame is dropped and counted). */
	int (*send)(void *be, const struct iovec *iov, int iovcnt, size_t len);
	/* Instead of send, for a backend given offloads (net_params.offloads):
	 * the same with the frame's virtio-net header, a checked copy
	 * (net_tx_parse_hdr) whose num_buffers is 0. */
	int (*send_hdr)(void *be, const uint8_t hdr[12], const struct iovec *iov, int iovcnt,
			size_t len);
	/* The driver set DRIVER_OK with these features (VIRTIO_NET_F_* bits):
	 * the frames to receive may now carry the offloads it accepted. Runs
	 * on the loop's thread, without model locks, before any queue is
	 * served for that driver. May be NULL. */
	void (*features)(void *be, uint64_t features);
	/* The guest posted receive buffers after a net_model_receive
	 * returned -ENOBUFS: retry what was kept. Runs on the loop's thread,
	 * without model locks; may call net_model_receive. May be NULL. */
	void (*rx_ready)(void *be);
};

struct net_stats {
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_dropped_malformed; /* bad chains: see net_tx_parse */
	uint64_t tx_dropped_backend;   /* send failed */
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_dropped_no_buffers; /* -ENOBUFS (the caller may retry) */
	uint64_t rx_dropped_too_big;	/* -EMSGSIZE: too big for the posted buffers */
	uint64_t rx_dropped_offload;	/* an offload the driver did not accept */
};

struct net_params {
	struct vdev_params vdev; /* NET_NUM_QUEUES queues */
	uint8_t mac[6];
	bool link_down; /* start with the link down */
	/* Offloads to offer on top (NET_OFFLOADS_TAP or 0): the backend must
	 * have send_hdr, and take headers with net_model_receive_hdr. */
	uint64_t offloads;
	const struct net_backend_ops *be_ops;
	void *be;
};

/* Checksum and TCP segmentation offloads both ways, as a tap with
 * IFF_VNET_HDR handles them (VIRTIO_NET_F_* bit numbers). */
#define NET_OFFLOADS_TAP                                                                           \
	(1ull << 0 /* CSUM */ | 1ull << 1 /* GUEST_CSUM */ | 1ull << 7 /* GUEST_TSO4 */ |          \
	 1ull << 8 /* GUEST_TSO6 */ | 1ull << 9 /* GUEST_ECN */ | 1ull << 11 /* HOST_TSO4 */ |     \
	 1ull << 12 /* HOST_TSO6 */ | 1ull << 13 /* HOST_ECN */)

struct net_model;

/* 0 and *out, or -errno with one line in err. */
int net_model_create(struct net_model **out, const struct net_params *p, char *err, size_t errlen);
void net_model_destroy(struct net_model *m); /* NULL is fine */

/* The device in the core: for trapped accesses and the loop (vdev_io,
 * vdev_fds, vdev_polled). A kick of the TX queue sends its frames; one of
 * the RX queue wakes rx_ready. */
struct vdev *net_model_vdev(struct net_model *m);

/* Hand a frame (NET_FRAME_MIN..NET_FRAME_MAX bytes) to the guest. 0 when
 * delivered; -ENOBUFS when the guest has posted too few buffers (counted;
 * rx_ready follows when it posts more, so the caller may keep the frame);
 * -EMSGSIZE when the guest's buffers can never hold it (counted); -ENETDOWN
 * when the driver is not running or the link is down; -EINVAL for a length
 * out of range. Copies the frame: it may be reused on return. */
int net_model_receive(struct net_model *m, const uint8_t *frame, size_t len);
/* The same with the virtio-net header the backend got with the frame (a
 * tap's): its offload fields go to the guest as they are, but only those
 * the driver accepted; a frame asking for more is dropped and counted
 * (rx_dropped_offload). num_buffers is ours to fill. */
int net_model_receive_hdr(struct net_model *m, const uint8_t hdr[12], const uint8_t *frame,
			  size_t len);

/* Set the link status the guest sees, with a configuration interrupt. */
void net_model_set_link(struct net_model *m, bool up);
void net_model_stats(struct net_model *m, struct net_stats *out);
