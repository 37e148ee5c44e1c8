/* Unit tests for the live disk swap of moat-blk (devproc/blk/blk_swap.h,
 * blk_model_swap): the ControlRequest as moat-blk gets it, against the
 * device a driver uses (blk_fixture.h). The new medium's data and
 * capacity, the config-change interrupt and generation; requests in
 * flight finishing against the old image before the answer, and kicks
 * that came meanwhile served after it; an empty medium and back; refused
 * swaps leaving the old image serving; read-only media and devices; a
 * second swap while one waits. */
#include <stdatomic.h>
#include <sys/stat.h>

#include "blk_fixture.h"
#include "blk_swap.h"
#include "channel.h"
#include "devproc.h"

#define NEW_SECTORS 3000 /* the second image: another size than SECTORS */

/* The second image's byte at off: never the first one's. */
static uint8_t new_pattern(uint64_t off)
{
	return pattern(off) ^ 0xa5;
}

/* A temporary image of sectors filled with new_pattern, opened with
 * flags (O_RDONLY or O_RDWR), unlinked. The descriptor, or -1. */
static int new_image(uint64_t sectors, int flags)
{
	char path[] = "/tmp/moat-test-swap-XXXXXX";
	uint8_t sec[512];
	int fd = mkstemp(path), ro;

	if (fd < 0)
		return -1;
	for (uint64_t s = 0; s < sectors; s++) {
		for (unsigned i = 0; i < sizeof(sec); i++)
			sec[i] = new_pattern(s * 512 + i);
		if (write(fd, sec, sizeof(sec)) != (ssize_t)sizeof(sec))
			return -1;
	}
	ro = open(path, flags);
	unlink(path);
	close(fd);
	return ro;
}

/* The ControlRequest moat-blk gets for `moat ctl disk swap`: fd (if >= 0)
 * travels as descriptor 0, the request names index; the runtime closes
 * what the handler did not take. */
static int swap_req(struct blk_swap *s, int fd, unsigned index, bool none, bool ro,
		    Moat__Dev__ControlResult *res)
{
	Moat__Dev__DiskSwap ds = MOAT__DEV__DISK_SWAP__INIT;
	Moat__Dev__ControlRequest req = MOAT__DEV__CONTROL_REQUEST__INIT;
	struct ipc_fds fds = {.n = 0};
	int rc;

	if (fd >= 0)
		fds.fd[fds.n++] = fd;
	ds.none = none;
	ds.fd_image = index;
	ds.read_only = ro;
	req.seq = 41;
	req.op_case = MOAT__DEV__CONTROL_REQUEST__OP_DISK_SWAP;
	req.disk_swap = &ds;
	*res = (Moat__Dev__ControlResult)MOAT__DEV__CONTROL_RESULT__INIT;
	rc = blk_swap_control(s, &req, &fds, res);
	ipc_fds_close(&fds);
	return rc;
}

static bool failed(const Moat__Dev__ControlResult *res)
{
	return res->error && res->error[0];
}

/* Read one sector through the device into a fresh buffer; the status. */
static int read_sector(struct vfix *f, uint64_t sector, uint8_t **data)
{
	uint32_t ulen;
	uint64_t buf = alloc(f, 512);

	*data = ram_ptr(&f->ram, buf);
	return roundtrip(f, VIRTIO_BLK_T_IN, sector, buf, 512, true, &ulen);
}

static int write_sector(struct vfix *f, uint64_t sector, uint8_t byte)
{
	uint32_t ulen;
	uint64_t buf = alloc(f, 512);

	memset(ram_ptr(&f->ram, buf), byte, 512);
	return roundtrip(f, VIRTIO_BLK_T_OUT, sector, buf, 512, false, &ulen);
}

static uint64_t capacity(struct vfix *f)
{
	return drv_bar_read(&f->drv, f->drv.device + 0, 8);
}

