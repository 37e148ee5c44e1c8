/* qcow2's insides, shared by its files: qcow2_open.c (header), qcow2_meta.c
 * (L1/L2 lookup, refcounts, allocation), qcow2_io.c (the blk_image ops).
 * See qcow2.h for the design. */
#pragma once

#include <endian.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "qcow2.h"

#define QCOW2_MAGIC	    0x514649fbu /* "QFI\xfb" */
#define QCOW2_V2_HDR_LEN    72u
#define QCOW2_V3_HDR_LEN    104u
#define QCOW2_MAX_L1_BYTES  (32u << 20) /* QEMU's limits: an image they can open */
#define QCOW2_MAX_RT_BYTES  (8u << 20)
#define QCOW2_MAX_SNAPSHOTS 65536u
#define QCOW2_BACKING_MAX   1023u
#define QCOW2_MAX_ALLOCATING 64u /* writers allocating at once (moat-blk has 16) */

#define QCOW2_INCOMPAT_DIRTY	 (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT	 (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESS	 (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2	 (1ull << 4)

#define QCOW2_EXT_END	      0x00000000u
#define QCOW2_EXT_BACKING_FMT 0xe2792acau

#define QCOW2_OFLAG_COPIED     (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO       (1ull << 0)
#define QCOW2_OFFSET_MASK      0x00fffffffffffe00ull /* bits 9-55 */

/* Header field offsets (big-endian). */
enum {
	H_MAGIC = 0,
	H_VERSION = 4,
	H_BACKING_OFF = 8,
	H_BACKING_SIZE = 16,
	H_CLUSTER_BITS = 20,
	H_SIZE = 24,
	H_CRYPT = 32,
	H_L1_SIZE = 36,
	H_L1_OFF = 40,
	H_RT_OFF = 48,
	H_RT_CLUSTERS = 56,
	H_NB_SNAP = 60,
	H_SNAP_OFF = 64,
	H_INCOMPAT = 72,
	H_COMPAT = 80,
	H_AUTOCLEAR = 88,
	H_REFCOUNT_ORDER = 96,
	H_HDR_LEN = 100,
	H_COMPRESSION = 104,
};

struct qcow2 {
	struct blk_image img; /* first: the wrappers cast */
	int fd;
	struct blk_image *backing; /* not owned */
	bool backing_named;	   /* the header names one */

	unsigned version, cluster_bits, refcount_order;
	uint64_t cs;	     /* cluster size */
	uint64_t l2_entries; /* per L2 table */
	bool extl2;	     /* extended L2 entries: 16 bytes, 32 subclusters */
	uint64_t rb_entries; /* refcounts per refcount block */

	uint64_t l1_off;
	uint32_t l1_size;
	uint64_t *l1; /* host byte order; under lock */

	uint64_t rt_off;
	uint32_t rt_clusters;
	uint64_t rt_size; /* entries */
	uint64_t *rt;	  /* host byte order; under lock */

	uint32_t nb_snapshots;
	uint64_t incompat, compat, autoclear;
	char backing_name[BLK_IMAGE_NAME_MAX];
	char backing_fmt[BLK_IMAGE_FMT_MAX];

	uint64_t next_free; /* where the next cluster goes: the file's end, rounded up */
	struct qcow2_l2_slot *l2_cache; /* qcow2_cache.c; under lock */
	unsigned l2_slots;
	pthread_mutex_t lock;
	/* Guest clusters (index) whose new host cluster is being written
	 * without the lock (qcow2_io.c: write_alloc): another write to one,
	 * or its discard, waits on settled until it is counted and mapped. */
	uint64_t allocating[QCOW2_MAX_ALLOCATING];
	unsigned nallocating;
	pthread_cond_t settled;
};

static inline uint32_t be32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static inline uint64_t be64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static inline void be32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static inline void be64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

/* Does [off, off + len) touch the header cluster, the L1 table or the
 * refcount table? A data cluster, L2 table or refcount block that does is
 * malformed. */
bool qcow2_hits_fixed_meta(const struct qcow2 *q, uint64_t off, uint64_t len);

