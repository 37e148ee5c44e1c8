/* vmdk sparse extents, read-only: the header (or its footer copy), the
 * embedded descriptor and the grain directory at open, then reads through
 * grain tables. Every number from the file is checked before use. See
 * vmdk.h. */
#include "vmdk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define SECTOR	    512u
#define VMDK_MAGIC  0x564d444bu /* "KDMV" little-endian */
#define GD_AT_END   0xffffffffffffffffull
#define MAX_SECTORS (1ull << 52) /* 2^61 bytes, as qcow2 */
#define MAX_GRAIN   (1u << 20)
#define MAX_GTES    512u
#define MAX_DESC    (1u << 20)
#define MAX_GD	    (64u << 20) /* bytes of grain directory held in memory */
#define MARKER_LEN  12u		/* a compressed grain's lba (8) and size (4) */

/* header fields (little-endian, packed) */
enum {
	H_MAGIC = 0,
	H_VERSION = 4,
	H_FLAGS = 8,
	H_CAPACITY = 12,
	H_GRAIN = 20,
	H_DESC_OFF = 28,
	H_DESC_SIZE = 36,
	H_GTES = 44,
	H_RGD_OFF = 48,
	H_GD_OFF = 56,
	H_OVERHEAD = 64,
	H_NL_CHARS = 73, /* '\n', ' ', '\r', '\n' */
	H_COMPRESS = 77,
};

#define F_NL_TEST     (1u << 0)
#define F_ZERO_GRAIN  (1u << 2)
#define F_COMPRESSED  (1u << 16)
#define F_MARKERS     (1u << 17)
#define MARKER_FOOTER 3u

struct vmdk {
	struct blk_image img;
	int fd;
	struct blk_image *backing;
	uint64_t fsize;
	unsigned version;
	uint32_t flags;
	uint64_t grain;	   /* bytes */
	uint32_t gtes;	   /* entries per grain table */
	uint64_t gt_cover; /* bytes of disk one grain table covers */
	uint64_t overhead; /* bytes: grains start here or later */
	uint64_t desc_off, desc_len, gd_off;
	uint32_t *gd; /* host order, gd_n entries (sectors) */
	uint64_t gd_n;
	bool compressed, zero_gte, parent_named;
	char parent[BLK_IMAGE_NAME_MAX];
};

__attribute__((format(printf, 3, 4))) static int fail(const struct vmdk_open_args *a, int err,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	blk_image_verr(a->err, a->errlen, "vmdk", fmt, ap);
	va_end(ap);
	return err;
}

static uint32_t le32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

