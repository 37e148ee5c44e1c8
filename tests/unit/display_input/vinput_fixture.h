/* The fixture of the virtio-input tests (test_vinput.c,
 * test_vinput_hostile.c): the shared virtio device fixture
 * (tests/unit/virtio/vdev_fixture.h: eventq 0, statusq 1, config on
 * vector 0, queue q on vector q + 1) with a keyboard or a tablet, and a
 * driver that does what Linux's virtio_input does: probe the config
 * space, post 8-byte event buffers, take the events back and post the
 * buffers again, send LED changes on the statusq.
 *
 * vdev_fixture.h's ring helpers wrap at its QSIZE (256), more than
 * VINPUT_QUEUE_MAX; the rings here are VQ entries and their helpers
 * wrap there. */
#pragma once

#include <linux/input.h>
#include <linux/virtio_input.h>

#include "vinput.h"

#define VQ VINPUT_QUEUE_MAX
#define VFIX_DEVICE_FIELDS                                                                         \
	struct vinput *v;                                                                          \
	uint64_t evgpa[VQ]; /* eventq: the buffer posted under each head */
#include "vdev_fixture.h"

#define F_VERSION_1 (1ull << VPCI_F_VERSION_1)
#define F_EVENT_IDX (1ull << VPCI_F_EVENT_IDX)

/* An event as the driver decodes it. */
struct tev {
	uint16_t type, code;
	int32_t value;
};

static inline bool tev_is(const struct tev *e, uint16_t type, uint16_t code, int32_t value)
{
	if (e->type == type && e->code == code && e->value == value)
		return true;
	fprintf(stderr, "event %u/%u/%d, expected %u/%u/%d\n", e->type, e->code, e->value, type,
		code, value);
	return false;
}

/* The device, no driver yet. */
static inline int vi_model(struct vfix *f, enum vinput_kind k)
{
	struct vdev_params p;
	char err[128] = "";

	vfix_init(f, VINPUT_NUM_QUEUES, VINPUT_VECTORS, &p);
	if (vinput_create(&f->v, k, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "vinput_create: %s\n", err);
		return -1;
	}
	vfix_attach(f, vinput_vdev(f->v));
	return 0;
}

/* Negotiate, MSI-X, both queues of VQ entries, DRIVER_OK. */
static inline int vi_driver_up(struct vfix *f, uint64_t features)
{
	if (!(drv_negotiate(&f->drv, features, NULL) & S_FEATURES_OK))
		return -1;
	drv_msix_enable(&f->drv);
	drv_common_write(&f->drv, C_MSIX, 2, 0);
	for (unsigned q = 0; q < f->nq; q++) {
		struct vring *r = &f->r[q];
		if (drv_setup_queue(&f->drv, q, VQ, r->desc, r->avail, r->used,
				    (uint16_t)(q + 1)) != 1)
			return -1;
	}
	drv_common_write(&f->drv, C_STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return 0;
}

static inline int vi_setup(struct vfix *f, enum vinput_kind k)
{
	if (vi_model(f, k) < 0 || drv_probe(&f->drv) < 0)
		return -1;
	return vi_driver_up(f, F_VERSION_1);
}

static inline void vi_teardown(struct vfix *f)
{
	vinput_destroy(f->v);
	vfix_fini(f);
}

static inline struct vinput_stats vi_stats(struct vfix *f)
{
	struct vinput_stats s;

	vinput_get_stats(f->v, &s);
	return s;
}

/* The driver resets the device (and waits for it), then starts again on
 * fresh rings. */
static inline int vi_reset_and_up(struct vfix *f, uint64_t features)
{
	drv_common_write(&f->drv, C_STATUS, 1, 0);
	for (int i = 0; i < 1000 && drv_common_read(&f->drv, C_STATUS, 1) != 0; i++)
		usleep(1000);
	if (drv_common_read(&f->drv, C_STATUS, 1) != 0)
		return -1;
	vfix_fresh_rings(f);
	return vi_driver_up(f, features);
}

/* ---- the rings, VQ entries -------------------------------------------------- */

/* Make head available on queue q. */
static inline void vi_offer_head(struct vfix *f, unsigned q, uint16_t head)
{
	struct vring *r = &f->r[q];

	put16(ram_ptr(&f->ram, r->avail) + 4 + 2 * (r->avail_idx % VQ), head);
	r->avail_idx++;
	__atomic_store_n((uint16_t *)(ram_ptr(&f->ram, r->avail) + 2), htole16(r->avail_idx),
			 __ATOMIC_RELEASE);
}

/* Descriptors for segs on queue q, linked, offered; returns the head. */
static inline uint16_t vi_offer(struct vfix *f, unsigned q, const struct seg *s, unsigned n)
{
	struct vring *r = &f->r[q];
	uint16_t head = r->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % VQ);
		desc_put(f, q, idx, s[i].gpa, s[i].len,
			 (uint16_t)((s[i].w ? F_WRITE : 0) | (i + 1 < n ? F_NEXT : 0)),
			 (uint16_t)((idx + 1) % VQ));
	}
	r->next_desc = (uint16_t)((head + n) % VQ);
	vi_offer_head(f, q, head);
	return head;
}

