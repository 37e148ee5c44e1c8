/* Unit tests for moat-net's tap backend (devproc/net/net_tap.c) behind the
 * real virtio-net model (net_fixture.h), driven as main.c drives it
 * (net_be_loop.h). A non-blocking SOCK_SEQPACKET socketpair stands in for
 * the tap: one end is the backend's descriptor, the other the host, and
 * each message is one frame behind the 12-byte virtio-net header, as on a
 * tap with IFF_VNET_HDR. Frames both ways, short reads, the frame held
 * (and the tap left unpolled) while the guest has no buffers, frames
 * before DRIVER_OK and across a reset, and write errors. */
#include <signal.h>
#include <sys/socket.h>

#include "net_be_loop.h"
#include "net_tap.h"

struct tfix {
	struct vfix f;
	struct net_backend be;
	int tap;  /* the backend's end (the backend owns it) */
	int host; /* the other end */
};

static int tap_setup(struct tfix *t, uint64_t features)
{
	char err[128] = "";
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (net_tap_create(&t->be, sv[0], "tap-test", err, sizeof(err)) < 0) {
		fprintf(stderr, "net_tap_create: %s\n", err);
		return -1;
	}
	t->tap = sv[0];
	t->host = sv[1];
	if (features)
		return setup_be(&t->f, &t->be, features);
	/* the model only: the test brings the driver up */
	if (setup_model_be(&t->f, t->be.ops, t->be.be) < 0)
		return -1;
	t->be.attach(t->be.be, t->f.m);
	return 0;
}

static void tap_teardown(struct tfix *t)
{
	teardown(&t->f);
	t->be.destroy(t->be.be);
	if (t->host >= 0)
		close(t->host);
}

/* The host writes frame[0..len) behind virtio-net header hdr. */
static int host_write_hdr(struct tfix *t, const uint8_t *hdr, const uint8_t *frame, size_t len)
{
	struct iovec v[2] = {{(void *)hdr, NET_TAP_HDR_LEN}, {(void *)frame, len}};

	return writev(t->host, v, 2) == (ssize_t)(NET_TAP_HDR_LEN + len) ? 0 : -1;
}

/* The host writes frame[0..len) behind a zero virtio-net header. */
static int host_write(struct tfix *t, const uint8_t *frame, size_t len)
{
	static const uint8_t hdr[NET_TAP_HDR_LEN];

	return host_write_hdr(t, hdr, frame, len);
}