bool vmdk_probe(const uint8_t *buf, size_t len)
{
	return len >= 8 && le32_at(buf) == VMDK_MAGIC && le32_at(buf + 4) >= 1 &&
	       le32_at(buf + 4) <= 3;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Does [off, off + len) touch the header, the descriptor or the grain
 * directory? (Offsets here are below 2^61: no overflow.) */
static bool hits_meta(const struct vmdk *v, uint64_t off, uint64_t len)
{
	return off < SECTOR || overlaps(off, len, v->desc_off, v->desc_len) ||
	       overlaps(off, len, v->gd_off, v->gd_n * 4);
}

/* -- open ------------------------------------------------------------- */

/* The fixed fields: version, flags, sizes; the footer's copy for a
 * stream whose header says the directory is at the end. */
static int parse_header(struct vmdk *v, const struct vmdk_open_args *a, const uint8_t *h)
{
	uint64_t cap = le64_at(h + H_CAPACITY), grain = le64_at(h + H_GRAIN);
	uint64_t doff = le64_at(h + H_DESC_OFF), dsize = le64_at(h + H_DESC_SIZE);
	uint64_t gd = le64_at(h + H_GD_OFF), over = le64_at(h + H_OVERHEAD);

	if (le32_at(h + H_MAGIC) != VMDK_MAGIC)
		return fail(a, -EINVAL, "not a vmdk sparse extent (bad magic)");
	v->version = le32_at(h + H_VERSION);
	if (v->version < 1 || v->version > 3)
		return fail(a, -EINVAL, "version %u not supported (1..3 are)", v->version);
	v->flags = le32_at(h + H_FLAGS);
	if ((v->flags & F_NL_TEST) && memcmp(h + H_NL_CHARS, "\n \r\n", 4) != 0)
		return fail(a, -EINVAL, "newline characters mangled (copied in text mode?)");
	if (cap > MAX_SECTORS)
		return fail(a, -EINVAL, "capacity of %llu sectors too large",
			    (unsigned long long)cap);
	if (grain == 0 || grain > MAX_GRAIN / SECTOR || (grain & (grain - 1)))
		return fail(a, -EINVAL,
			    "grain size of %llu sectors invalid (a power of two up to 2048)",
			    (unsigned long long)grain);
	v->gtes = le32_at(h + H_GTES);
	if (v->gtes == 0 || v->gtes > MAX_GTES)
		return fail(a, -EINVAL, "%u grain table entries per table invalid (1..512)",
			    v->gtes);
	v->img.size = cap * SECTOR;
	v->grain = grain * SECTOR;
	v->gt_cover = v->grain * v->gtes;
	v->gd_n = v->img.size / v->gt_cover + (v->img.size % v->gt_cover != 0);
	if (doff > v->fsize / SECTOR || dsize > MAX_DESC / SECTOR ||
	    dsize * SECTOR > v->fsize - doff * SECTOR || (doff == 0) != (dsize == 0))
		return fail(a, -EINVAL, "descriptor (sector %llu, %llu sectors) out of the file",
			    (unsigned long long)doff, (unsigned long long)dsize);
	v->desc_off = doff * SECTOR;
	v->desc_len = dsize * SECTOR;
	if (gd == GD_AT_END)
		return 1; /* the caller reads the footer */
	if (gd == 0 || gd > v->fsize / SECTOR || v->gd_n * 4 > MAX_GD ||
	    v->gd_n * 4 > v->fsize - gd * SECTOR)
		return fail(a, -EINVAL,
			    "grain directory (sector %llu, %llu entries) out of the file",
			    (unsigned long long)gd, (unsigned long long)v->gd_n);
	v->gd_off = gd * SECTOR;
	if (v->desc_len && overlaps(v->gd_off, v->gd_n * 4, v->desc_off, v->desc_len))
		return fail(a, -EINVAL, "grain directory and descriptor overlap");
	v->overhead = over > MAX_SECTORS ? MAX_SECTORS * SECTOR : over * SECTOR;
	v->compressed = v->flags & F_COMPRESSED;
	if (v->compressed && (h[H_COMPRESS] | h[H_COMPRESS + 1] << 8) != 1)
		return fail(a, -ENOTSUP, "compression algorithm %u not supported (deflate is)",
			    h[H_COMPRESS] | h[H_COMPRESS + 1] << 8);
	if (v->compressed && !(v->flags & F_MARKERS))
		return fail(a, -ENOTSUP, "compressed grains without markers are not supported");
	v->zero_gte = v->version >= 2 || (v->flags & F_ZERO_GRAIN);
	return 0;
}

/* A header whose directory is at the end: the footer (a marker sector of
 * type footer, then a copy of the header with the real offsets, then the
 * end-of-stream marker) is the one to use. */
static int read_footer(struct vmdk *v, const struct vmdk_open_args *a)
{
	uint8_t f[3 * SECTOR];
	int rc;

	if (v->fsize < 4 * SECTOR)
		return fail(a, -EINVAL, "grain directory at the end but no room for a footer");
	rc = blk_pread(v->fd, f, sizeof(f), v->fsize - sizeof(f));
	if (rc < 0)
		return fail(a, rc, "cannot read the footer");
	if (le32_at(f + 8) != 0 || le32_at(f + 12) != MARKER_FOOTER)
		return fail(a, -EINVAL, "grain directory at the end but no footer marker");
	rc = parse_header(v, a, f + SECTOR);
	if (rc == 1)
		return fail(a, -EINVAL, "the footer's grain directory is at the end too");
	return rc;
}

/* One "key = value" line's value, quotes removed, into out (NUL-ended);
 * false when the line is not key. */
static bool desc_value(const char *line, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key), n;
	const char *p = line;

	if (strncmp(p, key, kl) != 0)
		return false;
	p += kl;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != '=')
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		n--;
	if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
		p++;
		n -= 2;
	}
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, p, n);
	out[n] = 0;
	return true;
}

