/* The vmdk reader (devproc/blk/vmdk.c) against images qemu-img makes from
 * a raw file with known patterns (qemu-io): whole images and odd ranges
 * read back equal to the raw source, unallocated areas as zeros, a 2 GiB
 * sparse image, streamOptimized, a parent given as a backing; writable
 * opens and writes refused; hostile images patched by hand, each a clear
 * line at open or -EIO on the read that meets the bad entry. */
#include <endian.h>
#include <pthread.h>

#include "test_qcow2_fixture.h"
#include "vmdk.h"

static int fdp(const char *name)
{
	char p[128];

	return open(tpath(p, sizeof(p), name), O_RDWR);
}

static int put(const char *name, uint64_t off, const void *p, size_t len)
{
	int fd = fdp(name);
	int ok = fd >= 0 && pwrite(fd, p, len, (off_t)off) == (ssize_t)len;

	close(fd);
	return ok ? 0 : -1;
}

static uint64_t get_le(const char *name, uint64_t off, size_t len)
{
	uint64_t v = 0;
	int fd = fdp(name);

	if (fd < 0 || pread(fd, &v, len, (off_t)off) != (ssize_t)len)
		v = 0;
	close(fd);
	return le64toh(v);
}

/* Where the descriptor's createType line starts (its offset moves with
 * the CID's length). */
static uint64_t ctype_at(void)
{
	char d[4096] = {0}, *p;
	int fd = fdp("v.vmdk");

	if (fd < 0 || pread(fd, d, sizeof(d) - 1, 512) < 0)
		d[0] = 0;
	close(fd);
	p = strstr(d, "createType");
	if (!p) /* test_parent_long's second step */
		p = strstr(d, "parentFileNameHint");
	return p ? 512 + (uint64_t)(p - d) : 1ull << 40; /* the put then fails */
}

static int put32(const char *name, uint64_t off, uint32_t v)
{
	v = htole32(v);
	return put(name, off, &v, 4);
}

static int put64(const char *name, uint64_t off, uint64_t v)
{
	v = htole64(v);
	return put(name, off, &v, 8);
}

static int topen_v(struct timg *t, const char *name, bool ro, struct blk_image *backing)
{
	char p[128];
	struct vmdk_open_args a;
	int rc;

	t->fd = open(tpath(p, sizeof(p), name), O_RDONLY);
	if (t->fd < 0)
		return -errno;
	a = (struct vmdk_open_args){t->fd, ro, backing, t->err, sizeof(t->err)};
	rc = vmdk_open(&a, &t->img);
	if (rc < 0)
		close(t->fd);
	return rc;
}

/* Read [off, off + len) of both images, the vmdk one through an iovec of
 * three uneven pieces; equal? */
static int same(struct blk_image *v, struct blk_image *r, uint64_t off, uint64_t len)
{
	uint8_t *a = malloc(len), *b = malloc(len);
	uint64_t p1 = len / 3 & ~511ull, p2 = len / 2 & ~511ull;
	struct iovec iov[3] = {{a, p1}, {a + p1, p2 - p1}, {a + p2, len - p2}};
	int ok = a && b && blk_image_read(v, iov, 3, off) == 0 && img_rd(r, b, len, off) == 0 &&
		 memcmp(a, b, len) == 0;

	if (!ok)
		fprintf(stderr, "differ at 0x%llx +0x%llx\n", (unsigned long long)off,
			(unsigned long long)len);
	free(a);
	free(b);
	return ok;
}

/* r.raw of size with patterns at odd places (a partial grain, a run over a
 * grain boundary, a lone sector far away), then convert with opts. */
static int make_pair(const char *size, const char *opts)
{
	return sh("qemu-img create -q -f raw r.raw %s", size) ||
	       sh("qemu-io -f raw -c 'write -P 0xab 0 100k' -c 'write -P 0x11 1M 4k' "
		  "-c 'write -P 0x5c 1535k 3k' -c 'write -P 0x77 3584k 512' r.raw") ||
	       sh("qemu-img convert -O vmdk %s r.raw v.vmdk", opts);
}

