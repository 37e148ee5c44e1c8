/* A VNC server on a real listening unix socket in a temporary directory,
 * and minimal RFB clients connected to it, all in one thread: every wait
 * for the server's answer pumps the server's loop (vnc_fds, poll,
 * vnc_polled) as moat-display's main does. For test_vnc.c and
 * test_vnc_hostile.c. Functions return 0 or -1 (with a line on stderr). */
#pragma once

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fb_shadow.h"
#include "rfb.h"
#include "vnc.h"

#define PEER_WAIT_MS 3000

struct key_ev {
	unsigned key;
	bool down;
};

struct rig {
	char dir[64], path[96];
	int lfd;
	struct vnc *v;
	struct fb_shadow fb;
	struct key_ev keys[64];
	unsigned nkeys;
	uint32_t px, py, pw, ph;
	uint8_t buttons;
	unsigned pointers;
};

/* What a client knows: its picture (bytes per pixel of its format). */
struct peer {
	int fd;
	uint8_t *buf;
	size_t len, cap;
	uint32_t w, h, bpp;
	uint8_t *pic;
	unsigned rects, raw_rects, resizes, ext_key_acks;
	uint32_t rx[64], ry[64], rw[64], rh[64]; /* the raw rects of the last update */
};

static inline int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static void rig_key(void *opaque, unsigned key, bool down)
{
	struct rig *r = opaque;

	if (r->nkeys < 64)
		r->keys[r->nkeys++] = (struct key_ev){key, down};
}

static void rig_pointer(void *opaque, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
			uint8_t buttons)
{
	struct rig *r = opaque;

	r->px = x, r->py = y, r->pw = w, r->ph = h, r->buttons = buttons;
	r->pointers++;
}

static inline int rig_init(struct rig *r)
{
	static const struct vnc_ops ops = {.key = rig_key, .pointer = rig_pointer};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/moat-vnc-XXXXXX");
	if (!mkdtemp(r->dir))
		return fail("mkdtemp: %s", strerror(errno));
	snprintf(r->path, sizeof(r->path), "%s/vnc.sock", r->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", r->path);
	r->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(r->lfd, 64))
		return fail("listen: %s", strerror(errno));
	if (vnc_create(&r->v, r->lfd, "test-vm", &ops, r))
		return fail("vnc_create");
	return 0;
}

static inline void rig_fini(struct rig *r)
{
	vnc_destroy(r->v);
	close(r->lfd);
	unlink(r->path);
	rmdir(r->dir);
	fb_shadow_free(&r->fb);
}

/* One round of the server's loop. */
static inline void rig_pump(struct rig *r, int timeout_ms)
{
	struct pollfd p[VNC_MAX_CLIENTS + 1];
	unsigned n = vnc_fds(r->v, p, VNC_MAX_CLIENTS + 1);

	if (poll(p, n, timeout_ms) < 0)
		return;
	vnc_polled(r->v, p, n, &r->fb);
}

static inline struct vnc_counters rig_counters(struct rig *r)
{
	struct vnc_counters c;

	vnc_get_counters(r->v, &c);
	return c;
}

/* The shadow becomes w x h of pixels px(x, y) (through fb_shadow_update,
 * from a 32-bit scanout), and the server is told of the frame. */
static inline int rig_frame(struct rig *r, uint32_t w, uint32_t h,
			    uint32_t (*px)(uint32_t x, uint32_t y))
{
	uint8_t *src = calloc((size_t)w * h + 1, 4), *dirty;
	int ret = 0;

	if (w != r->fb.width || h != r->fb.height)
		ret = fb_shadow_resize(&r->fb, w, h);
	dirty = calloc(fb_dirty_bytes(w, h) + 1, 1);
	if (!src || !dirty || ret)
		return fail("rig_frame: no memory");
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			uint32_t v = px(x, y);

			memcpy(src + 4 * ((size_t)y * w + x), &v, 4); /* x86: little endian */
		}
	}
	fb_shadow_update(&r->fb, src, (uint64_t)w * h * 4, w * 4, 32, dirty);
	vnc_frame(r->v, &r->fb, dirty);
	free(src);
	free(dirty);
	return 0;
}

