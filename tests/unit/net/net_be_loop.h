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

/* The backend's counters are exactly names[0..n), in that order, and it
 * writes no more than it is asked for: with room for max < n, max of them
 * and nothing beyond. Returns 0, or 1 with the mismatch on stderr. */
static inline int check_be_counters(struct net_backend *be, const char *const *names, unsigned n)
{
	struct dev_counter c[DEV_MAX_COUNTERS + 1], poison;

	CHECK(n < DEV_MAX_COUNTERS);
	CHECK(be->counters(be->be, c, n + 1) == n);
	for (unsigned i = 0; i < n; i++)
		if (strcmp(c[i].name, names[i]) != 0) {
			fprintf(stderr, "counter %u: '%s', want '%s'\n", i, c[i].name, names[i]);
			return 1;
		}
	memset(&poison, 0xa5, sizeof(poison));
	for (unsigned max = 0; max < n; max++) {
		memset(c, 0xa5, sizeof(c));
		CHECK(be->counters(be->be, c, max) == max);
		CHECK(memcmp(&c[max], &poison, sizeof(poison)) == 0);
	}
	return 0;
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
