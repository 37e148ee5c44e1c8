/* The RFB protocol (RFC 6143) as the VNC server (vnc.c) needs it: a pure,
 * incremental parser of what a client sends, the conversion of the
 * shadow's pixels into a client's pixel format, and the key maps. No
 * descriptors, no allocation: unit tests and the fuzzer drive it alone.
 *
 * The parser knows where in the protocol the client is (version,
 * security, ClientInit, then the normal messages); the server answers
 * each step. It takes a message only when all its bytes are there, except
 * ClientCutText, whose text (up to RFB_MAX_CUT_TEXT bytes) is skipped as
 * it arrives, so the server's input buffer never needs more than
 * RFB_MSG_MAX bytes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RFB_MAX_ENCODINGS 64			      /* of a SetEncodings, the first kept */
#define RFB_ENCODINGS_MAX 1024			      /* a longer SetEncodings: protocol error */
#define RFB_MAX_CUT_TEXT  (1u << 20)		      /* a longer ClientCutText: protocol error */
#define RFB_MSG_MAX	  (4 + 4 * RFB_ENCODINGS_MAX) /* the largest message held whole */
#define RFB_VERSION_LEN	  12			      /* "RFB 003.008\n" */
#define RFB_PIXEL_FMT_LEN 16

#define RFB_SEC_NONE	     1
#define RFB_ENC_RAW	     0
#define RFB_ENC_DESKTOP_SIZE (-223)
#define RFB_ENC_QEMU_EXT_KEY (-258)

/* Client to server message types (RFC 6143 7.5, QEMU's 255). */
#define RFB_SET_PIXEL_FORMAT 0
#define RFB_SET_ENCODINGS    2
#define RFB_UPDATE_REQUEST   3
#define RFB_KEY_EVENT	     4
#define RFB_POINTER_EVENT    5
#define RFB_CLIENT_CUT_TEXT  6
#define RFB_QEMU	     255
#define RFB_QEMU_EXT_KEY     0 /* its subtype */

/* Server to client. */
#define RFB_FB_UPDATE 0

/* RFC 6143 7.4: how a client wants its pixels. */
struct rfb_pixel_format {
	uint8_t bpp, depth;
	bool big_endian, true_colour;
	uint16_t red_max, green_max, blue_max;
	uint8_t red_shift, green_shift, blue_shift;
};

/* A pixel format made ready for conversion: each 8-bit channel value
 * already scaled to its max and shifted. */
struct rfb_pixel_lut {
	uint32_t r[256], g[256], b[256];
	uint8_t bytes; /* per pixel: 1, 2 or 4 */
	bool big_endian;
};

enum rfb_phase {
	RFB_PH_VERSION,	 /* waiting for ProtocolVersion */
	RFB_PH_SECURITY, /* 3.7/3.8: waiting for the security type chosen */
	RFB_PH_INIT,	 /* waiting for ClientInit */
	RFB_PH_NORMAL,	 /* client to server messages */
};

struct rfb_parser {
	enum rfb_phase phase;
	unsigned minor; /* 3, 7 or 8, once the version is known */
	uint32_t skip;	/* bytes of a ClientCutText still to be dropped */
};

enum rfb_msg_type {
	RFB_MSG_NONE,		/* bytes consumed, nothing to act on (cut text) */
	RFB_MSG_VERSION,	/* u.minor: 3, 7 or 8 */
	RFB_MSG_SECURITY,	/* u.security: the type the client chose */
	RFB_MSG_CLIENT_INIT,	/* u.shared */
	RFB_MSG_PIXEL_FORMAT,	/* u.pf, already checked */
	RFB_MSG_ENCODINGS,	/* u.enc */
	RFB_MSG_UPDATE_REQUEST, /* u.req */
	RFB_MSG_KEY,		/* u.key (keycode 0) */
	RFB_MSG_POINTER,	/* u.ptr */
	RFB_MSG_CUT_TEXT,	/* u.cut_len: that many bytes follow, skipped */
	RFB_MSG_QEMU_KEY,	/* u.key with keycode */
};

struct rfb_msg {
	enum rfb_msg_type type;
	union {
		unsigned minor;
		uint8_t security;
		bool shared;
		struct rfb_pixel_format pf;
		struct {
			uint32_t count; /* announced */
			unsigned n;	/* kept in list: min(count, RFB_MAX_ENCODINGS) */
			int32_t list[RFB_MAX_ENCODINGS];
		} enc;
		struct {
			bool incremental;
			uint16_t x, y, w, h;
		} req;
		struct {
			bool down;
			uint32_t keysym;
			uint32_t keycode; /* QEMU's: XT scan code, 0x80 | code for 0xe0 ones */
		} key;
		struct {
			uint8_t buttons;
			uint16_t x, y;
		} ptr;
		uint32_t cut_len;
	} u;
};

void rfb_parser_init(struct rfb_parser *p);
/* Parse what the client sent next, from buf[0..len). Returns the bytes
 * taken (> 0) with *m filled in, 0 when more bytes are needed (nothing
 * taken), or -EPROTO when the client broke the protocol (the parser is
 * then of no further use). Moves the parser's phase along the handshake. */
ssize_t rfb_parse(struct rfb_parser *p, const uint8_t *buf, size_t len, struct rfb_msg *m);

/* 0 when the server can serve pf (true colour, 8/16/32 bits per pixel,
 * depth <= bpp, each max 2^n - 1 with n >= 1 and shift + n <= bpp), else
 * -EINVAL. */
int rfb_pixel_format_check(const struct rfb_pixel_format *pf);
void rfb_pixel_format_read(struct rfb_pixel_format *pf, const uint8_t b[RFB_PIXEL_FMT_LEN]);
void rfb_pixel_format_write(const struct rfb_pixel_format *pf, uint8_t b[RFB_PIXEL_FMT_LEN]);
/* The server's own format: 32 bpp, depth 24, little endian, true colour,
 * max 255, shifts 16/8/0 (the shadow's XRGB8888). */
void rfb_pixel_format_server(struct rfb_pixel_format *pf);
/* pf must have passed rfb_pixel_format_check. */
void rfb_pixel_lut_init(struct rfb_pixel_lut *lut, const struct rfb_pixel_format *pf);
/* 0x00RRGGBB as the client's pixel value (before byte order). */
uint32_t rfb_pixel_value(const struct rfb_pixel_lut *lut, uint32_t xrgb);
/* n pixels of 0x00RRGGBB written to out in the client's format and byte
 * order; returns the bytes written (n * lut->bytes). */
size_t rfb_pixels_put(const struct rfb_pixel_lut *lut, const uint32_t *px, size_t n, uint8_t *out);

/* Keys (keymap.c): a Linux input key code (KEY_*), 0 when unknown. */
unsigned rfb_keysym_to_key(uint32_t keysym);
/* QEMU's extended key event code: an XT (set 1) scan code 0x01-0x7f, or
 * 0x80 | code for the 0xe0-prefixed ones (0xe000 | code is taken too). */
unsigned rfb_xt_to_key(uint32_t code);
