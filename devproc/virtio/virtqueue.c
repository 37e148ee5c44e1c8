/* A strict split virtqueue, device side (virtio 1.x, "Split Virtqueues"). See
 * virtqueue.h for the rules it enforces.
 *
 * Everything in the rings is guest-shared and may change under us at any
 * moment. So each field is loaded exactly once, with an __atomic load (the
 * compiler can neither re-read it after we validated it nor tear an aligned
 * one), into a local that is validated and then used. The ring parts were
 * checked to be in guest RAM by vq_init; every address inside a descriptor
 * goes through gmem_ptr. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "virtqueue.h"
#include "vq_inflight_int.h"

/* Layout (spec, "Split Virtqueues"): a descriptor is 16 bytes; avail is flags,
 * idx, ring[size] of u16, used_event; used is flags, idx, ring[size] of {u32
 * id, u32 len}, avail_event. All little-endian. */
#define DESC_SIZE      16u
#define RING_IDX_OFF   2u /* idx, after flags, in both rings */
#define RING_ENTRY_OFF 4u
#define USED_ELEM_SIZE 8u

/* The spec's cap on the bytes of one chain ("The Virtqueue Descriptor Table":
 * "MUST NOT add a descriptor chain longer than 2^32 bytes in total"). */
#define VQ_MAX_CHAIN_BYTES (1ull << 32)

/* One descriptor, once copied out of guest memory. */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* Where the chain walk is: the table being followed (the queue's own or
 * one indirect table), its entry count, which bounds both next and the
 * number of hops (a chain with more hops than entries has a loop). */
struct walk {
	const uint8_t *table;
	unsigned entries;
	unsigned hops;
	bool indirect;
};

static uint16_t ld16(const uint8_t *p, int order)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, order));
}

static void st16(uint8_t *p, uint16_t v, int order)
{
	__atomic_store_n((uint16_t *)p, htole16(v), order);
}

static void st32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}

/* The queue's table is 16-aligned (vq_init), an indirect table may be
 * anywhere: it is then copied byte by byte, still each byte once. */
static void read_desc(const uint8_t *p, struct desc *d)
{
	uint8_t b[DESC_SIZE];

	if (((uintptr_t)p & 7) == 0) {
		d->addr = le64toh(__atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED));
		d->len = le32toh(__atomic_load_n((const uint32_t *)(p + 8), __ATOMIC_RELAXED));
		d->flags = ld16(p + 12, __ATOMIC_RELAXED);
		d->next = ld16(p + 14, __ATOMIC_RELAXED);
		return;
	}
	for (unsigned i = 0; i < DESC_SIZE; i++)
		b[i] = __atomic_load_n(p + i, __ATOMIC_RELAXED);
	memcpy(&d->addr, b, 8);
	memcpy(&d->len, b + 8, 4);
	memcpy(&d->flags, b + 12, 2);
	memcpy(&d->next, b + 14, 2);
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

static bool is_pow2(unsigned v)
{
	return v && !(v & (v - 1));
}

/* Sizes and alignments are the spec's, event fields included. The
 * host pointers are checked as well: gmem_map keeps the guest's alignment
 * (page-aligned slots), a fake gmem over an odd buffer might not, and the
 * __atomic accesses need it. *vq is written only on success. */
int vq_init(struct virtqueue *vq, const struct gmem *mem, uint16_t size, uint64_t desc_gpa,
	    uint64_t avail_gpa, uint64_t used_gpa, bool event_idx)
{
	uint8_t *d, *a, *u;

	if (!vq || !mem || !is_pow2(size) || size > VQ_MAX_SIZE)
		return -EINVAL;
	if (desc_gpa % 16 || avail_gpa % 2 || used_gpa % 4)
		return -EINVAL;
	d = gmem_ptr(mem, desc_gpa, DESC_SIZE * size);
	a = gmem_ptr(mem, avail_gpa, 6 + 2u * size);
	u = gmem_ptr(mem, used_gpa, 6 + USED_ELEM_SIZE * size);
	if (!d || !a || !u)
		return -EINVAL;
	if ((uintptr_t)d % 16 || (uintptr_t)a % 2 || (uintptr_t)u % 4)
		return -EINVAL;
	/* Both indices start at 0 (spec: avail and used ring), so "nothing
	 * signalled yet" is exactly "signalled at 0". */
	*vq = (struct virtqueue){
	    .mem = mem,
	    .size = size,
	    .desc_gpa = desc_gpa,
	    .avail_gpa = avail_gpa,
	    .used_gpa = used_gpa,
	    .event_idx = event_idx,
	    .signalled_valid = true,
	    .desc = d,
	    .avail = a,
	    .used = u,
	};
	return 0;
}

static int fail(struct virtqueue *vq)
{
	vq->broken = true;
	return -EBADMSG;
}

