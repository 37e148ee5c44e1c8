/* Opening a tap device for moat-net (--net tap=IFNAME): the monitor does
 * everything that needs a path or an ioctl, so the device process only
 * reads and writes the descriptor. */
#pragma once

#include <stddef.h>

/* Attach to the existing tap interface ifname: /dev/net/tun, TUNSETIFF
 * (IFF_TAP, IFF_NO_PI, IFF_VNET_HDR), a 12-byte virtio-net header, no
 * offloads, non-blocking. Returns the descriptor, or -EINVAL with one line
 * for the user in err: the interface does not exist (we never create one:
 * a typo should not leave a stray interface behind), is not a tap, is in
 * use, or we lack the permission. */
int mon_open_tap(const char *ifname, char *err, size_t errlen);
