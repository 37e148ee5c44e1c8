/* Parsing of one virtio-net TX chain (spec 5.1.6.2): a pure function, so
 * that the fuzzer runs exactly what the device runs. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtqueue.h"

struct net_tx_frame {
	struct iovec iov[VQ_MAX_CHAIN]; /* the frame, header stripped */
	int iovcnt;
	size_t len;
	/* a checked copy of the guest's virtio-net header, num_buffers 0:
	 * what a backend that takes offloads (the tap) is given */
	uint8_t hdr[12];
};

/* Check chain c and describe its frame in f: 0, or -EBADMSG when the chain
 * has device-writable buffers, is shorter than the virtio-net header,
 * carries a frame outside NET_FRAME_MIN..NET_FRAME_MAX, or a header asking
 * for an offload the driver did not negotiate in features (VIRTIO_NET_F_*
 * bits): NEEDS_CSUM needs CSUM and a checksum field inside the frame;
 * GSO needs HOST_TSO4 or HOST_TSO6 (HOST_ECN for the ECN bit), NEEDS_CSUM
 * and a segment size; UDP GSO, DATA_VALID and unknown flags never pass. */
int net_tx_parse_hdr(const struct vq_chain *c, struct net_tx_frame *f, uint64_t features);
/* The same with no offloads negotiated: flags and gso_type must be 0. */
int net_tx_parse(const struct vq_chain *c, struct net_tx_frame *f);
