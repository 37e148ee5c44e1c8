/* Hostile qcow2 images: a good image from qemu-img, one field patched by
 * hand, then opened through the qcow2 blk_image. Each gives a clear line
 * at open (checked for its words) or -EIO on the request that meets the
 * bad entry, never a crash (each case runs in its own child, and the
 * suite runs under ASan/UBSan too). */
#include <endian.h>

#include "test_qcow2_fixture.h"

#define CS 4096u

static int fdp(const char *name)
{
	char p[128];

	return open(tpath(p, sizeof(p), name), O_RDWR);
}

static uint64_t get64(const char *name, uint64_t off)
{
	uint64_t v = 0;
	int fd = fdp(name);

	if (fd >= 0 && pread(fd, &v, 8, (off_t)off) != 8)
		v = 0;
	close(fd);
	return be64toh(v);
}

static int put(const char *name, uint64_t off, const void *p, size_t len)
{
	int fd = fdp(name);
	int ok = fd >= 0 && pwrite(fd, p, len, (off_t)off) == (ssize_t)len;

	close(fd);
	return ok ? 0 : -1;
}

static int put64(const char *name, uint64_t off, uint64_t v)
{
	v = htobe64(v);
	return put(name, off, &v, 8);
}

static int put32(const char *name, uint64_t off, uint32_t v)
{
	v = htobe32(v);
	return put(name, off, &v, 4);
}

/* h.qcow2: v3, 4 KiB clusters, 1 MiB, 8 KiB of 0xab at 0. */
static int make_good(void)
{
	if (sh("qemu-img create -q -f qcow2 -o cluster_size=4096 h.qcow2 1M") != 0 ||
	    sh("qemu-io -f qcow2 -c 'write -P 0xab 0 8k' h.qcow2") != 0)
		return -1;
	return 0;
}

/* Opening h.qcow2 (read-only or not) fails with err and a line naming
 * what. */
static int open_fails(bool ro, int err, const char *what)
{
	struct timg t;
	int rc = topen_q(&t, "h.qcow2", ro, NULL);

	if (rc == 0) {
		tclose(&t);
		fprintf(stderr, "opened, expected: %s\n", what);
		return 1;
	}
	if (rc != err || !strstr(t.err, what)) {
		fprintf(stderr, "got %d '%s', expected %d '%s'\n", rc, t.err, err, what);
		return 1;
	}
	return 0;
}

#define HEADER_CASE(fn, patch, err, what)                                                          \
	static int fn(void)                                                                        \
	{                                                                                          \
		NEED_QEMU();                                                                       \
		CHECK(make_good() == 0);                                                           \
		CHECK((patch) == 0);                                                               \
		CHECK(open_fails(true, err, what) == 0);                                           \
		CHECK(open_fails(false, err, what) == 0);                                          \
		tmp_cleanup();                                                                     \
		return 0;                                                                          \
	}

HEADER_CASE(test_bad_magic, put32("h.qcow2", 0, 0x514649fa), -EINVAL, "magic")
HEADER_CASE(test_version, put32("h.qcow2", 4, 4), -ENOTSUP, "version 4")
HEADER_CASE(test_cluster_bits_small, put32("h.qcow2", 20, 8), -EINVAL, "cluster_bits 8")
HEADER_CASE(test_cluster_bits_large, put32("h.qcow2", 20, 22), -EINVAL, "cluster_bits 22")
HEADER_CASE(test_encrypted, put32("h.qcow2", 32, 2), -ENOTSUP, "encrypted")
HEADER_CASE(test_l1_absurd, put32("h.qcow2", 36, 0x10000000), -EINVAL, "L1 table")
HEADER_CASE(test_l1_past_end, put64("h.qcow2", 40, 1ull << 40), -EINVAL, "L1 table offset")
HEADER_CASE(test_l1_unaligned, put64("h.qcow2", 40, get64("h.qcow2", 40) + 8), -EINVAL,
	    "L1 table offset")
