/* The EDID 1.4 base block of moat-display's virtual monitor.
 *
 * References, read to learn the layout (no code or text taken): the VESA
 * EDID 1.4 and CVT 1.2 standards as Linux 6.1's drivers/gpu/drm/drm_edid.c
 * and edid-decode read them, and QEMU's hw/display/edid-generate.c for
 * what a virtual monitor usefully lists.
 *
 * What the monitor says:
 *  - "MOA" (not in the PNP ID registry's list), product 1, serial 1,
 *    made in week 1 of 2024, EDID 1.4, digital input at 8 bits per
 *    colour, sRGB with its chromaticity, gamma 2.2, 96 dpi.
 *  - The preferred mode is the first detailed timing: w x h with CVT
 *    1.2 reduced blanking (version 1) at 60 Hz, so the active area is
 *    exactly w x h (no rounding to CVT's 8-pixel cells). A detailed
 *    timing holds up to 4095 pixels each way and a clock up to 655.35
 *    MHz: larger sizes are held to 4095, and a mode whose 60 Hz clock
 *    would be higher keeps the highest clock (its refresh drops below
 *    60). Sizes below 640 x 480 are raised to it: smaller, the clock
 *    falls below the 10 MHz edid-decode (and any real monitor) expects.
 *  - The same usual modes whatever the preferred one, as QEMU's monitor
 *    does, so a guest can switch to them: 640x480, 800x600, 1024x768
 *    (established timings) and eight standard timings at 60 Hz up to
 *    1920x1080. Linux refuses the ones that do not fit in video memory.
 *  - Not continuous frequency: the guest infers no modes of its own; the
 *    range limits descriptor covers every mode listed (Xorg checks them).
 *  - The name "moat"; no extension blocks. */
#include <string.h>

#include "bochs.h"

#define EDID_LEN	 128
#define DESC_LEN	 18
#define DESC0		 54   /* the four 18-byte descriptors: 54, 72, 90, 108 */
#define DTD_MAX		 4095 /* 12-bit active sizes */
#define PREF_MIN_W	 640  /* below VGA, the clock falls under 10 MHz, the image under 10 cm */
#define PREF_MIN_H	 480
#define CLOCK_MAX_10KHZ	 65525 /* 655.25 MHz: the 16-bit field, in CVT's 0.25 MHz steps */
#define CLOCK_STEP_10KHZ 25
#define REFRESH		 60
#define DPI		 96

/* CVT reduced blanking, version 1. */
#define RB_H_BLANK    160
#define RB_H_FRONT    48
#define RB_H_SYNC     32
#define RB_V_FRONT    3
#define RB_V_BACK_MIN 6
#define RB_V_BLANK_US 460

/* The range limits' floor and ceiling from the usual modes listed
 * (640x480 at 31.5 kHz up to 1600x1200 at 75 kHz and 162 MHz), with a
 * margin; the preferred mode widens them where it falls outside. */
#define RANGE_V_MIN   50 /* Hz */
#define RANGE_V_MAX   75
#define RANGE_H_MIN   30 /* kHz */
#define RANGE_H_MAX   80
#define RANGE_CLK_MAX 17 /* 10 MHz units */

struct timing {
	uint32_t hact, hblank, hfront, hsync;
	uint32_t vact, vblank, vfront, vsync;
	uint32_t clock; /* 10 kHz units */
};

/* The standard timings (8 slots): width, and the aspect ratio code of
 * EDID 1.3 and later (0 16:10, 1 4:3, 2 5:4, 3 16:9); all at 60 Hz. */
static const struct {
	uint16_t w;
	uint8_t aspect;
} std_modes[8] = {
    {1280, 3}, /* 1280x720 */
    {1280, 0}, /* 1280x800 */
    {1280, 1}, /* 1280x960 */
    {1280, 2}, /* 1280x1024 */
    {1440, 0}, /* 1440x900 */
    {1600, 1}, /* 1600x1200 */
    {1680, 0}, /* 1680x1050 */
    {1920, 3}, /* 1920x1080 */
};

/* sRGB primaries and D65 white point as the 10-bit binary fractions
 * EDID stores (value * 1024, rounded): red, green, blue, white; x, y. */
static const uint16_t srgb[8] = {655, 338, 307, 614, 154, 61, 320, 337};

