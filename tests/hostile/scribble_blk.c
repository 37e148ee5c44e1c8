/* A compromised moat-blk's state file (scribble_blk.h). The transport's
 * image is the real one, vpci_state_save over a transport driven through
 * its registers (as tests/unit/virtio's fake driver does, here at the
 * request's BAR0), so that the successor finds nothing wrong with it: only
 * the in-flight record is forged, and the test sees that record refused,
 * not the image. The rings are set up with vq_init over the request's
 * guest RAM, so they are where the successor's vq_init accepts them too. */
#include "scribble_blk.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devstate.h"
#include "gmem.h"
#include "virtio_pci.h"
#include "virtqueue.h"

#define STATUS_LIVE                                                                                \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |      \
	 VIRTIO_CONFIG_S_DRIVER_OK)
#define RING_DESC  SCRIBBLE_RING_GPA
#define RING_AVAIL (SCRIBBLE_RING_GPA + 0x1000)
#define RING_USED  (SCRIBBLE_RING_GPA + 0x2000)

/* The device model behind the transport: queue 0 checked as moat-blk's
 * would be (vq_init), nothing else. */
struct fake_disk {
	const struct gmem *mem;
	struct virtqueue vq;
};

static void disk_config_read(void *model, uint32_t off, unsigned size, uint64_t *data)
{
	*data = 0;
}

static int disk_queue_enable(void *model, unsigned q, const struct vpci_queue_cfg *c)
{
	struct fake_disk *f = model;

	return q ? -EINVAL
		 : vq_init(&f->vq, f->mem, c->size, c->desc, c->driver, c->device, c->event_idx);
}

static void disk_queue_notify(void *model, unsigned q)
{
}

static int disk_reset(void *model)
{
	return 0;
}

static const struct vpci_ops fake_disk_ops = {
    .config_read = disk_config_read,
    .queue_enable = disk_queue_enable,
    .queue_notify = disk_queue_notify,
    .reset = disk_reset,
};

/* The driver's side: BAR0 at the request's address, the common config. */
struct drv {
	struct vpci_dev *d;
	uint64_t bar0;
};

static void bar_w(const struct drv *v, uint64_t off, unsigned size, uint64_t val)
{
	vpci_mmio_access(v->d, v->bar0 + off, size, true, &val);
}

static uint64_t common_r(const struct drv *v, uint32_t off, unsigned size)
{
	uint64_t val = 0;

	vpci_mmio_access(v->d, v->bar0 + VPCI_COMMON_OFF + off, size, false, &val);
	return val;
}

static void common_w(const struct drv *v, uint32_t off, unsigned size, uint64_t val)
{
	bar_w(v, VPCI_COMMON_OFF + off, size, val);
}

/* What Linux's virtio_pci_modern does up to the first request: memory and
 * bus master on, MSI-X on with every vector programmed, reset, features
 * (VERSION_1 alone), queue 0 on vector 1 (0 if there is one vector), the
 * config vector 0, DRIVER_OK. 0 once status and queue 0 read back live. */
