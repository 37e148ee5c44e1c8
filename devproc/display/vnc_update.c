/* What each client is sent of the picture: its dirty tiles, resizes, and
 * the FramebufferUpdate messages built from the shadow.
 *
 * Each client has its own picture size (w x h) and tile bitmap in that
 * size's grid (FB_TILE-square tiles from the top left, like the shadow's).
 * Frames mark tiles; updates clear the ones they carry. An update goes
 * out when the client asked for one and its output buffer is empty, so a
 * slow client gathers changes in its bitmap instead of queueing pictures.
 *
 * Resizes: a client that announced DesktopSize is resized with the
 * picture; its next update starts with a DesktopSize rectangle and then
 * carries the whole new picture. A client that did not keeps the size it
 * was given in ServerInit (RFB has no other way to change it): it is
 * shown the top-left part of the new picture that fits, and black where
 * the picture does not reach; the same while there is no picture at all. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vnc_int.h"

#define RECT_HDR  12	/* x, y, w, h (u16 each), encoding (s32) */
#define MAX_RECTS 65535 /* a FramebufferUpdate's count is a u16 */

static bool tile_dirty(const struct vnc_client *c, uint32_t tx, uint32_t ty)
{
	size_t i = (size_t)ty * c->tiles_x + tx;

	return c->dirty[i / 8] >> (i % 8) & 1;
}

static void tile_set(struct vnc_client *c, uint32_t tx, uint32_t ty)
{
	size_t i = (size_t)ty * c->tiles_x + tx;

	c->dirty[i / 8] |= (uint8_t)(1u << (i % 8));
}

