/* libFuzzer target: a virtio device process restarted under a running
 * guest, taking back what its predecessor left (issue 15, decision 0024):
 * the transport's image (devproc/virtio/virtio_pci_state.c), the queues'
 * in-flight records (vq_inflight.c) and the device core's restore
 * (vdevice.c). The predecessor may have been compromised and the guest is
 * hostile, so all three may say anything.
 *
 * Each input first runs a genuine predecessor over a fake guest RAM: a
 * driver brings it up (two queues), it pops some chains and pushes some of
 * them, then its image is saved and it dies. The input then patches the
 * image, the records and the guest's used ring, and three successors take
 * them back:
 *   - vq_resume alone, on a copy of queue 0's record;
 *   - a device on the core (vdev_attach_state, vdev_restore), whose loop
 *     then serves every queue, after which a driver resets it and brings
 *     it up again;
 *   - a bare transport (vpci_state_load), whose image saved again must
 *     load into another one and save the same.
 *
 * Input:
 *   byte 0     bit 0 the image's length is off by byte 5 (signed); bit 1
 *              the device completes in order (no records); bit 2 the lone
 *              vq_resume is VQ_RESUME_IN_ORDER; bits 4-6 log2 of queue 0's
 *              size (1..128)
 *   byte 1     chains the predecessor pops from queue 0 (mod size + 1)
 *   bytes 2-3  which of them it pushes (bit i: the i-th popped)
 *   byte 4     the heads offered: the i-th is (5 i + byte 4) mod size
 *   byte 5     the length offset (byte 0 bit 0)
 *   bytes 6-7  reserved
 *   then patches: where, off, len, then len bytes written at offset
 *   ((where >> 2) << 8 | off) modulo the target's length, the target
 *   being where & 3: 0 the image, 1 queue 0's record, 2 queue 0's used
 *   ring in guest RAM, 3 queue 1's record.
 *
 * Invariants (abort): every call returns 0 or -EBADMSG, with a reason on
 * -EBADMSG; a refused record is not written; after a resume, n <= the
 * queue's size, every head is below it, was marked in the record, and
 * appears once, in pop order, and last_avail is used_idx + n, used_idx
 * being the record's or, for a push cut short, one more and the guest's;
 * what the core restored leads to the same and its loop survives; a
 * driver can always start afresh; an image the core took, the bare
 * transport takes; save, load and save again is stable. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devstate.h"
#include "vdevice.h"
#include "virtio_pci.h"
#include "virtqueue.h"
#include "vpci_drv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NQ	    2
#define NVEC	    3
#define QMAX	    256
#define Q1_SIZE	    8
#define Q1_DESC	    (RAM_GPA + 0x20000)
#define Q1_AVAIL    (RAM_GPA + 0x21000)
#define Q1_USED	    (RAM_GPA + 0x22000)
#define RAM_DIRTY   0x30000 /* rings and buffers: zeroed for each input */
#define HDR_SIZE    8
#define IMG_MAX	    4096
#define USED_LEN(s) (6u + 8u * (s))
#define FEATURES    (1ull << 5)
#define STATUS_LIVE (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)

#define REQUIRE(c)                                                                                 \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static struct ram ram;
static uint8_t *live; /* the state file's live area: NQ records */
static int notify_fd[NQ], irq_fd[NVEC];

/* ---- a device on the core ------------------------------------------------- */

struct unit {
	struct vdev *vd;
	unsigned nseen;
	uint32_t push_mask; /* bit i: push the i-th chain handed over */
};

static bool u_chain(void *dev, struct vdev_queue *q, unsigned qi)
{
	struct unit *u = dev;
	unsigned i = u->nseen++;

	REQUIRE(q->chain.head < q->vq.size);
	if (i < 32 && !(u->push_mask >> i & 1))
		return false;
	REQUIRE(vq_push(&q->vq, q->chain.head, 64) == 0);
	return true;
}

static const struct vdev_drain u_drain = {.chain = u_chain};

static void u_notify(void *dev, unsigned qi)
{
	vdev_drain(((struct unit *)dev)->vd, qi, &u_drain);
}

static const struct vdev_ops ops_inflight = {
    .virtio_id = 2,
    .class_code = 0x018000,
    .num_queues = NQ,
    .queue_max = QMAX,
    .config_len = 8,
    .notify = u_notify,
};