/* Does the old image still serve, unchanged, with no config change? */
static int old_serves(struct vfix *f, uint8_t gen)
{
	uint8_t *d;

	CHECK(read_sector(f, 5, &d) == VIRTIO_BLK_S_OK);
	CHECK(d[0] == pattern(5 * 512) && d[511] == pattern(6 * 512 - 1));
	CHECK(capacity(f) == SECTORS && blk_model_sectors(f->m) == SECTORS);
	CHECK(drv_common_read(&f->drv, C_CFGGEN, 1) == gen);
	CHECK(irqs(f, 0) == 0);
	return 0;
}

/* Requests wait at this gate in the workers until the test opens it;
 * at_gate counts those that came to it. */
static atomic_int gate, at_gate;

static void gated_exec(const struct blk_disk *disk, struct blk_req *r)
{
	atomic_fetch_add(&at_gate, 1);
	while (!atomic_load(&gate))
		usleep(100);
	blk_req_execute(disk, r);
}

static bool poll_done(struct blk_swap *s, Moat__Dev__ControlResult *res, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (blk_swap_poll(s, res))
			return true;
		usleep(1000);
	}
	return false;
}

/* ---- the cases ----------------------------------------------------------- */

/* Idle: answered at once. The guest reads the new data at the new size,
 * hears of it (config vector, generation), and writes reach the new image
 * only. */
static int test_swap_image(void)
{
	struct vfix f;
	struct blk_swap s;
	Moat__Dev__ControlResult res;
	uint8_t *d, b;
	int img2 = new_image(NEW_SECTORS, O_RDWR);

	CHECK(img2 >= 0);
	CHECK(setup(&f, false) == 0);
	blk_swap_init(&s, f.m);
	CHECK(read_sector(&f, 0, &d) == VIRTIO_BLK_S_OK && d[0] == pattern(0));
	irqs(&f, 0);
	uint8_t gen = (uint8_t)drv_common_read(&f.drv, C_CFGGEN, 1);

	CHECK(swap_req(&s, dup(img2), 0, false, false, &res) == DEV_CONTROL_DONE);
	CHECK(!failed(&res));
	CHECK(res.capacity_sectors == NEW_SECTORS);
	CHECK(blk_model_sectors(f.m) == NEW_SECTORS && capacity(&f) == NEW_SECTORS);
	CHECK(drv_common_read(&f.drv, C_CFGGEN, 1) != gen);
	CHECK(wait_irqs(&f, 0) >= 1); /* vector 0: the config's */
	CHECK(read_sector(&f, 0, &d) == VIRTIO_BLK_S_OK);
	CHECK(d[0] == new_pattern(0) && d[511] == new_pattern(511));
	CHECK(read_sector(&f, NEW_SECTORS - 1, &d) == VIRTIO_BLK_S_OK);
	CHECK(d[100] == new_pattern((NEW_SECTORS - 1) * 512 + 100));
	CHECK(read_sector(&f, NEW_SECTORS, &d) == VIRTIO_BLK_S_IOERR); /* past the end */
	CHECK(write_sector(&f, 7, 0x3c) == VIRTIO_BLK_S_OK);
	CHECK(pread(img2, &b, 1, 7 * 512 + 9) == 1 && b == 0x3c);
	CHECK(pread(f.img, &b, 1, 7 * 512 + 9) == 1 && b == pattern(7 * 512 + 9));
	CHECK(s.swaps == 1 && !blk_swap_pending(&s));
	/* the same size again: nothing for the driver to hear */
	irqs(&f, 0);
	gen = (uint8_t)drv_common_read(&f.drv, C_CFGGEN, 1);
	CHECK(swap_req(&s, dup(img2), 0, false, false, &res) == DEV_CONTROL_DONE);
	CHECK(!failed(&res) && res.capacity_sectors == NEW_SECTORS);
	CHECK(drv_common_read(&f.drv, C_CFGGEN, 1) == gen && irqs(&f, 0) == 0);
	blk_swap_fini(&s);
	teardown(&f);
	close(img2);
	return 0;
}

/* Requests in the pool hold the answer back and finish against the old
 * image; a kick that comes meanwhile waits and is served by the new one.
 * The model is not idle while they run. */
