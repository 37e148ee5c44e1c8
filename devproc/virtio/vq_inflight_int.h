/* The in-flight record's stores (virtqueue.h, struct vq_inflight), for
 * virtqueue.c's pop and push, and the guest's used ring as vq_resume
 * reads it (vq_inflight.c). Each store is one aligned atomic store, in the
 * order the record's comment gives: release, so that neither the compiler
 * nor the CPU lets a later one be seen before an earlier one by the
 * process that maps the file after this one is killed. */
#pragma once

#include <stdint.h>

#include "virtqueue.h"

static inline void vq_inflight_mark(struct vq_inflight *r, uint16_t head)
{
	uint64_t n = __atomic_load_n(&r->next, __ATOMIC_RELAXED);

	__atomic_store_n(&r->next, n + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&r->desc[head], n, __ATOMIC_RELEASE);
}

static inline void vq_inflight_pushing(struct vq_inflight *r, uint16_t head)
{
	__atomic_store_n(&r->last_head, head, __ATOMIC_RELEASE);
}

/* After used->idx was stored as used_idx. */
static inline void vq_inflight_pushed(struct vq_inflight *r, uint16_t head, uint16_t used_idx)
{
	__atomic_store_n(&r->desc[head], 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->used_idx, used_idx, __ATOMIC_RELEASE);
}

/* virtqueue.c: the guest's used->idx, and the id of the used element at
 * index i (the guest may have written either). */
uint16_t vq_guest_used_idx(const struct virtqueue *vq);
uint32_t vq_guest_used_id(const struct virtqueue *vq, uint16_t i);
