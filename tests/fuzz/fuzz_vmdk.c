/* libFuzzer target: the vmdk reader (devproc/blk/vmdk.c) on a hostile
 * image file in a memfd, opened read-only, a few reads (sector ranges
 * through a two-piece iovec, and one at an odd byte offset as a backing
 * is read), a write that must be refused, then info. The input is either
 *   - the image file itself (qemu-img images are the seed), or
 *   - 'T', 'S' or 'F', then patches (le16 offset, byte) applied to a
 *     small valid image the target builds: monolithicSparse ('T'),
 *     streamOptimized ('S'), the same with its header in a footer ('F':
 *     the header's directory "at the end"), 512-byte grains, 4 entries a table, an
 *     allocated grain, an unallocated one, a zero one, an absent table,
 *     so that mutations start from something that opens.
 * The last 8 bytes of the input choose the request offsets and lengths.
 * Invariants: no crash or sanitizer report; every call returns 0 or a
 * negative errno; a refusal says why; a writable open and a write are
 * refused; the file never changes. A descriptor naming a parent gets a
 * 64 KiB raw backing. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "vmdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEC	 512u
#define TPL_SIZE (10 * SEC)
#define TPL_F	 (TPL_SIZE + 3 * SEC) /* + footer marker, header copy, end marker */
#define MAX_FILE (4u << 20)

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* A grain of 512 bytes of c at host sector s: plain, or a marker (lba,
 * size) and its zlib stream. */
static void put_grain(uint8_t *t, unsigned s, uint64_t lba, uint8_t c, bool stream)
{
	uint8_t src[SEC];
	uLongf clen = SEC - 12;

	memset(src, c, sizeof(src));
	if (!stream) {
		memcpy(t + s * SEC, src, SEC);
		return;
	}
	if (compress(t + s * SEC + 12, &clen, src, SEC) != Z_OK)
		abort();
	le64(t + s * SEC, lba);
	le32(t + s * SEC + 8, (uint32_t)clen);
}

/* 16 KiB disk (32 sectors): header, descriptor at 1..2, directory at 3
 * (8 entries), tables at 4 and 5 (4 entries each), grains from 6. */
static void build_template(uint8_t *t, bool stream)
{
	char desc[2 * SEC];
	int n;

	memset(t, 0, TPL_SIZE);
	le32(t + 0, 0x564d444b);
	le32(t + 4, 3);
	le32(t + 8, 1u | 2u | (stream ? 3u << 16 : 0));
	le64(t + 12, 32);
	le64(t + 20, 1);
	le64(t + 28, 1);
	le64(t + 36, 2);
	le32(t + 44, 4);
	le64(t + 48, 0);
	le64(t + 56, 3);
	le64(t + 64, 6);
	memcpy(t + 73, "\n \r\n", 4);
	t[77] = stream ? 1 : 0;
	n = snprintf(desc, sizeof(desc),
		     "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
		     "createType=\"%s\"\n\n# Extent description\nRW 32 SPARSE \"t.vmdk\"\n",
		     stream ? "streamOptimized" : "monolithicSparse");
	memcpy(t + SEC, desc, (size_t)n);
	le32(t + 3 * SEC + 0, 4); /* guest sectors 0..3 */
	le32(t + 3 * SEC + 4, 5); /* 4..7; 8..31 no table */
	le32(t + 4 * SEC + 0, 6);
	le32(t + 4 * SEC + 8, 1); /* a zero grain */
	le32(t + 4 * SEC + 12, 7);
	le32(t + 5 * SEC + 0, 8);
	le32(t + 5 * SEC + 12, 9);
	put_grain(t, 6, 0, 0xa1, stream);
	put_grain(t, 7, 3, 0xa2, stream);
	put_grain(t, 8, 4, 0xa3, stream);
	put_grain(t, 9, 7, 0xa4, stream);
}

/* The stream template with its header copied into a footer and the
 * header's directory offset "at the end". */
static void build_footer(uint8_t *t)
{
	build_template(t, true);
	memset(t + TPL_SIZE, 0, 3 * SEC);
	le64(t + TPL_SIZE, 1);
	le32(t + TPL_SIZE + 12, 3); /* a footer marker */
	memcpy(t + TPL_SIZE + SEC, t, SEC);
	le64(t + 56, ~0ull);
}

