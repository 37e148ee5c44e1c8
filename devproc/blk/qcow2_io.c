/* qcow2 as a blk_image: read, write, discard, write_zeroes, flush, info,
 * close, cluster by cluster. The lock and crash rules are in qcow2.h. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "qcow2_int.h"

enum kind { K_UNALLOC, K_ZERO, K_NORMAL, K_COMPRESSED };

/* What an L2 entry says, with the host offset of a normal (or
 * preallocated zero) cluster checked: aligned, not fixed metadata, inside
 * the file. -EIO for a malformed entry. Under q->lock (next_free). */
static bool host_ok(const struct qcow2 *q, uint64_t host)
{
	return host % q->cs == 0 && host < q->next_free && !qcow2_hits_fixed_meta(q, host, q->cs);
}

static int classify(const struct qcow2 *q, uint64_t e, enum kind *k, uint64_t *host)
{
	*host = 0;
	if (e & QCOW2_OFLAG_COMPRESSED) {
		*k = K_COMPRESSED;
		return 0;
	}
	*host = e & QCOW2_OFFSET_MASK;
	if (q->version >= 3 && (e & QCOW2_OFLAG_ZERO)) {
		*k = K_ZERO;
		/* a preallocation is reused only if sane; otherwise ignored */
		if (*host && !host_ok(q, *host))
			*host = 0;
		return 0;
	}
	if (!*host) {
		*k = K_UNALLOC;
		return 0;
	}
	*k = K_NORMAL;
	if (!host_ok(q, *host))
		return -EIO;
	return 0;
}

/* Fill buf (len bytes) with guest bytes [g, g + len) of an unallocated
 * cluster: the backing's, or zeros. */
static int read_unalloc(struct qcow2 *q, uint8_t *buf, uint64_t len, uint64_t g)
{
	if (q->backing_named && !q->backing)
		return -EIO; /* read-only open for info: no backing given */
	return blk_image_read_clamped(q->backing, buf, len, g);
}

/* One piece of a read: len bytes at guest g, inside one cluster, into v. */
static int read_piece(struct qcow2 *q, const struct iovec *v, unsigned nv, uint64_t g, uint64_t len)
{
	uint64_t l2_off, e, host, in = g & (q->cs - 1);
	uint8_t *buf;
	enum kind k;
	int rc;

	pthread_mutex_lock(&q->lock);
	rc = qcow2_lookup(q, g, &l2_off, &e);
	if (rc == 0)
		rc = classify(q, e, &k, &host);
	pthread_mutex_unlock(&q->lock);
	if (rc < 0)
		return rc;
	if (k == K_NORMAL)
		return blk_io_full(q->fd, v, nv, host + in, false);
	if (k == K_ZERO) {
		blk_iov_zero(v, nv);
		return 0;
	}
	buf = malloc(k == K_COMPRESSED ? q->cs : len);
	if (!buf)
		return -ENOMEM;
	if (k == K_COMPRESSED) {
		rc = qcow2_read_compressed(q, e, buf);
		if (rc == 0)
			blk_iov_from_buf(v, nv, buf + in);
	} else {
		rc = read_unalloc(q, buf, len, g);
		if (rc == 0)
			blk_iov_from_buf(v, nv, buf);
	}
	free(buf);
	return rc;
}

/* Split [off, off + total) into cluster pieces and run fn on each with its
 * slice of the iovec. */
static int for_each_piece(struct qcow2 *q, const struct iovec *iov, unsigned n, uint64_t off,
			  int (*fn)(struct qcow2 *, const struct iovec *, unsigned, uint64_t,
				    uint64_t))
{
	uint64_t total = blk_iov_len(iov, n), done = 0;
	struct iovec stack[16], *v = n <= 16 ? stack : malloc(n * sizeof(*v));
	int rc = 0;

	if (!v)
		return -ENOMEM;
	while (done < total && rc == 0) {
		uint64_t g = off + done, room = q->cs - (g & (q->cs - 1));
		uint64_t len = total - done < room ? total - done : room;
		unsigned nv = blk_iov_slice(iov, n, done, len, v);

		rc = fn(q, v, nv, g, len);
		done += len;
	}
	if (v != stack)
		free(v);
	return rc;
}

static int qcow2_read(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off)
{
	return for_each_piece((struct qcow2 *)img, iov, n, off, read_piece);
}

