/* Unit tests for moat-blk's io_uring backend (devproc/blk/blk_uring.c) and
 * the model on it: reads, writes and flushes against a temporary image;
 * a flush held back until an earlier write has completed (IOSQE_IO_DRAIN:
 * the write is made to block on a full pipe); the kernel's restrictions
 * (an opcode outside the five, a request without the fixed file, a
 * register operation other than FILES_UPDATE: all -EACCES); the fallback
 * to the worker pool when io_uring_setup fails; cache=none (O_DIRECT)
 * with a guest buffer that is not aligned, on both backends.
 * Where the kernel has no io_uring for us the io_uring cases skip. */
#include <liburing.h>
#include <sys/syscall.h>

#include "blk_fixture.h"
#include "blk_uring.h"

/* Can this kernel give us a restricted ring at all? */
static bool have_uring(void)
{
	struct blk_uring *u;

	if (blk_uring_open(&u, 8) < 0)
		return false;
	blk_uring_close(u);
	return true;
}

#define NEED_URING()                                                                               \
	do {                                                                                       \
		if (!have_uring())                                                                 \
			return TEST_SKIP;                                                          \
	} while (0)

struct got {
	unsigned n;
	struct blk_req *r[8];
	int res[8];
};

static void got_done(void *opaque, struct blk_req *r, int res)
{
	struct got *g = opaque;

	if (g->n < 8) {
		g->r[g->n] = r;
		g->res[g->n] = res;
	}
	g->n++;
}

/* Reap until want CQEs came (or about a second passed). */
static void reap_until(struct blk_uring *u, struct got *g, unsigned want)
{
	for (int i = 0; i < 1000 && g->n < want; i++) {
		blk_uring_reap(u, got_done, g);
		if (g->n < want)
			usleep(1000);
	}
}

static void one_iov(struct blk_req *r, enum blk_op op, void *buf, size_t len, uint64_t off)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->offset = off;
	r->len = len;
	r->niov = 1;
	r->iov[0] = (struct iovec){buf, len};
}

/* A request with room for two buffers; the test leaks it (a child). */
static struct blk_req *req2(void)
{
	struct blk_req *r = calloc(1, sizeof(*r) + 2 * sizeof(struct iovec));

	if (!r)
		abort();
	return r;
}

static int temp_file(void)
{
	char path[] = "/tmp/moat-test-uring-XXXXXX";
	int fd = mkstemp(path);

	if (fd >= 0)
		unlink(path);
	return fd;
}

/* Write two sectors (two buffers: WRITEV), flush, read them back (READ),
 * all through slot 0; the data is in the file. */
static int t_read_write_flush(void)
{
	static uint8_t a[512], b[512], back[1024];
	struct blk_req *w = req2(), *f = req2(), *rd = req2();
	struct blk_uring *u;
	struct got g = {0};
	int fd;

	NEED_URING();
	CHECK((fd = temp_file()) >= 0);
	CHECK(blk_uring_open(&u, 16) == 0);
	CHECK(blk_uring_set_file(u, fd) == 0);
	memset(a, 0x5a, sizeof(a));
	memset(b, 0xa5, sizeof(b));
	w->op = BLK_OP_WRITE;
	w->offset = 4096;
	w->len = 1024;
	w->niov = 2;
	w->iov[0] = (struct iovec){a, 512};
	w->iov[1] = (struct iovec){b, 512};
	f->op = BLK_OP_FLUSH;
	CHECK(blk_uring_queue(u, w) && blk_uring_queue(u, f));
	CHECK(blk_uring_submit(u) == 0);
	reap_until(u, &g, 2);
	CHECK(g.n == 2 && g.r[0] == w && g.res[0] == 1024 && g.r[1] == f && g.res[1] == 0);
	CHECK(pread(fd, back, 1024, 4096) == 1024);
	CHECK(back[0] == 0x5a && back[511] == 0x5a && back[512] == 0xa5 && back[1023] == 0xa5);
	memset(back, 0, sizeof(back));
	one_iov(rd, BLK_OP_READ, back, 1024, 4096);
	g.n = 0;
	CHECK(blk_uring_queue(u, rd) && blk_uring_submit(u) == 0);
	reap_until(u, &g, 1);
	CHECK(g.n == 1 && g.res[0] == 1024);
	CHECK(back[0] == 0x5a && back[1023] == 0xa5);
	CHECK(u->inflight == 0);
	blk_uring_close(u);
	close(fd);
	return 0;
}

