/* libFuzzer target: vmdk descriptor files (devproc/blk/vmdk_desc.c and
 * vmdk_desc_image.c). The input is either
 *   - the descriptor text itself, or
 *   - '@', then patches (le16 offset, byte) applied to a valid template
 *     (FLAT at an offset, ZERO, NOACCESS, two SPARSE, RDONLY FLAT), so that
 *     mutations start from something that parses and opens.
 * A text that parses is opened over memfd-backed extents: every FLAT
 * extent reads one 64 KiB file of a known pattern; a SPARSE extent of up
 * to 2^24 sectors gets a KDMV extent built for its capacity (a grain
 * directory of empty tables but for one allocated grain), a larger one
 * the raw file (which vmdk.h refuses); ZERO and NOACCESS get -1. Then a
 * writable open (refused), reads at places chosen by a hash of the input,
 * a read of the first ZERO extent (zeros) and of the first FLAT extent
 * that lies inside the file (the pattern), info, and close.
 * Invariants: no crash or sanitizer report; a refusal says why in one
 * line that starts "vmdk descriptor" and leaves the result cleared; a
 * parse that succeeds gives 1..128 extents of more than 0 sectors whose
 * sum is size (at most 2^52 sectors), names without control characters,
 * empty exactly for ZERO. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmdk.h"
#include "vmdk_desc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEC	   512u
#define RAW_BYTES  65536u
#define MAX_SPARSE 4u
#define GRAIN	   128u /* sectors: a table of 512 covers 32 MiB */
#define GTES	   512u

static const char template_desc[] = "# Disk DescriptorFile\n"
				    "version=1\n"
				    "CID=fffffffe\n"
				    "parentCID=ffffffff\n"
				    "createType=\"twoGbMaxExtentSparse\"\n"
				    "\n"
				    "# Extent description\n"
				    "RW 40 FLAT \"f.vmdk\" 9\n"
				    "RW 16 ZERO\n"
				    "NOACCESS 8 FLAT \"gone.vmdk\" 0\n"
				    "RW 2048 SPARSE \"s1.vmdk\"\n"
				    "RW 300 SPARSE \"s2.vmdk\"\n"
				    "RDONLY 100 FLAT \"f.vmdk\" 0\n"
				    "\n"
				    "ddb.adapterType = \"ide\"\n";

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 9));
}

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

/* A KDMV extent of cap sectors into fd: header, no descriptor, the grain
 * directory at sector 1, one table after it whose first grain is
 * allocated (so a read both finds data and zeros). */
static int build_sparse(int fd, uint64_t cap)
{
	static uint8_t buf[64 * 1024 + 8 * SEC];
	uint64_t gd_n = (cap + GRAIN * GTES - 1) / (GRAIN * GTES);
	uint64_t gd_sec = (gd_n * 4 + SEC - 1) / SEC, gt = 1 + gd_sec;
	uint64_t grain = gt + GTES * 4 / SEC, end = (grain + GRAIN) * SEC;

	if (end > sizeof(buf) + GRAIN * SEC || ftruncate(fd, 0) < 0)
		return -1;
	memset(buf, 0, sizeof(buf));
	le32(buf, 0x564d444b);
	le32(buf + 4, 1);
	le32(buf + 8, 1);
	le64(buf + 12, cap);
	le64(buf + 20, GRAIN);
	le32(buf + 44, GTES);
	le64(buf + 56, 1);
	le64(buf + 64, grain);
	memcpy(buf + 73, "\n \r\n", 4);
	le32(buf + SEC, (uint32_t)gt);
	le32(buf + gt * SEC, (uint32_t)grain);
	if (pwrite(fd, buf, grain * SEC, 0) != (ssize_t)(grain * SEC))
		return -1;
	memset(buf, 0xc3, GRAIN * SEC);
	return pwrite(fd, buf, GRAIN * SEC, grain * SEC) == GRAIN * SEC ? 0 : -1;
}

static void check_parsed(const struct vmdk_desc *d)
{
	uint64_t sum = 0;

	if (d->n == 0 || d->n > VMDK_DESC_MAX_EXTENTS)
		abort();
	for (unsigned i = 0; i < d->n; i++) {
		const struct vmdk_extent_desc *x = &d->ext[i];
		size_t len = strnlen(x->name, sizeof(x->name));

		if (x->sectors == 0 || len >= sizeof(x->name) ||
		    (x->type == VMDK_EXTENT_ZERO) != (len == 0))
			abort();
		for (size_t k = 0; k < len; k++)
			if ((unsigned char)x->name[k] < 0x20 || x->name[k] == 0x7f)
				abort();
		sum += x->sectors;
	}
	if (sum > 1ull << 52 || d->size != sum * SEC)
		abort();
}

/* Read len bytes at off (sectors, clamped to the disk): 0 or -errno. */
static int rd(struct blk_image *img, uint8_t *buf, uint64_t off, uint64_t len)
{
	struct iovec v[2];
	uint64_t size = blk_image_size(img);
	int rc;

	if (off >= size)
		return 0;
	if (len > size - off)
		len = size - off;
	v[0] = (struct iovec){buf, len / 2 & ~511ull};
	v[1] = (struct iovec){buf + v[0].iov_len, len - v[0].iov_len};
	rc = blk_image_read(img, v, 2, off);
	if (rc > 0)
		abort();
	return rc;
}

