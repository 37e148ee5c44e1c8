/* For fuzz_rfb.c: a model of what the VNC server must send one client,
 * checked against what it does send.
 *
 * The client's bytes are parsed again here (with rfb.c's parser, which
 * test_rfb.c checks on its own) to know what the server was asked: the
 * handshake answers are then known byte for byte, and the rest must be
 * FramebufferUpdate messages: acknowledgements of the extended key event
 * (one per SetEncodings listing it), and pictures answering requests,
 * whose DesktopSize rectangle (first, and only to a client that announced
 * it) has the size shown, whose Raw rectangles lie inside the client's
 * picture and hold the shadow's pixels (black beyond it) in the pixel
 * format the client asked for last. fuzz_rfb.c makes sure the server has
 * taken in all the client sent, and the client all the server sent,
 * before each check, so "the format asked for last" and "the shadow now"
 * are the ones the server used. Any breach: abort(). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fb_shadow.h"
#include "rfb.h"

#define CHK_NAME "fuzz"

struct chk {
	/* the client's side, as sent */
	struct rfb_parser cp;
	uint8_t cbuf[RFB_MSG_MAX + 64];
	size_t clen;
	bool c_error;	   /* it broke the protocol: the server must end it */
	bool ever_resize;  /* it announced DesktopSize at some point */
	unsigned requests; /* FramebufferUpdateRequests sent */
	unsigned acks_due; /* SetEncodings listing -258 */
	struct rfb_pixel_format pf;

	/* the server's side: the handshake as it must be, then updates */
	uint8_t hs[64 + RFB_VERSION_LEN + 64];
	size_t hs_len, hs_seen;
	bool normal; /* ServerInit went out: updates from here */
	uint8_t *sbuf;
	size_t slen, scap;
	uint32_t w, h; /* the client's picture */
	unsigned acks_seen, pictures;
	bool eof;
};

static inline void chk_init(struct chk *k)
{
	memset(k, 0, sizeof(*k));
	rfb_parser_init(&k->cp);
	memcpy(k->hs, "RFB 003.008\n", RFB_VERSION_LEN);
	k->hs_len = RFB_VERSION_LEN;
	rfb_pixel_format_server(&k->pf);
}

static inline void chk_fini(struct chk *k)
{
	free(k->sbuf);
}

static inline void chk_hs_u32(struct chk *k, uint32_t x)
{
	uint8_t *p = k->hs + k->hs_len;

	p[0] = (uint8_t)(x >> 24), p[1] = (uint8_t)(x >> 16), p[2] = (uint8_t)(x >> 8);
	p[3] = (uint8_t)x;
	k->hs_len += 4;
}

/* What one client message makes the server say (handshake) or change. */
static inline void chk_client_msg(struct chk *k, const struct rfb_msg *m, uint32_t vw, uint32_t vh)
{
	static const char why[] = "only security type None (1) is offered";
	bool ext = false;

	switch (m->type) {
	case RFB_MSG_VERSION:
		if (m->u.minor == 3) {
			chk_hs_u32(k, 1);
		} else {
			k->hs[k->hs_len++] = 1;
			k->hs[k->hs_len++] = 1;
		}
		break;
	case RFB_MSG_SECURITY:
		if (k->cp.minor == 8)
			chk_hs_u32(k, m->u.security == 1 ? 0 : 1);
		if (m->u.security != 1) {
			if (k->cp.minor == 8) {
				chk_hs_u32(k, sizeof(why) - 1);
				memcpy(k->hs + k->hs_len, why, sizeof(why) - 1);
				k->hs_len += sizeof(why) - 1;
			}
			k->c_error = true;
		}
		break;
	case RFB_MSG_CLIENT_INIT:
		k->hs[k->hs_len++] = (uint8_t)(vw >> 8);
		k->hs[k->hs_len++] = (uint8_t)vw;
		k->hs[k->hs_len++] = (uint8_t)(vh >> 8);
		k->hs[k->hs_len++] = (uint8_t)vh;
		rfb_pixel_format_write(&k->pf, k->hs + k->hs_len);
		k->hs_len += RFB_PIXEL_FMT_LEN;
		chk_hs_u32(k, sizeof(CHK_NAME) - 1);
		memcpy(k->hs + k->hs_len, CHK_NAME, sizeof(CHK_NAME) - 1);
		k->hs_len += sizeof(CHK_NAME) - 1;
		k->w = vw, k->h = vh;
		break;
	case RFB_MSG_PIXEL_FORMAT:
		k->pf = m->u.pf;
		break;
	case RFB_MSG_ENCODINGS:
		for (unsigned i = 0; i < m->u.enc.n; i++) {
			k->ever_resize |= m->u.enc.list[i] == RFB_ENC_DESKTOP_SIZE;
			ext |= m->u.enc.list[i] == RFB_ENC_QEMU_EXT_KEY;
		}
		k->acks_due += ext;
		break;
	case RFB_MSG_UPDATE_REQUEST:
		k->requests++;
		break;
	default:
		break;
	}
}

/* The client sent b[0..n): its whole messages are taken into the model
 * (the server has taken them in too; vw x vh is the picture shown). */