/* The flush rule: a write that cannot complete (to a full pipe) holds back
 * the flush queued after it, however long; once the write is through, the
 * flush's CQE comes after the write's. Without IOSQE_IO_DRAIN the fsync
 * (refused by a pipe at once) would come first. */
static int t_flush_waits_for_write(void)
{
	static uint8_t big[65536], sink[65536], data[512];
	struct blk_req *w = req2(), *f = req2();
	struct blk_uring *u;
	struct got g = {0};
	int p[2];

	NEED_URING();
	CHECK(pipe2(p, O_NONBLOCK) == 0);
	while (write(p[1], big, sizeof(big)) > 0) /* fill it */
		;
	CHECK(fcntl(p[1], F_SETFL, 0) == 0);
	CHECK(blk_uring_open(&u, 16) == 0);
	CHECK(blk_uring_set_file(u, p[1]) == 0);
	one_iov(w, BLK_OP_WRITE, data, sizeof(data), 0);
	f->op = BLK_OP_FLUSH;
	CHECK(blk_uring_queue(u, w) && blk_uring_queue(u, f));
	CHECK(blk_uring_submit(u) == 0);
	usleep(50000);
	blk_uring_reap(u, got_done, &g);
	CHECK(g.n == 0); /* neither: the write blocks, the flush waits for it */
	while (read(p[0], sink, sizeof(sink)) == (ssize_t)sizeof(sink))
		;
	reap_until(u, &g, 2);
	CHECK(g.n == 2);
	CHECK(g.r[0] == w && g.res[0] == (int)sizeof(data));
	CHECK(g.r[1] == f);
	blk_uring_close(u);
	close(p[0]);
	close(p[1]);
	return 0;
}

