/* Unit tests for the VNC server (devproc/display/vnc*.c) with real
 * clients on a listening unix socket (vnc_peer.h): the handshakes,
 * ServerInit, full and incremental updates in the server's and in other
 * pixel formats, resizes with and without DesktopSize, QEMU's extended key
 * event and the pointer. Hostile clients: test_vnc_hostile.c. */
#include <linux/input-event-codes.h>

#include "tap.h"
#include "vnc_peer.h"

static uint32_t pattern(uint32_t x, uint32_t y)
{
	return (x * 7 & 0xff) << 16 | (y * 13 & 0xff) << 8 | ((x + y) * 5 & 0xff);
}

static uint32_t pattern2(uint32_t x, uint32_t y)
{
	return pattern(x, y) ^ 0x5a5a5a;
}

/* Six stripes, 5 pixels wide: black, white, red, green, blue, grey. */
static const uint32_t stripe_rgb[6] = {0x000000, 0xffffff, 0xff0000, 0x00ff00, 0x0000ff, 0x808080};

static uint32_t stripes(uint32_t x, uint32_t y)
{
	return stripe_rgb[x / 5 % 6];
}

static int t_handshake_38(void)
{
	struct rig r;
	struct peer p, q;

	CHECK(rig_init(&r) == 0 && peer_connect(&r, &p) == 0);
	CHECK(peer_handshake(&r, &p, 8) == 0);
	CHECK(p.w == 640 && p.h == 480); /* no picture yet */
	CHECK(rig_counters(&r).connected == 1 && rig_counters(&r).clients == 1);
	/* a picture: the next client is told its size */
	CHECK(rig_frame(&r, 100, 60, pattern) == 0);
	CHECK(peer_connect(&r, &q) == 0 && peer_handshake(&r, &q, 8) == 0);
	CHECK(q.w == 100 && q.h == 60);
	peer_close(&p);
	peer_close(&q);
	for (int i = 0; i < 5; i++)
		rig_pump(&r, 5);
	CHECK(rig_counters(&r).connected == 0 && rig_counters(&r).malformed == 0);
	rig_fini(&r);
	return 0;
}

/* 3.3 (the server names the security type), 3.7 (no SecurityResult after
 * None) and 3.5 (read as 3.3). */
static int t_handshake_old(void)
{
	static const unsigned minors[] = {3, 7, 5};
	struct rig r;

	CHECK(rig_init(&r) == 0);
	for (unsigned i = 0; i < 3; i++) {
		struct peer p;

		CHECK(peer_connect(&r, &p) == 0);
		CHECK(peer_handshake(&r, &p, minors[i]) == 0);
		CHECK(peer_request(&p, false, 0, 0, 16, 16) == 0 && peer_update(&r, &p) == 0);
		CHECK(p.raw_rects == 1 && p.rw[0] == 16 && p.rh[0] == 16);
		peer_close(&p);
	}
	rig_fini(&r);
	return 0;
}

/* 40 x 20: tiles of 16, 16 and 8 pixels in two rows (16 and 4 lines); a
 * full update merges each row into one rectangle. */
static int t_full_update_32(void)
{
	struct rig r;
	struct peer p;

	CHECK(rig_init(&r) == 0 && rig_frame(&r, 40, 20, pattern) == 0);
	CHECK(peer_connect(&r, &p) == 0 && peer_handshake(&r, &p, 8) == 0);
	CHECK(!vnc_wants_frame(r.v));
	CHECK(peer_request(&p, false, 0, 0, 40, 20) == 0 && peer_update(&r, &p) == 0);
	CHECK(p.rects == 2 && p.raw_rects == 2);
	CHECK(p.rx[0] == 0 && p.ry[0] == 0 && p.rw[0] == 40 && p.rh[0] == 16);
	CHECK(p.rx[1] == 0 && p.ry[1] == 16 && p.rw[1] == 40 && p.rh[1] == 4);
	for (uint32_t y = 0; y < 20; y++)
		for (uint32_t x = 0; x < 40; x++)
			CHECK(peer_px(&p, x, y) == pattern(x, y));
	CHECK(rig_counters(&r).updates == 1 && rig_counters(&r).bytes > 40 * 20 * 4);
	rig_fini(&r);
	return 0;
}

static int set_format(struct peer *p, const uint8_t pf[16])
{
	uint8_t b[20] = {RFB_SET_PIXEL_FORMAT};

	memcpy(b + 4, pf, 16);
	p->bpp = pf[0];
	return peer_send(p, b, sizeof(b));
}

