/* Unit tests for the virtio-blk device (devproc/blk) as a driver uses it
 * (blk_fixture.h): config space and features, reads, writes, flushes,
 * GET_ID, a read-only disk, the spec's free layout of buffers, indirect
 * tables, many requests in flight, reset with requests in flight,
 * interrupt suppression, nothing consumed before DRIVER_OK, the queue
 * depths moat ctl status shows. A hostile
 * driver: test_blk_hostile.c; the worker pool alone: test_blk_pool.c. */
#include <stdatomic.h>

#include "blk_fixture.h"

/* ---- the device ---------------------------------------------------------- */

static int test_config(void)
{
	struct vfix f;
	uint64_t offered;

	CHECK(setup(&f, false) == 0);
	struct drv *d = &f.drv;
	CHECK(drv_cfg_read(d, 0, 4) == 0x10421af4);
	CHECK(drv_cfg_read(d, 8, 4) >> 8 == 0x018000);
	CHECK(drv_bar_read(d, d->device + 0, 8) == SECTORS);
	CHECK(drv_bar_read(d, d->device + 0, 4) == SECTORS); /* Linux reads halves */
	CHECK(drv_bar_read(d, d->device + 4, 4) == 0);
	CHECK(drv_bar_read(d, d->device + 12, 4) == BLK_SEG_MAX);
	CHECK(drv_bar_read(d, d->device + 20, 4) == 512);
	CHECK(d->device_len >= 24);
	drv_negotiate(d, 1ull << VPCI_F_VERSION_1, &offered);
	CHECK(offered & 1ull << VIRTIO_BLK_F_SEG_MAX);
	CHECK(offered & 1ull << VIRTIO_BLK_F_BLK_SIZE);
	CHECK(offered & 1ull << VIRTIO_BLK_F_FLUSH);
	CHECK(!(offered & 1ull << VIRTIO_BLK_F_RO));
	CHECK(!(offered & 1ull << VIRTIO_BLK_F_SIZE_MAX)); /* not filled in */
	drv_common_write(d, C_QSELECT, 2, 0);
	CHECK(drv_common_read(d, C_QSIZE, 2) == QSIZE);
	CHECK(drv_common_read(d, C_NUMQ, 2) == 1);
	teardown(&f);
	return 0;
}

static int test_read(void)
{
	struct vfix f;
	uint32_t ulen;

	CHECK(setup(&f, false) == 0);
	uint64_t buf = alloc(&f, 1024);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, 3, buf, 1024, true, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(ulen == 1025);
	for (unsigned i = 0; i < 1024; i++)
		CHECK(ram_ptr(&f.ram, buf)[i] == pattern(3 * 512 + i));
	CHECK(wait_irqs(&f, 1) >= 1);
	/* the last sector */
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, SECTORS - 1, buf, 512, true, &ulen) ==
	      VIRTIO_BLK_S_OK);
	CHECK(ram_ptr(&f.ram, buf)[511] == pattern(SECTORS * 512 - 1));
	teardown(&f);
	return 0;
}