static inline long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int peer_connect(struct rig *r, struct peer *p)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(p, 0, sizeof(*p));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", r->path);
	p->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || connect(p->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fail("connect: %s", strerror(errno));
	return 0;
}

static inline void peer_close(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	free(p->buf);
	free(p->pic);
	p->buf = p->pic = NULL;
}

/* Read what is there without waiting: 1 on end of stream, else 0. */
static inline int peer_drain(struct peer *p)
{
	for (;;) {
		ssize_t n;

		if (p->cap - p->len < 65536) {
			p->cap = p->cap ? 2 * p->cap : 1 << 20;
			p->buf = realloc(p->buf, p->cap);
			if (!p->buf)
				abort();
		}
		n = recv(p->fd, p->buf + p->len, p->cap - p->len, MSG_DONTWAIT);
		if (n > 0)
			p->len += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return 1;
		else
			return 0;
	}
}

/* Wait (pumping the server) until n bytes have come; -1 on end or time out. */
static inline int peer_want(struct rig *r, struct peer *p, size_t n)
{
	long end = now_ms() + PEER_WAIT_MS;

	while (p->len < n) {
		if (peer_drain(p) && p->len < n)
			return fail("peer: connection ended with %zu of %zu bytes", p->len, n);
		if (p->len >= n)
			break;
		if (now_ms() > end)
			return fail("peer: %zu of %zu bytes after %d ms", p->len, n, PEER_WAIT_MS);
		rig_pump(r, 5);
	}
	return 0;
}

/* Take n bytes off the front (they must be there). */
static inline void peer_take(struct peer *p, void *out, size_t n)
{
	if (out)
		memcpy(out, p->buf, n);
	memmove(p->buf, p->buf + n, p->len - n);
	p->len -= n;
}

static inline int peer_expect(struct rig *r, struct peer *p, const void *want, size_t n)
{
	uint8_t got[256];

	if (peer_want(r, p, n))
		return -1;
	peer_take(p, got, n);
	if (memcmp(got, want, n))
		return fail("peer: unexpected bytes (first %02x, wanted %02x)", got[0],
			    ((const uint8_t *)want)[0]);
	return 0;
}

static inline int peer_send(struct peer *p, const void *b, size_t n)
{
	if (send(p->fd, b, n, MSG_NOSIGNAL) != (ssize_t)n)
		return fail("peer: send: %s", strerror(errno));
	return 0;
}

/* Pump until the server has closed p's connection. */
static inline int peer_wait_closed(struct rig *r, struct peer *p)
{
	long end = now_ms() + PEER_WAIT_MS;

	while (!peer_drain(p)) {
		if (now_ms() > end)
			return fail("peer: still connected");
		rig_pump(r, 5);
	}
	return 0;
}

static inline uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline void peer_resize(struct peer *p, uint32_t w, uint32_t h)
{
	free(p->pic);
	p->w = w, p->h = h;
	p->pic = calloc((size_t)w * h * 4 + 1, 1);
	if (!p->pic)
		abort();
}

/* The handshake at 3.<minor> up to ServerInit, which is checked: the
 * server's pixel format and name; the size is left in p->w, p->h. */
static inline int peer_handshake(struct rig *r, struct peer *p, unsigned minor)
{
	static const uint8_t server_pf[16] = {32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0};
	char ver[13];
	uint8_t init[24];

	if (peer_expect(r, p, "RFB 003.008\n", 12))
		return -1;
	snprintf(ver, sizeof(ver), "RFB 003.%03u\n", minor);
	if (peer_send(p, ver, 12))
		return -1;
	if (minor < 7) { /* 3.3, and what is read as 3.3 */
		if (peer_expect(r, p, "\0\0\0\1", 4))
			return -1;
	} else if (peer_expect(r, p, "\1\1", 2) || peer_send(p, "\1", 1) ||
		   (minor == 8 && peer_expect(r, p, "\0\0\0\0", 4))) {
		return -1;
	}
	if (peer_send(p, "\1", 1) || peer_want(r, p, 24))
		return -1;
	peer_take(p, init, 24);
	if (memcmp(init + 4, server_pf, 16) || get32(init + 20) != 7)
		return fail("ServerInit: pixel format or name length");
	if (peer_expect(r, p, "test-vm", 7))
		return -1;
	peer_resize(p, get16(init), get16(init + 2));
	p->bpp = 32;
	return 0;
}

