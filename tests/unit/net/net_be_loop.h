/* For the tests of moat-net's real backends (test_net_tap.c,
 * test_net_slirp.c): the model from net_fixture.h behind a struct
 * net_backend, and one turn of moat-net's device loop as main.c wires it
 * (the model's notify eventfds first, then the backend's descriptors). */
#pragma once

#include <poll.h>
#include <string.h>

#include "net_backend.h"
#include "net_fixture.h"

#define LOOP_MAX_FDS 64

/* The model behind be, attached to it, and the driver up with features. */
static inline int setup_be(struct vfix *f, struct net_backend *be, uint64_t features)
{
	if (setup_model_be(f, be->ops, be->be) < 0)
		return -1;
	be->attach(be->be, f->m);
	return driver_up(f, features);
}

/* One turn of the loop: fill the poll set (model, then backend), poll
 * without waiting, serve the model's kicks, then hand the backend its
 * slice. Returns how many descriptors the backend asked to have polled
 * (its timeout in *timeout_ms if not NULL), or -1 if poll failed. */
static inline int loop_once(struct vfix *f, struct net_backend *be, int *timeout_ms)
{
	struct pollfd p[LOOP_MAX_FDS];
	int timeout = -1, m;
	unsigned n = vdev_fds(f->vd, p, LOOP_MAX_FDS);

	m = be->fds(be->be, p + n, LOOP_MAX_FDS - n, &timeout);
	if (m < 0 || poll(p, (nfds_t)(n + (unsigned)m), 0) < 0)
		return -1;
	vdev_polled(f->vd, p, n);
	be->polled(be->be, p + n, (unsigned)m);
	if (timeout_ms)
		*timeout_ms = timeout;
	return m;
}

/* The backend's counter called name, or UINT64_MAX if it has none. */
static inline uint64_t be_counter(struct net_backend *be, const char *name)
{
	struct dev_counter c[DEV_MAX_COUNTERS];
	unsigned n = be->counters(be->be, c, DEV_MAX_COUNTERS);

	for (unsigned i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return c[i].value;
	return UINT64_MAX;
}

/* Send frame from the guest: header and frame in one buffer, kicked. */
static inline void guest_send(struct vfix *f, const uint8_t *frame, size_t len)
{
	struct seg s = {tx_buf(f, frame, len, 0, 0), (uint32_t)(NET_HDR_LEN + len), false};

	offer(f, NET_TXQ, &s, 1);
	kick(f, NET_TXQ);
}

/* The frame the guest received in the used RX element i (one buffer
 * each, posted at gpa[i]): its length, and *frame pointing at it. */
static inline size_t guest_rx(struct vfix *f, const uint64_t *gpa, uint16_t i,
			      const uint8_t **frame)
{
	uint32_t id, len;

	used_elem(f, NET_RXQ, i, &id, &len);
	*frame = ram_ptr(&f->ram, gpa[i]) + NET_HDR_LEN;
	return len < NET_HDR_LEN ? 0 : len - NET_HDR_LEN;
}
