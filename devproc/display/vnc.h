/* moat-display's VNC server: RFB 3.8 (RFC 6143) with security type None,
 * for the sandbox: one poll loop, no threads, no files, only the listening
 * socket the monitor made and the connections accepted on it.
 *
 * The caller owns the loop: before each poll it asks vnc_fds for the
 * descriptors (the listening socket, every client: POLLIN, and POLLOUT
 * while output is pending), after it hands the same entries to
 * vnc_polled. Pictures come only from the shadow (fb_shadow.h), never
 * from guest memory; vnc_frame tells the server what changed.
 *
 * Every client is independent: its socket is non-blocking, its output is
 * buffered up to a bound, and while a client's output is pending it is
 * sent no new update (its changed tiles accumulate instead), so a client
 * that does not read costs only its own buffer and never stalls the guest
 * or the other clients. A client that breaks the protocol, sends more
 * than the bounds allow, or lets its output reach the bound is cut off
 * and counted.
 *
 * Supported: pixel formats of 8, 16 or 32 bits per pixel, true colour,
 * either byte order (SetPixelFormat; colour maps are refused);
 * encodings Raw, DesktopSize (pseudo-encoding -223) and QEMU's extended
 * key event (-258); ClientCutText is read and dropped (its length
 * bounded). Keys reach ops->key as Linux input key codes (from a keysym,
 * or from the XT scan code of QEMU's extended key event). */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "fb_shadow.h"

#define VNC_MAX_CLIENTS 16

struct vnc_ops {
	/* Optional: a key went down or up (KEY_* of linux/input-event-codes.h). */
	void (*key)(void *opaque, unsigned keycode, bool down);
	/* Optional: the pointer is at x, y of a w x h picture (clamped into
	 * it), with buttons held (bit 0 left, 1 middle, 2 right, 3 wheel up,
	 * 4 wheel down, as RFB's button mask). */
	void (*pointer)(void *opaque, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
			uint8_t buttons);
};

struct vnc_counters {
	uint64_t clients;   /* connections accepted, ever */
	uint64_t updates;   /* FramebufferUpdate messages sent */
	uint64_t bytes;	    /* bytes written to clients */
	uint64_t malformed; /* clients cut off for breaking the protocol */
	uint64_t dropped;   /* clients cut off for not reading (output bound) */
	uint64_t refused;   /* connections closed at once: VNC_MAX_CLIENTS connected */
	unsigned connected; /* clients now */
};

struct vnc;

/* A server on listen_fd (a listening stream socket; not owned: the caller
 * closes it after vnc_destroy). It is not changed (no fcntl): one
 * connection is accepted each time poll reports it readable, so it may be
 * blocking, though SOCK_NONBLOCK is better. On TCP the caller should set
 * TCP_NODELAY on it (accepted sockets inherit it on Linux), since updates
 * are many small writes. name: the desktop name clients show (copied, at
 * most 255 bytes; NULL: "moat"). ops may be NULL. 0 or -errno. */
int vnc_create(struct vnc **out, int listen_fd, const char *name, const struct vnc_ops *ops,
	       void *opaque);
/* Closes every client (without calling ops: keys they hold are not
 * released); NULL is fine. */
void vnc_destroy(struct vnc *v);

/* The descriptors to poll: returns how many it wrote (at most max). */
unsigned vnc_fds(struct vnc *v, struct pollfd *out, unsigned max);
/* After the poll: the same n entries with revents. New clients are
 * accepted, input parsed, pending output written. fb is the current
 * shadow: a non-incremental update request is answered from it at once. */
void vnc_polled(struct vnc *v, const struct pollfd *p, unsigned n, const struct fb_shadow *fb);
/* A frame was taken: dirty has fb_dirty_bytes(fb) bytes with the tiles
 * that changed. A size different from the last frame's is a resize: every
 * client that understands DesktopSize is told, and every client's whole
 * picture is due. Clients waiting for an update get one. */
void vnc_frame(struct vnc *v, const struct fb_shadow *fb, const uint8_t *dirty);
/* Is any client waiting for an update (worth scanning the screen for)? */
bool vnc_wants_frame(const struct vnc *v);
void vnc_get_counters(const struct vnc *v, struct vnc_counters *c);
