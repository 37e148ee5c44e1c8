/* libFuzzer target: fw_image_check() on arbitrary firmware files. The
 * first byte splits the input into code and a variable store; an image
 * accepted as UEFI must really be a chain of volumes covering each file,
 * an accepted BIOS a whole number of 64 KiB ending in a far jump, and a
 * refusal must say why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int covered(const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		uint64_t l = 0;
		if (len - off < 0x48 || memcmp(p + off + 0x28, "_FVH", 4) != 0)
			return 0;
		for (unsigned i = 8; i-- > 0;)
			l = l << 8 | p[off + 0x20 + i];
		if (l == 0 || l > len - off)
			return 0;
		off += l;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256] = "";
	enum fw_kind kind = 0;
	size_t split;
	uint8_t *code, *vars;
	size_t code_len, vars_len;

	if (size < 1)
		return 0;
	/* Real images are a whole number of pages: scale the split so small
	 * inputs still reach the accepting paths (lengths padded with 0). */
	split = (size_t)data[0] * 4096;
	data++, size--;
	code_len = (size + 4095) & ~(size_t)4095;
	code = calloc(1, code_len ? code_len : 1);
	memcpy(code, data, size);
	vars_len = split < code_len ? code_len - split : 0;
	code_len -= vars_len;
	vars = vars_len ? code + code_len : NULL;
	if (fw_image_check(code, code_len, vars, vars_len, &kind, why, sizeof(why)) == 0) {
		if (kind == FW_UEFI && (!covered(code, code_len) || !covered(vars, vars_len)))
			abort();
		if (kind == FW_BIOS &&
		    (code_len % FW_BIOS_UNIT || code[code_len - 16] != 0xea || vars_len))
			abort();
		if (kind != FW_UEFI && kind != FW_BIOS)
			abort();
	} else if (!why[0]) {
		abort();
	}
	free(code);
	return 0;
}
