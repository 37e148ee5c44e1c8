/* libFuzzer target: moat-display's VNC server (devproc/display/vnc*.c,
 * rfb*.c, keymap.c) and screen shadow (fb_shadow.c) under an arbitrary
 * client, over a real socket, with the picture changing and resizing in
 * between; everything the server sends is checked (fuzz_rfb_check.h).
 *
 * The input:
 *   byte 0, 1: the first picture's width (1 + b % 64) and height (1 + b % 48)
 *   byte 2:    bits 0-1: the handshake done for the client first (0: none,
 *              the input must do it; 1: 3.8, 2: 3.3, 3: 3.7); bit 2: the
 *              guest's scanout is RGB565 (else XRGB8888); bit 3: the scanout
 *              is cut short (src_len half the picture)
 *   then operations, each a byte op and its operands:
 *     op bit 0 clear: the client sends the next (op >> 1) + 1 bytes
 *     op & 3 == 1:    the guest draws: next 3 bytes x, y, colour (an 8 x 8
 *                     block), then a frame (fb_shadow_update, vnc_frame)
 *     op & 3 == 3:    op bits 2-3: 0 resize to the next 2 bytes (w % 81 x
 *                     h % 61; 0 in either: no picture), then a frame;
 *                     1 a round of the server's loop; 2 a frame with
 *                     nothing drawn; 3 a second client connects, sends the
 *                     next byte's worth of the input, and goes
 * Pictures stay small (at most 80 x 60), so an update always fits in the
 * socket: the model can then read each answer whole right after it. */
#include <linux/input-event-codes.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz_rfb_check.h"
#include "vnc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_W 80
#define MAX_H 60

struct rig {
	struct vnc *v;
	struct fb_shadow fb;
	uint8_t src[MAX_W * MAX_H * 4];
	unsigned bpp;
	bool short_src;
	uint32_t vw, vh; /* the picture shown (the server's view) */
	int fd;		 /* the client */
	unsigned visitors;
	struct chk k;
};

static int listen_fd = -1;
static struct sockaddr_un addr;
static socklen_t addr_len;

/* One abstract-namespace listener for the whole run (no files). */
static void listener(void)
{
	if (listen_fd >= 0)
		return;
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "moat-fuzz-rfb-%d", (int)getpid());
	addr_len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(addr.sun_path + 1));
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, addr_len) ||
	    listen(listen_fd, 8))
		abort();
}

static void on_key(void *opaque, unsigned key, bool down)
{
	(void)opaque, (void)down;
	if (key == 0 || key > KEY_MAX)
		abort();
}

static void on_pointer(void *opaque, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		       uint8_t buttons)
{
	struct rig *r = opaque;

	(void)buttons;
	if (w != r->vw || h != r->vh || x >= w || y >= h)
		abort();
}

static int client_connect(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, addr_len))
		abort();
	return fd;
}

static void pump_wait(struct rig *r, int timeout_ms)
{
	struct pollfd p[VNC_MAX_CLIENTS + 1];
	unsigned n = vnc_fds(r->v, p, VNC_MAX_CLIENTS + 1);

	if (poll(p, n, timeout_ms) < 0)
		abort();
	vnc_polled(r->v, p, n, &r->fb);
}

static void pump(struct rig *r)
{
	pump_wait(r, 0);
}

/* Does the server still owe the client output (POLLOUT asked for it)? */
static bool owes(struct rig *r)
{
	struct pollfd p[VNC_MAX_CLIENTS + 1];
	unsigned n = vnc_fds(r->v, p, VNC_MAX_CLIENTS + 1);

	for (unsigned i = 0; i < n; i++) {
		if (p[i].fd != listen_fd && (p[i].events & POLLOUT))
			return true;
	}
	return false;
}

/* All the server sent, read and checked; pumping while it owes more. */
static void drain(struct rig *r)
{
	uint8_t b[65536];

	for (int round = 0; round < 64; round++) {
		ssize_t n = -1;

		while (r->fd >= 0 && (n = recv(r->fd, b, sizeof(b), MSG_DONTWAIT)) != 0) {
			if (n < 0)
				break;
			chk_server(&r->k, b, (size_t)n, false, &r->fb, r->vw, r->vh);
		}
		if (r->fd >= 0 && n == 0) {
			chk_server(&r->k, b, 0, true, &r->fb, r->vw, r->vh);
			close(r->fd);
			r->fd = -1;
		}
		if (!owes(r))
			return;
		pump(r);
	}
	abort(); /* output that never goes out */
}

/* The client sends b[0..n); the server takes it all in before the model
 * does (so both agree on what was asked when). */
static void client_send(struct rig *r, const uint8_t *b, size_t n)
{
	int queued = 1;

	if (r->fd < 0 || r->k.eof)
		return;
	if (send(r->fd, b, n, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)n)
		return; /* the server closed it */
	for (int i = 0; i < 16 && queued; i++) {
		pump(r);
		if (ioctl(r->fd, SIOCOUTQ, &queued))
			abort();
	}
	chk_client(&r->k, b, n, r->vw, r->vh);
	drain(r);
}