/* Does the "tap" still hold frames the backend has not read? */
static bool tap_pending(struct tfix *t)
{
	struct pollfd p = {.fd = t->tap, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* The frame the guest got in used RX element i (one buffer each, posted
 * in order at gpa[]): all of it, with num_buffers 1. */
static int check_guest_frame(struct vfix *f, const uint64_t *gpa, uint16_t i, const uint8_t *frame,
			     size_t len)
{
	const uint8_t *got;

	CHECK(guest_rx(f, gpa, i, &got) == len);
	CHECK(memcmp(got, frame, len) == 0);
	CHECK(get16(got - 2) == 1);
	return 0;
}

/* ---- host to guest ------------------------------------------------------- */

static int test_host_to_guest(void)
{
	struct tfix t;
	uint8_t a[60], b[1514], c[NET_FRAME_MIN];
	uint64_t gpa[4];
	struct net_stats st;

	CHECK(tap_setup(&t, F_BASE | F_MRG) == 0);
	for (unsigned i = 0; i < 4; i++)
		gpa[i] = post_rx(&t.f, 2048, NULL);
	kick(&t.f, NET_RXQ);
	make_frame(a, sizeof(a), 1);
	make_frame(b, sizeof(b), 2);
	make_frame(c, sizeof(c), 3);
	CHECK(host_write(&t, a, sizeof(a)) == 0);
	CHECK(host_write(&t, b, sizeof(b)) == 0);
	CHECK(host_write(&t, c, sizeof(c)) == 0);
	CHECK(loop_once(&t.f, &t.be, NULL) == 1); /* the tap is polled */
	CHECK(used_idx(&t.f, NET_RXQ) == 3);
	CHECK(check_guest_frame(&t.f, gpa, 0, a, sizeof(a)) == 0);
	CHECK(check_guest_frame(&t.f, gpa, 1, b, sizeof(b)) == 0);
	CHECK(check_guest_frame(&t.f, gpa, 2, c, sizeof(c)) == 0);
	CHECK(irqs(&t.f, 1) >= 1);
	CHECK(!tap_pending(&t));
	/* nothing more: a turn with nothing to read changes nothing */
	CHECK(loop_once(&t.f, &t.be, NULL) == 1);
	CHECK(used_idx(&t.f, NET_RXQ) == 3);
	net_model_stats(t.f.m, &st);
	CHECK(st.rx_frames == 3 && st.rx_bytes == sizeof(a) + sizeof(b) + sizeof(c));
	CHECK(be_counter(&t.be, "tap_rx_short") == 0);
	CHECK(be_counter(&t.be, "tap_rx_errors") == 0);
	CHECK(be_counter(&t.be, "tap_tx_errors") == 0);
	tap_teardown(&t);
	return 0;
}

/* The largest frame, over 2048-byte mergeable buffers. */
static int test_host_to_guest_largest(void)
{
	struct tfix t;
	static uint8_t frame[NET_FRAME_MAX], got[NET_HDR_LEN + NET_FRAME_MAX];
	uint64_t gpa[40];
	uint32_t id, len;
	size_t off = 0;
	unsigned nbuf = (NET_HDR_LEN + NET_FRAME_MAX + 2047) / 2048;

	CHECK(tap_setup(&t, F_BASE | F_MRG) == 0);
	for (unsigned i = 0; i < 40; i++)
		gpa[i] = post_rx(&t.f, 2048, NULL);
	make_frame(frame, sizeof(frame), 4);
	CHECK(host_write(&t, frame, sizeof(frame)) == 0);
	CHECK(loop_once(&t.f, &t.be, NULL) == 1);
	CHECK(used_idx(&t.f, NET_RXQ) == nbuf);
	for (unsigned i = 0; i < nbuf; i++) {
		used_elem(&t.f, NET_RXQ, (uint16_t)i, &id, &len);
		CHECK(off + len <= sizeof(got));
		memcpy(got + off, ram_ptr(&t.f.ram, gpa[i]), len);
		off += len;
	}
	CHECK(off == sizeof(got));
	CHECK(get16(got + 10) == nbuf);
	CHECK(memcmp(got + NET_HDR_LEN, frame, sizeof(frame)) == 0);
	tap_teardown(&t);
	return 0;
}

/* Reads shorter than a header and an Ethernet header are dropped and
 * counted; the frame after them still goes through. */
static int test_host_short(void)
{
	struct tfix t;
	uint8_t junk[NET_TAP_HDR_LEN + NET_FRAME_MIN - 1] = {0}, frame[60];
	uint64_t gpa[2];

	CHECK(tap_setup(&t, F_BASE | F_MRG) == 0);
	gpa[0] = post_rx(&t.f, 2048, NULL);
	gpa[1] = post_rx(&t.f, 2048, NULL);
	CHECK(write(t.host, junk, sizeof(junk)) == (ssize_t)sizeof(junk)); /* a 13-byte frame */
	CHECK(write(t.host, junk, 5) == 5);				   /* not even a header */
	make_frame(frame, sizeof(frame), 5);
	CHECK(host_write(&t, frame, sizeof(frame)) == 0);
	CHECK(loop_once(&t.f, &t.be, NULL) == 1);
	CHECK(be_counter(&t.be, "tap_rx_short") == 2);
	CHECK(be_counter(&t.be, "tap_rx_errors") == 0);
	CHECK(used_idx(&t.f, NET_RXQ) == 1);
	CHECK(check_guest_frame(&t.f, gpa, 0, frame, sizeof(frame)) == 0);
	tap_teardown(&t);
	return 0;
}

/* No buffers posted: the first frame is held, the tap is no longer
 * polled (the rest wait in it), and when the guest posts buffers
 * (rx_ready) everything arrives in order: here in two rounds, the second
 * because the guest posted too few the first time. */
static int test_held_without_buffers(void)
{
	struct tfix t;
	uint8_t frame[5][100];
	uint64_t gpa[5];
	struct net_stats st;

	CHECK(tap_setup(&t, F_BASE | F_MRG) == 0);
	for (unsigned i = 0; i < 5; i++)
		make_frame(frame[i], sizeof(frame[i]), 10 + i);
	for (unsigned i = 0; i < 3; i++)
		CHECK(host_write(&t, frame[i], sizeof(frame[i])) == 0);
	CHECK(loop_once(&t.f, &t.be, NULL) == 1);
	CHECK(used_idx(&t.f, NET_RXQ) == 0);
	net_model_stats(t.f.m, &st);
	CHECK(st.rx_dropped_no_buffers == 1);
	/* held: the tap is left alone, the two others stay in it */
	CHECK(loop_once(&t.f, &t.be, NULL) == 0);
	CHECK(loop_once(&t.f, &t.be, NULL) == 0);
	CHECK(tap_pending(&t));
	net_model_stats(t.f.m, &st);
	CHECK(st.rx_dropped_no_buffers == 1); /* not retried meanwhile */
	CHECK(host_write(&t, frame[3], sizeof(frame[3])) == 0);

	/* one buffer: the held frame goes, the next is held */
	gpa[0] = post_rx(&t.f, 2048, NULL);
	kick(&t.f, NET_RXQ);
	CHECK(used_idx(&t.f, NET_RXQ) == 1);
	CHECK(check_guest_frame(&t.f, gpa, 0, frame[0], sizeof(frame[0])) == 0);
	CHECK(loop_once(&t.f, &t.be, NULL) == 0);

	/* enough buffers: the rest, in order, from the same kick */
	for (unsigned i = 1; i < 5; i++)
		gpa[i] = post_rx(&t.f, 2048, NULL);
	kick(&t.f, NET_RXQ);
	CHECK(used_idx(&t.f, NET_RXQ) == 4);
	for (uint16_t i = 1; i < 4; i++)
		CHECK(check_guest_frame(&t.f, gpa, i, frame[i], sizeof(frame[i])) == 0);
	CHECK(!tap_pending(&t));
	/* polled again, and the next frame goes straight through */
	CHECK(host_write(&t, frame[4], sizeof(frame[4])) == 0);
	CHECK(loop_once(&t.f, &t.be, NULL) == 1);
	CHECK(used_idx(&t.f, NET_RXQ) == 5);
	CHECK(check_guest_frame(&t.f, gpa, 4, frame[4], sizeof(frame[4])) == 0);
	net_model_stats(t.f.m, &st);
	CHECK(st.rx_frames == 5);
	tap_teardown(&t);
	return 0;
}

/* Before DRIVER_OK a frame is lost on the wire (not held): the tap stays
 * polled, and frames flow once the driver is up. */
static int test_before_driver_ok(void)
{
	struct tfix t;
	uint8_t frame[60];
	uint64_t gpa[1];

	CHECK(tap_setup(&t, 0) == 0);
	make_frame(frame, sizeof(frame), 20);
	CHECK(host_write(&t, frame, sizeof(frame)) == 0);
	CHECK(loop_once(&t.f, &t.be, NULL) == 1);
	CHECK(!tap_pending(&t));
	CHECK(loop_once(&t.f, &t.be, NULL) == 1);
	CHECK(driver_up(&t.f, F_BASE | F_MRG) == 0);
	gpa[0] = post_rx(&t.f, 2048, NULL);
	frame[20] ^= 0xff;
	CHECK(host_write(&t, frame, sizeof(frame)) == 0);
	CHECK(loop_once(&t.f, &t.be, NULL) == 1);
	CHECK(used_idx(&t.f, NET_RXQ) == 1);
	CHECK(check_guest_frame(&t.f, gpa, 0, frame, sizeof(frame)) == 0);
	tap_teardown(&t);
	return 0;
}

/* A frame held when the driver resets (a guest reboot with its receive
 * ring empty): once the driver is back and posts buffers, the tap must
 * be read again, or the guest never receives another frame. */
static int test_held_across_reset(void)
{
	struct tfix t;
	uint8_t a[60], b[60];
	uint64_t gpa[2];

	CHECK(tap_setup(&t, F_BASE | F_MRG) == 0);
	make_frame(a, sizeof(a), 21);
	make_frame(b, sizeof(b), 22);
	CHECK(host_write(&t, a, sizeof(a)) == 0);
	CHECK(loop_once(&t.f, &t.be, NULL) == 1);
	CHECK(loop_once(&t.f, &t.be, NULL) == 0); /* held */
	drv_common_write(&t.f.drv, C_STATUS, 1, 0);
	CHECK(drv_common_read(&t.f.drv, C_STATUS, 1) == 0);
	/* the driver starts again on fresh rings */
	vfix_fresh_rings(&t.f);
	CHECK(driver_up(&t.f, F_BASE | F_MRG) == 0);
	gpa[0] = post_rx(&t.f, 2048, NULL);
	gpa[1] = post_rx(&t.f, 2048, NULL);
	kick(&t.f, NET_RXQ);
	CHECK(host_write(&t, b, sizeof(b)) == 0);
	CHECK(loop_once(&t.f, &t.be, NULL) == 1); /* polled again */
	/* the held frame arrives after the reboot, like one still on the
	 * wire, and then the one sent since */
	CHECK(used_idx(&t.f, NET_RXQ) == 2);
	CHECK(check_guest_frame(&t.f, gpa, 0, a, sizeof(a)) == 0);
	CHECK(check_guest_frame(&t.f, gpa, 1, b, sizeof(b)) == 0);
	tap_teardown(&t);
	return 0;
}

/* Offload fields from the tap reach the guest only as its driver accepted
 * them: a partial checksum and TCPv4 segments pass with their header, an
 * unnegotiated TCPv6 segment, an unknown flag or UDP fragmentation are
 * dropped and counted; without offloads even a partial checksum is. */
static int test_host_offloads(void)
{
	struct tfix t;
	uint8_t frame[1514], hdr[NET_TAP_HDR_LEN] = {0};
	const uint8_t *got;
	uint64_t gpa[2];
	struct net_stats st;
	uint64_t accepted = F_BASE | F_MRG | 1ull << VIRTIO_NET_F_CSUM |
			    1ull << VIRTIO_NET_F_GUEST_CSUM | 1ull << VIRTIO_NET_F_GUEST_TSO4;
	char err[128];
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(net_tap_create(&t.be, sv[0], "tap-test", err, sizeof(err)) == 0);
	t.tap = sv[0];
	t.host = sv[1];
	CHECK(setup_model_offloads(&t.f, t.be.ops, t.be.be, NET_OFFLOADS_TAP) == 0);
	t.be.attach(t.be.be, t.f.m);
	CHECK(driver_up(&t.f, accepted) == 0);
	gpa[0] = post_rx(&t.f, 4096, NULL);
	gpa[1] = post_rx(&t.f, 4096, NULL);
	make_frame(frame, sizeof(frame), 9);
	hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	hdr[4] = 0xa8, hdr[5] = 0x05; /* gso_size 1448 */
	hdr[6] = 34, hdr[8] = 16;     /* csum_start, csum_offset */
	CHECK(host_write_hdr(&t, hdr, frame, sizeof(frame)) == 0);
	hdr[1] = VIRTIO_NET_HDR_GSO_TCPV6; /* not accepted */
	CHECK(host_write_hdr(&t, hdr, frame, sizeof(frame)) == 0);
	hdr[1] = VIRTIO_NET_HDR_GSO_UDP;
	CHECK(host_write_hdr(&t, hdr, frame, sizeof(frame)) == 0);
	hdr[0] = 0x80, hdr[1] = 0; /* a flag nobody knows */
	CHECK(host_write_hdr(&t, hdr, frame, sizeof(frame)) == 0);
	CHECK(loop_once(&t.f, &t.be, NULL) >= 0);
	CHECK(used_idx(&t.f, NET_RXQ) == 1);
	CHECK(guest_rx(&t.f, gpa, 0, &got) == sizeof(frame));
	CHECK(memcmp(got, frame, sizeof(frame)) == 0);
	CHECK(got[-12] == VIRTIO_NET_HDR_F_NEEDS_CSUM && got[-11] == VIRTIO_NET_HDR_GSO_TCPV4);
	CHECK(got[-8] == 0xa8 && got[-7] == 0x05 && got[-6] == 34 && got[-4] == 16);
	net_model_stats(t.f.m, &st);
	CHECK(st.rx_dropped_offload == 3);
	tap_teardown(&t);

	/* a driver that took no offloads gets none */
	CHECK(tap_setup(&t, F_BASE | F_MRG) == 0);
	post_rx(&t.f, 4096, NULL);
	memset(hdr, 0, sizeof(hdr));
	hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	CHECK(host_write_hdr(&t, hdr, frame, sizeof(frame)) == 0);
	CHECK(loop_once(&t.f, &t.be, NULL) >= 0);
	CHECK(used_idx(&t.f, NET_RXQ) == 0);
	net_model_stats(t.f.m, &st);
	CHECK(st.rx_dropped_offload == 1);
	tap_teardown(&t);
	return 0;
}

/* ---- guest to host --------------------------------------------------------- */

/* What the host reads next: 12 zero bytes and then frame, nothing else. */
static int check_host_frame(struct tfix *t, const uint8_t *frame, size_t len)
{
	static uint8_t buf[NET_TAP_HDR_LEN + NET_FRAME_MAX + 1];
	static const uint8_t zero[NET_TAP_HDR_LEN];
	ssize_t n = recv(t->host, buf, sizeof(buf), 0);

	CHECK(n == (ssize_t)(NET_TAP_HDR_LEN + len));
	CHECK(memcmp(buf, zero, sizeof(zero)) == 0);
	CHECK(memcmp(buf + NET_TAP_HDR_LEN, frame, len) == 0);
	return 0;
}

static int test_guest_to_host(void)
{
	struct tfix t;
	uint8_t a[60], b[1514], c[1514];
	struct net_stats st;

	CHECK(tap_setup(&t, F_BASE | F_MRG) == 0);
	make_frame(a, sizeof(a), 30);
	guest_send(&t.f, a, sizeof(a));
	CHECK(check_host_frame(&t, a, sizeof(a)) == 0);

	/* Linux's layout: the header alone, the frame in fragments */
	make_frame(b, sizeof(b), 31);
	uint64_t g = tx_buf(&t.f, b, sizeof(b), 0, 0);
	struct seg s[3] = {{g, NET_HDR_LEN, false},
			   {g + NET_HDR_LEN, 100, false},
			   {g + NET_HDR_LEN + 100, sizeof(b) - 100, false}};
	offer(&t.f, NET_TXQ, s, 3);
	kick(&t.f, NET_TXQ);
	CHECK(check_host_frame(&t, b, sizeof(b)) == 0);

	/* a chain longer than the backend's iovec: 1 + 100 descriptors */
	static struct seg many[101];
	make_frame(c, sizeof(c), 32);
	g = tx_buf(&t.f, c, sizeof(c), 0, 0);
	many[0] = (struct seg){g, NET_HDR_LEN, false};
	size_t off = 0;
	for (unsigned i = 1; i < 101; i++) {
		uint32_t n = i < 100 ? 15 : (uint32_t)(sizeof(c) - off);
		many[i] = (struct seg){g + NET_HDR_LEN + off, n, false};
		off += n;
	}
	offer(&t.f, NET_TXQ, many, 101);
	kick(&t.f, NET_TXQ);
	CHECK(check_host_frame(&t, c, sizeof(c)) == 0);

	/* and one more after it, short chain again */
	a[30] ^= 0x55;
	guest_send(&t.f, a, sizeof(a));
	CHECK(check_host_frame(&t, a, sizeof(a)) == 0);
	CHECK(recv(t.host, b, sizeof(b), 0) < 0 && errno == EAGAIN); /* nothing else */

	CHECK(used_idx(&t.f, NET_TXQ) == 4);
	net_model_stats(t.f.m, &st);
	CHECK(st.tx_frames == 4 && st.tx_dropped_backend == 0);
	CHECK(be_counter(&t.be, "tap_tx_errors") == 0);
	tap_teardown(&t);
	return 0;
}

/* The host does not read: writes fail with EAGAIN, each frame is dropped
 * and counted, the guest's buffers are returned, and frames flow again
 * once the host reads. */
static int test_tx_host_full(void)
{
	struct tfix t;
	static uint8_t frame[9000];
	struct net_stats st;
	unsigned sent = 0;

	CHECK(tap_setup(&t, F_BASE | F_MRG) == 0);
	make_frame(frame, sizeof(frame), 40);
	while (be_counter(&t.be, "tap_tx_errors") == 0 && sent < 200) {
		guest_send(&t.f, frame, sizeof(frame));
		sent++;
	}
	CHECK(be_counter(&t.be, "tap_tx_errors") == 1);
	CHECK(sent > 1 && sent < 200);
	guest_send(&t.f, frame, sizeof(frame));
	sent++;
	CHECK(be_counter(&t.be, "tap_tx_errors") == 2);
	CHECK(used_idx(&t.f, NET_TXQ) == sent);
	net_model_stats(t.f.m, &st);
	CHECK(st.tx_dropped_backend == 2 && st.tx_frames == sent - 2);

	CHECK(check_host_frame(&t, frame, sizeof(frame)) == 0); /* room for one */
	frame[100] ^= 1;
	guest_send(&t.f, frame, sizeof(frame));
	CHECK(be_counter(&t.be, "tap_tx_errors") == 2);
	tap_teardown(&t);
	return 0;
}

/* The host end is gone: every write fails (EPIPE here, EIO on a tap
 * whose interface is down), counted; nothing crashes. A tap descriptor
 * raises no SIGPIPE; this socket would, so it is ignored. */
static int test_tx_host_closed(void)
{
	struct tfix t;
	uint8_t frame[60];
	struct net_stats st;

	signal(SIGPIPE, SIG_IGN);
	CHECK(tap_setup(&t, F_BASE | F_MRG) == 0);
	close(t.host);
	t.host = -1;
	make_frame(frame, sizeof(frame), 50);
	guest_send(&t.f, frame, sizeof(frame));
	guest_send(&t.f, frame, sizeof(frame));
	CHECK(be_counter(&t.be, "tap_tx_errors") == 2);
	CHECK(used_idx(&t.f, NET_TXQ) == 2);
	net_model_stats(t.f.m, &st);
	CHECK(st.tx_dropped_backend == 2 && st.tx_frames == 0);
	tap_teardown(&t);
	return 0;
}

/* The backend's counters: all four, by name, and max respected. */
static int test_counters(void)
{
	static const char *const names[] = {"tap_tx_errors", "tap_rx_short", "tap_rx_errors",
					    "tap_offload_errors"};
	struct tfix t;

	CHECK(tap_setup(&t, F_BASE) == 0);
	CHECK(check_be_counters(&t.be, names, 4) == 0);
	tap_teardown(&t);
	return 0;
}

TAP_MAIN(TEST(test_host_to_guest), TEST(test_host_to_guest_largest), TEST(test_host_short),
	 TEST(test_host_offloads), TEST(test_held_without_buffers), TEST(test_before_driver_ok),
	 TEST(test_held_across_reset), TEST(test_guest_to_host), TEST(test_tx_host_full),
	 TEST(test_tx_host_closed), TEST(test_counters))
