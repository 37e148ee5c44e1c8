/* qcow2 metadata: the L1/L2 lookup, refcounts and cluster allocation, in
 * the crash order of qcow2.h. Every function here runs under q->lock;
 * every offset read from the file is checked before it is followed. */
#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

#include "qcow2_int.h"

/* A cluster-sized structure (L2 table, refcount block, data) at off:
 * aligned, not in the header, L1 or refcount table, below 2^56. */
static bool cluster_ok(const struct qcow2 *q, uint64_t off)
{
	return off && off % q->cs == 0 && off <= QCOW2_OFFSET_MASK &&
	       !qcow2_hits_fixed_meta(q, off, q->cs);
}

int qcow2_lookup(struct qcow2 *q, uint64_t g, uint64_t *l2_off, uint64_t *entry, uint64_t *bm)
{
	uint64_t ci = g >> q->cluster_bits, l1i = ci / q->l2_entries, l2i = ci % q->l2_entries;
	uint64_t l1e, off, raw[2] = {0, 0};
	const uint8_t *table;
	int rc;

	*l2_off = 0;
	*entry = 0;
	*bm = 0;
	if (l1i >= q->l1_size)
		return -EIO; /* open checked that the L1 covers the disk */
	l1e = q->l1[l1i];
	off = l1e & QCOW2_OFFSET_MASK;
	if (!off)
		return 0;
	if (!cluster_ok(q, off))
		return -EIO;
	rc = qcow2_cache_get(q, off, &table);
	if (rc < 0)
		return rc;
	memcpy(raw, table + l2i * (q->extl2 ? 16 : 8), q->extl2 ? 16 : 8);
	*entry = be64toh(raw[0]);
	*bm = be64toh(raw[1]);
	*l2_off = off;
	return 0;
}

/* One pwrite for entry and bitmap together: a kill never leaves one
 * without the other. */
int qcow2_set_l2(struct qcow2 *q, uint64_t l2_off, uint64_t g, uint64_t entry, uint64_t bm)
{
	uint64_t l2i = (g >> q->cluster_bits) % q->l2_entries;
	uint64_t raw[2] = {htobe64(entry), htobe64(bm)};
	unsigned len = q->extl2 ? 16 : 8;
	int rc = blk_pwrite(q->fd, raw, len, l2_off + l2i * len);

	if (rc == 0)
		qcow2_cache_update(q, l2_off, l2i * len, raw, len);
	return rc;
}

int qcow2_set_l2_run(struct qcow2 *q, uint64_t l2_off, uint64_t g, uint64_t host, unsigned n)
{
	uint64_t l2i = (g >> q->cluster_bits) % q->l2_entries, raw[QCOW2_RUN_MAX];
	int rc;

	if (q->extl2 || n == 0 || n > QCOW2_RUN_MAX || l2i + n > q->l2_entries)
		return -EINVAL;
	for (unsigned k = 0; k < n; k++)
		raw[k] = htobe64((host + (uint64_t)k * q->cs) | QCOW2_OFLAG_COPIED);
	rc = blk_pwrite(q->fd, raw, (uint64_t)n * 8, l2_off + l2i * 8);
	if (rc == 0)
		qcow2_cache_update(q, l2_off, l2i * 8, raw, (uint64_t)n * 8);
	return rc;
}

int qcow2_l2_for_write(struct qcow2 *q, uint64_t g, uint64_t *l2_off)
{
	uint64_t l1i = (g >> q->cluster_bits) / q->l2_entries, l1e, off, be;
	int rc;

	if (l1i >= q->l1_size)
		return -EIO;
	l1e = q->l1[l1i];
	off = l1e & QCOW2_OFFSET_MASK;
	if (off) {
		/* a shared L2 table (snapshots) would need COW: refused */
		if (!cluster_ok(q, off) || !(l1e & QCOW2_OFLAG_COPIED))
			return -EIO;
		*l2_off = off;
		return 0;
	}
	rc = qcow2_alloc_cluster(q, NULL, &off); /* a zeroed table with refcount 1 */
	if (rc < 0)
		return rc;
	l1e = off | QCOW2_OFLAG_COPIED;
	be = htobe64(l1e);
	rc = blk_pwrite(q->fd, &be, 8, q->l1_off + l1i * 8);
	if (rc < 0)
		return rc;
	q->l1[l1i] = l1e;
	*l2_off = off;
	return 0;
}