static const struct vdev_ops ops_in_order = {
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

static void unit_make(struct unit *u, const struct vdev_ops *ops)
{
	struct vdev_params p = {
	    .mem = &ram.g,
	    .bar0_gpa = DRV_BAR0,
	    .notify_fds = notify_fd,
	    .nqueues = NQ,
	    .irq_fds = irq_fd,
	    .nvectors = NVEC,
	};
	char err[128];

	memset(u, 0, sizeof(*u));
	REQUIRE(vdev_create(&u->vd, ops, u, FEATURES, &p, err, sizeof(err)) == 0);
	REQUIRE(vdev_attach_state(u->vd, live, NQ * DEVSTATE_LIVE_PER_QUEUE, err, sizeof(err)) ==
		0);
}

/* A Linux-like driver: probe, negotiate, MSI-X, both queues, DRIVER_OK.
 * Must always work, whatever the device went through. */
static void driver_up(struct vdev *vd, uint16_t qsize)
{
	struct drv drv = {.io = u_io, .dev = vd};

	REQUIRE(drv_probe(&drv) == 0);
	REQUIRE(drv_negotiate(&drv, FEATURES | 1ull << VPCI_F_VERSION_1, NULL) & S_FEATURES_OK);
	drv_msix_enable(&drv);
	drv_common_write(&drv, C_MSIX, 2, 0);
	REQUIRE(drv_setup_queue(&drv, 0, qsize, RING_DESC, RING_AVL, RING_USED, 1) == 1);
	REQUIRE(drv_setup_queue(&drv, 1, Q1_SIZE, Q1_DESC, Q1_AVAIL, Q1_USED, 2) == 1);
	drv_common_write(&drv, C_STATUS, 1, STATUS_LIVE);
	REQUIRE(drv_common_read(&drv, C_STATUS, 1) == STATUS_LIVE);
}

static void kick(struct unit *u, unsigned q)
{
	uint64_t one = 1;

	REQUIRE(write(notify_fd[q], &one, sizeof(one)) == sizeof(one));
	vdev_ready(u->vd, notify_fd[q]);
}

/* The predecessor: up, k chains popped from queue 0, those in push_mask
 * pushed; its image in img. */
static size_t predecessor(const uint8_t *hdr, uint16_t qsize, bool in_order, uint8_t *img)
{
	unsigned k = hdr[1] % (qsize + 1u);
	struct unit a;
	size_t n;

	unit_make(&a, in_order ? &ops_in_order : &ops_inflight);
	driver_up(a.vd, qsize);
	for (unsigned i = 0; i < k; i++) {
		uint16_t head = (uint16_t)((5u * i + hdr[4]) & (qsize - 1u));
		ram_desc(&ram, head, RAM_DATA + 64u * head, 64, VIRTQ_DESC_F_WRITE, 0);
		ram_offer(&ram, head);
	}
	a.push_mask = hdr[2] | (uint32_t)hdr[3] << 8;
	kick(&a, 0);
	REQUIRE(a.nseen == k);
	n = vdev_save(a.vd, img, IMG_MAX);
	REQUIRE(n > 0 && n <= IMG_MAX);
	vdev_destroy(a.vd);
	return n;
}

/* ---- the input's patches ---------------------------------------------------- */

static void apply_patches(const uint8_t *p, const uint8_t *end, uint8_t *img, size_t img_len,
			  uint16_t qsize)
{
	uint8_t *base[4] = {img, live, ram.mem + (RING_USED - RAM_GPA),
			    live + DEVSTATE_LIVE_PER_QUEUE};
	size_t len[4] = {img_len, sizeof(struct vq_inflight), USED_LEN(qsize),
			 sizeof(struct vq_inflight)};

	while (end - p >= 3) {
		unsigned t = p[0] & 3, n = p[2];
		size_t off = ((size_t)(p[0] >> 2) << 8 | p[1]) % len[t];

		p += 3;
		for (unsigned i = 0; i < n && p < end; i++)
			base[t][(off + i) % len[t]] = *p++;
	}
}

/* ---- successor 1: vq_resume alone ------------------------------------------ */

static bool listed(const uint16_t *heads, unsigned n, uint16_t h)
{
	for (unsigned i = 0; i < n; i++)
		if (heads[i] == h)
			return true;
	return false;
}

/* heads[0..n) after a successful resume from the record snap. */
static void check_heads(const struct vq_inflight *snap, uint16_t qsize, const uint16_t *heads,
			unsigned n)
{
	REQUIRE(n <= qsize);
	for (unsigned i = 0; i < n; i++) {
		REQUIRE(heads[i] < qsize && snap->desc[heads[i]] != 0);
		REQUIRE(!listed(heads, i, heads[i]));
		REQUIRE(i == 0 || snap->desc[heads[i - 1]] <= snap->desc[heads[i]]);
	}
}

static void lone_resume(uint16_t qsize, enum vq_resume_mode mode)
{
	static struct vq_inflight snap, work;
	static uint16_t heads[VQ_MAX_SIZE];
	static struct vq_chain c;
	struct virtqueue vq;
	uint16_t guest =
	    (uint16_t)(ram.mem[RING_USED - RAM_GPA + 2] | ram.mem[RING_USED - RAM_GPA + 3] << 8);
	unsigned n = 12345, marked = 0;
	int rc;

	memcpy(&snap, live, sizeof(snap));
	memcpy(&work, &snap, sizeof(work));
	REQUIRE(vq_init(&vq, &ram.g, qsize, RING_DESC, RING_AVL, RING_USED, false) == 0);
	rc = vq_resume(&vq, &work, mode, heads, &n);
	if (mode == VQ_RESUME_IN_ORDER) {
		REQUIRE(rc == 0 && n == 0 && !vq.inflight);
		REQUIRE(vq.last_avail == guest && vq.used_idx == guest);
		REQUIRE(memcmp(&snap, &work, sizeof(snap)) == 0);
		return;
	}
	if (rc != 0) {
		REQUIRE(rc == -EBADMSG && n == 0 && !vq.inflight);
		REQUIRE(memcmp(&snap, &work, sizeof(snap)) == 0);
		return;
	}
	REQUIRE(vq.inflight == &work && snap.size == qsize && snap.last_head < qsize);
	check_heads(&snap, qsize, heads, n);
	for (unsigned h = 0; h < VQ_MAX_SIZE; h++)
		marked += snap.desc[h] != 0;
	if (vq.used_idx == snap.used_idx) {
		REQUIRE(n == marked);
	} else {
		/* a push cut short after used->idx, before or after its
		 * desc[] store: that head is the guest's */
		REQUIRE(vq.used_idx == (uint16_t)(snap.used_idx + 1) && vq.used_idx == guest);
		REQUIRE(n + (snap.desc[snap.last_head] != 0) == marked);
		REQUIRE(!listed(heads, n, snap.last_head) && work.desc[snap.last_head] == 0);
	}
	REQUIRE(vq.last_avail == (uint16_t)(vq.used_idx + n));
	/* the successor takes them again: whole chains, or a broken queue */
	for (unsigned i = 0; i < n; i++) {
		int r = vq_pop_head(&vq, heads[i], &c);
		REQUIRE(r == 1 || (r == -EBADMSG && vq.broken));
		REQUIRE(r != 1 || c.head == heads[i]);
	}
}

/* ---- successor 2: a device on the core -------------------------------------- */

static bool core_restore(const uint8_t *img, size_t len, uint16_t qsize, bool in_order)
{
	static struct vq_inflight snap[NQ];
	struct unit b;
	char err[160] = "";
	int rc;

	for (unsigned qi = 0; qi < NQ; qi++)
		memcpy(&snap[qi], live + qi * DEVSTATE_LIVE_PER_QUEUE, sizeof(snap[qi]));
	unit_make(&b, in_order ? &ops_in_order : &ops_inflight);
	rc = vdev_restore(b.vd, img, len, err, sizeof(err));
	REQUIRE(rc == 0 || (rc == -EBADMSG && err[0]));
	if (rc == 0) {
		for (unsigned qi = 0; qi < NQ; qi++) {
			struct vdev_queue *q = vdev_queue(b.vd, qi);
			if (!q->ready) {
				REQUIRE(q->nresub == 0);
				continue;
			}
			REQUIRE(q->next_resub == 0);
			if (in_order)
				REQUIRE(q->nresub == 0);
			else
				check_heads(&snap[qi], q->vq.size, q->resub, q->nresub);
		}
		/* the loop serves what it took back and what is new */
		b.push_mask = ~0u;
		for (unsigned qi = 0; qi < NQ; qi++)
			kick(&b, qi);
		/* a driver can always start afresh */
		driver_up(b.vd, qsize);
	}
	vdev_destroy(b.vd);
	return rc == 0;
}

/* ---- successor 3: the bare transport ----------------------------------------- */

static struct virtqueue bare_vq[NQ];

static void b_config_read(void *model, uint32_t off, unsigned size, uint64_t *v)
{
	*v = 0;
}

static int b_queue_enable(void *model, unsigned q, const struct vpci_queue_cfg *cfg)
{
	REQUIRE(q < NQ);
	return vq_init(&bare_vq[q], &ram.g, cfg->size, cfg->desc, cfg->driver, cfg->device,
		       cfg->event_idx);
}

static void b_queue_notify(void *model, unsigned q)
{
}

static int b_reset(void *model)
{
	return 0;
}

static const struct vpci_ops bare_ops = {
    .config_read = b_config_read,
    .queue_enable = b_queue_enable,
    .queue_notify = b_queue_notify,
    .reset = b_reset,
};

static struct vpci_dev *bare_make(void)
{
	struct vpci_params p = {
	    .ops = &bare_ops,
	    .virtio_id = 2,
	    .class_code = 0x018000,
	    .features = FEATURES,
	    .num_queues = NQ,
	    .queue_max = QMAX,
	    .config_len = 8,
	    .bar0_gpa = DRV_BAR0,
	    .irq_fds = irq_fd,
	    .nvectors = NVEC,
	};
	struct vpci_dev *d;

	REQUIRE(vpci_create(&d, &p) == 0);
	return d;
}

static void bare_load(const uint8_t *img, size_t len, bool core_took_it)
{
	static uint8_t s1[IMG_MAX], s2[IMG_MAX];
	struct vpci_dev *d = bare_make(), *e;
	char err[160] = "";
	size_t n1, n2;
	int rc = vpci_state_load(d, img, len, err, sizeof(err));

	REQUIRE(rc == 0 || (rc == -EBADMSG && err[0]));
	REQUIRE(rc == 0 || !core_took_it);
	if (rc == 0) {
		n1 = vpci_state_save(d, s1, sizeof(s1));
		REQUIRE(n1 == len);
		e = bare_make();
		REQUIRE(vpci_state_load(e, s1, n1, err, sizeof(err)) == 0);
		n2 = vpci_state_save(e, s2, sizeof(s2));
		REQUIRE(n1 == n2 && memcmp(s1, s2, n1) == 0);
		vpci_destroy(e);
	}
	vpci_destroy(d);
}

static void drain_fds(void)
{
	uint64_t v;

	for (unsigned i = 0; i < NQ; i++)
		if (read(notify_fd[i], &v, sizeof(v)) < 0) {
			/* nothing pending */
		}
	for (unsigned i = 0; i < NVEC; i++)
		if (read(irq_fd[i], &v, sizeof(v)) < 0) {
			/* nothing pending */
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t img[IMG_MAX + 256];
	const uint8_t *hdr = data;
	uint16_t qsize;
	bool in_order;
	size_t len;
	bool took;

	if (size < HDR_SIZE)
		return 0;
	if (!live) {
		ram_init(&ram, QMAX);
		live = aligned_alloc(4096, NQ * DEVSTATE_LIVE_PER_QUEUE);
		REQUIRE(live);
		for (unsigned i = 0; i < NQ; i++)
			REQUIRE((notify_fd[i] = eventfd(0, EFD_NONBLOCK)) >= 0);
		for (unsigned i = 0; i < NVEC; i++)
			REQUIRE((irq_fd[i] = eventfd(0, EFD_NONBLOCK)) >= 0);
	}
	memset(ram.mem, 0, RAM_DIRTY);
	ram.avail_idx = ram.used_seen = 0;
	memset(live, 0, NQ * DEVSTATE_LIVE_PER_QUEUE);
	memset(img, 0, sizeof(img));
	drain_fds();
	qsize = (uint16_t)(1u << ((hdr[0] >> 4) & 7));
	in_order = hdr[0] & 2;

	len = predecessor(hdr, qsize, in_order, img);
	apply_patches(data + HDR_SIZE, data + size, img, len, qsize);
	if (hdr[0] & 1) {
		long l = (long)len + (int8_t)hdr[5];
		len = l < 0 ? 0 : (size_t)l;
	}

	lone_resume(qsize, hdr[0] & 4 ? VQ_RESUME_IN_ORDER : VQ_RESUME_INFLIGHT);
	took = core_restore(img, len, qsize, in_order);
	bare_load(img, len, took);
	drain_fds();
	return 0;
}
