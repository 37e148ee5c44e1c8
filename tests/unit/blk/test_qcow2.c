/* Unit tests of the qcow2 blk_image (devproc/blk/qcow2*.c) against images
 * that qemu-img made and that qemu-img check and qemu-io judge after our
 * writes: v2 and v3, cluster sizes 512 B to 2 MiB, overlays over raw and
 * qcow2 bases (the base unchanged), compressed and zero clusters, new
 * refcount blocks, a refcount table that grows, a disk grown to hundreds of
 * MiB, extended L2 entries, discard and write-zeroes, snapshots (read-only), info, and several
 * threads at once. Crash and hostile images: test_qcow2_crash.c and
 * test_qcow2_hostile.c. */
#include <endian.h>
#include <pthread.h>

#include "test_qcow2_fixture.h"

/* raw through the wrappers: ranges whole sectors inside the disk, a
 * read-only image refuses changes, write_zeroes writes zeros, discard
 * leaves data readable. No qemu needed. */
static int test_raw(void)
{
	char path[] = "/tmp/moat-raw-XXXXXX";
	uint8_t buf[4096];
	struct blk_image *img, *ro;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	unlink(path);
	CHECK(ftruncate(fd, 1u << 20) == 0);
	CHECK(blk_raw_open(fd, false, 0, &img) == 0);
	CHECK(blk_image_size(img) == 1u << 20);
	memset(buf, 0x9e, sizeof(buf));
	CHECK(img_wr(img, buf, sizeof(buf), 8192) == 0);
	CHECK(img_wr(img, buf, 100, 0) == -EINVAL);
	CHECK(img_wr(img, buf, 512, (1u << 20) - 256) == -EINVAL);
	CHECK(img_wr(img, buf, 512, 1u << 20) == -EINVAL);
	CHECK(blk_image_write_zeroes(img, 8192 + 512, 1024) == 0);
	CHECK(blk_image_discard(img, 0, 4096) == 0);
	CHECK(blk_image_flush(img) == 0);
	CHECK(img_rd(img, buf, sizeof(buf), 8192) == 0);
	CHECK(all_are(buf, 512, 0x9e) && all_are(buf + 512, 1024, 0) &&
	      all_are(buf + 1536, 4096 - 1536, 0x9e));
	CHECK(blk_raw_open(fd, true, 0, &ro) == 0);
	CHECK(img_wr(ro, buf, 512, 0) == -EROFS);
	CHECK(blk_image_write_zeroes(ro, 0, 512) == -EROFS);
	CHECK(blk_image_discard(ro, 0, 512) == -EROFS);
	CHECK(img_rd(ro, buf, 512, 8192) == 0 && all_are(buf, 512, 0x9e));
	blk_image_close(ro);
	blk_image_close(img);
	close(fd);
	return 0;
}

/* What qemu-io wrote, we read; unwritten ranges read as zeros. */
static int test_read_qemu_written(void)
{
	static uint8_t buf[256 * 1024];
	struct timg t;

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f qcow2 a.qcow2 16M") == 0);
	CHECK(sh("qemu-io -f qcow2 -c 'write -P 0xab 0 64k' -c 'write -P 0xcd 100k 8k' "
		 "-c 'write -P 0x11 15M 1M' a.qcow2") == 0);
	CHECK(topen_q(&t, "a.qcow2", true, NULL) == 0);
	CHECK(blk_image_size(t.img) == 16u << 20);
	CHECK(img_rd(t.img, buf, sizeof(buf), 0) == 0);
	CHECK(all_are(buf, 64 * 1024, 0xab));
	CHECK(all_are(buf + 64 * 1024, 36 * 1024, 0));
	CHECK(all_are(buf + 100 * 1024, 8 * 1024, 0xcd));
	CHECK(all_are(buf + 108 * 1024, sizeof(buf) - 108 * 1024, 0));
	CHECK(img_rd(t.img, buf, 4096, (16u << 20) - 4096) == 0);
	CHECK(all_are(buf, 4096, 0x11));
	/* outside the disk */
	CHECK(img_rd(t.img, buf, 4096, 16u << 20) == -EINVAL);
	CHECK(img_wr(t.img, buf, 512, 0) == -EROFS);
	tclose(&t);
	tmp_cleanup();
	return 0;
}