static int check_pair(uint64_t size, uint32_t grain, unsigned version)
{
	struct timg v, r;
	struct blk_image_info info;
	static const uint64_t odd[][2] = {
	    {512, 512},	      {65024, 1024},	  {99 * 1024, 4096},	{1535 * 1024, 3584},
	    {1 << 20, 65536}, {3584 * 1024, 512}, {2 << 20, 128 * 1024}};

	CHECK(topen_v(&v, "v.vmdk", true, NULL) == 0);
	CHECK(topen_raw(&r, "r.raw", true) == 0);
	CHECK(blk_image_size(v.img) == size);
	CHECK(same(v.img, r.img, 0, size < (4u << 20) ? size : 4u << 20));
	for (unsigned i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		CHECK(same(v.img, r.img, odd[i][0], odd[i][1]));
	CHECK(blk_image_info(v.img, &info) == 0);
	CHECK(!strcmp(info.format, "vmdk") && info.version == version && info.size == size);
	CHECK(info.cluster_size == grain && !info.has_backing && info.allocated > 0);
	tclose(&r);
	tclose(&v);
	return 0;
}

static int test_sparse(void)
{
	NEED_QEMU();
	CHECK(make_pair("4M", "") == 0);
	CHECK(check_pair(4u << 20, 65536, 1) == 0);
	tmp_cleanup();
	return 0;
}

/* qemu-img makes 64 KiB grains only: other sizes by rewriting the header
 * of an image built for them is not possible, so 512 B..1 MiB are covered
 * by the hostile cases' bounds and the fuzzer; here, the odd capacity (not
 * a whole grain) that the last grain must respect. */
static int test_odd_capacity(void)
{
	NEED_QEMU();
	CHECK(make_pair("4100k", "") == 0);
	CHECK(check_pair(4100 * 1024, 65536, 1) == 0);
	CHECK(
	    sh("rm v.vmdk && qemu-img convert -O vmdk -o subformat=streamOptimized r.raw v.vmdk") ==
	    0);
	CHECK(check_pair(4100 * 1024, 65536, 3) == 0);
	tmp_cleanup();
	return 0;
}

static int test_large_sparse(void)
{
	struct timg v;
	uint8_t *buf = malloc(1 << 20);

	NEED_QEMU();
	CHECK(buf);
	CHECK(make_pair("2G", "") == 0);
	CHECK(sh("qemu-io -f raw -c 'write -P 0x42 1G 192k' -c 'write -P 0x43 2047M 1M' r.raw") ==
	      0);
	CHECK(sh("rm v.vmdk && qemu-img convert -O vmdk r.raw v.vmdk") == 0);
	CHECK(check_pair(2ull << 30, 65536, 1) == 0);
	CHECK(topen_v(&v, "v.vmdk", true, NULL) == 0);
	CHECK(img_rd(v.img, buf, 192 * 1024, 1ull << 30) == 0 && all_are(buf, 192 * 1024, 0x42));
	CHECK(img_rd(v.img, buf, 1 << 20, 2047ull << 20) == 0 && all_are(buf, 1 << 20, 0x43));
	CHECK(img_rd(v.img, buf, 1 << 20, 1500ull << 20) == 0 && all_are(buf, 1 << 20, 0));
	tclose(&v);
	free(buf);
	tmp_cleanup();
	return 0;
}

static int test_stream(void)
{
	NEED_QEMU();
	CHECK(make_pair("4M", "-o subformat=streamOptimized") == 0);
	CHECK(check_pair(4u << 20, 65536, 3) == 0);
	tmp_cleanup();
	return 0;
}

/* Reads from four threads at once on one image (vmdk.h: nothing shared
 * is mutable), each range checked against the raw source. */
struct reader {
	struct blk_image *v, *r;
	unsigned seed;
	int bad;
};

static void *reader_run(void *arg)
{
	struct reader *t = arg;

	for (unsigned i = 0; i < 300; i++) {
		uint64_t off = (uint64_t)(rand_r(&t->seed) % 8192) * 512;
		uint64_t len = (uint64_t)(1 + rand_r(&t->seed) % 256) * 512;

		if (off + len > 4u << 20)
			len = (4u << 20) - off;
		if (!same(t->v, t->r, off, len))
			t->bad++;
	}
	return NULL;
}

static int test_threads(void)
{
	static const char *const opts[] = {"", "-o subformat=streamOptimized"};

	NEED_QEMU();
	for (unsigned k = 0; k < 2; k++) {
		struct reader rd[4];
		pthread_t th[4];
		struct timg v, r;

		CHECK(sh("rm -f v.vmdk r.raw") == 0 && make_pair("4M", opts[k]) == 0);
		CHECK(topen_v(&v, "v.vmdk", true, NULL) == 0);
		CHECK(topen_raw(&r, "r.raw", true) == 0);
		for (unsigned i = 0; i < 4; i++) {
			rd[i] = (struct reader){v.img, r.img, 17 * i + k, 0};
			CHECK(pthread_create(&th[i], NULL, reader_run, &rd[i]) == 0);
		}
		for (unsigned i = 0; i < 4; i++) {
			pthread_join(th[i], NULL);
			CHECK(rd[i].bad == 0);
		}
		tclose(&r);
		tclose(&v);
	}
	tmp_cleanup();
	return 0;
}

/* Zero grains as qemu-img writes them (zeroed_grain=on: version 2, the
 * zero-grain flag, a grain table entry of 1), against qemu-img's own
 * reading of the same image. */
static int test_zero_grains(void)
{
	struct timg v, r;
	uint8_t buf[65536];

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f vmdk -o zeroed_grain=on v.vmdk 4M") == 0);
	CHECK(sh("qemu-io -f vmdk -c 'write -P 0x44 0 256k' -c 'write -z 64k 64k' "
		 "-c 'write -z 200k 4k' v.vmdk") == 0);
	CHECK(sh("qemu-img convert -O raw v.vmdk r.raw") == 0);
	CHECK(topen_v(&v, "v.vmdk", true, NULL) == 0);
	CHECK(topen_raw(&r, "r.raw", true) == 0);
	CHECK(same(v.img, r.img, 0, 4u << 20));
	CHECK(img_rd(v.img, buf, sizeof(buf), 65536) == 0 && all_are(buf, sizeof(buf), 0));
	CHECK(img_rd(v.img, buf, 4096, 0) == 0 && all_are(buf, 4096, 0x44));
	tclose(&r);
	tclose(&v);
	tmp_cleanup();
	return 0;
}

/* A parent named in the descriptor: reported, read through when given,
 * -EIO on its grains when not. */
static int test_parent(void)
{
	struct timg b, o, r;
	struct blk_image_info info;

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f vmdk base.vmdk 4M") == 0);
	CHECK(sh("qemu-io -f vmdk -c 'write -P 0x21 0 256k' base.vmdk") == 0);
	CHECK(sh("qemu-img create -q -f vmdk -b base.vmdk -F vmdk ov.vmdk") == 0);
	CHECK(sh("qemu-io -f vmdk -c 'write -P 0x33 64k 64k' ov.vmdk") == 0);
	CHECK(sh("qemu-img convert -O raw ov.vmdk r.raw") == 0);
	CHECK(topen_v(&o, "ov.vmdk", true, NULL) == 0);
	CHECK(blk_image_info(o.img, &info) == 0);
	CHECK(info.has_backing && strstr(info.backing_name, "base.vmdk"));
	{
		uint8_t buf[4096];

		CHECK(img_rd(o.img, buf, sizeof(buf), 64 * 1024) == 0 &&
		      all_are(buf, sizeof(buf), 0x33));
		CHECK(img_rd(o.img, buf, sizeof(buf), 0) == -EIO);
	}
	tclose(&o);
	CHECK(topen_v(&b, "base.vmdk", true, NULL) == 0);
	CHECK(topen_v(&o, "ov.vmdk", true, b.img) == 0);
	CHECK(topen_raw(&r, "r.raw", true) == 0);
	CHECK(same(o.img, r.img, 0, 4u << 20));
	CHECK(same(o.img, r.img, 60 * 1024, 8192));
	tclose(&r);
	tclose(&o);
	/* a backing for an image that names none */
	CHECK(topen_v(&o, "base.vmdk", true, b.img) == -EINVAL && strstr(o.err, "names none"));
	tclose(&b);
	tmp_cleanup();
	return 0;
}

static int test_read_only(void)
{
	struct timg v;
	uint8_t buf[512] = {0};

	NEED_QEMU();
	CHECK(make_pair("4M", "") == 0);
	CHECK(topen_v(&v, "v.vmdk", false, NULL) == -ENOTSUP);
	CHECK(strstr(v.err, "read-only in moat: add ro"));
	CHECK(topen_v(&v, "v.vmdk", true, NULL) == 0);
	CHECK(img_wr(v.img, buf, sizeof(buf), 0) == -EROFS);
	CHECK(blk_image_discard(v.img, 0, 65536) == -EROFS);
	CHECK(blk_image_write_zeroes(v.img, 0, 65536) == -EROFS);
	CHECK(v.img->ops->write(v.img, &(struct iovec){buf, 512}, 1, 0) == -EROFS);
	CHECK(v.img->ops->discard(v.img, 0, 512) == -EROFS);
	CHECK(v.img->ops->write_zeroes(v.img, 0, 512) == -EROFS);
	CHECK(blk_image_flush(v.img) == 0);
	tclose(&v);
	tmp_cleanup();
	return 0;
}

/* -- hostile images: v.vmdk from make_pair("4M", ""), qemu-img's layout:
 * header, descriptor at sector 1, redundant directory, primary directory
 * at sector gd (header offset 56), its tables after, grains from the
 * overhead (offset 64) on. */

static int open_fails(int err, const char *what)
{
	struct timg t;
	int rc = topen_v(&t, "v.vmdk", true, NULL);

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

#define HEADER_CASE(fn, opts, patch, err, what)                                                    \
	static int fn(void)                                                                        \
	{                                                                                          \
		NEED_QEMU();                                                                       \
		CHECK(make_pair("4M", opts) == 0);                                                 \
		CHECK((patch) == 0);                                                               \
		CHECK(open_fails(err, what) == 0);                                                 \
		tmp_cleanup();                                                                     \
		return 0;                                                                          \
	}

#define V "v.vmdk"
HEADER_CASE(test_bad_magic, "", put32(V, 0, 0x564d444c), -EINVAL, "bad magic")
HEADER_CASE(test_version0, "", put32(V, 4, 0), -EINVAL, "version 0")
HEADER_CASE(test_version4, "", put32(V, 4, 4), -EINVAL, "version 4")
HEADER_CASE(test_capacity_absurd, "", put64(V, 12, 1ull << 53), -EINVAL, "capacity")
HEADER_CASE(test_capacity_overflow, "", put64(V, 12, (1ull << 55) + 1), -EINVAL, "capacity")
HEADER_CASE(test_capacity_wraps, "", put64(V, 12, ~0ull), -EINVAL, "capacity")
/* a large capacity that passes the bound needs a directory the file has not */
HEADER_CASE(test_capacity_big, "", put64(V, 12, 1ull << 40), -EINVAL, "grain directory")
HEADER_CASE(test_grain_zero, "", put64(V, 20, 0), -EINVAL, "grain size of 0")
HEADER_CASE(test_grain_huge, "", put64(V, 20, 4096), -EINVAL, "grain size of 4096")
HEADER_CASE(test_grain_odd, "", put64(V, 20, 96), -EINVAL, "grain size of 96")
HEADER_CASE(test_grain_wraps, "", put64(V, 20, 1ull << 63), -EINVAL, "grain size")
HEADER_CASE(test_desc_past_end, "", put64(V, 28, 1ull << 40), -EINVAL, "descriptor")
HEADER_CASE(test_desc_size_huge, "", put64(V, 36, 1ull << 50), -EINVAL, "descriptor")
HEADER_CASE(test_desc_wraps, "", put64(V, 28, ~0ull) || put64(V, 36, 2), -EINVAL, "descriptor")
HEADER_CASE(test_gtes_zero, "", put32(V, 44, 0), -EINVAL, "grain table entries")
HEADER_CASE(test_gtes_absurd, "", put32(V, 44, 0x40000000), -EINVAL, "grain table entries")
HEADER_CASE(test_gd_past_end, "", put64(V, 56, 1ull << 40), -EINVAL, "grain directory")
HEADER_CASE(test_gd_wraps, "", put64(V, 56, ~0ull - 1), -EINVAL, "grain directory")
HEADER_CASE(test_gd_zero, "", put64(V, 56, 0), -EINVAL, "grain directory")
HEADER_CASE(test_gd_over_desc, "", put64(V, 56, 1), -EINVAL, "overlap")
HEADER_CASE(test_newlines, "", put(V, 73, "\n \n\n", 4), -EINVAL, "newline")
HEADER_CASE(test_no_footer, "", put64(V, 56, ~0ull), -EINVAL, "footer")
HEADER_CASE(test_create_type, "", put(V, ctype_at(), "createType=\"vmfs\"\n#", 19), -ENOTSUP,
	    "createType vmfs")
HEADER_CASE(test_two_extents, "", put(V, ctype_at(), "RW 8 SPARSE \"a\"\nRW 8 SPARSE \"b\"\n", 32),
	    -ENOTSUP, "extents")
HEADER_CASE(test_compressed_sparse, "",
	    put32(V, 8, 3 | 1u << 16 | 1u << 17) || put(V, 77, "\x01", 1), -ENOTSUP,
	    "outside streamOptimized")
HEADER_CASE(test_compress_algo, "-o subformat=streamOptimized", put(V, 77, "\x02", 1), -ENOTSUP,
	    "compression algorithm 2")
HEADER_CASE(test_no_markers, "-o subformat=streamOptimized", put32(V, 8, 3 | 1u << 16), -ENOTSUP,
	    "markers")
HEADER_CASE(test_truncated, "", sh("truncate -s 300 v.vmdk"), -EINVAL, "too short")
HEADER_CASE(test_desc_file, "", sh("printf '# Disk DescriptorFile\\n' > v.vmdk"), -ENOTSUP,
	    "descriptor file")
HEADER_CASE(test_parent_long, "",
	    put(V, ctype_at(), "parentFileNameHint=\"", 20) ||
		sh("yes x | head -c 2800 | tr -d '\\n' | dd of=v.vmdk bs=1 seek=%llu conv=notrunc "
		   "status=none",
		   (unsigned long long)ctype_at() + 20),
	    -EINVAL, "parentFileNameHint")

/* The header is fine, an entry is not: open works, the read that meets it
 * fails with -EIO, other reads still work. */
static int read_fails_at_ok(uint64_t off, bool other_ok)
{
	struct timg v;
	uint8_t buf[4096];

	CHECK(topen_v(&v, V, true, NULL) == 0);
	CHECK(img_rd(v.img, buf, sizeof(buf), off) == -EIO);
	if (other_ok)
		CHECK(img_rd(v.img, buf, sizeof(buf), 3584 * 1024) == 0);
	tclose(&v);
	return 0;
}

static int read_fails_at(uint64_t off)
{
	return read_fails_at_ok(off, true);
}

static int test_bad_entries(void)
{
	uint64_t gd, gt;

	NEED_QEMU();
	CHECK(make_pair("4M", "") == 0);
	gd = get_le(V, 56, 8) * 512;
	gt = get_le(V, gd, 4) * 512;
	CHECK(gd && gt);
	/* a grain past the end, into the header, into the descriptor, into
	 * the directory */
	CHECK(put32(V, gt, 0x7fffffff) == 0 && read_fails_at(0) == 0);
	CHECK(put32(V, gt, 0) == 0 && put32(V, gt + 4, 1) == 0 && read_fails_at(65536) == 0);
	CHECK(put32(V, gt + 4, 3) == 0 && read_fails_at(65536) == 0);
	CHECK(put32(V, gt + 4, (uint32_t)(gd / 512)) == 0 && read_fails_at(65536) == 0);
	/* a zero grain in version 2: zeros; grain 0 unallocated: zeros */
	CHECK(put32(V, gt + 4, 1) == 0 && put32(V, 4, 2) == 0);
	{
		struct timg v;
		uint8_t buf[8192];

		CHECK(topen_v(&v, V, true, NULL) == 0);
		CHECK(img_rd(v.img, buf, sizeof(buf), 65536 - 4096) == 0 &&
		      all_are(buf, sizeof(buf), 0));
		tclose(&v);
	}
	/* a table past the end, in the header */
	CHECK(put32(V, gd, 0x7fffffff) == 0 && read_fails_at_ok(0, false) == 0);
	CHECK(put32(V, gd, 1) == 0 && read_fails_at_ok(0, false) == 0);
	CHECK(put32(V, gd, (uint32_t)(gd / 512)) == 0 && read_fails_at_ok(0, false) == 0);
	/* an unallocated table: zeros */
	CHECK(put32(V, gd, 0) == 0);
	{
		struct timg v;
		uint8_t buf[8192];

		CHECK(topen_v(&v, V, true, NULL) == 0);
		CHECK(img_rd(v.img, buf, sizeof(buf), 3584 * 1024) == 0 &&
		      all_are(buf, sizeof(buf), 0));
		tclose(&v);
	}
	tmp_cleanup();
	return 0;
}

static int test_bad_compressed(void)
{
	uint64_t gd, gt, g;

	NEED_QEMU();
	CHECK(make_pair("4M", "-o subformat=streamOptimized") == 0);
	gd = get_le(V, 56, 8) * 512;
	gt = get_le(V, gd, 4) * 512;
	g = get_le(V, gt, 4) * 512;
	CHECK(gd && gt && g);
	CHECK(put64(V, g, 128) == 0 && read_fails_at(0) == 0); /* marker names another grain */
	CHECK(put64(V, g, 0) == 0 && put32(V, g + 8, 0x7fffffff) == 0 && read_fails_at(0) == 0);
	CHECK(put32(V, g + 8, 0) == 0 && read_fails_at(0) == 0);
	CHECK(put32(V, g + 8, 40) == 0 && put(V, g + 12, "garbage!garbage!", 16) == 0 &&
	      read_fails_at(0) == 0);
	/* a grain that inflates to less than a grain */
	CHECK(sh("printf 'short' | python3 -c \"import sys,zlib;"
		 "sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))\" > z") == 0);
	CHECK(sh("dd if=z of=v.vmdk bs=1 seek=%llu conv=notrunc status=none",
		 (unsigned long long)g + 12) == 0);
	{
		struct stat st;
		char p[128];

		CHECK(stat(tpath(p, sizeof(p), "z"), &st) == 0);
		CHECK(put32(V, g + 8, (uint32_t)st.st_size) == 0 && read_fails_at(0) == 0);
	}
	tmp_cleanup();
	return 0;
}

/* streamOptimized with its directory in a footer: the header says "at the
 * end", the footer (made here from the header) has the offsets. */
static int test_footer(void)
{
	struct timg v, r;
	uint8_t h[512], mk[512] = {0};
	int fd;
	off_t end;

	NEED_QEMU();
	CHECK(make_pair("4M", "-o subformat=streamOptimized") == 0);
	fd = fdp(V);
	CHECK(fd >= 0 && pread(fd, h, 512, 0) == 512);
	end = lseek(fd, 0, SEEK_END);
	mk[12] = 3; /* a footer marker */
	CHECK(pwrite(fd, mk, 512, end) == 512 && pwrite(fd, h, 512, end + 512) == 512);
	memset(mk, 0, sizeof(mk));
	CHECK(pwrite(fd, mk, 512, end + 1024) == 512);
	close(fd);
	CHECK(put64(V, 56, ~0ull) == 0);
	CHECK(topen_v(&v, V, true, NULL) == 0);
	CHECK(topen_raw(&r, "r.raw", true) == 0);
	CHECK(same(v.img, r.img, 0, 4u << 20));
	tclose(&r);
	tclose(&v);
	/* a footer that says "at the end" too */
	CHECK(put64(V, (uint64_t)end + 512 + 56, ~0ull) == 0);
	CHECK(open_fails(-EINVAL, "footer") == 0);
	tmp_cleanup();
	return 0;
}

/* clang-format off */
static const struct test_case tests[] = {
	TEST(test_sparse),
	TEST(test_odd_capacity),
	TEST(test_large_sparse),
	TEST(test_stream),
	TEST(test_threads),
	TEST(test_zero_grains),
	TEST(test_parent),
	TEST(test_read_only),
	TEST(test_bad_magic),
	TEST(test_version0),
	TEST(test_version4),
	TEST(test_capacity_absurd),
	TEST(test_capacity_overflow),
	TEST(test_capacity_wraps),
	TEST(test_capacity_big),
	TEST(test_grain_zero),
	TEST(test_grain_huge),
	TEST(test_grain_odd),
	TEST(test_grain_wraps),
	TEST(test_desc_past_end),
	TEST(test_desc_size_huge),
	TEST(test_desc_wraps),
	TEST(test_gtes_zero),
	TEST(test_gtes_absurd),
	TEST(test_gd_past_end),
	TEST(test_gd_wraps),
	TEST(test_gd_zero),
	TEST(test_gd_over_desc),
	TEST(test_newlines),
	TEST(test_no_footer),
	TEST(test_create_type),
	TEST(test_two_extents),
	TEST(test_compressed_sparse),
	TEST(test_compress_algo),
	TEST(test_no_markers),
	TEST(test_truncated),
	TEST(test_desc_file),
	TEST(test_parent_long),
	TEST(test_bad_entries),
	TEST(test_bad_compressed),
	TEST(test_footer),
};
/* clang-format on */

int main(void)
{
	return run_tests(tests, sizeof(tests) / sizeof(tests[0]));
}
