/* Unit tests for the device core's side of restarting a virtio device
 * process under a running guest (issue 15, decision 0024): vdevice.c's
 * vdev_attach_state, vdev_save and vdev_restore, over a fake guest RAM
 * with the real transport, a predecessor killed with requests in flight
 * and its successor taking them back. The parts alone: test_vrestart.c
 * (the transport's image), test_vq_inflight.c (the in-flight records). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vpci_fixture.h"
#include "devstate.h"
#include "vdevice.h"

/* Queue 1's rings, after queue 0's (vpci_drv.h's RING_*). */
#define Q1_DESC	 (RAM_GPA + 0x20000)
#define Q1_AVAIL (RAM_GPA + 0x21000)
#define Q1_USED	 (RAM_GPA + 0x22000)
#define Q1_SIZE	 64

#define STATUS_LIVE (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)

/* A device on the core over a fake guest RAM; it records the heads its
 * drain is handed and pushes those whose bit is set in push_mask. */
struct unit {
	struct vdev *vd;
	uint16_t seen[64];
	unsigned nseen;
	uint64_t push_mask;
};

struct world {
	struct ram ram;
	int notify[NQ], irq[NVEC];
	uint8_t *live;
	size_t live_len;
	struct drv drv;
};

static bool u_chain(void *dev, struct vdev_queue *q, unsigned qi)
{
	struct unit *u = dev;
	unsigned i = u->nseen;

	if (i < 64)
		u->seen[u->nseen++] = q->chain.head;
	if (i < 64 && (u->push_mask >> i & 1))
		return vq_push(&q->vq, q->chain.head, 64) == 0;
	return false;
}

static const struct vdev_drain u_drain = {.chain = u_chain};

static void u_notify(void *dev, unsigned qi)
{
	vdev_drain(((struct unit *)dev)->vd, qi, &u_drain);
}

static const struct vdev_ops u_ops = {
    .virtio_id = 2,
    .class_code = 0x018000,
    .num_queues = NQ,
    .queue_max = QMAX,
    .config_len = 8,
    .notify = u_notify,
};

static const struct vdev_ops u_ops_in_order = {
    .virtio_id = 1,
    .class_code = 0x020000,
    .num_queues = NQ,
    .queue_max = QMAX,
    .config_len = 8,
    .in_order = true,
    .notify = u_notify,
};

static void u_io(void *dev, unsigned space, uint64_t addr, unsigned size, bool is_write,
		 uint64_t *v)
{
	vdev_io(dev, space, addr, size, is_write, v);
}

static int world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	ram_init(&w->ram, QMAX);
	for (unsigned q = 0; q < NQ; q++)
		if ((w->notify[q] = eventfd(0, EFD_NONBLOCK)) < 0)
			return -1;
	for (unsigned v = 0; v < NVEC; v++)
		if ((w->irq[v] = eventfd(0, EFD_NONBLOCK)) < 0)
			return -1;
	w->live_len = NQ * DEVSTATE_LIVE_PER_QUEUE;
	w->live = aligned_alloc(4096, w->live_len);
	if (!w->live)
		return -1;
	memset(w->live, 0, w->live_len);
	return 0;
}

