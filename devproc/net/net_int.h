/* Inside the virtio-net model: the state shared by net_model.c (device
 * ops, set-up, entry points) and net_datapath.c (TX and RX). */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "net_model.h"
#include "net_tx.h"
#include "vdevice.h"

struct net_counters {
	atomic_uint_least64_t tx_frames, tx_bytes, tx_dropped_malformed, tx_dropped_backend;
	atomic_uint_least64_t rx_frames, rx_bytes, rx_dropped_no_buffers, rx_dropped_too_big;
	atomic_uint_least64_t rx_dropped_offload;
};

struct net_rx_used {
	uint16_t head;
	uint32_t len;
};

struct net_model {
	struct vdev *vd; /* the queues (under their locks), config, reset */
	const struct net_backend_ops *be_ops;
	void *be;
	atomic_bool mrg_rxbuf; /* VIRTIO_NET_F_MRG_RXBUF negotiated */
	atomic_bool link_up;
	uint64_t offloads;		/* offered on top of MAC, STATUS, MRG_RXBUF */
	atomic_uint_least64_t features; /* negotiated at the last DRIVER_OK */
	atomic_bool features_news;	/* the backend has not heard of them yet */
	struct net_counters st;

	/* TX, under the TX lock; while tx_sending the lock is dropped and
	 * only the sending thread touches txf and the TX chain scratch */
	bool tx_sending;
	struct net_tx_frame txf;

	/* RX, under the RX lock */
	bool rx_wanted;		  /* a receive failed for want of buffers */
	struct vq_chain rx_first; /* the chain that gets the header */
	struct net_rx_used rx_used[NET_QUEUE_MAX];
};

/* net_datapath.c: serve a kick of the TX or RX queue */
void net_tx_kick(struct net_model *m);
void net_rx_kick(struct net_model *m);
