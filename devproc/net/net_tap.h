/* moat-net's tap backend: frames to and from a tap descriptor the monitor
 * opened, each behind a 12-byte virtio-net header (IFF_VNET_HDR,
 * TUNSETVNETHDRSZ 12, no offloads). No socket, no ioctl: read and write. */
#pragma once

#include <stddef.h>

#include "net_backend.h"

#define NET_TAP_HDR_LEN 12

/* Takes tap_fd (non-blocking). 0, or -errno with one line in err. */
int net_tap_create(struct net_backend *out, int tap_fd, const char *ifname, char *err,
		   size_t errlen);
