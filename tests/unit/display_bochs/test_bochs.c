/* Unit tests for devproc/display/bochs.c and edid.c. A small driver
 * follows what Linux 6.1's drivers/gpu/drm/tiny/bochs.c does through
 * BAR2 (readw/writew on the DISPI registers, readl/writel on the QEMU
 * extension, readb of the EDID, the mode set and the page flip), so
 * "Linux binds and shows a picture" is checked without a guest. The
 * other cases are access sizes, edges, and a hostile guest's values. */
#include <errno.h>
#include <stdint.h>

#include "bochs.h"
#include "fb_shadow.h"
#include "tap.h"

#define VRAM   (16ull << 20)
#define DISPI  BOCHS_DISPI_OFF
#define QEXT   BOCHS_QEXT_OFF
#define LITTLE 0x1e1e1e1eu
#define BIG    0xbebebebeu

enum {
	R_ID,
	R_XRES,
	R_YRES,
	R_BPP,
	R_ENABLE,
	R_BANK,
	R_VIRT_WIDTH,
	R_VIRT_HEIGHT,
	R_X_OFFSET,
	R_Y_OFFSET,
	R_VIDEO_MEMORY_64K,
};

#define GETCAPS 0x02

/* ---- the guest's side of BAR2 ---------------------------------------------- */

static uint64_t rd(struct bochs *b, uint64_t off, unsigned size)
{
	uint64_t v = 0x5A5A5A5A5A5A5A5Aull; /* every byte must be written */

	bochs_mmio(b, off, size, false, &v);
	return v;
}

static void wr(struct bochs *b, uint64_t off, unsigned size, uint64_t v)
{
	bochs_mmio(b, off, size, true, &v);
}

static uint16_t dispi_read(struct bochs *b, unsigned reg)
{
	return (uint16_t)rd(b, DISPI + 2 * reg, 2);
}

static void dispi_write(struct bochs *b, unsigned reg, uint16_t val)
{
	wr(b, DISPI + 2 * reg, 2, val);
}

/* bochs_hw_init(): ID, video memory, then (revision 2) the extension's
 * size and the byte order. 0 or -ENODEV. */
static int linux_hw_init(struct bochs *b, uint64_t bar0_size, uint32_t *qext_size)
{
	uint16_t id = dispi_read(b, R_ID);
	uint64_t mem = (uint64_t)dispi_read(b, R_VIDEO_MEMORY_64K) * 64 * 1024;

	if ((id & 0xfff0) != 0xB0C0 || mem != bar0_size)
		return -ENODEV;
	*qext_size = (uint32_t)rd(b, QEXT, 4);
	if (*qext_size < 4 || *qext_size > BOCHS_MMIO_SIZE)
		*qext_size = 0;
	else if (*qext_size >= 8)
		wr(b, QEXT + 4, 4, LITTLE);
	return 0;
}

/* bochs_hw_blank() through the VGA ports at 0x400, which bochs-display
 * does not have: harmless. */
static void linux_blank(struct bochs *b, int blank)
{
	wr(b, 0x400 + 0x3c2 - 0x3c0, 1, 0x01);
	(void)rd(b, 0x400 + 0x3da - 0x3c0, 1);
	wr(b, 0x400, 1, blank ? 0 : 0x20);
}

/* bochs_hw_setmode() at 32 bpp. */
static void linux_setmode(struct bochs *b, uint16_t w, uint16_t h, uint64_t fb_size)
{
	uint32_t stride = w * 4u;

	linux_blank(b, 0);
	dispi_write(b, R_ENABLE, 0);
	dispi_write(b, R_BPP, 32);
	dispi_write(b, R_XRES, w);
	dispi_write(b, R_YRES, h);
	dispi_write(b, R_BANK, 0);
	dispi_write(b, R_VIRT_WIDTH, w);
	dispi_write(b, R_VIRT_HEIGHT, (uint16_t)(fb_size / stride));
	dispi_write(b, R_X_OFFSET, 0);
	dispi_write(b, R_Y_OFFSET, 0);
	dispi_write(b, R_ENABLE, BOCHS_ENABLED | BOCHS_LFB);
}

/* bochs_hw_setbase(): a page flip to the buffer at addr (bytes into
 * video memory), x, y being the plane's position. */
static void linux_setbase(struct bochs *b, int x, int y, uint32_t stride, uint64_t addr)
{
	uint64_t offset = addr + (uint64_t)y * stride + (uint64_t)x * 4;

	dispi_write(b, R_VIRT_WIDTH, (uint16_t)(stride / 4));
	dispi_write(b, R_X_OFFSET, (uint16_t)(offset % stride / 4));
	dispi_write(b, R_Y_OFFSET, (uint16_t)(offset / stride));
}