/* The stripes in RGB565, little endian: each channel scaled to 5 or 6 bits. */
static int t_pixel_16(void)
{
	static const uint8_t pf[16] = {16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0};
	static const uint32_t want[6] = {0x0000, 0xffff, 0xf800, 0x07e0, 0x001f, 0x8410};
	struct rig r;
	struct peer p;

	CHECK(rig_init(&r) == 0 && rig_frame(&r, 30, 4, stripes) == 0);
	CHECK(peer_connect(&r, &p) == 0 && peer_handshake(&r, &p, 8) == 0);
	CHECK(set_format(&p, pf) == 0);
	CHECK(peer_request(&p, false, 0, 0, 30, 4) == 0 && peer_update(&r, &p) == 0);
	for (uint32_t y = 0; y < 4; y++)
		for (uint32_t x = 0; x < 30; x++)
			CHECK(peer_px(&p, x, y) == want[x / 5]);
	rig_fini(&r);
	return 0;
}

/* The stripes in bgr233 (red 3 bits at 0, green 3 at 3, blue 2 at 6);
 * grey 0x80: red and green 128 * 7 / 255 -> 4, blue 128 * 3 / 255 -> 2. */
static int t_pixel_8(void)
{
	static const uint8_t pf[16] = {8, 8, 0, 1, 0, 7, 0, 7, 0, 3, 0, 3, 6};
	static const uint32_t want[6] = {0x00, 0xff, 0x07, 0x38, 0xc0, 0x04 | 0x20 | 0x80};
	struct rig r;
	struct peer p;

	CHECK(rig_init(&r) == 0 && rig_frame(&r, 30, 4, stripes) == 0);
	CHECK(peer_connect(&r, &p) == 0 && peer_handshake(&r, &p, 8) == 0);
	CHECK(set_format(&p, pf) == 0);
	CHECK(peer_request(&p, false, 0, 0, 30, 4) == 0 && peer_update(&r, &p) == 0);
	for (uint32_t y = 0; y < 4; y++)
		for (uint32_t x = 0; x < 30; x++)
			CHECK(peer_px(&p, x, y) == want[x / 5]);
	rig_fini(&r);
	return 0;
}

static uint32_t changed_tiles(uint32_t x, uint32_t y)
{
	/* tiles (0,0) and (1,0) side by side, and (3,2) */
	if ((y == 3 && (x == 2 || x == 20)) || (x == 50 && y == 40))
		return 0xabcdef;
	return pattern(x, y);
}

/* After the full picture, an incremental request carries only the tiles
 * that changed: two neighbours as one rectangle, a third alone. Nothing
 * changed: no update, until something does. */
static int t_incremental(void)
{
	struct rig r;
	struct peer p;

	CHECK(rig_init(&r) == 0 && rig_frame(&r, 64, 48, pattern) == 0);
	CHECK(peer_connect(&r, &p) == 0 && peer_handshake(&r, &p, 8) == 0);
	CHECK(peer_request(&p, false, 0, 0, 64, 48) == 0 && peer_update(&r, &p) == 0);
	CHECK(peer_request(&p, true, 0, 0, 64, 48) == 0 && peer_quiet(&r, &p) == 0);
	CHECK(vnc_wants_frame(r.v));
	CHECK(rig_frame(&r, 64, 48, pattern) == 0 && peer_quiet(&r, &p) == 0);
	CHECK(rig_frame(&r, 64, 48, changed_tiles) == 0 && peer_update(&r, &p) == 0);
	CHECK(p.rects == 2 && p.raw_rects == 2 && !vnc_wants_frame(r.v));
	CHECK(p.rx[0] == 0 && p.ry[0] == 0 && p.rw[0] == 32 && p.rh[0] == 16);
	CHECK(p.rx[1] == 48 && p.ry[1] == 32 && p.rw[1] == 16 && p.rh[1] == 16);
	for (uint32_t y = 0; y < 48; y++)
		for (uint32_t x = 0; x < 64; x++)
			CHECK(peer_px(&p, x, y) == changed_tiles(x, y));
	/* a request for part of the picture: only that part's tiles */
	CHECK(rig_frame(&r, 64, 48, pattern) == 0);
	CHECK(peer_request(&p, true, 40, 30, 10, 10) == 0 && peer_update(&r, &p) == 0);
	CHECK(p.raw_rects == 1 && p.rx[0] == 48 && p.ry[0] == 32);
	CHECK(peer_request(&p, true, 0, 0, 64, 48) == 0 && peer_update(&r, &p) == 0);
	CHECK(p.raw_rects == 1 && p.rx[0] == 0 && p.rw[0] == 32);
	rig_fini(&r);
	return 0;
}