static int test_write(void)
{
	struct vfix f;
	uint32_t ulen;
	uint8_t back[4 * 512 + 2];

	CHECK(setup(&f, false) == 0);
	uint64_t buf = alloc(&f, 2048);
	memset(ram_ptr(&f.ram, buf), 0xab, 2048);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_OUT, 10, buf, 2048, false, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(ulen == 1);
	CHECK(pread(f.img, back, sizeof(back), 10 * 512 - 1) == (ssize_t)sizeof(back));
	CHECK(back[0] == pattern(10 * 512 - 1));
	for (unsigned i = 1; i <= 2048; i++)
		CHECK(back[i] == 0xab);
	CHECK(back[2049] == pattern(14 * 512));
	/* and it reads back through the device */
	uint64_t rd = alloc(&f, 512);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, 11, rd, 512, true, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(ram_ptr(&f.ram, rd)[0] == 0xab && ram_ptr(&f.ram, rd)[511] == 0xab);
	/* a flush */
	CHECK(roundtrip(&f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(ulen == 1);
	teardown(&f);
	return 0;
}

static int test_get_id(void)
{
	struct vfix f;
	uint32_t ulen;

	CHECK(setup(&f, false) == 0);
	uint64_t buf = alloc(&f, 20);
	memset(ram_ptr(&f.ram, buf), 0xff, 20);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_GET_ID, 0, buf, 20, true, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(memcmp(ram_ptr(&f.ram, buf), "moat-serial-0001\0\0\0\0", 20) == 0);
	CHECK(ulen == 21);
	uint64_t small = alloc(&f, 16);
	memset(ram_ptr(&f.ram, small), 0, 16);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_GET_ID, 0, small, 4, true, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(memcmp(ram_ptr(&f.ram, small), "moat\0", 5) == 0);
	teardown(&f);
	/* a serial too long for the 20 bytes is refused at start */
	CHECK(setup_with(&f, false, "123456789012345678901", 0) != 0);
	return 0;
}

static int test_read_only(void)
{
	struct vfix f;
	uint32_t ulen;
	uint64_t offered;
	uint8_t back[512];

	CHECK(setup(&f, true) == 0);
	drv_negotiate(&f.drv, 1ull << VPCI_F_VERSION_1, &offered);
	CHECK(offered & 1ull << VIRTIO_BLK_F_RO);
	CHECK(driver_up(&f, BLK_F_BASE | 1ull << VIRTIO_BLK_F_RO) == 0);
	uint64_t buf = alloc(&f, 512);
	memset(ram_ptr(&f.ram, buf), 0xcd, 512);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_OUT, 0, buf, 512, false, &ulen) == VIRTIO_BLK_S_IOERR);
	CHECK(pread(f.img, back, 512, 0) == 512);
	for (unsigned i = 0; i < 512; i++)
		CHECK(back[i] == pattern(i));
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, 0, buf, 512, true, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(ram_ptr(&f.ram, buf)[5] == pattern(5));
	CHECK(roundtrip(&f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, &ulen) == VIRTIO_BLK_S_OK);
	teardown(&f);
	return 0;
}

/* The spec's "no framing": header split over descriptors, data sharing a
 * buffer with the header or the status, zero-length buffers. */
static int test_any_layout(void)
{
	struct vfix f;
	uint32_t ulen;

	CHECK(setup(&f, false) == 0);
	uint64_t hdr = header(&f, VIRTIO_BLK_T_IN, 2);
	uint64_t io = alloc(&f, 513);
	struct seg split[] = {
	    {hdr, 5, false}, {hdr + 5, 0, false}, {hdr + 5, 11, false}, {io, 513, true}};
	uint16_t h = offer(&f, 0, split, 4);
	kick(&f, 0);
	CHECK(completed(&f, h, &ulen) && ulen == 513);
	CHECK(ram_ptr(&f.ram, io)[512] == VIRTIO_BLK_S_OK);
	CHECK(ram_ptr(&f.ram, io)[0] == pattern(1024) && ram_ptr(&f.ram, io)[511] == pattern(1535));
	/* a write with the header and data in one buffer, status after a
	 * zero-length writable one */
	uint64_t big = alloc(&f, 16 + 512), st = alloc(&f, 1);
	memcpy(ram_ptr(&f.ram, big), ram_ptr(&f.ram, header(&f, VIRTIO_BLK_T_OUT, 7)), 16);
	memset(ram_ptr(&f.ram, big) + 16, 0x3c, 512);
	struct seg merged[] = {{big, 16 + 512, false}, {st, 1, true}, {st, 0, true}};
	h = offer(&f, 0, merged, 3);
	kick(&f, 0);
	CHECK(completed(&f, h, &ulen) && ulen == 1);
	CHECK(*ram_ptr(&f.ram, st) == VIRTIO_BLK_S_OK);
	uint8_t back[512];
	CHECK(pread(f.img, back, 512, 7 * 512) == 512 && back[0] == 0x3c && back[511] == 0x3c);
	teardown(&f);
	return 0;
}