/* The EDID as bochs_hw_read_edid() gets it: the 8-byte header first
 * (drm_edid_header_is_valid() must count 8), then the block by readb;
 * the block must checksum to 0 (drm_edid_block_valid()). */
static int linux_read_edid(struct bochs *b, uint8_t *e)
{
	static const uint8_t hdr[8] = {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0};
	int score = 0;
	uint8_t sum = 0;

	for (int i = 0; i < 8; i++)
		score += (uint8_t)rd(b, (uint64_t)i, 1) == hdr[i];
	if (score != 8)
		return -ENODEV;
	for (int i = 0; i < 128; i++) {
		e[i] = (uint8_t)rd(b, (uint64_t)i, 1);
		sum = (uint8_t)(sum + e[i]);
	}
	return sum == 0 && e[18] == 1 ? 0 : -EINVAL;
}

/* ---- what the scanout must always be ---------------------------------------- */

/* The invariant every true bochs_get_scanout() keeps: sane sizes, and
 * every line inside video memory. */
static int scanout_sane(const struct bochs *b, const struct bochs_scanout *s)
{
	uint32_t bytepp = s->bpp / 8;

	CHECK(s->bpp == 32 || s->bpp == 16);
	CHECK(s->width >= 1 && s->width <= FB_MAX_W);
	CHECK(s->height >= 1 && s->height <= FB_MAX_H);
	CHECK(s->stride >= s->width * bytepp && s->stride % bytepp == 0);
	CHECK(s->offset <= b->vram_size);
	CHECK((uint64_t)s->stride * s->height <= b->vram_size - s->offset);
	return 0;
}

static int expect_scanout(struct bochs *b, uint32_t w, uint32_t h, uint32_t bpp, uint32_t stride,
			  uint64_t offset)
{
	struct bochs_scanout s;

	CHECK(bochs_get_scanout(b, &s));
	CHECK(scanout_sane(b, &s) == 0);
	CHECK(s.width == w && s.height == h && s.bpp == bpp);
	CHECK(s.stride == stride && s.offset == offset);
	return 0;
}

/* ---- Linux binds ----------------------------------------------------------- */

static int t_linux_probe(void)
{
	struct bochs b;
	uint32_t qext;

	bochs_init(&b, VRAM, 0, 0);
	CHECK(linux_hw_init(&b, VRAM, &qext) == 0);
	CHECK(dispi_read(&b, R_ID) == BOCHS_DISPI_ID5);
	CHECK(qext == 8);
	CHECK(rd(&b, QEXT + 4, 4) == LITTLE);
	/* read-only: ID and the memory size */
	dispi_write(&b, R_ID, 0xB0C0);
	dispi_write(&b, R_VIDEO_MEMORY_64K, 1);
	CHECK(dispi_read(&b, R_ID) == 0xB0C5);
	CHECK(dispi_read(&b, R_VIDEO_MEMORY_64K) == VRAM / 65536);
	wr(&b, QEXT, 4, 4); /* the size too */
	CHECK(rd(&b, QEXT, 4) == 8);
	return 0;
}

static int t_init_state(void)
{
	struct bochs b;

	bochs_init(&b, VRAM, 0, 0);
	for (unsigned r = R_XRES; r <= R_Y_OFFSET; r++)
		CHECK(dispi_read(&b, r) == 0);
	CHECK(!bochs_get_scanout(&b, NULL));
	CHECK(b.endian == LITTLE && b.writes == 0 && b.vram_size == VRAM);
	/* the size rounded down to 64 KiB, held below 4 GiB */
	bochs_init(&b, VRAM + 12345, 0, 0);
	CHECK(b.vram_size == VRAM && dispi_read(&b, R_VIDEO_MEMORY_64K) == VRAM / 65536);
	bochs_init(&b, 1ull << 40, 0, 0);
	CHECK(b.vram_size == (1ull << 32) - 65536);
	CHECK(dispi_read(&b, R_VIDEO_MEMORY_64K) == 0xFFFF);
	bochs_init(&b, 100, 0, 0);
	CHECK(b.vram_size == 0 && dispi_read(&b, R_VIDEO_MEMORY_64K) == 0);
	bochs_preset(&b, 64, 64, 32);
	CHECK(!bochs_get_scanout(&b, NULL)); /* nothing fits in nothing */
	return 0;
}

/* ---- the EDID -------------------------------------------------------------- */

struct dtd {
	uint32_t clock; /* 10 kHz */
	uint32_t hact, hblank, hfront, hsync, vact, vblank, vfront, vsync, wmm, hmm;
	uint8_t flags;
};

