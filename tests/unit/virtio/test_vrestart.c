/* Unit tests for the transport's side of restarting a virtio device
 * process under a running guest (issue 15, decision 0024): its saved
 * image (devproc/virtio/virtio_pci_state.c: vpci_state_save,
 * vpci_state_load). The image is hostile input: a forged one must be
 * refused whole, with nothing applied. The queues' in-flight records:
 * test_vq_inflight.c; the device core's restart: test_vdev_restart.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vpci_fixture.h"

/* ---- the transport's image ------------------------------------------------ */

/* The image's layout, copied from virtio_pci_state.c (struct image) to
 * forge hostile ones; test_image_layout checks it against what
 * vpci_state_save writes. */
struct img_queue {
	uint64_t desc, driver, device;
	uint16_t size, vector;
	uint8_t enabled;
	uint8_t reserved[3];
};

struct img {
	uint32_t magic;
	uint16_t num_queues, nvectors;
	uint64_t driver_features;
	uint32_t dfselect, gfselect;
	uint8_t status, generation, isr, reserved0;
	uint16_t msix_config, queue_select;
	uint32_t pba;
	uint8_t cfg[256];
	struct img_queue q[VPCI_MAX_QUEUES];
	struct {
		uint32_t addr_lo, addr_hi, data, ctrl;
	} msix[VPCI_MAX_VECTORS];
};

#define IMG_MAGIC  0x3153504du /* "MPS1" */
#define CAP_COMMON 0x50	       /* the common cfg capability (virtio_pci_int.h) */

/* Queue 1's rings, after queue 0's (vpci_drv.h's RING_*). */
#define Q1_DESC	 (RAM_GPA + 0x20000)
#define Q1_AVAIL (RAM_GPA + 0x21000)
#define Q1_USED	 (RAM_GPA + 0x22000)
#define Q1_SIZE	 64

#define ALL_FEATURES (MODEL_FEATURES | 1ull << VPCI_F_VERSION_1 | 1ull << VPCI_F_EVENT_IDX)
#define STATUS_LIVE  (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)

/* Everything a driver can read back, in an order that leaves both devices
 * compared in the same state (the select registers are read first). */
struct regs {
	uint8_t cfg[256];
	uint32_t dfselect, gfselect, gf[2];
	uint16_t msix_config, queue_select;
	uint8_t status, generation;
	struct {
		uint64_t desc, driver, device;
		uint16_t size, vector, enable;
	} q[NQ];
	uint32_t msix[NVEC][4];
	uint32_t pba;
	uint8_t isr;
};

static void regs_read(struct drv *d, struct regs *r)
{
	memset(r, 0, sizeof(*r));
	r->dfselect = (uint32_t)drv_common_read(d, C_DFSELECT, 4);
	r->gfselect = (uint32_t)drv_common_read(d, C_GFSELECT, 4);
	r->queue_select = (uint16_t)drv_common_read(d, C_QSELECT, 2);
	for (unsigned off = 0; off < sizeof(r->cfg); off += 4) {
		uint32_t v = (uint32_t)drv_cfg_read(d, off, 4);
		memcpy(r->cfg + off, &v, 4);
	}
	r->msix_config = (uint16_t)drv_common_read(d, C_MSIX, 2);
	r->status = (uint8_t)drv_common_read(d, C_STATUS, 1);
	r->generation = (uint8_t)drv_common_read(d, C_CFGGEN, 1);
	for (unsigned i = 0; i < 2; i++) {
		drv_common_write(d, C_GFSELECT, 4, i);
		r->gf[i] = (uint32_t)drv_common_read(d, C_GF, 4);
	}
	for (unsigned q = 0; q < NQ; q++) {
		drv_common_write(d, C_QSELECT, 2, q);
		r->q[q].size = (uint16_t)drv_common_read(d, C_QSIZE, 2);
		r->q[q].vector = (uint16_t)drv_common_read(d, C_QMSIX, 2);
		r->q[q].enable = (uint16_t)drv_common_read(d, C_QENABLE, 2);
		r->q[q].desc = drv_common_read(d, C_QDESC, 8);
		r->q[q].driver = drv_common_read(d, C_QDRIVER, 8);
		r->q[q].device = drv_common_read(d, C_QDEVICE, 8);
	}
	for (unsigned v = 0; v < NVEC; v++)
		for (unsigned w = 0; w < 4; w++)
			r->msix[v][w] =
			    (uint32_t)drv_bar_read(d, VPCI_MSIX_TABLE_OFF + 16 * v + 4 * w, 4);
	r->pba = (uint32_t)drv_bar_read(d, VPCI_MSIX_PBA_OFF, 4);
	r->isr = (uint8_t)drv_bar_read(d, VPCI_ISR_OFF, 1); /* last: reading clears it */
}

