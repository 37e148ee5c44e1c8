/* Unit tests for virtio-blk's request queues (VIRTIO_BLK_F_MQ, --disk
 * queues=): what the driver is offered for one queue and for several,
 * each queue serving its own requests and interrupting on its own vector,
 * all queues busy at once against one image, a flush on one queue after
 * writes on the others, reset with every queue in flight, and the model
 * refusing a queue count it cannot serve. The single-queue behaviour is
 * test_blk.c's. */
#include <stddef.h>

#include "blk_fixture.h"

#define NQ 4

static uint64_t num_queues(struct vfix *f)
{
	return drv_bar_read(&f->drv, f->drv.device + offsetof(struct virtio_blk_config, num_queues),
			    2);
}

/* One queue: no MQ offered (a driver without it uses queue 0, all there
 * is), num_queues 1 all the same. Four: MQ, num_queues 4, four queues in
 * the common config. */
static int test_offer(void)
{
	struct vfix f;
	uint64_t offered;

	CHECK(setup_queues(&f, false, NULL, 0, 1) == 0);
	drv_common_write(&f.drv, C_STATUS, 1, 0);
	drv_negotiate(&f.drv, 1ull << VPCI_F_VERSION_1, &offered);
	CHECK(!(offered & 1ull << VIRTIO_BLK_F_MQ));
	CHECK(num_queues(&f) == 1);
	CHECK(drv_common_read(&f.drv, C_NUMQ, 2) == 1);
	teardown(&f);

	CHECK(setup_queues(&f, false, NULL, 0, NQ) == 0);
	drv_common_write(&f.drv, C_STATUS, 1, 0);
	drv_negotiate(&f.drv, 1ull << VPCI_F_VERSION_1, &offered);
	CHECK(offered & 1ull << VIRTIO_BLK_F_MQ);
	CHECK(num_queues(&f) == NQ);
	CHECK(drv_common_read(&f.drv, C_NUMQ, 2) == NQ);
	for (unsigned q = 0; q < NQ; q++) {
		drv_common_write(&f.drv, C_QSELECT, 2, q);
		CHECK(drv_common_read(&f.drv, C_QSIZE, 2) == QSIZE);
	}
	drv_common_write(&f.drv, C_QSELECT, 2, NQ); /* past the last: size 0 */
	CHECK(drv_common_read(&f.drv, C_QSIZE, 2) == 0);
	teardown(&f);
	return 0;
}

/* A read on queue q completes on q's used ring alone, and interrupts on
 * q's vector (driver_up gives queue q vector q + 1), no other. */
static int test_each_queue_its_own(void)
{
	struct vfix f;
	uint32_t ulen;

	CHECK(setup_queues(&f, false, NULL, 0, NQ) == 0);
	for (unsigned q = 0; q < NQ; q++) {
		uint64_t buf = alloc(&f, 512);
		uint16_t before[NQ];

		for (unsigned v = 0; v <= NQ; v++)
			irqs(&f, v);
		for (unsigned o = 0; o < NQ; o++)
			before[o] = used_idx(&f, o);
		CHECK(roundtrip_on(&f, q, VIRTIO_BLK_T_IN, 10 + q, buf, 512, true, &ulen) ==
		      VIRTIO_BLK_S_OK);
		CHECK(ulen == 513);
		for (unsigned i = 0; i < 512; i++)
			CHECK(ram_ptr(&f.ram, buf)[i] == pattern((10 + q) * 512 + i));
		CHECK(wait_irqs(&f, q + 1) >= 1);
		for (unsigned o = 0; o < NQ; o++)
			if (o != q)
				CHECK(used_idx(&f, o) == before[o]);
		for (unsigned v = 0; v <= NQ; v++)
			if (v != q + 1)
				CHECK(irqs(&f, v) == 0);
	}
	teardown(&f);
	return 0;
}

/* Every queue full of writes at once (one thread of the pool is not enough
 * to serve them in order), then a flush on queue 0: every write is in the
 * image, with its own queue's byte. */
