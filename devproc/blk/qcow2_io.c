/* qcow2 as a blk_image: read, write, discard, write_zeroes, flush, info,
 * close, cluster by cluster. The lock and crash rules are in qcow2.h. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "qcow2_int.h"

enum kind { K_UNALLOC, K_ZERO, K_NORMAL, K_COMPRESSED };

#define SUB_ALL 0xffffffffull /* every subcluster's bit (extended L2) */

/* One guest cluster's mapping, decoded and checked. */
struct map {
	uint64_t l2_off; /* its L2 table; 0: none yet */
	uint64_t e, bm;	 /* the entry and (extended L2) its subcluster bitmap */
	enum kind k;	 /* the whole cluster's kind (extended: K_NORMAL if any
			    subcluster is allocated, else K_ZERO/K_UNALLOC by the
			    first subcluster) */
	uint64_t host;	 /* its host cluster, checked; 0: none usable */
};

/* A host cluster of ours: aligned, not fixed metadata, inside the file.
 * Under q->lock (next_free). */
static bool host_ok(const struct qcow2 *q, uint64_t host)
{
	return host % q->cs == 0 && host < q->next_free && !qcow2_hits_fixed_meta(q, host, q->cs);
}

static bool copied(const struct map *m)
{
	return m->e & QCOW2_OFLAG_COPIED;
}

/* Look up and decode guest offset g's cluster. Under q->lock. -EIO for a
 * malformed entry: a data cluster outside the file or in fixed metadata,
 * an extended bitmap that says allocated and zero at once. */
static int map_cluster(struct qcow2 *q, uint64_t g, struct map *m)
{
	uint64_t alloc, zero;
	int rc = qcow2_lookup(q, g, &m->l2_off, &m->e, &m->bm);

	if (rc < 0)
		return rc;
	m->host = 0;
	if (m->e & QCOW2_OFLAG_COMPRESSED) {
		m->k = K_COMPRESSED;
		return 0;
	}
	m->host = m->e & QCOW2_OFFSET_MASK;
	if (q->extl2) {
		alloc = m->bm & SUB_ALL;
		zero = m->bm >> 32;
		if (alloc & zero)
			return -EIO;
		if (alloc) {
			m->k = K_NORMAL;
			return host_ok(q, m->host) ? 0 : -EIO;
		}
		m->k = zero & 1 ? K_ZERO : K_UNALLOC;
	} else if (q->version >= 3 && (m->e & QCOW2_OFLAG_ZERO)) {
		m->k = K_ZERO;
	} else if (m->host) {
		m->k = K_NORMAL;
		return host_ok(q, m->host) ? 0 : -EIO;
	} else {
		m->k = K_UNALLOC;
	}
	/* a preallocation is reused only if sane; otherwise ignored */
	if (m->host && !host_ok(q, m->host))
		m->host = 0;
	return 0;
}

/* The kind of subcluster s (extended L2), or the cluster's. */
static enum kind sub_kind(const struct qcow2 *q, const struct map *m, unsigned s)
{
	if (!q->extl2 || m->k == K_COMPRESSED)
		return m->k;
	if (m->bm >> s & 1)
		return K_NORMAL;
	return m->bm >> (32 + s) & 1 ? K_ZERO : K_UNALLOC;
}

/* The end (in-cluster offset) of the run of bytes from pos that share
 * pos's kind, at most end. */
static uint64_t run_end(const struct qcow2 *q, const struct map *m, uint64_t pos, uint64_t end,
			enum kind *k)
{
	unsigned sb = q->cluster_bits - 5;

	*k = sub_kind(q, m, (unsigned)(pos >> sb));
	if (!q->extl2 || m->k == K_COMPRESSED)
		return end;
	pos = ((pos >> sb) + 1) << sb;
	while (pos < end && sub_kind(q, m, (unsigned)(pos >> sb)) == *k)
		pos += 1ull << sb;
	return pos < end ? pos : end;
}

