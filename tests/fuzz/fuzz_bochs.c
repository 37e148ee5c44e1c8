/* libFuzzer target: the bochs-display registers (devproc/display/bochs.c)
 * and the EDID (edid.c) under arbitrary guest MMIO. The input:
 *   byte 0:    video memory size: bits 0-1 pick 64 KiB, 4 MiB, 16 MiB or
 *              4 GiB - 64 KiB; bit 2: start from bochs_preset() of the
 *              size in bytes 1-4 instead of reset
 *   bytes 1-4: the preferred size, 16 bits each, little endian (and the
 *              preset's, at 32 bpp if bit 3 of byte 0, else 16)
 *   then operations of 2 bytes plus, for a write, the value's bytes:
 *   byte 0: bits 0-1 size (1, 2, 4, 8), bit 2 write, bits 3-5 where:
 *           0-2 the DISPI block 0x500 + (byte 1 & 0x1F), past its end too;
 *           3 the QEMU extension 0x600 + (byte 1 & 0xF); 4 the EDID,
 *           byte 1; 5 the VGA ports 0x400 + (byte 1 & 0x3F); 6 anywhere
 *           in 0..0x10F2, past the end of BAR2 too: byte 1 * 17 + bits
 *           6-7; 7 the very top of the 64-bit space: ~0 - byte 1
 *   byte 1: the offset within the place
 * After each operation, a scanout the model shows must fit in video
 * memory with sane sizes; at the end ID, the memory size and the EDID
 * (byte for byte as built, checksummed) must be unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bochs.h"
#include "fb_shadow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint64_t vram_sizes[4] = {1ull << 16, 4ull << 20, 16ull << 20,
				       (1ull << 32) - (1ull << 16)};

static void check_scanout(const struct bochs *b)
{
	struct bochs_scanout s;
	uint32_t bytepp;

	if (!bochs_get_scanout(b, &s))
		return;
	if (s.bpp != 32 && s.bpp != 16)
		abort();
	bytepp = s.bpp / 8;
	if (!s.width || s.width > FB_MAX_W || !s.height || s.height > FB_MAX_H)
		abort();
	if (s.stride < s.width * bytepp || s.stride % bytepp)
		abort();
	if (s.offset > b->vram_size || (uint64_t)s.stride * s.height > b->vram_size - s.offset)
		abort();
}

/* The BAR2 offset an operation aims at (see the top of the file). */
static uint64_t op_offset(uint8_t ctl, uint8_t arg)
{
	switch (ctl >> 3 & 7) {
	case 0:
	case 1:
	case 2:
		return BOCHS_DISPI_OFF + (arg & 0x1F);
	case 3:
		return BOCHS_QEXT_OFF + (arg & 0xF);
	case 4:
		return arg;
	case 5:
		return 0x400 + (arg & 0x3F);
	case 6:
		return (uint64_t)arg * 17 + (ctl >> 6);
	default:
		return UINT64_MAX - arg;
	}
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bochs b;
	uint8_t edid[128], sum = 0;
	uint32_t pw, ph;
	uint64_t v;
	size_t i;

	if (size < 5)
		return 0;
	pw = le16(data + 1);
	ph = le16(data + 3);
	bochs_init(&b, vram_sizes[data[0] & 3], pw, ph);
	if (data[0] & 4)
		bochs_preset(&b, pw, ph, data[0] & 8 ? 32 : 16);
	check_scanout(&b);
	memcpy(edid, b.edid, sizeof(edid));
	for (i = 5; i + 2 <= size;) {
		uint8_t ctl = data[i];
		unsigned n = 1u << (ctl & 3);
		uint64_t off = op_offset(ctl, data[i + 1]);

		i += 2;
		if (ctl & 4) {
			v = 0;
			for (unsigned k = 0; k < n && i < size; k++, i++)
				v |= (uint64_t)data[i] << (8 * k);
			bochs_mmio(&b, off, n, true, &v);
		} else {
			bochs_mmio(&b, off, n, false, &v);
			if (n < 8 && v >> (8 * n))
				abort(); /* bytes above the access must be zero */
		}
		check_scanout(&b);
	}
	v = 0;
	bochs_mmio(&b, BOCHS_DISPI_OFF, 2, false, &v);
	if (v != BOCHS_DISPI_ID5)
		abort();
	bochs_mmio(&b, BOCHS_DISPI_OFF + 20, 2, false, &v);
	if (v != b.vram_size >> 16)
		abort();
	for (unsigned k = 0; k < sizeof(edid); k++) {
		bochs_mmio(&b, k, 1, false, &v);
		if (v != edid[k])
			abort();
		sum = (uint8_t)(sum + v);
	}
	if (sum != 0 || edid[0] != 0 || edid[1] != 0xFF || edid[7] != 0 || edid[18] != 1)
		abort();
	return 0;
}
