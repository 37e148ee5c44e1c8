/* Unit tests for the virtio-net device (devproc/net) as Linux drives it
 * (net_fixture.h): features and config space, TX of frames in the layouts
 * drivers use, RX of small and large frames with and without mergeable
 * buffers, RX without buffers and the rx_ready wake-up (also with
 * EVENT_IDX), link status, reset, and a backend that answers from inside
 * send. A hostile driver: test_net_hostile.c. */
#include "net_fixture.h"

static int test_config(void)
{
	struct vfix f;
	uint64_t offered;

	CHECK(setup_model(&f) == 0);
	struct drv *d = &f.drv;
	CHECK(drv_probe(d) == 0);
	CHECK(drv_cfg_read(d, 0, 4) == 0x10411af4); /* modern device ID 0x1040 + 1 */
	CHECK(drv_cfg_read(d, 8, 4) >> 8 == 0x020000);
	for (unsigned i = 0; i < 6; i++)
		CHECK(drv_bar_read(d, d->device + i, 1) == test_mac[i]);
	CHECK(drv_bar_read(d, d->device + 6, 2) == VIRTIO_NET_S_LINK_UP);
	CHECK(drv_bar_read(d, d->device + 4, 4) ==
	      (uint64_t)(test_mac[4] | test_mac[5] << 8 | VIRTIO_NET_S_LINK_UP << 16));
	drv_negotiate(d, F_BASE, &offered);
	CHECK(offered & 1ull << VIRTIO_NET_F_MAC);
	CHECK(offered & 1ull << VIRTIO_NET_F_STATUS);
	CHECK(offered & 1ull << VIRTIO_NET_F_MRG_RXBUF);
	CHECK(offered & 1ull << VPCI_F_VERSION_1);
	/* no offloads, no multiqueue, no control queue yet */
	CHECK(!(offered & (1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM |
			   1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_GUEST_TSO4 |
			   1ull << VIRTIO_NET_F_MQ | 1ull << VIRTIO_NET_F_CTRL_VQ)));
	CHECK(drv_common_read(d, C_NUMQ, 2) == 2);
	drv_common_write(d, C_QSELECT, 2, 1);
	CHECK(drv_common_read(d, C_QSIZE, 2) == NET_QUEUE_MAX);
	teardown(&f);
	return 0;
}

/* Linux's layout: the header in its own buffer, the frame in fragments. */
static int test_tx(void)
{
	struct vfix f;
	uint8_t frame[1514];
	uint32_t id, len;
	struct net_stats st;

	CHECK(setup(&f, F_BASE | F_MRG) == 0);
	make_frame(frame, sizeof(frame), 1);
	uint64_t g = tx_buf(&f, frame, sizeof(frame), 0, 0);
	struct seg s[3] = {{g, NET_HDR_LEN, false},
			   {g + NET_HDR_LEN, 100, false},
			   {g + NET_HDR_LEN + 100, sizeof(frame) - 100, false}};
	uint16_t head = offer(&f, NET_TXQ, s, 3);
	kick(&f, NET_TXQ);
	CHECK(f.sends == 1);
	CHECK(f.sent_len == sizeof(frame));
	CHECK(memcmp(f.sent, frame, sizeof(frame)) == 0);
	CHECK(used_idx(&f, NET_TXQ) == 1);
	used_elem(&f, NET_TXQ, 0, &id, &len);
	CHECK(id == head && len == 0);
	CHECK(irqs(&f, 2) == 1);

	/* header and a minimal frame in one buffer */
	guest_send(&f, frame, NET_FRAME_MIN);
	CHECK(f.sends == 2 && f.sent_len == NET_FRAME_MIN);
	CHECK(memcmp(f.sent, frame, NET_FRAME_MIN) == 0);

	/* the largest frame */
	static uint8_t big[NET_FRAME_MAX];
	make_frame(big, sizeof(big), 3);
	guest_send(&f, big, sizeof(big));
	CHECK(f.sends == 3 && f.sent_len == sizeof(big));
	CHECK(memcmp(f.sent, big, sizeof(big)) == 0);

	net_model_stats(f.m, &st);
	CHECK(st.tx_frames == 3);
	CHECK(st.tx_bytes == sizeof(frame) + NET_FRAME_MIN + sizeof(big));
	CHECK(st.tx_dropped_malformed == 0);
	teardown(&f);
	return 0;
}

