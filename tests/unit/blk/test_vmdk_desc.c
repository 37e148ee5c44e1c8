/* vmdk descriptor files (devproc/blk/vmdk_desc.c, vmdk_desc_image.c):
 * images qemu-img writes in each subformat (monolithicFlat,
 * twoGbMaxExtentFlat, twoGbMaxExtentSparse: 5 GiB, so three extents) read
 * back equal to the raw source across every extent boundary; descriptors
 * written by hand over raw files (FLAT at offsets, RDONLY, ZERO,
 * NOACCESS, a file used twice) compared byte for byte, and against what
 * qemu-img reads from the same descriptor; reads from several threads;
 * writable opens refused; bad descriptor sets at open; and hostile
 * descriptor texts, each refused with its errno and a line naming the
 * problem. The test opens each extent by its name, as the monitor will. */
#include <pthread.h>
#include <sys/mman.h>

#include "test_qcow2_fixture.h"
#include "vmdk.h"
#include "vmdk_desc.h"

/* Static, not on the stack: about 130 KiB each (vmdk_desc.h). */
static struct vmdk_desc D;

struct comp {
	unsigned n;
	int fds[VMDK_DESC_MAX_EXTENTS];
	struct blk_image *img;
	char err[512];
};

static int put_file(const char *name, const void *buf, size_t len)
{
	char p[128];
	int fd = open(tpath(p, sizeof(p), name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int ok = fd >= 0 && write(fd, buf, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static int read_desc(const char *name, struct vmdk_desc *d, char *err, size_t errlen)
{
	char p[128];
	int fd = open(tpath(p, sizeof(p), name), O_RDONLY), rc;

	if (fd < 0)
		return -errno;
	rc = vmdk_desc_read(fd, d, err, errlen);
	close(fd);
	return rc;
}

/* Open D's extents by name (ZERO and NOACCESS: -1), then the composite. */
static int comp_open_d(struct comp *c)
{
	char p[BLK_IMAGE_NAME_MAX + 80];
	int rc;

	c->img = NULL;
	c->n = D.n;
	for (unsigned i = 0; i < D.n; i++) {
		c->fds[i] = -1;
		if (D.ext[i].type != VMDK_EXTENT_ZERO && D.ext[i].access != VMDK_ACCESS_NOACCESS)
			c->fds[i] = open(tpath(p, sizeof(p), D.ext[i].name), O_RDONLY);
	}
	rc = vmdk_desc_open(&D, c->fds, c->n, true, &c->img, c->err, sizeof(c->err));
	if (rc < 0)
		fprintf(stderr, "vmdk_desc_open: %s\n", c->err);
	return rc;
}

static int comp_open(struct comp *c, const char *name)
{
	int rc;

	c->img = NULL;
	c->n = 0;
	rc = read_desc(name, &D, c->err, sizeof(c->err));

	if (rc < 0) {
		fprintf(stderr, "vmdk_desc_read %s: %s\n", name, c->err);
		return rc;
	}
	return comp_open_d(c);
}

static void comp_close(struct comp *c)
{
	blk_image_close(c->img);
	for (unsigned i = 0; i < c->n; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
}

/* [off, off + len) of v, read through three uneven pieces, equal to the
 * same range of r (an image) or of want (memory)? */
static int same_as(struct blk_image *v, struct blk_image *r, const uint8_t *want, uint64_t off,
		   uint64_t len)
{
	uint8_t *a = malloc(len), *b = malloc(len);
	uint64_t p1 = len / 3 & ~511ull, p2 = len / 2 & ~511ull;
	struct iovec iov[3] = {{a, p1}, {a + p1, p2 - p1}, {a + p2, len - p2}};
	int rc = a && b ? blk_image_read(v, iov, 3, off) : -ENOMEM;
	int ok;

	if (rc == 0 && r)
		rc = img_rd(r, b, len, off);
	else if (rc == 0)
		memcpy(b, want + off, len);
	ok = rc == 0 && memcmp(a, b, len) == 0;
	if (!ok)
		fprintf(stderr, "differ at 0x%llx +0x%llx (rc %d)\n", (unsigned long long)off,
			(unsigned long long)len, rc);
	free(a);
	free(b);
	return ok;
}

/* r.raw of size with patterns around the 2 GiB extent boundaries that
 * twoGbMaxExtent* makes, at the start and at the end. */
static int make_raw(const char *size, bool big)
{
	if (sh("qemu-img create -q -f raw r.raw %s", size))
		return -1;
	if (!big)
		return sh("qemu-io -f raw -c 'write -P 0xab 0 1M' -c 'write -P 0x11 1M 4k' "
			  "-c 'write -P 0x5c 3583k 3k' -c 'write -P 0x77 5119k 1k' r.raw");
	return sh("qemu-io -f raw -c 'write -P 0xab 0 1M' -c 'write -P 0x5c 2047M 2M' "
		  "-c 'write -P 0x33 4095M 2M' -c 'write -P 0x44 5119M 1M' r.raw");
}

static int test_probe(void)
{
	static const char good[] = "# Disk DescriptorFile\nversion=1\n";
	uint8_t kdmv[512] = {'K', 'D', 'M', 'V', 1};

	CHECK(vmdk_desc_probe((const uint8_t *)good, sizeof(good) - 1));
	CHECK(!vmdk_desc_probe((const uint8_t *)good, 20)); /* cut short */
	CHECK(!vmdk_desc_probe((const uint8_t *)"# Disk Descriptor", 17));
	CHECK(!vmdk_desc_probe(kdmv, sizeof(kdmv)));
	CHECK(vmdk_probe(kdmv, sizeof(kdmv)));
	CHECK(!vmdk_probe((const uint8_t *)good, sizeof(good) - 1));
	CHECK(!vmdk_desc_probe(NULL, 0));
	return 0;
}

/* qemu-img's monolithicFlat: one FLAT extent, the descriptor's fields,
 * every byte equal to the source; vmdk.h refuses the text. */
static int test_mono_flat(void)
{
	static const uint64_t odd[][2] = {
	    {512, 512}, {65024, 1024}, {1 << 20, 4096}, {3583 * 1024, 3072}, {5119 << 10, 1024}};
	struct comp c;
	struct timg r;
	struct blk_image_info info;
	struct vmdk_open_args a;
	struct blk_image *none = NULL;
	char p[128];

	NEED_QEMU();
	CHECK(make_raw("5M", false) == 0);
	CHECK(sh("qemu-img convert -O vmdk -o subformat=monolithicFlat r.raw v.vmdk") == 0);
	CHECK(comp_open(&c, "v.vmdk") == 0);
	CHECK(!strcmp(D.create_type, "monolithicFlat") && D.n == 1 && !D.has_parent);
	CHECK(D.ext[0].type == VMDK_EXTENT_FLAT && D.ext[0].access == VMDK_ACCESS_RW);
	CHECK(D.ext[0].sectors == 10240 && D.ext[0].offset == 0);
	CHECK(!strcmp(D.ext[0].name, "v-flat.vmdk") && D.size == 5u << 20);
	CHECK(topen_raw(&r, "r.raw", true) == 0);
	CHECK(blk_image_size(c.img) == 5u << 20);
	CHECK(same_as(c.img, r.img, NULL, 0, 5u << 20));
	for (unsigned i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		CHECK(same_as(c.img, r.img, NULL, odd[i][0], odd[i][1]));
	CHECK(blk_image_info(c.img, &info) == 0);
	CHECK(!strcmp(info.format, "vmdk") && info.size == 5u << 20 && !info.has_backing);
	CHECK(info.allocated == 5u << 20);
	/* the text is not a sparse extent: vmdk_open says so */
	a = (struct vmdk_open_args){.fd = open(tpath(p, sizeof(p), "v.vmdk"), O_RDONLY),
				    .read_only = true,
				    .err = c.err,
				    .errlen = sizeof(c.err)};
	CHECK(vmdk_open(&a, &none) == -ENOTSUP && none == NULL && strstr(c.err, "descriptor file"));
	close(a.fd);
	tclose(&r);
	comp_close(&c);
	tmp_cleanup();
	return 0;
}

/* A 5 GiB disk in three 2 GiB-or-less extents: the boundaries at 2 GiB
 * and 4 GiB, read across, at odd sizes, and the ends. */
#define M (1ull << 20)

static int check_big(const char *subformat, enum vmdk_extent_type type, char letter)
{
	static const uint64_t odd[][2] = {{0, 1 << 20},
					  {2047 * M, 2 * M},
					  {2048 * M - 512, 1024},
					  {2048 * M - 4096, 12288},
					  {4095 * M + 512, 2 * M},
					  {4096 * M - 1536, 3584},
					  {5119 * M, 1 << 20},
					  {5120 * M - 512, 512},
					  {1000 * M, 64 * 1024},
					  {2048 * M, 512},
					  {4096 * M - 512, 1 << 20},
					  {2047 * M + 4096, 1024 * 1024}};
	struct comp c;
	struct timg r;
	char name[32];

	CHECK(make_raw("5G", true) == 0);
	CHECK(sh("qemu-img convert -O vmdk -o subformat=%s r.raw v.vmdk", subformat) == 0);
	CHECK(comp_open(&c, "v.vmdk") == 0);
	CHECK(!strcmp(D.create_type, subformat) && D.n == 3 && D.size == 5 * 1024 * M);
	for (unsigned i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "v-%c%03u.vmdk", letter, i + 1);
		CHECK(D.ext[i].type == type && !strcmp(D.ext[i].name, name));
		CHECK(D.ext[i].sectors == (i < 2 ? 4194304u : 2097152u) && D.ext[i].offset == 0);
	}
	CHECK(topen_raw(&r, "r.raw", true) == 0);
	CHECK(blk_image_size(c.img) == 5 * 1024 * M);
	for (unsigned i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		CHECK(same_as(c.img, r.img, NULL, odd[i][0], odd[i][1]));
	tclose(&r);
	comp_close(&c);
	return 0;
}
#undef M

static int test_two_gb_flat(void)
{
	NEED_QEMU();
	CHECK(check_big("twoGbMaxExtentFlat", VMDK_EXTENT_FLAT, 'f') == 0);
	tmp_cleanup();
	return 0;
}

static int test_two_gb_sparse(void)
{
	NEED_QEMU();
	CHECK(check_big("twoGbMaxExtentSparse", VMDK_EXTENT_SPARSE, 's') == 0);
	tmp_cleanup();
	return 0;
}

/* qemu-img's small twoGbMaxExtentSparse (one extent) whole, and its
 * extent's capacity checked against the descriptor file. */
static int test_small_sparse(void)
{
	struct comp c;
	struct timg r;

	NEED_QEMU();
	CHECK(make_raw("5M", false) == 0);
	CHECK(sh("qemu-img convert -O vmdk -o subformat=twoGbMaxExtentSparse r.raw v.vmdk") == 0);
	CHECK(comp_open(&c, "v.vmdk") == 0);
	CHECK(D.n == 1 && D.ext[0].type == VMDK_EXTENT_SPARSE && D.ext[0].sectors == 10240);
	CHECK(topen_raw(&r, "r.raw", true) == 0);
	CHECK(same_as(c.img, r.img, NULL, 0, 5u << 20));
	comp_close(&c);
	/* the descriptor file says one sector less than the extent has */
	D.ext[0].sectors--;
	CHECK(comp_open_d(&c) == -EINVAL && strstr(c.err, "capacity") &&
	      strstr(c.err, "extent 0 (v-s001.vmdk)"));
	comp_close(&c);
	/* a "sparse" extent that is a raw file */
	CHECK(read_desc("v.vmdk", &D, c.err, sizeof(c.err)) == 0);
	snprintf(D.ext[0].name, sizeof(D.ext[0].name), "r.raw");
	CHECK(comp_open_d(&c) == -EINVAL && strstr(c.err, "bad magic"));
	comp_close(&c);
	tclose(&r);
	tmp_cleanup();
	return 0;
}

/* Whole-image KDMV files named as SPARSE extents: a monolithicSparse one
 * reads (its embedded descriptor ignored: the descriptor file governs), a
 * streamOptimized one is refused (compressed grains). */
static int test_sparse_kinds(void)
{
	static const char desc[] = "createType=\"twoGbMaxExtentSparse\"\n"
				   "RW 10240 SPARSE \"m.vmdk\"\n"
				   "RW 10240 SPARSE \"m.vmdk\"\n";
	struct comp c;
	struct timg r;

	NEED_QEMU();
	CHECK(make_raw("5M", false) == 0);
	CHECK(sh("qemu-img convert -O vmdk r.raw m.vmdk") == 0);
	CHECK(sh("qemu-img convert -O vmdk -o subformat=streamOptimized r.raw so.vmdk") == 0);
	CHECK(put_file("d.vmdk", desc, sizeof(desc) - 1) == 0);
	CHECK(comp_open(&c, "d.vmdk") == 0);
	CHECK(topen_raw(&r, "r.raw", true) == 0);
	CHECK(blk_image_size(c.img) == 10u << 20);
	CHECK(same_as(c.img, r.img, NULL, 0, 5u << 20));
	/* the second copy, and a read across the two */
	{
		static uint8_t a[8192], b[8192];

		CHECK(img_rd(c.img, a, 8192, (5u << 20) - 4096) == 0);
		CHECK(img_rd(r.img, b, 4096, (5u << 20) - 4096) == 0);
		CHECK(img_rd(r.img, b + 4096, 4096, 0) == 0);
		CHECK(memcmp(a, b, 8192) == 0);
	}
	comp_close(&c);
	snprintf(D.ext[1].name, sizeof(D.ext[1].name), "so.vmdk");
	CHECK(comp_open_d(&c) == -ENOTSUP && strstr(c.err, "extent 1 (so.vmdk)") &&
	      strstr(c.err, "compressed"));
	comp_close(&c);
	tclose(&r);
	tmp_cleanup();
	return 0;
}

/* -- descriptors written by hand over raw files ------------------------- */

#define A_BYTES (300 * 1024)
#define C_BYTES ((7 + 300) * 512)

/* a.raw and c.raw full of pseudo-random bytes (c.raw exactly as long as
 * its extent needs). */
static int make_files(void)
{
	static uint8_t buf[A_BYTES];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	return put_file("a.raw", buf, A_BYTES) || put_file("c.raw", buf + 999, C_BYTES);
}

/* The hand descriptor's disk as it must read, from the files. */
static const char hand_desc[] = "# Disk DescriptorFile\n"
				"version=1\n"
				"CID=fffffffe\n"
				"parentCID=ffffffff\n"
				"createType=\"monolithicFlat\"\n"
				"\n"
				"# Extent description\n"
				"RW 200 FLAT \"a.raw\" 3\n"
				"RDONLY 1 FLAT \"c.raw\" 306\n"
				"RW 129 ZERO\n"
				"RW 300 FLAT \"c.raw\" 7\n"
				"RW 5 FLAT \"a.raw\"\n"
				"\n"
				"ddb.adapterType = \"ide\"\n";
#define HAND_SECTORS (200 + 1 + 129 + 300 + 5)

static uint8_t *hand_expected(void)
{
	uint8_t *e = calloc(HAND_SECTORS, 512), *a = malloc(A_BYTES), *c = malloc(C_BYTES);
	char p[128];
	int fa = open(tpath(p, sizeof(p), "a.raw"), O_RDONLY);
	int fc = open(tpath(p, sizeof(p), "c.raw"), O_RDONLY);

	if (!e || !a || !c || pread(fa, a, A_BYTES, 0) != A_BYTES ||
	    pread(fc, c, C_BYTES, 0) != C_BYTES) {
		free(e);
		e = NULL;
	} else {
		memcpy(e, a + 3 * 512, 200 * 512);
		memcpy(e + 200 * 512, c + 306 * 512, 512);
		memcpy(e + 330 * 512, c + 7 * 512, 300 * 512);
		memcpy(e + 630 * 512, a, 5 * 512);
	}
	close(fa);
	close(fc);
	free(a);
	free(c);
	return e;
}

static int put_text(const char *name, const char *text)
{
	return put_file(name, text, strlen(text));
}

/* Every byte at once, then from every sector a run of 1..40 sectors (so
 * that every boundary is crossed from every distance). */
static int test_hand_made(void)
{
	struct comp c;
	uint8_t *want;

	CHECK(tmp_setup() == 0);
	CHECK(make_files() == 0 && put_text("h.vmdk", hand_desc) == 0);
	CHECK((want = hand_expected()) != NULL);
	CHECK(comp_open(&c, "h.vmdk") == 0);
	CHECK(D.n == 5 && D.size == HAND_SECTORS * 512ull);
	CHECK(D.ext[1].access == VMDK_ACCESS_RDONLY && D.ext[1].offset == 306);
	CHECK(D.ext[2].type == VMDK_EXTENT_ZERO && D.ext[2].name[0] == 0);
	CHECK(D.ext[4].offset == 0); /* no offset written: 0 */
	CHECK(blk_image_size(c.img) == HAND_SECTORS * 512ull);
	CHECK(same_as(c.img, NULL, want, 0, HAND_SECTORS * 512ull));
	for (uint64_t s = 0; s < HAND_SECTORS; s++) {
		uint64_t k = 1 + s * 7 % 40;

		if (s + k > HAND_SECTORS)
			k = HAND_SECTORS - s;
		CHECK(same_as(c.img, NULL, want, s * 512, k * 512));
	}
	/* byte offsets, as a read of this image as a backing may come */
	{
		static uint8_t got[2000];
		uint8_t *w2 = hand_expected();

		CHECK(w2 && blk_image_read_clamped(c.img, got, sizeof(got), 200 * 512 - 700) == 0);
		CHECK(memcmp(got, w2 + 200 * 512 - 700, sizeof(got)) == 0);
		CHECK(blk_image_read_clamped(c.img, got, sizeof(got), 330 * 512 - 3) == 0);
		CHECK(memcmp(got, w2 + 330 * 512 - 3, sizeof(got)) == 0);
		free(w2);
	}
	comp_close(&c);
	free(want);
	tmp_cleanup();
	return 0;
}

/* The same extents written so that qemu-img reads them (it skips
 * RDONLY and ZERO lines): qemu-img's raw conversion equals our read. */
static int test_hand_vs_qemu(void)
{
	static const char desc[] = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"
				   "parentCID=ffffffff\ncreateType=\"monolithicFlat\"\n"
				   "RW 200 FLAT \"a.raw\" 3\nRW 1 FLAT \"c.raw\" 306\n"
				   "RW 300 FLAT \"c.raw\" 7\nRW 5 FLAT \"a.raw\" 0\n";
	struct comp c;
	struct timg q;

	NEED_QEMU();
	CHECK(make_files() == 0 && put_text("h.vmdk", desc) == 0);
	CHECK(sh("qemu-img convert -f vmdk -O raw h.vmdk q.raw") == 0);
	CHECK(comp_open(&c, "h.vmdk") == 0);
	CHECK(topen_raw(&q, "q.raw", true) == 0);
	CHECK(blk_image_size(q.img) == blk_image_size(c.img));
	CHECK(same_as(c.img, q.img, NULL, 0, blk_image_size(c.img)));
	tclose(&q);
	comp_close(&c);
	tmp_cleanup();
	return 0;
}

/* CR LF, tabs, an unquoted createType, comments and blanks, qemu-img's
 * NUL padding: all read as intended. */
static int test_lenient(void)
{
	static const char t[] = "# Disk DescriptorFile\r\n"
				"\tversion = 1 \r\n"
				"createType = twoGbMaxExtentFlat\r\n"
				"   # a comment with \"quotes\" and RW 5 FLAT\r\n"
				"parentFileNameHint=\"base dir/p.vmdk\"\r\n"
				"RW\t8 FLAT\t\"name with spaces.vmdk\"\t 4 \r\n"
				"NOACCESS 2 SPARSE \"s\"\r\n"
				"RDONLY 3 ZERO\r\n"
				"ddb.uuid.image=\"1-2\"\r\n"
				"\0\0\0\0\0";
	char err[256];

	CHECK(vmdk_desc_parse(t, sizeof(t) - 1, &D, err, sizeof(err)) == 0);
	CHECK(!strcmp(D.create_type, "twoGbMaxExtentFlat") && D.n == 3);
	CHECK(D.has_parent && !strcmp(D.parent_hint, "base dir/p.vmdk"));
	CHECK(D.ext[0].type == VMDK_EXTENT_FLAT && D.ext[0].sectors == 8 && D.ext[0].offset == 4);
	CHECK(!strcmp(D.ext[0].name, "name with spaces.vmdk"));
	CHECK(D.ext[1].type == VMDK_EXTENT_SPARSE && D.ext[1].access == VMDK_ACCESS_NOACCESS);
	CHECK(D.ext[2].type == VMDK_EXTENT_ZERO && D.ext[2].access == VMDK_ACCESS_RDONLY);
	CHECK(D.size == 13 * 512);
	return 0;
}

/* What qemu-img leaves when it rewrites a descriptor with a shorter CID
 * (printed without leading zeros): the new text, its NUL, then the old
 * text's tail. The text ends at the NUL; the tail is not read (when this
 * parser refused anything but NULs after a NUL, qemu-img's own
 * conversions failed test_mono_flat in a clean-clone rehearsal and
 * test_two_gb_flat in 1 of 20 local runs). */
static int test_stale_tail(void)
{
	static const char t[] = "# Disk DescriptorFile\nversion=1\nCID=1b2c3d\n"
				"createType=\"monolithicFlat\"\nRW 8 FLAT \"a\" 0\n"
				"\0\n\0\0RW 8 FLAT \"b\" 0\nstale\n";
	char err[256];

	CHECK(vmdk_desc_parse(t, sizeof(t) - 1, &D, err, sizeof(err)) == 0);
	CHECK(D.n == 1 && !strcmp(D.ext[0].name, "a") && D.size == 8 * 512);
	return 0;
}

/* VMDK_DESC_MAX_EXTENTS extents are fine; VMDK_DESC_MAX_BYTES exactly
 * (NUL-padded, as qemu-img pads) is fine through vmdk_desc_read, a byte
 * more is not. */
static int test_limits(void)
{
	static char t[VMDK_DESC_MAX_BYTES + 1];
	char err[256];
	size_t k;
	int fd;

	k = (size_t)snprintf(t, sizeof(t), "createType=\"monolithicFlat\"\n");
	for (unsigned i = 0; i < VMDK_DESC_MAX_EXTENTS; i++)
		k += (size_t)snprintf(t + k, sizeof(t) - k, "RW %u FLAT \"f%u\" %u\n", i + 1, i, i);
	CHECK(vmdk_desc_parse(t, k, &D, err, sizeof(err)) == 0);
	CHECK(D.n == VMDK_DESC_MAX_EXTENTS &&
	      D.size == 512ull * VMDK_DESC_MAX_EXTENTS * (VMDK_DESC_MAX_EXTENTS + 1) / 2);
	CHECK(!strcmp(D.ext[127].name, "f127") && D.ext[127].offset == 127);
	fd = memfd_create("desc", 0);
	CHECK(fd >= 0 && pwrite(fd, t, VMDK_DESC_MAX_BYTES, 0) == VMDK_DESC_MAX_BYTES);
	CHECK(vmdk_desc_read(fd, &D, err, sizeof(err)) == 0 && D.n == VMDK_DESC_MAX_EXTENTS);
	CHECK(pwrite(fd, "", 1, VMDK_DESC_MAX_BYTES) == 1);
	CHECK(vmdk_desc_read(fd, &D, err, sizeof(err)) == -EINVAL && strstr(err, "larger"));
	CHECK(D.n == 0);
	close(fd);
	return 0;
}

/* A NOACCESS extent: no descriptor needed, a read touching it fails, the
 * rest reads. A FLAT file shorter than its extent: -EIO for a read that
 * reaches past the file's end, not zeros. */
static int test_noaccess_and_short(void)
{
	static const char t[] = "createType=\"monolithicFlat\"\n"
				"RW 4 FLAT \"c.raw\" 0\n"
				"NOACCESS 4 FLAT \"gone.raw\" 0\n"
				"RW 400 FLAT \"c.raw\" 10\n";
	static uint8_t buf[8192];
	struct comp c;

	CHECK(tmp_setup() == 0);
	CHECK(make_files() == 0 && put_text("n.vmdk", t) == 0);
	CHECK(comp_open(&c, "n.vmdk") == 0);
	CHECK(c.fds[1] == -1);
	CHECK(img_rd(c.img, buf, 2048, 0) == 0);
	CHECK(img_rd(c.img, buf, 1024, 1536) == -EIO);
	CHECK(img_rd(c.img, buf, 512, 5 * 512) == -EIO);
	/* c.raw has 307 sectors: the third extent's data ends at its
	 * sector 297 (disk sector 8 + 297 = 305) */
	CHECK(img_rd(c.img, buf, 8192, 8 * 512) == 0);
	CHECK(img_rd(c.img, buf, 512, 304 * 512) == 0);
	CHECK(img_rd(c.img, buf, 512, 305 * 512) == -EIO);
	CHECK(img_rd(c.img, buf, 1024, 304 * 512) == -EIO);
	CHECK(img_rd(c.img, buf, 512, 407 * 512) == -EIO);
	comp_close(&c);
	tmp_cleanup();
	return 0;
}

struct reader {
	struct blk_image *img;
	const uint8_t *want;
	unsigned seed;
	int bad;
};

static void *reader_run(void *arg)
{
	struct reader *r = arg;
	static __thread uint8_t buf[64 * 512];

	for (int i = 0; i < 3000; i++) {
		uint64_t s = rand_r(&r->seed) % HAND_SECTORS;
		uint64_t k = 1 + rand_r(&r->seed) % 64;

		if (s + k > HAND_SECTORS)
			k = HAND_SECTORS - s;
		if (img_rd(r->img, buf, k * 512, s * 512) ||
		    memcmp(buf, r->want + s * 512, k * 512))
			r->bad++;
	}
	return NULL;
}

static int test_threads(void)
{
	struct reader rd[4];
	pthread_t th[4];
	struct comp c;
	uint8_t *want;

	CHECK(tmp_setup() == 0);
	CHECK(make_files() == 0 && put_text("h.vmdk", hand_desc) == 0);
	CHECK((want = hand_expected()) != NULL);
	CHECK(comp_open(&c, "h.vmdk") == 0);
	for (unsigned i = 0; i < 4; i++) {
		rd[i] = (struct reader){c.img, want, i + 1, 0};
		CHECK(pthread_create(&th[i], NULL, reader_run, &rd[i]) == 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(rd[i].bad == 0);
	}
	comp_close(&c);
	free(want);
	tmp_cleanup();
	return 0;
}

/* Writable refused as vmdk.h refuses it; every change -EROFS. */
static int test_read_only(void)
{
	static uint8_t buf[512];
	struct blk_image *img = NULL;
	struct comp c;

	CHECK(tmp_setup() == 0);
	CHECK(make_files() == 0 && put_text("h.vmdk", hand_desc) == 0);
	CHECK(comp_open(&c, "h.vmdk") == 0);
	CHECK(vmdk_desc_open(&D, c.fds, c.n, false, &img, c.err, sizeof(c.err)) == -ENOTSUP);
	CHECK(img == NULL && strstr(c.err, "vmdk images are read-only in moat: add ro"));
	CHECK(img_wr(c.img, buf, 512, 0) == -EROFS);
	CHECK(c.img->ops->write(c.img, &(struct iovec){buf, 512}, 1, 0) == -EROFS);
	CHECK(blk_image_discard(c.img, 0, 512) == -EROFS);
	CHECK(c.img->ops->discard(c.img, 0, 512) == -EROFS);
	CHECK(c.img->ops->write_zeroes(c.img, 0, 512) == -EROFS);
	CHECK(blk_image_flush(c.img) == 0);
	comp_close(&c);
	tmp_cleanup();
	return 0;
}

/* What vmdk_desc_open refuses in the set it is given. */
static int test_open_refusals(void)
{
	struct blk_image *img = NULL;
	char err[512];
	struct comp c;
	int fds[VMDK_DESC_MAX_EXTENTS];

	CHECK(tmp_setup() == 0);
	CHECK(make_files() == 0 && put_text("h.vmdk", hand_desc) == 0);
	CHECK(comp_open(&c, "h.vmdk") == 0);
	memcpy(fds, c.fds, sizeof(fds));
	CHECK(vmdk_desc_open(&D, fds, D.n - 1, true, &img, err, sizeof(err)) == -EBADF);
	CHECK(strstr(err, "4 file descriptors for 5 extents"));
	fds[3] = -1;
	CHECK(vmdk_desc_open(&D, fds, D.n, true, &img, err, sizeof(err)) == -EBADF);
	CHECK(strstr(err, "extent 3 (c.raw): no file descriptor"));
	fds[3] = c.fds[3];
	D.has_parent = true;
	snprintf(D.parent_hint, sizeof(D.parent_hint), "base.vmdk");
	CHECK(vmdk_desc_open(&D, fds, D.n, true, &img, err, sizeof(err)) == -ENOTSUP);
	CHECK(strstr(err, "parent") && strstr(err, "base.vmdk"));
	D.has_parent = false;
	/* structs the parser could not have made */
	D.ext[2].type = (enum vmdk_extent_type)7;
	CHECK(vmdk_desc_open(&D, fds, D.n, true, &img, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "unknown type"));
	D.ext[2].type = VMDK_EXTENT_ZERO;
	D.ext[2].sectors = 0;
	CHECK(vmdk_desc_open(&D, fds, D.n, true, &img, err, sizeof(err)) == -EINVAL);
	D.ext[2].sectors = 1ull << 52;
	CHECK(vmdk_desc_open(&D, fds, D.n, true, &img, err, sizeof(err)) == -EINVAL);
	D.ext[2].sectors = 129;
	D.ext[0].offset = ~0ull - 100;
	CHECK(vmdk_desc_open(&D, fds, D.n, true, &img, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "2^63"));
	D.ext[0].offset = 3;
	D.n = VMDK_DESC_MAX_EXTENTS + 1;
	CHECK(vmdk_desc_open(&D, fds, D.n, true, &img, err, sizeof(err)) == -EINVAL);
	D.n = 0;
	CHECK(vmdk_desc_open(&D, fds, 0, true, &img, err, sizeof(err)) == -EINVAL);
	CHECK(img == NULL);
	D.n = 5;
	CHECK(vmdk_desc_open(&D, fds, D.n, true, &img, err, sizeof(err)) == 0);
	blk_image_close(img);
	comp_close(&c);
	tmp_cleanup();
	return 0;
}

/* -- hostile texts -------------------------------------------------------- */

/* Parse text (and read it from a memfd, the same way): refused with
 * want, a line naming the problem (what), *out cleared. */
static int hostile(const char *text, size_t len, int want, const char *what)
{
	char err[512], err2[512];
	int fd = memfd_create("hostile", 0), rc;

	memset(&D, 0x5a, sizeof(D));
	rc = vmdk_desc_parse(text, len, &D, err, sizeof(err));
	if (rc != want || !strstr(err, what) || strncmp(err, "vmdk descriptor", 15) ||
	    strchr(err, '\n') || D.n != 0 || D.size != 0) {
		fprintf(stderr, "got %d '%s', want %d '%s'\n", rc, err, want, what);
		return 1;
	}
	CHECK(fd >= 0 && pwrite(fd, text, len, 0) == (ssize_t)len);
	CHECK(vmdk_desc_read(fd, &D, err2, sizeof(err2)) == want && strstr(err2, what));
	close(fd);
	return 0;
}

#define HDR "# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicFlat\"\n"

/* name, text, errno, what the line must say */
#define HOSTILE_CASES(X)                                                                           \
	X(no_extents, HDR "\n# Extent description\n", -EINVAL, "no extents")                       \
	X(empty, "", -EINVAL, "no createType")                                                     \
	X(no_create_type, "version=1\nRW 8 FLAT \"a\" 0\n", -EINVAL, "no createType")              \
	X(create_type_twice, HDR "createType=\"monolithicFlat\"\nRW 8 FLAT \"a\" 0\n", -EINVAL,    \
	  "createType given twice")                                                                \
	X(create_type_empty, "createType=\"\"\nRW 8 FLAT \"a\" 0\n", -EINVAL, "empty createType")  \
	X(create_type_vmfs, "createType=\"vmfs\"\nRW 8 VMFS \"a\"\n", -ENOTSUP, "createType vmfs") \
	X(create_type_sparse, "createType=\"monolithicSparse\"\nRW 8 SPARSE \"a\"\n", -ENOTSUP,    \
	  "monolithicSparse not supported")                                                        \
	X(create_type_junk, "createType=\"x\x80y\"\nRW 8 FLAT \"a\"\n", -ENOTSUP, "not supported") \
	X(zero_sectors, HDR "RW 0 FLAT \"a\" 0\n", -EINVAL, "0 sectors")                           \
	X(past_2_52, HDR "RW 4503599627370496 ZERO\nRW 1 ZERO\n", -EINVAL, "2^52")                 \
	X(one_past_2_52, HDR "RW 4503599627370497 ZERO\n", -EINVAL, "2^52")                        \
	X(sum_wraps, HDR "RW 18446744073709551615 ZERO\nRW 1 ZERO\n", -EINVAL, "2^52")             \
	X(sectors_past_2_64, HDR "RW 18446744073709551616 ZERO\n", -EINVAL, "decimal")             \
	X(sectors_negative, HDR "RW -8 FLAT \"a\" 0\n", -EINVAL, "decimal")                        \
	X(sectors_hex, HDR "RW 0x10 FLAT \"a\" 0\n", -EINVAL, "decimal")                           \
	X(offset_junk, HDR "RW 8 FLAT \"a\" 1e3\n", -EINVAL, "offset is not a decimal")            \
	X(type_vmfs, HDR "RW 8 VMFS \"a\"\n", -ENOTSUP, "extent type VMFS not supported")          \
	X(type_vmfssparse, HDR "RW 8 VMFSSPARSE \"a\"\n", -ENOTSUP, "VMFSSPARSE")                  \
	X(type_sesparse, HDR "RW 8 SESPARSE \"a\"\n", -ENOTSUP, "SESPARSE")                        \
	X(type_missing, HDR "RW 8 \n", -EINVAL, "extent without a type")                           \
	X(type_lowercase, HDR "RW 8 flat \"a\" 0\n", -ENOTSUP, "flat not supported")               \
	X(name_control, HDR "RW 8 FLAT \"a\x01.vmdk\" 0\n", -EINVAL, "control character 0x01")     \
	X(name_escape, HDR "RW 8 FLAT \"\x1b[2J\" 0\n", -EINVAL, "control character 0x1b")         \
	X(name_tab, HDR "RW 8 FLAT \"a\tb\" 0\n", -EINVAL, "control character 0x09 in the extent") \
	X(name_cr, HDR "RW 8 FLAT \"a\rb\" 0\n", -EINVAL, "control character 0x0d in the extent")  \
	X(hint_tab, HDR "parentFileNameHint=\"p\t.vmdk\"\n", -EINVAL,                              \
	  "0x09 in the parentFileNameHint")                                                        \
	X(del_char, HDR "RW 8 FLAT \"a\x7f\" 0\n", -EINVAL, "control character 0x7f")              \
	/* the text ends at its first NUL: here inside a name */                                  \
	X(nul_inside, HDR "RW 8 FLAT \"a\0b\" 0\n", -EINVAL, "closing quote")                      \
	X(name_unquoted, HDR "RW 8 FLAT a.vmdk 0\n", -EINVAL, "not in quotes")                     \
	X(name_unclosed, HDR "RW 8 FLAT \"a.vmdk 0\n", -EINVAL, "closing quote")                   \
	X(name_empty, HDR "RW 8 FLAT \"\" 0\n", -EINVAL, "empty extent file name")                 \
	X(name_missing, HDR "RW 8 FLAT\n", -EINVAL, "without a file name")                         \
	X(name_glued, HDR "RW 8 FLAT \"a\"0\n", -EINVAL, "right after")                            \
	X(flat_wraps, HDR "RW 8 FLAT \"a\" 18446744073709551610\n", -EINVAL, "2^63")               \
	X(flat_past_off_t, HDR "RW 8 FLAT \"a\" 18014398509481984\n", -EINVAL, "2^63")             \
	X(sparse_offset, HDR "RW 8 SPARSE \"a\" 0\n", -EINVAL, "SPARSE extent takes no offset")    \
	X(zero_named, HDR "RW 8 ZERO \"a\"\n", -EINVAL, "ZERO extent takes no name")               \
	X(trailing, HDR "RW 8 FLAT \"a\" 0 0\n", -EINVAL, "after the extent's last field")         \
	X(garbage_line, HDR "RW 8 FLAT \"a\" 0\nhello world\n", -EINVAL, "line 5: neither")        \
	X(bad_access, HDR "WO 8 FLAT \"a\" 0\n", -EINVAL, "neither")                               \
	X(version_4, "version=4\n" HDR "RW 8 FLAT \"a\" 0\n", -ENOTSUP, "version 4")               \
	X(version_junk, "version=one\n" HDR, -EINVAL, "version is not a number")                   \
	X(parent_twice, HDR "parentFileNameHint=\"a\"\nparentFileNameHint=\"b\"\n", -EINVAL,       \
	  "parentFileNameHint given twice")                                                        \
	X(parent_empty, HDR "parentFileNameHint=\"\"\n", -EINVAL, "empty parentFileNameHint")

#define DEF_HOSTILE(n, t, e, w)                                                                    \
	static int test_hostile_##n(void)                                                          \
	{                                                                                          \
		return hostile(t, sizeof(t) - 1, e, w);                                            \
	}
HOSTILE_CASES(DEF_HOSTILE)

/* Built, not literal: too many extents, a text too large, names and
 * hints one byte too long (and one that just fits). */
static int test_hostile_too_many(void)
{
	static char t[VMDK_DESC_MAX_BYTES];
	size_t k = (size_t)snprintf(t, sizeof(t), HDR);

	for (unsigned i = 0; i <= VMDK_DESC_MAX_EXTENTS; i++)
		k += (size_t)snprintf(t + k, sizeof(t) - k, "RW 1 ZERO\n");
	return hostile(t, k, -EINVAL, "line 132: more than 128 extents");
}

static int test_hostile_too_large(void)
{
	static char t[VMDK_DESC_MAX_BYTES + 1];
	size_t k = (size_t)snprintf(t, sizeof(t), HDR "RW 1 ZERO\n");

	memset(t + k, '#', sizeof(t) - k);
	return hostile(t, sizeof(t), -EINVAL, "larger than");
}

static int test_hostile_name_long(void)
{
	static char t[4096];
	char name[BLK_IMAGE_NAME_MAX + 1], err[256];

	memset(name, 'n', sizeof(name));
	name[BLK_IMAGE_NAME_MAX - 1] = 0; /* 1023 bytes: fits */
	snprintf(t, sizeof(t), HDR "RW 8 FLAT \"%s\" 0\n", name);
	CHECK(vmdk_desc_parse(t, strlen(t), &D, err, sizeof(err)) == 0);
	CHECK(strlen(D.ext[0].name) == BLK_IMAGE_NAME_MAX - 1);
	name[BLK_IMAGE_NAME_MAX - 1] = 'n';
	name[BLK_IMAGE_NAME_MAX] = 0; /* 1024: one too many */
	snprintf(t, sizeof(t), HDR "RW 8 FLAT \"%s\" 0\n", name);
	CHECK(hostile(t, strlen(t), -EINVAL, "extent file name of 1024 bytes too long") == 0);
	snprintf(t, sizeof(t), HDR "parentFileNameHint=\"%s\"\nRW 8 ZERO\n", name);
	return hostile(t, strlen(t), -EINVAL, "parentFileNameHint of 1024 bytes too long");
}

/* clang-format off */
#define REF_HOSTILE(n, t, e, w) TEST(test_hostile_##n),
static const struct test_case tests[] = {
	TEST(test_probe),
	TEST(test_mono_flat),
	TEST(test_two_gb_flat),
	TEST(test_two_gb_sparse),
	TEST(test_small_sparse),
	TEST(test_sparse_kinds),
	TEST(test_hand_made),
	TEST(test_hand_vs_qemu),
	TEST(test_lenient),
	TEST(test_stale_tail),
	TEST(test_limits),
	TEST(test_noaccess_and_short),
	TEST(test_threads),
	TEST(test_read_only),
	TEST(test_open_refusals),
	HOSTILE_CASES(REF_HOSTILE)
	TEST(test_hostile_too_many),
	TEST(test_hostile_too_large),
	TEST(test_hostile_name_long),
};
/* clang-format on */

int main(void)
{
	return run_tests(tests, sizeof(tests) / sizeof(tests[0]));
}
