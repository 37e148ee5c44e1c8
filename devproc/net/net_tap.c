/* The tap backend: each frame crosses the tap descriptor behind its
 * 12-byte virtio-net header, which carries the checksum and segmentation
 * offloads both ways: the guest's (checked by the model) to the kernel,
 * and the kernel's to the guest, once the driver has said which it takes
 * (TUNSETOFFLOAD, the one ioctl net-tap.policy allows). Receiving stops
 * while the guest has no buffers posted: the frame in hand waits, the rest
 * wait in the tap's own queue, which is where a host's backpressure
 * belongs. */
#include "net_tap.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define NT_MAX_IOV  64 /* header + the guest's buffers; longer chains are copied */
#define NT_RX_BURST 64 /* frames read per wake-up before the loop turns */

struct net_tap {
	int fd;
	char ifname[16];
	struct net_model *model;
	bool held;     /* frame[0..held_len) waits for the guest's buffers */
	size_t held_len;
	uint64_t tx_errors, rx_short, rx_errors, offload_errors;
	uint8_t hdr[NET_TAP_HDR_LEN];
	uint8_t frame[NET_FRAME_MAX + 1]; /* one more: a longer frame shows */
	uint8_t txbuf[NET_FRAME_MAX];
};

static int nt_send_hdr(void *be, const uint8_t hdr[NET_TAP_HDR_LEN], const struct iovec *iov,
		       int iovcnt, size_t len)
{
	struct net_tap *t = be;
	struct iovec v[NT_MAX_IOV];
	ssize_t n;
	int cnt;

	v[0] = (struct iovec){.iov_base = (void *)hdr, .iov_len = NET_TAP_HDR_LEN};
	if (iovcnt < NT_MAX_IOV) {
		/* straight from guest RAM: the kernel copies, nothing here parses */
		memcpy(v + 1, iov, (size_t)iovcnt * sizeof(*iov));
		cnt = 1 + iovcnt;
	} else {
		size_t off = 0;
		for (int i = 0; i < iovcnt && off < len; i++) {
			size_t c = iov[i].iov_len < len - off ? iov[i].iov_len : len - off;
			memcpy(t->txbuf + off, iov[i].iov_base, c);
			off += c;
		}
		v[1] = (struct iovec){.iov_base = t->txbuf, .iov_len = off};
		cnt = 2;
	}
	n = writev(t->fd, v, cnt);
	if (n < 0) {
		/* EAGAIN: the host side is not reading; EIO: the interface is
		 * down. Either way the frame is lost on the wire. */
		t->tx_errors++;
		return -errno;
	}
	return 0;
}

static int nt_send(void *be, const struct iovec *iov, int iovcnt, size_t len)
{
	static const uint8_t zero_hdr[NET_TAP_HDR_LEN];

	return nt_send_hdr(be, zero_hdr, iov, iovcnt, len);
}

/* The driver's offloads, for the kernel: what it may send us from now on.
 * TSO needs the checksum offload too, as the spec's GUEST_TSO4 needs
 * GUEST_CSUM. */
static void nt_features(void *be, uint64_t f)
{
	struct net_tap *t = be;
	unsigned long tun = 0;

	if ((f >> VIRTIO_NET_F_GUEST_CSUM) & 1) {
		tun |= TUN_F_CSUM;
		if ((f >> VIRTIO_NET_F_GUEST_TSO4) & 1)
			tun |= TUN_F_TSO4;
		if ((f >> VIRTIO_NET_F_GUEST_TSO6) & 1)
			tun |= TUN_F_TSO6;
		if ((tun & (TUN_F_TSO4 | TUN_F_TSO6)) && ((f >> VIRTIO_NET_F_GUEST_ECN) & 1))
			tun |= TUN_F_TSO_ECN;
	}
	if (ioctl(t->fd, TUNSETOFFLOAD, tun) < 0) {
		/* the kernel then keeps sending plain frames: slower, still right */
		t->offload_errors++;
		log_debug("tap %s: TUNSETOFFLOAD %#lx: %m", t->ifname, tun);
	}
}

/* Read and deliver frames until the tap is empty, the guest is out of
 * buffers (the frame is held) or a burst is done. */
static void nt_receive(struct net_tap *t)
{
	for (unsigned i = 0; i < NT_RX_BURST; i++) {
		if (!t->held) {
			struct iovec v[2] = {{t->hdr, sizeof(t->hdr)}, {t->frame, sizeof(t->frame)}};
			ssize_t n = readv(t->fd, v, 2);
			if (n < 0) {
				if (errno != EAGAIN && errno != EINTR)
					t->rx_errors++;
				return;
			}
			if ((size_t)n < NET_TAP_HDR_LEN + NET_FRAME_MIN ||
			    (size_t)n > NET_TAP_HDR_LEN + NET_FRAME_MAX) {
				t->rx_short++; /* or cut short by our buffer */
				continue;
			}
			t->held = true;
			t->held_len = (size_t)n - NET_TAP_HDR_LEN;
		}
		int rc = t->model ? net_model_receive_hdr(t->model, t->hdr, t->frame, t->held_len)
				  : -ENETDOWN;
		if (rc == -ENOBUFS)
			return; /* rx_ready comes when the guest posts buffers */
		t->held = false; /* delivered, or lost like on a wire */
	}
}

static void nt_rx_ready(void *be)
{
	nt_receive(be);
}

static const struct net_backend_ops nt_ops = {
    .send = nt_send,
    .send_hdr = nt_send_hdr,
    .features = nt_features,
    .rx_ready = nt_rx_ready,
};

static void nt_attach(void *be, struct net_model *m)
{
	struct net_tap *t = be;

	t->model = m;
}

static int nt_fds(void *be, struct pollfd *out, unsigned max, int *timeout_ms)
{
	struct net_tap *t = be;

	(void)timeout_ms;
	/* with a frame held the guest has no buffers: wait for rx_ready */
	if (t->held || max < 1)
		return 0;
	out[0] = (struct pollfd){.fd = t->fd, .events = POLLIN};
	return 1;
}

static void nt_polled(void *be, struct pollfd *p, unsigned n)
{
	struct net_tap *t = be;

	if (n >= 1 && p[0].revents)
		nt_receive(t);
}

static unsigned nt_counters(void *be, struct dev_counter *out, unsigned max)
{
	struct net_tap *t = be;
	struct dev_counter c[] = {
	    {"tap_tx_errors", t->tx_errors},
	    {"tap_rx_short", t->rx_short},
	    {"tap_rx_errors", t->rx_errors},
	    {"tap_offload_errors", t->offload_errors},
	};

	return net_be_put_counters(out, max, c, ARRAY_SIZE(c));
}

static void nt_destroy(void *be)
{
	struct net_tap *t = be;

	if (!t)
		return;
	close(t->fd);
	free(t);
}

int net_tap_create(struct net_backend *out, int tap_fd, const char *ifname, char *err,
		   size_t errlen)
{
	struct net_tap *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(err, errlen, "tap: out of memory");
		return -ENOMEM;
	}
	t->fd = tap_fd;
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifname ? ifname : "");
	*out = (struct net_backend){
	    .ops = &nt_ops,
	    .be = t,
	    .attach = nt_attach,
	    .fds = nt_fds,
	    .polled = nt_polled,
	    .counters = nt_counters,
	    .destroy = nt_destroy,
	};
	return 0;
}