HEADER_CASE(test_l1_over_reftable, put64("h.qcow2", 40, get64("h.qcow2", 48)), -EINVAL, "overlap")
HEADER_CASE(test_l1_too_small, put32("h.qcow2", 36, 0), -EINVAL, "L1 table too small")
HEADER_CASE(test_rt_past_end, put64("h.qcow2", 48, 1ull << 40), -EINVAL, "refcount table offset")
HEADER_CASE(test_rt_in_header, put64("h.qcow2", 48, 0), -EINVAL, "refcount table offset")
HEADER_CASE(test_rt_clusters_zero, put32("h.qcow2", 56, 0), -EINVAL, "refcount table of")
HEADER_CASE(test_rt_clusters_huge, put32("h.qcow2", 56, 0x7fffffff), -EINVAL, "refcount table of")
HEADER_CASE(test_size_huge, put64("h.qcow2", 24, 1ull << 62), -EINVAL, "virtual size")
HEADER_CASE(test_unknown_incompat, put64("h.qcow2", 72, 1ull << 10), -ENOTSUP,
	    "unknown incompatible features 0x400")
HEADER_CASE(test_corrupt_bit, put64("h.qcow2", 72, 2), -ENOTSUP, "corrupt")
HEADER_CASE(test_data_file, put64("h.qcow2", 72, 4), -ENOTSUP, "external data")
HEADER_CASE(test_ext_l2_small, put64("h.qcow2", 72, 16), -EINVAL, "extended L2")
HEADER_CASE(test_zstd, put64("h.qcow2", 72, 8), -ENOTSUP, "compression")
HEADER_CASE(test_refcount_order, put32("h.qcow2", 96, 7), -EINVAL, "refcount_order")
HEADER_CASE(test_hdr_len_odd, put32("h.qcow2", 100, 108), -EINVAL, "header_length")
HEADER_CASE(test_hdr_len_huge, put32("h.qcow2", 100, 8192), -EINVAL, "header_length")
/* an extension right after qemu-img's 112-byte header */
HEADER_CASE(test_ext_runs_off,
	    put32("h.qcow2", 112, 0x12345678) || put32("h.qcow2", 116, 0xfffffff0), -EINVAL,
	    "runs off the header")
HEADER_CASE(test_backing_off_out, put64("h.qcow2", 8, CS - 4) || put32("h.qcow2", 16, 100), -EINVAL,
	    "backing file name")
HEADER_CASE(test_backing_size_huge, put64("h.qcow2", 8, 512) || put32("h.qcow2", 16, 5000), -EINVAL,
	    "backing file name")
HEADER_CASE(test_backing_in_header, put64("h.qcow2", 8, 16) || put32("h.qcow2", 16, 8), -EINVAL,
	    "backing file name")
HEADER_CASE(test_snapshots_huge, put32("h.qcow2", 60, 0x7fffffff), -EINVAL, "snapshot table")

/* A file too short to be anything. */
static int test_truncated(void)
{
	NEED_QEMU();
	CHECK(make_good() == 0);
	CHECK(sh("truncate -s 2048 h.qcow2") == 0); /* header there, tables not */
	CHECK(open_fails(true, -EINVAL, "past the end") == 0);
	CHECK(sh("truncate -s 50 h.qcow2") == 0);
	CHECK(open_fails(true, -EINVAL, "") == 0);
	tmp_cleanup();
	return 0;
}

/* Dirty: read-only is fine, writable is refused with a way out. */
static int test_dirty(void)
{
	struct timg t;

	NEED_QEMU();
	CHECK(make_good() == 0);
	CHECK(put64("h.qcow2", 72, 1) == 0);
	CHECK(open_fails(false, -ENOTSUP, "qemu-img check -r all") == 0);
	CHECK(topen_q(&t, "h.qcow2", true, NULL) == 0);
	tclose(&t);
	tmp_cleanup();
	return 0;
}

