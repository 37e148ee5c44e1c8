/* Pixel formats (rfb.h): reading, checking and writing a client's
 * PIXEL_FORMAT, and converting the shadow's 0x00RRGGBB into it.
 *
 * A channel of 8 bits becomes one of n bits by scaling to its max
 * (2^n - 1), rounded: 0 stays 0 and 255 becomes max, so white is white and
 * black is black at any depth. Each client's format is turned once into
 * three 256-entry tables (struct rfb_pixel_lut), so the per-pixel work is
 * three lookups, two ORs and the store. */
#include <errno.h>
#include <string.h>

#include "rfb.h"

void rfb_pixel_format_read(struct rfb_pixel_format *pf, const uint8_t b[RFB_PIXEL_FMT_LEN])
{
	pf->bpp = b[0];
	pf->depth = b[1];
	pf->big_endian = b[2] != 0;
	pf->true_colour = b[3] != 0;
	pf->red_max = (uint16_t)(b[4] << 8 | b[5]);
	pf->green_max = (uint16_t)(b[6] << 8 | b[7]);
	pf->blue_max = (uint16_t)(b[8] << 8 | b[9]);
	pf->red_shift = b[10];
	pf->green_shift = b[11];
	pf->blue_shift = b[12];
}

void rfb_pixel_format_write(const struct rfb_pixel_format *pf, uint8_t b[RFB_PIXEL_FMT_LEN])
{
	memset(b, 0, RFB_PIXEL_FMT_LEN);
	b[0] = pf->bpp;
	b[1] = pf->depth;
	b[2] = pf->big_endian;
	b[3] = pf->true_colour;
	b[4] = (uint8_t)(pf->red_max >> 8);
	b[5] = (uint8_t)pf->red_max;
	b[6] = (uint8_t)(pf->green_max >> 8);
	b[7] = (uint8_t)pf->green_max;
	b[8] = (uint8_t)(pf->blue_max >> 8);
	b[9] = (uint8_t)pf->blue_max;
	b[10] = pf->red_shift;
	b[11] = pf->green_shift;
	b[12] = pf->blue_shift;
}

void rfb_pixel_format_server(struct rfb_pixel_format *pf)
{
	*pf = (struct rfb_pixel_format){
	    .bpp = 32,
	    .depth = 24,
	    .big_endian = false,
	    .true_colour = true,
	    .red_max = 255,
	    .green_max = 255,
	    .blue_max = 255,
	    .red_shift = 16,
	    .green_shift = 8,
	    .blue_shift = 0,
	};
}

/* A channel fits when its max is 2^n - 1 (n >= 1) and its n bits at
 * shift lie inside the pixel. */
static bool channel_ok(uint16_t max, uint8_t shift, uint8_t bpp)
{
	unsigned bits = 0;

	if (max == 0 || (max & (max + 1u)) != 0)
		return false;
	while (max >> bits)
		bits++;
	return shift + bits <= bpp;
}

int rfb_pixel_format_check(const struct rfb_pixel_format *pf)
{
	if (pf->bpp != 8 && pf->bpp != 16 && pf->bpp != 32)
		return -EINVAL;
	if (!pf->true_colour || pf->depth > pf->bpp)
		return -EINVAL;
	if (!channel_ok(pf->red_max, pf->red_shift, pf->bpp) ||
	    !channel_ok(pf->green_max, pf->green_shift, pf->bpp) ||
	    !channel_ok(pf->blue_max, pf->blue_shift, pf->bpp))
		return -EINVAL;
	return 0;
}

static void channel_table(uint32_t *t, uint16_t max, uint8_t shift)
{
	for (uint32_t c = 0; c < 256; c++)
		t[c] = (c * max + 127) / 255 << shift;
}

void rfb_pixel_lut_init(struct rfb_pixel_lut *lut, const struct rfb_pixel_format *pf)
{
	channel_table(lut->r, pf->red_max, pf->red_shift);
	channel_table(lut->g, pf->green_max, pf->green_shift);
	channel_table(lut->b, pf->blue_max, pf->blue_shift);
	lut->bytes = pf->bpp / 8;
	lut->big_endian = pf->big_endian;
}

uint32_t rfb_pixel_value(const struct rfb_pixel_lut *lut, uint32_t xrgb)
{
	return lut->r[xrgb >> 16 & 0xff] | lut->g[xrgb >> 8 & 0xff] | lut->b[xrgb & 0xff];
}

/* The loop is chosen once per call by size and byte order. */
size_t rfb_pixels_put(const struct rfb_pixel_lut *lut, const uint32_t *px, size_t n, uint8_t *out)
{
	size_t i;

	switch (lut->bytes) {
	case 1:
		for (i = 0; i < n; i++)
			out[i] = (uint8_t)rfb_pixel_value(lut, px[i]);
		break;
	case 2:
		for (i = 0; i < n; i++) {
			uint32_t v = rfb_pixel_value(lut, px[i]);
			uint8_t *o = out + 2 * i;

			o[lut->big_endian ? 0 : 1] = (uint8_t)(v >> 8);
			o[lut->big_endian ? 1 : 0] = (uint8_t)v;
		}
		break;
	default:
		for (i = 0; i < n; i++) {
			uint32_t v = rfb_pixel_value(lut, px[i]);
			uint8_t *o = out + 4 * i;

			if (lut->big_endian) {
				o[0] = (uint8_t)(v >> 24);
				o[1] = (uint8_t)(v >> 16);
				o[2] = (uint8_t)(v >> 8);
				o[3] = (uint8_t)v;
			} else {
				o[0] = (uint8_t)v;
				o[1] = (uint8_t)(v >> 8);
				o[2] = (uint8_t)(v >> 16);
				o[3] = (uint8_t)(v >> 24);
			}
		}
		break;
	}
	return n * lut->bytes;
}