/* Indirect descriptors, as Linux uses for requests with many segments. */
static int test_indirect(void)
{
	struct vfix f;
	uint32_t ulen;

	CHECK(setup(&f, false) == 0);
	uint64_t table = alloc(&f, 16 * 10), st = alloc(&f, 1);
	uint64_t hdr = header(&f, VIRTIO_BLK_T_IN, 100);
	uint64_t data[8];
	uint8_t *t = ram_ptr(&f.ram, table);
	for (int i = 0; i < 10; i++) {
		uint64_t a = i == 0 ? hdr : i == 9 ? st : (data[i - 1] = alloc(&f, 512));
		uint32_t l = i == 0 ? 16 : i == 9 ? 1 : 512;
		uint16_t fl = htole16((i ? F_WRITE : 0) | (i < 9 ? F_NEXT : 0));
		uint16_t nx = htole16((uint16_t)(i + 1));
		uint64_t la = htole64(a);
		uint32_t ll = htole32(l);
		memcpy(t + 16 * i, &la, 8);
		memcpy(t + 16 * i + 8, &ll, 4);
		memcpy(t + 16 * i + 12, &fl, 2);
		memcpy(t + 16 * i + 14, &nx, 2);
	}
	uint16_t head = f.r[0].next_desc++;
	desc_put(&f, 0, head, table, 16 * 10, F_INDIRECT, 0);
	offer_head(&f, 0, head);
	kick(&f, 0);
	CHECK(completed(&f, head, &ulen) && ulen == 8 * 512 + 1);
	CHECK(*ram_ptr(&f.ram, st) == VIRTIO_BLK_S_OK);
	for (int i = 0; i < 8; i++)
		CHECK(ram_ptr(&f.ram, data[i])[3] == pattern((100 + i) * 512 + 3));
	teardown(&f);
	return 0;
}

/* Many requests in flight at once, reads and writes to distinct sectors;
 * they complete in any order, each correctly. */
static int test_concurrent(void)
{
	struct vfix f;
	uint16_t heads[80];
	uint64_t st[80], buf[80];

	CHECK(setup(&f, false) == 0);
	for (int i = 0; i < 80; i++) {
		bool w = i % 2;
		buf[i] = alloc(&f, 4096);
		if (w)
			memset(ram_ptr(&f.ram, buf[i]), i, 4096);
		heads[i] = request(&f, w ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, (uint64_t)i * 8,
				   buf[i], 4096, !w, &st[i]);
	}
	kick(&f, 0);
	CHECK(wait_used(&f, 80));
	for (int i = 0; i < 80; i++) {
		uint32_t ulen;
		CHECK(completed(&f, heads[i], &ulen));
		CHECK(ulen == (i % 2 ? 1 : 4097));
		CHECK(*ram_ptr(&f.ram, st[i]) == VIRTIO_BLK_S_OK);
		uint8_t b;
		CHECK(pread(f.img, &b, 1, (uint64_t)i * 4096 + 100) == 1);
		if (i % 2)
			CHECK(b == i);
		else
			CHECK(ram_ptr(&f.ram, buf[i])[100] == pattern((uint64_t)i * 4096 + 100));
	}
	teardown(&f);
	return 0;
}

/* Reset with requests in flight: device_status stays non-zero until they
 * are done, and none is pushed after. */
static int test_reset_in_flight(void)
{
	struct vfix f;
	uint64_t st;

	CHECK(setup_with(&f, false, NULL, 1) == 0);
	for (int i = 0; i < 60; i++)
		request(&f, VIRTIO_BLK_T_IN, 0, alloc(&f, 16384), 16384, true, &st);
	kick(&f, 0);
	drv_common_write(&f.drv, C_STATUS, 1, 0);
	int polls = 0;
	while (drv_common_read(&f.drv, C_STATUS, 1) != 0 && polls < 100000) {
		polls++;
		usleep(10);
	}
	CHECK(drv_common_read(&f.drv, C_STATUS, 1) == 0);
	uint16_t used = used_idx(&f, 0);
	usleep(20000);
	CHECK(used_idx(&f, 0) == used);
	teardown(&f);
	return 0;
}