static void tile_clear(struct vnc_client *c, uint32_t tx, uint32_t ty)
{
	size_t i = (size_t)ty * c->tiles_x + tx;

	c->dirty[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

/* A new picture size for c, all of it due. -ENOMEM leaves c as it was. */
int vnc_client_picture(struct vnc *v, struct vnc_client *c, uint32_t w, uint32_t h)
{
	size_t n = fb_dirty_bytes(w, h);
	uint8_t *d = malloc(n ? n : 1);

	(void)v;
	if (!d)
		return -ENOMEM;
	memset(d, 0xff, n);
	free(c->dirty);
	c->dirty = d;
	c->w = w;
	c->h = h;
	c->tiles_x = (w + FB_TILE - 1) / FB_TILE;
	c->tiles_y = (h + FB_TILE - 1) / FB_TILE;
	return 0;
}

/* Mark the tiles of [x0, x1) x [y0, y1), clipped to c's picture. */
void vnc_mark_rect(struct vnc_client *c, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1)
{
	x1 = x1 < c->w ? x1 : c->w;
	y1 = y1 < c->h ? y1 : c->h;
	for (uint32_t ty = y0 / FB_TILE; ty * FB_TILE < y1; ty++) {
		for (uint32_t tx = x0 / FB_TILE; tx * FB_TILE < x1; tx++)
			tile_set(c, tx, ty);
	}
}

/* The shadow's size, looked at before anything else each round: a
 * different one is a resize for every client (see the top of the file).
 * No picture (0 x 0) keeps the size shown and blacks it out. */
void vnc_sync_size(struct vnc *v, const struct fb_shadow *fb)
{
	uint32_t w = fb && fb->px ? fb->width : 0, h = fb && fb->px ? fb->height : 0;
	bool resized;

	if (w == v->pic_w && h == v->pic_h)
		return;
	v->pic_w = w;
	v->pic_h = h;
	resized = w && (w != v->view_w || h != v->view_h);
	if (resized) {
		v->view_w = w;
		v->view_h = h;
	}
	for (unsigned i = 0; i < VNC_MAX_CLIENTS; i++) {
		struct vnc_client *c = v->clients[i];

		if (!vnc_client_ready(c))
			continue;
		if (resized && c->desktop_size) {
			if (vnc_client_picture(v, c, w, h))
				c->cut = VNC_CUT_DROPPED;
			c->resize_pending = true;
		} else {
			vnc_mark_rect(c, 0, 0, c->w, c->h);
		}
	}
}

/* The frame's changed tiles (dirty, in the shadow's grid) into c's
 * bitmap: byte by byte when the grids are the same, else tile by tile
 * over the part they share. */
void vnc_client_take(struct vnc_client *c, const struct fb_shadow *fb, const uint8_t *dirty)
{
	uint32_t tx, ty;

	if (!dirty || !fb || !fb->px)
		return;
	if (c->w == fb->width && c->h == fb->height) {
		for (size_t b = 0; b < fb_dirty_bytes(c->w, c->h); b++)
			c->dirty[b] |= dirty[b];
		return;
	}
	tx = c->tiles_x < fb->tiles_x ? c->tiles_x : fb->tiles_x;
	ty = c->tiles_y < fb->tiles_y ? c->tiles_y : fb->tiles_y;
	for (uint32_t y = 0; y < ty; y++) {
		for (uint32_t x = 0; x < tx; x++) {
			size_t s = (size_t)y * fb->tiles_x + x;

			if (dirty[s / 8] >> (s % 8) & 1)
				tile_set(c, x, y);
		}
	}
}

/* The tiles an update may carry: the whole picture after a resize, else
 * those meeting the pending requests' box. [x0, x1) x [y0, y1) in tiles. */
struct tile_box {
	uint32_t x0, y0, x1, y1;
};

static struct tile_box update_box(const struct vnc_client *c)
{
	struct tile_box b = {0, 0, c->tiles_x, c->tiles_y};
	uint32_t x1, y1;

	if (c->resize_pending)
		return b;
	x1 = c->req_x1 < c->w ? c->req_x1 : c->w;
	y1 = c->req_y1 < c->h ? c->req_y1 : c->h;
	if (c->req_x0 >= x1 || c->req_y0 >= y1)
		return (struct tile_box){0, 0, 0, 0};
	b.x0 = c->req_x0 / FB_TILE;
	b.y0 = c->req_y0 / FB_TILE;
	b.x1 = (x1 + FB_TILE - 1) / FB_TILE;
	b.y1 = (y1 + FB_TILE - 1) / FB_TILE;
	return b;
}

/* A run: dirty tiles side by side in one tile row, sent as one Raw
 * rectangle. next_run finds the first at or after (*tx, *ty) in the box
 * and moves the position past it; false when there is none. */
struct run {
	uint32_t tx0, tx1, ty;
};

static bool next_run(const struct vnc_client *c, const struct tile_box *b, uint32_t *tx,
		     uint32_t *ty, struct run *r)
{
	for (; *ty < b->y1; (*ty)++, *tx = b->x0) {
		while (*tx < b->x1 && !tile_dirty(c, *tx, *ty))
			(*tx)++;
		if (*tx == b->x1)
			continue;
		r->ty = *ty;
		r->tx0 = *tx;
		while (*tx < b->x1 && tile_dirty(c, *tx, *ty))
			(*tx)++;
		r->tx1 = *tx;
		return true;
	}
	return false;
}

/* A run's rectangle in pixels, clipped to c's picture. */
static void run_rect(const struct vnc_client *c, const struct run *r, uint32_t *x, uint32_t *y,
		     uint32_t *w, uint32_t *h)
{
	uint32_t x1 = r->tx1 * FB_TILE < c->w ? r->tx1 * FB_TILE : c->w;
	uint32_t y1 = (r->ty + 1) * FB_TILE < c->h ? (r->ty + 1) * FB_TILE : c->h;

	*x = r->tx0 * FB_TILE;
	*y = r->ty * FB_TILE;
	*w = x1 - *x;
	*h = y1 - *y;
}

/* One Raw rectangle: header, then its lines from the shadow (black where
 * the shadow does not reach) in c's pixel format; its tiles are clean. */
static uint8_t *put_run(struct vnc_client *c, const struct run *r, const struct fb_shadow *fb,
			uint8_t *p)
{
	uint32_t line[FB_MAX_W];
	uint32_t x, y, w, h;

	run_rect(c, r, &x, &y, &w, &h);
	vnc_put_u16(p, (uint16_t)x);
	vnc_put_u16(p + 2, (uint16_t)y);
	vnc_put_u16(p + 4, (uint16_t)w);
	vnc_put_u16(p + 6, (uint16_t)h);
	vnc_put_u32(p + 8, RFB_ENC_RAW);
	p += RECT_HDR;
	for (uint32_t yy = y; yy < y + h; yy++) {
		const uint32_t *src = line;
		uint32_t n = 0;

		if (fb && fb->px && yy < fb->height && x < fb->width) {
			n = fb->width - x < w ? fb->width - x : w;
			src = fb->px + (size_t)yy * fb->width + x;
		}
		if (n < w) {
			memcpy(line, src, n * sizeof(*line));
			memset(line + n, 0, (w - n) * sizeof(*line));
			src = line;
		}
		p += rfb_pixels_put(&c->lut, src, w, p);
	}
	for (uint32_t tx = r->tx0; tx < r->tx1; tx++)
		tile_clear(c, tx, r->ty);
	return p;
}

/* Answer c's pending request if it may have an answer now (see the top
 * of the file): first the rectangles are counted and sized, then the
 * message is written in one piece into the (empty) output buffer. An
 * incremental request with nothing to carry waits; a non-incremental one
 * is answered even when empty. */
void vnc_client_update(struct vnc *v, struct vnc_client *c, const struct fb_shadow *fb)
{
	struct tile_box b;
	struct run r;
	uint32_t tx, ty, x, y, w, h;
	size_t size = 4, rects = c->resize_pending ? 1 : 0, runs = 0;
	uint8_t *p;

	if (!c->req_pending || vnc_out_pending(c) || c->cut != VNC_LIVE)
		return;
	b = update_box(c);
	for (tx = b.x0, ty = b.y0; rects < MAX_RECTS && next_run(c, &b, &tx, &ty, &r); rects++) {
		run_rect(c, &r, &x, &y, &w, &h);
		size += RECT_HDR + (size_t)w * h * c->lut.bytes;
		runs++;
	}
	if (rects == 0 && !c->req_full)
		return;
	size += c->resize_pending ? RECT_HDR : 0;
	p = vnc_out_reserve(v, c, size);
	if (!p)
		return;
	vnc_put_u8(p, RFB_FB_UPDATE);
	vnc_put_u8(p + 1, 0);
	vnc_put_u16(p + 2, (uint16_t)rects);
	p += 4;
	if (c->resize_pending) {
		memset(p, 0, RECT_HDR);
		vnc_put_u16(p + 4, (uint16_t)c->w);
		vnc_put_u16(p + 6, (uint16_t)c->h);
		vnc_put_u32(p + 8, (uint32_t)RFB_ENC_DESKTOP_SIZE);
		p += RECT_HDR;
		c->resize_pending = false;
	}
	for (tx = b.x0, ty = b.y0; runs > 0 && next_run(c, &b, &tx, &ty, &r); runs--)
		p = put_run(c, &r, fb, p);
	c->req_pending = c->req_full = false;
	v->cnt.updates++;
}