static void dtd_decode(const uint8_t *d, struct dtd *t)
{
	t->clock = d[0] | (uint32_t)d[1] << 8;
	t->hact = d[2] | (uint32_t)(d[4] >> 4) << 8;
	t->hblank = d[3] | (uint32_t)(d[4] & 0xF) << 8;
	t->vact = d[5] | (uint32_t)(d[7] >> 4) << 8;
	t->vblank = d[6] | (uint32_t)(d[7] & 0xF) << 8;
	t->hfront = d[8] | (uint32_t)(d[11] >> 6) << 8;
	t->hsync = d[9] | (uint32_t)(d[11] >> 4 & 3) << 8;
	t->vfront = (uint32_t)(d[10] >> 4) | (uint32_t)(d[11] >> 2 & 3) << 4;
	t->vsync = (uint32_t)(d[10] & 0xF) | (uint32_t)(d[11] & 3) << 4;
	t->wmm = d[12] | (uint32_t)(d[14] >> 4) << 8;
	t->hmm = d[13] | (uint32_t)(d[14] & 0xF) << 8;
	t->flags = d[17];
}

/* The EDID's preferred mode must be w x h (after edid_build()'s limits);
 * refresh in milli-Hz through *mhz. Checks what a monitor's block must
 * hold: the header, the checksum, version 1.4, the descriptors. */
static int edid_check(const uint8_t *e, uint32_t w, uint32_t h, uint64_t *mhz)
{
	static const uint8_t hdr[8] = {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0};
	struct dtd t;
	uint8_t sum = 0;
	uint64_t ht, vt, line_hz;
	const uint8_t *r = e + 72, *n = e + 90;

	for (int i = 0; i < 128; i++)
		sum = (uint8_t)(sum + e[i]);
	CHECK(sum == 0 && !memcmp(e, hdr, 8));
	CHECK(e[8] == 0x35 && e[9] == 0xE1); /* "MOA" */
	CHECK(e[18] == 1 && e[19] == 4 && e[126] == 0);
	CHECK(e[20] & 0x80);			 /* digital */
	CHECK((e[24] & 0x02) && e[21] && e[22]); /* preferred timing is native; a size */
	dtd_decode(e + 54, &t);
	CHECK(t.hact == w && t.vact == h);
	CHECK(t.clock >= 1000); /* 10 MHz */
	CHECK(t.hfront + t.hsync < t.hblank && t.vfront + t.vsync < t.vblank);
	CHECK(t.wmm && t.hmm && (t.flags & 0x18) == 0x18);
	ht = t.hact + t.hblank;
	vt = t.vact + t.vblank;
	*mhz = (uint64_t)t.clock * 10000 * 1000 / (ht * vt);
	/* range limits: they hold the preferred mode */
	CHECK(!r[0] && !r[1] && r[3] == 0xFD && r[4] == 0);
	line_hz = (uint64_t)t.clock * 10000 / ht;
	CHECK(r[5] <= *mhz / 1000 && r[6] * 1000ull >= *mhz);
	CHECK(r[7] * 1000ull <= line_hz && r[8] * 1000ull >= line_hz);
	CHECK(r[9] * 1000ull >= t.clock); /* 10 MHz units against 10 kHz units */
	/* the name */
	CHECK(!n[0] && !n[1] && n[3] == 0xFC && !memcmp(n + 5, "moat\n", 5));
	return 0;
}

static int t_edid_linux(void)
{
	struct bochs b;
	struct dtd t;
	uint8_t e[128];
	uint64_t mhz;

	bochs_init(&b, VRAM, 1024, 768);
	CHECK(linux_read_edid(&b, e) == 0);
	CHECK(!memcmp(e, b.edid, 128));
	CHECK(edid_check(e, 1024, 768, &mhz) == 0);
	CHECK(mhz > 59500 && mhz < 60500);
	/* CVT reduced blanking: 1024x768 at 56.00 MHz, 1184 x 790 */
	dtd_decode(e + 54, &t);
	CHECK(t.clock == 5600 && t.hblank == 160 && t.vblank == 22);
	CHECK(t.hfront == 48 && t.hsync == 32 && t.vfront == 3 && t.vsync == 4);
	CHECK(t.flags == 0x1A); /* hsync +, vsync - */
	/* 640x480, 800x600, 1024x768 at 60 Hz */
	CHECK(e[35] == 0x21 && e[36] == 0x08);
	/* 1920x1080@60 is the last standard timing */
	CHECK(e[52] == 1920 / 8 - 31 && e[53] == 0xC0);
	/* after the block: zeros to 0x0FF, then nothing (0xFF) to the VGA ports */
	for (unsigned a = 128; a < 0x100; a++)
		CHECK(rd(&b, a, 1) == 0);
	for (unsigned a = 0x100; a < 0x400; a += 8)
		CHECK(rd(&b, a, 8) == ~0ull);
	/* read-only */
	for (unsigned a = 0; a < 0x100; a++)
		wr(&b, a, 1, 0x55);
	CHECK(!memcmp(e, b.edid, 128));
	/* wider reads see the same bytes */
	CHECK(rd(&b, 0, 8) == 0x00ffffffffffff00ull && rd(&b, 8, 2) == 0xE135);
	return 0;
}