/* -- refcounts ----------------------------------------------------------- */

/* Where host cluster i's refcount lives: the block's offset (0: none) and
 * the entry's byte offset and width inside it. -EIO for a bad table entry,
 * -ENOSPC past the table. */
static int rc_locate(struct qcow2 *q, uint64_t i, uint64_t *block, uint64_t *byte)
{
	uint64_t ti = i / q->rb_entries, bi = i % q->rb_entries;
	uint64_t off;

	if (ti >= q->rt_size)
		return -ENOSPC;
	off = q->rt[ti] & ~0x1ffull;
	if (off && !cluster_ok(q, off))
		return -EIO;
	*block = off;
	*byte = (bi << q->refcount_order) / 8;
	return 0;
}

/* The refcount in the raw entry bytes p (at the bit offset of entry bi for
 * widths under 8: bit 0 is the least significant, per the spec). */
static uint64_t rc_decode(const struct qcow2 *q, const uint8_t *p, uint64_t bi)
{
	unsigned bits = 1u << q->refcount_order;
	uint64_t v = 0;

	if (bits < 8)
		return (p[0] >> ((bi * bits) % 8)) & ((1u << bits) - 1);
	for (unsigned k = 0; k < bits / 8; k++)
		v = v << 8 | p[k];
	return v;
}

static void rc_encode(const struct qcow2 *q, uint8_t *p, uint64_t bi, uint64_t v)
{
	unsigned bits = 1u << q->refcount_order;

	if (bits < 8) {
		unsigned sh = (bi * bits) % 8, mask = ((1u << bits) - 1) << sh;

		p[0] = (uint8_t)((p[0] & ~mask) | ((v << sh) & mask));
		return;
	}
	for (unsigned k = bits / 8; k-- > 0; v >>= 8)
		p[k] = (uint8_t)v;
}

static uint64_t rc_max(const struct qcow2 *q)
{
	return q->refcount_order == 6 ? UINT64_MAX : (1ull << (1u << q->refcount_order)) - 1;
}

int qcow2_refcount(struct qcow2 *q, uint64_t i, uint64_t *out)
{
	uint64_t block, byte;
	const uint8_t *table;
	int rc = rc_locate(q, i, &block, &byte);

	*out = 0;
	if (rc == -ENOSPC)
		return 0;
	if (rc < 0 || !block)
		return rc;
	/* refcount blocks are cluster-sized tables too: cached with the L2
	 * tables, written through (qcow2_cache.c) */
	rc = qcow2_cache_get(q, block, &table);
	if (rc < 0)
		return rc;
	*out = rc_decode(q, table + byte, i % q->rb_entries);
	return 0;
}

/* Set host cluster i's refcount to v; its refcount block exists. */
static int rc_set(struct qcow2 *q, uint64_t i, uint64_t v)
{
	uint64_t block, byte;
	unsigned len = q->refcount_order >= 3 ? 1u << (q->refcount_order - 3) : 1;
	const uint8_t *table;
	uint8_t p[8];
	int rc = rc_locate(q, i, &block, &byte);

	if (rc < 0)
		return rc;
	if (!block)
		return -EIO;
	if (v > rc_max(q))
		return -EIO; /* refcount overflow */
	rc = qcow2_cache_get(q, block, &table);
	if (rc < 0)
		return rc;
	memcpy(p, table + byte, len);
	rc_encode(q, p, i % q->rb_entries, v);
	rc = blk_pwrite(q->fd, p, len, block + byte);
	if (rc == 0)
		qcow2_cache_update(q, block, byte, p, len);
	return rc;
}

