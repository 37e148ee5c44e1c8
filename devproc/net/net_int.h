/* Inside the virtio-net model: the state shared by net_model.c (transport
 * ops, set-up, entry points) and net_datapath.c (TX and RX). */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "net_model.h"
#include "net_tx.h"
#include "virtio_pci.h"
#include "virtqueue.h"

struct net_queue {
	pthread_mutex_t lock;
	struct virtqueue vq;
	bool ready;   /* enabled and not reset since */
	uint64_t gen; /* bumped by reset and enable: a late push is dropped */
	int notify_fd;
	struct vq_chain chain; /* scratch for vq_pop */
};

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
	const struct gmem *mem;
	struct vpci_dev *vpci;
	const struct net_backend_ops *be_ops;
	void *be;
	atomic_bool live;      /* DRIVER_OK and no reset since */
	atomic_bool mrg_rxbuf; /* VIRTIO_NET_F_MRG_RXBUF negotiated */
	atomic_bool link_up;
	uint64_t offloads;		  /* offered on top of MAC, STATUS, MRG_RXBUF */
	atomic_uint_least64_t features;	  /* negotiated at the last DRIVER_OK */
	atomic_bool features_news;	  /* the backend has not heard of them yet */
	uint8_t mac[6];
	struct net_queue q[NET_NUM_QUEUES];
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

/* net_model.c: have the main loop serve queue qi again (its eventfd) */
void net_kick_later(struct net_model *m, unsigned qi);

/* net_datapath.c: serve a kick of the TX or RX queue */
void net_tx_kick(struct net_model *m);
void net_rx_kick(struct net_model *m);
