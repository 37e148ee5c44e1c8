/* What the VNC server's files share (vnc.c: descriptors, buffers and the
 * loop; vnc_proto.c: the client's messages and the server's answers;
 * vnc_update.c: dirty tiles, resizes and FramebufferUpdate). Not for
 * moat-display's main: vnc.h is the interface. */
#pragma once

#include <linux/input-event-codes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rfb.h"
#include "vnc.h"

#define VNC_IN_MAX	 8192	     /* input buffer: more than the largest whole message */
#define VNC_OUT_MIN	 (1u << 20)  /* output bound, at least */
#define VNC_OUT_HEADROOM (64u << 10) /* over two full 32-bit frames */
#define VNC_NAME_MAX	 255
#define VNC_NOPIC_W	 640 /* shown before the guest ever showed a picture */
#define VNC_NOPIC_H	 480

_Static_assert(VNC_IN_MAX > RFB_MSG_MAX, "a whole message must fit the input buffer");

/* Why a client is being cut off. */
enum vnc_cut {
	VNC_LIVE,
	VNC_CUT_GONE,	   /* it closed, or its socket failed: not counted */
	VNC_CUT_MALFORMED, /* broke the protocol: counters.malformed */
	VNC_CUT_DROPPED,   /* output reached the bound: counters.dropped */
};

struct vnc_client {
	int fd;
	enum vnc_cut cut; /* not VNC_LIVE: closed at the end of this round */
	struct rfb_parser parser;
	uint8_t in[VNC_IN_MAX];
	size_t in_len;
	uint8_t *out; /* pending output is out[out_off..out_len) */
	size_t out_off, out_len, out_cap;
	size_t out_max; /* its bound (vnc.c's out_limit) */

	/* From ClientInit on (parser.phase == RFB_PH_NORMAL): */
	struct rfb_pixel_lut lut;
	bool desktop_size;   /* announced DesktopSize (-223) */
	bool resize_pending; /* its next update starts with a DesktopSize rectangle */
	bool req_pending;    /* a FramebufferUpdateRequest waits for its answer */
	bool req_full;	     /* ... and one of them was non-incremental */
	uint32_t req_x0, req_y0, req_x1, req_y1; /* pending requests' bounding box */
	uint32_t w, h;				 /* its picture, in pixels */
	uint32_t tiles_x, tiles_y;
	uint8_t *dirty; /* fb_dirty_bytes(w, h): tiles it has not been sent */
	uint16_t ptr_x, ptr_y;
	uint8_t buttons;
	uint8_t keys_down[(KEY_MAX + 1) / 8]; /* released for it when it goes */
};

struct vnc {
	int listen_fd;
	char name[VNC_NAME_MAX + 1];
	struct vnc_ops ops;
	void *opaque;
	struct vnc_client *clients[VNC_MAX_CLIENTS];
	uint32_t pic_w, pic_h;	 /* the shadow's size at the last look; 0 x 0: none */
	uint32_t view_w, view_h; /* the picture clients are shown (never 0) */
	struct vnc_counters cnt;
};

static inline bool vnc_client_ready(const struct vnc_client *c)
{
	return c && c->cut == VNC_LIVE && c->parser.phase == RFB_PH_NORMAL;
}

static inline size_t vnc_out_pending(const struct vnc_client *c)
{
	return c->out_len - c->out_off;
}

/* vnc.c */
uint8_t *vnc_out_reserve(struct vnc *v, struct vnc_client *c, size_t n);
void vnc_put_u8(uint8_t *p, uint8_t x);
void vnc_put_u16(uint8_t *p, uint16_t x);
void vnc_put_u32(uint8_t *p, uint32_t x);
void vnc_flush(struct vnc *v, struct vnc_client *c);

/* vnc_proto.c */
void vnc_client_input(struct vnc *v, struct vnc_client *c);
void vnc_client_release(struct vnc *v, struct vnc_client *c);

/* vnc_update.c */
int vnc_client_picture(struct vnc *v, struct vnc_client *c, uint32_t w, uint32_t h);
void vnc_mark_rect(struct vnc_client *c, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1);
void vnc_sync_size(struct vnc *v, const struct fb_shadow *fb);
void vnc_client_take(struct vnc_client *c, const struct fb_shadow *fb, const uint8_t *dirty);
void vnc_client_update(struct vnc *v, struct vnc_client *c, const struct fb_shadow *fb);