static inline void vi_used_elem(struct vfix *f, unsigned q, uint16_t i, uint32_t *id, uint32_t *len)
{
	uint8_t *e = ram_ptr(&f->ram, f->r[q].used) + 4 + 8 * (i % VQ);

	*id = get32(e);
	*len = get32(e + 4);
}

/* Chains of queue q the device returned and the driver has not seen. */
static inline uint16_t vi_pending(struct vfix *f, unsigned q)
{
	return (uint16_t)(used_idx(f, q) - f->r[q].used_seen);
}

/* Post one 8-byte event buffer (as virtinput_queue_evtbuf), no kick. */
static inline void vi_post_one(struct vfix *f, uint64_t gpa)
{
	struct seg s = {gpa, sizeof(struct virtio_input_event), true};
	uint16_t head = vi_offer(f, VINPUT_EVENTQ, &s, 1);

	memset(ram_ptr(&f->ram, gpa), 0xee, s.len);
	f->evgpa[head] = gpa;
}

/* Post n fresh event buffers and kick (virtinput_fill_evt). */
static inline void vi_post(struct vfix *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		vi_post_one(f, alloc(f, sizeof(struct virtio_input_event)));
	kick(f, VINPUT_EVENTQ);
}

/* Take the returned event buffers (virtinput_recv_events): their events
 * into out (at most max), each buffer posted again, one kick after.
 * Returns how many; -1 if a buffer came back with a length other than 8
 * or an unknown head. */
static inline int vi_recv(struct vfix *f, struct tev *out, unsigned max)
{
	struct vring *r = &f->r[VINPUT_EVENTQ];
	unsigned n = 0;

	while (n < max && vi_pending(f, VINPUT_EVENTQ)) {
		uint32_t id, len;
		vi_used_elem(f, VINPUT_EVENTQ, r->used_seen++, &id, &len);
		if (id >= VQ || len != sizeof(struct virtio_input_event) || !f->evgpa[id])
			return -1;
		const uint8_t *p = ram_ptr(&f->ram, f->evgpa[id]);
		out[n++] = (struct tev){get16(p), get16(p + 2), (int32_t)get32(p + 4)};
		vi_post_one(f, f->evgpa[id]);
	}
	if (n)
		kick(f, VINPUT_EVENTQ);
	return (int)n;
}

/* Send one status event (virtinput_send_status) and kick; returns the
 * head. */
static inline uint16_t vi_status(struct vfix *f, uint16_t type, uint16_t code, int32_t value)
{
	uint64_t gpa = alloc(f, 8);
	uint8_t *p = ram_ptr(&f->ram, gpa);
	struct seg s = {gpa, 8, false};
	uint16_t head;

	put16(p, type);
	put16(p + 2, code);
	put16(p + 4, (uint16_t)value);
	put16(p + 6, (uint16_t)((uint32_t)value >> 16));
	head = vi_offer(f, VINPUT_STATUSQ, &s, 1);
	kick(f, VINPUT_STATUSQ);
	return head;
}

/* ---- the config space ------------------------------------------------------ */

static inline uint8_t vi_cfg8(struct vfix *f, uint32_t off)
{
	return (uint8_t)drv_bar_read(&f->drv, f->drv.device + off, 1);
}

/* virtinput_cfg_select: select, subsel (a byte each), read size. */
static inline uint8_t vi_select(struct vfix *f, uint8_t select, uint8_t subsel)
{
	drv_bar_write(&f->drv, f->drv.device + 0, 1, select);
	drv_bar_write(&f->drv, f->drv.device + 1, 1, subsel);
	return vi_cfg8(f, 2);
}

/* The union's first len bytes, read a byte at a time (virtio_cread_bytes). */
static inline void vi_union(struct vfix *f, uint8_t *out, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		out[i] = vi_cfg8(f, 8 + i);
}

/* Bit `bit` of the EV_BITS bitmap of type; false when size 0. */
static inline bool vi_has_bit(struct vfix *f, uint8_t type, unsigned bit)
{
	uint8_t size = vi_select(f, VIRTIO_INPUT_CFG_EV_BITS, type);

	if (bit / 8 >= size)
		return false;
	return (vi_cfg8(f, 8 + bit / 8) >> (bit % 8)) & 1;
}