/* Fill buf (len bytes) with guest bytes [g, g + len) of an unallocated
 * cluster: the backing's, or zeros. */
static int read_unalloc(struct qcow2 *q, uint8_t *buf, uint64_t len, uint64_t g)
{
	if (q->backing_named && !q->backing)
		return -EIO; /* read-only open for info: no backing given */
	return blk_image_read_clamped(q->backing, buf, len, g);
}

/* Bytes [in, in + len) of the cluster of m (guest cluster base gb) into
 * v, one run of one kind at a time. */
static int read_runs(struct qcow2 *q, const struct map *m, const struct iovec *v, unsigned nv,
		     uint64_t gb, uint64_t in, uint64_t len)
{
	struct iovec stack[16], *sv = nv <= 16 ? stack : malloc(nv * sizeof(*sv));
	uint64_t pos = in;
	int rc = 0;

	if (!sv)
		return -ENOMEM;
	while (pos < in + len && rc == 0) {
		enum kind k;
		uint64_t end = run_end(q, m, pos, in + len, &k);
		unsigned n = blk_iov_slice(v, nv, pos - in, end - pos, sv);
		uint8_t *buf;

		if (k == K_NORMAL) {
			rc = blk_io_full(q->fd, sv, n, m->host + pos, false);
		} else if (k == K_ZERO || !q->backing_named) {
			blk_iov_zero(sv, n); /* zero, or unallocated with nothing below */
		} else if (!(buf = malloc(end - pos))) {
			rc = -ENOMEM;
		} else {
			rc = read_unalloc(q, buf, end - pos, gb + pos);
			if (rc == 0)
				blk_iov_from_buf(sv, n, buf);
			free(buf);
		}
		pos = end;
	}
	if (sv != stack)
		free(sv);
	return rc;
}

/* One piece of a read: len bytes at guest g, inside one cluster, into v. */
static int read_piece(struct qcow2 *q, const struct iovec *v, unsigned nv, uint64_t g, uint64_t len)
{
	uint64_t in = g & (q->cs - 1);
	struct map m;
	uint8_t *buf;
	int rc;

	pthread_mutex_lock(&q->lock);
	rc = map_cluster(q, g, &m);
	pthread_mutex_unlock(&q->lock);
	if (rc < 0)
		return rc;
	if (m.k != K_COMPRESSED)
		return read_runs(q, &m, v, nv, g - in, in, len);
	buf = malloc(q->cs);
	if (!buf)
		return -ENOMEM;
	rc = qcow2_read_compressed(q, m.e, buf);
	if (rc == 0)
		blk_iov_from_buf(v, nv, buf + in);
	free(buf);
	return rc;
}

typedef int piece_fn(struct qcow2 *q, const struct iovec *v, unsigned nv, uint64_t g, uint64_t len);
/* Whole clusters from g on (len bytes of them): *done is what it did, 0
 * to have the first cluster done as a piece instead. */
typedef int run_fn(struct qcow2 *q, struct iovec *v, unsigned nv, uint64_t g, uint64_t len,
		   uint64_t *done);

/* Split [off, off + total) into cluster pieces and run fn on each with its
 * slice of the iovec; where whole clusters start and run is given, offer
 * them to run first. */
static int for_each_piece(struct qcow2 *q, const struct iovec *iov, unsigned n, uint64_t off,
			  piece_fn *fn, run_fn *run)
{
	uint64_t total = blk_iov_len(iov, n), done = 0;
	struct iovec stack[16], *v = n <= 16 ? stack : malloc(n * sizeof(*v));
	int rc = 0;

	if (!v)
		return -ENOMEM;
	while (done < total && rc == 0) {
		uint64_t g = off + done, room = q->cs - (g & (q->cs - 1)), step = 0;
		uint64_t whole = (total - done) & ~(q->cs - 1);
		uint64_t len = total - done < room ? total - done : room;

		if (run && room == q->cs && whole)
			rc = run(q, v, blk_iov_slice(iov, n, done, whole, v), g, whole, &step);
		if (rc == 0 && step == 0) {
			rc = fn(q, v, blk_iov_slice(iov, n, done, len, v), g, len);
			step = len;
		}
		done += step;
	}
	if (v != stack)
		free(v);
	return rc;
}

