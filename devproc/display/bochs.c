/* The bochs-display function's BAR2 registers (see bochs.h for the map).
 *
 * References, read to learn the behaviour (no code taken):
 *  - QEMU hw/display/bochs-display.c and bochs-vbe.h: the DISPI block is
 *    eleven 16-bit registers at 0x500 (0x500-0x515); ID always reads
 *    0xB0C5 and VIDEO_MEMORY_64K the video memory's size, writes to both
 *    are dropped; every other register keeps what the guest wrote, with
 *    no side effect (no GETCAPS, no fix-ups of VIRT_WIDTH as std-vga
 *    has). The QEMU extension at 0x600 is two 32-bit registers: its size
 *    (8) and the byte order, set only by the two magic values. Offsets
 *    that no region covers read as all ones. A mode is shown when
 *    ENABLED is set, bpp is 16 or 32, and offset + stride * height fits;
 *    the stride is max(VIRT_WIDTH, XRES) * bytes per pixel.
 *  - Linux 6.1 drivers/gpu/drm/tiny/bochs.c: readw/writew on the DISPI
 *    registers, readl of 0x600 (size 4..BAR size) on revision 2, writel
 *    of the byte order, readb of the EDID, and page flips through
 *    VIRT_WIDTH, X_OFFSET and Y_OFFSET.
 *
 * Choices of ours where QEMU's is an accident of its memory API:
 *  - Every access is split into bytes, each read from or written to the
 *    register that covers it: a 1-byte access at 0x501 is the high byte
 *    of ID (QEMU reads the whole register and keeps the low byte), a
 *    1-byte write changes one byte of a register (QEMU clears the other),
 *    an access that runs past a region's end reads 0xFF there, and
 *    8-byte accesses (QEMU refuses them) are split the same way.
 *  - The byte order register takes only a write of all four of its
 *    bytes at once (writel, or 8 bytes at 0x600); a partial write is
 *    dropped, as QEMU drops any access to it that is not 4 bytes.
 *  - 16 bpp needs little endian too, where QEMU shows it whatever the
 *    byte order register says; and width and height start at 1, where
 *    QEMU shows nothing below 64 x 64. */
#include <string.h>

#include "bochs.h"
#include "fb_shadow.h"

#define DISPI_ID	   0
#define DISPI_XRES	   1
#define DISPI_YRES	   2
#define DISPI_BPP	   3
#define DISPI_ENABLE	   4
#define DISPI_BANK	   5
#define DISPI_VIRT_WIDTH   6
#define DISPI_VIRT_HEIGHT  7
#define DISPI_X_OFFSET	   8
#define DISPI_Y_OFFSET	   9
#define DISPI_VIDEO_MEM64K 10

#define EDID_REGION    0x100 /* 0x000-0x0FF: the block, then zeros */
#define DISPI_END      (BOCHS_DISPI_OFF + 2 * BOCHS_NR_REGS)
#define QEXT_SIZE      8
#define QEXT_BYTEORDER 4 /* offset of the byte order register */
#define QEXT_LITTLE    0x1e1e1e1eu
#define QEXT_BIG       0xbebebebeu
#define VRAM_UNIT      0x10000ull
#define VRAM_MAX       (0x100000000ull - VRAM_UNIT)
#define PREF_W_DEFAULT 1024
#define PREF_H_DEFAULT 768

/* The value a DISPI register reads as. */
static uint16_t dispi_get(const struct bochs *b, unsigned idx)
{
	switch (idx) {
	case DISPI_ID:
		return BOCHS_DISPI_ID5;
	case DISPI_VIDEO_MEM64K:
		return (uint16_t)(b->vram_size / VRAM_UNIT);
	default:
		return b->reg[idx];
	}
}

/* A guest write of a whole register: ID and VIDEO_MEMORY_64K are
 * read-only; everything else is stored as it is and judged only by
 * bochs_get_scanout(). */
static void dispi_set(struct bochs *b, unsigned idx, uint16_t val)
{
	if (idx == DISPI_ID || idx == DISPI_VIDEO_MEM64K)
		return;
	b->reg[idx] = val;
}