static int t_edid_sizes(void)
{
	static const uint32_t ws[] = {640,  641,  800,	1023, 1024, 1280,
				      1366, 1920, 2560, 3840, 4095};
	static const uint32_t hs[] = {480, 600, 768, 1024, 1080, 1200, 1600, 2160, 4095};
	uint8_t e[128];
	uint64_t mhz;

	for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++)
		for (size_t j = 0; j < sizeof(hs) / sizeof(hs[0]); j++) {
			edid_build(e, ws[i], hs[j]);
			CHECK(edid_check(e, ws[i], hs[j], &mhz) == 0);
			/* 60 Hz, except where the clock tops out */
			CHECK(mhz < 60500);
			CHECK(mhz > 59000 || e[54] + 256u * e[55] == 65525);
		}
	/* the limits: 0 is 1024x768; held to 640..4095 x 480..4095 */
	edid_build(e, 0, 0);
	CHECK(edid_check(e, 1024, 768, &mhz) == 0);
	edid_build(e, 1, 1);
	CHECK(edid_check(e, 640, 480, &mhz) == 0);
	edid_build(e, 4096, 4096);
	CHECK(edid_check(e, 4095, 4095, &mhz) == 0);
	edid_build(e, UINT32_MAX, 3);
	CHECK(edid_check(e, 4095, 480, &mhz) == 0);
	return 0;
}

/* edid-decode --check on a few preferred sizes: EDID conformity PASS, no
 * warning, the first detailed timing the size asked for. */
static int t_edid_decode(void)
{
	static const uint32_t sz[][2] = {{1024, 768}, {640, 480},   {1280, 1024}, {1920, 1080},
					 {1366, 768}, {3840, 2160}, {4095, 4095}};
	char path[] = "/tmp/moat-edid-XXXXXX", cmd[128], line[256];
	int fd;

	if (system("command -v edid-decode >/dev/null 2>&1") != 0)
		return TEST_SKIP;
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(sz) / sizeof(sz[0]); i++) {
		uint8_t e[128];
		char want[32];
		int pass = 0, dtd = 0, warn = 0;
		FILE *f = fopen(path, "wb");

		CHECK(f);
		edid_build(e, sz[i][0], sz[i][1]);
		CHECK(fwrite(e, 1, sizeof(e), f) == sizeof(e));
		CHECK(fclose(f) == 0);
		snprintf(cmd, sizeof(cmd), "edid-decode -c %s 2>&1", path);
		snprintf(want, sizeof(want), "%ux%u ", sz[i][0], sz[i][1]);
		f = popen(cmd, "r");
		CHECK(f);
		while (fgets(line, sizeof(line), f)) {
			pass |= strstr(line, "EDID conformity: PASS") != NULL;
			warn |= strstr(line, "Warnings:") != NULL;
			dtd |= strstr(line, "DTD 1:") && strstr(line, want);
		}
		CHECK(pclose(f) == 0);
		if (!pass || !dtd || warn)
			fprintf(stderr, "edid-decode on %ux%u: pass %d dtd %d warnings %d\n",
				sz[i][0], sz[i][1], pass, dtd, warn);
		CHECK(pass && dtd && !warn);
	}
	unlink(path);
	return 0;
}

/* ---- modes and page flips ---------------------------------------------------- */

