/* Unit tests for the screen shadow (devproc/display/fb_shadow.c): which
 * tiles a change marks, the RGB565 conversion, and that a scanout larger
 * than the memory behind it reads black instead of beyond the end (the
 * source sits right before an inaccessible page, so a read past src_len
 * is a crash, not a silent pass). */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "fb_shadow.h"
#include "tap.h"

static int bit(const uint8_t *d, size_t i)
{
	return d[i / 8] >> (i % 8) & 1;
}

static size_t popcount_bytes(const uint8_t *d, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += (size_t)__builtin_popcount(d[i]);
	return c;
}

static void put32(uint8_t *buf, uint32_t stride, uint32_t x, uint32_t y, uint32_t v)
{
	uint8_t *p = buf + (size_t)y * stride + 4 * x;

	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *buf, uint32_t stride, uint32_t x, uint32_t y, uint16_t v)
{
	uint8_t *p = buf + (size_t)y * stride + 2 * x;

	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* len bytes whose end is followed by an inaccessible page. */
static uint8_t *guarded(size_t len, void **map, size_t *map_len)
{
	size_t pg = 4096, data = (len + pg - 1) / pg * pg;
	uint8_t *m =
	    mmap(NULL, data + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return NULL;
	if (mprotect(m + data, pg, PROT_NONE)) {
		munmap(m, data + pg);
		return NULL;
	}
	*map = m;
	*map_len = data + pg;
	return m + data - len;
}

static int t_dirty_bytes(void)
{
	CHECK(fb_dirty_bytes(0, 0) == 0);
	CHECK(fb_dirty_bytes(1, 1) == 1);
	CHECK(fb_dirty_bytes(16 * 8, 16) == 1);
	CHECK(fb_dirty_bytes(16 * 8 + 1, 16) == 2); /* 9 tiles */
	CHECK(fb_dirty_bytes(1024, 768) == 64 * 48 / 8);
	CHECK(fb_dirty_bytes(FB_MAX_W, FB_MAX_H) == 256 * 256 / 8);
	return 0;
}

static int t_resize(void)
{
	struct fb_shadow s = {0};

	CHECK(fb_shadow_resize(&s, 0, 0) == 0 && s.width == 0 && !s.px);
	CHECK(fb_shadow_resize(&s, 100, 50) == 0);
	CHECK(s.width == 100 && s.height == 50 && s.tiles_x == 7 && s.tiles_y == 4);
	for (size_t i = 0; i < 100 * 50; i++)
		CHECK(s.px[i] == 0);
	s.px[0] = 0x123456;
	/* bad sizes leave it as it was */
	CHECK(fb_shadow_resize(&s, 0, 5) == -EINVAL);
	CHECK(fb_shadow_resize(&s, 5, 0) == -EINVAL);
	CHECK(fb_shadow_resize(&s, FB_MAX_W + 1, 1) == -EINVAL);
	CHECK(fb_shadow_resize(&s, 1, FB_MAX_H + 1) == -EINVAL);
	CHECK(s.width == 100 && s.px[0] == 0x123456);
	/* the same size again: black again */
	CHECK(fb_shadow_resize(&s, 100, 50) == 0 && s.px[0] == 0);
	CHECK(fb_shadow_resize(&s, FB_MAX_W, FB_MAX_H) == 0 && s.tiles_x == 256);
	CHECK(fb_shadow_resize(&s, 0, 0) == 0 && s.width == 0 && s.tiles_x == 0 && !s.px);
	fb_shadow_free(&s);
	fb_shadow_free(&s);
	return 0;
}

/* A 100 x 50 picture: 7 x 4 tiles, the last column 4 pixels wide and the
 * last row 2 lines high. */
static int t_dirty_exact(void)
{
	struct fb_shadow s = {0};
	uint32_t stride = 100 * 4;
	static uint8_t src[100 * 4 * 50];
	uint8_t dirty[4] = {0};

	CHECK(fb_shadow_resize(&s, 100, 50) == 0);
	CHECK(fb_dirty_bytes(100, 50) == sizeof(dirty));
	/* black on black: nothing changed */
	CHECK(fb_shadow_update(&s, src, sizeof(src), stride, 32, dirty) == 0);
	CHECK(popcount_bytes(dirty, sizeof(dirty)) == 0);
	put32(src, stride, 0, 0, 0xff0000);	/* tile 0 */
	put32(src, stride, 17, 3, 0x00ff00);	/* tile 1 */
	put32(src, stride, 99, 49, 0x0000ff);	/* tile 27: last column, last row */
	put32(src, stride, 50, 20, 0xff000000); /* X byte only: no change */
	CHECK(fb_shadow_update(&s, src, sizeof(src), stride, 32, dirty) == 3);
	CHECK(bit(dirty, 0) && bit(dirty, 1) && bit(dirty, 27));
	CHECK(popcount_bytes(dirty, sizeof(dirty)) == 3);
	CHECK(s.px[0] == 0xff0000 && s.px[3 * 100 + 17] == 0x00ff00);
	CHECK(s.px[49 * 100 + 99] == 0x0000ff && s.px[20 * 100 + 50] == 0);
	/* the same picture again: no tile, and the bits are never cleared */
	CHECK(fb_shadow_update(&s, src, sizeof(src), stride, 32, dirty) == 0);
	CHECK(popcount_bytes(dirty, sizeof(dirty)) == 3);
	/* one tile changed in two of its lines counts once */
	memset(dirty, 0, sizeof(dirty));
	put32(src, stride, 33, 16, 1);
	put32(src, stride, 34, 31, 2);
	CHECK(fb_shadow_update(&s, src, sizeof(src), stride, 32, dirty) == 1);
	CHECK(bit(dirty, 7 + 2) && popcount_bytes(dirty, sizeof(dirty)) == 1);
	/* no bitmap: counted only */
	put32(src, stride, 0, 0, 0);
	CHECK(fb_shadow_update(&s, src, sizeof(src), stride, 32, NULL) == 1);
	fb_shadow_free(&s);
	return 0;
}

static int t_rgb565(void)
{
	struct fb_shadow s = {0};
	static const uint16_t in[] = {0xf800, 0x07e0, 0x001f, 0xffff, 0x0000, 0x8410, 0x0821};
	static const uint32_t out[] = {0xff0000, 0x00ff00, 0x0000ff, 0xffffff,
				       0x000000, 0x848284, 0x080408};
	uint8_t src[7 * 2 * 2];
	uint8_t dirty[1] = {0};

	CHECK(fb_shadow_resize(&s, 7, 2) == 0);
	memset(src, 0, sizeof(src));
	for (uint32_t i = 0; i < 7; i++)
		put16(src, 14, i, 1, in[i]);
	CHECK(fb_shadow_update(&s, src, sizeof(src), 14, 16, dirty) == 1 && dirty[0] == 1);
	for (uint32_t i = 0; i < 7; i++) {
		CHECK(s.px[i] == 0);
		CHECK(s.px[7 + i] == out[i]);
	}
	fb_shadow_free(&s);
	return 0;
}

static int t_bad_bpp(void)
{
	struct fb_shadow s = {0};
	uint8_t src[64], dirty[1] = {0};

	memset(src, 0xff, sizeof(src));
	CHECK(fb_shadow_update(&s, src, sizeof(src), 16, 32, dirty) == 0); /* 0 x 0 */
	CHECK(fb_shadow_resize(&s, 4, 4) == 0);
	CHECK(fb_shadow_update(&s, src, sizeof(src), 4, 8, dirty) == 0);
	CHECK(fb_shadow_update(&s, src, sizeof(src), 12, 24, dirty) == 0);
	CHECK(fb_shadow_update(&s, NULL, 1000, 16, 32, dirty) == 0); /* reads black */
	CHECK(dirty[0] == 0 && s.px[0] == 0);
	fb_shadow_free(&s);
	return 0;
}

/* 64 x 64 at 32 bpp wants 16 KiB; only 4096 + 2 bytes are there: lines 0-15
 * and two bytes of line 16 (not a whole pixel). */
static int t_src_len_bound(void)
{
	struct fb_shadow s = {0};
	size_t have = 4096 + 2, map_len;
	void *map;
	uint8_t *src = guarded(have, &map, &map_len);
	uint8_t dirty[2] = {0};

	if (!src)
		return TEST_SKIP;
	memset(src, 0xff, have);
	CHECK(fb_shadow_resize(&s, 64, 64) == 0);
	CHECK(fb_shadow_update(&s, src, have, 256, 32, dirty) == 4); /* tile row 0 */
	CHECK(dirty[0] == 0x0f && dirty[1] == 0);
	CHECK(s.px[15 * 64 + 63] == 0xffffff && s.px[16 * 64] == 0);
	/* the same at 16 bpp with a stride pointing far beyond the end */
	CHECK(fb_shadow_resize(&s, 64, 64) == 0);
	memset(dirty, 0, sizeof(dirty));
	CHECK(fb_shadow_update(&s, src, have, 0xffffffffu, 16, dirty) == 4); /* line 0 only */
	CHECK(s.px[63] == 0xffffff && s.px[64] == 0);
	/* a source of 3 bytes: not one whole pixel */
	CHECK(fb_shadow_resize(&s, 64, 64) == 0);
	CHECK(fb_shadow_update(&s, src + have - 3, 3, 256, 32, NULL) == 0);
	CHECK(fb_shadow_update(&s, src + have - 3, 3, 256, 16, NULL) == 1 && s.px[0] == 0xffffff);
	CHECK(s.px[1] == 0);
	munmap(map, map_len);
	fb_shadow_free(&s);
	return 0;
}

/* Strides other than width * 4: padded lines, and 0 (every line the same). */
static int t_stride(void)
{
	struct fb_shadow s = {0};
	static uint8_t src[40 * 4 * 20 + 64];
	uint8_t dirty[1] = {0};

	CHECK(fb_shadow_resize(&s, 20, 20) == 0);
	put32(src, 40 * 4, 19, 19, 0xabcdef);
	put32(src, 40 * 4, 25, 19, 0x111111); /* in the padding: not shown */
	CHECK(fb_shadow_update(&s, src, sizeof(src), 40 * 4, 32, dirty) == 1 && dirty[0] == 8);
	CHECK(s.px[19 * 20 + 19] == 0xabcdef && s.px[19 * 20 + 18] == 0);
	memset(dirty, 0, sizeof(dirty));
	/* every line is line 0 now: (19, 19) goes black, column 2 lights up */
	put32(src, 0, 2, 0, 0x010203);
	CHECK(fb_shadow_update(&s, src, sizeof(src), 0, 32, dirty) == 3 && dirty[0] == 0x0d);
	for (uint32_t y = 0; y < 20; y++)
		CHECK(s.px[y * 20 + 2] == 0x010203 && s.px[y * 20 + 19] == 0);
	fb_shadow_free(&s);
	return 0;
}

/* After a resize the shadow is black, so the first frame of the new mode
 * marks exactly the tiles that are not black. */
static int t_resize_update(void)
{
	struct fb_shadow s = {0};
	static uint8_t src[32 * 4 * 32];
	uint8_t dirty[1] = {0};

	memset(src, 0x40, sizeof(src));
	CHECK(fb_shadow_resize(&s, 16, 16) == 0);
	CHECK(fb_shadow_update(&s, src, sizeof(src), 16 * 4, 32, dirty) == 1);
	CHECK(fb_shadow_resize(&s, 32, 32) == 0);
	dirty[0] = 0;
	CHECK(fb_shadow_update(&s, src, sizeof(src), 32 * 4, 32, dirty) == 4 && dirty[0] == 0x0f);
	CHECK(s.px[32 * 32 - 1] == 0x404040);
	fb_shadow_free(&s);
	return 0;
}

TAP_MAIN(TEST(t_dirty_bytes), TEST(t_resize), TEST(t_dirty_exact), TEST(t_rgb565), TEST(t_bad_bpp),
	 TEST(t_src_len_bound), TEST(t_stride), TEST(t_resize_update))
