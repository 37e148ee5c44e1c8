/* Parsing of one virtio-net TX chain (spec 5.1.6.2): a pure function, so
 * that the fuzzer runs exactly what the device runs. */
#pragma once

#include <stddef.h>
#include <sys/uio.h>

#include "virtqueue.h"

struct net_tx_frame {
	struct iovec iov[VQ_MAX_CHAIN]; /* the frame, header stripped */
	int iovcnt;
	size_t len;
};

/* Check chain c and describe its frame in f: 0, or -EBADMSG when the chain
 * has device-writable buffers, is shorter than the virtio-net header,
 * carries a frame outside NET_FRAME_MIN..NET_FRAME_MAX, or a header asking
 * for an offload nobody negotiated (flags or gso_type not 0). */
int net_tx_parse(const struct vq_chain *c, struct net_tx_frame *f);