static int t_setmode_flip(void)
{
	struct bochs b;
	uint32_t qext;
	uint32_t stride = 1024 * 4;
	uint64_t fb2 = (uint64_t)stride * 768;

	bochs_init(&b, VRAM, 1024, 768);
	CHECK(linux_hw_init(&b, VRAM, &qext) == 0);
	linux_setmode(&b, 1024, 768, VRAM);
	CHECK(dispi_read(&b, R_VIRT_HEIGHT) == VRAM / stride);
	CHECK(dispi_read(&b, R_ENABLE) == (BOCHS_ENABLED | BOCHS_LFB));
	linux_setbase(&b, 0, 0, stride, 0);
	CHECK(expect_scanout(&b, 1024, 768, 32, stride, 0) == 0);
	/* flip to the second buffer, and back */
	linux_setbase(&b, 0, 0, stride, fb2);
	CHECK(dispi_read(&b, R_Y_OFFSET) == 768 && dispi_read(&b, R_X_OFFSET) == 0);
	CHECK(expect_scanout(&b, 1024, 768, 32, stride, fb2) == 0);
	linux_setbase(&b, 0, 0, stride, 0);
	CHECK(expect_scanout(&b, 1024, 768, 32, stride, 0) == 0);
	/* a buffer that does not start on a line: X_OFFSET takes the rest */
	linux_setbase(&b, 0, 0, stride, fb2 + 256);
	CHECK(dispi_read(&b, R_X_OFFSET) == 64);
	CHECK(expect_scanout(&b, 1024, 768, 32, stride, fb2 + 256) == 0);
	/* the last buffer that fits, and one line further */
	linux_setbase(&b, 0, 0, stride, VRAM - fb2);
	CHECK(expect_scanout(&b, 1024, 768, 32, stride, VRAM - fb2) == 0);
	dispi_write(&b, R_Y_OFFSET, (uint16_t)((VRAM - fb2) / stride + 1));
	CHECK(!bochs_get_scanout(&b, NULL));
	dispi_write(&b, R_Y_OFFSET, (uint16_t)((VRAM - fb2) / stride));
	dispi_write(&b, R_X_OFFSET, 1); /* 4 bytes too far */
	CHECK(!bochs_get_scanout(&b, NULL));
	/* a mode change: 1280x1024 */
	linux_setmode(&b, 1280, 1024, VRAM);
	linux_setbase(&b, 0, 0, 1280 * 4, 0);
	CHECK(expect_scanout(&b, 1280, 1024, 32, 1280 * 4, 0) == 0);
	/* blank: Linux only touches the VGA ports; the DISPI mode stays */
	linux_blank(&b, 1);
	CHECK(expect_scanout(&b, 1280, 1024, 32, 1280 * 4, 0) == 0);
	/* disabled: nothing to show */
	dispi_write(&b, R_ENABLE, 0);
	CHECK(!bochs_get_scanout(&b, NULL));
	return 0;
}

static int t_preset(void)
{
	struct bochs b;

	bochs_init(&b, VRAM, 0, 0);
	bochs_preset(&b, 800, 600, 32);
	CHECK(dispi_read(&b, R_ENABLE) == 0x41 && dispi_read(&b, R_BPP) == 32);
	CHECK(dispi_read(&b, R_XRES) == 800 && dispi_read(&b, R_YRES) == 600);
	CHECK(dispi_read(&b, R_VIRT_WIDTH) == 800);
	CHECK(dispi_read(&b, R_VIRT_HEIGHT) == VRAM / 3200);
	CHECK(dispi_read(&b, R_X_OFFSET) == 0 && dispi_read(&b, R_Y_OFFSET) == 0);
	CHECK(expect_scanout(&b, 800, 600, 32, 3200, 0) == 0);
	bochs_preset(&b, 1024, 768, 16);
	CHECK(expect_scanout(&b, 1024, 768, 16, 2048, 0) == 0);
	/* VIRT_HEIGHT held to 16 bits */
	bochs_init(&b, 1ull << 31, 0, 0);
	bochs_preset(&b, 16, 16, 16);
	CHECK(dispi_read(&b, R_VIRT_HEIGHT) == 0xFFFF);
	/* too large for the memory: set, but not shown */
	bochs_init(&b, 1 << 20, 0, 0);
	bochs_preset(&b, 1024, 768, 32);
	CHECK(!bochs_get_scanout(&b, NULL));
	bochs_preset(&b, 512, 512, 32); /* exactly 1 MiB */
	CHECK(expect_scanout(&b, 512, 512, 32, 2048, 0) == 0);
	return 0;
}

/* ---- access sizes and edges ------------------------------------------------ */