/* A driver that has done more than bring_up(): two queues (the second
 * smaller, on vector 2), INTx disabled, the scratch registers written,
 * vector 2 masked with an interrupt held in the PBA, the select registers
 * left non-zero and a config change seen. DRIVER_OK only if driver_ok. */
static int program(struct fixture *f, bool driver_ok)
{
	if (setup_probed(f) < 0)
		return -1;
	if (!(drv_negotiate(&f->drv, ALL_FEATURES, NULL) & S_FEATURES_OK))
		return -1;
	drv_msix_enable(&f->drv);
	drv_common_write(&f->drv, C_MSIX, 2, 0);
	if (drv_setup_queue(&f->drv, 0, QMAX, RING_DESC, RING_AVL, RING_USED, 1) != 1)
		return -1;
	if (drv_setup_queue(&f->drv, 1, Q1_SIZE, Q1_DESC, Q1_AVAIL, Q1_USED, 2) != 1)
		return -1;
	drv_cfg_write(&f->drv, 0x04, 2, drv_cfg_read(&f->drv, 0x04, 2) | 0x400);
	drv_cfg_write(&f->drv, 0x0c, 1, 0x10);
	drv_cfg_write(&f->drv, 0x3c, 1, 11);
	drv_bar_write(&f->drv, VPCI_MSIX_TABLE_OFF + 16 * 2 + 12, 4, 1);
	if (driver_ok)
		drv_common_write(&f->drv, C_STATUS, 1, STATUS_LIVE);
	vpci_notify_queue(f->d, 1); /* vector 2 masked: pending */
	vpci_config_changed(f->d);
	drv_common_write(&f->drv, C_DFSELECT, 4, 1);
	drv_common_write(&f->drv, C_GFSELECT, 4, 1);
	drv_common_write(&f->drv, C_QSELECT, 2, 1);
	return 0;
}

/* A fresh device (same params) to load into, its driver using f's probe. */
static int fresh(struct fixture *g, const struct fixture *f)
{
	if (setup(g) < 0)
		return -1;
	g->drv = f->drv;
	g->drv.dev = g->d;
	return 0;
}

static size_t save(struct fixture *f, struct img *im)
{
	memset(im, 0, sizeof(*im));
	return vpci_state_save(f->d, (uint8_t *)im, sizeof(*im));
}

/* Save f, load the image into a fresh device: every register the same,
 * and the model hears of each enabled queue and of DRIVER_OK as when the
 * driver set them. */
static int round_trip(bool driver_ok)
{
	struct fixture f, g;
	struct img im, again;
	struct regs a, b;
	char err[128] = "";

	CHECK(program(&f, driver_ok) == 0);
	CHECK(save(&f, &im) == sizeof(im));
	CHECK(fresh(&g, &f) == 0);
	CHECK(vpci_state_load(g.d, (uint8_t *)&im, sizeof(im), err, sizeof(err)) == 0);
	CHECK(g.m.enabled[0] == 1 && g.m.enabled[1] == 1);
	CHECK(g.m.driver_ok == (driver_ok ? 1 : 0));
	CHECK(!driver_ok || g.m.features == ALL_FEATURES);
	for (unsigned q = 0; q < NQ; q++) {
		CHECK(g.m.vq[q].size == f.m.vq[q].size);
		CHECK(g.m.vq[q].desc_gpa == f.m.vq[q].desc_gpa);
		CHECK(g.m.vq[q].avail_gpa == f.m.vq[q].avail_gpa);
		CHECK(g.m.vq[q].used_gpa == f.m.vq[q].used_gpa);
		CHECK(g.m.vq[q].event_idx && f.m.vq[q].event_idx);
	}
	/* the same image again, byte for byte */
	CHECK(save(&g, &again) == sizeof(again));
	CHECK(memcmp(&im, &again, sizeof(im)) == 0);
	regs_read(&f.drv, &a);
	regs_read(&g.drv, &b);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	/* and what that is, in case both lost the same thing */
	CHECK(b.status == (driver_ok ? STATUS_LIVE : (S_ACK | S_DRIVER | S_FEATURES_OK)));
	CHECK(b.dfselect == 1 && b.gfselect == 1 && b.queue_select == 1);
	CHECK(b.gf[0] == (uint32_t)ALL_FEATURES && b.gf[1] == ALL_FEATURES >> 32);
	CHECK(b.msix_config == 0 && b.generation == 1);
	CHECK(b.q[0].size == QMAX && b.q[0].vector == 1 && b.q[0].enable == 1);
	CHECK(b.q[0].desc == RING_DESC && b.q[0].driver == RING_AVL && b.q[0].device == RING_USED);
	CHECK(b.q[1].size == Q1_SIZE && b.q[1].vector == 2 && b.q[1].enable == 1);
	CHECK(b.q[1].desc == Q1_DESC && b.q[1].driver == Q1_AVAIL && b.q[1].device == Q1_USED);
	CHECK(b.msix[1][0] == 0xfee00000 && b.msix[1][2] == 0x41 && b.msix[1][3] == 0);
	CHECK(b.msix[2][3] == 1 && b.pba == 1u << 2 && b.isr == 3);
	CHECK((b.cfg[0x04] | b.cfg[0x05] << 8) == (0x6 | 0x400));
	CHECK(b.cfg[0x0c] == 0x10 && b.cfg[0x3c] == 11);
	CHECK((b.cfg[VPCI_MSIX_CTRL_OFF] | b.cfg[VPCI_MSIX_CTRL_OFF + 1] << 8) ==
	      (VPCI_MSIX_CTRL_ENABLE | (NVEC - 1)));
	/* the loaded device runs: unmasking vector 2 delivers what was held */
	irqs(&g, 2);
	drv_bar_write(&g.drv, VPCI_MSIX_TABLE_OFF + 16 * 2 + 12, 4, 0);
	CHECK(irqs(&g, 2) == 1);
	vpci_destroy(f.d);
	vpci_destroy(g.d);
	return 0;
}

