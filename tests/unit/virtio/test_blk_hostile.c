/* The virtio-blk device against a hostile driver: sectors and lengths out
 * of range or not whole sectors, unknown request types, chains without a
 * header or a status byte, a descriptor loop (the queue breaks, the device
 * asks for a reset and works again after it), a head offered again while
 * it is in flight. */
#include "blk_fixture.h"

static int test_out_of_range(void)
{
	struct vfix f;
	uint32_t ulen;
	struct stat st;

	CHECK(setup(&f, false) == 0);
	uint64_t buf = alloc(&f, 1024);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, SECTORS, buf, 512, true, &ulen) == VIRTIO_BLK_S_IOERR);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, SECTORS - 1, buf, 1024, true, &ulen) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, 1ull << 63, buf, 512, true, &ulen) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, (1ull << 55) - 1, buf, 512, true, &ulen) ==
	      VIRTIO_BLK_S_IOERR); /* sector * 512 wraps to below the end */
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, UINT64_MAX, buf, 512, true, &ulen) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_OUT, SECTORS, buf, 512, false, &ulen) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(fstat(f.img, &st) == 0 && st.st_size == SECTORS * 512); /* not grown */
	/* nothing at the very end is fine */
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, SECTORS, buf, 0, true, &ulen) == VIRTIO_BLK_S_OK);
	teardown(&f);
	return 0;
}

static int test_bad_lengths(void)
{
	struct vfix f;
	uint32_t ulen;

	CHECK(setup(&f, false) == 0);
	uint64_t buf = alloc(&f, 1024);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, 0, buf, 100, true, &ulen) == VIRTIO_BLK_S_IOERR);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_OUT, 0, buf, 513, false, &ulen) == VIRTIO_BLK_S_IOERR);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, 0, buf, 511, true, &ulen) == VIRTIO_BLK_S_IOERR);
	/* a read whose data buffer is device-readable: no writable data */
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, 0, buf, 512, false, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(ulen == 1);
	CHECK(roundtrip(&f, 11 /* DISCARD */, 0, buf, 16, false, &ulen) == VIRTIO_BLK_S_UNSUPP);
	CHECK(roundtrip(&f, 0x80000001u, 0, buf, 512, false, &ulen) == VIRTIO_BLK_S_UNSUPP);
	teardown(&f);
	return 0;
}

/* No room for a status byte or a header: returned with 0 bytes written,
 * and the queue goes on. */
static int test_malformed(void)
{
	struct vfix f;
	uint32_t ulen;

	CHECK(setup(&f, false) == 0);
	uint64_t hdr = header(&f, VIRTIO_BLK_T_IN, 0), buf = alloc(&f, 512);
	struct seg no_status[] = {{hdr, 16, false}, {buf, 512, false}};
	uint16_t h1 = offer(&f, 0, no_status, 2);
	uint64_t st = alloc(&f, 1);
	*ram_ptr(&f.ram, st) = 0xee;
	struct seg short_hdr[] = {{hdr, 8, false}, {st, 1, true}};
	uint16_t h2 = offer(&f, 0, short_hdr, 2);
	struct seg zero_status[] = {{hdr, 16, false}, {st, 0, true}};
	uint16_t h3 = offer(&f, 0, zero_status, 2);
	kick(&f, 0);
	CHECK(completed(&f, h1, &ulen) && ulen == 0);
	CHECK(completed(&f, h2, &ulen) && ulen == 0);
	CHECK(completed(&f, h3, &ulen) && ulen == 0);
	CHECK(*ram_ptr(&f.ram, st) == 0xee);
	f.r[0].used_seen = used_idx(&f, 0);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, 0, buf, 512, true, &ulen) == VIRTIO_BLK_S_OK);
	teardown(&f);
	return 0;
}

/* A descriptor loop breaks the queue: NEEDS_RESET and a configuration
 * interrupt; after a reset the device works again. */
static int test_broken_queue(void)
{
	struct vfix f;
	uint32_t ulen;

	CHECK(setup(&f, false) == 0);
	desc_put(&f, 0, 0, header(&f, VIRTIO_BLK_T_IN, 0), 16, F_NEXT, 1);
	desc_put(&f, 0, 1, alloc(&f, 16), 16, F_NEXT, 0);
	offer_head(&f, 0, 0);
	kick(&f, 0);
	CHECK(drv_common_read(&f.drv, C_STATUS, 1) & S_NEEDS_RESET);
	CHECK(irqs(&f, 0) == 1);
	kick(&f, 0); /* nothing more happens */
	CHECK(used_idx(&f, 0) == 0);
	memset(f.ram.mem, 0, 0x10000); /* fresh rings */
	f.r[0].avail_idx = f.r[0].used_seen = 0;
	f.r[0].next_desc = 0;
	CHECK(driver_up(&f, BLK_F_BASE) == 0);
	CHECK(!(drv_common_read(&f.drv, C_STATUS, 1) & S_NEEDS_RESET));
	uint64_t buf = alloc(&f, 512);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, 1, buf, 512, true, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(ram_ptr(&f.ram, buf)[0] == pattern(512));
	teardown(&f);
	return 0;
}

/* A driver re-offering a head it has not got back: no unbounded growth,
 * no crash; each offer is answered. */
static int test_reoffered_head(void)
{
	struct vfix f;
	uint64_t st;

	CHECK(setup(&f, false) == 0);
	uint64_t buf = alloc(&f, 512);
	uint16_t h = request(&f, VIRTIO_BLK_T_OUT, 0, buf, 512, false, &st);
	for (int i = 1; i < QSIZE; i++)
		offer_head(&f, 0, h);
	kick(&f, 0);
	CHECK(wait_used(&f, QSIZE));
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < QSIZE; i++)
			offer_head(&f, 0, h);
		kick(&f, 0);
		CHECK(wait_used(&f, (uint16_t)((round + 2) * QSIZE)));
	}
	CHECK(!(drv_common_read(&f.drv, C_STATUS, 1) & S_NEEDS_RESET));
	teardown(&f);
	return 0;
}

TAP_MAIN(TEST(test_out_of_range), TEST(test_bad_lengths), TEST(test_malformed),
	 TEST(test_broken_queue), TEST(test_reoffered_head))
