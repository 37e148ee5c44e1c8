/* moat-display's private copy of the screen. The guest's video memory is
 * guest-writable and changes under us: nothing is ever encoded straight
 * out of it. Each frame, the scanout the guest programmed is compared
 * with this shadow tile by tile (FB_TILE x FB_TILE pixels); a tile that
 * differs is copied in, converted to XRGB8888, and marked dirty. The VNC
 * server then encodes from the shadow only.
 *
 * Pure (no descriptors, no globals): unit tests and the fuzzer run it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FB_TILE	  16
#define FB_MAX_W  4096 /* the largest mode moat-display shows */
#define FB_MAX_H  4096

struct fb_shadow {
	uint32_t width, height;	   /* pixels; 0 x 0: no picture */
	uint32_t *px;		   /* width * height pixels, 0x00RRGGBB */
	uint32_t tiles_x, tiles_y; /* DIV_ROUND_UP(width or height, FB_TILE) */
};

/* Bytes of a dirty bitmap (one bit per tile, row-major, bit i of byte
 * i / 8 is tile i) for a w x h picture. */
size_t fb_dirty_bytes(uint32_t w, uint32_t h);

/* A new size (1..FB_MAX_W x 1..FB_MAX_H, or 0 x 0 for none): the shadow
 * is reallocated and black. 0, -EINVAL or -ENOMEM (then *s is 0 x 0). */
int fb_shadow_resize(struct fb_shadow *s, uint32_t w, uint32_t h);
void fb_shadow_free(struct fb_shadow *s); /* fine on a zeroed one */

/* Compare the guest's scanout with the shadow and take in what changed.
 * src: the first byte of the scanout in the video memory mapping;
 * src_len: bytes readable from src (the caller's bound: the mapping's
 * end); stride: bytes from one line to the next; bpp: 32 (XRGB8888) or 16
 * (RGB565). Lines or pixels that would lie beyond src_len read as black,
 * so a mode that does not fit cannot make it read outside the mapping.
 * Each changed tile's bit is set in dirty (fb_dirty_bytes of the shadow's
 * size; bits are only set, never cleared). Returns the number of tiles
 * changed. */
unsigned fb_shadow_update(struct fb_shadow *s, const uint8_t *src, uint64_t src_len,
			  uint32_t stride, unsigned bpp, uint8_t *dirty);
