/* moat-blk's io_uring backend: the requests of one notify are queued on
 * the ring and go to the kernel in one io_uring_enter; completions come
 * back on the loop thread (the ring's eventfd is polled with the queue's
 * notify eventfd), are pushed together and interrupt the guest once.
 *
 * Set-up happens before the sandbox is entered (blk_uring_open, from the
 * kind's sandbox hook: io_uring_setup is not in the run-phase policy).
 * The ring is created disabled, gets a one-slot file table (sparse: the
 * image descriptor is not there yet, and goes into slot 0 with
 * blk_uring_set_file) and the eventfd, then restrictions, then it is
 * enabled. From then on the kernel refuses, with -EACCES in the CQE, any
 * opcode but READV, WRITEV, READ, WRITE and FSYNC, any request without
 * IOSQE_FIXED_FILE (no descriptor of the process's table can be reached
 * through the ring), any flag but IOSQE_IO_DRAIN, and any register
 * operation but IORING_REGISTER_FILES_UPDATE (the image going into slot 0,
 * at start and at a disk swap). No SQPOLL: the kernel runs no thread of
 * ours that polls.
 *
 * FLUSH keeps blk_pool.h's rule (it covers every write submitted before
 * it) with IOSQE_IO_DRAIN: the fsync starts only once everything
 * submitted earlier has completed, and its CQE comes after theirs, so it
 * is pushed after them too.
 *
 * Single-threaded: only the loop thread calls these. */
#pragma once

#include <liburing.h>
#include <stdbool.h>

#include "blk_req.h"

struct blk_uring {
	struct io_uring ring;
	int efd;	   /* the ring's eventfd: readable when a CQE was posted */
	unsigned queued;   /* SQEs prepared, not yet submitted */
	unsigned inflight; /* submitted, no CQE seen yet */
};

/* Tests: when non-zero, blk_uring_open fails as if io_uring_setup had
 * returned this -errno (-ENOSYS, -EPERM), to exercise the fallback. */
extern int blk_uring_test_setup_error;

/* Set up a ring for up to entries requests in flight, as above. 0 and
 * *out, or -errno (io_uring missing, disabled by the sysctl, or the kernel
 * too old for restrictions); nothing is left open then. */
int blk_uring_open(struct blk_uring **out, unsigned entries);
/* Close the ring (requests in flight finish in the kernel first: the
 * ring's teardown waits for them) and the eventfd. NULL is fine. */
void blk_uring_close(struct blk_uring *u);

/* Put fd (-1: none) in the ring's file slot 0. 0 or -errno. */
int blk_uring_set_file(struct blk_uring *u, int fd);

/* Queue r (READ, WRITE or FLUSH) against slot 0; r is pointed to by the
 * CQE's user_data. false if the submission queue is full (the caller runs
 * r another way). */
bool blk_uring_queue(struct blk_uring *u, struct blk_req *r);
/* Hand what was queued to the kernel. 0 or -errno (the requests stay
 * queued: a later call retries). */
int blk_uring_submit(struct blk_uring *u);

/* Called for each completed request with the CQE's res (bytes, or
 * -errno). */
typedef void (*blk_uring_done_fn)(void *opaque, struct blk_req *r, int res);
/* Clear the eventfd, then take every CQE posted (in order); how many. */
unsigned blk_uring_reap(struct blk_uring *u, blk_uring_done_fn done, void *opaque);
