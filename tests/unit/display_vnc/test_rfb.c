/* Unit tests for the RFB client-message parser (devproc/display/rfb.c),
 * the pixel conversion (rfb_pixel.c) and the key maps (keymap.c). Every
 * good message is also fed cut short at every length, which must ask for
 * more and take nothing; hostile ones must be refused. */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdint.h>

#include "rfb.h"
#include "tap.h"

/* A parser already past the handshake. */
static void normal(struct rfb_parser *p)
{
	rfb_parser_init(p);
	p->phase = RFB_PH_NORMAL;
	p->minor = 8;
}

/* Every proper prefix of b needs more; the whole takes exactly len. */
static int whole_only(struct rfb_parser *p, const uint8_t *b, size_t len, struct rfb_msg *m)
{
	for (size_t i = 0; i < len; i++) {
		struct rfb_parser q = *p;

		if (rfb_parse(&q, b, i, m) != 0)
			return -1;
	}
	return rfb_parse(p, b, len, m) == (ssize_t)len ? 0 : -1;
}

static int t_versions(void)
{
	static const struct {
		const char *s;
		unsigned minor;
	} good[] = {
	    {"RFB 003.003\n", 3}, {"RFB 003.007\n", 7}, {"RFB 003.008\n", 8},
	    {"RFB 003.005\n", 3}, {"RFB 003.006\n", 3},
	};
	static const char *const bad[] = {
	    "RFB 003.002\n", "RFB 003.009\n", "RFB 003.889\n", "RFB 004.000\n",
	    "RFB 003.008\r", "RFB 003.0x8\n", "rfb 003.008\n", "GET / HTTP/1.1\r\n",
	};
	struct rfb_parser p;
	struct rfb_msg m;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rfb_parser_init(&p);
		CHECK(whole_only(&p, (const uint8_t *)good[i].s, 12, &m) == 0);
		CHECK(m.type == RFB_MSG_VERSION && m.u.minor == good[i].minor);
		CHECK(p.phase == (good[i].minor == 3 ? RFB_PH_INIT : RFB_PH_SECURITY));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rfb_parser_init(&p);
		CHECK(rfb_parse(&p, (const uint8_t *)bad[i], 12, &m) == -EPROTO);
	}
	/* garbage is refused at its first wrong byte, not after 12 */
	rfb_parser_init(&p);
	CHECK(rfb_parse(&p, (const uint8_t *)"G", 1, &m) == -EPROTO);
	rfb_parser_init(&p);
	CHECK(rfb_parse(&p, (const uint8_t *)"RFB 0a", 6, &m) == -EPROTO);
	return 0;
}

static int t_handshake(void)
{
	struct rfb_parser p;
	struct rfb_msg m;
	const uint8_t *v = (const uint8_t *)"RFB 003.008\n\x01\x01\x03";

	rfb_parser_init(&p);
	CHECK(rfb_parse(&p, v, 15, &m) == 12 && m.type == RFB_MSG_VERSION);
	CHECK(rfb_parse(&p, v + 12, 3, &m) == 1 && m.type == RFB_MSG_SECURITY);
	CHECK(m.u.security == RFB_SEC_NONE && p.phase == RFB_PH_INIT);
	CHECK(rfb_parse(&p, v + 13, 2, &m) == 1 && m.type == RFB_MSG_CLIENT_INIT && m.u.shared);
	CHECK(p.phase == RFB_PH_NORMAL);
	/* the next byte is a message type: 3 wants 9 more */
	CHECK(rfb_parse(&p, v + 14, 1, &m) == 0);
	/* 3.3: ClientInit straight after the version */
	rfb_parser_init(&p);
	CHECK(rfb_parse(&p, (const uint8_t *)"RFB 003.003\n", 12, &m) == 12);
	CHECK(rfb_parse(&p, (const uint8_t *)"\0", 1, &m) == 1 && m.type == RFB_MSG_CLIENT_INIT);
	CHECK(!m.u.shared);
	/* a security type other than None is passed on for the server to refuse */
	rfb_parser_init(&p);
	CHECK(rfb_parse(&p, (const uint8_t *)"RFB 003.007\n\x02", 13, &m) == 12);
	CHECK(rfb_parse(&p, (const uint8_t *)"\x02", 1, &m) == 1 && m.u.security == 2);
	return 0;
}

