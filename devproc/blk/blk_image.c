/* The image interface's wrappers and helpers, and the raw format. See
 * blk_image.h. Only preadv, pwritev, fdatasync and lseek(SEEK_END): the
 * calls blk.policy allows. */
#include "blk_image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECTOR 512u

uint64_t blk_iov_len(const struct iovec *iov, unsigned n)
{
	uint64_t len = 0;

	for (unsigned i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

unsigned blk_iov_slice(const struct iovec *src, unsigned n, uint64_t skip, uint64_t len,
		       struct iovec *dst)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && len; i++) {
		uint64_t take;

		if (skip >= src[i].iov_len) {
			skip -= src[i].iov_len;
			continue;
		}
		take = src[i].iov_len - skip < len ? src[i].iov_len - skip : len;
		dst[k++] = (struct iovec){(uint8_t *)src[i].iov_base + skip, take};
		len -= take;
		skip = 0;
	}
	return k;
}

void blk_iov_to_buf(const struct iovec *iov, unsigned n, uint8_t *buf)
{
	for (unsigned i = 0; i < n; i++) {
		memcpy(buf, iov[i].iov_base, iov[i].iov_len);
		buf += iov[i].iov_len;
	}
}

void blk_iov_from_buf(const struct iovec *iov, unsigned n, const uint8_t *buf)
{
	for (unsigned i = 0; i < n; i++) {
		memcpy(iov[i].iov_base, buf, iov[i].iov_len);
		buf += iov[i].iov_len;
	}
}

void blk_iov_zero(const struct iovec *iov, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		memset(iov[i].iov_base, 0, iov[i].iov_len);
}

/* The vector loop on a private copy of the iovec (so a short transfer can
 * advance it). At most IOV_MAX entries a call, as the kernel wants. */
