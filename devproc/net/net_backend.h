/* moat-net's two backends behind one interface: libslirp user networking
 * (net_slirp.c) and a tap descriptor (net_tap.c). main.c builds the
 * virtio-net model with the backend's net_backend_ops, then gives the
 * model back to the backend (attach), and folds the backend's descriptors
 * into the device loop (fds, polled). Everything runs on the loop's thread:
 * libslirp is not thread-safe, and neither needs another. */
#pragma once

#include <poll.h>
#include <stdint.h>

#include "devproc.h"
#include "net_model.h"

struct net_backend {
	const struct net_backend_ops *ops; /* for the model */
	void *be;
	void (*attach)(void *be, struct net_model *m);
	/* As struct dev_kind's fds and polled, for the backend's part. */
	int (*fds)(void *be, struct pollfd *out, unsigned max, int *timeout_ms);
	void (*polled)(void *be, struct pollfd *p, unsigned n);
	/* Its counters; returns how many it wrote (at most max). */
	unsigned (*counters)(void *be, struct dev_counter *out, unsigned max);
	/* Optional, user networking only: add or remove one host forward at
	 * run time (moat ctl hostfwd; net_slirp_fwd.h). 0, or -errno with one
	 * line in err; a failure leaves the backend serving as before. */
	int (*hostfwd)(void *be, const Moat__Dev__HostfwdChange *c, char *err, size_t errlen);
	void (*destroy)(void *be);
};

/* For a backend's counters(): as many of c[0..n) as fit in max go to out;
 * returns how many did. */
static inline unsigned net_be_put_counters(struct dev_counter *out, unsigned max,
					   const struct dev_counter *c, unsigned n)
{
	unsigned k = n < max ? n : max;

	for (unsigned i = 0; i < k; i++)
		out[i] = c[i];
	return k;
}

/* Frames handed to a guest that has no buffers posted wait here, in order,
 * until it posts some (rx_ready); beyond this they are dropped (TCP
 * retransmits; UDP, like a real NIC's full ring, loses them). */
#define NET_BE_RX_BACKLOG 256