/* The kernel refuses, with -EACCES, what the restrictions do not allow. */
static int t_forbidden_refused(void)
{
	static char name[] = "/etc/passwd";
	struct io_uring_sqe *sqe;
	struct blk_uring *u;
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	int res[4], fd, nope = -1;
	uint8_t buf[512];

	NEED_URING();
	CHECK((fd = temp_file()) >= 0);
	CHECK(blk_uring_open(&u, 16) == 0);
	CHECK(blk_uring_set_file(u, fd) == 0);
	/* an opcode outside the five, even with the fixed file flag */
	sqe = io_uring_get_sqe(&u->ring);
	io_uring_prep_openat(sqe, AT_FDCWD, name, O_RDONLY, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->user_data = 0;
	CHECK(io_uring_submit(&u->ring) == 1); /* one each: a refused one ends a submit */
	sqe = io_uring_get_sqe(&u->ring);
	io_uring_prep_sendmsg(sqe, 0, NULL, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->user_data = 1;
	CHECK(io_uring_submit(&u->ring) == 1);
	/* an allowed opcode on a descriptor of the process's table */
	sqe = io_uring_get_sqe(&u->ring);
	io_uring_prep_read(sqe, fd, buf, sizeof(buf), 0);
	sqe->user_data = 2;
	CHECK(io_uring_submit(&u->ring) == 1);
	/* an allowed opcode with a flag outside the allowed ones */
	sqe = io_uring_get_sqe(&u->ring);
	io_uring_prep_read(sqe, 0, buf, sizeof(buf), 0);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
	sqe->user_data = 3;
	CHECK(io_uring_submit_and_wait(&u->ring, 1) == 1);
	io_uring_for_each_cqe(&u->ring, head, cqe)
	{
		if (cqe->user_data < 4)
			res[cqe->user_data] = cqe->res;
		n++;
	}
	io_uring_cq_advance(&u->ring, n);
	CHECK(n == 4);
	for (int i = 0; i < 4; i++) {
		if (res[i] != -EACCES)
			fprintf(stderr, "request %d: res %d\n", i, res[i]);
		CHECK(res[i] == -EACCES);
	}
	/* register operations: FILES_UPDATE only */
	CHECK(syscall(__NR_io_uring_register, u->ring.ring_fd, IORING_UNREGISTER_FILES, NULL, 0) <
		  0 &&
	      errno == EACCES);
	CHECK(syscall(__NR_io_uring_register, u->ring.ring_fd, IORING_REGISTER_EVENTFD, &nope, 1) <
		  0 &&
	      errno == EACCES);
	CHECK(blk_uring_set_file(u, -1) == 0);
	blk_uring_close(u);
	close(fd);
	return 0;
}

/* ---- the model on the ring ------------------------------------------------ */

/* blk_fixture.h's setup_queues, with the ring (or NULL) and an image
 * opened O_DIRECT when direct. */
static int setup_ring_queues(struct vfix *f, struct blk_uring *u, bool direct, unsigned nq)
{
	char err[128] = "";
	struct blk_params p = {.serial = "s", .uring = u};

	vfix_init(f, nq, nq + 1, &p.vdev);
	if (make_image(f, false) < 0)
		return -1;
	p.image_fd = dup(f->img);
	if (direct && fcntl(p.image_fd, F_SETFL, O_DIRECT) < 0)
		return -1;
	if (blk_model_create(&f->m, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "blk_model_create: %s\n", err);
		return -1;
	}
	vfix_attach(f, blk_model_vdev(f->m));
	return driver_up(f, nq > 1 ? BLK_F_BASE | 1ull << VIRTIO_BLK_F_MQ : BLK_F_BASE);
}

static int setup_ring(struct vfix *f, struct blk_uring *u, bool direct)
{
	return setup_ring_queues(f, u, direct, 1);
}

/* roundtrip() with the loop's part for the ring: reap while waiting. */
static int rt(struct vfix *f, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
	      bool data_w)
{
	uint64_t st;
	uint16_t before = used_idx(f, 0);

	request(f, type, sector, data, len, data_w, &st);
	kick(f, 0);
	for (int i = 0; i < 2000 && used_idx(f, 0) == before; i++) {
		blk_model_reap(f->m);
		if (used_idx(f, 0) == before)
			usleep(500);
	}
	if (used_idx(f, 0) == before)
		return -1;
	return *ram_ptr(&f->ram, st);
}

/* guest memory whose host address is 4 KiB-aligned, plus skew bytes */
static uint64_t alloc_aligned(struct vfix *f, uint32_t len, unsigned skew)
{
	uint64_t gpa = alloc(f, len + 8192);
	uintptr_t host = (uintptr_t)ram_ptr(&f->ram, gpa);

	return gpa + ((4096 - host % 4096) % 4096) + skew;
}

/* Many requests in one notify: one submit, all complete, the data right. */
static int t_model_uring(void)
{
	struct blk_uring *u;
	struct vfix f;
	uint64_t buf[40], st[40];

	NEED_URING();
	CHECK(blk_uring_open(&u, BLK_QUEUE_MAX) == 0);
	CHECK(setup_ring(&f, u, false) == 0);
	CHECK(blk_model_uring(f.m) && blk_model_poll_fd(f.m) >= 0);
	for (int i = 0; i < 40; i++) {
		buf[i] = alloc(&f, 4096);
		if (i % 2)
			memset(ram_ptr(&f.ram, buf[i]), i, 4096);
		request(&f, i % 2 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, (uint64_t)i * 8, buf[i],
			4096, !(i % 2), &st[i]);
	}
	kick(&f, 0);
	for (int i = 0; i < 2000 && used_idx(&f, 0) != 40; i++) {
		blk_model_reap(f.m);
		usleep(500);
	}
	CHECK(used_idx(&f, 0) == 40);
	CHECK(wait_irqs(&f, 1) >= 1);
	for (int i = 0; i < 40; i++) {
		uint8_t b;
		CHECK(*ram_ptr(&f.ram, st[i]) == VIRTIO_BLK_S_OK);
		CHECK(pread(f.img, &b, 1, (uint64_t)i * 4096 + 7) == 1);
		CHECK(b == (i % 2 ? i : pattern((uint64_t)i * 4096 + 7)));
		if (!(i % 2))
			CHECK(ram_ptr(&f.ram, buf[i])[7] == pattern((uint64_t)i * 4096 + 7));
	}
	CHECK(rt(&f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false) == VIRTIO_BLK_S_OK);
	CHECK(blk_model_idle(f.m));
	teardown(&f);
	return 0;
}

/* Four request queues on one ring, as moat-blk sizes it (a queue's worth
 * of entries for each): every queue's descriptors nearly all in use at
 * once, more than one queue's worth of requests in flight; each request
 * completes on its own queue's ring with its queue's interrupt, and the
 * data is right. */
static int t_model_uring_mq(void)
{
	enum { NQ = 4, PER_Q = 80 }; /* 3 descriptors each: 240 of a ring's 256 */
	struct blk_uring *u;
	struct vfix f;
	uint64_t st[NQ][PER_Q];

	NEED_URING();
	CHECK(blk_uring_open(&u, BLK_QUEUE_MAX * NQ) == 0);
	CHECK(setup_ring_queues(&f, u, false, NQ) == 0);
	for (unsigned q = 0; q < NQ; q++)
		for (unsigned i = 0; i < PER_Q; i++) {
			uint64_t buf = alloc(&f, 512);
			memset(ram_ptr(&f.ram, buf), (int)(q * 50 + i % 50), 512);
			request_on(&f, q, VIRTIO_BLK_T_OUT, q * PER_Q + i, buf, 512, false,
				   &st[q][i]);
		}
	for (unsigned q = 0; q < NQ; q++)
		kick(&f, q);
	for (int i = 0; i < 4000; i++) {
		unsigned done = 0;
		blk_model_reap(f.m);
		for (unsigned q = 0; q < NQ; q++)
			done += used_idx(&f, q) == PER_Q;
		if (done == NQ)
			break;
		usleep(500);
	}
	for (unsigned q = 0; q < NQ; q++) {
		CHECK(used_idx(&f, q) == PER_Q);
		CHECK(wait_irqs(&f, q + 1) >= 1);
		for (unsigned i = 0; i < PER_Q; i++) {
			uint8_t b;
			CHECK(*ram_ptr(&f.ram, st[q][i]) == VIRTIO_BLK_S_OK);
			CHECK(pread(f.img, &b, 1, (uint64_t)(q * PER_Q + i) * 512 + 300) == 1);
			CHECK(b == q * 50 + i % 50);
		}
	}
	CHECK(rt(&f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false) == VIRTIO_BLK_S_OK);
	CHECK(blk_model_idle(f.m));
	teardown(&f);
	return 0;
}

/* Reset with requests on the ring: device_status stays non-zero until
 * the loop has reaped them all, and none is pushed after. */
static int t_reset_in_flight(void)
{
	struct blk_uring *u;
	struct vfix f;
	uint64_t st;
	int polls = 0;

	NEED_URING();
	CHECK(blk_uring_open(&u, BLK_QUEUE_MAX) == 0);
	CHECK(setup_ring(&f, u, false) == 0);
	for (int i = 0; i < 60; i++)
		request(&f, VIRTIO_BLK_T_IN, 0, alloc(&f, 16384), 16384, true, &st);
	kick(&f, 0);
	drv_common_write(&f.drv, C_STATUS, 1, 0);
	/* not reaped yet: still the ring's, so the reset is not over */
	CHECK(drv_common_read(&f.drv, C_STATUS, 1) != 0);
	while (drv_common_read(&f.drv, C_STATUS, 1) != 0 && polls++ < 100000) {
		blk_model_reap(f.m);
		usleep(10);
	}
	CHECK(drv_common_read(&f.drv, C_STATUS, 1) == 0);
	CHECK(blk_model_idle(f.m));
	CHECK(used_idx(&f, 0) == 0);
	teardown(&f);
	return 0;
}

/* A disk swap on the ring: the new image goes into the ring's slot, and
 * reads come from it (and a swap to no medium fails reads). */
static int t_swap(void)
{
	struct blk_uring *u;
	struct vfix f;
	char err[128];
	uint8_t page[512];
	uint64_t buf;
	int other;

	NEED_URING();
	CHECK(blk_uring_open(&u, BLK_QUEUE_MAX) == 0);
	CHECK(setup_ring(&f, u, false) == 0);
	CHECK((other = temp_file()) >= 0);
	memset(page, 0x99, sizeof(page));
	for (int i = 0; i < 8; i++)
		CHECK(pwrite(other, page, sizeof(page), i * 512) == 512);
	buf = alloc(&f, 512);
	blk_model_hold(f.m);
	CHECK(blk_model_swap(f.m, other, false, err, sizeof(err)) == 0);
	blk_model_release(f.m);
	CHECK(blk_model_sectors(f.m) == 8);
	CHECK(rt(&f, VIRTIO_BLK_T_IN, 3, buf, 512, true) == VIRTIO_BLK_S_OK);
	CHECK(ram_ptr(&f.ram, buf)[0] == 0x99 && ram_ptr(&f.ram, buf)[511] == 0x99);
	blk_model_hold(f.m);
	CHECK(blk_model_swap(f.m, -1, false, err, sizeof(err)) == 0);
	blk_model_release(f.m);
	CHECK(rt(&f, VIRTIO_BLK_T_IN, 0, buf, 512, true) == VIRTIO_BLK_S_IOERR);
	teardown(&f);
	return 0;
}

/* io_uring_setup refused (ENOSYS, EPERM of io_uring_disabled): no ring,
 * and the model without one runs on its threads. */
static int t_fallback(void)
{
	struct blk_uring *u = NULL;
	struct vfix f;
	uint64_t buf;

	blk_uring_test_setup_error = -ENOSYS;
	CHECK(blk_uring_open(&u, 16) == -ENOSYS && u == NULL);
	blk_uring_test_setup_error = -EPERM;
	CHECK(blk_uring_open(&u, 16) == -EPERM && u == NULL);
	blk_uring_test_setup_error = 0;
	CHECK(setup_ring(&f, u, false) == 0);
	CHECK(!blk_model_uring(f.m) && blk_model_poll_fd(f.m) < 0);
	buf = alloc(&f, 512);
	memset(ram_ptr(&f.ram, buf), 0x77, 512);
	CHECK(rt(&f, VIRTIO_BLK_T_OUT, 5, buf, 512, false) == VIRTIO_BLK_S_OK);
	memset(ram_ptr(&f.ram, buf), 0, 512);
	CHECK(rt(&f, VIRTIO_BLK_T_IN, 5, buf, 512, true) == VIRTIO_BLK_S_OK);
	CHECK(ram_ptr(&f.ram, buf)[0] == 0x77 && ram_ptr(&f.ram, buf)[511] == 0x77);
	teardown(&f);
	return 0;
}

/* cache=none: aligned buffers go straight, a misaligned one (address and
 * length of its pieces) through the bounce buffer; the data is right
 * either way, on the ring and on the threads. */
static int direct_case(bool ring)
{
	struct blk_uring *u = NULL;
	struct vfix f;
	uint64_t ok, skew;

	int probe = temp_file();

	/* a /tmp without direct I/O (an old tmpfs): nothing to test here */
	if (probe < 0 || fcntl(probe, F_SETFL, O_DIRECT) < 0)
		return TEST_SKIP;
	close(probe);
	if (ring && blk_uring_open(&u, BLK_QUEUE_MAX) < 0)
		return TEST_SKIP;
	CHECK(setup_ring(&f, u, true) == 0);
	CHECK(blk_model_uring(f.m) == ring);
	ok = alloc_aligned(&f, 4096, 0);
	skew = alloc_aligned(&f, 4096, 3);
	CHECK(rt(&f, VIRTIO_BLK_T_IN, 8, ok, 4096, true) == VIRTIO_BLK_S_OK);
	CHECK(ram_ptr(&f.ram, ok)[100] == pattern(8 * 512 + 100));
	CHECK(rt(&f, VIRTIO_BLK_T_IN, 16, skew, 4096, true) == VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 4096; i += 511)
		CHECK(ram_ptr(&f.ram, skew)[i] == pattern(16 * 512 + i));
	memset(ram_ptr(&f.ram, skew), 0x3c, 4096);
	CHECK(rt(&f, VIRTIO_BLK_T_OUT, 24, skew, 4096, false) == VIRTIO_BLK_S_OK);
	memset(ram_ptr(&f.ram, ok), 0, 4096);
	CHECK(rt(&f, VIRTIO_BLK_T_IN, 24, ok, 4096, true) == VIRTIO_BLK_S_OK);
	CHECK(ram_ptr(&f.ram, ok)[0] == 0x3c && ram_ptr(&f.ram, ok)[4095] == 0x3c);
	CHECK(rt(&f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false) == VIRTIO_BLK_S_OK);
	teardown(&f);
	return 0;
}

static int t_direct_uring(void)
{
	NEED_URING();
	return direct_case(true);
}

static int t_direct_threads(void)
{
	return direct_case(false);
}

TAP_MAIN(TEST(t_read_write_flush), TEST(t_flush_waits_for_write), TEST(t_forbidden_refused),
	 TEST(t_model_uring), TEST(t_model_uring_mq), TEST(t_reset_in_flight), TEST(t_swap),
	 TEST(t_fallback), TEST(t_direct_uring), TEST(t_direct_threads))
