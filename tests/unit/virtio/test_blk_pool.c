/* Unit tests for moat-blk's worker pool (devproc/blk/blk_pool.c): the
 * flush ordering rule of blk_pool.h, with writes made slow so that a
 * flush that did not wait would overtake them, cancellation of queued
 * requests (a device reset), and workers started as the load asks. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "blk_pool.h"
#include "tap.h"

struct order {
	atomic_uint clock;
	unsigned at[16]; /* completion time of request i */
};

static void order_done(void *opaque, struct blk_req *r)
{
	struct order *o = opaque;

	o->at[r->head] = atomic_fetch_add(&o->clock, 1);
}

/* An image of the given capacity (512-byte sectors) for the pool: an
 * unlinked temporary file, which grows as it is written. 0 or -1. */
static int temp_disk(struct blk_disk *disk, uint64_t sectors)
{
	char path[] = "/tmp/moat-test-pool-XXXXXX";

	*disk = (struct blk_disk){.sectors = sectors, .fd = mkstemp(path)};
	if (disk->fd < 0)
		return -1;
	unlink(path);
	return 0;
}

/* Writes made slow (0-2 ms, in random order) and flushes instant: without
 * the ordering rule the flush would overtake them. */
static void slow_exec(const struct blk_disk *disk, struct blk_req *r)
{
	if (r->op == BLK_OP_WRITE)
		usleep((unsigned)(rand() % 2000));
	blk_req_execute(disk, r);
}

/* Six writes, a flush, two more writes, 100 times over with 4 workers:
 * the flush always completes after the six, whatever the order of the
 * others; and it really ran (fdatasync on the image). */
static int test_flush_after_earlier_writes(void)
{
	static uint8_t data[8][4096];
	static uint8_t status[16];
	struct blk_disk disk;
	struct blk_pool pool;
	struct order o;

	CHECK(temp_disk(&disk, 8 * 8) == 0);
	for (int round = 0; round < 100; round++) {
		memset(&o, 0, sizeof(o));
		memset(status, 0xee, sizeof(status));
		CHECK(blk_pool_start(&pool, &disk, 4, order_done, &o) == 0);
		pool.exec = slow_exec;
		for (uint16_t i = 0; i < 9; i++) {
			struct blk_req *r = calloc(1, sizeof(*r) + sizeof(struct iovec));
			unsigned w = i < 6 ? i : i - 1;
			r->head = i;
			r->status_p = &status[i];
			r->op = i == 6 ? BLK_OP_FLUSH : BLK_OP_WRITE;
			if (r->op == BLK_OP_WRITE) {
				r->offset = (uint64_t)w * sizeof(data[0]);
				r->iov[0] = (struct iovec){data[w], sizeof(data[0])};
				r->niov = 1;
			}
			blk_pool_submit(&pool, r);
		}
		for (int i = 0; i < 10000 && atomic_load(&o.clock) < 9; i++)
			usleep(100);
		blk_pool_stop(&pool);
		CHECK(atomic_load(&o.clock) == 9);
		for (int i = 0; i < 6; i++)
			CHECK(o.at[i] < o.at[6]);
		for (int i = 0; i < 9; i++)
			CHECK(status[i] == VIRTIO_BLK_S_OK);
	}
	close(disk.fd);
	return 0;
}

/* Workers wait here until the test opens the gate; at_gate counts those
 * that came to it (each test runs in a process of its own). */
static atomic_int gate, at_gate;

static void gated_exec(const struct blk_disk *disk, struct blk_req *r)
{
	atomic_fetch_add(&at_gate, 1);
	while (!atomic_load(&gate))
		usleep(100);
	blk_req_execute(disk, r);
}

/* A reset takes the queued requests of its queue out of the pool; the
 * running ones finish; the other queue's are untouched. */
static int test_cancel(void)
{
	static uint8_t status[16];
	struct blk_disk disk;
	struct blk_pool pool;
	struct order o;

	CHECK(temp_disk(&disk, 8) == 0);
	memset(&o, 0, sizeof(o));
	CHECK(blk_pool_start(&pool, &disk, 1, order_done, &o) == 0);
	pool.exec = gated_exec;
	for (uint16_t i = 0; i < 6; i++) {
		struct blk_req *r = calloc(1, sizeof(*r));
		r->head = i;
		r->queue = i % 2;
		r->status_p = &status[i];
		r->op = i == 5 ? BLK_OP_FLUSH : BLK_OP_WRITE; /* empty writes */
		blk_pool_submit(&pool, r);
	}
	usleep(10000); /* the worker has taken request 0 and waits at the gate */
	unsigned n = 0;
	for (struct blk_req *r = blk_pool_cancel(&pool, 0), *next; r; r = next, n++) {
		next = r->next;
		CHECK(r->queue == 0 && r->head != 0);
		free(r);
	}
	CHECK(n == 2); /* 2 and 4; 0 is running */
	atomic_store(&gate, 1);
	for (int i = 0; i < 10000 && atomic_load(&o.clock) < 4; i++)
		usleep(100);
	blk_pool_stop(&pool);
	CHECK(atomic_load(&o.clock) == 4); /* 0, 1, 3, and the flush 5 */
	CHECK(o.at[5] > o.at[1] && o.at[5] > o.at[3]);
	close(disk.fd);
	return 0;
}

static void count_done(void *opaque, struct blk_req *r)
{
	atomic_fetch_add((atomic_uint *)opaque, 1);
}

/* A fresh pool has BLK_POOL_FIRST_WORKERS threads; 16 reads that all
 * block get 12 workers (each one queued found none free) and no more than
 * the maximum; all complete once the gate opens. */
static int test_grows_with_load(void)
{
	static uint8_t data[4096];
	static uint8_t status[16];
	struct blk_disk disk;
	struct blk_pool pool;
	atomic_uint done = 0;

	CHECK(temp_disk(&disk, 64) == 0);
	CHECK(blk_pool_start(&pool, &disk, 12, count_done, &done) == 0);
	CHECK(pool.nthreads == BLK_POOL_FIRST_WORKERS);
	pool.exec = gated_exec;
	for (uint16_t i = 0; i < 16; i++) {
		struct blk_req *r = calloc(1, sizeof(*r) + sizeof(struct iovec));

		CHECK(r);
		r->head = i;
		r->status_p = &status[i];
		r->op = BLK_OP_READ;
		r->offset = (uint64_t)(i % 8) * sizeof(data);
		r->iov[0] = (struct iovec){data, sizeof(data)};
		r->niov = 1;
		blk_pool_submit(&pool, r);
	}
	for (int i = 0; i < 5000 && atomic_load(&at_gate) < 12; i++)
		usleep(1000);
	usleep(20000); /* time for a thirteenth, which must not come */
	CHECK(atomic_load(&at_gate) == 12);
	CHECK(pool.nthreads == 12);
	atomic_store(&gate, 1);
	for (int i = 0; i < 5000 && atomic_load(&done) < 16; i++)
		usleep(1000);
	CHECK(atomic_load(&done) == 16);
	blk_pool_stop(&pool);
	close(disk.fd);
	return 0;
}

TAP_MAIN(TEST(test_flush_after_earlier_writes), TEST(test_cancel), TEST(test_grows_with_load))