static inline void chk_client(struct chk *k, const uint8_t *b, size_t n, uint32_t vw, uint32_t vh)
{
	size_t off = 0;

	while (n > 0 && !k->c_error) {
		size_t take = sizeof(k->cbuf) - k->clen < n ? sizeof(k->cbuf) - k->clen : n;

		memcpy(k->cbuf + k->clen, b, take);
		k->clen += take, b += take, n -= take;
		for (off = 0; !k->c_error;) {
			struct rfb_msg m;
			ssize_t r = rfb_parse(&k->cp, k->cbuf + off, k->clen - off, &m);

			if (r < 0)
				k->c_error = true;
			if (r <= 0)
				break;
			off += (size_t)r;
			chk_client_msg(k, &m, vw, vh);
		}
		memmove(k->cbuf, k->cbuf + off, k->clen - off);
		k->clen -= off;
	}
}

static inline uint32_t chk_be(const uint8_t *p, unsigned n)
{
	uint32_t x = 0;

	for (unsigned i = 0; i < n; i++)
		x = x << 8 | p[i];
	return x;
}

/* The pixel xrgb in format pf, written independently of rfb_pixel.c. */
static inline uint32_t chk_pixel(const struct rfb_pixel_format *pf, uint32_t xrgb)
{
	uint32_t r = xrgb >> 16 & 0xff, g = xrgb >> 8 & 0xff, b = xrgb & 0xff;

	return ((r * pf->red_max + 127) / 255) << pf->red_shift |
	       ((g * pf->green_max + 127) / 255) << pf->green_shift |
	       ((b * pf->blue_max + 127) / 255) << pf->blue_shift;
}

static inline uint32_t chk_read_px(const struct rfb_pixel_format *pf, const uint8_t *p)
{
	unsigned n = pf->bpp / 8;
	uint32_t x = 0;

	if (pf->big_endian || n == 1)
		return chk_be(p, n);
	for (unsigned i = n; i-- > 0;)
		x = x << 8 | p[i];
	return x;
}

/* One whole FramebufferUpdate at s (len bytes there): its length, 0 if
 * it is not all there yet; aborts on anything wrong. */
static inline size_t chk_update(struct chk *k, const uint8_t *s, size_t len,
				const struct fb_shadow *fb, uint32_t vw, uint32_t vh)
{
	unsigned n, bytes = k->pf.bpp / 8;
	size_t off = 4;
	uint32_t w = k->w, h = k->h;

	if (len < 4)
		return 0;
	if (s[0] != RFB_FB_UPDATE || s[1] != 0)
		abort();
	n = chk_be(s + 2, 2);
	for (unsigned i = 0; i < n; i++) {
		uint32_t x, y, rw, rh;
		int32_t enc;

		if (len < off + 12)
			return 0;
		x = chk_be(s + off, 2), y = chk_be(s + off + 2, 2);
		rw = chk_be(s + off + 4, 2), rh = chk_be(s + off + 6, 2);
		enc = (int32_t)chk_be(s + off + 8, 4);
		off += 12;
		if (enc == RFB_ENC_QEMU_EXT_KEY) {
			if (n != 1 || x || y || rw || rh)
				abort();
			continue;
		}
		if (enc == RFB_ENC_DESKTOP_SIZE) {
			if (i != 0 || !k->ever_resize || x || y || rw != vw || rh != vh)
				abort();
			w = rw, h = rh;
			continue;
		}
		if (enc != RFB_ENC_RAW || rw == 0 || rh == 0 || x + rw > w || y + rh > h)
			abort();
		if (len < off + (size_t)rw * rh * bytes)
			return 0;
		for (uint32_t yy = y; yy < y + rh; yy++) {
			for (uint32_t xx = x; xx < x + rw; xx++, off += bytes) {
				uint32_t want = 0;

				if (fb->px && xx < fb->width && yy < fb->height)
					want = fb->px[(size_t)yy * fb->width + xx];
				if (chk_read_px(&k->pf, s + off) != chk_pixel(&k->pf, want))
					abort();
			}
		}
	}
	/* taken: the model follows */
	if (n == 1 && chk_be(s + 12, 4) == (uint32_t)RFB_ENC_QEMU_EXT_KEY) {
		if (++k->acks_seen > k->acks_due)
			abort();
	} else if (++k->pictures > k->requests) {
		abort();
	}
	k->w = w, k->h = h;
	return off;
}

/* The server sent b[0..n) (n == 0 with eof: it closed). Everything the
 * server sent so far must parse completely. */
static inline void chk_server(struct chk *k, const uint8_t *b, size_t n, bool eof,
			      const struct fb_shadow *fb, uint32_t vw, uint32_t vh)
{
	size_t off = 0;

	if (k->slen + n > k->scap) {
		k->scap = (k->slen + n) * 2;
		k->sbuf = realloc(k->sbuf, k->scap);
		if (!k->sbuf)
			abort();
	}
	memcpy(k->sbuf + k->slen, b, n);
	k->slen += n;
	k->eof |= eof;
	while (!k->normal && off < k->slen) {
		if (k->hs_seen == k->hs_len || k->sbuf[off] != k->hs[k->hs_seen])
			abort(); /* more than, or other than, the handshake answers */
		off++;
		k->normal =
		    ++k->hs_seen == k->hs_len && k->cp.phase == RFB_PH_NORMAL && !k->c_error;
	}
	while (k->normal && off < k->slen) {
		size_t used = chk_update(k, k->sbuf + off, k->slen - off, fb, vw, vh);

		if (!used)
			abort(); /* a message cut short: the server said it all? */
		off += used;
	}
	memmove(k->sbuf, k->sbuf + off, k->slen - off);
	k->slen -= off;
}