static int t_access_sizes(void)
{
	struct bochs b;

	bochs_init(&b, VRAM, 0, 0);
	CHECK(rd(&b, DISPI, 1) == 0xC5 && rd(&b, DISPI + 1, 1) == 0xB0);
	dispi_write(&b, R_XRES, 0x1234);
	CHECK(rd(&b, DISPI, 4) == 0x1234B0C5);
	CHECK(rd(&b, DISPI + 1, 2) == 0x34B0); /* unaligned: two registers' bytes */
	/* a byte write changes that byte only */
	wr(&b, DISPI + 3, 1, 0x56);
	CHECK(dispi_read(&b, R_XRES) == 0x5634);
	wr(&b, DISPI + 2, 1, 0x78);
	CHECK(dispi_read(&b, R_XRES) == 0x5678);
	/* 4 and 8 bytes write two and four registers */
	wr(&b, DISPI + 2 * R_XRES, 8, 0x0041002003000400ull);
	CHECK(dispi_read(&b, R_XRES) == 0x400 && dispi_read(&b, R_YRES) == 0x300);
	CHECK(dispi_read(&b, R_BPP) == 32 && dispi_read(&b, R_ENABLE) == 0x41);
	wr(&b, DISPI + 2 * R_VIRT_WIDTH, 4, 0x10000400);
	CHECK(dispi_read(&b, R_VIRT_WIDTH) == 0x400 && dispi_read(&b, R_VIRT_HEIGHT) == 0x1000);
	CHECK(expect_scanout(&b, 1024, 768, 32, 4096, 0) == 0);
	/* a write over ID and XRES: ID stays */
	wr(&b, DISPI, 4, 0x02800000);
	CHECK(dispi_read(&b, R_ID) == 0xB0C5 && dispi_read(&b, R_XRES) == 640);
	/* straddling the end of the DISPI block: 0xFF past it */
	CHECK(rd(&b, DISPI + 2 * R_VIDEO_MEMORY_64K, 4) == (0xFFFF0000u | VRAM / 65536));
	CHECK(rd(&b, DISPI + 2 * R_Y_OFFSET, 8) == (0xFFFFFFFF00000000ull | (VRAM / 65536) << 16));
	/* and the end of BAR2 */
	CHECK(rd(&b, BOCHS_MMIO_SIZE - 2, 8) == ~0ull);
	wr(&b, BOCHS_MMIO_SIZE - 4, 8, 0);
	/* beyond BAR2, sizes other than 1, 2, 4, 8 */
	CHECK(rd(&b, BOCHS_MMIO_SIZE, 4) == 0xFFFFFFFF);
	CHECK(rd(&b, UINT64_MAX, 8) == ~0ull && rd(&b, UINT64_MAX - 3, 8) == ~0ull);
	wr(&b, UINT64_MAX - 1, 8, 0);
	CHECK(rd(&b, DISPI, 3) == ~0ull && rd(&b, DISPI, 0) == ~0ull && rd(&b, DISPI, 16) == ~0ull);
	wr(&b, DISPI + 2, 3, 0);
	wr(&b, DISPI + 2, 0, 0);
	CHECK(dispi_read(&b, R_XRES) == 640);
	bochs_mmio(&b, DISPI, 2, false, NULL);
	bochs_mmio(&b, DISPI, 2, true, NULL);
	return 0;
}

/* QEMU maps only the eleven registers: the rest of 0x500-0x5FF is
 * nothing (reads 0xFFFF, writes dropped), and so is 0x608-0xFFF. */
static int t_beyond_registers(void)
{
	struct bochs b, before;

	bochs_init(&b, VRAM, 0, 0);
	bochs_preset(&b, 640, 480, 32);
	before = b;
	for (unsigned idx = BOCHS_NR_REGS; idx < 128; idx++) {
		CHECK(dispi_read(&b, idx) == 0xFFFF);
		dispi_write(&b, idx, 0x1234);
	}
	for (unsigned a = QEXT + 8; a < BOCHS_MMIO_SIZE; a += 4) {
		CHECK(rd(&b, a, 4) == 0xFFFFFFFF);
		wr(&b, a, 4, LITTLE);
	}
	for (unsigned a = 0x400; a < 0x500; a++) {
		CHECK(rd(&b, a, 1) == 0xFF);
		wr(&b, a, 1, 0);
	}
	b.writes = before.writes;
	CHECK(!memcmp(&b, &before, sizeof(b)));
	return 0;
}

static int t_qext_endian(void)
{
	struct bochs b;

	bochs_init(&b, VRAM, 0, 0);
	bochs_preset(&b, 640, 480, 32);
	CHECK(rd(&b, QEXT, 8) == ((uint64_t)LITTLE << 32 | 8));
	CHECK(rd(&b, QEXT, 1) == 8 && rd(&b, QEXT + 1, 1) == 0 && rd(&b, QEXT + 5, 1) == 0x1e);
	wr(&b, QEXT + 4, 4, BIG);
	CHECK(rd(&b, QEXT + 4, 4) == BIG);
	CHECK(!bochs_get_scanout(&b, NULL)); /* big endian is kept, not shown */
	dispi_write(&b, R_BPP, 16);
	CHECK(!bochs_get_scanout(&b, NULL));
	dispi_write(&b, R_BPP, 32);
	/* other values, and partial writes, are dropped */
	wr(&b, QEXT + 4, 4, 0x12345678);
	wr(&b, QEXT + 4, 2, 0x1e1e);
	wr(&b, QEXT + 4, 1, 0x1e);
	wr(&b, QEXT + 6, 2, 0x1e1e);
	wr(&b, QEXT + 2, 4, 0x1e1e0000);
	CHECK(rd(&b, QEXT + 4, 4) == BIG);
	/* 8 bytes at 0x600 carry the byte order in the upper half */
	wr(&b, QEXT, 8, (uint64_t)LITTLE << 32 | 99);
	CHECK(rd(&b, QEXT + 4, 4) == LITTLE && rd(&b, QEXT, 4) == 8);
	CHECK(expect_scanout(&b, 640, 480, 32, 2560, 0) == 0);
	return 0;
}

