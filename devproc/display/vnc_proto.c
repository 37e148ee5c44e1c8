/* The VNC server's side of the conversation: each message the parser
 * (rfb.c) let through is handled here, and the handshake answered.
 *
 * Handshake (RFC 6143 7.1-7.3): the server sent "RFB 003.008\n" on
 * accept. A 3.3 client is told the security type (u32 1, None) and goes
 * on to ClientInit; a 3.7 or 3.8 client is offered [None] and picks it; a
 * 3.8 client then gets SecurityResult OK (3.7 gets none after None, as
 * QEMU does), or, having picked another type, SecurityResult failed with
 * a reason, and is cut off. ClientInit is answered with ServerInit: the
 * picture's size, the server's pixel format, the name. */
#include <string.h>

#include "vnc_int.h"

static void on_version(struct vnc *v, struct vnc_client *c, unsigned minor)
{
	uint8_t *p;

	if (minor == 3) {
		p = vnc_out_reserve(v, c, 4);
		if (p)
			vnc_put_u32(p, RFB_SEC_NONE);
		return;
	}
	p = vnc_out_reserve(v, c, 2);
	if (p) {
		p[0] = 1; /* one type offered: */
		p[1] = RFB_SEC_NONE;
	}
}

static void on_security(struct vnc *v, struct vnc_client *c, uint8_t type)
{
	static const char why[] = "only security type None (1) is offered";
	uint8_t *p;

	if (type == RFB_SEC_NONE) {
		if (c->parser.minor == 8 && (p = vnc_out_reserve(v, c, 4)))
			vnc_put_u32(p, 0);
		return;
	}
	if (c->parser.minor == 8 && (p = vnc_out_reserve(v, c, 8 + sizeof(why) - 1))) {
		vnc_put_u32(p, 1);
		vnc_put_u32(p + 4, sizeof(why) - 1);
		memcpy(p + 8, why, sizeof(why) - 1);
	}
	c->cut = VNC_CUT_MALFORMED;
}

/* ServerInit, and the client's state for the normal phase: it sees the
 * picture now shown in the server's own pixel format, all of it due. */
static void on_client_init(struct vnc *v, struct vnc_client *c)
{
	struct rfb_pixel_format pf;
	size_t name_len = strlen(v->name);
	uint8_t *p;

	if (vnc_client_picture(v, c, v->view_w, v->view_h)) {
		c->cut = VNC_CUT_DROPPED; /* no memory for its tiles */
		return;
	}
	rfb_pixel_format_server(&pf);
	rfb_pixel_lut_init(&c->lut, &pf);
	p = vnc_out_reserve(v, c, 2 + 2 + RFB_PIXEL_FMT_LEN + 4 + name_len);
	if (!p)
		return;
	vnc_put_u16(p, (uint16_t)c->w);
	vnc_put_u16(p + 2, (uint16_t)c->h);
	rfb_pixel_format_write(&pf, p + 4);
	vnc_put_u32(p + 4 + RFB_PIXEL_FMT_LEN, (uint32_t)name_len);
	memcpy(p + 8 + RFB_PIXEL_FMT_LEN, v->name, name_len);
}

/* SetEncodings replaces what the client announced. Raw is always used.
 * A client that announces DesktopSize while its picture is not the one
 * shown (it missed a resize) is resized at its next update.
 * Each SetEncodings that lists QEMU's extended key event is acknowledged
 * at once, as QEMU does, with a FramebufferUpdate holding one
 * pseudo-rectangle of that encoding (position and size 0: clients only
 * look at the encoding), after which the client sends message 255. */
static void on_encodings(struct vnc *v, struct vnc_client *c, const struct rfb_msg *m)
{
	bool ext_key = false;
	uint8_t *p;

	c->desktop_size = false;
	for (unsigned i = 0; i < m->u.enc.n; i++) {
		if (m->u.enc.list[i] == RFB_ENC_DESKTOP_SIZE)
			c->desktop_size = true;
		else if (m->u.enc.list[i] == RFB_ENC_QEMU_EXT_KEY)
			ext_key = true;
	}
	/* a client that missed a resize, and now can be told */
	if (c->desktop_size && (c->w != v->view_w || c->h != v->view_h)) {
		if (vnc_client_picture(v, c, v->view_w, v->view_h))
			c->cut = VNC_CUT_DROPPED;
		c->resize_pending = true;
	}
	if (!ext_key || !(p = vnc_out_reserve(v, c, 4 + 12)))
		return;
	memset(p, 0, 4 + 12);
	vnc_put_u8(p, RFB_FB_UPDATE);
	vnc_put_u16(p + 2, 1);
	vnc_put_u32(p + 4 + 8, (uint32_t)RFB_ENC_QEMU_EXT_KEY);
	v->cnt.updates++;
}

/* A request is remembered until answered (vnc_update.c); requests that
 * arrive before the answer widen it to their bounding box. A
 * non-incremental one makes its tiles due again and must be answered even
 * if nothing in it changed. */