/* Our writes at odd places in one image: qemu-img check clean, qemu-io
 * sees every pattern (later writes win where they overlap). */
static int write_and_check(const char *opts, uint64_t cs)
{
	static uint8_t buf[3 << 20];
	struct timg t;
	/* offset, length, pattern: inside a cluster, across clusters, a whole
	 * cluster, a rewrite inside an allocated one, a long run */
	const struct {
		uint64_t off, len;
		uint8_t pat;
	} w[] = {
	    {3 * cs + 1024, 512, 0x21}, {cs - 512, 2048, 0x22},	    {8 * cs, cs, 0x23},
	    {8 * cs + 512, 512, 0x24},	{3u << 20, 3u << 20, 0x26}, {(5u << 20) - 1024, 1024, 0x25},
	};

	CHECK(sh("qemu-img create -q -f qcow2 -o %s,cluster_size=%llu a.qcow2 32M", opts,
		 (unsigned long long)cs) == 0);
	CHECK(topen_q(&t, "a.qcow2", false, NULL) == 0);
	for (unsigned i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		memset(buf, w[i].pat, w[i].len);
		CHECK(img_wr(t.img, buf, w[i].len, w[i].off) == 0);
	}
	CHECK(blk_image_flush(t.img) == 0);
	CHECK(img_rd(t.img, buf, 512, 3 * cs + 1024) == 0 && all_are(buf, 512, 0x21));
	CHECK(img_rd(t.img, buf, 512, 0) == 0 && all_are(buf, 512, 0));
	tclose(&t);
	CHECK(qcheck("a.qcow2") == 0);
	CHECK(
	    sh("qemu-io -f qcow2 -c 'read -P 0x21 %llu 512' -c 'read -P 0 0 512' "
	       "-c 'read -P 0x22 %llu 2048' -c 'read -P 0x23 %llu 512' -c 'read -P 0x24 %llu 512' "
	       "-c 'read -P 0x26 3M 2047k' -c 'read -P 0x25 %llu 1024' -c 'read -P 0x26 5M 1M' "
	       "-c 'read -P 0 28M 4M' a.qcow2",
	       (unsigned long long)(3 * cs + 1024), (unsigned long long)(cs - 512),
	       (unsigned long long)(8 * cs), (unsigned long long)(8 * cs + 512),
	       (unsigned long long)((5u << 20) - 1024)) == 0);
	return 0;
}

static int test_write_v3_64k(void)
{
	NEED_QEMU();
	CHECK(write_and_check("compat=1.1", 65536) == 0);
	tmp_cleanup();
	return 0;
}

static int test_write_v2_64k(void)
{
	NEED_QEMU();
	CHECK(write_and_check("compat=0.10", 65536) == 0);
	tmp_cleanup();
	return 0;
}

static int test_write_v3_512(void)
{
	NEED_QEMU();
	/* 512-byte clusters: a refcount block covers 128 KiB, so this needs
	 * several new ones; the first refcount table covers 8 MiB of file */
	CHECK(sh("qemu-img create -q -f qcow2 -o cluster_size=512 a.qcow2 4M") == 0);
	{
		static uint8_t buf[1 << 20];
		struct timg t;

		CHECK(topen_q(&t, "a.qcow2", false, NULL) == 0);
		memset(buf, 0x5a, sizeof(buf));
		CHECK(img_wr(t.img, buf, sizeof(buf), 1u << 20) == 0);
		tclose(&t);
	}
	CHECK(qcheck("a.qcow2") == 0);
	CHECK(sh("qemu-io -f qcow2 -c 'read -P 0x5a 1M 1M' -c 'read -P 0 0 1M' a.qcow2") == 0);
	tmp_cleanup();
	return 0;
}

static int test_write_v2_2m(void)
{
	NEED_QEMU();
	CHECK(write_and_check("compat=0.10", 2u << 20) == 0);
	tmp_cleanup();
	return 0;
}

static int test_write_v3_2m(void)
{
	NEED_QEMU();
	CHECK(write_and_check("compat=1.1", 2u << 20) == 0);
	tmp_cleanup();
	return 0;
}

