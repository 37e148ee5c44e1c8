/* virtio-blk requests (virtio spec 5.2.6): parsing a descriptor chain into
 * what to do, and doing it against the image. The chain is arbitrary guest
 * input that vq_pop() has bounds-checked (every buffer lies in guest RAM):
 * here the layout is checked. Per the spec the device assumes no framing
 * (2.6.4): the header is the first 16 readable bytes wherever they lie,
 * the status is the last writable byte, and data may share buffers with
 * either. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtqueue.h"

struct blk_image;

#define BLK_SECTOR     512u
#define BLK_HDR_LEN    16u		  /* le32 type, le32 reserved, le64 sector */
#define BLK_SERIAL_LEN 20u		  /* VIRTIO_BLK_ID_BYTES */
#define BLK_SEG_MAX    (VQ_MAX_CHAIN - 2) /* data buffers: header and status aside */
/* O_DIRECT: the alignment of memory and lengths a request must have to go
 * to the image as it is (the offset is a whole sector already). What the
 * host's file system wants may be more (a disk of 4 KiB sectors): the
 * kernel then refuses with EINVAL, and the request goes through the
 * bounce buffer (blk_req.c). */
#define BLK_DIO_ALIGN 512u
/* DISCARD and WRITE_ZEROES (offered with an image format: qcow2): one
 * segment a request, so much at most. The guest picks the range, and an
 * image's cost is a step a cluster (blk_image.h): 8 MiB is 128 steps with
 * qcow2's default 64 KiB clusters, 16384 with 512-byte ones. */
#define BLK_MAX_DISCARD_SECTORS 16384u

/* The image as the device sees it. fd -1 is an empty medium (a disk
 * swapped to none): READ and WRITE fail with IOERR, GET_ID still answers,
 * FLUSH succeeds (nothing of an earlier medium is left unwritten: the
 * model synced it when it took it out). */
struct blk_disk {
	int fd;			     /* not owned; -1: no medium */
	/* NULL: a raw image, read and written on fd as it is. Else the
	 * image's format (blk_image.h: qcow2) over fd, which requests go
	 * through (never O_DIRECT, never io_uring). Not owned. */
	struct blk_image *img;
	uint64_t sectors;	     /* capacity in 512-byte sectors; 0 without a medium */
	bool read_only;		     /* writes fail: the device is read-only, or the medium is */
	bool direct;		     /* fd is O_DIRECT (cache=none): buffers must be aligned */
	/* a probed raw image (BlkConfig.probed_raw): a write to sector 0
	 * that would make it probe as another format fails with IOERR */
	bool guard_sector0;
	char serial[BLK_SERIAL_LEN]; /* zero-padded, not NUL-terminated when full */
};

enum blk_op {
	BLK_OP_DONE,   /* nothing to do but report status (an error, UNSUPP) */
	BLK_OP_READ,   /* preadv into iov */
	BLK_OP_WRITE,  /* pwritev from iov */
	BLK_OP_FLUSH,  /* fdatasync, after earlier writes (blk_pool.h) */
	BLK_OP_GET_ID, /* the serial into iov */
	/* a disk with an image format only (blk_disk.img), offset and len
	 * the range (one segment, at most BLK_MAX_DISCARD_SECTORS) */
	BLK_OP_DISCARD,
	BLK_OP_WRITE_ZEROES,
};

/* Does op change the disk's content (so a later flush must wait for it,
 * blk_pool.h)? */
static inline bool blk_op_changes(enum blk_op op)
{
	return op == BLK_OP_WRITE || op == BLK_OP_DISCARD || op == BLK_OP_WRITE_ZEROES;
}

/* One request. The pool and model fields are theirs; parse fills the rest. */
struct blk_req {
	enum blk_op op;
	uint32_t type;	   /* VIRTIO_BLK_T_*, as the guest sent it */
	uint8_t status;	   /* VIRTIO_BLK_S_*: the result so far */
	uint8_t *status_p; /* the status byte in guest RAM */
	uint32_t used_len; /* for vq_push: every writable byte, status included */
	uint64_t offset;   /* in the image, bytes */
	uint64_t len;	   /* data bytes in iov */

	/* owner bookkeeping (blk_model.c, blk_pool.c) */
	uint16_t head;
	unsigned queue;
	uint64_t gen;
	uint64_t seq;
	struct blk_req *next;	       /* pool FIFO */
	struct blk_req *wprev, *wnext; /* pool: writes not yet finished */

	unsigned niov;
	struct iovec iov[]; /* room for the chain's buffer count */
};

/* Bytes to allocate for a request parsed from chain c. */
static inline uint64_t blk_req_size(const struct vq_chain *c)
{
	return sizeof(struct blk_req) + (uint64_t)c->n * sizeof(struct iovec);
}

/* Parse chain c for disk into r (allocated with blk_req_size(c) bytes;
 * the owner fields are left alone). Returns 0 with r->op set (and, for
 * BLK_OP_DONE, r->status the error to report), or -EBADMSG when the
 * chain has no room for a header or a status byte: nothing can be
 * reported, and the caller returns the chain with 0 bytes written. */
int blk_req_parse(const struct vq_chain *c, const struct blk_disk *disk, struct blk_req *r);

/* Do r (any op) against disk, then store its status byte in guest RAM.
 * Blocking I/O: called from the worker pool or, for BLK_OP_DONE and
 * BLK_OP_GET_ID, inline. */
void blk_req_execute(const struct blk_disk *disk, struct blk_req *r);

/* Is r a write that sector 0's guard must see (blk_disk.guard_sector0)?
 * It runs on the worker pool, never in io_uring. */
bool blk_req_guarded(const struct blk_disk *disk, const struct blk_req *r);

/* Can r (READ or WRITE) go to an O_DIRECT image as it is: are its buffers
 * aligned? Always true when disk is not direct. */
bool blk_req_direct_ok(const struct blk_disk *disk, const struct blk_req *r);
/* r (READ, WRITE or FLUSH) was run elsewhere (io_uring) with result res
 * (bytes or -errno): store its status byte. A read or write that came
 * back short or refused (EINVAL from O_DIRECT, EAGAIN, ECANCELED) is run
 * again here, blocking, as blk_req_execute does. */
void blk_req_finish(const struct blk_disk *disk, struct blk_req *r, int res);