static int test_swap_in_flight(void)
{
	struct vfix f;
	struct blk_swap s;
	Moat__Dev__ControlResult res;
	uint64_t st[3], buf[3];
	uint16_t head[3];
	uint32_t ulen;
	int img2 = new_image(NEW_SECTORS, O_RDWR);

	CHECK(img2 >= 0);
	CHECK(setup_with(&f, false, NULL, 2) == 0);
	blk_swap_init(&s, f.m);
	blk_model_set_exec(f.m, gated_exec);
	CHECK(blk_model_idle(f.m));
	for (int i = 0; i < 2; i++) {
		buf[i] = alloc(&f, 512);
		head[i] = request(&f, VIRTIO_BLK_T_IN, 9, buf[i], 512, true, &st[i]);
	}
	kick(&f, 0);
	CHECK(!blk_model_idle(f.m));
	CHECK(swap_req(&s, dup(img2), 0, false, false, &res) == DEV_CONTROL_LATER);
	CHECK(blk_swap_pending(&s));
	/* a kick during the swap: read, but nothing is popped */
	buf[2] = alloc(&f, 512);
	head[2] = request(&f, VIRTIO_BLK_T_IN, 9, buf[2], 512, true, &st[2]);
	kick(&f, 0);
	CHECK(!poll_done(&s, &res, 20));
	CHECK(used_idx(&f, 0) == 0);
	CHECK(blk_model_sectors(f.m) == SECTORS);

	atomic_store(&gate, 1);
	CHECK(poll_done(&s, &res, 5000));
	CHECK(res.seq == 41 && res.ok && !failed(&res) && res.capacity_sectors == NEW_SECTORS);
	/* both old requests were pushed before the answer, with old data */
	CHECK(used_idx(&f, 0) == 2);
	for (int i = 0; i < 2; i++) {
		CHECK(completed(&f, head[i], &ulen) && ulen == 513);
		CHECK(*ram_ptr(&f.ram, st[i]) == VIRTIO_BLK_S_OK);
		CHECK(ram_ptr(&f.ram, buf[i])[3] == pattern(9 * 512 + 3));
	}
	CHECK(blk_model_idle(f.m));
	/* the loop sees the release's kick: the waiting request, new data */
	vdev_ready(f.vd, f.notify[0]);
	CHECK(completed(&f, head[2], &ulen) && ulen == 513);
	CHECK(*ram_ptr(&f.ram, st[2]) == VIRTIO_BLK_S_OK);
	CHECK(ram_ptr(&f.ram, buf[2])[3] == new_pattern(9 * 512 + 3));
	blk_swap_fini(&s);
	teardown(&f);
	close(img2);
	return 0;
}

/* None: an empty medium. Reads and writes fail, GET_ID and FLUSH still
 * answer OK, the capacity is 0; a swap back brings an image again. */
