/* qcow2's table cache: the L2 tables a lookup needs and the refcount
 * blocks an allocation needs (both cluster-sized, keyed by host offset),
 * kept in memory so that a request costs no metadata read once its
 * tables are hot. Direct-mapped
 * by the table's host cluster number (tables are allocated one after
 * another, so neighbours rarely collide); about 4 MiB per image. Every
 * metadata write goes to the file first (qcow2.h's crash order) and is
 * then copied into the cached table: the cache is never dirty, so a
 * SIGKILL loses nothing of it. Under q->lock, like all metadata. */
#include <errno.h>
#include <stdlib.h>

#include "qcow2_int.h"

#define CACHE_BYTES (4u << 20)
#define CACHE_MIN   4u
#define CACHE_MAX   4096u

struct qcow2_l2_slot {
	uint64_t off;  /* the table's host offset; 0: empty */
	uint8_t *data; /* cs bytes as on disk (big-endian entries) */
};

int qcow2_cache_init(struct qcow2 *q)
{
	uint64_t n = CACHE_BYTES >> q->cluster_bits;

	n = n < CACHE_MIN ? CACHE_MIN : n > CACHE_MAX ? CACHE_MAX : n;
	q->l2_cache = calloc(n, sizeof(*q->l2_cache));
	if (!q->l2_cache)
		return -ENOMEM;
	q->l2_slots = (unsigned)n;
	return 0;
}

void qcow2_cache_free(struct qcow2 *q)
{
	for (unsigned i = 0; q->l2_cache && i < q->l2_slots; i++)
		free(q->l2_cache[i].data);
	free(q->l2_cache);
	q->l2_cache = NULL;
}

static struct qcow2_l2_slot *slot_of(const struct qcow2 *q, uint64_t off)
{
	return &q->l2_cache[(off >> q->cluster_bits) % q->l2_slots];
}

int qcow2_cache_get(struct qcow2 *q, uint64_t off, const uint8_t **table)
{
	struct qcow2_l2_slot *s = slot_of(q, off);
	int rc;

	if (s->off != off) {
		if (!s->data && !(s->data = malloc(q->cs)))
			return -ENOMEM;
		s->off = 0; /* empty until the read succeeded */
		rc = blk_pread(q->fd, s->data, q->cs, off);
		if (rc < 0)
			return rc;
		s->off = off;
	}
	*table = s->data;
	return 0;
}

void qcow2_cache_update(struct qcow2 *q, uint64_t off, uint64_t at, const void *p, uint64_t len)
{
	struct qcow2_l2_slot *s = slot_of(q, off);

	if (s->off == off && at <= q->cs && len <= q->cs - at)
		memcpy(s->data + at, p, len);
}
