#include "fwimage.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* EFI_FIRMWARE_VOLUME_HEADER (PI spec, volume 3): FvLength at 0x20,
 * Signature at 0x28, HeaderLength at 0x30; the fixed part is 0x48 bytes
 * with its one-entry block map and terminator. */
#define FV_LENGTH_OFF 0x20
#define FV_SIG_OFF    0x28
#define FV_HDRLEN_OFF 0x30
#define FV_MIN_HEADER 0x48
#define FAR_JMP	      0xEA

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static bool is_fv(const uint8_t *p, size_t len)
{
	return len >= FV_MIN_HEADER && memcmp(p + FV_SIG_OFF, "_FVH", 4) == 0;
}

/* The volumes must follow each other and end exactly at the file's end:
 * a truncated image fails here, not half-way through the guest's boot. */
static int fv_chain(const uint8_t *p, size_t len, const char *what, char *why, size_t whylen)
{
	size_t off = 0;

	while (off < len) {
		uint64_t fvlen, hdr;
		if (!is_fv(p + off, len - off)) {
			snprintf(why, whylen, "%s has no firmware volume at offset %#zx: damaged",
				 what, off);
			return -EINVAL;
		}
		fvlen = le(p + off + FV_LENGTH_OFF, 8);
		hdr = le(p + off + FV_HDRLEN_OFF, 2);
		if (hdr < FV_MIN_HEADER || fvlen < hdr || fvlen % 8) {
			snprintf(why, whylen, "%s: the firmware volume at offset %#zx is damaged",
				 what, off);
			return -EINVAL;
		}
		if (fvlen > len - off) {
			snprintf(why, whylen,
				 "%s is truncated: the firmware volume at offset %#zx needs %#llx "
				 "bytes, the file has %#zx",
				 what, off, (unsigned long long)fvlen, len - off);
			return -EINVAL;
		}
		off += fvlen;
	}
	return 0;
}

int fw_image_check(const uint8_t *code, size_t code_len, const uint8_t *vars, size_t vars_len,
		   enum fw_kind *kind, char *why, size_t whylen)
{
	if (!code || code_len == 0 || (vars_len && !vars)) {
		snprintf(why, whylen, "the firmware is empty");
		return -EINVAL;
	}
	if (code_len > FW_ROM_MAX || vars_len > FW_ROM_MAX - code_len ||
	    (code_len + vars_len) % 4096) {
		snprintf(why, whylen,
			 "the firmware (%zu bytes with its variable store) is not a whole number "
			 "of 4 KiB pages up to %u MiB",
			 code_len + vars_len, FW_ROM_MAX >> 20);
		return -EINVAL;
	}
	if (is_fv(code, code_len)) {
		if (fv_chain(code, code_len, "the UEFI firmware", why, whylen) < 0)
			return -EINVAL;
		if (!vars_len) {
			snprintf(why, whylen, "the UEFI firmware needs a variable store (vars=)");
			return -EINVAL;
		}
		if (fv_chain(vars, vars_len, "the variable store", why, whylen) < 0)
			return -EINVAL;
		*kind = FW_UEFI;
		return 0;
	}
	if (code_len % FW_BIOS_UNIT || code[code_len - 16] != FAR_JMP) {
		snprintf(why, whylen,
			 "the firmware is neither UEFI (no firmware volume header) nor a BIOS "
			 "(a whole number of 64 KiB ending in a reset vector): not firmware, or "
			 "truncated");
		return -EINVAL;
	}
	if (vars_len) {
		snprintf(why, whylen, "vars= is for UEFI firmware; this is a BIOS");
		return -EINVAL;
	}
	*kind = FW_BIOS;
	return 0;
}
