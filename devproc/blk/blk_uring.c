/* moat-blk's io_uring backend; see blk_uring.h. */
#include "blk_uring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

int blk_uring_test_setup_error;

/* What the ring may do once enabled (blk_uring.h). */
static const uint8_t allowed_ops[] = {
    IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_READ, IORING_OP_WRITE, IORING_OP_FSYNC,
};

/* io_uring_register(2) itself: Debian's liburing 2.3 declares
 * io_uring_register_restrictions and io_uring_enable_rings but its shared
 * library does not export them. */
static int ring_register(struct io_uring *ring, unsigned op, const void *arg, unsigned n)
{
	long rc = syscall(__NR_io_uring_register, ring->ring_fd, op, arg, n);

	return rc < 0 ? -errno : 0;
}

static int restrict_ring(struct io_uring *ring)
{
	struct io_uring_restriction res[sizeof(allowed_ops) + 3];
	unsigned n = 0;

	memset(res, 0, sizeof(res));
	for (unsigned i = 0; i < sizeof(allowed_ops); i++) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = allowed_ops[i];
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[n++].sqe_flags = IOSQE_FIXED_FILE;
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[n++].sqe_flags = IOSQE_IO_DRAIN;
	res[n].opcode = IORING_RESTRICTION_REGISTER_OP;
	res[n++].register_op = IORING_REGISTER_FILES_UPDATE;
	return ring_register(ring, IORING_REGISTER_RESTRICTIONS, res, n);
}

/* Everything that must happen while the ring is disabled (registrations
 * are not checked against the restrictions until it is enabled). */
static int ring_setup(struct blk_uring *u, unsigned entries)
{
	struct io_uring_params p = {.flags = IORING_SETUP_R_DISABLED};
	const int none = -1; /* a sparse slot: the image comes later */
	int rc;

	if (blk_uring_test_setup_error)
		return blk_uring_test_setup_error;
	rc = io_uring_queue_init_params(entries, &u->ring, &p);
	if (rc < 0)
		return rc;
	rc = io_uring_register_files(&u->ring, &none, 1);
	if (rc == 0)
		rc = io_uring_register_eventfd(&u->ring, u->efd);
	if (rc == 0)
		rc = restrict_ring(&u->ring);
	if (rc == 0)
		rc = ring_register(&u->ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (rc < 0)
		io_uring_queue_exit(&u->ring);
	return rc;
}

int blk_uring_open(struct blk_uring **out, unsigned entries)
{
	struct blk_uring *u = calloc(1, sizeof(*u));
	int rc;

	if (!u)
		return -ENOMEM;
	u->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->efd < 0) {
		rc = -errno;
		free(u);
		return rc;
	}
	rc = ring_setup(u, entries);
	if (rc < 0) {
		close(u->efd);
		free(u);
		return rc;
	}
	*out = u;
	return 0;
}

void blk_uring_close(struct blk_uring *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	close(u->efd);
	free(u);
}

int blk_uring_set_file(struct blk_uring *u, int fd)
{
	int rc = io_uring_register_files_update(&u->ring, 0, &fd, 1);

	return rc < 0 ? rc : 0;
}

bool blk_uring_queue(struct blk_uring *u, struct blk_req *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	unsigned flags = IOSQE_FIXED_FILE;

	if (!sqe)
		return false;
	switch (r->op) {
	case BLK_OP_READ:
		if (r->niov == 1)
			io_uring_prep_read(sqe, 0, r->iov[0].iov_base, (unsigned)r->iov[0].iov_len,
					   r->offset);
		else
			io_uring_prep_readv(sqe, 0, r->iov, r->niov, r->offset);
		break;
	case BLK_OP_WRITE:
		if (r->niov == 1)
			io_uring_prep_write(sqe, 0, r->iov[0].iov_base, (unsigned)r->iov[0].iov_len,
					    r->offset);
		else
			io_uring_prep_writev(sqe, 0, r->iov, r->niov, r->offset);
		break;
	default: /* BLK_OP_FLUSH: after everything submitted before it */
		io_uring_prep_fsync(sqe, 0, IORING_FSYNC_DATASYNC);
		flags |= IOSQE_IO_DRAIN;
		break;
	}
	io_uring_sqe_set_flags(sqe, flags);
	io_uring_sqe_set_data(sqe, r);
	u->queued++;
	return true;
}

int blk_uring_submit(struct blk_uring *u)
{
	int rc;

	if (!u->queued)
		return 0;
	do
		rc = io_uring_submit(&u->ring);
	while (rc == -EINTR);
	if (rc < 0)
		return rc;
	u->queued -= (unsigned)rc < u->queued ? (unsigned)rc : u->queued;
	u->inflight += (unsigned)rc;
	return 0;
}

unsigned blk_uring_reap(struct blk_uring *u, blk_uring_done_fn done, void *opaque)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	uint64_t v;

	/* first: a CQE posted after this read signals again */
	if (read(u->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	io_uring_for_each_cqe(&u->ring, head, cqe)
	{
		done(opaque, io_uring_cqe_get_data(cqe), cqe->res);
		n++;
	}
	io_uring_cq_advance(&u->ring, n);
	u->inflight -= n < u->inflight ? n : u->inflight;
	return n;
}
