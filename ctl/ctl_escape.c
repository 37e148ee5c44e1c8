#include "ctl_escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at p (1..4) and its code point,
 * or 0 for a byte that starts none: a stray continuation byte, a truncated
 * sequence, an overlong form, a surrogate or a value past U+10FFFF. */
static size_t utf8_decode(const unsigned char *p, uint32_t *cp)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len;
	uint32_t c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		c = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Code points a terminal acts on or that reorder what is shown. */
static bool unsafe_code_point(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069);
}

size_t ctl_put_escaped(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t total = 0;
	char tmp[8];

	while (*p) {
		uint32_t c;
		size_t len = utf8_decode(p, &c), n;

		if (len == 0) {
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
			len = 1;
		} else if (c == '\\' || c == '\n' || c == '\t' || c == '\r') {
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\%c",
					     c == '\\'	 ? '\\'
					     : c == '\n' ? 'n'
					     : c == '\t' ? 't'
							 : 'r');
		} else if (c < 0x80 && unsafe_code_point(c)) {
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", (unsigned)c);
		} else if (unsafe_code_point(c)) {
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)c);
		} else {
			memcpy(tmp, p, len);
			n = len;
		}
		if (f)
			fwrite(tmp, 1, n, f);
		total += n;
		p += len;
	}
	return total;
}

char *ctl_utf8_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	/* the worst case: every byte as the 3 bytes of U+FFFD */
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	if (!out)
		return NULL;
	while (*p) {
		uint32_t c;
		size_t len = utf8_decode(p, &c);

		if (len == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
			continue;
		}
		memcpy(o, p, len);
		o += len;
		p += len;
	}
	*o = 0;
	return out;
}
