/* The RFB client-message parser (rfb.h). Every length, count and format a
 * client sends is checked here, before the server sees the message:
 * the server only acts on messages this file let through.
 *
 * Reference, read to learn the protocol (no code taken): RFC 6143, and
 * the community rfbproto document for QEMU's extended key event (client
 * message 255, subtype 0) and its pseudo-encoding -258. */
#include <errno.h>
#include <string.h>

#include "rfb.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void rfb_parser_init(struct rfb_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->phase = RFB_PH_VERSION;
}

/* "RFB xxx.yyy\n", checked byte by byte as it arrives so that a client
 * talking anything else is refused at its first wrong byte. Major 3 only;
 * minor 3, 7 and 8 as themselves, and 4 to 6 as 3.3 (RFC 6143 7.1.1: other
 * numbers are to be read as 3.3, which they speak); anything else
 * (Apple's 3.889 among them) is refused. */
static ssize_t parse_version(struct rfb_parser *p, const uint8_t *b, size_t len, struct rfb_msg *m)
{
	static const char pattern[] = "RFB ddd.ddd\n";
	unsigned major, minor;

	for (size_t i = 0; i < len && i < RFB_VERSION_LEN; i++) {
		if (pattern[i] == 'd' ? (b[i] < '0' || b[i] > '9') : b[i] != (uint8_t)pattern[i])
			return -EPROTO;
	}
	if (len < RFB_VERSION_LEN)
		return 0;
	major = (b[4] - '0') * 100u + (b[5] - '0') * 10u + (b[6] - '0');
	minor = (b[8] - '0') * 100u + (b[9] - '0') * 10u + (b[10] - '0');
	if (major != 3 || minor < 3 || minor > 8)
		return -EPROTO;
	if (minor < 7)
		minor = 3;
	p->minor = minor;
	/* 3.3: the server names the security type, the client says nothing */
	p->phase = minor == 3 ? RFB_PH_INIT : RFB_PH_SECURITY;
	m->type = RFB_MSG_VERSION;
	m->u.minor = minor;
	return RFB_VERSION_LEN;
}

/* SetPixelFormat: 3 bytes of padding, then the format; one the server
 * cannot serve is a protocol error (RFC 6143 has no way to refuse it). */
static ssize_t parse_pixel_format(const uint8_t *b, size_t len, struct rfb_msg *m)
{
	if (len < 4 + RFB_PIXEL_FMT_LEN)
		return 0;
	rfb_pixel_format_read(&m->u.pf, b + 4);
	if (rfb_pixel_format_check(&m->u.pf))
		return -EPROTO;
	m->type = RFB_MSG_PIXEL_FORMAT;
	return 4 + RFB_PIXEL_FMT_LEN;
}

/* SetEncodings: the count is judged as soon as it arrives, so a client
 * cannot make the server wait for more than RFB_MSG_MAX bytes. */
static ssize_t parse_encodings(const uint8_t *b, size_t len, struct rfb_msg *m)
{
	uint32_t count;

	if (len < 4)
		return 0;
	count = be16(b + 2);
	if (count > RFB_ENCODINGS_MAX)
		return -EPROTO;
	if (len < 4 + 4 * (size_t)count)
		return 0;
	m->type = RFB_MSG_ENCODINGS;
	m->u.enc.count = count;
	m->u.enc.n = count < RFB_MAX_ENCODINGS ? count : RFB_MAX_ENCODINGS;
	for (unsigned i = 0; i < m->u.enc.n; i++)
		m->u.enc.list[i] = (int32_t)be32(b + 4 + 4 * i);
	return 4 + 4 * (ssize_t)count;
}

static ssize_t parse_update_request(const uint8_t *b, size_t len, struct rfb_msg *m)
{
	if (len < 10)
		return 0;
	m->type = RFB_MSG_UPDATE_REQUEST;
	m->u.req.incremental = b[1] != 0;
	m->u.req.x = be16(b + 2);
	m->u.req.y = be16(b + 4);
	m->u.req.w = be16(b + 6);
	m->u.req.h = be16(b + 8);
	return 10;
}