static int test_swap_none(void)
{
	struct vfix f;
	struct blk_swap s;
	Moat__Dev__ControlResult res;
	uint32_t ulen;
	uint8_t *d, b;
	int img2 = new_image(NEW_SECTORS, O_RDWR);

	CHECK(img2 >= 0);
	CHECK(setup(&f, false) == 0);
	blk_swap_init(&s, f.m);
	irqs(&f, 0);
	CHECK(swap_req(&s, -1, 0, true, false, &res) == DEV_CONTROL_DONE);
	CHECK(!failed(&res) && res.capacity_sectors == 0);
	CHECK(capacity(&f) == 0 && blk_model_sectors(f.m) == 0);
	CHECK(wait_irqs(&f, 0) >= 1);
	CHECK(read_sector(&f, 0, &d) == VIRTIO_BLK_S_IOERR);
	CHECK(write_sector(&f, 0, 0x11) == VIRTIO_BLK_S_IOERR);
	/* even a zero-length read: there is nothing to read from */
	CHECK(roundtrip(&f, VIRTIO_BLK_T_IN, 0, 0, 0, true, &ulen) == VIRTIO_BLK_S_IOERR);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, &ulen) == VIRTIO_BLK_S_OK);
	uint64_t id = alloc(&f, 20);
	CHECK(roundtrip(&f, VIRTIO_BLK_T_GET_ID, 0, id, 20, true, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(memcmp(ram_ptr(&f.ram, id), "moat-serial-0001", 16) == 0);
	CHECK(pread(f.img, &b, 1, 0) == 1 && b == pattern(0)); /* the write did not land */
	/* none again: no change to tell */
	CHECK(swap_req(&s, -1, 0, true, false, &res) == DEV_CONTROL_DONE && !failed(&res));
	CHECK(irqs(&f, 0) == 0);
	/* and back */
	CHECK(swap_req(&s, dup(img2), 0, false, false, &res) == DEV_CONTROL_DONE);
	CHECK(!failed(&res) && res.capacity_sectors == NEW_SECTORS);
	CHECK(wait_irqs(&f, 0) >= 1);
	CHECK(read_sector(&f, 1, &d) == VIRTIO_BLK_S_OK && d[0] == new_pattern(512));
	CHECK(write_sector(&f, 1, 0x22) == VIRTIO_BLK_S_OK);
	CHECK(pread(img2, &b, 1, 512) == 1 && b == 0x22);
	CHECK(s.swaps == 3);
	blk_swap_fini(&s);
	teardown(&f);
	close(img2);
	return 0;
}

/* Refused swaps: the old image serves on, untouched, and nothing is left
 * held. Which are the user's fault (blk_swap.h). */
static int test_swap_refused(void)
{
	struct vfix f;
	struct blk_swap s;
	Moat__Dev__ControlResult res;
	int ro = new_image(NEW_SECTORS, O_RDONLY), dir = open("/tmp", O_RDONLY | O_DIRECTORY);
	int wo = new_image(NEW_SECTORS, O_WRONLY), fd;

	CHECK(ro >= 0 && dir >= 0 && wo >= 0);
	CHECK(setup(&f, false) == 0);
	blk_swap_init(&s, f.m);
	irqs(&f, 0);
	uint8_t gen = (uint8_t)drv_common_read(&f.drv, C_CFGGEN, 1);

	/* the descriptor index names none (the monitor's fault) */
	CHECK(swap_req(&s, dup(ro), 3, false, false, &res) == DEV_CONTROL_DONE);
	CHECK(failed(&res) && !res.user_error);
	CHECK(swap_req(&s, -1, 0, false, false, &res) == DEV_CONTROL_DONE);
	CHECK(failed(&res) && !res.user_error);
	CHECK(old_serves(&f, gen) == 0);
	/* a read-only descriptor for a read-write disk: refused, and closed */
	fd = dup(ro);
	CHECK(swap_req(&s, fd, 0, false, false, &res) == DEV_CONTROL_DONE);
	CHECK(failed(&res) && res.user_error);
	CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF);
	CHECK(old_serves(&f, gen) == 0);
	/* a write-only one cannot be read even for a read-only medium */
	CHECK(swap_req(&s, dup(wo), 0, false, true, &res) == DEV_CONTROL_DONE);
	CHECK(failed(&res) && res.user_error);
	/* neither a regular file nor a block device */
	CHECK(swap_req(&s, dup(dir), 0, false, true, &res) == DEV_CONTROL_DONE);
	CHECK(failed(&res) && res.user_error && strstr(res.error, "regular file"));
	CHECK(old_serves(&f, gen) == 0);
	/* an operation that is not a swap */
	Moat__Dev__HostfwdChange hc = MOAT__DEV__HOSTFWD_CHANGE__INIT;
	Moat__Dev__ControlRequest req = MOAT__DEV__CONTROL_REQUEST__INIT;
	struct ipc_fds none = {.n = 0};
	req.op_case = MOAT__DEV__CONTROL_REQUEST__OP_HOSTFWD;
	req.hostfwd = &hc;
	res = (Moat__Dev__ControlResult)MOAT__DEV__CONTROL_RESULT__INIT;
	CHECK(blk_swap_control(&s, &req, &none, &res) == DEV_CONTROL_DONE && failed(&res));
	CHECK(s.swaps == 0 && !blk_swap_pending(&s));
	/* the old image still takes writes */
	CHECK(write_sector(&f, 2, 0x77) == VIRTIO_BLK_S_OK);
	uint8_t b;
	CHECK(pread(f.img, &b, 1, 2 * 512) == 1 && b == 0x77);
	blk_swap_fini(&s);
	teardown(&f);
	close(ro);
	close(dir);
	close(wo);
	return 0;
}

