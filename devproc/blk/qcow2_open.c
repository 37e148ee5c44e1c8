/* qcow2 open: the header, its extensions, the L1 and refcount tables,
 * each value checked against the others and against the file's size
 * before anything trusts it. See qcow2.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "qcow2_int.h"

struct hdr_ctx {
	const struct qcow2_open_args *a;
	const uint8_t *h; /* the header cluster (or as much of it as the file has) */
	uint64_t hlen;	  /* bytes in h */
	uint64_t fsize;
	uint32_t hdr_len; /* the header structure's length */
};

__attribute__((format(printf, 3, 4))) static int fail(const struct qcow2_open_args *a, int err,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	blk_image_verr(a->err, a->errlen, "qcow2", fmt, ap);
	va_end(ap);
	return err;
}

bool qcow2_probe(const uint8_t *buf, size_t len)
{
	return len >= 8 && be32_at(buf) == QCOW2_MAGIC &&
	       (be32_at(buf + 4) == 2 || be32_at(buf + 4) == 3);
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

bool qcow2_hits_fixed_meta(const struct qcow2 *q, uint64_t off, uint64_t len)
{
	return ranges_overlap(off, len, 0, q->cs) ||
	       ranges_overlap(off, len, q->l1_off, (uint64_t)q->l1_size * 8) ||
	       ranges_overlap(off, len, q->rt_off, q->rt_size * 8);
}

/* The fields of the first 104 bytes, and the features moat refuses. */
static int parse_fixed(struct qcow2 *q, struct hdr_ctx *c)
{
	const uint8_t *h = c->h;
	const struct qcow2_open_args *a = c->a;

	if (c->hlen < QCOW2_V2_HDR_LEN || be32_at(h + H_MAGIC) != QCOW2_MAGIC)
		return fail(a, -EINVAL, "not a qcow2 image (bad magic)");
	q->version = be32_at(h + H_VERSION);
	if (q->version != 2 && q->version != 3)
		return fail(a, -ENOTSUP, "version %u not supported (2 and 3 are)", q->version);
	q->cluster_bits = be32_at(h + H_CLUSTER_BITS);
	if (q->cluster_bits < 9 || q->cluster_bits > 21)
		return fail(a, -EINVAL, "cluster_bits %u out of range 9..21", q->cluster_bits);
	q->cs = 1ull << q->cluster_bits;
	q->l2_entries = q->cs / 8;
	if (be32_at(h + H_CRYPT))
		return fail(a, -ENOTSUP, "encrypted images are not supported");
	c->hdr_len = QCOW2_V2_HDR_LEN;
	q->refcount_order = 4;
	if (q->version == 3) {
		if (c->hlen < QCOW2_V3_HDR_LEN)
			return fail(a, -EINVAL, "file too short for a v3 header");
		c->hdr_len = be32_at(h + H_HDR_LEN);
		if (c->hdr_len < QCOW2_V3_HDR_LEN || c->hdr_len % 8 || c->hdr_len > q->cs ||
		    c->hdr_len > c->hlen)
			return fail(a, -EINVAL, "header_length %u invalid", c->hdr_len);
		q->incompat = be64_at(h + H_INCOMPAT);
		q->compat = be64_at(h + H_COMPAT);
		q->autoclear = be64_at(h + H_AUTOCLEAR);
		q->refcount_order = be32_at(h + H_REFCOUNT_ORDER);
		if (q->refcount_order > 6)
			return fail(a, -EINVAL, "refcount_order %u > 6", q->refcount_order);
	}
	if (q->incompat & QCOW2_INCOMPAT_CORRUPT)
		return fail(a, -ENOTSUP,
			    "image is marked corrupt; repair it with qemu-img check -r all");
	if (q->incompat & QCOW2_INCOMPAT_DATA_FILE)
		return fail(a, -ENOTSUP, "external data files are not supported");
	if (q->incompat & QCOW2_INCOMPAT_EXTL2) {
		if (q->cluster_bits < 14)
			return fail(a, -EINVAL,
				    "extended L2 entries need clusters of 16 KiB or more");
		q->extl2 = true;
		q->l2_entries = q->cs / 16;
	}
	if ((q->incompat & QCOW2_INCOMPAT_COMPRESS) ||
	    (c->hdr_len > H_COMPRESSION && h[H_COMPRESSION] != 0))
		return fail(a, -ENOTSUP, "compression types other than zlib are not supported");
	if (q->incompat & ~(QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_EXTL2))
		return fail(a, -ENOTSUP, "unknown incompatible features 0x%llx",
			    (unsigned long long)(q->incompat & ~0x13ull));
	if ((q->incompat & QCOW2_INCOMPAT_DIRTY) && !a->read_only)
		return fail(a, -ENOTSUP,
			    "image is dirty (lazy refcounts, not closed cleanly): repair it with "
			    "qemu-img check -r all, or open it read-only");
	q->rb_entries = q->cs * 8 >> q->refcount_order;
	return 0;
}

/* Virtual size, L1 table, refcount table, snapshots: in the file, no
 * overlap with each other or the header cluster, sane in size. */
static int parse_tables(struct qcow2 *q, struct hdr_ctx *c)
{
	const uint8_t *h = c->h;
	const struct qcow2_open_args *a = c->a;
	uint64_t size = be64_at(h + H_SIZE), need, l1_bytes, rt_bytes;
	uint64_t snap_off;

	/* one L1 entry covers cs * l2_entries bytes (at most 2^39) */
	if (size > (1ull << 61))
		return fail(a, -EINVAL, "virtual size %llu too large", (unsigned long long)size);
	q->img.size = size;
	need = size / (q->cs * q->l2_entries) + (size % (q->cs * q->l2_entries) != 0);
	q->l1_size = be32_at(h + H_L1_SIZE);
	q->l1_off = be64_at(h + H_L1_OFF);
	l1_bytes = (uint64_t)q->l1_size * 8;
	if (q->l1_size < need)
		return fail(a, -EINVAL, "L1 table too small for the virtual size");
	if (l1_bytes > QCOW2_MAX_L1_BYTES)
		return fail(a, -EINVAL, "L1 table of %u entries too large", q->l1_size);
	if (l1_bytes && (q->l1_off % q->cs || q->l1_off < q->cs || q->l1_off > c->fsize ||
			 l1_bytes > c->fsize - q->l1_off))
		return fail(a, -EINVAL,
			    "L1 table offset 0x%llx invalid or past the end of the file",
			    (unsigned long long)q->l1_off);

	q->rt_off = be64_at(h + H_RT_OFF);
	q->rt_clusters = be32_at(h + H_RT_CLUSTERS);
	if (q->rt_clusters == 0 || q->rt_clusters > QCOW2_MAX_RT_BYTES / q->cs + 1)
		return fail(a, -EINVAL, "refcount table of %u clusters invalid", q->rt_clusters);
	rt_bytes = (uint64_t)q->rt_clusters * q->cs;
	if (q->rt_off % q->cs || q->rt_off < q->cs || q->rt_off > c->fsize ||
	    rt_bytes > c->fsize - q->rt_off)
		return fail(a, -EINVAL,
			    "refcount table offset 0x%llx invalid or past the end of the file",
			    (unsigned long long)q->rt_off);
	q->rt_size = rt_bytes / 8;
	if (l1_bytes && ranges_overlap(q->l1_off, l1_bytes, q->rt_off, rt_bytes))
		return fail(a, -EINVAL, "L1 table and refcount table overlap");

	q->nb_snapshots = be32_at(h + H_NB_SNAP);
	snap_off = be64_at(h + H_SNAP_OFF);
	if (q->nb_snapshots > QCOW2_MAX_SNAPSHOTS ||
	    (q->nb_snapshots && (snap_off % q->cs || snap_off < q->cs || snap_off >= c->fsize)))
		return fail(a, -EINVAL, "snapshot table invalid");
	if (q->nb_snapshots && !a->read_only)
		return fail(a, -ENOTSUP,
			    "image has %u internal snapshots: moat opens it read-only only",
			    q->nb_snapshots);
	return 0;
}

/* The header extensions between the header and the backing name (or the
 * end of the header cluster), and the backing name. */
static int parse_extensions(struct qcow2 *q, struct hdr_ctx *c)
{
	const uint8_t *h = c->h;
	const struct qcow2_open_args *a = c->a;
	uint64_t boff = be64_at(h + H_BACKING_OFF);
	uint32_t bsize = be32_at(h + H_BACKING_SIZE);
	uint64_t end = c->hlen < q->cs ? c->hlen : q->cs;
	uint64_t pos = c->hdr_len;

	if (boff) {
		if (bsize == 0 || bsize > QCOW2_BACKING_MAX || boff < c->hdr_len || boff > end ||
		    bsize > end - boff)
			return fail(a, -EINVAL,
				    "backing file name (offset 0x%llx, %u bytes) invalid",
				    (unsigned long long)boff, bsize);
		if (memchr(h + boff, 0, bsize))
			return fail(a, -EINVAL, "backing file name has a NUL byte");
		memcpy(q->backing_name, h + boff, bsize);
		q->backing_name[bsize] = 0;
		q->backing_named = true;
		end = boff;
	}
	while (end - pos >= 8) {
		uint32_t type = be32_at(h + pos), len = be32_at(h + pos + 4);

		if (type == QCOW2_EXT_END)
			break;
		if (len > end - pos - 8)
			return fail(a, -EINVAL,
				    "header extension 0x%x (%u bytes) runs off the header", type,
				    len);
		if (type == QCOW2_EXT_BACKING_FMT) {
			if (len >= sizeof(q->backing_fmt) || memchr(h + pos + 8, 0, len))
				return fail(a, -EINVAL, "backing format extension invalid");
			memcpy(q->backing_fmt, h + pos + 8, len);
			q->backing_fmt[len] = 0;
		}
		/* others (feature names, bitmaps, encryption, data file name)
		 * need nothing here: their features are refused or ignored */
		pos += 8 + (((uint64_t)len + 7) & ~7ull);
		if (pos > end)
			break;
	}
	return 0;
}

/* Read a table of n big-endian u64 at off into host order. */
static int load_table(int fd, uint64_t off, uint64_t n, uint64_t **out)
{
	uint64_t *t = calloc(n ? n : 1, 8);
	int rc;

	if (!t)
		return -ENOMEM;
	rc = n ? blk_pread(fd, t, n * 8, off) : 0;
	if (rc < 0) {
		free(t);
		return rc;
	}
	for (uint64_t i = 0; i < n; i++)
		t[i] = be64toh(t[i]);
	*out = t;
	return 0;
}

/* The header cluster, whatever of it the file has; the file's size. */
static int read_header(const struct qcow2_open_args *a, uint8_t **h, uint64_t *hlen,
		       uint64_t *fsize)
{
	off_t end = lseek(a->fd, 0, SEEK_END);
	uint8_t first[QCOW2_V3_HDR_LEN];
	uint64_t want;
	int64_t k;

	if (end < 0)
		return fail(a, -errno, "cannot size the image: %m");
	*fsize = (uint64_t)end;
	k = blk_pread_upto(a->fd, first, sizeof(first), 0);
	if (k < 0)
		return fail(a, (int)k, "cannot read the header");
	if ((uint64_t)k < 24 || be32_at(first) != QCOW2_MAGIC)
		return fail(a, -EINVAL, "not a qcow2 image (bad magic)");
	{
		uint32_t bits = be32_at(first + H_CLUSTER_BITS);

		if (bits < 9 || bits > 21)
			return fail(a, -EINVAL, "cluster_bits %u out of range 9..21", bits);
		want = 1ull << bits;
	}
	*h = calloc(1, want);
	if (!*h)
		return -ENOMEM;
	k = blk_pread_upto(a->fd, *h, want, 0);
	if (k < 0) {
		free(*h);
		return fail(a, (int)k, "cannot read the header");
	}
	*hlen = (uint64_t)k;
	return 0;
}

/* Writable open of an image with autoclear bits: the spec wants them
 * cleared before the first write (moat keeps no bitmaps up to date). */
static int clear_autoclear(struct qcow2 *q)
{
	uint64_t zero = 0;

	if (q->version < 3 || !q->autoclear || q->img.read_only)
		return 0;
	q->autoclear = 0;
	return blk_pwrite(q->fd, &zero, 8, H_AUTOCLEAR);
}

static int open_checked(struct qcow2 *q, const struct qcow2_open_args *a)
{
	struct hdr_ctx c = {.a = a};
	uint8_t *h = NULL;
	int rc, fl;

	fl = fcntl(a->fd, F_GETFL);
	if (fl < 0)
		return fail(a, -errno, "bad descriptor: %m");
	if ((fl & O_DIRECT) && !a->read_only)
		return fail(a, -ENOTSUP, "cache=none (O_DIRECT) is not supported for qcow2 yet");
	rc = read_header(a, &h, &c.hlen, &c.fsize);
	if (rc < 0)
		return rc;
	c.h = h;
	rc = parse_fixed(q, &c);
	if (rc == 0)
		rc = parse_tables(q, &c);
	if (rc == 0)
		rc = parse_extensions(q, &c);
	free(h);
	if (rc < 0)
		return rc;
	if (q->backing_named && !a->backing && !a->read_only)
		return fail(a, -EINVAL, "image has a backing file (%s) but none was given",
			    q->backing_name);
	if (!q->backing_named && a->backing)
		return fail(a, -EINVAL, "a backing image was given but the header names none");
	rc = load_table(a->fd, q->l1_off, q->l1_size, &q->l1);
	if (rc == 0)
		rc = load_table(a->fd, q->rt_off, q->rt_size, &q->rt);
	if (rc < 0)
		return fail(a, rc, "cannot read the L1 or refcount table");
	q->next_free = (c.fsize + q->cs - 1) & ~(q->cs - 1);
	rc = qcow2_cache_init(q);
	if (rc < 0)
		return rc;
	rc = clear_autoclear(q);
	if (rc < 0)
		return fail(a, rc, "cannot write the header");
	return 0;
}

int qcow2_open(const struct qcow2_open_args *a, struct blk_image **out)
{
	struct qcow2 *q;
	int rc;

	if (a->err && a->errlen)
		a->err[0] = 0;
	if (a->fd < 0)
		return fail(a, -EBADF, "no image descriptor");
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->img.ops = &qcow2_ops;
	q->img.read_only = a->read_only;
	q->fd = a->fd;
	q->backing = a->backing;
	rc = open_checked(q, a);
	if (rc < 0) {
		qcow2_cache_free(q);
		free(q->l1);
		free(q->rt);
		free(q);
		return rc;
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->settled, NULL);
	*out = &q->img;
	return 0;
}
