/* The bochs-display function's registers (QEMU's -device bochs-display;
 * Linux's bochs.ko, SeaBIOS's vgabios-bochs-display and OVMF's
 * QemuVideoDxe drive it), as moat-display serves them in BAR2 (4 KiB of
 * MMIO). Video memory is BAR0: memory the guest writes directly, which
 * this model never touches; it only says where the picture is.
 *
 *   0x000-0x0FF  EDID (128 bytes, then zeros), read-only
 *   0x400-0x41F  VGA ports 0x3C0-0x3DF: absent (read 0xFF... as QEMU's
 *                bochs-display, which has no VGA; writes dropped)
 *   0x500-0x515  DISPI registers, 16 bits each at 0x500 + 2 * index:
 *                ID (0xB0C5), XRES, YRES, BPP, ENABLE, BANK, VIRT_WIDTH,
 *                VIRT_HEIGHT, X_OFFSET, Y_OFFSET, VIDEO_MEMORY_64K (the
 *                video memory's size in 64 KiB units, read-only)
 *   0x600-0x607  QEMU extension: its size (8, read-only), then the
 *                framebuffer byte order (0x1e1e1e1e little endian, the
 *                only one shown; 0xbebebebe is kept but shows nothing)
 *
 * Pure: the guest is hostile, every value it writes is only stored, and
 * bochs_get_scanout decides whether the registers describe a picture that
 * fits in video memory. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define BOCHS_MMIO_SIZE	 0x1000
#define BOCHS_EDID_OFF	 0x000
#define BOCHS_DISPI_OFF	 0x500
#define BOCHS_QEXT_OFF	 0x600
#define BOCHS_DISPI_ID5	 0xB0C5
#define BOCHS_NR_REGS	 11 /* ID .. VIDEO_MEMORY_64K */
#define BOCHS_ENABLED	 0x01
#define BOCHS_LFB	 0x40

struct bochs {
	uint16_t reg[BOCHS_NR_REGS];
	uint64_t vram_size; /* bytes, a multiple of 64 KiB */
	uint32_t endian;
	uint8_t edid[128];
	uint64_t writes; /* register writes, for the counters */
};

/* What the guest's registers show now: a picture of width x height at
 * bpp bits per pixel (32 or 16), lines stride bytes apart, starting at
 * byte offset of video memory. */
struct bochs_scanout {
	uint32_t width, height, bpp, stride;
	uint64_t offset;
};

/* Out of reset: display off, EDID for a preferred mode of pref_w x
 * pref_h (1024 x 768 if 0). vram_size: a multiple of 64 KiB, at most
 * 4 GiB - 64 KiB (VIDEO_MEMORY_64K is 16 bits). */
void bochs_init(struct bochs *b, uint64_t vram_size, uint32_t pref_w, uint32_t pref_h);
/* As firmware would leave it for a direct kernel boot's vesafb: w x h at
 * bpp, linear framebuffer on, at offset 0. */
void bochs_preset(struct bochs *b, uint32_t w, uint32_t h, uint32_t bpp);
/* One access to BAR2 at off (size 1, 2, 4 or 8): reads fill *data. */
void bochs_mmio(struct bochs *b, uint64_t off, unsigned size, bool is_write, uint64_t *data);
/* The picture the registers describe, if there is one: enabled, bpp 32
 * or 16, width and height 1..FB_MAX, a stride (VIRT_WIDTH, at least the
 * width) and X/Y offsets that keep every line inside video memory, little
 * endian. false: nothing to show (a blank screen). */
bool bochs_get_scanout(const struct bochs *b, struct bochs_scanout *out);

/* The EDID block (EDID 1.4, 128 bytes, checksummed) of a monitor whose
 * preferred mode is w x h at 60 Hz, with the usual lower modes listed. */
void edid_build(uint8_t out[128], uint32_t w, uint32_t h);