/* A refcount block for the range of host cluster i, put at cluster i
 * itself (it counts itself): written whole, then the table entry. */
static int new_refblock(struct qcow2 *q, uint64_t i)
{
	uint64_t ti = i / q->rb_entries, off = i << q->cluster_bits, be;
	uint8_t *b = calloc(1, q->cs);
	int rc;

	if (!b)
		return -ENOMEM;
	rc_encode(q, b + ((i % q->rb_entries) << q->refcount_order) / 8, i % q->rb_entries, 1);
	rc = blk_pwrite(q->fd, b, q->cs, off);
	if (rc == 0)
		qcow2_cache_update(q, off, 0, b, q->cs); /* were it cached: a fresh cluster */
	free(b);
	if (rc < 0)
		return rc;
	be = htobe64(off);
	rc = blk_pwrite(q->fd, &be, 8, q->rt_off + ti * 8);
	if (rc < 0)
		return rc;
	q->rt[ti] = off;
	return 0;
}

/* The refcount table is full: host cluster i (the end of the file) has no
 * entry. A table of twice the size (or more, to cover itself) goes at the
 * end of the file, followed by the refcount blocks that count it and
 * themselves; then the header points to it (offset and size in one
 * 12-byte pwrite), then the old table is freed. A kill before the header
 * write leaves bytes past the old end that nothing counts; after it, the
 * old table leaked. */
static int grow_reftable(struct qcow2 *q, uint64_t i)
{
	uint64_t n = q->rt_clusters, k = 1, first, last, new_size, *nt = NULL;
	uint64_t max_clusters = QCOW2_MAX_RT_BYTES / q->cs + 1, old_off = q->rt_off;
	uint8_t *blocks = NULL, hdr[12];
	int rc = -ENOMEM;

	/* n table clusters and k blocks from i: the table must reach the last
	 * block's range and one more (the next allocation's) */
	for (;;) {
		n *= 2;
		if (n > max_clusters)
			return -ENOSPC;
		new_size = n * q->cs / 8;
		for (k = 1; (i + n + k - 1) / q->rb_entries - i / q->rb_entries + 1 > k; k++)
			;
		if ((i + n + k) / q->rb_entries + 1 <= new_size)
			break;
	}
	first = i / q->rb_entries;
	last = (i + n + k - 1) / q->rb_entries;
	nt = calloc(new_size, 8);
	blocks = calloc(k, q->cs);
	if (!nt || !blocks)
		goto out;
	memcpy(nt, q->rt, q->rt_size * 8);
	for (uint64_t r = first; r <= last; r++)
		nt[r] = (i + n + (r - first)) << q->cluster_bits;
	for (uint64_t c = i; c < i + n + k; c++) {
		uint64_t r = c / q->rb_entries, bi = c % q->rb_entries;

		rc_encode(q, blocks + (r - first) * q->cs + (bi << q->refcount_order) / 8, bi, 1);
	}
	rc = blk_pwrite(q->fd, blocks, k * q->cs, (i + n) << q->cluster_bits);
	for (uint64_t b = 0; rc == 0 && b < k; b++)
		qcow2_cache_update(q, (i + n + b) << q->cluster_bits, 0, blocks + b * q->cs, q->cs);
	for (uint64_t e = 0; e < new_size; e++)
		nt[e] = htobe64(nt[e]);
	if (rc == 0)
		rc = blk_pwrite(q->fd, nt, new_size * 8, i << q->cluster_bits);
	for (uint64_t e = 0; e < new_size; e++)
		nt[e] = be64toh(nt[e]);
	if (rc < 0)
		goto out;
	be64(hdr, i << q->cluster_bits);
	be32(hdr + 8, (uint32_t)n);
	rc = blk_pwrite(q->fd, hdr, sizeof(hdr), H_RT_OFF);
	if (rc < 0)
		goto out;
	free(q->rt);
	q->rt = nt;
	nt = NULL;
	q->rt_off = i << q->cluster_bits;
	q->rt_clusters = (uint32_t)n;
	q->rt_size = new_size;
	q->next_free = (i + n + k) << q->cluster_bits;
	rc = qcow2_free_range(q, old_off, (n / 2) * q->cs);
out:
	free(nt);
	free(blocks);
	return rc;
}