/* The whole cluster of guest offset g as it reads now, for copy-on-write. */
static int old_contents(struct qcow2 *q, enum kind k, uint64_t e, uint64_t host, uint64_t g,
			uint8_t *buf)
{
	uint64_t base = g & ~(q->cs - 1);

	switch (k) {
	case K_COMPRESSED:
		return qcow2_read_compressed(q, e, buf);
	case K_UNALLOC:
		return read_unalloc(q, buf, q->cs, base);
	case K_NORMAL:
		return blk_pread(q->fd, buf, q->cs, host);
	case K_ZERO:
		break;
	}
	memset(buf, 0, q->cs);
	return 0;
}

/* Under the lock: give guest cluster of g a cluster of its own holding
 * the old contents with v written over them at g, then point the L2
 * entry at it (qcow2.h's order), then let go of what it replaced. */
static int write_alloc(struct qcow2 *q, uint64_t l2_off, uint64_t e, enum kind k, uint64_t host,
		       const struct iovec *v, unsigned nv, uint64_t g, uint64_t len)
{
	uint64_t in = g & (q->cs - 1), new_off, coff, clen;
	uint8_t *buf = malloc(q->cs);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	if (len < q->cs)
		rc = old_contents(q, k, e, host, g, buf);
	if (rc == 0) {
		blk_iov_to_buf(v, nv, buf + in);
		if (!l2_off)
			rc = qcow2_l2_for_write(q, g, &l2_off);
	}
	if (rc == 0 && k == K_ZERO && host && (e & QCOW2_OFLAG_COPIED)) {
		/* a preallocated zero cluster of ours: fill it, then drop the flag */
		rc = blk_pwrite(q->fd, buf, q->cs, host);
		if (rc == 0)
			rc = qcow2_set_l2(q, l2_off, g, host | QCOW2_OFLAG_COPIED);
		free(buf);
		return rc;
	}
	if (rc == 0)
		rc = qcow2_alloc_cluster(q, buf, &new_off);
	free(buf);
	if (rc == 0)
		rc = qcow2_set_l2(q, l2_off, g, new_off | QCOW2_OFLAG_COPIED);
	if (rc < 0)
		return rc;
	if (k == K_COMPRESSED) {
		qcow2_compressed_range(q, e, &coff, &clen);
		return qcow2_free_range(q, coff, clen);
	}
	if (k == K_ZERO && host && (e & QCOW2_OFLAG_COPIED))
		return qcow2_free_range(q, host, q->cs);
	return 0;
}