static int qcow2_read(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off)
{
	return for_each_piece((struct qcow2 *)img, iov, n, off, read_piece, NULL);
}

/* The whole cluster of m (guest base gb) as it reads now, for
 * copy-on-write. */
static int old_contents(struct qcow2 *q, const struct map *m, uint64_t gb, uint8_t *buf)
{
	struct iovec v = {buf, q->cs};

	if (m->k == K_COMPRESSED)
		return qcow2_read_compressed(q, m->e, buf);
	return read_runs(q, m, &v, 1, gb, 0, q->cs);
}

/* Does every byte of [in, in + len) have a host cluster of ours to be
 * written in place? */
static bool in_place(const struct qcow2 *q, const struct map *m, uint64_t in, uint64_t len)
{
	enum kind k;

	if (m->k != K_NORMAL)
		return false;
	return run_end(q, m, in, in + len, &k) == in + len && k == K_NORMAL;
}

/* Write buf (the cluster's new contents) into m's own host cluster, all
 * but the subclusters that are already allocated and outside [in, in +
 * len): a writer may be writing those in place right now, without the
 * lock, and must not be undone by our copy of their old contents. */
static int fill_in_place(struct qcow2 *q, const struct map *m, const uint8_t *buf, uint64_t in,
			 uint64_t len)
{
	uint64_t alloc = q->extl2 ? m->bm & SUB_ALL : 0, sc = q->cs / 32, pos = 0;
	int rc = 0;

	while (pos < q->cs && rc == 0) {
		uint64_t end = pos;

		/* a run to write: not allocated, or inside the write */
		while (end < q->cs &&
		       (!(alloc >> (end / sc) & 1) || (end + sc > in && end < in + len)))
			end += sc;
		if (end > pos)
			rc = blk_pwrite(q->fd, buf + pos, end - pos, m->host + pos);
		/* then the run to keep */
		while (end < q->cs && (alloc >> (end / sc) & 1) &&
		       !(end + sc > in && end < in + len))
			end += sc;
		pos = end;
	}
	return rc;
}

/* -- allocations in flight ------------------------------------------------ */

static bool allocating(const struct qcow2 *q, uint64_t gi)
{
	for (unsigned i = 0; i < q->nallocating; i++)
		if (q->allocating[i] == gi)
			return true;
	return false;
}

/* Under the lock: wait until guest cluster gi is not being allocated (and,
 * with room, until the set has room for one more). */
static void wait_settled(struct qcow2 *q, uint64_t gi, bool room)
{
	while (allocating(q, gi) || (room && q->nallocating == QCOW2_MAX_ALLOCATING))
		pthread_cond_wait(&q->settled, &q->lock);
}

static void settle(struct qcow2 *q, uint64_t gi)
{
	for (unsigned i = 0; i < q->nallocating; i++)
		if (q->allocating[i] == gi) {
			q->allocating[i] = q->allocating[--q->nallocating];
			break;
		}
	pthread_cond_broadcast(&q->settled);
}

/* Under the lock: give guest cluster of g a cluster of its own holding
 * the old contents with v written over them at g, then point the L2
 * entry at it (qcow2.h's order), then let go of what it replaced. The new
 * cluster's contents are read and written without the lock, so that
 * writers to other clusters go on meanwhile: the cluster is reserved
 * first (counted by nobody, qcow2_reserve_cluster), and g is marked as
 * allocating, so that another write to it or its discard waits and its
 * mapping m stays as it was. A cluster of ours that is not wholly
 * allocated (a preallocated zero cluster, extended L2 subclusters) is
 * filled in place instead, under the lock. */