/* A read-write disk swapped to a read-only medium fails writes (even when
 * the descriptor could write) and writes nothing; F_RO does not change;
 * a writable medium again takes writes. */
static int test_swap_rw_to_ro(void)
{
	struct vfix f;
	struct blk_swap s;
	Moat__Dev__ControlResult res;
	uint64_t offered;
	uint8_t *d, b;
	int ro = new_image(NEW_SECTORS, O_RDONLY), rw = new_image(NEW_SECTORS, O_RDWR);

	CHECK(ro >= 0 && rw >= 0);
	CHECK(setup(&f, false) == 0);
	blk_swap_init(&s, f.m);
	CHECK(swap_req(&s, dup(ro), 0, false, true, &res) == DEV_CONTROL_DONE && !failed(&res));
	/* the driver that starts again is still offered a writable disk */
	drv_negotiate(&f.drv, 1ull << VPCI_F_VERSION_1, &offered);
	CHECK(!(offered & 1ull << VIRTIO_BLK_F_RO));
	CHECK(driver_up(&f, BLK_F_BASE) == 0);
	CHECK(write_sector(&f, 4, 0x5e) == VIRTIO_BLK_S_IOERR);
	CHECK(pread(ro, &b, 1, 4 * 512) == 1 && b == new_pattern(4 * 512));
	CHECK(read_sector(&f, 4, &d) == VIRTIO_BLK_S_OK && d[0] == new_pattern(4 * 512));
	/* read-only asked for, a writable descriptor given: still no write */
	CHECK(swap_req(&s, dup(rw), 0, false, true, &res) == DEV_CONTROL_DONE && !failed(&res));
	CHECK(write_sector(&f, 4, 0x5e) == VIRTIO_BLK_S_IOERR);
	CHECK(pread(rw, &b, 1, 4 * 512) == 1 && b == new_pattern(4 * 512));
	/* and writable again */
	CHECK(swap_req(&s, dup(rw), 0, false, false, &res) == DEV_CONTROL_DONE && !failed(&res));
	CHECK(write_sector(&f, 4, 0x5e) == VIRTIO_BLK_S_OK);
	CHECK(pread(rw, &b, 1, 4 * 512) == 1 && b == 0x5e);
	blk_swap_fini(&s);
	teardown(&f);
	close(ro);
	close(rw);
	return 0;
}

/* A disk started read-only stays so: a writable medium is accepted (its
 * descriptor need not be read-only) and never written. */
static int test_swap_ro_device(void)
{
	struct vfix f;
	struct blk_swap s;
	Moat__Dev__ControlResult res;
	uint8_t *d, b;
	int rw = new_image(NEW_SECTORS, O_RDWR), ro = new_image(NEW_SECTORS, O_RDONLY);

	CHECK(rw >= 0 && ro >= 0);
	CHECK(setup(&f, true) == 0);
	CHECK(driver_up(&f, BLK_F_BASE | 1ull << VIRTIO_BLK_F_RO) == 0);
	blk_swap_init(&s, f.m);
	CHECK(swap_req(&s, dup(rw), 0, false, false, &res) == DEV_CONTROL_DONE && !failed(&res));
	CHECK(read_sector(&f, 3, &d) == VIRTIO_BLK_S_OK && d[1] == new_pattern(3 * 512 + 1));
	CHECK(write_sector(&f, 3, 0x44) == VIRTIO_BLK_S_IOERR);
	CHECK(pread(rw, &b, 1, 3 * 512) == 1 && b == new_pattern(3 * 512));
	/* a read-only descriptor without read_only asked: fine for this disk */
	CHECK(swap_req(&s, dup(ro), 0, false, false, &res) == DEV_CONTROL_DONE && !failed(&res));
	CHECK(write_sector(&f, 3, 0x44) == VIRTIO_BLK_S_IOERR);
	blk_swap_fini(&s);
	teardown(&f);
	close(rw);
	close(ro);
	return 0;
}