static int test_image_layout(void)
{
	struct fixture f;
	struct img im;
	uint8_t small[sizeof(im) - 1];

	CHECK(program(&f, true) == 0);
	CHECK(save(&f, &im) == sizeof(im));
	CHECK(vpci_state_save(f.d, small, sizeof(small)) == 0);
	CHECK(im.magic == IMG_MAGIC && im.num_queues == NQ && im.nvectors == NVEC);
	CHECK(im.status == STATUS_LIVE && im.driver_features == ALL_FEATURES);
	CHECK(im.q[1].size == Q1_SIZE && im.q[1].desc == Q1_DESC && im.q[1].enabled == 1);
	CHECK(im.q[NQ].size == 0 && im.msix[2].ctrl == 1 && im.pba == 1u << 2);
	CHECK(memcmp(&im.cfg[0], "\xf4\x1a\x42\x10", 4) == 0);
	vpci_destroy(f.d);
	return 0;
}

static int test_round_trip_live(void)
{
	return round_trip(true);
}

static int test_round_trip_before_driver_ok(void)
{
	return round_trip(false);
}

/* A device no driver has touched: loads, and nothing is called. */
static int test_round_trip_untouched(void)
{
	struct fixture f, g;
	struct img im, again;
	struct regs a, b;
	char err[128];

	CHECK(setup_probed(&f) == 0);
	CHECK(save(&f, &im) == sizeof(im));
	CHECK(fresh(&g, &f) == 0);
	CHECK(vpci_state_load(g.d, (uint8_t *)&im, sizeof(im), err, sizeof(err)) == 0);
	CHECK(g.m.enabled[0] == 0 && g.m.enabled[1] == 0 && g.m.driver_ok == 0);
	CHECK(save(&g, &again) == sizeof(again) && memcmp(&im, &again, sizeof(im)) == 0);
	regs_read(&f.drv, &a);
	regs_read(&g.drv, &b);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	CHECK(b.status == 0 && b.q[0].size == QMAX && b.q[0].vector == VPCI_NO_VECTOR);
	vpci_destroy(f.d);
	vpci_destroy(g.d);
	return 0;
}

/* Load len bytes of im into a fresh device: -EBADMSG with a reason, and
 * the device exactly as vpci_create left it (nothing applied, nothing
 * called). 0 if so. */
static int refused(const struct fixture *f, const void *im, size_t len)
{
	struct fixture g, h;
	struct img before, after;
	char err[128] = "";

	if (fresh(&g, f) < 0 || fresh(&h, f) < 0)
		return 1;
	if (vpci_state_load(g.d, im, len, err, sizeof(err)) != -EBADMSG || !err[0]) {
		fprintf(stderr, "accepted (%s)\n", err);
		return 1;
	}
	save(&h, &before);
	save(&g, &after);
	if (memcmp(&before, &after, sizeof(before)) || g.m.enabled[0] || g.m.enabled[1] ||
	    g.m.driver_ok || g.m.resets)
		return 1;
	vpci_destroy(g.d);
	vpci_destroy(h.d);
	return 0;
}