static int write_alloc(struct qcow2 *q, struct map *m, const struct iovec *v, unsigned nv,
		       uint64_t g, uint64_t len)
{
	uint64_t in = g & (q->cs - 1), gi = g >> q->cluster_bits, off, coff, clen;
	uint64_t bm = q->extl2 ? SUB_ALL : 0;
	uint8_t *buf = malloc(q->cs);
	int rc;

	if (!buf)
		return -ENOMEM;
	/* also when there is a table: it must be ours (COPIED) */
	rc = qcow2_l2_for_write(q, g, &m->l2_off);
	if (rc == 0 && m->k != K_COMPRESSED && m->host && copied(m)) {
		if (len < q->cs)
			rc = old_contents(q, m, g - in, buf);
		blk_iov_to_buf(v, nv, buf + in);
		if (rc == 0)
			rc = fill_in_place(q, m, buf, in, len);
		free(buf);
		if (rc == 0)
			rc = qcow2_set_l2(q, m->l2_off, g, m->host | QCOW2_OFLAG_COPIED, bm);
		return rc;
	}
	if (rc == 0)
		rc = qcow2_reserve_cluster(q, &off);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	q->allocating[q->nallocating++] = gi;
	pthread_mutex_unlock(&q->lock);
	rc = len < q->cs ? old_contents(q, m, g - in, buf) : 0;
	blk_iov_to_buf(v, nv, buf + in);
	if (rc == 0)
		rc = blk_pwrite(q->fd, buf, q->cs, off);
	free(buf);
	pthread_mutex_lock(&q->lock);
	settle(q, gi);
	if (rc == 0)
		rc = qcow2_commit_cluster(q, off);
	if (rc == 0)
		rc = qcow2_set_l2(q, m->l2_off, g, off | QCOW2_OFLAG_COPIED, bm);
	if (rc < 0 || m->k != K_COMPRESSED)
		return rc;
	qcow2_compressed_range(q, m->e, &coff, &clen);
	return qcow2_free_range(q, coff, clen);
}