/* SetPixelFormat: RGB565, big endian */
static const uint8_t pf_565[20] = {0, 0, 0, 0, 16, 16, 1, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0};

static int t_messages(void)
{
	static const uint8_t enc[] = {2,    0,	  0,	3,    0,    0,	  0,	0,
				      0xff, 0xff, 0xff, 0x21, 0xff, 0xff, 0xfe, 0xfe};
	static const uint8_t req[] = {3, 1, 0, 1, 0, 2, 0x03, 0x20, 0x02, 0x58};
	static const uint8_t key[] = {4, 1, 0, 0, 0, 0, 0xff, 0x0d};
	static const uint8_t ptr[] = {5, 0x05, 0x01, 0x02, 0x03, 0x04};
	static const uint8_t qkey[] = {255, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0, 0x1e};
	struct rfb_parser p;
	struct rfb_msg m;

	normal(&p);
	CHECK(whole_only(&p, pf_565, sizeof(pf_565), &m) == 0 && m.type == RFB_MSG_PIXEL_FORMAT);
	CHECK(m.u.pf.bpp == 16 && m.u.pf.depth == 16 && m.u.pf.big_endian && m.u.pf.true_colour);
	CHECK(m.u.pf.red_max == 31 && m.u.pf.green_max == 63 && m.u.pf.blue_max == 31);
	CHECK(m.u.pf.red_shift == 11 && m.u.pf.green_shift == 5 && m.u.pf.blue_shift == 0);
	CHECK(whole_only(&p, enc, sizeof(enc), &m) == 0 && m.type == RFB_MSG_ENCODINGS);
	CHECK(m.u.enc.count == 3 && m.u.enc.n == 3 && m.u.enc.list[0] == RFB_ENC_RAW);
	CHECK(m.u.enc.list[1] == RFB_ENC_DESKTOP_SIZE && m.u.enc.list[2] == RFB_ENC_QEMU_EXT_KEY);
	CHECK(whole_only(&p, req, sizeof(req), &m) == 0 && m.type == RFB_MSG_UPDATE_REQUEST);
	CHECK(m.u.req.incremental && m.u.req.x == 1 && m.u.req.y == 2);
	CHECK(m.u.req.w == 800 && m.u.req.h == 600);
	CHECK(whole_only(&p, key, sizeof(key), &m) == 0 && m.type == RFB_MSG_KEY);
	CHECK(m.u.key.down && m.u.key.keysym == 0xff0d && m.u.key.keycode == 0);
	CHECK(whole_only(&p, ptr, sizeof(ptr), &m) == 0 && m.type == RFB_MSG_POINTER);
	CHECK(m.u.ptr.buttons == 5 && m.u.ptr.x == 0x102 && m.u.ptr.y == 0x304);
	CHECK(whole_only(&p, qkey, sizeof(qkey), &m) == 0 && m.type == RFB_MSG_QEMU_KEY);
	CHECK(m.u.key.down && m.u.key.keysym == 'a' && m.u.key.keycode == 0x1e);
	CHECK(p.phase == RFB_PH_NORMAL && p.skip == 0);
	return 0;
}

static int t_encodings_bounds(void)
{
	static uint8_t b[4 + 4 * (RFB_ENCODINGS_MAX + 1)];
	struct rfb_parser p;
	struct rfb_msg m;

	normal(&p);
	for (unsigned i = 0; i < RFB_ENCODINGS_MAX + 1; i++)
		b[4 + 4 * i + 3] = (uint8_t)i;
	b[0] = 2;
	b[2] = 0, b[3] = 0; /* none at all */
	CHECK(rfb_parse(&p, b, sizeof(b), &m) == 4 && m.u.enc.count == 0 && m.u.enc.n == 0);
	b[2] = 0, b[3] = 100; /* 64 kept */
	CHECK(rfb_parse(&p, b, sizeof(b), &m) == 404 && m.u.enc.count == 100);
	CHECK(m.u.enc.n == RFB_MAX_ENCODINGS && m.u.enc.list[63] == 63);
	b[2] = RFB_ENCODINGS_MAX >> 8, b[3] = RFB_ENCODINGS_MAX & 0xff;
	CHECK(whole_only(&p, b, RFB_MSG_MAX, &m) == 0 && m.u.enc.count == RFB_ENCODINGS_MAX);
	/* one more: refused as soon as the count is there */
	b[2] = (RFB_ENCODINGS_MAX + 1) >> 8, b[3] = (RFB_ENCODINGS_MAX + 1) & 0xff;
	CHECK(rfb_parse(&p, b, 3, &m) == 0);
	CHECK(rfb_parse(&p, b, 4, &m) == -EPROTO);
	normal(&p);
	b[2] = 0xff, b[3] = 0xff;
	CHECK(rfb_parse(&p, b, 4, &m) == -EPROTO);
	return 0;
}

