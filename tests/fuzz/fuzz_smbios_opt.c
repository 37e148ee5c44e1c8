/* libFuzzer target: smbios_parse_option() on arbitrary text, then
 * smbios_write() with whatever it accepted. The input is split at '\n'
 * into options. Checked: the error line is set exactly on failure and is
 * one printable line; a failed option changes nothing; every accepted
 * string is short and printable; the table that results has valid
 * checksums and walks cleanly to its end. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_opt.h"
#include "guest_layout.h"
#include "bytes.h"
#include "smbios.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* Walk the structures as Linux does; every string short and printable. */
static void check_table(const uint8_t *buf, size_t used)
{
	const uint8_t *p = buf + 32, *end = buf + used;
	unsigned n = 0, count = le16_get(buf + 0x1C);

	if (sum(buf, 0x1F) || sum(buf + 16, 15) || used != 32 + (size_t)le16_get(buf + 0x16))
		abort();
	while (p < end) {
		const uint8_t *s = p + p[1];

		if (p[1] < 4 || s > end)
			abort();
		while (s < end && *s) {
			size_t l = strnlen((const char *)s, (size_t)(end - s));

			if (l > SMBIOS_STR_MAX || s + l >= end)
				abort();
			for (size_t k = 0; k < l; k++)
				if (s[k] < 0x20 || s[k] == 0x7F)
					abort();
			s += l + 1;
		}
		if (s >= end || *s)
			abort();
		/* no strings: two NULs right after the formatted part */
		if (s == p + p[1] && (s + 1 >= end || s[1]))
			abort();
		p = s + (s == p + p[1] ? 2 : 1);
		n++;
	}
	if (p != end || n != count)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[MOAT_BIOS_END - MOAT_SMBIOS_GPA];
	struct smbios_info info, before;
	char opt[4096], err[96];
	size_t pos = 0, used = 0;

	smbios_info_init(&info, 1ULL << 30, 2);
	if (size && (data[0] & 1))
		smbios_apple_defaults(&info);
	while (pos < size) {
		int r;

		fuzz_next_opt(data, size, &pos, opt, sizeof(opt));
		memcpy(&before, &info, sizeof(info));
		r = smbios_parse_option(&info, opt, err, sizeof(err));
		fuzz_check_err(r, err);
		if (r && memcmp(&before, &info, sizeof(info)))
			abort();
	}
	if (smbios_write(buf, sizeof(buf), MOAT_SMBIOS_GPA, &info, &used))
		abort();
	check_table(buf, used);
	return 0;
}