/* A client that announced DesktopSize gets it first, then the whole new
 * picture; one that did not keeps its size and sees the part that fits,
 * black beyond the new picture. */
static int t_resize(void)
{
	static const int32_t enc[] = {RFB_ENC_RAW, RFB_ENC_DESKTOP_SIZE};
	struct rig r;
	struct peer a, b;

	CHECK(rig_init(&r) == 0 && rig_frame(&r, 40, 20, pattern) == 0);
	CHECK(peer_connect(&r, &a) == 0 && peer_handshake(&r, &a, 8) == 0);
	CHECK(peer_connect(&r, &b) == 0 && peer_handshake(&r, &b, 8) == 0);
	CHECK(peer_encodings(&a, enc, 2) == 0);
	CHECK(peer_request(&a, false, 0, 0, 40, 20) == 0 && peer_update(&r, &a) == 0);
	CHECK(peer_request(&b, false, 0, 0, 40, 20) == 0 && peer_update(&r, &b) == 0);
	CHECK(peer_request(&a, true, 0, 0, 40, 20) == 0);
	CHECK(peer_request(&b, true, 0, 0, 40, 20) == 0);
	CHECK(rig_frame(&r, 64, 48, pattern2) == 0);
	CHECK(peer_update(&r, &a) == 0 && a.resizes == 1 && a.w == 64 && a.h == 48);
	CHECK(a.rects == 1 + 3 && a.raw_rects == 3); /* DesktopSize, then 3 rows */
	for (uint32_t y = 0; y < 48; y++)
		for (uint32_t x = 0; x < 64; x++)
			CHECK(peer_px(&a, x, y) == pattern2(x, y));
	CHECK(peer_update(&r, &b) == 0 && b.resizes == 0 && b.w == 40 && b.h == 20);
	for (uint32_t y = 0; y < 20; y++)
		for (uint32_t x = 0; x < 40; x++)
			CHECK(peer_px(&b, x, y) == pattern2(x, y));
	/* smaller: black where the picture does not reach */
	CHECK(peer_request(&a, true, 0, 0, 64, 48) == 0);
	CHECK(peer_request(&b, true, 0, 0, 40, 20) == 0);
	CHECK(rig_frame(&r, 24, 10, pattern) == 0);
	CHECK(peer_update(&r, &a) == 0 && a.resizes == 2 && a.w == 24 && a.h == 10);
	CHECK(peer_update(&r, &b) == 0 && b.w == 40);
	for (uint32_t y = 0; y < 20; y++)
		for (uint32_t x = 0; x < 40; x++)
			CHECK(peer_px(&b, x, y) == (x < 24 && y < 10 ? pattern(x, y) : 0));
	/* b announces DesktopSize late: it is resized at its next update */
	CHECK(peer_encodings(&b, enc, 2) == 0);
	CHECK(peer_request(&b, true, 0, 0, 40, 20) == 0 && peer_update(&r, &b) == 0);
	CHECK(b.resizes == 1 && b.w == 24 && b.h == 10 && b.raw_rects == 1);
	rig_fini(&r);
	return 0;
}

/* No picture: 640 x 480 of black; then the first picture is a resize. */
static int t_no_picture(void)
{
	static const int32_t enc[] = {RFB_ENC_DESKTOP_SIZE};
	struct rig r;
	struct peer p;

	CHECK(rig_init(&r) == 0);
	CHECK(peer_connect(&r, &p) == 0 && peer_handshake(&r, &p, 8) == 0);
	CHECK(peer_encodings(&p, enc, 1) == 0);
	memset(p.pic, 0x55, (size_t)p.w * p.h * 4);
	CHECK(peer_request(&p, false, 0, 0, 640, 480) == 0 && peer_update(&r, &p) == 0);
	CHECK(p.raw_rects == 30 && p.resizes == 0);
	for (uint32_t y = 0; y < 480; y += 7)
		for (uint32_t x = 0; x < 640; x += 3)
			CHECK(peer_px(&p, x, y) == 0);
	CHECK(peer_request(&p, true, 0, 0, 640, 480) == 0);
	CHECK(rig_frame(&r, 320, 200, pattern) == 0 && peer_update(&r, &p) == 0);
	CHECK(p.resizes == 1 && p.w == 320 && p.h == 200 &&
	      peer_px(&p, 319, 199) == pattern(319, 199));
	/* the picture goes away: same size, black */
	CHECK(peer_request(&p, true, 0, 0, 320, 200) == 0);
	CHECK(fb_shadow_resize(&r.fb, 0, 0) == 0);
	vnc_frame(r.v, &r.fb, NULL);
	CHECK(peer_update(&r, &p) == 0 && p.resizes == 1 && peer_px(&p, 319, 199) == 0);
	rig_fini(&r);
	return 0;
}