/* Open h.qcow2 writable; a read and a write at guest offset g give err. */
static int io_fails(uint64_t g, int err)
{
	uint8_t buf[512];
	struct timg t;

	memset(buf, 0x5e, sizeof(buf));
	CHECK(topen_q(&t, "h.qcow2", false, NULL) == 0);
	CHECK(img_rd(t.img, buf, sizeof(buf), g) == err);
	CHECK(img_wr(t.img, buf, sizeof(buf), g) == err);
	tclose(&t);
	return 0;
}

/* Bad L2 and L1 entries: -EIO on the request, other clusters fine. */
static int test_bad_entries(void)
{
	uint64_t l1, l2, e;
	uint8_t buf[4096];
	struct timg t;

	NEED_QEMU();
	CHECK(make_good() == 0);
	l1 = get64("h.qcow2", 40);
	l2 = get64("h.qcow2", l1) & 0x00fffffffffffe00ull;
	e = get64("h.qcow2", l2);
	CHECK(l2 && e);
	/* data cluster past the end of the file */
	CHECK(put64("h.qcow2", l2, (1ull << 40) | (1ull << 63)) == 0);
	CHECK(io_fails(0, -EIO) == 0);
	/* unaligned */
	CHECK(put64("h.qcow2", l2, (e + 512) | (1ull << 63)) == 0);
	CHECK(io_fails(0, -EIO) == 0);
	/* into the header, the L1 table, the refcount table */
	CHECK(put64("h.qcow2", l2, l1 | (1ull << 63)) == 0);
	CHECK(io_fails(0, -EIO) == 0);
	CHECK(put64("h.qcow2", l2, get64("h.qcow2", 48) | (1ull << 63)) == 0);
	CHECK(io_fails(0, -EIO) == 0);
	/* the neighbour cluster still reads */
	CHECK(topen_q(&t, "h.qcow2", true, NULL) == 0);
	CHECK(img_rd(t.img, buf, sizeof(buf), 4096) == 0 && all_are(buf, sizeof(buf), 0xab));
	tclose(&t);
	/* a shared cluster (no COPIED): read fine, not written in place */
	CHECK(put64("h.qcow2", l2, e & ~(1ull << 63)) == 0);
	CHECK(topen_q(&t, "h.qcow2", false, NULL) == 0);
	CHECK(img_rd(t.img, buf, 512, 0) == 0 && all_are(buf, 512, 0xab));
	CHECK(img_wr(t.img, buf, 512, 0) == -EIO);
	tclose(&t);
	/* a shared L2 table (no COPIED in L1): reads fine, an allocating
	 * write into it refused */
	CHECK(put64("h.qcow2", l2, e) == 0);
	CHECK(put64("h.qcow2", l1, l2) == 0);
	CHECK(topen_q(&t, "h.qcow2", false, NULL) == 0);
	CHECK(img_rd(t.img, buf, 512, 0) == 0 && all_are(buf, 512, 0xab));
	CHECK(img_wr(t.img, buf, 512, 64 * 1024) == -EIO);
	CHECK(blk_image_write_zeroes(t.img, 0, 4096) == -EIO);
	tclose(&t);
	CHECK(get64("h.qcow2", l2 + 16 * 8) == 0);
	/* L1 entry past the end, into the header, unaligned */
	CHECK(put64("h.qcow2", l1, (1ull << 40) | (1ull << 63)) == 0);
	CHECK(io_fails(0, -EIO) == 0);
	CHECK(put64("h.qcow2", l1, 512 | (1ull << 63)) == 0);
	CHECK(io_fails(0, -EIO) == 0);
	CHECK(put64("h.qcow2", l1, (l2 + 512) | (1ull << 63)) == 0);
	CHECK(io_fails(0, -EIO) == 0);
	tmp_cleanup();
	return 0;
}

/* An L1 table longer than the disk needs, with garbage past the part
 * that maps the disk: never followed, the disk works. */
