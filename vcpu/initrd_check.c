#include "initrd_check.h"

#include <string.h>
#include <zlib.h>

#define CPIO_TRAILER "TRAILER!!!"

/* Inflate every concatenated gzip member; zlib verifies each trailer. */
static const char *check_gzip(const uint8_t *buf, size_t len)
{
	static uint8_t sink[64 * 1024];
	z_stream z;
	int r;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return "cannot initialise zlib";
	z.next_in = (uint8_t *)buf;
	z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
	for (;;) {
		z.next_out = sink;
		z.avail_out = sizeof(sink);
		r = inflate(&z, Z_NO_FLUSH);
		if (r == Z_STREAM_END) {
			/* Another member may follow; trailing zero padding is fine. */
			while (z.avail_in && *z.next_in == 0) {
				z.next_in++;
				z.avail_in--;
			}
			if (!z.avail_in)
				break;
			if (inflateReset(&z) != Z_OK) {
				r = Z_DATA_ERROR;
				break;
			}
			continue;
		}
		if (r != Z_OK)
			break;
	}
	inflateEnd(&z);
	if (r == Z_STREAM_END)
		return NULL;
	if (r == Z_BUF_ERROR)
		return "gzip data ends early (truncated file?)";
	return "gzip data is corrupt";
}

/* A newc archive ends with a TRAILER!!! entry. It may be followed by a
 * compressed archive (early microcode then the real initramfs, as Debian's
 * initrd.img), so any trailer will do; a cut-off lone archive has none. */
static const char *check_cpio(const uint8_t *buf, size_t len)
{
	if (memmem(buf, len, CPIO_TRAILER, strlen(CPIO_TRAILER)))
		return NULL;
	return "cpio archive has no trailer (truncated file?)";
}

const char *initrd_check(const uint8_t *buf, size_t len)
{
	if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
		return check_gzip(buf, len);
	if (len >= 6 && memcmp(buf, "070701", 6) == 0)
		return check_cpio(buf, len);
	return NULL;
}