/* A second swap while one waits is refused (the user's fault), and the
 * first completes as asked. */
static int test_swap_twice(void)
{
	struct vfix f;
	struct blk_swap s;
	Moat__Dev__ControlResult res, res2;
	uint64_t st;
	uint8_t *d;
	int img2 = new_image(NEW_SECTORS, O_RDWR), img3 = new_image(16, O_RDWR);

	CHECK(img2 >= 0 && img3 >= 0);
	CHECK(setup_with(&f, false, NULL, 1) == 0);
	blk_swap_init(&s, f.m);
	blk_model_set_exec(f.m, gated_exec);
	request(&f, VIRTIO_BLK_T_IN, 0, alloc(&f, 512), 512, true, &st);
	kick(&f, 0);
	CHECK(swap_req(&s, dup(img2), 0, false, false, &res) == DEV_CONTROL_LATER);
	CHECK(swap_req(&s, dup(img3), 0, false, false, &res2) == DEV_CONTROL_DONE);
	CHECK(failed(&res2) && res2.user_error);
	CHECK(swap_req(&s, -1, 0, true, false, &res2) == DEV_CONTROL_DONE && failed(&res2));
	atomic_store(&gate, 1);
	CHECK(poll_done(&s, &res, 5000));
	CHECK(res.ok && res.capacity_sectors == NEW_SECTORS && s.swaps == 1);
	CHECK(read_sector(&f, 0, &d) == VIRTIO_BLK_S_OK && d[0] == new_pattern(0));
	blk_swap_fini(&s);
	teardown(&f);
	close(img2);
	close(img3);
	return 0;
}

/* A swap that waits while the driver resets the device: the reset drops
 * what was queued, the running request finishes, then the swap. */
static int test_swap_across_reset(void)
{
	struct vfix f;
	struct blk_swap s;
	Moat__Dev__ControlResult res;
	uint64_t st;
	uint8_t *d;
	int img2 = new_image(NEW_SECTORS, O_RDWR);

	CHECK(img2 >= 0);
	CHECK(setup_with(&f, false, NULL, 1) == 0);
	blk_swap_init(&s, f.m);
	blk_model_set_exec(f.m, gated_exec);
	for (int i = 0; i < 4; i++)
		request(&f, VIRTIO_BLK_T_IN, 0, alloc(&f, 512), 512, true, &st);
	kick(&f, 0);
	for (int i = 0; i < 5000 && !atomic_load(&at_gate); i++)
		usleep(1000); /* the worker runs the first: only 3 are queued */
	CHECK(atomic_load(&at_gate) == 1);
	CHECK(swap_req(&s, dup(img2), 0, false, false, &res) == DEV_CONTROL_LATER);
	drv_common_write(&f.drv, C_STATUS, 1, 0);
	CHECK(!poll_done(&s, &res, 10));
	atomic_store(&gate, 1);
	CHECK(poll_done(&s, &res, 5000) && res.ok && res.capacity_sectors == NEW_SECTORS);
	for (int i = 0; i < 1000 && drv_common_read(&f.drv, C_STATUS, 1) != 0; i++)
		usleep(1000);
	CHECK(drv_common_read(&f.drv, C_STATUS, 1) == 0);
	vfix_fresh_rings(&f);
	CHECK(driver_up(&f, BLK_F_BASE) == 0);
	CHECK(read_sector(&f, 0, &d) == VIRTIO_BLK_S_OK && d[0] == new_pattern(0));
	blk_swap_fini(&s);
	teardown(&f);
	close(img2);
	return 0;
}

TAP_MAIN(TEST(test_swap_image), TEST(test_swap_in_flight), TEST(test_swap_none),
	 TEST(test_swap_refused), TEST(test_swap_rw_to_ro), TEST(test_swap_ro_device),
	 TEST(test_swap_twice), TEST(test_swap_across_reset))