/* The bytes of refcount block entries bi .. bi + n - 1 (all in one
 * block): from *first, *len of them. */
static void rc_span(const struct qcow2 *q, uint64_t bi, unsigned n, uint64_t *first, unsigned *len)
{
	unsigned width = q->refcount_order >= 3 ? 1u << (q->refcount_order - 3) : 1;
	uint64_t last = ((bi + n - 1) << q->refcount_order) / 8;

	*first = (bi << q->refcount_order) / 8;
	*len = (unsigned)(last - *first) + width;
}

/* How many of host clusters i .. i + n - 1 (n <= QCOW2_RUN_MAX) share
 * the refcount block of i, that block (0: none) and their entries' bytes,
 * read in one pread into buf (from *first in the block). -ENOSPC past
 * the table. */
static int rc_read_span(struct qcow2 *q, uint64_t i, unsigned n, uint8_t *buf, uint64_t *block,
			uint64_t *first, unsigned *k)
{
	uint64_t bi = i % q->rb_entries, byte;
	unsigned len;
	int rc = rc_locate(q, i, block, &byte);

	const uint8_t *table;

	*k = n < q->rb_entries - bi ? n : (unsigned)(q->rb_entries - bi);
	if (rc < 0 || !*block)
		return rc;
	rc_span(q, bi, *k, first, &len);
	rc = qcow2_cache_get(q, *block, &table);
	if (rc == 0)
		memcpy(buf, table + *first, len);
	return rc;
}

int qcow2_commit_run(struct qcow2 *q, uint64_t off, unsigned n)
{
	uint8_t buf[QCOW2_RUN_MAX * 8];
	uint64_t i = off >> q->cluster_bits;

	if (n > QCOW2_RUN_MAX)
		return -EINVAL;
	while (n) {
		uint64_t block, first, bi = i % q->rb_entries;
		unsigned k, len;
		int rc = rc_read_span(q, i, n, buf, &block, &first, &k);

		if (rc < 0)
			return rc == -ENOSPC ? -EIO : rc;
		if (!block)
			return -EIO;
		for (unsigned j = 0; j < k; j++)
			rc_encode(q, buf + (((bi + j) << q->refcount_order) / 8 - first), bi + j,
				  1);
		rc_span(q, bi, k, &first, &len);
		rc = blk_pwrite(q->fd, buf, len, block + first);
		if (rc < 0)
			return rc;
		qcow2_cache_update(q, block, first, buf, len);
		i += k;
		n -= k;
	}
	return 0;
}

int qcow2_reserve_cluster(struct qcow2 *q, uint64_t *off)
{
	/* a few rounds at most: the table grows, a new refcount block takes
	 * the first cluster, then the cluster is ours */
	for (int round = 0; round < 4; round++) {
		uint64_t i = q->next_free >> q->cluster_bits, block, byte, cur;
		int rc;

		if (q->next_free > QCOW2_OFFSET_MASK - q->cs)
			return -ENOSPC;
		rc = rc_locate(q, i, &block, &byte);
		if (rc == -ENOSPC) {
			rc = grow_reftable(q, i);
			if (rc < 0)
				return rc;
			continue;
		}
		if (rc < 0)
			return rc;
		if (!block) {
			rc = new_refblock(q, i);
			if (rc < 0)
				return rc;
			q->next_free += q->cs;
			continue;
		}
		/* past the end of the file nothing may be counted yet; an image
		 * that says otherwise is inconsistent and is not written */
		rc = qcow2_refcount(q, i, &cur);
		if (rc < 0)
			return rc;
		if (cur)
			return -EIO;
		*off = q->next_free;
		q->next_free += q->cs;
		return 0;
	}
	return -EIO;
}

