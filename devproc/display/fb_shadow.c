/* The screen shadow (fb_shadow.h): moat-display's own copy of the guest's
 * picture, taken in tile by tile.
 *
 * The guest's video memory is shared with a guest that may rewrite it at
 * any moment, so each scanout line is copied into a local buffer once and
 * everything after (conversion, comparison, the copy into the shadow) works
 * on that buffer: a line that changes while it is read tears, but is never
 * read twice with two different answers, and nothing is read past src_len. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fb_shadow.h"

static uint32_t tiles_for(uint32_t px)
{
	return (px + FB_TILE - 1) / FB_TILE;
}

size_t fb_dirty_bytes(uint32_t w, uint32_t h)
{
	return ((size_t)tiles_for(w) * tiles_for(h) + 7) / 8;
}

void fb_shadow_free(struct fb_shadow *s)
{
	free(s->px);
	memset(s, 0, sizeof(*s));
}

/* A bad size (one side 0, or beyond FB_MAX_*) leaves *s as it was; only a
 * failed allocation empties it, so the caller never keeps a size without
 * pixels. */
int fb_shadow_resize(struct fb_shadow *s, uint32_t w, uint32_t h)
{
	uint32_t *px = NULL;

	if ((w == 0) != (h == 0) || w > FB_MAX_W || h > FB_MAX_H)
		return -EINVAL;
	if (w) {
		px = calloc((size_t)w * h, sizeof(*px));
		if (!px) {
			fb_shadow_free(s);
			return -ENOMEM;
		}
	}
	free(s->px);
	s->px = px;
	s->width = w;
	s->height = h;
	s->tiles_x = tiles_for(w);
	s->tiles_y = tiles_for(h);
	return 0;
}

/* RGB565 to XRGB8888: each channel's top bits repeated into the low ones,
 * so 0x1f becomes 0xff and 0 stays 0. */
static uint32_t rgb565(uint16_t p)
{
	uint32_t r = p >> 11 & 0x1f, g = p >> 5 & 0x3f, b = p & 0x1f;

	r = r << 3 | r >> 2;
	g = g << 2 | g >> 4;
	b = b << 3 | b >> 2;
	return r << 16 | g << 8 | b;
}

/* Line y of the scanout as XRGB8888 in line[0..w): the bytes from off on
 * are copied out of src once (as far as src_len allows), then converted.
 * Pixels not wholly below src_len are black. raw is scratch of at least
 * w * 4 bytes. */
static void read_line(uint32_t *line, uint8_t *raw, const uint8_t *src, uint64_t src_len,
		      uint64_t off, uint32_t w, unsigned bpp)
{
	unsigned bytes = bpp / 8;
	uint64_t want = (uint64_t)w * bytes, have = 0;
	uint32_t n, i;

	if (off < src_len)
		have = src_len - off < want ? src_len - off : want;
	if (have)
		memcpy(raw, src + off, have);
	n = (uint32_t)(have / bytes);
	for (i = 0; i < n; i++) {
		if (bytes == 4) {
			uint32_t v;

			memcpy(&v, raw + 4 * i, 4);
			line[i] = le32toh(v) & 0xffffff;
		} else {
			uint16_t v;

			memcpy(&v, raw + 2 * i, 2);
			line[i] = rgb565(le16toh(v));
		}
	}
	for (; i < w; i++)
		line[i] = 0;
}

/* Compare line y (already in line[]) with the shadow tile by tile, copy
 * the segments that differ and note their tile columns in changed[]. */
static void take_line(struct fb_shadow *s, uint32_t y, const uint32_t *line, uint8_t *changed)
{
	uint32_t *row = s->px + (size_t)y * s->width;

	for (uint32_t tx = 0; tx < s->tiles_x; tx++) {
		uint32_t x0 = tx * FB_TILE;
		uint32_t n = s->width - x0 < FB_TILE ? s->width - x0 : FB_TILE;

		if (memcmp(row + x0, line + x0, n * sizeof(*row)) != 0) {
			memcpy(row + x0, line + x0, n * sizeof(*row));
			changed[tx] = 1;
		}
	}
}

/* One row of tiles at a time: its lines are read and taken in, then each
 * tile that changed in any of them is counted once and marked in dirty. */
unsigned fb_shadow_update(struct fb_shadow *s, const uint8_t *src, uint64_t src_len,
			  uint32_t stride, unsigned bpp, uint8_t *dirty)
{
	uint32_t line[FB_MAX_W];
	uint8_t raw[FB_MAX_W * 4];
	uint8_t changed[FB_MAX_W / FB_TILE];
	unsigned n = 0;

	if (!s->px || (bpp != 16 && bpp != 32))
		return 0;
	if (!src)
		src_len = 0;
	for (uint32_t ty = 0; ty < s->tiles_y; ty++) {
		uint32_t y0 = ty * FB_TILE;
		uint32_t y1 = s->height - y0 < FB_TILE ? s->height : y0 + FB_TILE;

		memset(changed, 0, s->tiles_x);
		for (uint32_t y = y0; y < y1; y++) {
			read_line(line, raw, src, src_len, (uint64_t)y * stride, s->width, bpp);
			take_line(s, y, line, changed);
		}
		for (uint32_t tx = 0; tx < s->tiles_x; tx++) {
			size_t i = (size_t)ty * s->tiles_x + tx;

			if (!changed[tx])
				continue;
			n++;
			if (dirty)
				dirty[i / 8] |= (uint8_t)(1u << (i % 8));
		}
	}
	return n;
}
