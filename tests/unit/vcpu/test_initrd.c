/* initrd_check: whole archives pass, cut or damaged ones are named. */
#include <string.h>
#include <zlib.h>

#include "initrd_check.h"
#include "tap.h"

static size_t make_gzip(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	z_stream z = {0};

	deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (uint8_t *)in;
	z.avail_in = len;
	z.next_out = out;
	z.avail_out = cap;
	deflate(&z, Z_FINISH);
	deflateEnd(&z);
	return z.total_out;
}

static uint8_t data[100000], gz[120000];

static int t_gzip(void)
{
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 300);
	size_t n = make_gzip(data, sizeof(data), gz, sizeof(gz));
	CHECK(n > 100);
	CHECK(initrd_check(gz, n) == NULL);
	/* Truncated at many points, including inside the trailer. */
	for (size_t cut = 2; cut < n; cut += (cut < n - 16 ? 97 : 1))
		CHECK(initrd_check(gz, cut) != NULL);
	/* A flipped byte in the middle: corrupt or CRC mismatch. */
	gz[n / 2] ^= 0x55;
	CHECK(initrd_check(gz, n) != NULL);
	gz[n / 2] ^= 0x55;
	/* Two members back to back, then zero padding: fine. */
	memcpy(gz + n, gz, n);
	memset(gz + 2 * n, 0, 100);
	CHECK(initrd_check(gz, 2 * n + 100) == NULL);
	return 0;
}

static int t_cpio_and_others(void)
{
	const char whole[] = "070701000000...name\0TRAILER!!!\0\0\0\0";
	const char cut[] = "070701000000...name\0TRAI";

	CHECK(initrd_check((const uint8_t *)whole, sizeof(whole)) == NULL);
	CHECK(initrd_check((const uint8_t *)cut, sizeof(cut)) != NULL);
	/* Formats moat does not check pass through. */
	CHECK(initrd_check((const uint8_t *)"\xfd" "7zXZ", 5) == NULL);
	CHECK(initrd_check((const uint8_t *)"\x1f", 1) == NULL);
	return 0;
}

TAP_MAIN(TEST(t_gzip), TEST(t_cpio_and_others))
