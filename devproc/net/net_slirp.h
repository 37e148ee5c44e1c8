/* moat-net's user networking: libslirp, driven from the device loop. */
#pragma once

#include <stddef.h>

#include "device.pb-c.h"
#include "net_backend.h"

/* Create slirp with QEMU's addressing (slirp_cfg.h) and add every
 * forward. A forward whose port is taken is -EADDRINUSE (or the bind's
 * errno) with one line in err naming it; a bad configuration -EINVAL.
 * The backend's hostfwd adds and removes forwards at run time
 * (net_slirp_fwd.h); its counter "hostfwd" is how many are in effect. */
int net_slirp_create(struct net_backend *out, const Moat__Dev__NetUser *cfg, char *err,
		     size_t errlen);
