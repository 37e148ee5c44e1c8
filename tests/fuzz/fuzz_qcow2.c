/* libFuzzer target: the qcow2 parser (devproc/blk/qcow2*.c) on a hostile
 * image file in a memfd, opened read-only and writable, with a few reads,
 * writes, write-zeroes and discards, then info. The input is either
 *   - the image file itself (a corpus of qemu-img images is the seed), or
 *   - 'T', then patches (le16 offset, byte) applied to a small valid
 *     image the target builds (512-byte clusters, a data cluster, a
 *     compressed one, a zero one), so that mutations start from
 *     something that opens.
 * The last 8 bytes of the input choose the request offsets and lengths.
 * Invariants: no crash or sanitizer report; a read-only open never
 * changes the file; every call returns 0 or a negative errno. A header
 * that names a backing file gets a 64 KiB raw backing. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "qcow2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CS	 512u
#define TPL_SIZE (8 * CS)
#define MAX_FILE (4u << 20) /* the file only ever grows this much per input */

static void be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* A v3 image of 64 KiB, 512-byte clusters: header (with a backing format
 * extension and no backing name), refcount table at 1, refcount block at
 * 2, L1 at 3, L2 at 4, a data cluster at 5, a compressed cluster at 6, and
 * guest cluster 2 a zero cluster. */
static void build_template(uint8_t *t)
{
	uint8_t *l2 = t + 4 * CS;
	uint8_t src[CS];
	uLongf clen = CS;
	z_stream z = {0};

	memset(t, 0, TPL_SIZE);
	be32(t + 0, 0x514649fb);
	be32(t + 4, 3);
	be32(t + 20, 9);
	be64(t + 24, 64 * 1024);
	be32(t + 36, 2); /* 2 L1 entries: 64 KiB / (512 * 64) */
	be64(t + 40, 3 * CS);
	be64(t + 48, 1 * CS);
	be32(t + 56, 1);
	be32(t + 96, 4);
	be32(t + 100, 104);
	be32(t + 104, 0xe2792aca);
	be32(t + 108, 3);
	memcpy(t + 112, "raw", 3);
	be64(t + 1 * CS, 2 * CS);
	for (unsigned i = 0; i < 7; i++)
		t[2 * CS + 2 * i + 1] = 1;
	be64(t + 3 * CS, (4 * CS) | (1ull << 63));
	be64(l2 + 0, (5 * CS) | (1ull << 63));
	memset(t + 5 * CS, 0xab, CS);
	/* guest cluster 1: deflate of 512 bytes of 0xcd at host 6 * 512 */
	memset(src, 0xcd, sizeof(src));
	if (deflateInit2(&z, 9, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) == Z_OK) {
		z.next_in = src;
		z.avail_in = CS;
		z.next_out = t + 6 * CS;
		z.avail_out = CS;
		deflate(&z, Z_FINISH);
		clen = CS - z.avail_out;
		deflateEnd(&z);
	}
	(void)clen;
	be64(l2 + 8, (1ull << 62) | (6 * CS)); /* one sector */
	be64(l2 + 16, 1);		       /* zero cluster */
}

static int fill_file(int fd, const uint8_t *data, size_t size)
{
	static uint8_t proto[TPL_SIZE], tpl[TPL_SIZE];
	static bool built;

	if (ftruncate(fd, 0) < 0)
		return -1;
	if (size && data[0] == 'T') {
		if (!built) { /* once: deflate's set-up is most of a run's time */
			build_template(proto);
			built = true;
		}
		memcpy(tpl, proto, TPL_SIZE);
		for (size_t i = 1; i + 3 <= size; i += 3) {
			unsigned off = (data[i] | data[i + 1] << 8) % TPL_SIZE;

			tpl[off] = data[i + 2];
		}
		return pwrite(fd, tpl, TPL_SIZE, 0) == TPL_SIZE ? 0 : -1;
	}
	return pwrite(fd, data, size, 0) == (ssize_t)size ? 0 : -1;
}

