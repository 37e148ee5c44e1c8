/* Unit tests for the VNC server (devproc/display/vnc*.c) against clients
 * that misbehave: a wrong security type, garbage, malformed messages, a
 * client that never reads (alone: it costs only its own buffer; making the
 * server answer it: cut off at the output bound), and one client too many.
 * Every case checks that the others are still served and what was counted. */
#include "tap.h"
#include "vnc_peer.h"

static uint32_t pattern(uint32_t x, uint32_t y)
{
	return (x * 7 & 0xff) << 16 | (y * 13 & 0xff) << 8 | ((x + y) * 5 & 0xff);
}

static unsigned frame_no;

static uint32_t moving(uint32_t x, uint32_t y)
{
	return pattern(x + frame_no, y);
}

/* A good client must still get a whole picture. */
static int still_served(struct rig *r, struct peer *p)
{
	if (peer_request(p, false, 0, 0, (uint16_t)p->w, (uint16_t)p->h) || peer_update(r, p))
		return -1;
	return p->raw_rects ? 0 : fail("no rectangles");
}

static int t_bad_security(void)
{
	static const char why[] = "only security type None (1) is offered";
	uint8_t res[8];
	struct rig r;
	struct peer p, q, good;

	CHECK(rig_init(&r) == 0 && peer_connect(&r, &good) == 0);
	CHECK(peer_handshake(&r, &good, 8) == 0);
	CHECK(peer_connect(&r, &p) == 0 && peer_expect(&r, &p, "RFB 003.008\n", 12) == 0);
	CHECK(peer_send(&p, "RFB 003.008\n", 12) == 0 && peer_expect(&r, &p, "\1\1", 2) == 0);
	CHECK(peer_send(&p, "\2", 1) == 0 && peer_want(&r, &p, 8) == 0);
	peer_take(&p, res, 8);
	CHECK(get32(res) == 1 && get32(res + 4) == sizeof(why) - 1);
	CHECK(peer_expect(&r, &p, why, sizeof(why) - 1) == 0 && peer_wait_closed(&r, &p) == 0);
	/* 3.7 has no SecurityResult after a refusal: just the end */
	CHECK(peer_connect(&r, &q) == 0 && peer_expect(&r, &q, "RFB 003.008\n", 12) == 0);
	CHECK(peer_send(&q, "RFB 003.007\n", 12) == 0 && peer_expect(&r, &q, "\1\1", 2) == 0);
	CHECK(peer_send(&q, "\x10", 1) == 0 && peer_wait_closed(&r, &q) == 0 && q.len == 0);
	CHECK(rig_counters(&r).malformed == 2 && rig_counters(&r).connected == 1);
	CHECK(still_served(&r, &good) == 0);
	rig_fini(&r);
	return 0;
}

static int t_garbage(void)
{
	struct rig r;
	struct peer p;

	CHECK(rig_init(&r) == 0 && peer_connect(&r, &p) == 0);
	CHECK(peer_send(&p, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27) == 0);
	CHECK(peer_wait_closed(&r, &p) == 0);
	CHECK(rig_counters(&r).malformed == 1 && rig_counters(&r).connected == 0);
	rig_fini(&r);
	return 0;
}

/* Each message here, after a good handshake, ends the client. */
static int t_bad_messages(void)
{
	static const struct {
		uint8_t b[20];
		size_t n;
	} bad[] = {
	    {{7}, 1},							     /* unknown type */
	    {{6, 0, 0, 0, 0, 0x20, 0, 0}, 8},				     /* 2 MiB of cut text */
	    {{2, 0, 0x07, 0xd0}, 4},					     /* 2000 encodings */
	    {{0, 0, 0, 0, 24, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8}, 20}, /* 24 bpp */
	    {{0, 0, 0, 0, 8, 8, 0, 0}, 20},				     /* colour map */
	    {{255, 1, 0, 0}, 4},					     /* QEMU audio */
	};
	const unsigned n = sizeof(bad) / sizeof(bad[0]);
	struct rig r;
	struct peer good;

	CHECK(rig_init(&r) == 0 && rig_frame(&r, 32, 32, pattern) == 0);
	CHECK(peer_connect(&r, &good) == 0 && peer_handshake(&r, &good, 8) == 0);
	for (unsigned i = 0; i < n; i++) {
		struct peer p;

		CHECK(peer_connect(&r, &p) == 0 && peer_handshake(&r, &p, 8) == 0);
		CHECK(peer_send(&p, bad[i].b, bad[i].n) == 0 && peer_wait_closed(&r, &p) == 0);
		CHECK(rig_counters(&r).malformed == i + 1);
		peer_close(&p);
	}
	CHECK(rig_counters(&r).connected == 1 && still_served(&r, &good) == 0);
	rig_fini(&r);
	return 0;
}

/* Cut text up to the bound is read and dropped, in pieces, and the client
 * goes on. */
static int t_cut_text(void)
{
	static uint8_t b[8 + 300000] = {6, 0, 0, 0, 0, 0x04, 0x93, 0xe0};
	struct rig r;
	struct peer p;
	size_t off = 0;

	CHECK(rig_init(&r) == 0 && rig_frame(&r, 32, 32, pattern) == 0);
	CHECK(peer_connect(&r, &p) == 0 && peer_handshake(&r, &p, 8) == 0);
	while (off < sizeof(b)) {
		ssize_t n = send(p.fd, b + off, sizeof(b) - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0)
			off += (size_t)n;
		rig_pump(&r, 1);
	}
	CHECK(still_served(&r, &p) == 0 && rig_counters(&r).malformed == 0);
	rig_fini(&r);
	return 0;
}