static void exercise(struct blk_image *img, const struct vmdk_desc *d, uint64_t h)
{
	static uint8_t buf[256 * 1024];
	uint64_t sectors = blk_image_size(img) / SEC, start = 0;
	struct blk_image_info info;
	bool zero_done = false, flat_done = false;

	for (int i = 0; i < 4 && sectors; i++, h = h * 6364136223846793005ull + 1) {
		uint64_t off = (h >> 8) % sectors * SEC, len = (1 + (h >> 40) % 512) * SEC;

		rd(img, buf, off, len);
	}
	for (unsigned i = 0; i < d->n; i++) {
		const struct vmdk_extent_desc *x = &d->ext[i];
		uint64_t len = x->sectors < 8 ? x->sectors * SEC : 8 * SEC;

		if (x->access == VMDK_ACCESS_NOACCESS) {
			if (rd(img, buf, start, SEC) != -EIO)
				abort();
		} else if (x->type == VMDK_EXTENT_ZERO && !zero_done) {
			zero_done = true;
			if (rd(img, buf, start, len) != 0)
				abort();
			for (uint64_t k = 0; k < len; k++)
				if (buf[k])
					abort();
		} else if (x->type == VMDK_EXTENT_FLAT && !flat_done &&
			   x->offset * SEC + len <= RAW_BYTES) {
			flat_done = true;
			if (rd(img, buf, start, len) != 0)
				abort();
			for (uint64_t k = 0; k < len; k++)
				if (buf[k] != pattern(x->offset * SEC + k))
					abort();
		}
		start += x->sectors * SEC;
	}
	if (blk_image_read_clamped(img, buf, 700, blk_image_size(img) / 2 + 3) > 0)
		abort();
	if (blk_image_write(img, &(struct iovec){buf, SEC}, 1, 0) != -EROFS)
		abort();
	if (blk_image_info(img, &info) != 0 || strcmp(info.format, "vmdk") || info.size != d->size)
		abort();
}

static void try_open(const struct vmdk_desc *d, int raw, const int *sparse, uint64_t h)
{
	static int fds[VMDK_DESC_MAX_EXTENTS];
	struct blk_image *img = NULL;
	unsigned ns = 0;
	char err[512];
	int rc;

	for (unsigned i = 0; i < d->n; i++) {
		const struct vmdk_extent_desc *x = &d->ext[i];

		fds[i] = -1;
		if (x->type == VMDK_EXTENT_FLAT)
			fds[i] = raw;
		else if (x->type == VMDK_EXTENT_SPARSE && ns < MAX_SPARSE &&
			 x->sectors <= 1u << 24 && build_sparse(sparse[ns], x->sectors) == 0)
			fds[i] = sparse[ns++];
		else if (x->type == VMDK_EXTENT_SPARSE)
			fds[i] = raw;
	}
	if (vmdk_desc_open(d, fds, d->n, false, &img, err, sizeof(err)) != -ENOTSUP ||
	    !strstr(err, "add ro"))
		abort();
	rc = vmdk_desc_open(d, fds, d->n, true, &img, err, sizeof(err));
	if (rc == 0) {
		exercise(img, d, h);
		blk_image_close(img);
	} else if (rc > 0 || strncmp(err, "vmdk descriptor", 15) || strchr(err, '\n')) {
		abort();
	} else if (d->has_parent && rc != -ENOTSUP) {
		abort(); /* a parent is refused as not supported */
	}
	if (d->has_parent && rc == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmdk_desc d;
	static char text[VMDK_DESC_MAX_BYTES + 16];
	static int raw = -1, sparse[MAX_SPARSE];
	const char *t = (const char *)data;
	uint64_t h = 1469598103934665603ull;
	char err[512];
	int rc;

	if (raw < 0) {
		static uint8_t b[RAW_BYTES];

		for (unsigned i = 0; i < RAW_BYTES; i++)
			b[i] = pattern(i);
		raw = memfd_create("fuzz-vmdk-flat", 0);
		if (raw < 0 || pwrite(raw, b, sizeof(b), 0) != sizeof(b))
			abort();
		for (unsigned i = 0; i < MAX_SPARSE; i++)
			if ((sparse[i] = memfd_create("fuzz-vmdk-sparse", 0)) < 0)
				abort();
	}
	if (size > sizeof(text))
		return 0;
	if (size && data[0] == '@') {
		size_t len = sizeof(template_desc) - 1;

		memcpy(text, template_desc, len);
		for (size_t i = 1; i + 3 <= size; i += 3)
			text[(data[i] | data[i + 1] << 8) % len] = (char)data[i + 2];
		t = text;
		size = len;
	}
	for (size_t i = 0; i < size; i++)
		h = (h ^ (uint8_t)t[i]) * 1099511628211ull;
	memset(err, 0, sizeof(err));
	rc = vmdk_desc_parse(t, size, &d, err, sizeof(err));
	if (rc == 0) {
		check_parsed(&d);
		try_open(&d, raw, sparse, h);
	} else if ((rc != -EINVAL && rc != -ENOTSUP) || strncmp(err, "vmdk descriptor", 15) ||
		   strchr(err, '\n') || d.n != 0 || d.size != 0) {
		abort();
	}
	return 0;
}