/* Switch the walk to the indirect table d points to. The spec forbids a table
 * inside a table and INDIRECT together with NEXT ("Indirect Descriptors"); the
 * WRITE flag of d is ignored, as it must be. */
static int enter_indirect(const struct gmem *mem, struct walk *w, const struct desc *d)
{
	const uint8_t *t;

	if (w->indirect || (d->flags & VIRTQ_DESC_F_NEXT))
		return -EBADMSG;
	if (d->len == 0 || d->len % DESC_SIZE || d->len / DESC_SIZE > VQ_MAX_CHAIN)
		return -EBADMSG;
	t = gmem_ptr(mem, d->addr, d->len);
	if (!t)
		return -EBADMSG;
	*w = (struct walk){.table = t, .entries = d->len / DESC_SIZE, .indirect = true};
	return 0;
}

/* Append the buffer d describes. Readable ones must all come first
 * ("Message Framing"): one readable after a writable one breaks the chain. Sums
 * cannot overflow (at most VQ_MAX_CHAIN lengths below 2^32 each) and are
 * capped at the spec's 2^32. */
static int add_buf(const struct gmem *mem, struct vq_chain *c, const struct desc *d)
{
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	void *p;

	if (c->n >= VQ_MAX_CHAIN)
		return -EBADMSG;
	if (!writable && c->n > c->n_out)
		return -EBADMSG;
	p = gmem_ptr(mem, d->addr, d->len);
	if (!p)
		return -EBADMSG;
	if (writable) {
		c->in_bytes += d->len;
	} else {
		c->out_bytes += d->len;
		c->n_out++;
	}
	if (c->out_bytes + c->in_bytes > VQ_MAX_CHAIN_BYTES)
		return -EBADMSG;
	c->e[c->n++] =
	    (struct vq_buf){.ptr = p, .gpa = d->addr, .len = d->len, .writable = writable};
	return 0;
}

/* Follow the chain from head: zero or more direct descriptors, possibly ending
 * in one that refers to an indirect table, whose own chain then starts at its
 * entry 0 ("Indirect Descriptors"). Bounded: hops per table never exceed its
 * entry count, so a loop ends the walk with -EBADMSG. */
static int walk_chain(const struct virtqueue *vq, uint16_t head, struct vq_chain *c)
{
	struct walk w = {.table = vq->desc, .entries = vq->size};
	unsigned i = head;
	struct desc d;

	c->head = head;
	c->n = c->n_out = 0;
	c->out_bytes = c->in_bytes = 0;
	for (;;) {
		if (++w.hops > w.entries)
			return -EBADMSG;
		read_desc(w.table + DESC_SIZE * i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (enter_indirect(vq->mem, &w, &d) < 0)
				return -EBADMSG;
			i = 0;
			continue;
		}
		if (add_buf(vq->mem, c, &d) < 0)
			return -EBADMSG;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= w.entries)
			return -EBADMSG;
		i = d.next;
	}
}

/* avail->idx is read with acquire semantics, so the ring entry and the
 * descriptors it leads to are read after it (pairs with the driver's
 * barrier before its idx update, "Updating idx"). The driver can never have
 * more than size chains outstanding: a larger gap is a broken queue. */