/* VIRTQ_AVAIL_F_NO_INTERRUPT: completions without an interrupt. */
static int test_no_interrupt_flag(void)
{
	struct vfix f;
	uint32_t ulen;

	CHECK(setup(&f, false) == 0);
	uint16_t flags = htole16(1);
	memcpy(ram_ptr(&f.ram, RING_AVL), &flags, 2);
	irqs(&f, 1);
	uint64_t buf = alloc(&f, 512);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, 0, buf, 512, true, &ulen) == VIRTIO_BLK_S_OK);
	usleep(1000);
	CHECK(irqs(&f, 1) == 0);
	teardown(&f);
	return 0;
}

/* Before DRIVER_OK nothing is consumed (spec 3.1.1); at DRIVER_OK it is. */
static int test_waits_for_driver_ok(void)
{
	struct vfix f;
	uint64_t st;

	CHECK(setup(&f, false) == 0);
	CHECK(drv_negotiate(&f.drv, 1ull << VPCI_F_VERSION_1, NULL) & S_FEATURES_OK);
	CHECK(drv_setup_queue(&f.drv, 0, QSIZE, RING_DESC, RING_AVL, RING_USED, 1) == 1);
	request(&f, VIRTIO_BLK_T_IN, 0, alloc(&f, 512), 512, true, &st);
	kick(&f, 0);
	usleep(5000);
	CHECK(used_idx(&f, 0) == 0);
	drv_common_write(&f.drv, C_STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	vdev_ready(f.vd, f.notify[0]); /* the loop sees the model's own kick */
	CHECK(wait_used(&f, 1));
	CHECK(*ram_ptr(&f.ram, st) == VIRTIO_BLK_S_OK);
	teardown(&f);
	return 0;
}

/* What moat ctl status shows of a disk's queue (vdev_queue_depth): made
 * available and not taken, then taken and held by a worker, then neither;
 * and the interrupts sent for it. */
static atomic_int depth_gate;

static void gated_exec(const struct blk_disk *disk, struct blk_req *r)
{
	while (!atomic_load(&depth_gate))
		usleep(100);
	blk_req_execute(disk, r);
}

static int test_queue_depth(void)
{
	struct vfix f;
	struct vdev *vd;
	uint64_t st, sent, failed;
	unsigned waiting, taken;

	CHECK(setup(&f, false) == 0);
	vd = blk_model_vdev(f.m);
	blk_model_set_exec(f.m, gated_exec);
	vdev_queue_depth(vd, 0, &waiting, &taken);
	CHECK(waiting == 0 && taken == 0);
	for (int i = 0; i < 3; i++)
		request(&f, VIRTIO_BLK_T_IN, (uint64_t)i, alloc(&f, 512), 512, true, &st);
	vdev_queue_depth(vd, 0, &waiting, &taken);
	CHECK(waiting == 3 && taken == 0); /* no kick yet */
	kick(&f, 0);
	vdev_queue_depth(vd, 0, &waiting, &taken);
	CHECK(waiting == 0 && taken == 3); /* at the gate, or queued behind it */
	atomic_store(&depth_gate, 1);
	CHECK(wait_used(&f, 3));
	vdev_queue_depth(vd, 0, &waiting, &taken);
	CHECK(waiting == 0 && taken == 0);
	vdev_irq_stats(vd, &sent, &failed);
	CHECK(sent >= 1 && failed == 0);
	CHECK(wait_irqs(&f, 1) >= 1);
	teardown(&f);
	return 0;
}

TAP_MAIN(TEST(test_config), TEST(test_read), TEST(test_write), TEST(test_get_id),
	 TEST(test_read_only), TEST(test_any_layout), TEST(test_indirect), TEST(test_concurrent),
	 TEST(test_reset_in_flight), TEST(test_no_interrupt_flag), TEST(test_waits_for_driver_ok),
	 TEST(test_queue_depth))