static int test_l1_beyond_disk(void)
{
	static uint8_t buf[64 * 1024];
	struct blk_image_info info;
	struct timg t;
	uint64_t l1;

	NEED_QEMU();
	CHECK(make_good() == 0);
	l1 = get64("h.qcow2", 40);
	CHECK(put32("h.qcow2", 36, 4) == 0);
	CHECK(put64("h.qcow2", l1 + 8, (1ull << 50) | 0x1ff) == 0);
	CHECK(put64("h.qcow2", l1 + 16, 512) == 0);
	CHECK(put64("h.qcow2", l1 + 24, l1) == 0);
	CHECK(topen_q(&t, "h.qcow2", false, NULL) == 0);
	memset(buf, 0x3d, sizeof(buf));
	for (uint64_t off = 0; off < blk_image_size(t.img); off += sizeof(buf)) {
		CHECK(img_wr(t.img, buf, sizeof(buf), off) == 0);
		CHECK(img_rd(t.img, buf, sizeof(buf), off) == 0 && all_are(buf, sizeof(buf), 0x3d));
	}
	CHECK(img_rd(t.img, buf, 512, blk_image_size(t.img)) == -EINVAL);
	CHECK(blk_image_info(t.img, &info) == 0 && info.size == 1u << 20);
	tclose(&t);
	tmp_cleanup();
	return 0;
}

/* Refcount metadata that lies: an unaligned refcount block, a refcount
 * already set where the next cluster would go. The allocating write fails
 * with -EIO and the image is left as it was. */
static int test_bad_refcounts(void)
{
	uint64_t rt, rb;
	uint8_t buf[512];
	struct timg t;
	struct stat st;
	char p[128];

	NEED_QEMU();
	CHECK(make_good() == 0);
	rt = get64("h.qcow2", 48);
	rb = get64("h.qcow2", rt);
	CHECK(stat(tpath(p, sizeof(p), "h.qcow2"), &st) == 0);
	/* the refcount of the cluster at the end of the file: already 1 */
	{
		uint16_t one = htobe16(1);

		CHECK(put("h.qcow2", rb + 2 * (((uint64_t)st.st_size + CS - 1) / CS), &one, 2) ==
		      0);
	}
	memset(buf, 0x11, sizeof(buf));
	CHECK(topen_q(&t, "h.qcow2", false, NULL) == 0);
	CHECK(img_wr(t.img, buf, sizeof(buf), 512u << 10) == -EIO);
	CHECK(img_rd(t.img, buf, sizeof(buf), 512u << 10) == 0 && all_are(buf, 512, 0));
	tclose(&t);
	/* refcount block unaligned */
	CHECK(put64("h.qcow2", rt, rb + 8) == 0);
	CHECK(topen_q(&t, "h.qcow2", false, NULL) == 0);
	CHECK(img_wr(t.img, buf, sizeof(buf), 512u << 10) == -EIO);
	tclose(&t);
	tmp_cleanup();
	return 0;
}

/* A compressed cluster whose host cluster's refcount is already 0: the
 * rewrite drops a reference that is not there. The write reports -EIO
 * (its data did land: the L2 entry went first) and the refcount stays 0,
 * no wrap to the maximum. */
static int test_refcount_underflow(void)
{
	uint64_t l1, l2, e, rt, rb, host, x = 62 - (12 - 8);
	uint8_t buf[512];
	uint16_t rc = 0;
	struct timg t;

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f raw s.raw 64k && "
		 "qemu-io -f raw -c 'write -P 0x42 0 64k' s.raw") == 0);
	CHECK(sh("qemu-img convert -c -O qcow2 -o cluster_size=4096 s.raw h.qcow2") == 0);
	l1 = get64("h.qcow2", 40);
	l2 = get64("h.qcow2", l1) & 0x00fffffffffffe00ull;
	e = get64("h.qcow2", l2);
	host = (e & ((1ull << x) - 1)) & ~(uint64_t)(CS - 1);
	rt = get64("h.qcow2", 48);
	rb = get64("h.qcow2", rt);
	CHECK(put("h.qcow2", rb + 2 * (host / CS), &rc, 2) == 0);
	memset(buf, 0x24, sizeof(buf));
	CHECK(topen_q(&t, "h.qcow2", false, NULL) == 0);
	CHECK(img_wr(t.img, buf, sizeof(buf), 0) == -EIO);
	CHECK(img_rd(t.img, buf, sizeof(buf), 0) == 0 && all_are(buf, 512, 0x24));
	tclose(&t);
	{
		int fd = fdp("h.qcow2");

		CHECK(fd >= 0 && pread(fd, &rc, 2, (off_t)(rb + 2 * (host / CS))) == 2);
		close(fd);
	}
	CHECK(rc == 0);
	tmp_cleanup();
	return 0;
}