static uint32_t qext_get(const struct bochs *b, unsigned reg_off)
{
	return reg_off == 0 ? QEXT_SIZE : b->endian;
}

/* One byte of BAR2 as the guest reads it; a in 0..BOCHS_MMIO_SIZE-1. */
static uint8_t read_byte(const struct bochs *b, unsigned a)
{
	if (a < EDID_REGION)
		return a < sizeof(b->edid) ? b->edid[a] : 0;
	if (a >= BOCHS_DISPI_OFF && a < DISPI_END) {
		unsigned rel = a - BOCHS_DISPI_OFF;

		return (uint8_t)(dispi_get(b, rel / 2) >> (8 * (rel % 2)));
	}
	if (a >= BOCHS_QEXT_OFF && a < BOCHS_QEXT_OFF + QEXT_SIZE) {
		unsigned rel = a - BOCHS_QEXT_OFF;

		return (uint8_t)(qext_get(b, rel & ~3u) >> (8 * (rel % 4)));
	}
	return 0xFF; /* the VGA ports and every gap: nothing there */
}

/* A write of the bytes v[0..n) at BAR2 offset a (all inside BAR2): the
 * DISPI registers touched are updated once each, a byte at a time merged
 * into the old value; the byte order register only when all four bytes
 * are written; anything else is dropped. */
static void write_bytes(struct bochs *b, unsigned a, const uint8_t *v, unsigned n)
{
	for (unsigned i = 0; i < n;) {
		unsigned at = a + i;

		if (at >= BOCHS_DISPI_OFF && at < DISPI_END) {
			unsigned idx = (at - BOCHS_DISPI_OFF) / 2;
			uint16_t val = dispi_get(b, idx);

			for (; i < n && (a + i - BOCHS_DISPI_OFF) / 2 == idx; i++) {
				unsigned shift = 8 * ((a + i - BOCHS_DISPI_OFF) % 2);

				val =
				    (uint16_t)((val & ~(0xFFu << shift)) | (unsigned)v[i] << shift);
			}
			dispi_set(b, idx, val);
		} else if (at == BOCHS_QEXT_OFF + QEXT_BYTEORDER && n - i >= 4) {
			uint32_t val = (uint32_t)v[i] | (uint32_t)v[i + 1] << 8 |
				       (uint32_t)v[i + 2] << 16 | (uint32_t)v[i + 3] << 24;

			if (val == QEXT_LITTLE || val == QEXT_BIG)
				b->endian = val;
			i += 4;
		} else {
			i++;
		}
	}
}

/* Out of reset, as QEMU's bochs-display is when created: every register
 * zero (ID and VIDEO_MEMORY_64K read their fixed values whatever is
 * stored), little endian, and the EDID built for the preferred mode.
 * vram_size is rounded down to 64 KiB and held to 4 GiB - 64 KiB, so
 * VIDEO_MEMORY_64K always tells the size the model checks against. */
void bochs_init(struct bochs *b, uint64_t vram_size, uint32_t pref_w, uint32_t pref_h)
{
	memset(b, 0, sizeof(*b));
	if (vram_size > VRAM_MAX)
		vram_size = VRAM_MAX;
	b->vram_size = vram_size & ~(VRAM_UNIT - 1);
	b->reg[DISPI_ID] = BOCHS_DISPI_ID5;
	b->reg[DISPI_VIDEO_MEM64K] = (uint16_t)(b->vram_size / VRAM_UNIT);
	b->endian = QEXT_LITTLE;
	if (pref_w == 0 || pref_h == 0) {
		pref_w = PREF_W_DEFAULT;
		pref_h = PREF_H_DEFAULT;
	}
	edid_build(b->edid, pref_w, pref_h);
}

/* The registers as Linux's bochs_hw_setmode() leaves them: VIRT_HEIGHT
 * is as many lines as fit in video memory (at most 0xFFFF). The values
 * are stored as they are: bochs_get_scanout() still judges them. */