static int bring_up(const struct drv *v, unsigned nvec)
{
	uint64_t x = 0x6;

	vpci_cfg_access(v->d, 0x04, 2, true, &x);
	vpci_cfg_access(v->d, VPCI_MSIX_CTRL_OFF, 2, false, &x);
	x |= VPCI_MSIX_CTRL_ENABLE;
	vpci_cfg_access(v->d, VPCI_MSIX_CTRL_OFF, 2, true, &x);
	for (unsigned i = 0; i < nvec; i++) {
		uint64_t e = VPCI_MSIX_TABLE_OFF + (uint64_t)VPCI_MSIX_ENTRY * i;
		bar_w(v, e, 4, 0xfee00000);
		bar_w(v, e + 4, 4, 0);
		bar_w(v, e + 8, 4, 0x40 + i);
		bar_w(v, e + 12, 4, 0);
	}
	common_w(v, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	common_w(v, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	common_w(v, VIRTIO_PCI_COMMON_STATUS, 1,
		 VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	common_w(v, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	common_w(v, VIRTIO_PCI_COMMON_GF, 4, 0);
	common_w(v, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	common_w(v, VIRTIO_PCI_COMMON_GF, 4, 1u << (VIRTIO_F_VERSION_1 - 32));
	common_w(v, VIRTIO_PCI_COMMON_STATUS, 1, STATUS_LIVE & ~VIRTIO_CONFIG_S_DRIVER_OK);
	common_w(v, VIRTIO_PCI_COMMON_MSIX, 2, 0);
	common_w(v, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	common_w(v, VIRTIO_PCI_COMMON_Q_SIZE, 2, SCRIBBLE_RING_SIZE);
	common_w(v, VIRTIO_PCI_COMMON_Q_MSIX, 2, nvec > 1 ? 1 : 0);
	common_w(v, VIRTIO_PCI_COMMON_Q_DESCLO, 8, RING_DESC);
	common_w(v, VIRTIO_PCI_COMMON_Q_AVAILLO, 8, RING_AVAIL);
	common_w(v, VIRTIO_PCI_COMMON_Q_USEDLO, 8, RING_USED);
	common_w(v, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	common_w(v, VIRTIO_PCI_COMMON_STATUS, 1, STATUS_LIVE);
	return common_r(v, VIRTIO_PCI_COMMON_STATUS, 1) == STATUS_LIVE &&
		       common_r(v, VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 1
		   ? 0
		   : -1;
}

/* Queue 0's record as vq_track leaves it (nothing in flight), then what
 * how forges: one request in flight whose head (HEAD) or counter
 * (COUNTER) no pop could have given, or (LOOP) head 0 taken and not
 * completed, as a real moat-blk leaves it. */
static void forge_record(struct vq_inflight *r, enum scribble_blk how)
{
	memset(r, 0, sizeof(*r));
	r->next = 1;
	r->size = SCRIBBLE_RING_SIZE;
	if (how == SCRIBBLE_BLK_HEAD) {
		r->next = 2;
		r->desc[SCRIBBLE_RING_SIZE + 5] = 1; /* no such head */
	}
	if (how == SCRIBBLE_BLK_COUNTER)
		r->desc[9] = r->next; /* a pop yet to happen */
	if (how == SCRIBBLE_BLK_LOOP) {
		r->next = 2;
		r->desc[0] = 1;
	}
}

/* Descriptors 0 and 1 of the table at desc, each leading to the other:
 * two readable 16-byte buffers in the avail ring's page, forever. */
static void write_loop(uint8_t *desc)
{
	for (uint16_t i = 0; i < 2; i++) {
		uint64_t addr = htole64(RING_AVAIL + 0x800);
		uint32_t len = htole32(16);
		uint16_t flags = htole16(VIRTQ_DESC_F_NEXT), next = htole16(1 - i);

		memcpy(desc + 16 * i, &addr, 8);
		memcpy(desc + 16 * i + 8, &len, 4);
		memcpy(desc + 16 * i + 12, &flags, 2);
		memcpy(desc + 16 * i + 14, &next, 2);
	}
}

/* The transport of the request's shape, over m, brought up and saved into
 * the state file st. */
static int save_transport(const Moat__Dev__VirtioConfig *vc, const struct gmem *m,
			  struct devstate *st)
{
	struct fake_disk disk = {.mem = m};
	int irq[VPCI_MAX_VECTORS];
	unsigned nvec = (unsigned)vc->n_fd_irq;
	uint8_t image[DEVSTATE_MAX_PAYLOAD];
	size_t n = 0;
	int rc = -1;

	for (unsigned i = 0; i < nvec; i++)
		irq[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct vpci_params p = {
	    .ops = &fake_disk_ops,
	    .model = &disk,
	    .virtio_id = 2,
	    .class_code = 0x018000,
	    .num_queues = (uint16_t)vc->n_fd_notify,
	    .queue_max = SCRIBBLE_RING_SIZE,
	    .config_len = 60,
	    .bar0_gpa = vc->bar0_gpa,
	    .irq_fds = irq,
	    .nvectors = nvec,
	};
	struct drv v = {.bar0 = vc->bar0_gpa};
	if (vpci_create(&v.d, &p) == 0 && bring_up(&v, nvec) == 0)
		n = vpci_state_save(v.d, image, sizeof(image));
	if (n > 0 && devstate_write(st, image, n) == 0)
		rc = 0;
	vpci_destroy(v.d);
	for (unsigned i = 0; i < nvec; i++)
		close(irq[i]);
	return rc;
}

int scribble_blk(const Moat__Dev__StartRequest *s, struct ipc_fds *fds, enum scribble_blk how)
{
	const Moat__Dev__VirtioConfig *vc = s->virtio;
	struct devstate st = {0};
	struct gmem m = {0};
	uint8_t *rings;
	int fd, rc = -1;

	if (!vc || !s->has_state || vc->n_fd_notify < 1 || vc->n_fd_notify > VPCI_MAX_QUEUES ||
	    vc->n_fd_irq < 1 || vc->n_fd_irq > VPCI_MAX_VECTORS) {
		fprintf(stderr, "scribble: not a restartable virtio start request\n");
		return -1;
	}
	fd = ipc_fds_take(fds, s->fd_state);
	if (fd < 0 || devstate_map(fd, &st) < 0 ||
	    st.live_len < vc->n_fd_notify * DEVSTATE_LIVE_PER_QUEUE) {
		fprintf(stderr, "scribble: no state file with a live area\n");
		goto out;
	}
	close(fd);
	fd = ipc_fds_take(fds, vc->fd_mem);
	if (fd < 0 || gmem_map(&m, fd, vc->mem_bytes) < 0 ||
	    !(rings = gmem_ptr(&m, SCRIBBLE_RING_GPA, SCRIBBLE_RING_END - SCRIBBLE_RING_GPA))) {
		fprintf(stderr, "scribble: guest RAM\n");
		goto out;
	}
	memset(m.base, SCRIBBLE_RAM_BYTE, m.size);
	memset(rings, 0, SCRIBBLE_RING_END - SCRIBBLE_RING_GPA);
	if (save_transport(vc, &m, &st) < 0) {
		fprintf(stderr, "scribble: the transport did not come up\n");
		goto out;
	}
	forge_record(st.live, how);
	if (how == SCRIBBLE_BLK_LOOP)
		write_loop(rings); /* the descriptor table is the rings' first page */
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	gmem_unmap(&m);
	devstate_unmap(&st);
	return rc;
}