/* The guest's scanout into the shadow, and the server told. */
static void frame(struct rig *r)
{
	uint8_t dirty[MAX_W * MAX_H / 8 + 8] = {0};
	uint32_t stride = r->fb.width * (r->bpp / 8);
	uint64_t len = (uint64_t)stride * r->fb.height;

	if (r->fb.px) {
		if (r->short_src)
			len /= 2;
		fb_shadow_update(&r->fb, r->src, len, stride, r->bpp, dirty);
	}
	if (r->fb.width)
		r->vw = r->fb.width, r->vh = r->fb.height;
	vnc_frame(r->v, &r->fb, dirty);
	drain(r);
}

static void draw(struct rig *r, uint8_t x0, uint8_t y0, uint8_t colour)
{
	uint32_t bytes = r->bpp / 8, w = r->fb.width, h = r->fb.height;

	for (uint32_t y = y0 % MAX_H; w && y < h && y < y0 % MAX_H + 8u; y++) {
		for (uint32_t x = x0 % MAX_W; x < w && x < x0 % MAX_W + 8u; x++) {
			uint8_t *p = r->src + ((size_t)y * w + x) * bytes;

			memset(p, colour, bytes);
			p[0] ^= (uint8_t)x, p[1] ^= (uint8_t)(y << 3);
		}
	}
}

/* A second client: connects, sends a little, goes. It must not disturb
 * the first. */
static void visitor(struct rig *r, const uint8_t *b, size_t n)
{
	int fd = client_connect();

	r->visitors++;
	pump(r);
	(void)!send(fd, b, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	pump(r);
	close(fd);
	pump(r);
	drain(r);
}

static void op_misc(struct rig *r, uint8_t op, const uint8_t *data, size_t size, size_t *i)
{
	switch (op >> 2 & 3) {
	case 0: {
		uint32_t w, h;

		if (*i + 2 > size)
			return;
		w = data[*i] % (MAX_W + 1), h = data[*i + 1] % (MAX_H + 1);
		if (!w || !h)
			w = h = 0;
		if (fb_shadow_resize(&r->fb, w, h))
			abort();
		*i += 2;
		frame(r);
		break;
	}
	case 1:
		pump(r);
		drain(r);
		break;
	case 2:
		frame(r);
		break;
	default:
		if (*i < size) {
			size_t n = data[*i] % 32;

			*i += 1;
			n = n < size - *i ? n : size - *i;
			visitor(r, data + *i, n);
			*i += n;
		}
		break;
	}
}

static const char *const handshakes[] = {NULL, "RFB 003.008\n\x01\x01", "RFB 003.003\n\x01",
					 "RFB 003.007\n\x01\x01"};

static void run(struct rig *r, const uint8_t *data, size_t size)
{
	size_t i = 3;

	if (handshakes[data[2] & 3])
		client_send(r, (const uint8_t *)handshakes[data[2] & 3],
			    strlen(handshakes[data[2] & 3]));
	while (i < size) {
		uint8_t op = data[i++];

		if (!(op & 1)) {
			size_t n = (size_t)(op >> 1) + 1;

			n = n < size - i ? n : size - i;
			client_send(r, data + i, n);
			i += n;
		} else if ((op & 3) == 1) {
			if (i + 3 > size)
				break;
			draw(r, data[i], data[i + 1], data[i + 2]);
			i += 3;
			frame(r);
		} else {
			op_misc(r, op, data, size, &i);
		}
	}
}

/* After the input: everything answered, and the counters as the model says. */
static void finish(struct rig *r)
{
	struct vnc_counters c;

	for (int j = 0; j < 4; j++)
		pump(r);
	drain(r);
	vnc_get_counters(r->v, &c);
	if (c.dropped || c.refused || c.malformed > 1 + r->visitors || c.clients != 1 + r->visitors)
		abort();
	if (r->k.c_error && r->fd >= 0) /* broke the protocol, still connected */
		abort();
	if (r->k.eof && !r->k.c_error) /* cut off for nothing */
		abort();
	if (!r->k.c_error && r->k.normal && r->k.acks_seen != r->k.acks_due)
		abort();
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	/* the FIN may be processed after close() returns (a busy host defers
	 * loopback TCP to softirq): wait for it, up to 2 s, before judging */
	pump(r);
	vnc_get_counters(r->v, &c);
	for (int j = 0; j < 200 && c.connected != 0; j++) {
		pump_wait(r, 10);
		vnc_get_counters(r->v, &c);
	}
	if (c.connected != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct vnc_ops ops = {.key = on_key, .pointer = on_pointer};
	static struct rig r;

	if (size < 3)
		return 0;
	listener();
	memset(&r, 0, sizeof(r));
	r.fd = -1;
	r.bpp = data[2] & 4 ? 16 : 32;
	r.short_src = data[2] & 8;
	memset(r.src, 0x33, sizeof(r.src));
	if (vnc_create(&r.v, listen_fd, CHK_NAME, &ops, &r) ||
	    fb_shadow_resize(&r.fb, 1 + data[0] % 64u, 1 + data[1] % 48u))
		abort();
	chk_init(&r.k);
	frame(&r); /* the first picture, before the client: its size is shown */
	r.fd = client_connect();
	pump(&r);
	drain(&r);
	run(&r, data, size);
	finish(&r);
	vnc_destroy(r.v);
	fb_shadow_free(&r.fb);
	chk_fini(&r.k);
	return 0;
}