static ssize_t parse_key(const uint8_t *b, size_t len, struct rfb_msg *m)
{
	if (len < 8)
		return 0;
	m->type = RFB_MSG_KEY;
	m->u.key.down = b[1] != 0;
	m->u.key.keysym = be32(b + 4);
	m->u.key.keycode = 0;
	return 8;
}

static ssize_t parse_pointer(const uint8_t *b, size_t len, struct rfb_msg *m)
{
	if (len < 6)
		return 0;
	m->type = RFB_MSG_POINTER;
	m->u.ptr.buttons = b[1];
	m->u.ptr.x = be16(b + 2);
	m->u.ptr.y = be16(b + 4);
	return 6;
}

/* ClientCutText: only the header is a message; its text is skipped by
 * rfb_parse as it comes (p->skip), never held. */
static ssize_t parse_cut_text(struct rfb_parser *p, const uint8_t *b, size_t len, struct rfb_msg *m)
{
	uint32_t n;

	if (len < 8)
		return 0;
	n = be32(b + 4);
	if (n > RFB_MAX_CUT_TEXT)
		return -EPROTO;
	p->skip = n;
	m->type = RFB_MSG_CUT_TEXT;
	m->u.cut_len = n;
	return 8;
}

/* QEMU's client message: only subtype 0, the extended key event (down as
 * u16, keysym, XT keycode). Other subtypes (audio) are not offered. */
static ssize_t parse_qemu(const uint8_t *b, size_t len, struct rfb_msg *m)
{
	if (len < 2)
		return 0;
	if (b[1] != RFB_QEMU_EXT_KEY)
		return -EPROTO;
	if (len < 12)
		return 0;
	m->type = RFB_MSG_QEMU_KEY;
	m->u.key.down = be16(b + 2) != 0;
	m->u.key.keysym = be32(b + 4);
	m->u.key.keycode = be32(b + 8);
	return 12;
}

/* One client-to-server message (RFC 6143 7.5), by its type byte. */
static ssize_t parse_normal(struct rfb_parser *p, const uint8_t *b, size_t len, struct rfb_msg *m)
{
	switch (b[0]) {
	case RFB_SET_PIXEL_FORMAT:
		return parse_pixel_format(b, len, m);
	case RFB_SET_ENCODINGS:
		return parse_encodings(b, len, m);
	case RFB_UPDATE_REQUEST:
		return parse_update_request(b, len, m);
	case RFB_KEY_EVENT:
		return parse_key(b, len, m);
	case RFB_POINTER_EVENT:
		return parse_pointer(b, len, m);
	case RFB_CLIENT_CUT_TEXT:
		return parse_cut_text(p, b, len, m);
	case RFB_QEMU:
		return parse_qemu(b, len, m);
	default:
		return -EPROTO;
	}
}

ssize_t rfb_parse(struct rfb_parser *p, const uint8_t *buf, size_t len, struct rfb_msg *m)
{
	m->type = RFB_MSG_NONE;
	if (len == 0)
		return 0;
	if (p->skip) {
		uint32_t n = len < p->skip ? (uint32_t)len : p->skip;

		p->skip -= n;
		return n;
	}
	switch (p->phase) {
	case RFB_PH_VERSION:
		return parse_version(p, buf, len, m);
	case RFB_PH_SECURITY:
		/* any type is passed on: the server answers a wrong one */
		m->type = RFB_MSG_SECURITY;
		m->u.security = buf[0];
		p->phase = RFB_PH_INIT;
		return 1;
	case RFB_PH_INIT:
		m->type = RFB_MSG_CLIENT_INIT;
		m->u.shared = buf[0] != 0;
		p->phase = RFB_PH_NORMAL;
		return 1;
	case RFB_PH_NORMAL:
		return parse_normal(p, buf, len, m);
	}
	return -EPROTO;
}