/* ---- hostile values --------------------------------------------------------- */

/* bochs-display has no GETCAPS: the bit is kept in ENABLE and XRES,
 * YRES, BPP read what was written (std-vga would give the maxima). */
static int t_getcaps(void)
{
	struct bochs b;

	bochs_init(&b, VRAM, 0, 0);
	bochs_preset(&b, 800, 600, 32);
	dispi_write(&b, R_ENABLE, GETCAPS);
	CHECK(dispi_read(&b, R_ENABLE) == GETCAPS);
	CHECK(dispi_read(&b, R_XRES) == 800 && dispi_read(&b, R_YRES) == 600);
	CHECK(dispi_read(&b, R_BPP) == 32);
	CHECK(!bochs_get_scanout(&b, NULL));
	dispi_write(&b, R_ENABLE, BOCHS_ENABLED | GETCAPS | BOCHS_LFB);
	CHECK(dispi_read(&b, R_XRES) == 800);
	CHECK(expect_scanout(&b, 800, 600, 32, 3200, 0) == 0);
	/* ENABLED without LFB still shows: QEMU looks at ENABLED alone */
	dispi_write(&b, R_ENABLE, BOCHS_ENABLED);
	CHECK(expect_scanout(&b, 800, 600, 32, 3200, 0) == 0);
	return 0;
}

static int t_bad_bpp(void)
{
	static const uint16_t bad[] = {0, 1, 4, 8, 15, 24, 31, 33, 64, 0x8020, 0xFFFF};
	struct bochs b;

	bochs_init(&b, VRAM, 0, 0);
	bochs_preset(&b, 640, 480, 32);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dispi_write(&b, R_BPP, bad[i]);
		CHECK(dispi_read(&b, R_BPP) == bad[i]);
		CHECK(!bochs_get_scanout(&b, NULL));
	}
	dispi_write(&b, R_BPP, 16);
	CHECK(expect_scanout(&b, 640, 480, 16, 1280, 0) == 0);
	return 0;
}

static int t_sizes_and_stride(void)
{
	struct bochs b;

	bochs_init(&b, 64ull << 20, 0, 0);
	bochs_preset(&b, 640, 480, 32);
	/* a VIRT_WIDTH below the width is the width (QEMU's rule) */
	dispi_write(&b, R_VIRT_WIDTH, 0);
	CHECK(expect_scanout(&b, 640, 480, 32, 2560, 0) == 0);
	dispi_write(&b, R_VIRT_WIDTH, 639);
	CHECK(expect_scanout(&b, 640, 480, 32, 2560, 0) == 0);
	dispi_write(&b, R_VIRT_WIDTH, 2048);
	CHECK(expect_scanout(&b, 640, 480, 32, 8192, 0) == 0);
	/* a stride that runs the picture past the end */
	dispi_write(&b, R_VIRT_WIDTH, 0xFFFF);
	CHECK(!bochs_get_scanout(&b, NULL)); /* 256 KiB x 480 > 64 MiB */
	dispi_write(&b, R_YRES, 255);
	CHECK(expect_scanout(&b, 640, 255, 32, 0xFFFF * 4, 0) == 0);
	dispi_write(&b, R_Y_OFFSET, 1); /* 64 MiB - 1 KiB */
	CHECK(expect_scanout(&b, 640, 255, 32, 0xFFFF * 4, 0xFFFF * 4) == 0);
	dispi_write(&b, R_Y_OFFSET, 2);
	CHECK(!bochs_get_scanout(&b, NULL));
	/* offsets at their largest */
	bochs_preset(&b, 640, 480, 32);
	dispi_write(&b, R_X_OFFSET, 0xFFFF);
	dispi_write(&b, R_Y_OFFSET, 0xFFFF);
	CHECK(!bochs_get_scanout(&b, NULL));
	dispi_write(&b, R_Y_OFFSET, 0);
	CHECK(expect_scanout(&b, 640, 480, 32, 2560, 0xFFFF * 4) == 0); /* it still fits */
	/* width and height: 1..4096 */
	bochs_preset(&b, 4096, 4096, 32); /* exactly 64 MiB */
	CHECK(expect_scanout(&b, 4096, 4096, 32, 16384, 0) == 0);
	dispi_write(&b, R_XRES, 4097);
	CHECK(!bochs_get_scanout(&b, NULL));
	dispi_write(&b, R_XRES, 0);
	CHECK(!bochs_get_scanout(&b, NULL));
	bochs_preset(&b, 1, 1, 16);
	CHECK(expect_scanout(&b, 1, 1, 16, 2, 0) == 0);
	dispi_write(&b, R_YRES, 0);
	CHECK(!bochs_get_scanout(&b, NULL));
	dispi_write(&b, R_YRES, 4097);
	CHECK(!bochs_get_scanout(&b, NULL));
	dispi_write(&b, R_XRES, 0xFFFF);
	dispi_write(&b, R_YRES, 0xFFFF);
	CHECK(!bochs_get_scanout(&b, NULL));
	/* the largest memory, the largest values: no overflow */
	bochs_init(&b, UINT64_MAX, 0, 0);
	bochs_preset(&b, 4096, 4096, 32);
	dispi_write(&b, R_VIRT_WIDTH, 0xFFFF);
	dispi_write(&b, R_X_OFFSET, 0xFFFF);
	dispi_write(&b, R_Y_OFFSET, 0xFFFF);
	CHECK(!bochs_get_scanout(&b, NULL)); /* 16 GiB: too far */
	dispi_write(&b, R_Y_OFFSET, 0);
	dispi_write(&b, R_YRES, 4095);
	CHECK(expect_scanout(&b, 4096, 4095, 32, 0xFFFF * 4, 0xFFFF * 4) == 0);
	return 0;
}