/* A failing backend: the frame is counted as dropped, the chain returned. */
static int test_tx_backend_error(void)
{
	struct vfix f;
	uint8_t frame[60];
	struct net_stats st;

	CHECK(setup(&f, F_BASE) == 0);
	f.send_rc = -EAGAIN;
	make_frame(frame, sizeof(frame), 2);
	guest_send(&f, frame, sizeof(frame));
	CHECK(used_idx(&f, NET_TXQ) == 1);
	net_model_stats(f.m, &st);
	CHECK(st.tx_dropped_backend == 1 && st.tx_frames == 0);
	teardown(&f);
	return 0;
}

/* Check the RX buffer at gpa: header with num_buffers, then frame. */
static int check_rx(struct vfix *f, uint64_t gpa, const uint8_t *frame, size_t len, uint16_t nbuf)
{
	uint8_t *p = ram_ptr(&f->ram, gpa);

	for (unsigned i = 0; i < 10; i++)
		CHECK(p[i] == 0); /* no flags, GSO_NONE */
	CHECK(get16(p + 10) == nbuf);
	CHECK(memcmp(p + NET_HDR_LEN, frame, len) == 0);
	return 0;
}

static int test_rx_small(void)
{
	struct vfix f;
	uint8_t frame[60];
	uint32_t id, len;
	uint16_t head;
	struct net_stats st;

	CHECK(setup(&f, F_BASE | F_MRG) == 0);
	uint64_t g = post_rx(&f, 1536, &head);
	post_rx(&f, 1536, NULL);
	kick(&f, NET_RXQ);
	CHECK(f.rx_ready == 0); /* nobody was waiting */
	make_frame(frame, sizeof(frame), 4);
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == 0);
	CHECK(used_idx(&f, NET_RXQ) == 1);
	used_elem(&f, NET_RXQ, 0, &id, &len);
	CHECK(id == head && len == NET_HDR_LEN + sizeof(frame));
	CHECK(check_rx(&f, g, frame, sizeof(frame), 1) == 0);
	CHECK(irqs(&f, 1) == 1);
	net_model_stats(f.m, &st);
	CHECK(st.rx_frames == 1 && st.rx_bytes == sizeof(frame));
	teardown(&f);
	return 0;
}

/* A 4000-byte frame over 1500-byte buffers: three, with num_buffers 3. */
static int test_rx_merge(void)
{
	struct vfix f;
	static uint8_t frame[4000], got[4000 + NET_HDR_LEN];
	uint64_t g[4];
	uint16_t h[4];
	uint32_t id, len, expect[3] = {1500, 1500, 4000 + NET_HDR_LEN - 3000};

	CHECK(setup(&f, F_BASE | F_MRG) == 0);
	for (unsigned i = 0; i < 4; i++)
		g[i] = post_rx(&f, 1500, &h[i]);
	make_frame(frame, sizeof(frame), 5);
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == 0);
	CHECK(used_idx(&f, NET_RXQ) == 3);
	size_t off = 0;
	for (unsigned i = 0; i < 3; i++) {
		used_elem(&f, NET_RXQ, (uint16_t)i, &id, &len);
		CHECK(id == h[i] && len == expect[i]);
		memcpy(got + off, ram_ptr(&f.ram, g[i]), len);
		off += len;
	}
	CHECK(off == sizeof(got));
	CHECK(get16(got + 10) == 3);
	CHECK(memcmp(got + NET_HDR_LEN, frame, sizeof(frame)) == 0);
	CHECK(*ram_ptr(&f.ram, g[3]) == 0xee); /* the fourth untouched */
	CHECK(irqs(&f, 1) == 1);	       /* one interrupt for the frame */
	teardown(&f);
	return 0;
}