static uint64_t world_irqs(struct world *w, unsigned v)
{
	uint64_t n = 0;

	if (read(w->irq[v], &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static int unit_make(struct world *w, struct unit *u, const struct vdev_ops *ops)
{
	struct vdev_params p = {
	    .mem = &w->ram.g,
	    .bar0_gpa = DRV_BAR0,
	    .notify_fds = w->notify,
	    .nqueues = NQ,
	    .irq_fds = w->irq,
	    .nvectors = NVEC,
	};
	char err[128];

	memset(u, 0, sizeof(*u));
	if (vdev_create(&u->vd, ops, u, MODEL_FEATURES, &p, err, sizeof(err)) != 0)
		return -1;
	w->drv = (struct drv){.io = u_io, .dev = u->vd};
	return 0;
}

/* Both queues (queue 0 on the vpci_drv.h rings), MSI-X, DRIVER_OK. */
static int unit_up(struct world *w)
{
	if (drv_probe(&w->drv) < 0)
		return -1;
	if (!(drv_negotiate(&w->drv, MODEL_FEATURES | 1ull << VPCI_F_VERSION_1, NULL) &
	      S_FEATURES_OK))
		return -1;
	drv_msix_enable(&w->drv);
	drv_common_write(&w->drv, C_MSIX, 2, 0);
	if (drv_setup_queue(&w->drv, 0, QMAX, RING_DESC, RING_AVL, RING_USED, 1) != 1 ||
	    drv_setup_queue(&w->drv, 1, Q1_SIZE, Q1_DESC, Q1_AVAIL, Q1_USED, 2) != 1)
		return -1;
	drv_common_write(&w->drv, C_STATUS, 1, STATUS_LIVE);
	return 0;
}

/* One-buffer chains at heads h[0..n) on queue 0. */
static void unit_offer(struct world *w, const uint16_t *h, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		ram_desc(&w->ram, h[i], RAM_DATA + 64u * h[i], 64, VIRTQ_DESC_F_WRITE, 0);
		ram_offer(&w->ram, h[i]);
	}
}

/* The loop sees queue q's eventfd readable. */
static void unit_kick(struct world *w, struct unit *u, unsigned q)
{
	uint64_t one = 1;

	if (write(w->notify[q], &one, sizeof(one)) != sizeof(one))
		abort();
	vdev_ready(u->vd, w->notify[q]);
}

static int test_vdev_attach_state(void)
{
	struct world w;
	struct unit u;
	char err[128] = "";

	CHECK(world_init(&w) == 0);
	CHECK(unit_make(&w, &u, &u_ops) == 0);
	CHECK(vdev_attach_state(u.vd, w.live, w.live_len - 1, err, sizeof(err)) == -EINVAL);
	CHECK(err[0] != 0);
	CHECK(vdev_attach_state(u.vd, w.live, DEVSTATE_LIVE_PER_QUEUE, err, sizeof(err)) ==
	      -EINVAL);
	CHECK(vdev_attach_state(u.vd, NULL, w.live_len, err, sizeof(err)) == -EINVAL);
	CHECK(vdev_attach_state(u.vd, NULL, 0, err, sizeof(err)) == -EINVAL);
	/* refused: nothing is tracked */
	CHECK(unit_up(&w) == 0);
	unit_offer(&w, (const uint16_t[]){0}, 1);
	unit_kick(&w, &u, 0);
	CHECK(u.nseen == 1);
	for (size_t i = 0; i < w.live_len; i++)
		CHECK(w.live[i] == 0);
	vdev_destroy(u.vd);
	/* exactly enough */
	CHECK(unit_make(&w, &u, &u_ops) == 0);
	CHECK(vdev_attach_state(u.vd, w.live, w.live_len, err, sizeof(err)) == 0);
	vdev_destroy(u.vd);
	/* a device that completes in order needs none */
	CHECK(unit_make(&w, &u, &u_ops_in_order) == 0);
	CHECK(vdev_attach_state(u.vd, NULL, 0, err, sizeof(err)) == 0);
	vdev_destroy(u.vd);
	return 0;
}

/* The whole restart: a device takes three requests and completes the
 * second, dies; its successor takes the first and third again before the
 * new one, and raises every queue's vector once. */
static int test_vdev_restore(void)
{
	struct world w;
	struct unit a, b;
	uint8_t image[2048];
	char err[128] = "";
	size_t n;
	uint32_t id, len;
	const struct vq_inflight *r0;

	CHECK(world_init(&w) == 0);
	CHECK(unit_make(&w, &a, &u_ops) == 0);
	CHECK(vdev_attach_state(a.vd, w.live, w.live_len, err, sizeof(err)) == 0);
	CHECK(unit_up(&w) == 0);
	r0 = (const struct vq_inflight *)w.live;
	CHECK(r0->size == QMAX);
	CHECK(((const struct vq_inflight *)(w.live + DEVSTATE_LIVE_PER_QUEUE))->size == Q1_SIZE);
	a.push_mask = 1u << 1;
	unit_offer(&w, (const uint16_t[]){0, 1, 2}, 3);
	unit_kick(&w, &a, 0);
	CHECK(a.nseen == 3 && ram_used_idx(&w.ram) == 1);
	CHECK(vdev_save(a.vd, image, 16) == 0);
	n = vdev_save(a.vd, image, sizeof(image));
	CHECK(n > 0);
	vdev_destroy(a.vd); /* killed: the live area and the guest stay */
	for (unsigned v = 0; v < NVEC; v++)
		world_irqs(&w, v);

	CHECK(unit_make(&w, &b, &u_ops) == 0);
	CHECK(vdev_attach_state(b.vd, w.live, w.live_len, err, sizeof(err)) == 0);
	CHECK(vdev_restore(b.vd, image, n, err, sizeof(err)) == 0);
	CHECK(vdev_live(b.vd));
	CHECK(world_irqs(&w, 1) == 1 && world_irqs(&w, 2) == 1);
	struct vdev_queue *q = vdev_queue(b.vd, 0);
	CHECK(q->ready && q->nresub == 2 && q->resub[0] == 0 && q->resub[1] == 2);
	CHECK(vdev_queue(b.vd, 1)->ready && vdev_queue(b.vd, 1)->nresub == 0);
	unit_offer(&w, (const uint16_t[]){3}, 1);
	b.push_mask = ~0ull;
	unit_kick(&w, &b, 0);
	CHECK(b.nseen == 3 && b.seen[0] == 0 && b.seen[1] == 2 && b.seen[2] == 3);
	CHECK(ram_used_idx(&w.ram) == 4);
	static const uint32_t ids[4] = {1, 0, 2, 3};
	for (uint16_t i = 0; i < 4; i++) {
		ram_used(&w.ram, i, &id, &len);
		CHECK(id == ids[i] && len == 64);
	}
	for (unsigned h = 0; h < VQ_MAX_SIZE; h++)
		CHECK(r0->desc[h] == 0);
	CHECK(r0->used_idx == 4);
	/* the driver resets the successor and starts again: tracked afresh */
	CHECK(unit_up(&w) == 0);
	CHECK(r0->size == QMAX && r0->next == 1 && r0->used_idx == 0);
	vdev_destroy(b.vd);
	return 0;
}

/* A device that completes in order takes its queues back from the used
 * ring: the popped-but-not-pushed are popped again from the avail ring. */
static int test_vdev_restore_in_order(void)
{
	struct world w;
	struct unit a, b;
	uint8_t image[2048];
	char err[128] = "";
	size_t n;

	CHECK(world_init(&w) == 0);
	CHECK(unit_make(&w, &a, &u_ops_in_order) == 0);
	CHECK(vdev_attach_state(a.vd, NULL, 0, err, sizeof(err)) == 0);
	CHECK(unit_up(&w) == 0);
	a.push_mask = 1u << 0;
	unit_offer(&w, (const uint16_t[]){0, 1, 2}, 3);
	unit_kick(&w, &a, 0);
	CHECK(a.nseen == 3 && ram_used_idx(&w.ram) == 1);
	n = vdev_save(a.vd, image, sizeof(image));
	CHECK(n > 0);
	vdev_destroy(a.vd);

	CHECK(unit_make(&w, &b, &u_ops_in_order) == 0);
	CHECK(vdev_attach_state(b.vd, NULL, 0, err, sizeof(err)) == 0);
	CHECK(vdev_restore(b.vd, image, n, err, sizeof(err)) == 0);
	CHECK(vdev_queue(b.vd, 0)->nresub == 0);
	b.push_mask = ~0ull;
	unit_kick(&w, &b, 0);
	CHECK(b.nseen == 2 && b.seen[0] == 1 && b.seen[1] == 2);
	CHECK(ram_used_idx(&w.ram) == 3);
	vdev_destroy(b.vd);
	return 0;
}

/* Refusals at the device level: no records for a device that needs them,
 * a truncated image, a forged record. */
static int test_vdev_restore_refused(void)
{
	struct world w;
	struct unit a, b;
	uint8_t image[2048];
	char err[128] = "";
	size_t n;

	CHECK(world_init(&w) == 0);
	CHECK(unit_make(&w, &a, &u_ops) == 0);
	CHECK(vdev_attach_state(a.vd, w.live, w.live_len, err, sizeof(err)) == 0);
	CHECK(unit_up(&w) == 0);
	n = vdev_save(a.vd, image, sizeof(image));
	CHECK(n > 0);
	vdev_destroy(a.vd);

	CHECK(unit_make(&w, &b, &u_ops) == 0); /* not attached */
	err[0] = 0;
	CHECK(vdev_restore(b.vd, image, n, err, sizeof(err)) == -EBADMSG && err[0]);
	CHECK(!vdev_live(b.vd));
	vdev_destroy(b.vd);

	CHECK(unit_make(&w, &b, &u_ops) == 0);
	CHECK(vdev_attach_state(b.vd, w.live, w.live_len, err, sizeof(err)) == 0);
	err[0] = 0;
	CHECK(vdev_restore(b.vd, image, n - 1, err, sizeof(err)) == -EBADMSG && err[0]);
	CHECK(!vdev_live(b.vd) && !vdev_queue(b.vd, 0)->ready);
	vdev_destroy(b.vd);

	((struct vq_inflight *)w.live)->desc[QMAX] = 1;
	CHECK(unit_make(&w, &b, &u_ops) == 0);
	CHECK(vdev_attach_state(b.vd, w.live, w.live_len, err, sizeof(err)) == 0);
	err[0] = 0;
	CHECK(vdev_restore(b.vd, image, n, err, sizeof(err)) == -EBADMSG && err[0]);
	CHECK(!vdev_live(b.vd));
	vdev_destroy(b.vd);
	return 0;
}

TAP_MAIN(TEST(test_vdev_attach_state), TEST(test_vdev_restore), TEST(test_vdev_restore_in_order),
	 TEST(test_vdev_restore_refused))
