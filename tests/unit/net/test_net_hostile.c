/* The virtio-net device (devproc/net) under a hostile driver: malformed TX
 * chains (no header, header only, runt, writable buffers, over-long,
 * empty, offloads nobody negotiated) are dropped and counted, and the
 * queue goes on; RX buffers too small for a header, rings of tiny
 * buffers, and broken rings on either queue fail cleanly. */
#include "net_fixture.h"

static int test_tx_malformed(void)
{
	struct vfix f;
	static uint8_t frame[70000];
	struct net_stats st;
	uint32_t id, len;

	CHECK(setup(&f, F_BASE | F_MRG) == 0);
	make_frame(frame, sizeof(frame), 1);
	uint64_t ok = tx_buf(&f, frame, 60, 0, 0);
	uint64_t huge = tx_buf(&f, frame, 70000, 0, 0);
	uint64_t csum = tx_buf(&f, frame, 60, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0);
	uint64_t tso = tx_buf(&f, frame, 60, 0, VIRTIO_NET_HDR_GSO_TCPV4);
	uint64_t wbuf = alloc(&f, 64);
	struct seg bad[][2] = {
	    {{ok, 8, false}},				       /* no header */
	    {{ok, NET_HDR_LEN, false}},			       /* header only */
	    {{ok, NET_HDR_LEN + 13, false}},		       /* a runt */
	    {{ok, NET_HDR_LEN + 60, false}, {wbuf, 64, true}}, /* writable */
	    {{ok, NET_HDR_LEN + 60, true}},		       /* all writable */
	    {{huge, NET_HDR_LEN + 70000, false}},	       /* over-long */
	    {{ok, 0, false}},				       /* zero-length */
	    {{csum, NET_HDR_LEN + 60, false}},		       /* NEEDS_CSUM */
	    {{tso, NET_HDR_LEN + 60, false}},		       /* TSO */
	};
	const unsigned nbad = sizeof(bad) / sizeof(bad[0]);
	for (unsigned i = 0; i < nbad; i++)
		offer(&f, NET_TXQ, bad[i], bad[i][1].len ? 2 : 1);
	/* and a good one, its header split over two buffers */
	struct seg good[2] = {{ok, 5, false}, {ok + 5, NET_HDR_LEN - 5 + 60, false}};
	uint16_t head = offer(&f, NET_TXQ, good, 2);
	kick(&f, NET_TXQ);
	CHECK(used_idx(&f, NET_TXQ) == nbad + 1);
	net_model_stats(f.m, &st);
	CHECK(st.tx_dropped_malformed == nbad);
	CHECK(st.tx_frames == 1 && f.sends == 1);
	CHECK(f.sent_len == 60 && memcmp(f.sent, frame, 60) == 0);
	used_elem(&f, NET_TXQ, (uint16_t)nbad, &id, &len);
	CHECK(id == head && len == 0);
	CHECK(!(drv_common_read(&f.drv, C_STATUS, 1) & S_NEEDS_RESET));
	teardown(&f);
	return 0;
}

/* A first RX buffer smaller than the header is returned empty; the frame
 * goes in the next. */
static int test_rx_short_first(void)
{
	struct vfix f;
	uint8_t frame[60];
	uint16_t h0, h1;
	uint32_t id, len;

	CHECK(setup(&f, F_BASE | F_MRG) == 0);
	post_rx(&f, 4, &h0);
	uint64_t g = post_rx(&f, 1536, &h1);
	make_frame(frame, sizeof(frame), 2);
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == 0);
	CHECK(used_idx(&f, NET_RXQ) == 2);
	used_elem(&f, NET_RXQ, 0, &id, &len);
	CHECK(id == h0 && len == 0);
	used_elem(&f, NET_RXQ, 1, &id, &len);
	CHECK(id == h1 && len == NET_HDR_LEN + sizeof(frame));
	CHECK(get16(ram_ptr(&f.ram, g) + 10) == 1);
	CHECK(memcmp(ram_ptr(&f.ram, g) + NET_HDR_LEN, frame, sizeof(frame)) == 0);
	teardown(&f);
	return 0;
}

/* A ring full of one-byte buffers cannot hold a frame: nothing but the
 * first (too short for a header) is consumed, and a frame too big for the
 * whole ring is refused outright. */
static int test_rx_tiny_buffers(void)
{
	struct vfix f;
	uint8_t frame[1514];
	struct net_stats st;

	CHECK(setup(&f, F_BASE | F_MRG) == 0);
	for (unsigned i = 0; i < QSIZE; i++)
		post_rx(&f, i == 0 ? NET_HDR_LEN : 1, NULL);
	make_frame(frame, sizeof(frame), 3);
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == -EMSGSIZE);
	CHECK(used_idx(&f, NET_RXQ) == 0);
	/* a frame that fits in the header buffer and 14 more */
	CHECK(net_model_receive(f.m, frame, NET_FRAME_MIN) == 0);
	CHECK(used_idx(&f, NET_RXQ) == 1 + NET_FRAME_MIN);
	net_model_stats(f.m, &st);
	CHECK(st.rx_dropped_too_big == 1 && st.rx_frames == 1);
	teardown(&f);
	return 0;
}

/* A descriptor outside guest RAM breaks the queue: the device asks for a
 * reset and the process goes on. */
static int test_broken_rings(void)
{
	struct vfix f;
	uint8_t frame[60];

	CHECK(setup(&f, F_BASE | F_MRG) == 0);
	make_frame(frame, sizeof(frame), 4);
	struct seg s = {RAM_GPA + RAM_LEN - 8, 64, true};
	offer(&f, NET_RXQ, &s, 1);
	CHECK(net_model_receive(f.m, frame, sizeof(frame)) == -ENETDOWN);
	CHECK(drv_common_read(&f.drv, C_STATUS, 1) & S_NEEDS_RESET);
	teardown(&f);

	CHECK(setup(&f, F_BASE | F_MRG) == 0);
	s = (struct seg){0x10, 64, false}; /* below RAM */
	offer(&f, NET_TXQ, &s, 1);
	kick(&f, NET_TXQ);
	CHECK(f.sends == 0);
	CHECK(drv_common_read(&f.drv, C_STATUS, 1) & S_NEEDS_RESET);
	/* the driver resets and starts again: the device works */
	CHECK(driver_up(&f, F_BASE | F_MRG) == 0);
	teardown(&f);
	return 0;
}

TAP_MAIN(TEST(test_tx_malformed), TEST(test_rx_short_first), TEST(test_rx_tiny_buffers),
	 TEST(test_broken_rings))