/* The text is skipped in whatever pieces it comes, then parsing goes on. */
static int t_cut_text(void)
{
	static const uint8_t cut[] = {6,   0,	0,   0, 0, 0, 0, 5, 'h', 'e',
				      'l', 'l', 'o', 5, 1, 0, 1, 0, 1};
	static const uint8_t huge[] = {6, 0, 0, 0, 0, 0x10, 0, 1};
	static const uint8_t max[] = {6, 0, 0, 0, 0, 0x10, 0, 0};
	struct rfb_parser p;
	struct rfb_msg m;

	normal(&p);
	CHECK(whole_only(&p, cut, 8, &m) == 0 && m.type == RFB_MSG_CUT_TEXT && m.u.cut_len == 5);
	CHECK(p.skip == 5);
	CHECK(rfb_parse(&p, cut + 8, 2, &m) == 2 && m.type == RFB_MSG_NONE && p.skip == 3);
	CHECK(rfb_parse(&p, cut + 10, sizeof(cut) - 10, &m) == 3 && m.type == RFB_MSG_NONE);
	CHECK(rfb_parse(&p, cut + 13, sizeof(cut) - 13, &m) == 6 && m.type == RFB_MSG_POINTER);
	CHECK(rfb_parse(&p, cut, 8, &m) == 8 && p.skip == 5); /* a second one */
	CHECK(rfb_parse(&p, cut + 8, 0, &m) == 0 && p.skip == 5);
	normal(&p);
	CHECK(rfb_parse(&p, max, sizeof(max), &m) == 8 && m.u.cut_len == RFB_MAX_CUT_TEXT);
	normal(&p);
	CHECK(rfb_parse(&p, huge, sizeof(huge), &m) == -EPROTO);
	return 0;
}

static int t_bad_types(void)
{
	static const uint8_t types[] = {1, 7, 8, 9, 150, 248, 250, 254};
	static const uint8_t qemu_audio[] = {255, 1, 0, 0};
	struct rfb_parser p;
	struct rfb_msg m;

	for (size_t i = 0; i < sizeof(types); i++) {
		uint8_t b[32] = {types[i]};

		normal(&p);
		CHECK(rfb_parse(&p, b, sizeof(b), &m) == -EPROTO);
	}
	normal(&p);
	CHECK(rfb_parse(&p, qemu_audio, 1, &m) == 0);
	CHECK(rfb_parse(&p, qemu_audio, 2, &m) == -EPROTO);
	return 0;
}

/* SetPixelFormat with field k (of the 16 format bytes) set to v. */
static int pf_with(size_t k, uint8_t v)
{
	uint8_t b[20];
	struct rfb_parser p;
	struct rfb_msg m;

	memcpy(b, pf_565, sizeof(b));
	b[4 + k] = v;
	normal(&p);
	return (int)rfb_parse(&p, b, sizeof(b), &m);
}

static int t_bad_pixel_formats(void)
{
	CHECK(pf_with(0, 16) == 20);
	CHECK(pf_with(0, 24) == -EPROTO); /* bpp */
	CHECK(pf_with(0, 0) == -EPROTO);
	CHECK(pf_with(0, 8) == -EPROTO);   /* depth 16 > bpp 8 */
	CHECK(pf_with(1, 17) == -EPROTO);  /* depth > bpp */
	CHECK(pf_with(3, 0) == -EPROTO);   /* colour map */
	CHECK(pf_with(5, 0) == -EPROTO);   /* red max 0 */
	CHECK(pf_with(5, 30) == -EPROTO);  /* red max not 2^n - 1 */
	CHECK(pf_with(4, 1) == -EPROTO);   /* red max 287 */
	CHECK(pf_with(10, 12) == -EPROTO); /* red shift 12 + 5 bits > 16 */
	CHECK(pf_with(11, 11) == -EPROTO); /* green 6 bits at 11 */
	CHECK(pf_with(12, 255) == -EPROTO);
	CHECK(pf_with(10, 0) == 20); /* overlapping channels are odd, not unsafe */
	return 0;
}

