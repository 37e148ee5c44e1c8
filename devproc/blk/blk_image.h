/* A disk image as moat-blk's request path sees it: bytes at offsets of a
 * virtual disk, whatever the file's format. One ops table per format (raw
 * here, qcow2 in qcow2.h); the request path calls the blk_image_*()
 * wrappers, which check the range once for every format.
 *
 * Descriptors: an image never opens a path. It reads and writes the
 * descriptor it was given (not owned: the caller closes it after
 * blk_image_close), and a backing image is another blk_image the caller
 * made and closes after the image on top of it.
 *
 * Thread and ordering contract (every format):
 * - read, write, discard, write_zeroes, flush, size and info may be called
 *   from several threads at once on the same image; close only when no
 *   other call is running or can start.
 * - Calls that do not overlap are independent. For calls that overlap and
 *   run at the same time, the result in the overlap is that of one of them
 *   or a mix at sector granularity (as on a real disk; virtio-blk asks no
 *   more): never bytes that neither wrote, never another range's data.
 * - A call that has returned is visible to every later call, in any
 *   thread. A write has returned only once everything it needs (data and,
 *   for qcow2, the metadata that points to it) was handed to the kernel
 *   with pwritev: a SIGKILL of the process after that loses nothing.
 * - flush makes durable (fdatasync) every write, discard and write_zeroes
 *   that returned before flush was called; the request path's flush
 *   ordering (blk_pool.h) supplies that "before".
 * - A read of a range allocated nowhere in the chain (nor in the backing,
 *   nor past the backing's end) gives zeros.
 * - discard and write_zeroes cost time in proportion to len (qcow2: one
 *   step a cluster): the request path bounds them (the device's
 *   max_discard_sectors and max_write_zeroes_sectors).
 * Errors are -errno: -EINVAL for a range outside the disk or a misaligned
 * call, -EROFS for a change to a read-only image, -EIO for a malformed
 * image or a failed or short host I/O. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define BLK_IMAGE_NAME_MAX 1024 /* a backing name, NUL included (qcow2: 1023 bytes) */
#define BLK_IMAGE_FMT_MAX  32

struct blk_image;

/* What `moat img info` and the monitor's chain resolution need. Names as
 * the header says, NUL-terminated, not interpreted (never a path that
 * moat-blk opens). */
struct blk_image_info {
	const char *format;    /* "raw", "qcow2" (static) */
	unsigned version;      /* format version; 0 for raw */
	uint64_t size;	       /* virtual size, bytes */
	uint32_t cluster_size; /* 0 for raw */
	bool has_backing;
	char backing_name[BLK_IMAGE_NAME_MAX];
	char backing_format[BLK_IMAGE_FMT_MAX]; /* "" when the header names none */
	uint64_t allocated; /* host bytes in use (qcow2: clusters with a refcount) */
	uint32_t snapshots; /* internal snapshots (qcow2) */
	bool dirty;	    /* qcow2 v3 dirty bit */
};

struct blk_image_ops {
	/* off and the iovec's total length are already checked against the
	 * size (and to be whole sectors); the iovec is not to be modified */
	int (*read)(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off);
	int (*write)(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off);
	int (*flush)(struct blk_image *img);
	/* the range may read back as anything after discard */
	int (*discard)(struct blk_image *img, uint64_t off, uint64_t len);
	int (*write_zeroes)(struct blk_image *img, uint64_t off, uint64_t len);
	int (*info)(struct blk_image *img, struct blk_image_info *out);
	void (*close)(struct blk_image *img);
};

/* The part of every image the wrappers read; formats embed it first. */
struct blk_image {
	const struct blk_image_ops *ops;
	uint64_t size; /* virtual size in bytes, fixed once open */
	bool read_only;
};

/* Open fd as a raw image: the bytes are the disk. size 0: the file's size
 * (lseek SEEK_END, so that a block device works too). fd is not owned. */
int blk_raw_open(int fd, bool read_only, uint64_t size, struct blk_image **out);

/* The wrappers: range and read-only checks, then the format's op. */
int blk_image_read(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off);
int blk_image_write(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off);
int blk_image_flush(struct blk_image *img);
int blk_image_discard(struct blk_image *img, uint64_t off, uint64_t len);
int blk_image_write_zeroes(struct blk_image *img, uint64_t off, uint64_t len);
int blk_image_info(struct blk_image *img, struct blk_image_info *out);
static inline uint64_t blk_image_size(const struct blk_image *img)
{
	return img->size;
}
/* NULL is fine. Closes nothing the image was given (descriptor, backing). */
void blk_image_close(struct blk_image *img);

/* Read len bytes of img at off where img may be shorter than off + len
 * (a backing smaller than its overlay): the part past img's end reads as
 * zeros. img NULL: all zeros. */
int blk_image_read_clamped(struct blk_image *img, uint8_t *buf, uint64_t len, uint64_t off);

/* The ops of a read-only format (the wrappers refuse changes to a
 * read-only image before calling them): write, discard and write_zeroes
 * give -EROFS, flush has nothing to do. */
int blk_image_ro_write(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off);
int blk_image_ro_flush(struct blk_image *img);
int blk_image_ro_discard(struct blk_image *img, uint64_t off, uint64_t len);

/* Helpers shared by the formats. */
/* "PREFIX: " and the message into err (errlen bytes; err NULL: nothing). */
void blk_image_verr(char *err, size_t errlen, const char *prefix, const char *fmt, va_list ap);
uint64_t blk_iov_len(const struct iovec *iov, unsigned n);
/* The len bytes starting skip bytes into (src, n) as an iovec in dst (room
 * for n entries); returns the entry count. */
unsigned blk_iov_slice(const struct iovec *src, unsigned n, uint64_t skip, uint64_t len,
		       struct iovec *dst);
void blk_iov_to_buf(const struct iovec *iov, unsigned n, uint8_t *buf);
void blk_iov_from_buf(const struct iovec *iov, unsigned n, const uint8_t *buf);
void blk_iov_zero(const struct iovec *iov, unsigned n);
/* preadv/pwritev all of (iov, n) at off, iov copied first (not modified).
 * 0 or -errno; -EIO when the file ends early. */
int blk_io_full(int fd, const struct iovec *iov, unsigned n, uint64_t off, bool write);
/* pread/pwrite of one buffer, same rules. */
int blk_pread(int fd, void *buf, uint64_t len, uint64_t off);
int blk_pwrite(int fd, const void *buf, uint64_t len, uint64_t off);
/* pread as much as the file has, up to len: bytes read or -errno. */
int64_t blk_pread_upto(int fd, void *buf, uint64_t len, uint64_t off);