static int test_all_busy_then_flush(void)
{
	enum { PER_Q = 40 };
	struct vfix f;
	uint64_t st[NQ][PER_Q];
	uint32_t ulen;

	CHECK(setup_queues(&f, false, NULL, 0, NQ) == 0);
	for (unsigned q = 0; q < NQ; q++)
		for (unsigned i = 0; i < PER_Q; i++) {
			uint64_t buf = alloc(&f, 4096);
			memset(ram_ptr(&f.ram, buf), (int)(0x10 * (q + 1) + i % 16), 4096);
			request_on(&f, q, VIRTIO_BLK_T_OUT, (uint64_t)(q * PER_Q + i) * 8, buf,
				   4096, false, &st[q][i]);
		}
	for (unsigned q = 0; q < NQ; q++)
		kick(&f, q);
	for (unsigned q = 0; q < NQ; q++)
		CHECK(wait_used_on(&f, q, PER_Q));
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, &ulen) == VIRTIO_BLK_S_OK);
	for (unsigned q = 0; q < NQ; q++)
		for (unsigned i = 0; i < PER_Q; i++) {
			uint8_t b;
			CHECK(*ram_ptr(&f.ram, st[q][i]) == VIRTIO_BLK_S_OK);
			CHECK(pread(f.img, &b, 1, (uint64_t)(q * PER_Q + i) * 4096 + 4095) == 1);
			CHECK(b == 0x10 * (q + 1) + i % 16);
		}
	teardown(&f);
	return 0;
}

/* Reset with requests in flight on every queue: status reads 0 only once
 * all are done, none is pushed after, and the driver can start again on
 * fresh rings, every queue serving. */
static int test_reset_all_queues(void)
{
	struct vfix f;
	uint64_t st;
	uint32_t ulen;

	CHECK(setup_queues(&f, false, NULL, 1, NQ) == 0);
	for (unsigned q = 0; q < NQ; q++)
		for (int i = 0; i < 20; i++)
			request_on(&f, q, VIRTIO_BLK_T_IN, 0, alloc(&f, 16384), 16384, true, &st);
	for (unsigned q = 0; q < NQ; q++)
		kick(&f, q);
	drv_common_write(&f.drv, C_STATUS, 1, 0);
	for (int polls = 0; drv_common_read(&f.drv, C_STATUS, 1) != 0 && polls < 100000; polls++)
		usleep(10);
	CHECK(drv_common_read(&f.drv, C_STATUS, 1) == 0);
	uint16_t used[NQ];
	for (unsigned q = 0; q < NQ; q++)
		used[q] = used_idx(&f, q);
	usleep(20000);
	for (unsigned q = 0; q < NQ; q++)
		CHECK(used_idx(&f, q) == used[q]);

	vfix_fresh_rings(&f);
	CHECK(driver_up(&f, BLK_F_BASE | 1ull << VIRTIO_BLK_F_MQ) == 0);
	for (unsigned q = 0; q < NQ; q++) {
		uint64_t buf = alloc(&f, 512);
		CHECK(roundtrip_on(&f, q, VIRTIO_BLK_T_IN, q, buf, 512, true, &ulen) ==
		      VIRTIO_BLK_S_OK);
		CHECK(ram_ptr(&f.ram, buf)[7] == pattern(q * 512 + 7));
	}
	teardown(&f);
	return 0;
}

/* No queue, or more than the transport has: refused with a reason, the
 * image still the caller's. */
static int test_bad_count(void)
{
	const unsigned bad[] = {0, BLK_MAX_QUEUES + 1};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vfix f;
		struct blk_model *m = NULL;
		char err[128] = "";
		struct blk_params p = {0};

		vfix_init(&f, 1, 2, &p.vdev);
		CHECK(make_image(&f, false) == 0);
		p.image_fd = f.img;
		p.vdev.nqueues = bad[i];
		CHECK(blk_model_create(&m, &p, err, sizeof(err)) == -EINVAL);
		CHECK(m == NULL);
		CHECK(strstr(err, "queues") != NULL);
		CHECK(fcntl(f.img, F_GETFD) >= 0); /* not closed */
		close(f.img);
		vfix_fini(&f);
	}
	return 0;
}

TAP_MAIN(TEST(test_offer), TEST(test_each_queue_its_own), TEST(test_all_busy_then_flush),
	 TEST(test_reset_all_queues), TEST(test_bad_count))