/* xorshift64*: the same sequence on every run. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

static int check_now(struct bochs *b, unsigned *shown)
{
	struct bochs_scanout s;

	if (!bochs_get_scanout(b, &s))
		return 0;
	(*shown)++;
	return scanout_sane(b, &s);
}

/* A value a driver might write to reg, so that modes come and go. */
static uint64_t plausible(unsigned reg, uint64_t val)
{
	switch (reg) {
	case R_BPP:
		return val & 1 ? 32 : 16;
	case R_ENABLE:
		return BOCHS_ENABLED | BOCHS_LFB;
	case R_X_OFFSET:
	case R_Y_OFFSET:
		return val % 64;
	default:
		return val % 4200;
	}
}

/* Every offset 0..0x1000 at every size, written with random values and
 * read; then random accesses aimed at the registers. The scanout is
 * checked after each; ID, the memory size and the EDID never change. */
static int t_random_hostile(void)
{
	static const unsigned sizes[] = {1, 2, 4, 8};
	static const uint64_t vrams[] = {1 << 20, 16 << 20, 64ull << 20};
	uint64_t seed = 0x6d6f6174;
	unsigned shown = 0;

	for (size_t v = 0; v < sizeof(vrams) / sizeof(vrams[0]); v++) {
		struct bochs b;
		uint8_t edid[128];

		bochs_init(&b, vrams[v], 1280, 1024);
		memcpy(edid, b.edid, sizeof(edid));
		for (unsigned off = 0; off <= BOCHS_MMIO_SIZE; off++)
			for (size_t i = 0; i < 4; i++) {
				wr(&b, off, sizes[i], rnd(&seed));
				(void)rd(&b, off, sizes[i]);
				CHECK(check_now(&b, &shown) == 0);
			}
		for (int n = 0; n < 400000; n++) {
			uint64_t r = rnd(&seed);
			uint64_t val = rnd(&seed);
			unsigned reg = (unsigned)(r % BOCHS_NR_REGS);

			if (r >> 60 < 10)
				val = plausible(reg, val);
			if (r >> 56 & 1)
				wr(&b, QEXT + 4, 4, r >> 57 & 1 ? BIG : LITTLE);
			dispi_write(&b, reg, (uint16_t)val);
			CHECK(check_now(&b, &shown) == 0);
		}
		CHECK(dispi_read(&b, R_ID) == 0xB0C5);
		CHECK(dispi_read(&b, R_VIDEO_MEMORY_64K) == vrams[v] / 65536);
		CHECK(!memcmp(edid, b.edid, sizeof(edid)));
	}
	CHECK(shown > 1000); /* the invariant was exercised */
	return 0;
}

static int t_write_counter(void)
{
	struct bochs b;

	bochs_init(&b, VRAM, 0, 0);
	dispi_write(&b, R_XRES, 1);
	wr(&b, QEXT + 4, 4, LITTLE);
	wr(&b, 0x2000, 4, 0);
	(void)rd(&b, DISPI, 2);
	CHECK(b.writes == 3);
	return 0;
}

TAP_MAIN(TEST(t_linux_probe), TEST(t_init_state), TEST(t_edid_linux), TEST(t_edid_sizes),
	 TEST(t_edid_decode), TEST(t_setmode_flip), TEST(t_preset), TEST(t_access_sizes),
	 TEST(t_beyond_registers), TEST(t_qext_endian), TEST(t_getcaps), TEST(t_bad_bpp),
	 TEST(t_sizes_and_stride), TEST(t_random_hostile), TEST(t_write_counter))