static int t_ext_key(void)
{
	static const int32_t enc[] = {RFB_ENC_RAW, RFB_ENC_QEMU_EXT_KEY};
	static const uint8_t kdown[] = {255, 0, 0, 1, 0, 0, 0, 'a', 0, 0, 0, 0x1e};
	static const uint8_t up_arrow[] = {255, 0, 0, 1, 0, 0, 0xff, 0x52, 0, 0, 0, 0xc8};
	static const uint8_t kp_enter[] = {255, 0, 0, 0, 0, 0, 0xff, 0x8d, 0, 0, 0, 0x9c};
	static const uint8_t sym_only[] = {255, 0, 0, 1, 0, 0, 0, 'z', 0, 0, 0, 0};
	static const uint8_t plain[] = {4, 1, 0, 0, 0, 0, 0, 'A'};
	static const uint8_t plain_up[] = {4, 0, 0, 0, 0, 0, 0, 'A'};
	static const uint8_t unknown[] = {4, 1, 0, 0, 0, 0, 0x20, 0xac};
	struct rig r;
	struct peer p;

	CHECK(rig_init(&r) == 0 && peer_connect(&r, &p) == 0 && peer_handshake(&r, &p, 8) == 0);
	CHECK(peer_encodings(&p, enc, 2) == 0 && peer_update(&r, &p) == 0);
	CHECK(p.rects == 1 && p.ext_key_acks == 1 && p.raw_rects == 0);
	CHECK(peer_send(&p, kdown, 12) == 0 && peer_send(&p, up_arrow, 12) == 0);
	CHECK(peer_send(&p, kp_enter, 12) == 0 && peer_send(&p, sym_only, 12) == 0);
	CHECK(peer_send(&p, plain, 8) == 0 && peer_send(&p, plain_up, 8) == 0);
	CHECK(peer_send(&p, unknown, 8) == 0 && peer_quiet(&r, &p) == 0);
	CHECK(r.nkeys == 6);
	CHECK(r.keys[0].key == KEY_A && r.keys[0].down);
	CHECK(r.keys[1].key == KEY_UP && r.keys[1].down);
	CHECK(r.keys[2].key == KEY_KPENTER && !r.keys[2].down);
	CHECK(r.keys[3].key == KEY_Z && r.keys[3].down);
	CHECK(r.keys[4].key == KEY_A && r.keys[4].down);
	CHECK(r.keys[5].key == KEY_A && !r.keys[5].down);
	/* gone with Up and Z held: both let go */
	peer_close(&p);
	for (int i = 0; i < 5; i++)
		rig_pump(&r, 5);
	CHECK(r.nkeys == 8 && !r.keys[6].down && !r.keys[7].down);
	CHECK((r.keys[6].key == KEY_UP && r.keys[7].key == KEY_Z) ||
	      (r.keys[6].key == KEY_Z && r.keys[7].key == KEY_UP));
	rig_fini(&r);
	return 0;
}

static int t_pointer(void)
{
	static const uint8_t in[] = {5, 1, 0, 10, 0, 20};
	static const uint8_t out[] = {5, 4, 0x13, 0x88, 0xff, 0xff};
	struct rig r;
	struct peer p;

	CHECK(rig_init(&r) == 0 && rig_frame(&r, 100, 50, pattern) == 0);
	CHECK(peer_connect(&r, &p) == 0 && peer_handshake(&r, &p, 8) == 0);
	CHECK(peer_send(&p, in, 6) == 0 && peer_quiet(&r, &p) == 0);
	CHECK(r.pointers == 1 && r.px == 10 && r.py == 20 && r.pw == 100 && r.ph == 50);
	CHECK(r.buttons == 1);
	CHECK(peer_send(&p, out, 6) == 0 && peer_quiet(&r, &p) == 0);
	CHECK(r.pointers == 2 && r.px == 99 && r.py == 49 && r.buttons == 4);
	peer_close(&p);
	for (int i = 0; i < 5; i++)
		rig_pump(&r, 5);
	CHECK(r.pointers == 3 && r.buttons == 0 && r.px == 99);
	rig_fini(&r);
	return 0;
}

TAP_MAIN(TEST(t_handshake_38), TEST(t_handshake_old), TEST(t_full_update_32), TEST(t_pixel_16),
	 TEST(t_pixel_8), TEST(t_incremental), TEST(t_resize), TEST(t_no_picture), TEST(t_ext_key),
	 TEST(t_pointer))