/* The image changed by stmt (on m) must be refused. */
#define FORGED(stmt)                                                                               \
	do {                                                                                       \
		struct img m = base;                                                               \
		stmt;                                                                              \
		CHECK(refused(&f, &m, sizeof(m)) == 0);                                            \
	} while (0)

static int test_hostile_length_magic_counts(void)
{
	struct fixture f;
	struct img base;
	uint8_t big[sizeof(base) + 8];

	CHECK(program(&f, true) == 0);
	CHECK(save(&f, &base) == sizeof(base));
	memset(big, 0, sizeof(big));
	memcpy(big, &base, sizeof(base));
	CHECK(refused(&f, big, sizeof(base) - 1) == 0);
	CHECK(refused(&f, big, sizeof(base) + 1) == 0);
	CHECK(refused(&f, big, sizeof(base) + 8) == 0);
	CHECK(refused(&f, big, 0) == 0);
	CHECK(refused(&f, big, 4) == 0);
	FORGED(m.magic ^= 1);
	FORGED(m.magic = 0);
	FORGED(m.num_queues = NQ + 1);
	FORGED(m.num_queues = NQ - 1);
	FORGED(m.nvectors = NVEC - 1);
	FORGED(m.nvectors = NVEC + 1);
	FORGED(m.nvectors = 0xffff);
	vpci_destroy(f.d);
	return 0;
}

static int test_hostile_status_features(void)
{
	struct fixture f;
	struct img base;

	CHECK(program(&f, true) == 0);
	CHECK(save(&f, &base) == sizeof(base));
	FORGED(m.status |= 0x10);
	FORGED(m.status |= 0x20);
	FORGED(m.status = 0xff);
	/* DRIVER_OK without FEATURES_OK */
	FORGED(m.status &= (uint8_t)~S_FEATURES_OK);
	/* queues enabled without FEATURES_OK (no DRIVER_OK either) */
	FORGED(m.status = S_ACK | S_DRIVER);
	FORGED(m.driver_features |= 1ull << 40);
	FORGED(m.driver_features |= 1ull << 0);
	FORGED(m.driver_features |= 1ull << 63);
	FORGED(m.driver_features &= ~(1ull << VPCI_F_VERSION_1));
	FORGED(m.isr |= 4);
	FORGED(m.pba |= 1u << NVEC);
	FORGED(m.pba = 0x80000000u);
	vpci_destroy(f.d);
	return 0;
}

static int test_hostile_queues_vectors(void)
{
	struct fixture f;
	struct img base;

	CHECK(program(&f, true) == 0);
	CHECK(save(&f, &base) == sizeof(base));
	/* enabled queues of sizes the driver could not have enabled */
	FORGED(m.q[0].size = 3);
	FORGED(m.q[0].size = 0);
	FORGED(m.q[0].size = 2 * QMAX);
	FORGED(m.q[1].size = 0xffff);
	FORGED(m.q[1].size = 0x8000);
	FORGED(m.q[0].enabled = 2);
	FORGED(m.q[0].enabled = 0xff);
	/* vectors beyond the table */
	FORGED(m.q[0].vector = NVEC);
	FORGED(m.q[1].vector = 0x8000);
	FORGED(m.q[1].vector = 0xfffe);
	FORGED(m.msix_config = NVEC);
	/* reserved MSI-X vector control bits */
	FORGED(m.msix[0].ctrl |= 2);
	FORGED(m.msix[NVEC - 1].ctrl = 0x80000001u);
	/* queues the device does not have */
	FORGED(m.q[NQ].size = 1);
	FORGED(m.q[NQ].enabled = 1);
	FORGED(m.q[NQ].desc = RING_DESC);
	FORGED(m.q[VPCI_MAX_QUEUES - 1].driver = 2);
	FORGED(m.q[VPCI_MAX_QUEUES - 1].device = 0x1000);
	vpci_destroy(f.d);
	return 0;
}

/* The config space comes back only through its write mask: BAR0, the IDs,
 * the capabilities and the read-only MSI-X bits stay this process's. */