/* The embedded descriptor: createType, the number of extents, the
 * parent's name. A text line at a time, each bounded by the descriptor. */
static int parse_descriptor(struct vmdk *v, const struct vmdk_open_args *a, char *d)
{
	char type[64] = "", val[BLK_IMAGE_NAME_MAX + 1];
	unsigned extents = 0;
	char *line, *save = NULL;

	for (line = strtok_r(d, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (desc_value(line, "createType", type, sizeof(type)))
			continue;
		if (desc_value(line, "parentFileNameHint", val, sizeof(val))) {
			if (strlen(val) >= BLK_IMAGE_NAME_MAX || !val[0])
				return fail(a, -EINVAL, "parentFileNameHint empty or too long");
			memcpy(v->parent, val, strlen(val) + 1);
			v->parent_named = true;
			continue;
		}
		if (!strncmp(line, "RW ", 3) || !strncmp(line, "RDONLY ", 7) ||
		    !strncmp(line, "NOACCESS ", 9))
			extents++;
	}
	if (type[0] && strcmp(type, "monolithicSparse") && strcmp(type, "streamOptimized"))
		return fail(
		    a, -ENOTSUP,
		    "createType %s not supported (monolithicSparse and streamOptimized are)", type);
	if (extents > 1)
		return fail(a, -ENOTSUP, "%u extents: only one sparse extent is supported",
			    extents);
	if (v->compressed && strcmp(type, "streamOptimized"))
		return fail(a, -ENOTSUP,
			    "compressed grains outside streamOptimized are not supported");
	return 0;
}

/* extent_sectors: 0 for a whole image, else vmdk_open_extent's sectors */
static int open_checked(struct vmdk *v, const struct vmdk_open_args *a, uint64_t extent_sectors)
{
	off_t end = lseek(a->fd, 0, SEEK_END);
	uint8_t h[SECTOR];
	char *d;
	int64_t k;
	int rc;

	if (end < 0)
		return fail(a, -errno, "cannot size the image: %m");
	v->fsize = (uint64_t)end;
	k = blk_pread_upto(a->fd, h, sizeof(h), 0);
	if (k < 0)
		return fail(a, (int)k, "cannot read the header");
	if (k >= 4 && !memcmp(h, "# Disk DescriptorFile", k < 21 ? (size_t)k : 21))
		return fail(a, -ENOTSUP,
			    "a descriptor file (split or flat extents) is not "
			    "supported: only monolithicSparse and streamOptimized");
	if (k < (int64_t)sizeof(h))
		return fail(a, -EINVAL, "not a vmdk sparse extent (%s)",
			    k >= 4 && le32_at(h) == VMDK_MAGIC ? "file too short" : "bad magic");
	rc = parse_header(v, a, h);
	if (rc == 1)
		rc = read_footer(v, a);
	if (rc < 0)
		return rc;
	if (extent_sectors) {
		if (v->img.size / SECTOR != extent_sectors)
			return fail(a, -EINVAL,
				    "capacity of %llu sectors but the descriptor file says %llu",
				    (unsigned long long)(v->img.size / SECTOR),
				    (unsigned long long)extent_sectors);
		if (v->compressed)
			return fail(a, -ENOTSUP,
				    "compressed grains in a split extent are not supported");
		if (a->backing)
			return fail(a, -EINVAL, "a split extent takes no backing image");
	} else if (v->desc_len) {
		d = calloc(1, v->desc_len + 1);
		if (!d)
			return -ENOMEM;
		rc = blk_pread(a->fd, d, v->desc_len, v->desc_off);
		if (rc < 0)
			rc = fail(a, rc, "cannot read the descriptor");
		else
			rc = parse_descriptor(v, a, d);
		free(d);
		if (rc < 0)
			return rc;
	} else if (v->compressed) {
		return fail(a, -ENOTSUP,
			    "compressed grains outside streamOptimized are not supported");
	}
	if (a->backing && !v->parent_named)
		return fail(a, -EINVAL, "a backing image was given but the descriptor names none");
	v->gd = calloc(v->gd_n ? v->gd_n : 1, 4);
	if (!v->gd)
		return -ENOMEM;
	rc = v->gd_n ? blk_pread(a->fd, v->gd, v->gd_n * 4, v->gd_off) : 0;
	if (rc < 0)
		return fail(a, rc, "cannot read the grain directory");
	for (uint64_t i = 0; i < v->gd_n; i++)
		v->gd[i] = le32toh(v->gd[i]);
	return 0;
}

/* -- reads ------------------------------------------------------------ */

/* The grain at host sector gte (compressed, with its marker), inflated
 * into buf (grain bytes); glba is the grain's first guest sector. */
static int read_compressed(struct vmdk *v, uint64_t gte, uint64_t glba, uint8_t *buf)
{
	uint64_t host = gte * SECTOR, want = v->img.size - glba * SECTOR;
	uint8_t m[MARKER_LEN], *z;
	z_stream s = {0};
	uint32_t clen;
	int rc;

	if (host < v->overhead || hits_meta(v, host, MARKER_LEN) || host > v->fsize ||
	    v->fsize - host < MARKER_LEN)
		return -EIO;
	rc = blk_pread(v->fd, m, sizeof(m), host);
	if (rc < 0)
		return rc;
	clen = le32_at(m + 8);
	if (le64_at(m) != glba || clen == 0 || clen > 2 * v->grain + 4096 ||
	    clen > v->fsize - host - MARKER_LEN)
		return -EIO;
	z = malloc(clen);
	if (!z)
		return -ENOMEM;
	rc = blk_pread(v->fd, z, clen, host + MARKER_LEN);
	if (rc == 0 && inflateInit(&s) != Z_OK)
		rc = -ENOMEM;
	else if (rc == 0) {
		s.next_in = z;
		s.avail_in = clen;
		s.next_out = buf;
		s.avail_out = (uInt)v->grain;
		if (want > v->grain)
			want = v->grain;
		if (inflate(&s, Z_FINISH) != Z_STREAM_END || s.total_out != want)
			rc = -EIO;
		inflateEnd(&s);
		memset(buf + want, 0, v->grain - want);
	}
	free(z);
	return rc;
}

/* Read-only with a buffer: what one grain's unallocated part reads as. */
static int read_unallocated(struct vmdk *v, const struct iovec *iov, unsigned n, uint64_t len,
			    uint64_t off)
{
	uint8_t *buf;
	int rc;

	if (!v->backing) {
		if (v->parent_named)
			return -EIO; /* its data is in a parent nobody gave us */
		blk_iov_zero(iov, n);
		return 0;
	}
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	rc = blk_image_read_clamped(v->backing, buf, len, off);
	if (rc == 0)
		blk_iov_from_buf(iov, n, buf);
	free(buf);
	return rc;
}

/* len bytes at guest off, all inside one grain whose entry is gte. */
static int read_in_grain(struct vmdk *v, uint32_t gte, const struct iovec *iov, unsigned n,
			 uint64_t len, uint64_t off)
{
	uint64_t gstart = off & ~(v->grain - 1), in = off - gstart, host;
	uint8_t *buf;
	int rc;

	if (gte == 0)
		return read_unallocated(v, iov, n, len, off);
	if (gte == 1 && v->zero_gte) {
		blk_iov_zero(iov, n);
		return 0;
	}
	if (v->compressed) {
		buf = malloc(v->grain);
		if (!buf)
			return -ENOMEM;
		rc = read_compressed(v, gte, gstart / SECTOR, buf);
		if (rc == 0)
			blk_iov_from_buf(iov, n, buf + in);
		free(buf);
		return rc;
	}
	host = (uint64_t)gte * SECTOR;
	if (host < v->overhead || hits_meta(v, host, v->grain) || host + in + len > v->fsize)
		return -EIO;
	return blk_io_full(v->fd, iov, n, host + in, false);
}

/* The grain table entries for grains first..first+count-1 of table t
 * (count within the table), into e. */
static int load_gtes(struct vmdk *v, uint64_t t, uint32_t first, uint32_t count, uint32_t *e)
{
	uint64_t gt = (uint64_t)v->gd[t] * SECTOR, bytes = (uint64_t)v->gtes * 4;
	int rc;

	if (gt == 0) {
		memset(e, 0, count * 4ull);
		return 0;
	}
	if (hits_meta(v, gt, bytes) || gt > v->fsize || bytes > v->fsize - gt)
		return -EIO;
	rc = blk_pread(v->fd, e, count * 4ull, gt + first * 4ull);
	for (uint32_t i = 0; rc == 0 && i < count; i++)
		e[i] = le32toh(e[i]);
	return rc;
}

static int vmdk_read(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off)
{
	struct vmdk *v = (struct vmdk *)img;
	uint64_t len = blk_iov_len(iov, n), done = 0;
	uint32_t e[MAX_GTES];
	struct iovec *sl;
	int rc = 0;

	sl = malloc((n ? n : 1) * sizeof(*sl));
	if (!sl)
		return -ENOMEM;
	while (rc == 0 && done < len) {
		uint64_t pos = off + done, t = pos / v->gt_cover;
		uint32_t first = (uint32_t)(pos % v->gt_cover / v->grain);
		uint64_t in_table = (t + 1) * v->gt_cover - pos;
		uint64_t span = len - done < in_table ? len - done : in_table;
		uint32_t count = (uint32_t)((pos % v->grain + span + v->grain - 1) / v->grain);

		if (t >= v->gd_n) {
			rc = -EIO; /* past the capacity: only a backing's clamped read */
			break;
		}
		rc = load_gtes(v, t, first, count, e);
		for (uint32_t i = 0; rc == 0 && i < count; i++) {
			uint64_t p = off + done;
			uint64_t k = v->grain - p % v->grain;
			unsigned m;

			if (k > len - done)
				k = len - done;
			m = blk_iov_slice(iov, n, done, k, sl);
			rc = read_in_grain(v, e[i], sl, m, k, p);
			done += k;
		}
	}
	free(sl);
	return rc;
}

static int vmdk_info(struct blk_image *img, struct blk_image_info *out)
{
	struct vmdk *v = (struct vmdk *)img;

	out->format = "vmdk";
	out->version = v->version;
	out->size = img->size;
	out->cluster_size = (uint32_t)v->grain;
	out->allocated = v->fsize;
	out->has_backing = v->parent_named;
	if (v->parent_named)
		snprintf(out->backing_name, sizeof(out->backing_name), "%s", v->parent);
	return 0;
}

static void vmdk_close(struct blk_image *img)
{
	struct vmdk *v = (struct vmdk *)img;

	free(v->gd);
	free(v);
}

static const struct blk_image_ops vmdk_ops = {
    .read = vmdk_read,
    .write = blk_image_ro_write,
    .flush = blk_image_ro_flush,
    .discard = blk_image_ro_discard,
    .write_zeroes = blk_image_ro_discard,
    .info = vmdk_info,
    .close = vmdk_close,
};

static int open_any(const struct vmdk_open_args *a, uint64_t extent_sectors, struct blk_image **out)
{
	struct vmdk *v;
	int rc;

	if (a->err && a->errlen)
		a->err[0] = 0;
	if (a->fd < 0)
		return fail(a, -EBADF, "no image descriptor");
	if (!a->read_only)
		return fail(a, -ENOTSUP, "vmdk images are read-only in moat: add ro");
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->img.ops = &vmdk_ops;
	v->img.read_only = true;
	v->fd = a->fd;
	v->backing = a->backing;
	rc = open_checked(v, a, extent_sectors);
	if (rc < 0) {
		free(v->gd);
		free(v);
		return rc;
	}
	*out = &v->img;
	return 0;
}

int vmdk_open(const struct vmdk_open_args *a, struct blk_image **out)
{
	return open_any(a, 0, out);
}

int vmdk_open_extent(const struct vmdk_open_args *a, uint64_t sectors, struct blk_image **out)
{
	if (sectors == 0) {
		if (a->err && a->errlen)
			snprintf(a->err, a->errlen, "vmdk: an extent of 0 sectors");
		return -EINVAL;
	}
	return open_any(a, sectors, out);
}
