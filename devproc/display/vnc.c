/* The VNC server's descriptors and buffers (vnc.h): accepting, reading,
 * writing and cutting off clients. What the bytes mean is vnc_proto.c's
 * business, what pictures to send vnc_update.c's.
 *
 * System calls, for moat-display's seccomp policy: accept4 (with
 * SOCK_NONBLOCK | SOCK_CLOEXEC, so no fcntl), recvfrom (recv), sendto
 * (send, MSG_DONTWAIT | MSG_NOSIGNAL: never blocks, never raises
 * SIGPIPE), close; and the allocator's (brk, mmap, munmap, mremap for
 * realloc of large buffers). The listening socket is not changed: a
 * connection is accepted only after poll reported it readable, one per
 * round, so a blocking listener is fine too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vnc_int.h"

void vnc_put_u8(uint8_t *p, uint8_t x)
{
	p[0] = x;
}

void vnc_put_u16(uint8_t *p, uint16_t x)
{
	p[0] = (uint8_t)(x >> 8);
	p[1] = (uint8_t)x;
}

void vnc_put_u32(uint8_t *p, uint32_t x)
{
	p[0] = (uint8_t)(x >> 24);
	p[1] = (uint8_t)(x >> 16);
	p[2] = (uint8_t)(x >> 8);
	p[3] = (uint8_t)x;
}

/* A client's output bound: two full 32-bit pictures of the larger of its
 * own picture and the one now shown, plus headroom, and at least
 * VNC_OUT_MIN; it never shrinks, so output queued before the picture got
 * smaller still fits. Updates are only sent into an empty buffer, so a
 * client reaches the bound only by making the server answer without
 * reading (QEMU's pseudo-encoding acknowledgement, asked for again and
 * again). */
static size_t out_limit(const struct vnc *v, struct vnc_client *c)
{
	uint64_t px = (uint64_t)v->view_w * v->view_h;
	uint64_t lim;

	if ((uint64_t)c->w * c->h > px)
		px = (uint64_t)c->w * c->h;
	lim = 2 * 4 * px + VNC_OUT_HEADROOM;
	if (lim < VNC_OUT_MIN)
		lim = VNC_OUT_MIN;
	if (lim > c->out_max)
		c->out_max = (size_t)lim;
	return c->out_max;
}

/* Room for n more bytes of output, returned for the caller to fill, or
 * NULL when the client is (now) cut off: already, or because its pending
 * output would pass its bound (counted as dropped), or for want of
 * memory. The buffer only grows; drained, it starts over at 0. */
uint8_t *vnc_out_reserve(struct vnc *v, struct vnc_client *c, size_t n)
{
	size_t pending = vnc_out_pending(c), lim;

	if (c->cut != VNC_LIVE)
		return NULL;
	lim = out_limit(v, c);
	if (pending > lim || n > lim - pending) {
		c->cut = VNC_CUT_DROPPED;
		return NULL;
	}
	if (c->out_off && c->out_len + n > c->out_cap) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_off = 0;
		c->out_len = pending;
	}
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		uint8_t *p;

		while (cap < c->out_len + n)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p) {
			c->cut = VNC_CUT_DROPPED;
			return NULL;
		}
		c->out = p;
		c->out_cap = cap;
	}
	c->out_len += n;
	return c->out + c->out_len - n;
}

/* Write what is pending, as far as the socket takes it now. */
void vnc_flush(struct vnc *v, struct vnc_client *c)
{
	while (c->cut == VNC_LIVE && c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			c->out_off += (size_t)n;
			v->cnt.bytes += (uint64_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			c->cut = VNC_CUT_GONE;
		}
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
}

/* One read into the input buffer, then the messages it completes. */
static void client_read(struct vnc *v, struct vnc_client *c)
{
	size_t room = sizeof(c->in) - c->in_len;
	ssize_t n;

	if (room == 0) { /* cannot happen: the parser never waits for this much */
		c->cut = VNC_CUT_MALFORMED;
		return;
	}
	n = recv(c->fd, c->in + c->in_len, room, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		c->cut = VNC_CUT_GONE;
		return;
	}
	c->in_len += (size_t)n;
	vnc_client_input(v, c);
}

static void client_free(struct vnc_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	free(c->dirty);
	free(c);
}

/* End the clients cut off this round: keys and buttons they held are
 * released, a last non-blocking write gives a client that broke the
 * protocol what it was told (RFB 3.8's failure reason), and the cut is
 * counted. */
static void reap(struct vnc *v)
{
	for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++) {
		struct vnc_client *c = v->clients[i];
		enum vnc_cut why;

		if (!c || c->cut == VNC_LIVE)
			continue;
		why = c->cut;
		if (why == VNC_CUT_MALFORMED) {
			c->cut = VNC_LIVE;
			vnc_flush(v, c);
		}
		vnc_client_release(v, c);
		if (why == VNC_CUT_MALFORMED)
			v->cnt.malformed++;
		else if (why == VNC_CUT_DROPPED)
			v->cnt.dropped++;
		client_free(c);
		v->clients[i] = NULL;
		v->cnt.connected--;
	}
}