static int test_hostile_config_space(void)
{
	struct fixture f, g;
	struct img m;
	char err[128];
	uint64_t v = 0;

	CHECK(program(&f, true) == 0);
	CHECK(save(&f, &m) == sizeof(m));
	memcpy(&m.cfg[0x10], "\x04\x00\x00\xd0\x01\x00\x00\x00", 8); /* BAR0 elsewhere */
	memcpy(&m.cfg[0x00], "\x86\x80\x00\x12", 4);		     /* another vendor */
	m.cfg[0x04] = 0x03;					     /* I/O space: RO */
	m.cfg[0x05] = 0x00;					     /* INTx back on */
	m.cfg[0x34] = 0x80;					     /* capability pointer */
	m.cfg[VPCI_MSIX_CTRL_OFF] = 0xff;			     /* table size: RO */
	m.cfg[VPCI_MSIX_CTRL_OFF + 1] = 0x47;			     /* enable off, mask all */
	m.cfg[CAP_COMMON + 8] = 0x77;				     /* its BAR offset */
	CHECK(fresh(&g, &f) == 0);
	CHECK(vpci_state_load(g.d, (uint8_t *)&m, sizeof(m), err, sizeof(err)) == 0);
	CHECK(drv_cfg_read(&g.drv, 0x10, 4) == ((DRV_BAR0 & 0xffffffff) | 4));
	CHECK(drv_cfg_read(&g.drv, 0x14, 4) == DRV_BAR0 >> 32);
	CHECK(drv_cfg_read(&g.drv, 0x00, 4) == 0x10421af4);
	CHECK(drv_cfg_read(&g.drv, 0x04, 2) == 0x02);
	CHECK(drv_cfg_read(&g.drv, 0x34, 1) == VPCI_CAP_MSIX_OFF);
	CHECK(drv_cfg_read(&g.drv, VPCI_MSIX_CTRL_OFF, 2) == (VPCI_MSIX_CTRL_MASKALL | (NVEC - 1)));
	CHECK(drv_cfg_read(&g.drv, CAP_COMMON + 8, 4) == VPCI_COMMON_OFF);
	/* BAR0 still decodes where moat put it, and nowhere else */
	CHECK(drv_common_read(&g.drv, C_NUMQ, 2) == NQ);
	vpci_mmio_access(g.d, 0x1d0000000ull + VPCI_COMMON_OFF + C_NUMQ, 2, false, &v);
	CHECK(v == ~0ull);
	vpci_destroy(f.d);
	vpci_destroy(g.d);
	return 0;
}

/* An image that passes the checks but whose queue the model cannot take
 * back (rings outside RAM): -EBADMSG with the queue named. */
static int test_queue_not_taken_back(void)
{
	struct fixture f, g;
	struct img m;
	char err[128] = "";

	CHECK(program(&f, true) == 0);
	CHECK(save(&f, &m) == sizeof(m));
	m.q[1].desc = 0x1000;
	CHECK(fresh(&g, &f) == 0);
	CHECK(vpci_state_load(g.d, (uint8_t *)&m, sizeof(m), err, sizeof(err)) == -EBADMSG);
	CHECK(strstr(err, "queue 1") != NULL);
	CHECK(g.m.enabled[1] == 0 && g.m.driver_ok == 0);
	vpci_destroy(f.d);
	vpci_destroy(g.d);
	return 0;
}

/* A driver may leave any queue_size on a queue it does not enable (it is
 * checked only at queue_enable); the successor must take that image back. */
static int test_disabled_queue_any_size(void)
{
	struct fixture f, g;
	struct img im;
	char err[128] = "";

	CHECK(bring_up(&f) == 0);
	drv_common_write(&f.drv, C_QSELECT, 2, 1);
	drv_common_write(&f.drv, C_QSIZE, 2, 2 * QMAX);
	CHECK(drv_common_read(&f.drv, C_QSIZE, 2) == 2 * QMAX);
	CHECK(save(&f, &im) == sizeof(im));
	CHECK(fresh(&g, &f) == 0);
	int rc = vpci_state_load(g.d, (uint8_t *)&im, sizeof(im), err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "refused: %s\n", err);
	CHECK(rc == 0);
	return 0;
}

int main(void)
{
	static const struct test_case tests[] = {
	    TEST(test_image_layout),
	    TEST(test_round_trip_live),
	    TEST(test_round_trip_before_driver_ok),
	    TEST(test_round_trip_untouched),
	    TEST(test_hostile_length_magic_counts),
	    TEST(test_hostile_status_features),
	    TEST(test_hostile_queues_vectors),
	    TEST(test_hostile_config_space),
	    TEST(test_queue_not_taken_back),
	    TEST(test_disabled_queue_any_size),
	};
	return RUN_TESTS(tests);
}