int blk_io_full(int fd, const struct iovec *iov, unsigned n, uint64_t off, bool write)
{
	struct iovec stack[16], *v = stack, *heap = NULL;
	int rc = 0;

	if (n > 16) {
		heap = malloc(n * sizeof(*heap));
		if (!heap)
			return -ENOMEM;
		v = heap;
	}
	memcpy(v, iov, n * sizeof(*v));
	while (n) {
		int cnt = n > 1024 ? 1024 : (int)n;
		ssize_t k =
		    write ? pwritev(fd, v, cnt, (off_t)off) : preadv(fd, v, cnt, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = -errno;
			break;
		}
		if (k == 0 && v->iov_len) {
			rc = -EIO;
			break;
		}
		off += (uint64_t)k;
		while (n && (size_t)k >= v->iov_len) {
			k -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (n) {
			v->iov_base = (uint8_t *)v->iov_base + k;
			v->iov_len -= (size_t)k;
		}
	}
	free(heap);
	return rc;
}

int blk_pread(int fd, void *buf, uint64_t len, uint64_t off)
{
	struct iovec v = {buf, len};

	return blk_io_full(fd, &v, 1, off, false);
}

int blk_pwrite(int fd, const void *buf, uint64_t len, uint64_t off)
{
	struct iovec v = {(void *)buf, len};

	return blk_io_full(fd, &v, 1, off, true);
}

int64_t blk_pread_upto(int fd, void *buf, uint64_t len, uint64_t off)
{
	uint64_t done = 0;

	while (done < len) {
		struct iovec v = {(uint8_t *)buf + done, len - done};
		ssize_t k = preadv(fd, &v, 1, (off_t)(off + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		done += (uint64_t)k;
	}
	return (int64_t)done;
}

/* -- the wrappers ----------------------------------------------------- */

static bool range_ok(const struct blk_image *img, uint64_t off, uint64_t len)
{
	return off % SECTOR == 0 && len % SECTOR == 0 && off <= img->size && len <= img->size - off;
}

int blk_image_read(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off)
{
	if (!range_ok(img, off, blk_iov_len(iov, n)))
		return -EINVAL;
	return img->ops->read(img, iov, n, off);
}

int blk_image_write(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off)
{
	if (img->read_only)
		return -EROFS;
	if (!range_ok(img, off, blk_iov_len(iov, n)))
		return -EINVAL;
	return img->ops->write(img, iov, n, off);
}

int blk_image_flush(struct blk_image *img)
{
	return img->ops->flush(img);
}

int blk_image_discard(struct blk_image *img, uint64_t off, uint64_t len)
{
	if (img->read_only)
		return -EROFS;
	if (!range_ok(img, off, len))
		return -EINVAL;
	return len ? img->ops->discard(img, off, len) : 0;
}

int blk_image_write_zeroes(struct blk_image *img, uint64_t off, uint64_t len)
{
	if (img->read_only)
		return -EROFS;
	if (!range_ok(img, off, len))
		return -EINVAL;
	return len ? img->ops->write_zeroes(img, off, len) : 0;
}

int blk_image_info(struct blk_image *img, struct blk_image_info *out)
{
	memset(out, 0, sizeof(*out));
	return img->ops->info(img, out);
}

void blk_image_close(struct blk_image *img)
{
	if (img)
		img->ops->close(img);
}

int blk_image_read_clamped(struct blk_image *img, uint8_t *buf, uint64_t len, uint64_t off)
{
	uint64_t have = 0;
	struct iovec v;
	int rc;

	if (img && off < img->size)
		have = img->size - off < len ? img->size - off : len;
	memset(buf + have, 0, len - have);
	if (!have)
		return 0;
	v = (struct iovec){buf, have};
	/* straight to the op, not blk_image_read: a backing's size need not
	 * be whole sectors, and every format reads at any byte offset */
	rc = img->ops->read(img, &v, 1, off);
	return rc;
}

/* -- raw ---------------------------------------------------------------- */

struct raw_image {
	struct blk_image img;
	int fd;
};

static int raw_read(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off)
{
	struct raw_image *r = (struct raw_image *)img;

	return blk_io_full(r->fd, iov, n, off, false);
}

static int raw_write(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off)
{
	struct raw_image *r = (struct raw_image *)img;

	return blk_io_full(r->fd, iov, n, off, true);
}

static int raw_flush(struct blk_image *img)
{
	struct raw_image *r = (struct raw_image *)img;

	return fdatasync(r->fd) < 0 ? -errno : 0;
}

/* Nothing: fallocate (punching a hole) is not in moat-blk's filter, and
 * discard promises nothing about what is read back. */
static int raw_discard(struct blk_image *img, uint64_t off, uint64_t len)
{
	(void)img;
	(void)off;
	(void)len;
	return 0;
}

/* Plain zero writes, 64 KiB at a time. */
static int raw_write_zeroes(struct blk_image *img, uint64_t off, uint64_t len)
{
	struct raw_image *r = (struct raw_image *)img;
	static const uint8_t zeros[65536];
	int rc = 0;

	while (len && rc == 0) {
		uint64_t k = len < sizeof(zeros) ? len : sizeof(zeros);

		rc = blk_pwrite(r->fd, zeros, k, off);
		off += k;
		len -= k;
	}
	return rc;
}

static int raw_info(struct blk_image *img, struct blk_image_info *out)
{
	out->format = "raw";
	out->size = img->size;
	out->allocated = img->size;
	return 0;
}

static void raw_close(struct blk_image *img)
{
	free(img);
}

static const struct blk_image_ops raw_ops = {
    .read = raw_read,
    .write = raw_write,
    .flush = raw_flush,
    .discard = raw_discard,
    .write_zeroes = raw_write_zeroes,
    .info = raw_info,
    .close = raw_close,
};

int blk_raw_open(int fd, bool read_only, uint64_t size, struct blk_image **out)
{
	struct raw_image *r;

	if (fd < 0)
		return -EBADF;
	if (!size) {
		off_t end = lseek(fd, 0, SEEK_END);

		if (end < 0)
			return -errno;
		size = (uint64_t)end;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->img = (struct blk_image){&raw_ops, size, read_only};
	r->fd = fd;
	*out = &r->img;
	return 0;
}

void blk_image_verr(char *err, size_t errlen, const char *prefix, const char *fmt, va_list ap)
{
	int k;

	if (!err || !errlen)
		return;
	k = snprintf(err, errlen, "%s: ", prefix);
	if (k > 0 && (size_t)k < errlen)
		vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
}

int blk_image_ro_write(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off)
{
	(void)img, (void)iov, (void)n, (void)off;
	return -EROFS;
}

int blk_image_ro_flush(struct blk_image *img)
{
	(void)img;
	return 0;
}

int blk_image_ro_discard(struct blk_image *img, uint64_t off, uint64_t len)
{
	(void)img, (void)off, (void)len;
	return -EROFS;
}