static void on_request(struct vnc_client *c, const struct rfb_msg *m)
{
	uint32_t x0 = m->u.req.x, y0 = m->u.req.y;
	uint32_t x1 = x0 + m->u.req.w, y1 = y0 + m->u.req.h;

	if (!m->u.req.incremental) {
		vnc_mark_rect(c, x0, y0, x1, y1);
		c->req_full = true;
	}
	if (!c->req_pending) {
		c->req_x0 = x0, c->req_y0 = y0, c->req_x1 = x1, c->req_y1 = y1;
	} else {
		c->req_x0 = x0 < c->req_x0 ? x0 : c->req_x0;
		c->req_y0 = y0 < c->req_y0 ? y0 : c->req_y0;
		c->req_x1 = x1 > c->req_x1 ? x1 : c->req_x1;
		c->req_y1 = y1 > c->req_y1 ? y1 : c->req_y1;
	}
	c->req_pending = true;
}

static void on_key(struct vnc *v, struct vnc_client *c, unsigned key, bool down)
{
	if (key == 0 || key > KEY_MAX)
		return;
	if (down)
		c->keys_down[key / 8] |= (uint8_t)(1u << (key % 8));
	else
		c->keys_down[key / 8] &= (uint8_t) ~(1u << (key % 8));
	if (v->ops.key)
		v->ops.key(v->opaque, key, down);
}

/* The position is clamped into the picture now shown (a client that
 * missed a resize may point outside it). */
static void on_pointer(struct vnc *v, struct vnc_client *c, const struct rfb_msg *m)
{
	c->ptr_x = m->u.ptr.x < v->view_w ? m->u.ptr.x : (uint16_t)(v->view_w - 1);
	c->ptr_y = m->u.ptr.y < v->view_h ? m->u.ptr.y : (uint16_t)(v->view_h - 1);
	c->buttons = m->u.ptr.buttons;
	if (v->ops.pointer)
		v->ops.pointer(v->opaque, c->ptr_x, c->ptr_y, v->view_w, v->view_h, c->buttons);
}

static void dispatch(struct vnc *v, struct vnc_client *c, const struct rfb_msg *m)
{
	unsigned key;

	switch (m->type) {
	case RFB_MSG_VERSION:
		on_version(v, c, m->u.minor);
		break;
	case RFB_MSG_SECURITY:
		on_security(v, c, m->u.security);
		break;
	case RFB_MSG_CLIENT_INIT:
		on_client_init(v, c);
		break;
	case RFB_MSG_PIXEL_FORMAT:
		rfb_pixel_lut_init(&c->lut, &m->u.pf);
		break;
	case RFB_MSG_ENCODINGS:
		on_encodings(v, c, m);
		break;
	case RFB_MSG_UPDATE_REQUEST:
		on_request(c, m);
		break;
	case RFB_MSG_KEY:
		on_key(v, c, rfb_keysym_to_key(m->u.key.keysym), m->u.key.down);
		break;
	case RFB_MSG_QEMU_KEY:
		/* the scan code names the key; the keysym only if it is unknown */
		key = rfb_xt_to_key(m->u.key.keycode);
		on_key(v, c, key ? key : rfb_keysym_to_key(m->u.key.keysym), m->u.key.down);
		break;
	case RFB_MSG_POINTER:
		on_pointer(v, c, m);
		break;
	case RFB_MSG_CUT_TEXT: /* dropped: moat has no clipboard to give it to */
	case RFB_MSG_NONE:
		break;
	}
}

/* Every whole message in the input buffer, in order; what is left is the
 * start of the next one. A protocol error cuts the client off. */
void vnc_client_input(struct vnc *v, struct vnc_client *c)
{
	size_t off = 0;

	while (c->cut == VNC_LIVE && off < c->in_len) {
		struct rfb_msg m;
		ssize_t n = rfb_parse(&c->parser, c->in + off, c->in_len - off, &m);

		if (n < 0) {
			c->cut = VNC_CUT_MALFORMED;
			break;
		}
		if (n == 0)
			break;
		off += (size_t)n;
		dispatch(v, c, &m);
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

/* A client going away lets go of what it held, so the guest is not left
 * with a key or a button down. */
void vnc_client_release(struct vnc *v, struct vnc_client *c)
{
	for (unsigned k = 1; k <= KEY_MAX; k++) {
		if (c->keys_down[k / 8] >> (k % 8) & 1)
			on_key(v, c, k, false);
	}
	if (c->buttons) {
		uint32_t x = c->ptr_x < v->view_w ? c->ptr_x : v->view_w - 1;
		uint32_t y = c->ptr_y < v->view_h ? c->ptr_y : v->view_h - 1;

		c->buttons = 0;
		if (v->ops.pointer)
			v->ops.pointer(v->opaque, x, y, v->view_w, v->view_h, 0);
	}
}