static int write_piece(struct qcow2 *q, const struct iovec *v, unsigned nv, uint64_t g,
		       uint64_t len)
{
	uint64_t l2_off, e, host;
	enum kind k;
	int rc;

	pthread_mutex_lock(&q->lock);
	rc = qcow2_lookup(q, g, &l2_off, &e);
	if (rc == 0)
		rc = classify(q, e, &k, &host);
	if (rc == 0 && k == K_NORMAL) {
		pthread_mutex_unlock(&q->lock);
		/* shared with a snapshot (never on a writable open) or a lying
		 * entry: not written in place */
		if (!(e & QCOW2_OFLAG_COPIED))
			return -EIO;
		return blk_io_full(q->fd, v, nv, host + (g & (q->cs - 1)), true);
	}
	if (rc == 0)
		rc = write_alloc(q, l2_off, e, k, host, v, nv, g, len);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

static int qcow2_write(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off)
{
	return for_each_piece((struct qcow2 *)img, iov, n, off, write_piece);
}

static int qcow2_flush(struct blk_image *img)
{
	struct qcow2 *q = (struct qcow2 *)img;

	if (img->read_only)
		return 0;
	return fdatasync(q->fd) < 0 ? -errno : 0;
}

/* Under the lock: make the whole guest cluster of g read as zeros (v3) or
 * unallocated (v2, no backing), then free its old host cluster. */
static int unmap_cluster(struct qcow2 *q, uint64_t g)
{
	uint64_t l2_off, e, host, coff, clen, ne;
	enum kind k;
	int rc = qcow2_lookup(q, g, &l2_off, &e);

	if (rc == 0)
		rc = classify(q, e, &k, &host);
	if (rc < 0)
		return rc;
	ne = q->version >= 3 ? QCOW2_OFLAG_ZERO : 0;
	if (k == K_ZERO && !(host && (e & QCOW2_OFLAG_COPIED)))
		return 0; /* already zeros without a cluster */
	if (k == K_UNALLOC && (!q->backing_named || !ne))
		return 0; /* reads zeros already (or v2: cannot say zero) */
	if (k == K_NORMAL && !(e & QCOW2_OFLAG_COPIED))
		return -EIO;
	if (!l2_off) {
		rc = qcow2_l2_for_write(q, g, &l2_off);
		if (rc < 0)
			return rc;
	}
	rc = qcow2_set_l2(q, l2_off, g, ne);
	if (rc < 0)
		return rc;
	if (k == K_COMPRESSED) {
		qcow2_compressed_range(q, e, &coff, &clen);
		return qcow2_free_range(q, coff, clen);
	}
	if (host && k != K_UNALLOC)
		return qcow2_free_range(q, host, q->cs);
	return 0;
}

/* Whole clusters of [off, off + len) through unmap_cluster; the partial
 * ends through partial(). */
static int for_whole_clusters(struct qcow2 *q, uint64_t off, uint64_t len,
			      int (*partial)(struct qcow2 *, uint64_t, uint64_t))
{
	uint64_t end = off + len;
	int rc = 0;

	while (off < end && rc == 0) {
		uint64_t room = q->cs - (off & (q->cs - 1));
		uint64_t k = end - off < room ? end - off : room;

		if (k == q->cs && (q->version >= 3 || !q->backing_named)) {
			pthread_mutex_lock(&q->lock);
			rc = unmap_cluster(q, off);
			pthread_mutex_unlock(&q->lock);
		} else if (partial) {
			rc = partial(q, off, k);
		}
		off += k;
	}
	return rc;
}

static int zero_piece(struct qcow2 *q, uint64_t off, uint64_t len)
{
	uint8_t *z = calloc(1, len);
	struct iovec v = {z, len};
	int rc;

	if (!z)
		return -ENOMEM;
	rc = write_piece(q, &v, 1, off, len);
	free(z);
	return rc;
}

static int qcow2_discard(struct blk_image *img, uint64_t off, uint64_t len)
{
	return for_whole_clusters((struct qcow2 *)img, off, len, NULL);
}

static int qcow2_write_zeroes(struct blk_image *img, uint64_t off, uint64_t len)
{
	struct qcow2 *q = (struct qcow2 *)img;

	/* v2 with a backing cannot mark a cluster zero: for_whole_clusters
	 * writes zeros there */
	return for_whole_clusters(q, off, len, zero_piece);
}

/* Host bytes with a refcount, clusters of the file only: the refcount
 * blocks that cover the file, entry by entry (a block read at a time). */
static int count_allocated(struct qcow2 *q, uint64_t *bytes)
{
	uint64_t n = 0, end = q->next_free >> q->cluster_bits;
	uint64_t blocks = (end + q->rb_entries - 1) / q->rb_entries;
	uint8_t *b = malloc(q->cs);
	int rc = 0;

	if (!b)
		return -ENOMEM;
	for (uint64_t ti = 0; ti < blocks && ti < q->rt_size && rc == 0; ti++) {
		uint64_t off = q->rt[ti] & ~0x1ffull;

		if (!off)
			continue;
		if (off % q->cs || qcow2_hits_fixed_meta(q, off, q->cs)) {
			rc = -EIO;
			break;
		}
		rc = blk_pread(q->fd, b, q->cs, off);
		for (uint64_t j = 0; rc == 0 && j < q->rb_entries; j++) {
			unsigned bits = 1u << q->refcount_order;
			uint64_t bit = j * bits;
			bool used = false;

			if (ti * q->rb_entries + j >= end)
				break;
			for (unsigned x = 0; x<bits; x += 8> bits ? bits : 8)
				used |= (b[(bit + x) / 8] >> ((bit + x) % 8)) &
					((1u << (bits < 8 ? bits : 8)) - 1);
			n += used;
		}
	}
	free(b);
	*bytes = n << q->cluster_bits;
	return rc;
}

static int qcow2_info(struct blk_image *img, struct blk_image_info *out)
{
	struct qcow2 *q = (struct qcow2 *)img;
	int rc;

	out->format = "qcow2";
	out->version = q->version;
	out->size = img->size;
	out->cluster_size = (uint32_t)q->cs;
	out->has_backing = q->backing_named;
	memcpy(out->backing_name, q->backing_name, sizeof(out->backing_name));
	memcpy(out->backing_format, q->backing_fmt, sizeof(out->backing_format));
	out->snapshots = q->nb_snapshots;
	out->dirty = q->incompat & QCOW2_INCOMPAT_DIRTY;
	pthread_mutex_lock(&q->lock);
	rc = count_allocated(q, &out->allocated);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

static void qcow2_close(struct blk_image *img)
{
	struct qcow2 *q = (struct qcow2 *)img;

	pthread_mutex_destroy(&q->lock);
	free(q->l1);
	free(q->rt);
	free(q);
}

const struct blk_image_ops qcow2_ops = {
    .read = qcow2_read,
    .write = qcow2_write,
    .flush = qcow2_flush,
    .discard = qcow2_discard,
    .write_zeroes = qcow2_write_zeroes,
    .info = qcow2_info,
    .close = qcow2_close,
};