int qcow2_reserve_run(struct qcow2 *q, unsigned want, uint64_t *off, unsigned *got)
{
	uint8_t buf[QCOW2_RUN_MAX * 8];

	*off = q->next_free;
	*got = 0;
	if (want > QCOW2_RUN_MAX)
		want = QCOW2_RUN_MAX;
	while (*got < want) {
		uint64_t at = q->next_free + (uint64_t)*got * q->cs, i = at >> q->cluster_bits;
		uint64_t block, first, bi = i % q->rb_entries;
		unsigned k;
		int rc;

		if (at > QCOW2_OFFSET_MASK - (uint64_t)(want - *got) * q->cs)
			break;
		rc = rc_read_span(q, i, want - *got, buf, &block, &first, &k);
		if (rc == -ENOSPC || (rc == 0 && !block))
			break; /* the single reserve makes room */
		if (rc < 0)
			return rc;
		/* past the end of the file nothing may be counted yet */
		for (unsigned j = 0; j < k; j++)
			if (rc_decode(q, buf + (((bi + j) << q->refcount_order) / 8 - first),
				      bi + j))
				return -EIO;
		*got += k;
	}
	q->next_free += (uint64_t)*got * q->cs;
	return 0;
}

int qcow2_commit_cluster(struct qcow2 *q, uint64_t off)
{
	return rc_set(q, off >> q->cluster_bits, 1);
}

int qcow2_alloc_cluster(struct qcow2 *q, const void *buf, uint64_t *off)
{
	void *z = buf ? NULL : calloc(1, q->cs);
	int rc = buf || z ? qcow2_reserve_cluster(q, off) : -ENOMEM;

	if (rc == 0)
		rc = blk_pwrite(q->fd, buf ? buf : z, q->cs, *off);
	free(z);
	return rc < 0 ? rc : qcow2_commit_cluster(q, *off);
}

int qcow2_free_range(struct qcow2 *q, uint64_t off, uint64_t len)
{
	uint64_t first = off >> q->cluster_bits, last = (off + len - 1) >> q->cluster_bits;

	if (!len)
		return 0;
	for (uint64_t i = first; i <= last; i++) {
		uint64_t cur;
		int rc = qcow2_refcount(q, i, &cur);

		if (rc < 0)
			return rc;
		if (cur == 0)
			return -EIO; /* already free: the image is inconsistent */
		rc = rc_set(q, i, cur - 1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* -- compressed clusters --------------------------------------------------- */

void qcow2_compressed_range(const struct qcow2 *q, uint64_t entry, uint64_t *off, uint64_t *len)
{
	unsigned x = 62 - (q->cluster_bits - 8);
	uint64_t sectors = ((entry >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;

	*off = entry & ((1ull << x) - 1);
	*len = (*off & ~511ull) + sectors * 512 - *off;
}

int qcow2_read_compressed(struct qcow2 *q, uint64_t entry, uint8_t *out)
{
	uint64_t off, len;
	z_stream z = {0};
	uint8_t *in;
	int64_t got;
	int zr;

	qcow2_compressed_range(q, entry, &off, &len);
	if (off < q->cs || off > QCOW2_OFFSET_MASK || qcow2_hits_fixed_meta(q, off, len))
		return -EIO;
	in = malloc(len);
	if (!in)
		return -ENOMEM;
	/* the last compressed cluster may end before its last sector does */
	got = blk_pread_upto(q->fd, in, len, off);
	if (got <= 0) {
		free(in);
		return got < 0 ? (int)got : -EIO;
	}
	if (inflateInit2(&z, -15) != Z_OK) {
		free(in);
		return -ENOMEM;
	}
	z.next_in = in;
	z.avail_in = (uInt)got;
	z.next_out = out;
	z.avail_out = (uInt)q->cs;
	zr = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	free(in);
	/* exactly one cluster: a stream that ends early is malformed; one
	 * that would go on is cut at the cluster, as the spec says */
	if (z.avail_out != 0 || (zr != Z_STREAM_END && zr != Z_OK && zr != Z_BUF_ERROR))
		return -EIO;
	return 0;
}