static int t_pixel_convert(void)
{
	/* bgr233 as TigerVNC's 8-bit mode: red 3 bits at 0, green 3 at 3, blue 2 at 6 */
	struct rfb_pixel_format bgr233 = {8, 8, false, true, 7, 7, 3, 0, 3, 6};
	struct rfb_pixel_format rgb565 = {16, 16, true, true, 31, 63, 31, 11, 5, 0};
	struct rfb_pixel_format be32 = {32, 24, true, true, 255, 255, 255, 16, 8, 0};
	struct rfb_pixel_format server;
	struct rfb_pixel_lut lut;
	uint32_t px[3] = {0xff0000, 0x80ff40, 0xffffff};
	uint8_t out[12], b[16];

	rfb_pixel_format_server(&server);
	CHECK(rfb_pixel_format_check(&server) == 0 && rfb_pixel_format_check(&bgr233) == 0);
	rfb_pixel_format_write(&server, b);
	CHECK(memcmp(b, "\x20\x18\x00\x01\x00\xff\x00\xff\x00\xff\x10\x08\x00\0\0\0", 16) == 0);
	rfb_pixel_lut_init(&lut, &bgr233);
	CHECK(rfb_pixel_value(&lut, 0) == 0 && rfb_pixel_value(&lut, 0xffffff) == 0xff);
	CHECK(rfb_pixel_value(&lut, 0xff0000) == 7 && rfb_pixel_value(&lut, 0x00ff00) == 7 << 3);
	CHECK(rfb_pixel_value(&lut, 0x0000ff) == 3 << 6);
	/* 0x80 -> round(128 * 7 / 255) = 4; 0x40 -> round(64 * 3 / 255) = 1 */
	CHECK(rfb_pixel_value(&lut, 0x80ff40) == (4 | 7 << 3 | 1 << 6));
	CHECK(rfb_pixels_put(&lut, px, 3, out) == 3 && out[0] == 7 && out[2] == 0xff);
	rfb_pixel_lut_init(&lut, &rgb565);
	CHECK(rfb_pixels_put(&lut, px, 3, out) == 6);
	CHECK(out[0] == 0xf8 && out[1] == 0x00 && out[4] == 0xff && out[5] == 0xff);
	/* 0x80ff40: r 16, g 63, b 8 -> 0x87e8, big endian */
	CHECK(out[2] == 0x87 && out[3] == 0xe8);
	rgb565.big_endian = false;
	rfb_pixel_lut_init(&lut, &rgb565);
	CHECK(rfb_pixels_put(&lut, px, 1, out) == 2 && out[0] == 0x00 && out[1] == 0xf8);
	rfb_pixel_lut_init(&lut, &be32);
	CHECK(rfb_pixels_put(&lut, px + 1, 1, out) == 4);
	CHECK(out[0] == 0 && out[1] == 0x80 && out[2] == 0xff && out[3] == 0x40);
	rfb_pixel_lut_init(&lut, &server);
	CHECK(rfb_pixels_put(&lut, px + 1, 1, out) == 4);
	CHECK(out[0] == 0x40 && out[1] == 0xff && out[2] == 0x80 && out[3] == 0);
	return 0;
}

