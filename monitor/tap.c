#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util.h"

#define TAP_VNET_HDR_LEN 12 /* struct virtio_net_hdr_v1: what moat-net's virtio-net uses */

int mon_open_tap(const char *ifname, char *err, size_t errlen)
{
	struct ifreq ifr = {0};
	int hdr = TAP_VNET_HDR_LEN;
	_cleanup_close_ int fd = -1;

	if (strlen(ifname) >= IFNAMSIZ || if_nametoindex(ifname) == 0) {
		snprintf(err, errlen,
			 "--net tap=%s: no such network interface (create it first, for example "
			 "'ip tuntap add dev %s mode tap user USER')",
			 ifname, ifname);
		return -EINVAL;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "--net tap=%s: cannot open /dev/net/tun: %s", ifname,
			 strerror(errno));
		return -EINVAL;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		snprintf(err, errlen, "--net tap=%s: cannot attach: %s%s", ifname, strerror(e),
			 e == EPERM ? " (the tap belongs to another user: create it with "
				      "'user USER', or run with CAP_NET_ADMIN)"
			 : e == EBUSY ? " (another process has it open)"
			 : e == EINVAL ? " (it is not a tap device)"
				       : "");
		return -EINVAL;
	}
	/* The kernel must also agree on the header, and send no offloaded
	 * (partial checksum, GSO) frames: moat-net negotiates none yet. */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		snprintf(err, errlen, "--net tap=%s: cannot configure it: %s", ifname,
			 strerror(errno));
		return -EINVAL;
	}
	return TAKE_FD(fd);
}