static int rx_nobufs(uint64_t features)
{
	struct vfix f;
	uint8_t frame[100];
	struct net_stats st;

	CHECK(setup(&f, features) == 0);
	make_frame(frame, sizeof(frame), 6);
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == -ENOBUFS);
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == -ENOBUFS);
	net_model_stats(f.m, &st);
	CHECK(st.rx_dropped_no_buffers == 2 && st.rx_frames == 0);
	if (features & F_EVIDX)
		CHECK(avail_event(&f, NET_RXQ) == 0); /* kick us at the next buffer */
	uint64_t g = post_rx(&f, 2048, NULL);
	kick(&f, NET_RXQ);
	CHECK(f.rx_ready == 1);
	kick(&f, NET_RXQ);
	CHECK(f.rx_ready == 1); /* once per shortage */
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == 0);
	CHECK(check_rx(&f, g, frame, sizeof(frame), 1) == 0);
	teardown(&f);
	return 0;
}

static int test_rx_no_buffers(void)
{
	return rx_nobufs(F_BASE | F_MRG);
}

static int test_rx_no_buffers_event_idx(void)
{
	return rx_nobufs(F_BASE | F_MRG | F_EVIDX);
}

/* Too few buffers for a merged frame: nothing is handed over, and the
 * buffers are used again once the rest arrive. With EVENT_IDX the driver
 * must be asked to kick past the buffers it already posted. */
static int test_rx_merge_partial(void)
{
	struct vfix f;
	static uint8_t frame[4000], got[4000 + NET_HDR_LEN];
	uint64_t g[3];
	uint16_t h[3];
	uint32_t id, len;

	CHECK(setup(&f, F_BASE | F_MRG | F_EVIDX) == 0);
	make_frame(frame, sizeof(frame), 7);
	g[0] = post_rx(&f, 2000, &h[0]);
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == -ENOBUFS);
	CHECK(used_idx(&f, NET_RXQ) == 0);
	CHECK(avail_event(&f, NET_RXQ) == 1);
	g[1] = post_rx(&f, 2000, &h[1]);
	g[2] = post_rx(&f, 2000, &h[2]);
	kick(&f, NET_RXQ);
	CHECK(f.rx_ready == 1);
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == 0);
	CHECK(used_idx(&f, NET_RXQ) == 3);
	size_t off = 0;
	for (unsigned i = 0; i < 3; i++) {
		used_elem(&f, NET_RXQ, (uint16_t)i, &id, &len);
		CHECK(id == h[i]);
		memcpy(got + off, ram_ptr(&f.ram, g[i]), len);
		off += len;
	}
	CHECK(off == sizeof(got) && get16(got + 10) == 3);
	CHECK(memcmp(got + NET_HDR_LEN, frame, sizeof(frame)) == 0);
	teardown(&f);
	return 0;
}

/* Without MRG_RXBUF a frame must fit one chain; one that does not is
 * dropped, and the chain serves the next frame that fits. */
static int test_rx_no_mrg(void)
{
	struct vfix f;
	static uint8_t frame[4000];
	struct net_stats st;
	uint32_t id, len;
	uint16_t head;

	CHECK(setup(&f, F_BASE) == 0);
	/* a chain of two buffers, as a driver may post */
	uint64_t g = alloc(&f, 1600);
	struct seg s[2] = {{g, NET_HDR_LEN, true}, {g + NET_HDR_LEN, 1600 - NET_HDR_LEN, true}};
	head = offer(&f, NET_RXQ, s, 2);
	make_frame(frame, sizeof(frame), 8);
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == -EMSGSIZE);
	CHECK(used_idx(&f, NET_RXQ) == 0);
	CHECK(net_model_receive(f.m, frame, 1514) == 0);
	used_elem(&f, NET_RXQ, 0, &id, &len);
	CHECK(id == head && len == NET_HDR_LEN + 1514);
	CHECK(check_rx(&f, g, frame, 1514, 1) == 0);
	net_model_stats(f.m, &st);
	CHECK(st.rx_dropped_too_big == 1 && st.rx_frames == 1);
	teardown(&f);
	return 0;
}

