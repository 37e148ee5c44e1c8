/* The disk a vmdk descriptor file describes: its extents laid end to end
 * as one read-only blk_image. A request is split at extent boundaries and
 * each piece goes to its extent: a pread for FLAT, vmdk.h for SPARSE,
 * zeros for ZERO. See vmdk_desc.h. */
#include "vmdk_desc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdk.h"

#define SECTOR 512u

struct piece {
	enum vmdk_extent_type type;
	bool no_access;
	uint64_t start, len;	  /* bytes of the disk */
	uint64_t file_off;	  /* FLAT: bytes into fd */
	int fd;			  /* FLAT */
	struct blk_image *sparse; /* SPARSE, owned */
};

struct vmdk_desc_image {
	struct blk_image img;
	unsigned n;
	struct piece p[];
};

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int rc,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	blk_image_verr(err, errlen, "vmdk descriptor", fmt, ap);
	va_end(ap);
	return rc;
}

/* The extent holding disk byte pos (pos < size). */
static const struct piece *find(const struct vmdk_desc_image *v, uint64_t pos)
{
	unsigned lo = 0, hi = v->n;

	while (hi - lo > 1) {
		unsigned mid = lo + (hi - lo) / 2;

		if (v->p[mid].start <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return &v->p[lo];
}

static int read_piece(const struct piece *x, const struct iovec *iov, unsigned n, uint64_t in)
{
	if (x->no_access)
		return -EIO;
	switch (x->type) {
	case VMDK_EXTENT_FLAT:
		/* blk_io_full: -EIO when the file ends before the piece does */
		return blk_io_full(x->fd, iov, n, x->file_off + in, false);
	case VMDK_EXTENT_SPARSE:
		/* the op, not blk_image_read: a read of this image as a
		 * backing may come at any byte offset (blk_image.h) */
		return x->sparse->ops->read(x->sparse, iov, n, in);
	case VMDK_EXTENT_ZERO:
		blk_iov_zero(iov, n);
		return 0;
	}
	return -EIO;
}

static int vd_read(struct blk_image *img, const struct iovec *iov, unsigned n, uint64_t off)
{
	struct vmdk_desc_image *v = (struct vmdk_desc_image *)img;
	uint64_t len = blk_iov_len(iov, n), done = 0;
	struct iovec *sl;
	int rc = 0;

	sl = malloc((n ? n : 1) * sizeof(*sl));
	if (!sl)
		return -ENOMEM;
	while (rc == 0 && done < len) {
		const struct piece *x = find(v, off + done);
		uint64_t in = off + done - x->start;
		uint64_t k = x->len - in < len - done ? x->len - in : len - done;
		unsigned m = blk_iov_slice(iov, n, done, k, sl);

		rc = read_piece(x, sl, m, in);
		done += k;
	}
	free(sl);
	return rc;
}

/* allocated: what the FLAT extents span plus what the SPARSE files hold
 * (ZERO extents take no room). */
static int vd_info(struct blk_image *img, struct blk_image_info *out)
{
	struct vmdk_desc_image *v = (struct vmdk_desc_image *)img;

	out->format = "vmdk";
	out->version = 1;
	out->size = img->size;
	for (unsigned i = 0; i < v->n; i++) {
		struct blk_image_info si;

		if (v->p[i].type == VMDK_EXTENT_FLAT)
			out->allocated += v->p[i].len;
		else if (v->p[i].sparse && blk_image_info(v->p[i].sparse, &si) == 0)
			out->allocated += si.allocated;
	}
	return 0;
}

static void vd_close(struct blk_image *img)
{
	struct vmdk_desc_image *v = (struct vmdk_desc_image *)img;

	for (unsigned i = 0; i < v->n; i++)
		blk_image_close(v->p[i].sparse);
	free(v);
}

static const struct blk_image_ops vd_ops = {
    .read = vd_read,
    .write = blk_image_ro_write,
    .flush = blk_image_ro_flush,
    .discard = blk_image_ro_discard,
    .write_zeroes = blk_image_ro_discard,
    .info = vd_info,
    .close = vd_close,
};

/* What the parser guarantees, checked again: the caller may have built
 * d by hand (or kept it in memory the guest could not reach, but the
 * check is cheap). */
static int check_desc(const struct vmdk_desc *d, char *err, size_t errlen)
{
	uint64_t total = 0;

	if (d->n == 0 || d->n > VMDK_DESC_MAX_EXTENTS)
		return fail(err, errlen, -EINVAL, "%u extents (1..%d)", d->n,
			    VMDK_DESC_MAX_EXTENTS);
	for (unsigned i = 0; i < d->n; i++) {
		const struct vmdk_extent_desc *x = &d->ext[i];

		if (x->type != VMDK_EXTENT_FLAT && x->type != VMDK_EXTENT_SPARSE &&
		    x->type != VMDK_EXTENT_ZERO)
			return fail(err, errlen, -EINVAL, "extent %u: unknown type %d", i,
				    (int)x->type);
		if (x->sectors == 0 || x->sectors > (1ull << 52) - total)
			return fail(err, errlen, -EINVAL,
				    "extent %u: 0 sectors, or extents past 2^52 sectors", i);
		if (x->type == VMDK_EXTENT_FLAT &&
		    (x->offset > (1ull << 54) || x->sectors > (1ull << 54) - x->offset))
			return fail(err, errlen, -EINVAL,
				    "extent %u: FLAT extent ends past 2^63 bytes", i);
		total += x->sectors;
	}
	return 0;
}

/* Extent i's piece; a SPARSE one opened through vmdk.h. */
static int open_piece(struct vmdk_desc_image *v, const struct vmdk_desc *d, unsigned i, int fd,
		      uint64_t start, char *err, size_t errlen)
{
	const struct vmdk_extent_desc *x = &d->ext[i];
	struct piece *p = &v->p[i];
	char why[256];
	int rc;

	*p = (struct piece){.type = x->type,
			    .no_access = x->access == VMDK_ACCESS_NOACCESS,
			    .start = start,
			    .len = x->sectors * SECTOR,
			    .file_off = x->offset * SECTOR,
			    .fd = -1};
	if (x->type == VMDK_EXTENT_ZERO || p->no_access)
		return 0;
	if (fd < 0)
		return fail(err, errlen, -EBADF, "extent %u (%.64s): no file descriptor", i,
			    x->name);
	p->fd = fd;
	if (x->type == VMDK_EXTENT_FLAT)
		return 0;
	rc = vmdk_open_extent(
	    &(struct vmdk_open_args){
		.fd = fd, .read_only = true, .err = why, .errlen = sizeof(why)},
	    x->sectors, &p->sparse);
	if (rc < 0)
		return fail(err, errlen, rc, "extent %u (%.64s): %s", i, x->name, why);
	return 0;
}

int vmdk_desc_open(const struct vmdk_desc *d, const int *fds, unsigned nfds, bool read_only,
		   struct blk_image **out, char *err, size_t errlen)
{
	struct vmdk_desc_image *v;
	uint64_t start = 0;
	int rc;

	if (err && errlen)
		err[0] = 0;
	if (!read_only)
		return fail(err, errlen, -ENOTSUP, "vmdk images are read-only in moat: add ro");
	rc = check_desc(d, err, errlen);
	if (rc < 0)
		return rc;
	if (nfds != d->n)
		return fail(err, errlen, -EBADF, "%u file descriptors for %u extents", nfds, d->n);
	if (d->has_parent)
		return fail(err, errlen, -ENOTSUP,
			    "a parent (parentFileNameHint %.64s) is not supported for a "
			    "descriptor file",
			    d->parent_hint);
	v = calloc(1, sizeof(*v) + d->n * sizeof(v->p[0]));
	if (!v)
		return -ENOMEM;
	v->img = (struct blk_image){&vd_ops, 0, true};
	for (unsigned i = 0; i < d->n; i++) {
		v->n = i + 1; /* so that a failure closes what was opened */
		rc = open_piece(v, d, i, fds[i], start, err, errlen);
		if (rc < 0) {
			vd_close(&v->img);
			return rc;
		}
		start += v->p[i].len;
	}
	v->img.size = start;
	*out = &v->img;
	return 0;
}