static int t_keysyms(void)
{
	CHECK(rfb_keysym_to_key('a') == KEY_A && rfb_keysym_to_key('A') == KEY_A);
	CHECK(rfb_keysym_to_key('z') == KEY_Z && rfb_keysym_to_key('Q') == KEY_Q);
	CHECK(rfb_keysym_to_key('0') == KEY_0 && rfb_keysym_to_key('9') == KEY_9);
	CHECK(rfb_keysym_to_key('!') == KEY_1 && rfb_keysym_to_key('@') == KEY_2);
	CHECK(rfb_keysym_to_key('{') == KEY_LEFTBRACE && rfb_keysym_to_key('"') == KEY_APOSTROPHE);
	CHECK(rfb_keysym_to_key('~') == KEY_GRAVE && rfb_keysym_to_key('|') == KEY_BACKSLASH);
	CHECK(rfb_keysym_to_key('?') == KEY_SLASH && rfb_keysym_to_key(' ') == KEY_SPACE);
	CHECK(rfb_keysym_to_key(0xff0d) == KEY_ENTER && rfb_keysym_to_key(0xff1b) == KEY_ESC);
	CHECK(rfb_keysym_to_key(0xff08) == KEY_BACKSPACE && rfb_keysym_to_key(0xff09) == KEY_TAB);
	CHECK(rfb_keysym_to_key(0xffbe) == KEY_F1 && rfb_keysym_to_key(0xffc9) == KEY_F12);
	CHECK(rfb_keysym_to_key(0xff51) == KEY_LEFT && rfb_keysym_to_key(0xff54) == KEY_DOWN);
	CHECK(rfb_keysym_to_key(0xff55) == KEY_PAGEUP && rfb_keysym_to_key(0xff56) == KEY_PAGEDOWN);
	CHECK(rfb_keysym_to_key(0xff63) == KEY_INSERT && rfb_keysym_to_key(0xffff) == KEY_DELETE);
	CHECK(rfb_keysym_to_key(0xffe1) == KEY_LEFTSHIFT &&
	      rfb_keysym_to_key(0xffe4) == KEY_RIGHTCTRL);
	CHECK(rfb_keysym_to_key(0xffe9) == KEY_LEFTALT &&
	      rfb_keysym_to_key(0xffeb) == KEY_LEFTMETA);
	CHECK(rfb_keysym_to_key(0xffe5) == KEY_CAPSLOCK &&
	      rfb_keysym_to_key(0xff8d) == KEY_KPENTER);
	CHECK(rfb_keysym_to_key(0xffb5) == KEY_KP5 && rfb_keysym_to_key(0xffab) == KEY_KPPLUS);
	CHECK(rfb_keysym_to_key(0) == 0 && rfb_keysym_to_key(0xe9) == 0); /* eacute: no US key */
	CHECK(rfb_keysym_to_key(0xff00) == 0 && rfb_keysym_to_key(0x1000000) == 0);
	CHECK(rfb_keysym_to_key(0xffffffff) == 0);
	return 0;
}

static int t_xt(void)
{
	CHECK(rfb_xt_to_key(0x01) == KEY_ESC && rfb_xt_to_key(0x1e) == KEY_A);
	CHECK(rfb_xt_to_key(0x1c) == KEY_ENTER && rfb_xt_to_key(0x53) == KEY_KPDOT);
	CHECK(rfb_xt_to_key(0x57) == KEY_F11 && rfb_xt_to_key(0x58) == KEY_F12);
	CHECK(rfb_xt_to_key(0x56) == KEY_102ND && rfb_xt_to_key(0x73) == KEY_RO);
	CHECK(rfb_xt_to_key(0x9c) == KEY_KPENTER && rfb_xt_to_key(0x9d) == KEY_RIGHTCTRL);
	CHECK(rfb_xt_to_key(0xc8) == KEY_UP && rfb_xt_to_key(0xd0) == KEY_DOWN);
	CHECK(rfb_xt_to_key(0xcb) == KEY_LEFT && rfb_xt_to_key(0xcd) == KEY_RIGHT);
	CHECK(rfb_xt_to_key(0xb8) == KEY_RIGHTALT && rfb_xt_to_key(0xdb) == KEY_LEFTMETA);
	CHECK(rfb_xt_to_key(0xe048) == KEY_UP && rfb_xt_to_key(0xe01c) == KEY_KPENTER);
	CHECK(rfb_xt_to_key(0) == 0 && rfb_xt_to_key(0x7f) == 0 && rfb_xt_to_key(0x80) == 0);
	CHECK(rfb_xt_to_key(0x100) == 0 && rfb_xt_to_key(0xffffffff) == 0);
	for (uint32_t c = 0; c < 0x10000; c++)
		CHECK(rfb_xt_to_key(c) < KEY_MAX);
	return 0;
}

TAP_MAIN(TEST(t_versions), TEST(t_handshake), TEST(t_messages), TEST(t_encodings_bounds),
	 TEST(t_cut_text), TEST(t_bad_types), TEST(t_bad_pixel_formats), TEST(t_pixel_convert),
	 TEST(t_keysyms), TEST(t_xt))