/* A request range from two control bytes, whole sectors inside the disk. */
static void range(const struct blk_image *img, uint8_t a, uint8_t b, uint64_t *off, uint64_t *len)
{
	uint64_t sectors = blk_image_size(img) / 512;

	*off = sectors ? (uint64_t)a * 131 % sectors * 512 : 0;
	if (a & 0x80 && sectors)
		*off = (sectors - 1 - a % sectors) * 512;
	*len = (1 + b % 9) * 512ull;
	if (*off + *len > sectors * 512)
		*len = sectors * 512 - *off;
}

/* Up to 1 MiB from 0, whole sectors: the request path bounds discards
 * (max_discard_sectors), and the cost is per cluster. */
static uint64_t discard_len(const struct blk_image *img)
{
	uint64_t len = blk_image_size(img) & ~511ull;

	return len < (1u << 20) ? len : 1u << 20;
}

static void exercise(struct blk_image *img, const uint8_t *ctl, bool ro)
{
	static uint8_t buf[9 * 512];
	struct blk_image_info info;
	uint64_t off, len;

	for (unsigned i = 0; i < 4; i++) {
		struct iovec v[2];

		range(img, ctl[2 * i], ctl[2 * i + 1], &off, &len);
		v[0] = (struct iovec){buf, len / 2 & ~511ull};
		v[1] = (struct iovec){buf + v[0].iov_len, len - v[0].iov_len};
		if (blk_image_read(img, v, 2, off) > 0)
			abort();
		if (ro)
			continue;
		memset(buf, 0x5a + i, len);
		if (i == 3) {
			if (blk_image_write_zeroes(img, off & ~(CS - 1ull),
						   len < 4096 ? len : 4096) > 0 ||
			    blk_image_discard(img, 0, discard_len(img)) > 0)
				abort();
		} else if (blk_image_write(img, v, 2, off) > 0) {
			abort();
		}
		if (blk_image_read(img, v, 2, off) > 0)
			abort();
	}
	if (blk_image_flush(img) > 0 || blk_image_info(img, &info) > 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1, bfd = -1;
	static uint8_t before[MAX_FILE], after[MAX_FILE];
	static const uint8_t no_ctl[8];
	const uint8_t *ctl = size >= 8 ? data + size - 8 : no_ctl;
	struct blk_image *img, *backing = NULL;
	struct qcow2_open_args a = {0};
	char err[256];
	ssize_t n;

	if (size > MAX_FILE / 2)
		return 0;
	if (fd < 0) {
		static uint8_t b[65536];

		fd = memfd_create("fuzz-qcow2", 0);
		bfd = memfd_create("fuzz-qcow2-backing", 0);
		memset(b, 0x77, sizeof(b));
		if (fd < 0 || bfd < 0 || pwrite(bfd, b, sizeof(b), 0) != sizeof(b))
			abort();
	}
	if (fill_file(fd, data, size) < 0)
		abort();
	n = pread(fd, before, sizeof(before), 0);
	a = (struct qcow2_open_args){fd, true, NULL, err, sizeof(err)};
	if (qcow2_open(&a, &img) == 0) {
		exercise(img, ctl, true);
		blk_image_close(img);
		if (pread(fd, after, sizeof(after), 0) != n || memcmp(before, after, (size_t)n))
			abort();
	} else if (!err[0]) {
		abort(); /* every refusal says why */
	}
	if (blk_raw_open(bfd, true, 0, &backing) < 0)
		abort();
	a = (struct qcow2_open_args){fd, false, backing, err, sizeof(err)};
	if (qcow2_open(&a, &img) < 0) {
		a.backing = NULL;
		if (qcow2_open(&a, &img) < 0)
			img = NULL;
	}
	if (img) {
		exercise(img, ctl, false);
		blk_image_close(img);
	}
	blk_image_close(backing);
	return 0;
}