/* CVT's vertical sync width, which tells the aspect ratio. */
static uint32_t cvt_vsync(uint32_t w, uint32_t h)
{
	if (w * 3 == h * 4)
		return 4;
	if (w * 9 == h * 16)
		return 5;
	if (w * 10 == h * 16)
		return 6;
	if (w * 4 == h * 5 || w * 9 == h * 15)
		return 7;
	return 10;
}

/* CVT reduced blanking for w x h at 60 Hz. The vertical blanking is the
 * lines that last at least 460 us, at least front porch + sync + the
 * minimum back porch: with the line period estimated as (1/60 s - 460
 * us) / h, that is floor(460 * 60 * h / (10^6 - 460 * 60)) + 1 lines,
 * exact in integers. The clock is rounded down to 0.25 MHz. */
static void cvt_rb(uint32_t w, uint32_t h, struct timing *t)
{
	uint64_t vbi =
	    (uint64_t)RB_V_BLANK_US * REFRESH * h / (1000000 - RB_V_BLANK_US * REFRESH) + 1;
	uint64_t clock_hz;

	t->hact = w;
	t->hblank = RB_H_BLANK;
	t->hfront = RB_H_FRONT;
	t->hsync = RB_H_SYNC;
	t->vact = h;
	t->vfront = RB_V_FRONT;
	t->vsync = cvt_vsync(w, h);
	if (vbi < RB_V_FRONT + t->vsync + RB_V_BACK_MIN)
		vbi = RB_V_FRONT + t->vsync + RB_V_BACK_MIN;
	t->vblank = (uint32_t)vbi;
	clock_hz = (uint64_t)REFRESH * (w + t->hblank) * (h + t->vblank);
	t->clock = (uint32_t)(clock_hz / (CLOCK_STEP_10KHZ * 10000ull)) * CLOCK_STEP_10KHZ;
	if (t->clock > CLOCK_MAX_10KHZ)
		t->clock = CLOCK_MAX_10KHZ;
}

/* Millimetres of px pixels at DPI, rounded. */
static uint32_t px_to_mm(uint32_t px)
{
	return (px * 254 + DPI * 5) / (DPI * 10);
}

static void put_dtd(uint8_t *d, const struct timing *t)
{
	uint32_t wmm = px_to_mm(t->hact), hmm = px_to_mm(t->vact);

	d[0] = (uint8_t)t->clock;
	d[1] = (uint8_t)(t->clock >> 8);
	d[2] = (uint8_t)t->hact;
	d[3] = (uint8_t)t->hblank;
	d[4] = (uint8_t)((t->hact >> 8) << 4 | (t->hblank >> 8));
	d[5] = (uint8_t)t->vact;
	d[6] = (uint8_t)t->vblank;
	d[7] = (uint8_t)((t->vact >> 8) << 4 | (t->vblank >> 8));
	d[8] = (uint8_t)t->hfront;
	d[9] = (uint8_t)t->hsync;
	d[10] = (uint8_t)((t->vfront & 0xF) << 4 | (t->vsync & 0xF));
	d[11] = (uint8_t)((t->hfront >> 8) << 6 | (t->hsync >> 8) << 4 | (t->vfront >> 4) << 2 |
			  (t->vsync >> 4));
	d[12] = (uint8_t)wmm;
	d[13] = (uint8_t)hmm;
	d[14] = (uint8_t)((wmm >> 8) << 4 | (hmm >> 8));
	d[15] = 0; /* no border */
	d[16] = 0;
	d[17] = 0x1A; /* digital separate sync, vsync negative, hsync positive (CVT-RB) */
}

/* A display descriptor's 5-byte header: tag. */
static void put_desc_head(uint8_t *d, uint8_t tag)
{
	memset(d, 0, DESC_LEN);
	d[3] = tag;
}

/* Monitor range limits (tag 0xFD), "range limits only" (no GTF/CVT
 * formula): wide enough for the usual modes and the preferred timing t. */