static int test_refcount_bits(void)
{
	NEED_QEMU();
	/* 1-bit and 64-bit refcounts: sub-byte and widest encodings */
	CHECK(write_and_check("compat=1.1,refcount_bits=1", 4096) == 0);
	CHECK(sh("rm -f a.qcow2") == 0);
	CHECK(write_and_check("compat=1.1,refcount_bits=64", 4096) == 0);
	tmp_cleanup();
	return 0;
}

/* A checksum of a whole file, to see that a base did not change. */
static uint64_t file_sum(const char *name)
{
	char p[128];
	uint8_t buf[65536];
	uint64_t h = 1469598103934665603ull;
	int fd = open(tpath(p, sizeof(p), name), O_RDONLY);
	ssize_t k;

	if (fd < 0)
		return 0;
	while ((k = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < k; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
	close(fd);
	return h;
}

/* An overlay over base (of format fmt): reads fall through, a partial
 * write copies the rest of its cluster from the base, the base stays. */
static int overlay_case(const char *fmt, const char *compat)
{
	static uint8_t buf[128 * 1024];
	struct timg base, top;
	uint64_t before;

	CHECK(sh("qemu-img create -q -f %s base.img 4M", fmt) == 0);
	CHECK(sh("qemu-io -f %s -c 'write -P 0x61 0 1M' -c 'write -P 0x62 3M 1M' base.img", fmt) ==
	      0);
	/* the overlay is larger than its base: past the base, zeros */
	CHECK(sh("qemu-img create -q -f qcow2 -o compat=%s -b base.img -F %s top.qcow2 8M", compat,
		 fmt) == 0);
	before = file_sum("base.img");
	if (strcmp(fmt, "raw") == 0)
		CHECK(topen_raw(&base, "base.img", true) == 0);
	else
		CHECK(topen_q(&base, "base.img", true, NULL) == 0);
	CHECK(topen_q(&top, "top.qcow2", false, base.img) == 0);
	CHECK(img_rd(top.img, buf, 4096, 4096) == 0 && all_are(buf, 4096, 0x61));
	CHECK(img_rd(top.img, buf, 4096, 2u << 20) == 0 && all_are(buf, 4096, 0));
	CHECK(img_rd(top.img, buf, 4096, (4u << 20) - 4096) == 0 && all_are(buf, 4096, 0x62));
	CHECK(img_rd(top.img, buf, 4096, 6u << 20) == 0 && all_are(buf, 4096, 0));
	memset(buf, 0x71, 4096);
	CHECK(img_wr(top.img, buf, 4096, 8192) == 0);		   /* COW from the base */
	CHECK(img_wr(top.img, buf, 4096, (4u << 20) - 2048) == 0); /* across the base's end */
	CHECK(blk_image_write_zeroes(top.img, 512u << 10, 64u << 10) == 0); /* a zero cluster */
	CHECK(img_rd(top.img, buf, 64 * 1024, 0) == 0);
	CHECK(all_are(buf, 8192, 0x61) && all_are(buf + 8192, 4096, 0x71) &&
	      all_are(buf + 12288, 65536 - 12288, 0x61));
	CHECK(img_rd(top.img, buf, 65536, 512u << 10) == 0 && all_are(buf, 65536, 0));
	tclose(&top);
	tclose(&base);
	CHECK(file_sum("base.img") == before);
	CHECK(qcheck("top.qcow2") == 0);
	CHECK(sh("qemu-io -f qcow2 -c 'read -P 0x61 0 8k' -c 'read -P 0x71 8k 4k' "
		 "-c 'read -P 0x61 12k 500k' -c 'read -P 0 512k 64k' -c 'read -P 0x61 576k 448k' "
		 "-c 'read -P 0x62 3M 1022k' -c 'read -P 0x71 4094k 4k' -c 'read -P 0 4098k 4094k' "
		 "top.qcow2") == 0);
	tmp_cleanup();
	return 0;
}

static int test_overlay_raw(void)
{
	NEED_QEMU();
	return overlay_case("raw", "1.1");
}

static int test_overlay_qcow2(void)
{
	NEED_QEMU();
	return overlay_case("qcow2", "1.1");
}

/* v2 cannot mark a cluster zero: over a backing, write_zeroes writes
 * zeros (and allocates). */
static int test_overlay_v2(void)
{
	NEED_QEMU();
	return overlay_case("raw", "0.10");
}

/* A v3 image with an autoclear bit (bitmaps, here without the extension)
 * and lazy refcounts: a writable open clears the autoclear bit first, as
 * the spec asks; our writes keep refcounts eagerly, check is clean. */
static int test_autoclear_lazy(void)
{
	uint64_t bits = htobe64(1);
	uint8_t buf[4096];
	struct timg t;
	char p[128];
	int fd;

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f qcow2 -o lazy_refcounts=on a.qcow2 1M") == 0);
	fd = open(tpath(p, sizeof(p), "a.qcow2"), O_RDWR);
	CHECK(fd >= 0 && pwrite(fd, &bits, 8, 88) == 8);
	CHECK(topen_q(&t, "a.qcow2", true, NULL) == 0); /* read-only: left alone */
	tclose(&t);
	CHECK(pread(fd, &bits, 8, 88) == 8 && be64toh(bits) == 1);
	CHECK(topen_q(&t, "a.qcow2", false, NULL) == 0);
	CHECK(pread(fd, &bits, 8, 88) == 8 && bits == 0);
	memset(buf, 0x4f, sizeof(buf));
	CHECK(img_wr(t.img, buf, sizeof(buf), 64 * 1024) == 0);
	tclose(&t);
	close(fd);
	CHECK(qcheck("a.qcow2") == 0);
	CHECK(sh("qemu-io -f qcow2 -c 'read -P 0x4f 64k 4k' a.qcow2") == 0);
	tmp_cleanup();
	return 0;
}

/* qemu-img convert -c: every cluster compressed. We read the same bytes as
 * the raw source, and a write into a compressed cluster rewrites it
 * uncompressed (its compressed refcounts dropped: check stays clean). */
static int test_compressed(void)
{
	static uint8_t a[1 << 20], b[1 << 20];
	struct timg raw, q;

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f raw src.raw 4M") == 0);
	/* text-like data compresses but is not one byte repeated */
	CHECK(sh("for i in $(seq 1 3000); do echo \"line $i of the compressed test\"; done "
		 "| dd of=src.raw conv=notrunc bs=1k seek=100 status=none") == 0);
	CHECK(sh("qemu-io -f raw -c 'write -P 0x33 2M 300k' src.raw") == 0);
	CHECK(sh("qemu-img convert -c -O qcow2 src.raw c.qcow2") == 0);
	CHECK(topen_raw(&raw, "src.raw", true) == 0);
	CHECK(topen_q(&q, "c.qcow2", false, NULL) == 0);
	for (uint64_t off = 0; off < (4u << 20); off += sizeof(a)) {
		CHECK(img_rd(raw.img, a, sizeof(a), off) == 0);
		CHECK(img_rd(q.img, b, sizeof(b), off) == 0);
		CHECK(memcmp(a, b, sizeof(a)) == 0);
	}
	memset(a, 0x44, 512);
	CHECK(img_wr(q.img, a, 512, 100 * 1024 + 512) == 0);
	CHECK(img_rd(q.img, b, 4096, 100 * 1024) == 0);
	CHECK(img_rd(raw.img, a, 4096, 100 * 1024) == 0);
	CHECK(memcmp(a, b, 512) == 0 && all_are(b + 512, 512, 0x44) &&
	      memcmp(a + 1024, b + 1024, 3072) == 0);
	tclose(&q);
	tclose(&raw);
	CHECK(qcheck("c.qcow2") == 0);
	CHECK(sh("qemu-io -f qcow2 -c 'read -P 0x44 102912 512' -c 'read -P 0x33 2M 300k' "
		 "c.qcow2") == 0);
	tmp_cleanup();
	return 0;
}

/* v3 zero clusters that qemu-io made (over data in a backing) read as
 * zeros; ours (write_zeroes, discard) read as zeros to qemu-io. */
static int test_zero_clusters(void)
{
	static uint8_t buf[256 * 1024];
	struct timg base, top;

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f raw base.img 1M") == 0);
	CHECK(sh("qemu-io -f raw -c 'write -P 0x55 0 1M' base.img") == 0);
	CHECK(sh("qemu-img create -q -f qcow2 -b base.img -F raw top.qcow2 1M") == 0);
	CHECK(sh("qemu-io -f qcow2 -c 'write -z 0 128k' top.qcow2") == 0);
	CHECK(topen_raw(&base, "base.img", true) == 0);
	CHECK(topen_q(&top, "top.qcow2", false, base.img) == 0);
	CHECK(img_rd(top.img, buf, sizeof(buf), 0) == 0);
	CHECK(all_are(buf, 128 * 1024, 0) && all_are(buf + 128 * 1024, 128 * 1024, 0x55));
	/* a partial write into a zero cluster: the rest stays zeros */
	memset(buf, 0x66, 512);
	CHECK(img_wr(top.img, buf, 512, 1024) == 0);
	/* ours: zeros over data we wrote, and over the backing's */
	memset(buf, 0x77, sizeof(buf));
	CHECK(img_wr(top.img, buf, 128 * 1024, 256 * 1024) == 0);
	CHECK(blk_image_write_zeroes(top.img, 256 * 1024, 64 * 1024) == 0);
	CHECK(blk_image_write_zeroes(top.img, 512 * 1024, 64 * 1024 + 4096) == 0);
	CHECK(blk_image_discard(top.img, 320 * 1024, 64 * 1024) == 0);
	tclose(&top);
	tclose(&base);
	CHECK(qcheck("top.qcow2") == 0);
	CHECK(sh("qemu-io -f qcow2 -c 'read -P 0 0 1k' -c 'read -P 0x66 1k 512' "
		 "-c 'read -P 0 1536 126976' -c 'read -P 0x55 128k 128k' -c 'read -P 0 256k 64k' "
		 "-c 'read -P 0 320k 64k' -c 'read -P 0 512k 68k' -c 'read -P 0x55 580k 444k' "
		 "top.qcow2") == 0);
	tmp_cleanup();
	return 0;
}

/* v2 has no zero flag: write_zeroes writes zeros, discard of whole
 * clusters without a backing unallocates them. */
static int test_v2_zeroes_discard(void)
{
	static uint8_t buf[192 * 1024];
	struct timg t;

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f qcow2 -o compat=0.10 a.qcow2 1M") == 0);
	CHECK(topen_q(&t, "a.qcow2", false, NULL) == 0);
	memset(buf, 0x12, sizeof(buf));
	CHECK(img_wr(t.img, buf, sizeof(buf), 0) == 0);
	CHECK(blk_image_write_zeroes(t.img, 4096, 4096) == 0);
	CHECK(blk_image_discard(t.img, 64 * 1024, 64 * 1024) == 0);
	CHECK(img_rd(t.img, buf, 8192, 0) == 0);
	CHECK(all_are(buf, 4096, 0x12) && all_are(buf + 4096, 4096, 0));
	tclose(&t);
	CHECK(qcheck("a.qcow2") == 0);
	CHECK(sh("qemu-io -f qcow2 -c 'read -P 0 4k 4k' -c 'read -P 0 64k 64k' "
		 "-c 'read -P 0x12 128k 64k' a.qcow2") == 0);
	tmp_cleanup();
	return 0;
}

/* 512-byte clusters: one refcount table cluster covers 64 refcount blocks
 * of 256 clusters, 8 MiB of file. Filling a 32 MiB disk grows the table
 * (twice: 8 -> 16 -> 32 -> 64 MiB of file covered); qemu-img check is
 * clean and qemu-io reads everything back. */
static int test_refcount_table_grows(void)
{
	static uint8_t buf[64 * 1024];
	struct timg t;
	char p[128];
	uint32_t clusters = 0;
	int fd;

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f qcow2 -o cluster_size=512 a.qcow2 32M") == 0);
	CHECK(topen_q(&t, "a.qcow2", false, NULL) == 0);
	for (uint64_t off = 0; off < (32u << 20); off += sizeof(buf)) {
		memset(buf, (uint8_t)(off >> 20) + 1, sizeof(buf));
		CHECK(img_wr(t.img, buf, sizeof(buf), off) == 0);
	}
	CHECK(img_rd(t.img, buf, 512, 31u << 20) == 0 && all_are(buf, 512, 32));
	tclose(&t);
	fd = open(tpath(p, sizeof(p), "a.qcow2"), O_RDONLY);
	CHECK(fd >= 0 && pread(fd, &clusters, 4, 56) == 4);
	close(fd);
	CHECK(be32toh(clusters) >= 4);
	CHECK(qcheck("a.qcow2") == 0);
	CHECK(sh("qemu-io -f qcow2 -c 'read -P 1 0 1M' -c 'read -P 8 7M 1M' -c 'read -P 9 8M 1M' "
		 "-c 'read -P 32 31M 1M' a.qcow2") == 0);
	tmp_cleanup();
	return 0;
}

/* From empty to 320 MiB of clusters, in 1 MiB writes. */
static int test_grow(void)
{
	static uint8_t buf[1 << 20];
	struct blk_image_info info;
	struct timg t;

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f qcow2 a.qcow2 1G") == 0);
	CHECK(topen_q(&t, "a.qcow2", false, NULL) == 0);
	for (unsigned i = 0; i < 320; i++) {
		memset(buf, (uint8_t)(i + 1), sizeof(buf));
		CHECK(img_wr(t.img, buf, sizeof(buf), (uint64_t)i * 3 << 20) == 0);
	}
	CHECK(blk_image_info(t.img, &info) == 0);
	CHECK(info.allocated >= 320ull << 20 && info.allocated < 330ull << 20);
	CHECK(img_rd(t.img, buf, sizeof(buf), 200ull * 3 << 20) == 0 &&
	      all_are(buf, sizeof(buf), 201));
	tclose(&t);
	CHECK(qcheck("a.qcow2") == 0);
	CHECK(sh("qemu-io -f qcow2 -c 'read -P 1 0 1M' -c 'read -P 0 1M 2M' "
		 "-c 'read -P 0x40 %llu 1M' a.qcow2",
		 63ull * 3 << 20) == 0);
	tmp_cleanup();
	return 0;
}

/* Extended L2 entries (32 subclusters a cluster) over a raw base: what
 * qemu-io wrote into some subclusters reads back with the base around
 * it; our writes into a partly allocated cluster fill its other
 * subclusters from the base, a whole-cluster write-zeroes marks every
 * subcluster zero; qemu-img check clean, qemu-io sees it all. */
static int test_extended_l2(void)
{
	static uint8_t buf[192 * 1024];
	struct timg base, top;

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f raw base.img 1M") == 0);
	CHECK(sh("qemu-io -f raw -c 'write -P 0x61 0 1M' base.img") == 0);
	CHECK(sh("qemu-img create -q -f qcow2 -o extended_l2=on,cluster_size=64k -b base.img "
		 "-F raw top.qcow2 1M") == 0);
	CHECK(sh("qemu-io -f qcow2 -c 'write -P 0xab 8k 4k' -c 'write -z 20k 2k' "
		 "-c 'write -P 0xcd 128k 64k' top.qcow2") == 0);
	CHECK(topen_raw(&base, "base.img", true) == 0);
	CHECK(topen_q(&top, "top.qcow2", false, base.img) == 0);
	CHECK(img_rd(top.img, buf, sizeof(buf), 0) == 0);
	CHECK(all_are(buf, 8192, 0x61) && all_are(buf + 8192, 4096, 0xab) &&
	      all_are(buf + 12288, 8192, 0x61) && all_are(buf + 20480, 2048, 0) &&
	      all_are(buf + 22528, 128 * 1024 - 22528, 0x61) &&
	      all_are(buf + 128 * 1024, 64 * 1024, 0xcd));
	memset(buf, 0x11, 2048);
	CHECK(img_wr(top.img, buf, 2048, 1024) == 0);	    /* a cluster of ours, partly */
	CHECK(img_wr(top.img, buf, 1024, 300 * 1024) == 0); /* a new cluster */
	CHECK(blk_image_write_zeroes(top.img, 128 * 1024, 64 * 1024) == 0);
	CHECK(img_rd(top.img, buf, 64 * 1024, 0) == 0);
	CHECK(all_are(buf, 1024, 0x61) && all_are(buf + 1024, 2048, 0x11) &&
	      all_are(buf + 3072, 8192 - 3072, 0x61) && all_are(buf + 8192, 4096, 0xab) &&
	      all_are(buf + 20480, 2048, 0) && all_are(buf + 22528, 65536 - 22528, 0x61));
	tclose(&top);
	tclose(&base);
	CHECK(qcheck("top.qcow2") == 0);
	CHECK(
	    sh("qemu-io -f qcow2 -c 'read -P 0x61 0 1k' -c 'read -P 0x11 1k 2k' "
	       "-c 'read -P 0x61 3k 5k' -c 'read -P 0xab 8k 4k' -c 'read -P 0x61 12k 8k' "
	       "-c 'read -P 0 20k 2k' -c 'read -P 0x61 22k 106k' -c 'read -P 0 128k 64k' "
	       "-c 'read -P 0x61 192k 108k' -c 'read -P 0x11 300k 1k' -c 'read -P 0x61 301k 723k' "
	       "top.qcow2") == 0);
	tmp_cleanup();
	return 0;
}

/* info: format, version, sizes, the backing as the header names it. */
static int test_info(void)
{
	struct blk_image_info info;
	struct timg t, b;

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f raw base.img 1M") == 0);
	CHECK(sh("qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4096 -b base.img -F raw "
		 "top.qcow2 2M") == 0);
	CHECK(topen_q(&t, "top.qcow2", true, NULL) == 0); /* no backing given: info only */
	CHECK(blk_image_info(t.img, &info) == 0);
	CHECK(strcmp(info.format, "qcow2") == 0 && info.version == 2);
	CHECK(info.size == 2u << 20 && info.cluster_size == 4096);
	CHECK(info.has_backing && strcmp(info.backing_name, "base.img") == 0);
	CHECK(strcmp(info.backing_format, "raw") == 0);
	CHECK(info.allocated > 0 && info.allocated < 64 * 1024);
	{
		uint8_t buf[512];

		CHECK(img_rd(t.img, buf, 512, 0) == -EIO); /* unallocated, no backing given */
	}
	tclose(&t);
	/* writable without the backing: refused */
	CHECK(topen_q(&t, "top.qcow2", false, NULL) == -EINVAL);
	CHECK(strstr(t.err, "backing") != NULL);
	CHECK(topen_raw(&b, "base.img", true) == 0);
	CHECK(blk_image_info(b.img, &info) == 0);
	CHECK(strcmp(info.format, "raw") == 0 && info.size == 1u << 20);
	tclose(&b);
	tmp_cleanup();
	return 0;
}

/* Internal snapshots: read the active layer; a writable open is refused. */
static int test_snapshots(void)
{
	uint8_t buf[4096];
	struct timg t;

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f qcow2 a.qcow2 1M") == 0);
	CHECK(sh("qemu-io -f qcow2 -c 'write -P 0x01 0 4k' a.qcow2") == 0);
	CHECK(sh("qemu-img snapshot -c s1 a.qcow2") == 0);
	CHECK(sh("qemu-io -f qcow2 -c 'write -P 0x02 0 4k' a.qcow2") == 0);
	CHECK(topen_q(&t, "a.qcow2", false, NULL) == -ENOTSUP);
	CHECK(strstr(t.err, "snapshot") != NULL);
	CHECK(topen_q(&t, "a.qcow2", true, NULL) == 0);
	CHECK(img_rd(t.img, buf, sizeof(buf), 0) == 0 && all_are(buf, sizeof(buf), 0x02));
	tclose(&t);
	tmp_cleanup();
	return 0;
}

/* -- several threads --------------------------------------------------- */

struct worker {
	struct blk_image *img;
	unsigned id;
	int failed;
};

#define THREADS 4
#define ROUNDS	400
#define OWN	(256u * 1024 / 512) /* sectors of the first 256 KiB */

/* Each thread owns its stripes (every THREADS-th 40 KiB at 1 MiB + id *
 * 40 KiB: stripes straddle clusters, so neighbours allocate the same
 * clusters at the same time) and reads back what it wrote. In the first
 * 256 KiB it owns every THREADS-th sector: it writes one, and checks that
 * every sector it wrote before still holds its last pattern (a neighbour
 * filling the same cluster must not write back a stale copy of ours). */
static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	static __thread uint8_t buf[40 * 1024], got[40 * 1024], last[OWN];
	unsigned seed = w->id * 7919u + 1;

	for (unsigned r = 0; r < ROUNDS && !w->failed; r++) {
		uint64_t stripe = rand_r(&seed) % 64;
		uint64_t off = (1u << 20) + (stripe * THREADS + w->id) * sizeof(buf);
		unsigned sec = (rand_r(&seed) % (OWN / THREADS)) * THREADS + w->id;

		memset(buf, (uint8_t)(0x80 | w->id), sizeof(buf));
		if (img_wr(w->img, buf, sizeof(buf), off) < 0 ||
		    img_rd(w->img, got, sizeof(got), off) < 0 || memcmp(buf, got, sizeof(buf)))
			w->failed = 1;
		last[sec] = (uint8_t)(r | 1);
		memset(buf, last[sec], 512);
		if (img_wr(w->img, buf, 512, sec * 512ull) < 0)
			w->failed = 2;
		for (unsigned k = w->id; k < OWN && !w->failed; k += THREADS)
			if (last[k] && (img_rd(w->img, got, 512, k * 512ull) < 0 ||
					!all_are(got, 512, last[k])))
				w->failed = 4;
		if (r % 50 == 0 && blk_image_flush(w->img) < 0)
			w->failed = 3;
	}
	return NULL;
}

static int concurrent_run(const char *name)
{
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct timg t;

	CHECK(topen_q(&t, name, false, NULL) == 0);
	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct worker){t.img, i, 0};
		CHECK(pthread_create(&th[i], NULL, worker_fn, &w[i]) == 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		if (w[i].failed)
			fprintf(stderr, "thread %u failed (%d)\n", i, w[i].failed);
		CHECK(!w[i].failed);
	}
	tclose(&t);
	CHECK(qcheck(name) == 0);
	return 0;
}