/* A client that asks and never reads gets an update while its buffer is
 * empty, then none: frames only mark its tiles, its output stays one
 * picture, and the reading client gets every frame. */
static int t_never_reads(void)
{
	struct rig r;
	struct peer a, b;
	unsigned got = 0;

	CHECK(rig_init(&r) == 0 && rig_frame(&r, 256, 256, moving) == 0);
	CHECK(peer_connect(&r, &a) == 0 && peer_handshake(&r, &a, 8) == 0);
	CHECK(peer_connect(&r, &b) == 0 && peer_handshake(&r, &b, 8) == 0);
	CHECK(peer_request(&a, false, 0, 0, 256, 256) == 0);
	CHECK(peer_request(&b, false, 0, 0, 256, 256) == 0 && peer_update(&r, &b) == 0);
	for (frame_no = 1; frame_no <= 40; frame_no++) {
		CHECK(peer_request(&a, true, 0, 0, 256, 256) == 0);
		CHECK(peer_request(&b, true, 0, 0, 256, 256) == 0);
		CHECK(rig_frame(&r, 256, 256, moving) == 0 && peer_update(&r, &b) == 0);
		got++;
	}
	frame_no = 40; /* the picture now shown */
	CHECK(got == 40 && peer_px(&b, 255, 255) == moving(255, 255));
	/* a's first picture (256 KiB) does not fit in the socket, so it got no other */
	CHECK(rig_counters(&r).updates <= 1 + 41 + 1);
	CHECK(rig_counters(&r).dropped == 0 && rig_counters(&r).connected == 2);
	/* and when it reads at last, it is sent the picture as it is now */
	CHECK(peer_update(&r, &a) == 0);
	CHECK(peer_update(&r, &a) == 0 && peer_px(&a, 255, 255) == moving(255, 255));
	rig_fini(&r);
	return 0;
}

/* A client that never reads but makes the server answer (the extended key
 * event acknowledgement, 16 bytes for each 8-byte SetEncodings) fills its
 * output buffer and is cut off; the other client is still served. */
static int t_answers_unread(void)
{
	static const uint8_t ask[8] = {2, 0, 0, 1, 0xff, 0xff, 0xfe, 0xfe};
	static uint8_t burst[8 * 1024];
	struct rig r;
	struct peer a, b;
	long end = now_ms() + 20000;

	for (size_t i = 0; i < sizeof(burst); i += 8)
		memcpy(burst + i, ask, 8);
	CHECK(rig_init(&r) == 0 && rig_frame(&r, 64, 64, pattern) == 0);
	CHECK(peer_connect(&r, &a) == 0 && peer_handshake(&r, &a, 8) == 0);
	CHECK(peer_connect(&r, &b) == 0 && peer_handshake(&r, &b, 8) == 0);
	while (rig_counters(&r).dropped == 0 && now_ms() < end) {
		(void)!send(a.fd, burst, sizeof(burst), MSG_DONTWAIT | MSG_NOSIGNAL);
		rig_pump(&r, 1);
	}
	CHECK(rig_counters(&r).dropped == 1 && rig_counters(&r).malformed == 0);
	CHECK(rig_counters(&r).connected == 1);
	/* what a had been sent before the cut: acknowledgements */
	CHECK(peer_wait_closed(&r, &a) == 0 && a.len >= 16);
	CHECK(a.buf[0] == RFB_FB_UPDATE && get32(a.buf + 12) == (uint32_t)RFB_ENC_QEMU_EXT_KEY);
	CHECK(still_served(&r, &b) == 0);
	rig_fini(&r);
	return 0;
}

/* VNC_MAX_CLIENTS at once; the next is closed at once and counted; when
 * one leaves, a new one is served. */
static int t_max_clients(void)
{
	struct rig r;
	struct peer p[VNC_MAX_CLIENTS], extra;

	CHECK(rig_init(&r) == 0 && rig_frame(&r, 16, 16, pattern) == 0);
	for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++)
		CHECK(peer_connect(&r, &p[i]) == 0 && peer_handshake(&r, &p[i], 8) == 0);
	CHECK(peer_connect(&r, &extra) == 0 && peer_wait_closed(&r, &extra) == 0);
	CHECK(extra.len == 0);
	CHECK(rig_counters(&r).refused == 1 && rig_counters(&r).connected == VNC_MAX_CLIENTS);
	CHECK(rig_counters(&r).clients == VNC_MAX_CLIENTS);
	for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++)
		CHECK(still_served(&r, &p[i]) == 0);
	peer_close(&p[3]);
	peer_close(&extra);
	CHECK(peer_connect(&r, &extra) == 0 && peer_handshake(&r, &extra, 8) == 0);
	CHECK(rig_counters(&r).clients == VNC_MAX_CLIENTS + 1);
	CHECK(rig_counters(&r).connected == VNC_MAX_CLIENTS && rig_counters(&r).refused == 1);
	rig_fini(&r);
	return 0;
}

TAP_MAIN(TEST(t_bad_security), TEST(t_garbage), TEST(t_bad_messages), TEST(t_cut_text),
	 TEST(t_never_reads), TEST(t_answers_unread), TEST(t_max_clients))