/* Where guest offset g is: the L2 table's host offset (0: none yet), the
 * L2 entry and, with extended L2 entries, its subcluster bitmap (0 if no
 * table). Under q->lock. 0 or -EIO. */
int qcow2_lookup(struct qcow2 *q, uint64_t g, uint64_t *l2_off, uint64_t *entry, uint64_t *bm);
/* Write the L2 entry (and bitmap, extended L2) for guest offset g in
 * table l2_off. Under q->lock. */
int qcow2_set_l2(struct qcow2 *q, uint64_t l2_off, uint64_t g, uint64_t entry, uint64_t bm);
/* The L2 table for guest offset g, allocating a zeroed one when there is
 * none. Under q->lock. */
int qcow2_l2_for_write(struct qcow2 *q, uint64_t g, uint64_t *l2_off);

/* A new cluster at the end of the file whose contents are buf (cs bytes;
 * NULL: zeros), then its refcount set to 1: the first two steps of the
 * crash order. Returns its host offset in *off. Under q->lock. */
int qcow2_alloc_cluster(struct qcow2 *q, const void *buf, uint64_t *off);
/* The same in two halves, for a caller that writes the contents without
 * the lock: reserve a cluster at the end of the file (its refcount block
 * made if needed, the cluster itself still counted 0 and nobody else's),
 * then, once its contents are written, count it (refcount 1). A crash in
 * between leaves space that nothing counts or points to: no leak, no
 * corruption. Both under q->lock. */
int qcow2_reserve_cluster(struct qcow2 *q, uint64_t *off);
/* Up to want consecutive clusters at the end of the file at once, as far
 * as the refcount blocks in place already count them (none is made or
 * grown here: *got may be less than want, or 0). */
int qcow2_reserve_run(struct qcow2 *q, unsigned want, uint64_t *off, unsigned *got);
int qcow2_commit_cluster(struct qcow2 *q, uint64_t off);
/* The clusters a fresh run reserves at most (qcow2_io.c). */
#define QCOW2_RUN_MAX 64
/* Refcount 1 for the n (<= QCOW2_RUN_MAX) reserved host clusters from
 * off: one pread and one pwrite for each refcount block they span. */
int qcow2_commit_run(struct qcow2 *q, uint64_t off, unsigned n);
/* The L2 entries of n (<= QCOW2_RUN_MAX) consecutive guest clusters from
 * g, all in the table at l2_off and not extended, pointed at consecutive
 * host clusters from host (COPIED): one pwrite. */
int qcow2_set_l2_run(struct qcow2 *q, uint64_t l2_off, uint64_t g, uint64_t host, unsigned n);
/* Decrement the refcount of the host clusters [off, off + len). */
int qcow2_free_range(struct qcow2 *q, uint64_t off, uint64_t len);
/* The refcount of host cluster index i (0 outside the table). */
int qcow2_refcount(struct qcow2 *q, uint64_t i, uint64_t *rc);

/* A compressed L2 entry's host range: start and length in bytes. */
void qcow2_compressed_range(const struct qcow2 *q, uint64_t entry, uint64_t *off, uint64_t *len);
/* Inflate the compressed cluster of entry into out (cs bytes). 0 or -EIO. */
int qcow2_read_compressed(struct qcow2 *q, uint64_t entry, uint8_t *out);

/* The table cache (qcow2_cache.c: L2 tables and refcount blocks), under
 * q->lock. get: the table at off (cs bytes, on-disk byte order), read
 * from the file on a miss.
 * update: after a successful pwrite of len bytes at off + at, the same
 * bytes into the cached table if it is cached. */
int qcow2_cache_init(struct qcow2 *q);
void qcow2_cache_free(struct qcow2 *q);
int qcow2_cache_get(struct qcow2 *q, uint64_t off, const uint8_t **table);
void qcow2_cache_update(struct qcow2 *q, uint64_t off, uint64_t at, const void *p, uint64_t len);

extern const struct blk_image_ops qcow2_ops;