static int test_link_and_reset(void)
{
	struct vfix f;
	uint8_t frame[60];

	CHECK(setup(&f, F_BASE | F_MRG) == 0);
	make_frame(frame, sizeof(frame), 9);
	post_rx(&f, 1536, NULL);
	irqs(&f, 0);
	net_model_set_link(f.m, false);
	CHECK(drv_bar_read(&f.drv, f.drv.device + 6, 2) == 0);
	CHECK(irqs(&f, 0) == 1); /* configuration change */
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == -ENETDOWN);
	net_model_set_link(f.m, true);
	CHECK(drv_bar_read(&f.drv, f.drv.device + 6, 2) == VIRTIO_NET_S_LINK_UP);
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == 0);
	CHECK(net_model_receive(f.m, frame, 13) == -EINVAL);
	/* reset: nothing more reaches guest memory */
	drv_common_write(&f.drv, C_STATUS, 1, 0);
	CHECK(drv_common_read(&f.drv, C_STATUS, 1) == 0);
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == -ENETDOWN);
	teardown(&f);
	return 0;
}

/* Nothing is consumed before DRIVER_OK; what was posted goes at DRIVER_OK. */
static int test_before_driver_ok(void)
{
	struct vfix f;
	uint8_t frame[60];

	CHECK(setup_model(&f) == 0);
	make_frame(frame, sizeof(frame), 10);
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == -ENETDOWN);
	struct seg s = {tx_buf(&f, frame, sizeof(frame), 0, 0), NET_HDR_LEN + 60, false};
	offer(&f, NET_TXQ, &s, 1);
	CHECK(driver_up(&f, F_BASE | F_MRG) == 0);
	CHECK(f.sends == 0);
	vdev_ready(f.vd, f.notify[NET_TXQ]); /* the kick DRIVER_OK left */
	CHECK(f.sends == 1 && memcmp(f.sent, frame, sizeof(frame)) == 0);
	teardown(&f);
	return 0;
}

/* slirp answers some frames from inside its input call: the reply comes
 * into net_model_receive while send runs. No deadlock, both delivered. */
static int echo(struct vfix *f)
{
	return net_model_receive(f->m, f->sent, f->sent_len);
}

static int test_send_receives(void)
{
	struct vfix f;
	uint8_t frame[60];

	CHECK(setup(&f, F_BASE | F_MRG) == 0);
	f.on_send = echo;
	uint64_t g = post_rx(&f, 1536, NULL);
	make_frame(frame, sizeof(frame), 11);
	guest_send(&f, frame, sizeof(frame));
	CHECK(used_idx(&f, NET_TXQ) == 1 && used_idx(&f, NET_RXQ) == 1);
	CHECK(check_rx(&f, g, frame, sizeof(frame), 1) == 0);
	CHECK(irqs(&f, 1) == 1 && irqs(&f, 2) == 1);
	teardown(&f);
	return 0;
}

TAP_MAIN(TEST(test_config), TEST(test_tx), TEST(test_tx_backend_error), TEST(test_rx_small),
	 TEST(test_rx_merge), TEST(test_rx_no_buffers), TEST(test_rx_no_buffers_event_idx),
	 TEST(test_rx_merge_partial), TEST(test_rx_no_mrg), TEST(test_link_and_reset),
	 TEST(test_before_driver_ok), TEST(test_send_receives))
