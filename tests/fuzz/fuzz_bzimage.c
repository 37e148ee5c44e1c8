/* libFuzzer target: bzimage_parse() on arbitrary bytes and, when it accepts
 * them, the zero-page and e820 writers, plus the invariants the loader relies
 * on (the kernel lies inside the file, the header inside boot_params). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bzimage.h"
#include "e820.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t tail64(const uint8_t *data, size_t size)
{
	uint64_t v = 0;

	if (size >= 8)
		memcpy(&v, data + size - 8, 8);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t zp[BOOT_PARAMS_SIZE];
	struct e820_entry map[E820_MOAT_MAX_ENTRIES];
	struct bzimage_info bi;
	const char *why = NULL;
	uint64_t t = tail64(data, size);
	unsigned n = 0;

	if (bzimage_parse(data, size, &bi, &why) < 0) {
		if (!why)
			abort();
		return 0;
	}
	if (bi.kernel_off + bi.kernel_size != size || bi.kernel_size == 0 ||
	    bi.hdr_end > BZ_HDR_MAX_END || bi.hdr_end > size || bi.init_size < bi.kernel_size)
		abort();

	/* Addresses from the image's last bytes reach the range checks. */
	if (bzimage_fill_zero_page(zp, data, size, &bi, 0x20000, (uint32_t)t, t >> 8,
				   t & 0xFFFFFFFF, &why) < 0 &&
	    !why)
		abort();
	if (bzimage_fill_zero_page(zp, data, size, &bi, 0x20000, 0, 0x10000000, 0x100000, &why) < 0)
		return 0;
	if (zp[0x210] != 0xFF || memcmp(zp + BZ_HDR_START + 1, data + BZ_HDR_START + 1, 8) != 0)
		abort();
	if (e820_build(MOAT_MEM_MIN << (t & 7), map, E820_MOAT_MAX_ENTRIES, &n) < 0 ||
	    bootparams_set_e820(zp, map, n) < 0)
		abort();
	return 0;
}
