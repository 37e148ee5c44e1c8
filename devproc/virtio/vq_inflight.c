/* A queue's in-flight record (virtqueue.h, struct vq_inflight): set up for
 * a new queue, and read back by a device's successor. The record was
 * written by a process that may have been compromised, so it is copied
 * once into private memory and every field of the copy is checked before
 * anything is believed; the guest's used ring is the guest's and only
 * decides between two readings the record allows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtqueue.h"
#include "vq_inflight_int.h"

/* The order matters only for a kill in the middle: size goes last, so a
 * half-reset record says size 0 and no successor takes it back. */
void vq_track(struct virtqueue *vq, struct vq_inflight *r)
{
	__atomic_store_n(&r->size, 0, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < VQ_MAX_SIZE; i++)
		__atomic_store_n(&r->desc[i], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->next, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&r->used_idx, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->last_head, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->size, vq->size, __ATOMIC_RELEASE);
	vq->inflight = r;
}

struct taken {
	uint64_t counter;
	uint16_t head;
};

static int by_counter(const void *a, const void *b)
{
	const struct taken *x = a, *y = b;

	return x->counter < y->counter ? -1 : x->counter > y->counter;
}

static int resume_in_order(struct virtqueue *vq, unsigned *n)
{
	uint16_t used = vq_guest_used_idx(vq);

	vq->used_idx = used;
	vq->last_avail = used;
	vq->signalled_valid = false;
	*n = 0;
	return 0;
}

int vq_resume(struct virtqueue *vq, struct vq_inflight *r, enum vq_resume_mode mode,
	      uint16_t *heads, unsigned *n)
{
	static struct vq_inflight c; /* 8 KiB: one queue at a time, loop thread */
	static struct taken t[VQ_MAX_SIZE];
	unsigned count = 0;
	uint16_t used, guest_used;

	*n = 0;
	if (mode == VQ_RESUME_IN_ORDER)
		return resume_in_order(vq, n);
	if (!r)
		return -EBADMSG;
	memcpy(&c, r, sizeof(c)); /* once: only the copy is checked and used */
	if (c.size != vq->size || c.next == 0 || c.last_head >= vq->size)
		return -EBADMSG;
	for (unsigned h = 0; h < VQ_MAX_SIZE; h++) {
		if (!c.desc[h])
			continue;
		if (h >= vq->size || c.desc[h] >= c.next)
			return -EBADMSG;
		t[count++] = (struct taken){c.desc[h], (uint16_t)h};
	}
	/* in pop order; two heads popped with one counter no device writes */
	qsort(t, count, sizeof(t[0]), by_counter);
	for (unsigned i = 1; i < count; i++)
		if (t[i].counter == t[i - 1].counter)
			return -EBADMSG;
	used = c.used_idx;
	guest_used = vq_guest_used_idx(vq);
	/* A push cut short after used->idx (before or after desc[] was
	 * cleared): the guest has that request back, so it is not taken
	 * again (it would be completed twice, perhaps after the driver
	 * reused its head). Any other difference is the guest's doing: the
	 * record wins, and the next push rewrites idx. A guest that fakes
	 * this loses its own request. */
	if ((uint16_t)(guest_used - used) == 1 && vq_guest_used_id(vq, used) == c.last_head) {
		for (unsigned i = 0; i < count; i++)
			if (t[i].head == c.last_head) {
				memmove(&t[i], &t[i + 1], (count - i - 1) * sizeof(t[0]));
				count--;
				break;
			}
		used = guest_used;
		vq_inflight_pushed(r, c.last_head, used);
	}
	for (unsigned i = 0; i < count; i++)
		heads[i] = t[i].head;
	*n = count;
	vq->used_idx = used;
	vq->last_avail = (uint16_t)(used + count);
	vq->signalled_valid = false; /* interrupt at the next push, to be safe */
	vq->inflight = r;
	return 0;
}