static inline int peer_encodings(struct peer *p, const int32_t *enc, unsigned n)
{
	uint8_t b[4 + 4 * 16] = {RFB_SET_ENCODINGS, 0, 0, (uint8_t)n};

	for (unsigned i = 0; i < n; i++) {
		uint32_t e = (uint32_t)enc[i];

		b[4 + 4 * i] = (uint8_t)(e >> 24), b[5 + 4 * i] = (uint8_t)(e >> 16);
		b[6 + 4 * i] = (uint8_t)(e >> 8), b[7 + 4 * i] = (uint8_t)e;
	}
	return peer_send(p, b, 4 + 4 * n);
}

static inline int peer_request(struct peer *p, bool incremental, uint16_t x, uint16_t y, uint16_t w,
			       uint16_t h)
{
	uint8_t b[10] = {RFB_UPDATE_REQUEST, incremental, (uint8_t)(x >> 8), (uint8_t)x,
			 (uint8_t)(y >> 8),  (uint8_t)y,  (uint8_t)(w >> 8), (uint8_t)w,
			 (uint8_t)(h >> 8),  (uint8_t)h};

	return peer_send(p, b, sizeof(b));
}

/* One FramebufferUpdate, applied to p's picture (Raw rectangles stored as
 * p->bpp-bit pixels, as sent); its Raw rectangles are listed in p->rx... */
static inline int peer_update(struct rig *r, struct peer *p)
{
	uint8_t h[12];
	unsigned n;

	if (peer_want(r, p, 4))
		return -1;
	peer_take(p, h, 4);
	if (h[0] != RFB_FB_UPDATE)
		return fail("update: message type %u", h[0]);
	n = get16(h + 2);
	p->rects = n;
	p->raw_rects = 0;
	for (unsigned i = 0; i < n; i++) {
		uint32_t x, y, w, hh, bytes = p->bpp / 8;
		int32_t enc;

		if (peer_want(r, p, 12))
			return -1;
		peer_take(p, h, 12);
		x = get16(h), y = get16(h + 2), w = get16(h + 4), hh = get16(h + 6);
		enc = (int32_t)get32(h + 8);
		if (enc == RFB_ENC_DESKTOP_SIZE) {
			peer_resize(p, w, hh);
			p->resizes++;
			continue;
		}
		if (enc == RFB_ENC_QEMU_EXT_KEY) {
			p->ext_key_acks++;
			continue;
		}
		if (enc != RFB_ENC_RAW || x + w > p->w || y + hh > p->h)
			return fail("update: rect %u,%u %ux%u enc %d", x, y, w, hh, enc);
		if (p->raw_rects < 64) {
			p->rx[p->raw_rects] = x, p->ry[p->raw_rects] = y;
			p->rw[p->raw_rects] = w, p->rh[p->raw_rects] = hh;
		}
		p->raw_rects++;
		if (peer_want(r, p, (size_t)w * hh * bytes))
			return -1;
		for (uint32_t yy = y; yy < y + hh; yy++)
			peer_take(p, p->pic + ((size_t)yy * p->w + x) * bytes, (size_t)w * bytes);
	}
	return 0;
}

/* Pixel (x, y) of p's picture as sent, little endian for 16 and 32 bits. */
static inline uint32_t peer_px(const struct peer *p, uint32_t x, uint32_t y)
{
	const uint8_t *b = p->pic + ((size_t)y * p->w + x) * (p->bpp / 8);

	if (p->bpp == 8)
		return b[0];
	if (p->bpp == 16)
		return (uint32_t)(b[0] | b[1] << 8);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Pump a few rounds and check nothing came. */
static inline int peer_quiet(struct rig *r, struct peer *p)
{
	for (int i = 0; i < 10; i++)
		rig_pump(r, 2);
	peer_drain(p);
	return p->len ? fail("peer: %zu unexpected bytes", p->len) : 0;
}