int vq_pop(struct virtqueue *vq, struct vq_chain *c)
{
	uint16_t avail_idx, head;

	if (!vq || !vq->desc || !c)
		return -EINVAL;
	if (vq->broken)
		return -EBADMSG;
	avail_idx = ld16(vq->avail + RING_IDX_OFF, __ATOMIC_ACQUIRE);
	if (avail_idx == vq->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return fail(vq);
	head = ld16(vq->avail + RING_ENTRY_OFF + 2u * (vq->last_avail & (vq->size - 1u)),
		    __ATOMIC_RELAXED);
	if (head >= vq->size)
		return fail(vq);
	if (walk_chain(vq, head, c) < 0)
		return fail(vq);
	if (vq->inflight)
		vq_inflight_mark(vq->inflight, head);
	vq->last_avail++;
	return 1;
}

int vq_pop_head(struct virtqueue *vq, uint16_t head, struct vq_chain *c)
{
	if (!vq || !vq->desc || !c || head >= vq->size)
		return -EINVAL;
	if (vq->broken)
		return -EBADMSG;
	if (walk_chain(vq, head, c) < 0)
		return fail(vq);
	return 1;
}

/* The element is complete before the release store of used->idx makes it
 * visible ("The Virtqueue Used Ring": "MUST set len prior to updating the used
 * idx"). */
int vq_push(struct virtqueue *vq, uint16_t head, uint32_t written)
{
	uint8_t *e;

	if (!vq || !vq->desc || head >= vq->size)
		return -EINVAL;
	if (vq->broken)
		return -EBADMSG;
	if (vq->inflight)
		vq_inflight_pushing(vq->inflight, head);
	e = vq->used + RING_ENTRY_OFF + USED_ELEM_SIZE * (vq->used_idx & (vq->size - 1u));
	st32(e, head);
	st32(e + 4, written);
	vq->used_idx++;
	st16(vq->used + RING_IDX_OFF, vq->used_idx, __ATOMIC_RELEASE);
	if (vq->inflight)
		vq_inflight_pushed(vq->inflight, head, vq->used_idx);
	return 0;
}

uint16_t vq_guest_used_idx(const struct virtqueue *vq)
{
	return ld16(vq->used + RING_IDX_OFF, __ATOMIC_ACQUIRE);
}

uint32_t vq_guest_used_id(const struct virtqueue *vq, uint16_t i)
{
	const uint8_t *e = vq->used + RING_ENTRY_OFF + USED_ELEM_SIZE * (i & (vq->size - 1u));

	return le32toh(__atomic_load_n((const uint32_t *)e, __ATOMIC_RELAXED));
}

/* The classic vring_need_event: the entries pushed since the last signal went
 * to used indices old .. new-1, and the driver asked to be interrupted once the
 * entry at index event is written ("Used Buffer Notification Suppression"). In
 * 16-bit arithmetic, event lies in [old, new) exactly when new - 1 - event <
 * new - old. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* The full barrier orders our used->idx store before the load of flags or
 * used_event (store then load: only a full fence does), pairing with the
 * driver's barrier between re-enabling interrupts and re-reading used->idx;
 * without it both sides could miss each other's update. */
bool vq_should_notify(struct virtqueue *vq)
{
	uint16_t old = vq->signalled_used, event;
	bool valid = vq->signalled_valid;

	if (!vq->desc || vq->broken)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (!vq->event_idx)
		return !(ld16(vq->avail, __ATOMIC_RELAXED) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	event = ld16(vq->avail + RING_ENTRY_OFF + 2u * vq->size, __ATOMIC_RELAXED);
	return need_event(event, vq->used_idx, old);
}

/* The trailing full fence orders the avail_event (or flags) store before
 * the caller's next load of avail->idx in vq_has_avail: the driver does the
 * mirror image (store idx, fence, load avail_event), so at least one side
 * sees the other's update and no buffer is left without a kick. With event
 * idx the device keeps used->flags at 0 ("Available Buffer Notification
 * Suppression"). */
void vq_enable_notify(struct virtqueue *vq)
{
	if (!vq->desc || vq->broken)
		return;
	if (vq->event_idx)
		st16(vq->used + RING_ENTRY_OFF + USED_ELEM_SIZE * vq->size, vq->last_avail,
		     __ATOMIC_RELAXED);
	else
		st16(vq->used, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void vq_disable_notify(struct virtqueue *vq)
{
	if (!vq->desc || vq->broken || vq->event_idx)
		return;
	st16(vq->used, VIRTQ_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
}

uint16_t vq_avail_idx(const struct virtqueue *vq)
{
	return vq->desc ? ld16(vq->avail + RING_IDX_OFF, __ATOMIC_ACQUIRE) : 0;
}

bool vq_has_avail(struct virtqueue *vq)
{
	if (!vq->desc || vq->broken)
		return false;
	return vq_avail_idx(vq) != vq->last_avail;
}

/* Copy between a flat buffer and buffers [first, last) of a chain seen as
 * one byte stream starting at off. n is clamped, so a garbage chain cannot
 * send us past e[]. */
static uint64_t chain_copy(const struct vq_chain *c, unsigned first, unsigned last, uint64_t off,
			   uint8_t *flat, uint64_t len, bool to_chain)
{
	uint64_t done = 0;

	if (last > VQ_MAX_CHAIN)
		last = VQ_MAX_CHAIN;
	for (unsigned i = first; i < last && done < len; i++) {
		const struct vq_buf *b = &c->e[i];
		uint64_t k;

		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		k = b->len - off;
		if (k > len - done)
			k = len - done;
		if (to_chain)
			memcpy((uint8_t *)b->ptr + off, flat + done, k);
		else
			memcpy(flat + done, (const uint8_t *)b->ptr + off, k);
		done += k;
		off = 0;
	}
	return done;
}

uint64_t vq_chain_read(const struct vq_chain *c, uint64_t off, void *dst, uint64_t len)
{
	unsigned n_out = c->n_out < c->n ? c->n_out : c->n;

	return chain_copy(c, 0, n_out, off, dst, len, false);
}

uint64_t vq_chain_write(const struct vq_chain *c, uint64_t off, const void *src, uint64_t len)
{
	return chain_copy(c, c->n_out, c->n, off, (uint8_t *)src, len, true);
}