static int test_concurrent(void)
{
	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f qcow2 -o cluster_size=16k a.qcow2 64M") == 0);
	CHECK(concurrent_run("a.qcow2") == 0);
	tmp_cleanup();
	return 0;
}

/* Extended L2, from an image whose every cluster has only its first
 * subcluster allocated (qemu-img convert -S 512): one thread writes an
 * allocated subcluster in place, without the lock, while another fills
 * the rest of the same cluster through the lock (fill_in_place leaves
 * the allocated subclusters alone). The window of that race is too
 * narrow for this test to force it (it passed with the bug put back):
 * it checks the paths work together, the code's comment argues the rest. */
static int test_concurrent_extl2(void)
{
	uint8_t one[512];
	char p[128];
	int fd;

	NEED_QEMU();
	fd = open(tpath(p, sizeof(p), "p.raw"), O_RDWR | O_CREAT, 0600);
	CHECK(fd >= 0 && ftruncate(fd, 64u << 20) == 0);
	memset(one, 1, sizeof(one));
	for (uint64_t c = 0; c < (16u << 20); c += 16384)
		CHECK(pwrite(fd, one, sizeof(one), (off_t)c) == sizeof(one));
	close(fd);
	CHECK(sh("qemu-img convert -S 512 -O qcow2 -o extended_l2=on,cluster_size=16k p.raw "
		 "a.qcow2") == 0);
	CHECK(sh("qemu-io -f qcow2 -c 'read -P 1 0 512' -c 'read -P 0 512 15872' a.qcow2") == 0);
	CHECK(concurrent_run("a.qcow2") == 0);
	tmp_cleanup();
	return 0;
}

/* clang-format off */
static const struct test_case tests[] = {
	TEST(test_raw),
	TEST(test_read_qemu_written),
	TEST(test_write_v3_64k),
	TEST(test_write_v2_64k),
	TEST(test_write_v3_512),
	TEST(test_write_v2_2m),
	TEST(test_write_v3_2m),
	TEST(test_refcount_bits),
	TEST(test_overlay_raw),
	TEST(test_overlay_qcow2),
	TEST(test_overlay_v2),
	TEST(test_autoclear_lazy),
	TEST(test_compressed),
	TEST(test_zero_clusters),
	TEST(test_v2_zeroes_discard),
	TEST(test_refcount_table_grows),
	TEST(test_grow),
	TEST(test_extended_l2),
	TEST(test_info),
	TEST(test_snapshots),
	TEST(test_concurrent),
	TEST(test_concurrent_extl2),
};
/* clang-format on */

int main(void)
{
	return run_tests(tests, sizeof(tests) / sizeof(tests[0]));
}
