/* The host forwards (hostfwd) of a user-networking card: libslirp's
 * listeners, and moat-net's own table of the rules in effect, those of
 * the start request and those added at run time (moat ctl hostfwd). The
 * monitor keeps the list the user sees and sends changes; the table is
 * here so that removing a rule that is not in effect is refused rather
 * than guessed at, so that the count stays bounded, and so that it can be
 * reported. All on the loop's thread, as every libslirp call. */
#pragma once

#include <slirp/libslirp.h>
#include <stdbool.h>
#include <stddef.h>

#include "device.pb-c.h"
#include "netopt.h"

/* Forwards a card may have at once. The start request brings at most
 * NETOPT_MAX_FWD; run-time adds may go this far. Each is one listening
 * socket, well inside moat-net's descriptor limit. */
#define NET_FWD_MAX 64
_Static_assert(NET_FWD_MAX >= NETOPT_MAX_FWD, "a start request's forwards must fit");

struct net_fwds {
	unsigned n;
	struct netopt_fwd fwd[NET_FWD_MAX];
};

/* Read a forward of a start or control request into *out: both ports in
 * 1..65535. The guest address is not checked here (slirp_cfg_build does).
 * Returns whether p is one. */
bool net_fwd_from_proto(const Moat__Dev__NetForward *p, struct netopt_fwd *out);

/* Have slirp listen for f, whose guest address slirp_cfg_build has
 * accepted, and record it in t. 0, or -errno with t unchanged: -ENOSPC
 * when t is full, -EADDRINUSE when t has a forward of that protocol, host
 * address and port already, or the errno of slirp's socket() or bind()
 * (-EADDRINUSE for a port taken). A failed listen leaves slirp as it was. */
int net_fwd_listen(struct net_fwds *t, Slirp *slirp, const struct netopt_fwd *f);

/* moat ctl hostfwd add|remove: apply the change c at run time.
 *   add:    the forward must pass slirp_cfg_build's checks (a guest
 *           address inside 10.0.2.0/24 that is not slirp's own) and then
 *           net_fwd_listen; a bind failure names the protocol, host
 *           address and port and says why, e.g.
 *           "tcp host port 127.0.0.1:8080: Address already in use".
 *   remove: the rule in effect on that protocol, host address and port,
 *           with the same guest address and port. Its listener is closed;
 *           connections it made carry on until either end closes them.
 * 0, or -errno with one printable line in err: -EINVAL (a malformed
 * forward, a guest address slirp cannot serve), -ENOENT (no such forward
 * to remove), -EEXIST (that host port is forwarded already), -ENOSPC
 * (NET_FWD_MAX forwards already), or the errno of slirp's socket() or
 * bind(); a failure changes nothing. -EIO: slirp had no listener for a
 * rule of the table, which is gone from it now. */
int net_fwd_change(struct net_fwds *t, Slirp *slirp, const Moat__Dev__HostfwdChange *c, char *err,
		   size_t errlen);