void bochs_preset(struct bochs *b, uint32_t w, uint32_t h, uint32_t bpp)
{
	uint64_t stride = (uint64_t)w * (bpp / 8);
	uint64_t vh = stride ? b->vram_size / stride : 0;

	b->reg[DISPI_ENABLE] = 0;
	b->reg[DISPI_BPP] = (uint16_t)bpp;
	b->reg[DISPI_XRES] = (uint16_t)w;
	b->reg[DISPI_YRES] = (uint16_t)h;
	b->reg[DISPI_BANK] = 0;
	b->reg[DISPI_VIRT_WIDTH] = (uint16_t)w;
	b->reg[DISPI_VIRT_HEIGHT] = (uint16_t)(vh > 0xFFFF ? 0xFFFF : vh);
	b->reg[DISPI_X_OFFSET] = 0;
	b->reg[DISPI_Y_OFFSET] = 0;
	b->reg[DISPI_ENABLE] = BOCHS_ENABLED | BOCHS_LFB;
	b->endian = QEXT_LITTLE;
}

/* One guest access. A read fills *data with size bytes, little endian,
 * zero above them; a write takes the low size bytes of *data. Bytes past
 * the end of BAR2 read 0xFF and are dropped on write; a size other than
 * 1, 2, 4 or 8 reads all ones and writes nothing. Every write access of
 * a valid size is counted in b->writes, whatever it lands on. */
void bochs_mmio(struct bochs *b, uint64_t off, unsigned size, bool is_write, uint64_t *data)
{
	uint8_t v[8];
	unsigned n = 0;

	if (!data)
		return;
	if (size != 1 && size != 2 && size != 4 && size != 8) {
		if (!is_write)
			*data = ~0ull;
		return;
	}
	if (is_write) {
		b->writes++;
		if (off >= BOCHS_MMIO_SIZE)
			return;
		for (unsigned i = 0; i < size; i++)
			v[i] = (uint8_t)(*data >> (8 * i));
		n = BOCHS_MMIO_SIZE - off < size ? (unsigned)(BOCHS_MMIO_SIZE - off) : size;
		write_bytes(b, (unsigned)off, v, n);
		return;
	}
	*data = 0;
	for (unsigned i = 0; i < size; i++) {
		uint8_t byte = 0xFF;

		if (off < BOCHS_MMIO_SIZE && i < BOCHS_MMIO_SIZE - off)
			byte = read_byte(b, (unsigned)off + i);
		*data |= (uint64_t)byte << (8 * i);
	}
}

/* See bochs.h. Mirrors QEMU's bochs_display_get_mode() with a stricter
 * size range (1..FB_MAX) and byte order; the end of the picture is
 * computed in 64 bits, where nothing the 16-bit registers hold can
 * overflow. *out is written only when true. */
bool bochs_get_scanout(const struct bochs *b, struct bochs_scanout *out)
{
	uint32_t w = b->reg[DISPI_XRES], h = b->reg[DISPI_YRES];
	uint32_t bpp = b->reg[DISPI_BPP], vw = b->reg[DISPI_VIRT_WIDTH];
	uint32_t bytepp, stride;
	uint64_t offset, size;

	if (!(b->reg[DISPI_ENABLE] & BOCHS_ENABLED) || b->endian != QEXT_LITTLE)
		return false;
	if (bpp != 32 && bpp != 16)
		return false;
	if (w == 0 || h == 0 || w > FB_MAX_W || h > FB_MAX_H)
		return false;
	bytepp = bpp / 8;
	if (vw < w) /* as QEMU: a VIRT_WIDTH below the width is the width */
		vw = w;
	stride = vw * bytepp;
	offset =
	    (uint64_t)b->reg[DISPI_Y_OFFSET] * stride + (uint64_t)b->reg[DISPI_X_OFFSET] * bytepp;
	size = (uint64_t)stride * h;
	if (offset > b->vram_size || size > b->vram_size - offset)
		return false;
	if (out)
		*out = (struct bochs_scanout){
		    .width = w, .height = h, .bpp = bpp, .stride = stride, .offset = offset};
	return true;
}