static void put_range(uint8_t *d, const struct timing *t)
{
	uint64_t htotal = t->hact + t->hblank, vtotal = t->vact + t->vblank;
	uint64_t clock_hz = (uint64_t)t->clock * 10000;
	uint64_t hfreq = clock_hz / htotal; /* Hz */
	uint64_t vlo = clock_hz / (htotal * vtotal), vhi = vlo + 1;
	uint64_t hlo = hfreq / 1000, hhi = (hfreq + 999) / 1000; /* 29..154 kHz */
	uint64_t clk = (clock_hz + 9999999) / 10000000;

	put_desc_head(d, 0xFD);
	d[5] = (uint8_t)(vlo < RANGE_V_MIN ? vlo : RANGE_V_MIN);
	d[6] = (uint8_t)(vhi > RANGE_V_MAX ? vhi : RANGE_V_MAX);
	d[7] = (uint8_t)(hlo < RANGE_H_MIN ? hlo : RANGE_H_MIN);
	d[8] = (uint8_t)(hhi > RANGE_H_MAX ? hhi : RANGE_H_MAX);
	d[9] = (uint8_t)(clk > RANGE_CLK_MAX ? clk : RANGE_CLK_MAX);
	d[10] = 0x01; /* range limits only */
	d[11] = '\n';
	memset(d + 12, ' ', DESC_LEN - 12);
}

/* A text descriptor: up to 13 characters, a line feed after shorter
 * text, then spaces. */
static void put_text(uint8_t *d, uint8_t tag, const char *text)
{
	size_t n = strlen(text);

	put_desc_head(d, tag);
	memset(d + 5, ' ', DESC_LEN - 5);
	memcpy(d + 5, text, n);
	if (n < DESC_LEN - 5)
		d[5 + n] = '\n';
}

static void put_chromaticity(uint8_t *e)
{
	e[25] =
	    (uint8_t)((srgb[0] & 3) << 6 | (srgb[1] & 3) << 4 | (srgb[2] & 3) << 2 | (srgb[3] & 3));
	e[26] =
	    (uint8_t)((srgb[4] & 3) << 6 | (srgb[5] & 3) << 4 | (srgb[6] & 3) << 2 | (srgb[7] & 3));
	for (int i = 0; i < 8; i++)
		e[27 + i] = (uint8_t)(srgb[i] >> 2);
}

/* See bochs.h. w or h of 0 means 1024 x 768; otherwise the size is held
 * to 640..4095 x 480..4095. */
void edid_build(uint8_t out[128], uint32_t w, uint32_t h)
{
	static const uint8_t header[8] = {0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00};
	/* "MOA": three letters, 5 bits each (A = 1), big endian */
	const uint16_t mfg = ('M' - '@') << 10 | ('O' - '@') << 5 | ('A' - '@');
	struct timing t;
	uint32_t sum = 0;

	if (w == 0 || h == 0) {
		w = 1024;
		h = 768;
	}
	w = w < PREF_MIN_W ? PREF_MIN_W : w > DTD_MAX ? DTD_MAX : w;
	h = h < PREF_MIN_H ? PREF_MIN_H : h > DTD_MAX ? DTD_MAX : h;
	cvt_rb(w, h, &t);

	memset(out, 0, EDID_LEN);
	memcpy(out, header, sizeof(header));
	out[8] = (uint8_t)(mfg >> 8);
	out[9] = (uint8_t)mfg;
	out[10] = 1; /* product code, little endian */
	out[12] = 1; /* serial number, little endian */
	out[16] = 1; /* week */
	out[17] = 2024 - 1990;
	out[18] = 1; /* EDID 1.4 */
	out[19] = 4;
	out[20] = 0xA0; /* digital, 8 bits per colour, interface not defined */
	out[21] = (uint8_t)((px_to_mm(w) + 5) / 10); /* cm: 17..108 */
	out[22] = (uint8_t)((px_to_mm(h) + 5) / 10);
	out[23] = 220 - 100; /* gamma 2.2 */
	out[24] = 0x06;	     /* RGB 4:4:4, sRGB, preferred timing is native; not continuous */
	put_chromaticity(out);
	out[35] = 0x21; /* 640x480@60 (bit 5), 800x600@60 (bit 0) */
	out[36] = 0x08; /* 1024x768@60 */
	out[37] = 0;
	for (int i = 0; i < 8; i++) {
		out[38 + 2 * i] = (uint8_t)(std_modes[i].w / 8 - 31);
		out[39 + 2 * i] = (uint8_t)(std_modes[i].aspect << 6 | (REFRESH - 60));
	}
	put_dtd(out + DESC0, &t);
	put_range(out + DESC0 + DESC_LEN, &t);
	put_text(out + DESC0 + 2 * DESC_LEN, 0xFC, "moat");
	put_desc_head(out + DESC0 + 3 * DESC_LEN, 0x10); /* dummy: unused */
	out[126] = 0;					 /* no extension blocks */
	for (int i = 0; i < EDID_LEN - 1; i++)
		sum += out[i];
	out[127] = (uint8_t)(0x100 - (sum & 0xFF));
}
