/* moat-net's side of the control plane (device.proto's ControlRequest):
 * moat ctl hostfwd add|remove on a user-networking card, applied by its
 * backend (net_slirp_fwd.h). The monitor keeps the list of forwards and
 * sends one change at a time; every failure is an error reply, and the
 * card keeps serving as before. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "device.pb-c.h"
#include "net_backend.h"

/* Apply req to the backend be. 0, or -errno with one printable line in
 * err and *user_error saying whether the request is at fault (a port in
 * use, a guest address slirp cannot serve, a rule not there, one forward
 * too many, a tap card, another device's operation) rather than the card
 * (out of memory or descriptors). err is "" on success. */
int net_control(const struct net_backend *be, const Moat__Dev__ControlRequest *req, char *err,
		size_t errlen, bool *user_error);