static int write_piece(struct qcow2 *q, const struct iovec *v, unsigned nv, uint64_t g,
		       uint64_t len)
{
	uint64_t in = g & (q->cs - 1);
	struct map m;
	int rc;

	pthread_mutex_lock(&q->lock);
	wait_settled(q, g >> q->cluster_bits, true);
	rc = map_cluster(q, g, &m);
	/* shared with a snapshot (never on a writable open) or a lying
	 * entry: not written at all */
	if (rc == 0 && m.k == K_NORMAL && !copied(&m))
		rc = -EIO;
	if (rc == 0 && in_place(q, &m, in, len)) {
		pthread_mutex_unlock(&q->lock);
		return blk_io_full(q->fd, v, nv, m.host + in, true);
	}
	if (rc == 0)
		rc = write_alloc(q, &m, v, nv, g, len);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

/* Whole guest clusters from g on (at most len bytes of the write, len a
 * multiple of the cluster size) that have no host cluster and no
 * compressed data (unallocated, or zero without a preallocation): their
 * old contents do not matter, so they get consecutive new clusters, one
 * host write of the guest's data for them all without the lock, then all
 * their refcounts, then their L2 entries (qcow2.h's order, for the run:
 * a crash between leaves counted clusters nothing points to, a leak). A
 * sequential writer then costs one large write and about four small
 * ones per run (a pread and a pwrite of the refcounts, the reserve's
 * pread, a pwrite of the L2 entries), not four syscalls a cluster: on a
 * file system where each is a round trip (9p in the KVM box) that was
 * most of the time. *done: the bytes written; 0 when the
 * first cluster is not such a one (the caller writes it as a piece). */
static int write_fresh_run(struct qcow2 *q, struct iovec *v, unsigned nv, uint64_t g, uint64_t len,
			   uint64_t *done)
{
	uint64_t l2[QCOW2_RUN_MAX], off, gi = g >> q->cluster_bits;
	unsigned k = 0, got = 0;
	int rc = 0;

	*done = 0;
	if (q->extl2)
		return 0;
	pthread_mutex_lock(&q->lock);
	while (k < QCOW2_RUN_MAX && (uint64_t)(k + 1) * q->cs <= len &&
	       q->nallocating + k < QCOW2_MAX_ALLOCATING && !allocating(q, gi + k)) {
		struct map m;

		if (map_cluster(q, g + k * q->cs, &m) < 0 || m.host || m.k == K_COMPRESSED ||
		    m.k == K_NORMAL || qcow2_l2_for_write(q, g + k * q->cs, &m.l2_off) < 0)
			break;
		l2[k++] = m.l2_off;
	}
	if (k)
		rc = qcow2_reserve_run(q, k, &off, &got);
	if (rc < 0 || !got) {
		pthread_mutex_unlock(&q->lock);
		return rc;
	}
	for (unsigned i = 0; i < got; i++)
		q->allocating[q->nallocating++] = gi + i;
	pthread_mutex_unlock(&q->lock);
	nv = blk_iov_slice(v, nv, 0, (uint64_t)got * q->cs, v); /* in place: moves down only */
	rc = blk_io_full(q->fd, v, nv, off, true);
	pthread_mutex_lock(&q->lock);
	for (unsigned i = 0; i < got; i++)
		settle(q, gi + i);
	/* all refcounts, then the L2 entries of each table in one write */
	if (rc == 0)
		rc = qcow2_commit_run(q, off, got);
	for (unsigned i = 0, j; i < got && rc == 0; i = j) {
		for (j = i + 1; j < got && l2[j] == l2[i];)
			j++;
		rc = qcow2_set_l2_run(q, l2[i], g + i * q->cs, off + i * q->cs, j - i);
	}
	pthread_mutex_unlock(&q->lock);
	*done = (uint64_t)got * q->cs;
	return rc;
}

static int qcow2_write(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off)
{
	return for_each_piece((struct qcow2 *)img, iov, n, off, write_piece, write_fresh_run);
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
	uint64_t coff, clen, ne = 0, nbm = 0;
	bool all_zero, all_unalloc, ours;
	struct map m;
	int rc;

	wait_settled(q, g >> q->cluster_bits, false);
	rc = map_cluster(q, g, &m);

	if (rc < 0)
		return rc;
	if (q->extl2)
		nbm = SUB_ALL << 32;
	else if (q->version >= 3)
		ne = QCOW2_OFLAG_ZERO;
	if (m.k == K_NORMAL && !copied(&m))
		return -EIO;
	ours = m.k != K_COMPRESSED && m.host && copied(&m);
	all_zero = q->extl2 ? m.k != K_COMPRESSED && m.bm == SUB_ALL << 32 : m.k == K_ZERO;
	all_unalloc = q->extl2 ? m.k != K_COMPRESSED && m.bm == 0 : m.k == K_UNALLOC;
	if (!ours && (all_zero || (all_unalloc && (!q->backing_named || q->version < 3))))
		return 0; /* reads zeros already, nothing to free (v2: cannot say zero) */
	rc = qcow2_l2_for_write(q, g, &m.l2_off); /* ours, or a new one */
	if (rc < 0)
		return rc;
	rc = qcow2_set_l2(q, m.l2_off, g, ne, nbm);
	if (rc < 0)
		return rc;
	if (m.k == K_COMPRESSED) {
		qcow2_compressed_range(q, m.e, &coff, &clen);
		return qcow2_free_range(q, coff, clen);
	}
	return ours ? qcow2_free_range(q, m.host, q->cs) : 0;
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
	pthread_cond_destroy(&q->settled);
	qcow2_cache_free(q);
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