/* Compressed descriptors past the end of the file, and garbage that does
 * not inflate to a cluster. */
static int test_bad_compressed(void)
{
	uint64_t l1, l2, e, x = 62 - (12 - 8);
	uint8_t buf[4096];
	struct timg t;

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f raw s.raw 64k && "
		 "qemu-io -f raw -c 'write -P 0x42 0 64k' s.raw") == 0);
	CHECK(sh("qemu-img convert -c -O qcow2 -o cluster_size=4096 s.raw h.qcow2") == 0);
	l1 = get64("h.qcow2", 40);
	l2 = get64("h.qcow2", l1) & 0x00fffffffffffe00ull;
	e = get64("h.qcow2", l2);
	CHECK(e & (1ull << 62));
	CHECK(topen_q(&t, "h.qcow2", true, NULL) == 0);
	CHECK(img_rd(t.img, buf, sizeof(buf), 0) == 0 && all_are(buf, sizeof(buf), 0x42));
	tclose(&t);
	/* past the end */
	CHECK(put64("h.qcow2", l2, (1ull << 62) | (1ull << 40)) == 0);
	CHECK(io_fails(0, -EIO) == 0);
	/* into the header */
	CHECK(put64("h.qcow2", l2, (1ull << 62) | 100) == 0);
	CHECK(io_fails(0, -EIO) == 0);
	/* the right place, but the stream cut to one sector of garbage */
	CHECK(put64("h.qcow2", l2, (e & ((1ull << x) - 1)) | (1ull << 62)) == 0);
	{
		uint8_t junk[512];

		memset(junk, 0xff, sizeof(junk));
		CHECK(put("h.qcow2", e & ((1ull << x) - 1), junk, sizeof(junk)) == 0);
	}
	CHECK(io_fails(0, -EIO) == 0);
	tmp_cleanup();
	return 0;
}

/* clang-format off */
static const struct test_case tests[] = {
	TEST(test_bad_magic),
	TEST(test_version),
	TEST(test_cluster_bits_small),
	TEST(test_cluster_bits_large),
	TEST(test_encrypted),
	TEST(test_l1_absurd),
	TEST(test_l1_past_end),
	TEST(test_l1_unaligned),
	TEST(test_l1_over_reftable),
	TEST(test_l1_too_small),
	TEST(test_rt_past_end),
	TEST(test_rt_in_header),
	TEST(test_rt_clusters_zero),
	TEST(test_rt_clusters_huge),
	TEST(test_size_huge),
	TEST(test_unknown_incompat),
	TEST(test_corrupt_bit),
	TEST(test_data_file),
	TEST(test_ext_l2_small),
	TEST(test_zstd),
	TEST(test_refcount_order),
	TEST(test_hdr_len_odd),
	TEST(test_hdr_len_huge),
	TEST(test_ext_runs_off),
	TEST(test_backing_off_out),
	TEST(test_backing_size_huge),
	TEST(test_backing_in_header),
	TEST(test_snapshots_huge),
	TEST(test_truncated),
	TEST(test_dirty),
	TEST(test_bad_entries),
	TEST(test_l1_beyond_disk),
	TEST(test_bad_refcounts),
	TEST(test_bad_compressed),
	TEST(test_refcount_underflow),
};
/* clang-format on */

int main(void)
{
	return run_tests(tests, sizeof(tests) / sizeof(tests[0]));
}