/* One connection from the listening socket. Beyond VNC_MAX_CLIENTS it is
 * closed at once (counted as refused); otherwise the server speaks first,
 * with its protocol version. */
static void accept_one(struct vnc *v)
{
	struct vnc_client *c;
	unsigned slot;
	uint8_t *p;
	int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return; /* gone before we took it, or out of descriptors: try next round */
	for (slot = 0; slot < VNC_MAX_CLIENTS && v->clients[slot]; slot++)
		;
	c = slot < VNC_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		close(fd);
		v->cnt.refused++;
		return;
	}
	c->fd = fd;
	rfb_parser_init(&c->parser);
	v->clients[slot] = c;
	v->cnt.clients++;
	v->cnt.connected++;
	p = vnc_out_reserve(v, c, RFB_VERSION_LEN);
	if (p)
		memcpy(p, "RFB 003.008\n", RFB_VERSION_LEN);
	vnc_flush(v, c);
}

int vnc_create(struct vnc **out, int listen_fd, const char *name, const struct vnc_ops *ops,
	       void *opaque)
{
	struct vnc *v;

	if (listen_fd < 0)
		return -EBADF;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->listen_fd = listen_fd;
	snprintf(v->name, sizeof(v->name), "%s", name ? name : "moat");
	if (ops)
		v->ops = *ops;
	v->opaque = opaque;
	v->view_w = VNC_NOPIC_W;
	v->view_h = VNC_NOPIC_H;
	*out = v;
	return 0;
}

/* Clients are closed without calling ops: the caller is going away too. */
void vnc_destroy(struct vnc *v)
{
	if (!v)
		return;
	for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++) {
		if (v->clients[i])
			client_free(v->clients[i]);
	}
	free(v);
}

unsigned vnc_fds(struct vnc *v, struct pollfd *out, unsigned max)
{
	unsigned n = 0;

	if (n < max)
		out[n++] = (struct pollfd){.fd = v->listen_fd, .events = POLLIN};
	for (unsigned i = 0; i < VNC_MAX_CLIENTS && n < max; i++) {
		struct vnc_client *c = v->clients[i];

		if (!c)
			continue;
		out[n++] = (struct pollfd){
		    .fd = c->fd,
		    .events = (short)(POLLIN | (vnc_out_pending(c) ? POLLOUT : 0)),
		};
	}
	return n;
}

static struct vnc_client *client_by_fd(struct vnc *v, int fd)
{
	for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++) {
		if (v->clients[i] && v->clients[i]->fd == fd)
			return v->clients[i];
	}
	return NULL;
}

/* Clients first (output, then input), new connections after, so a
 * descriptor number closed and reused within one round is never taken for
 * the old client; then every client ready for an update gets one. */
void vnc_polled(struct vnc *v, const struct pollfd *p, unsigned n, const struct fb_shadow *fb)
{
	bool listen_ready = false;

	vnc_sync_size(v, fb);
	for (unsigned i = 0; i < n; i++) {
		struct vnc_client *c;

		if (p[i].fd == v->listen_fd) {
			listen_ready |= (p[i].revents & POLLIN) != 0;
			continue;
		}
		c = client_by_fd(v, p[i].fd);
		if (!c || c->cut != VNC_LIVE)
			continue;
		if (p[i].revents & POLLOUT)
			vnc_flush(v, c);
		if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
			client_read(v, c);
	}
	reap(v);
	if (listen_ready)
		accept_one(v);
	for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++) {
		struct vnc_client *c = v->clients[i];

		if (vnc_client_ready(c)) {
			vnc_client_update(v, c, fb);
			vnc_flush(v, c);
		}
	}
	reap(v);
}

void vnc_frame(struct vnc *v, const struct fb_shadow *fb, const uint8_t *dirty)
{
	vnc_sync_size(v, fb);
	for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++) {
		struct vnc_client *c = v->clients[i];

		if (!vnc_client_ready(c))
			continue;
		vnc_client_take(c, fb, dirty);
		vnc_client_update(v, c, fb);
		vnc_flush(v, c);
	}
	reap(v);
}

bool vnc_wants_frame(const struct vnc *v)
{
	for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++) {
		if (vnc_client_ready(v->clients[i]) && v->clients[i]->req_pending)
			return true;
	}
	return false;
}

void vnc_get_counters(const struct vnc *v, struct vnc_counters *c)
{
	*c = v->cnt;
}