static int fill_file(int fd, const uint8_t *data, size_t size)
{
	static uint8_t proto[3][TPL_F], tpl[TPL_F];
	static bool built;

	if (ftruncate(fd, 0) < 0)
		return -1;
	if (size && (data[0] == 'T' || data[0] == 'S' || data[0] == 'F')) {
		unsigned k = data[0] == 'T' ? 0 : data[0] == 'S' ? 1 : 2;
		unsigned len = k == 2 ? TPL_F : TPL_SIZE;

		if (!built) {
			build_template(proto[0], false);
			build_template(proto[1], true);
			build_footer(proto[2]);
			built = true;
		}
		memcpy(tpl, proto[k], len);
		for (size_t i = 1; i + 3 <= size; i += 3) {
			unsigned off = (data[i] | data[i + 1] << 8) % len;

			tpl[off] = data[i + 2];
		}
		return pwrite(fd, tpl, len, 0) == (ssize_t)len ? 0 : -1;
	}
	return pwrite(fd, data, size, 0) == (ssize_t)size ? 0 : -1;
}

/* A request range from two control bytes, whole sectors inside the disk,
 * at most 1 MiB. */
static void range(const struct blk_image *img, uint8_t a, uint8_t b, uint64_t *off, uint64_t *len)
{
	uint64_t sectors = blk_image_size(img) / 512;

	*off = sectors ? (uint64_t)a * 131 % sectors * 512 : 0;
	if (a & 0x80 && sectors)
		*off = (sectors - 1 - a % sectors) * 512;
	*len = (b & 0x80) ? (1 + b % 16) * 65536ull : (1 + b % 9) * 512ull;
	if (*off + *len > sectors * 512)
		*len = sectors * 512 - *off;
}

static void exercise(struct blk_image *img, const uint8_t *ctl)
{
	static uint8_t buf[1 << 20];
	struct blk_image_info info;
	uint64_t off, len;

	for (unsigned i = 0; i < 3; i++) {
		struct iovec v[2];

		range(img, ctl[2 * i], ctl[2 * i + 1], &off, &len);
		v[0] = (struct iovec){buf, len / 2 & ~511ull};
		v[1] = (struct iovec){buf + v[0].iov_len, len - v[0].iov_len};
		if (blk_image_read(img, v, 2, off) > 0)
			abort();
	}
	range(img, ctl[6], ctl[7], &off, &len);
	if (blk_image_read_clamped(img, buf, len < 700 ? len : 700, off + 3) > 0)
		abort();
	if (blk_image_size(img) >= 512) {
		struct iovec v = {buf, 512};

		if (blk_image_write(img, &v, 1, 0) != -EROFS ||
		    img->ops->write(img, &v, 1, 0) != -EROFS ||
		    img->ops->discard(img, 0, 512) != -EROFS ||
		    img->ops->write_zeroes(img, 0, 512) != -EROFS)
			abort();
	}
	if (blk_image_flush(img) > 0 || blk_image_info(img, &info) > 0 ||
	    strcmp(info.format, "vmdk") != 0 || info.size != blk_image_size(img))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1, bfd = -1;
	static uint8_t before[MAX_FILE], after[MAX_FILE];
	static const uint8_t no_ctl[8];
	const uint8_t *ctl = size >= 8 ? data + size - 8 : no_ctl;
	struct blk_image *img = NULL, *backing = NULL;
	struct vmdk_open_args a;
	char err[256];
	ssize_t n;
	int rc;

	if (size > MAX_FILE / 2)
		return 0;
	if (fd < 0) {
		static uint8_t b[65536];

		fd = memfd_create("fuzz-vmdk", 0);
		bfd = memfd_create("fuzz-vmdk-backing", 0);
		memset(b, 0x77, sizeof(b));
		if (fd < 0 || bfd < 0 || pwrite(bfd, b, sizeof(b), 0) != sizeof(b))
			abort();
	}
	if (fill_file(fd, data, size) < 0)
		abort();
	n = pread(fd, before, sizeof(before), 0);
	a = (struct vmdk_open_args){fd, false, NULL, err, sizeof(err)};
	if (vmdk_open(&a, &img) != -ENOTSUP || !strstr(err, "add ro"))
		abort();
	if (blk_raw_open(bfd, true, 0, &backing) < 0)
		abort();
	a = (struct vmdk_open_args){fd, true, backing, err, sizeof(err)};
	rc = vmdk_open(&a, &img);
	if (rc < 0) {
		a.backing = NULL;
		rc = vmdk_open(&a, &img);
	}
	if (rc == 0) {
		exercise(img, ctl);
		blk_image_close(img);
	} else if (rc > 0 || !err[0]) {
		abort(); /* every refusal says why */
	}
	blk_image_close(backing);
	if (pread(fd, after, sizeof(after), 0) != n || memcmp(before, after, (size_t)n))
		abort();
	return 0;
}
