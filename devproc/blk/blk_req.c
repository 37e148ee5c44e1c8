/* virtio-blk request parsing and execution. See blk_req.h. */
#include "blk_req.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_blk.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk_image.h"
#include "blk_probe.h"

/* The last writable byte of the chain, or NULL if it has none. Zero-length
 * buffers are skipped: they hold no byte. */
static uint8_t *status_byte(const struct vq_chain *c)
{
	for (unsigned i = c->n; i > c->n_out; i--) {
		const struct vq_buf *b = &c->e[i - 1];
		if (b->len)
			return (uint8_t *)b->ptr + b->len - 1;
	}
	return NULL;
}

/* Point r->iov at len bytes of buffers [first, last) of c, skipping the
 * first skip bytes of them (a byte stream, as in vq_chain_read). */
static void build_iov(struct blk_req *r, const struct vq_chain *c, unsigned first, unsigned last,
		      uint64_t skip, uint64_t len)
{
	r->niov = 0;
	r->len = len;
	for (unsigned i = first; i < last && len; i++) {
		const struct vq_buf *b = &c->e[i];
		uint64_t k;

		if (skip >= b->len) {
			skip -= b->len;
			continue;
		}
		k = b->len - skip < len ? b->len - skip : len;
		r->iov[r->niov++] = (struct iovec){(uint8_t *)b->ptr + skip, k};
		len -= k;
		skip = 0;
	}
}

/* Data of an IN or OUT request: whole sectors, all inside the disk. */
static bool range_ok(const struct blk_disk *disk, uint64_t sector, uint64_t len)
{
	return len % BLK_SECTOR == 0 && sector <= disk->sectors &&
	       len / BLK_SECTOR <= disk->sectors - sector;
}

/* DISCARD or WRITE_ZEROES (5.2.6: after the header, segments of le64
 * sector, le32 num_sectors, le32 flags): only with an image format (the
 * features are offered with one alone; a raw disk answers UNSUPP, as a
 * driver that ignores the features deserves), one segment, within the
 * disk and BLK_MAX_DISCARD_SECTORS; flags: unmap (bit 0) for
 * WRITE_ZEROES only, nothing else. Called with r->status OK. */
static int parse_range_op(const struct vq_chain *c, const struct blk_disk *disk,
			  struct blk_req *r)
{
	uint8_t seg[16];
	uint64_t sector;
	uint32_t num, flags;
	bool zeroes = r->type == VIRTIO_BLK_T_WRITE_ZEROES;

	if (!disk->img) {
		r->status = VIRTIO_BLK_S_UNSUPP;
		return 0;
	}
	if (c->out_bytes != BLK_HDR_LEN + sizeof(seg) ||
	    vq_chain_read(c, BLK_HDR_LEN, seg, sizeof(seg)) != sizeof(seg)) {
		r->status = VIRTIO_BLK_S_IOERR; /* none, or more than one segment */
		return 0;
	}
	memcpy(&sector, seg, 8);
	memcpy(&num, seg + 8, 4);
	memcpy(&flags, seg + 12, 4);
	sector = le64toh(sector);
	num = le32toh(num);
	flags = le32toh(flags);
	if (flags & ~(uint32_t)(zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0)) {
		r->status = VIRTIO_BLK_S_UNSUPP;
		return 0;
	}
	if (disk->fd < 0 || disk->read_only || num > BLK_MAX_DISCARD_SECTORS ||
	    !range_ok(disk, sector, (uint64_t)num * BLK_SECTOR)) {
		r->status = VIRTIO_BLK_S_IOERR;
		return 0;
	}
	r->offset = sector * BLK_SECTOR;
	r->len = (uint64_t)num * BLK_SECTOR;
	r->op = zeroes ? BLK_OP_WRITE_ZEROES : BLK_OP_DISCARD;
	return 0;
}

int blk_req_parse(const struct vq_chain *c, const struct blk_disk *disk, struct blk_req *r)
{
	uint8_t hdr[BLK_HDR_LEN];
	uint64_t sector, in_data;
	unsigned n_out = c->n_out < c->n ? c->n_out : c->n;

	r->status_p = status_byte(c);
	/* The header is copied once: the guest may change it under us. */
	if (!r->status_p || vq_chain_read(c, 0, hdr, sizeof(hdr)) != sizeof(hdr))
		return -EBADMSG;
	memcpy(&r->type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	r->type = le32toh(r->type);
	sector = le64toh(sector);
	in_data = c->in_bytes - 1; /* writable bytes before the status */
	r->used_len = c->in_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)c->in_bytes;
	r->status = VIRTIO_BLK_S_OK;
	r->op = BLK_OP_DONE;
	r->niov = 0;
	r->len = 0;
	r->offset = sector * BLK_SECTOR; /* meaningful only once range_ok */

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		if (disk->fd < 0 || !range_ok(disk, sector, in_data))
			break;
		build_iov(r, c, n_out, c->n, 0, in_data);
		r->op = BLK_OP_READ;
		return 0;
	case VIRTIO_BLK_T_OUT:
		/* 5.2.6.2: a read-only device fails writes, and writes nothing */
		if (disk->fd < 0 || disk->read_only ||
		    !range_ok(disk, sector, c->out_bytes - BLK_HDR_LEN))
			break;
		build_iov(r, c, 0, n_out, BLK_HDR_LEN, c->out_bytes - BLK_HDR_LEN);
		r->op = BLK_OP_WRITE;
		return 0;
	case VIRTIO_BLK_T_FLUSH:
		/* no medium: nothing to flush (blk_disk), done here with OK */
		if (disk->fd >= 0)
			r->op = BLK_OP_FLUSH;
		return 0;
	case VIRTIO_BLK_T_GET_ID:
		build_iov(r, c, n_out, c->n, 0,
			  in_data < BLK_SERIAL_LEN ? in_data : BLK_SERIAL_LEN);
		r->op = BLK_OP_GET_ID;
		return 0;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return parse_range_op(c, disk, r);
	default:
		r->status = VIRTIO_BLK_S_UNSUPP;
		return 0;
	}
	r->status = VIRTIO_BLK_S_IOERR;
	return 0;
}

/* The bounce buffer of a misaligned request on an O_DIRECT image: so
 * much at a time. The guest chooses the buffers; O_DIRECT refuses
 * unaligned ones with EINVAL, and the sandbox cannot open the image again
 * without O_DIRECT, so such a request is copied through aligned memory of
 * ours instead (rare: Linux guests align their buffers). */
#define BOUNCE_MAX   (256u * 1024)
#define BOUNCE_ALIGN 4096u

/* Copy len bytes between buf and the iovec array (*iov, *n), advancing it. */
static void iov_copy(struct iovec **iov, unsigned *n, uint8_t *buf, size_t len, bool to_buf)
{
	while (len && *n) {
		size_t k = (*iov)->iov_len < len ? (*iov)->iov_len : len;

		if (to_buf)
			memcpy(buf, (*iov)->iov_base, k);
		else
			memcpy((*iov)->iov_base, buf, k);
		buf += k;
		len -= k;
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + k;
		(*iov)->iov_len -= k;
		if (!(*iov)->iov_len) {
			(*iov)++;
			(*n)--;
		}
	}
}

/* pread/pwrite all of buf at off. 0 or -errno (-EIO at the image's end). */
static int io_full(int fd, uint8_t *buf, size_t len, uint64_t off, bool write)
{
	while (len) {
		/* the vector calls: the ones blk.policy allows */
		struct iovec v = {buf, len};
		ssize_t k = write ? pwritev(fd, &v, 1, (off_t)off) : preadv(fd, &v, 1, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;
		buf += k;
		len -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

/* The rest of a request (iov, n from off) through an aligned buffer. */
static int rw_bounce(const struct blk_disk *disk, struct iovec *iov, unsigned n, uint64_t off,
		     bool write)
{
	uint64_t left = 0;
	uint8_t *buf;
	int rc = 0;

	for (unsigned i = 0; i < n; i++)
		left += iov[i].iov_len;
	if (posix_memalign((void **)&buf, BOUNCE_ALIGN, left < BOUNCE_MAX ? left : BOUNCE_MAX))
		return -ENOMEM;
	while (left && rc == 0) {
		size_t k = left < BOUNCE_MAX ? (size_t)left : BOUNCE_MAX;

		if (write)
			iov_copy(&iov, &n, buf, k, true);
		rc = io_full(disk->fd, buf, k, off, write);
		if (rc == 0 && !write)
			iov_copy(&iov, &n, buf, k, false);
		off += k;
		left -= k;
	}
	free(buf);
	return rc;
}

bool blk_req_direct_ok(const struct blk_disk *disk, const struct blk_req *r)
{
	if (!disk->direct)
		return true;
	for (unsigned i = 0; i < r->niov; i++)
		if ((uintptr_t)r->iov[i].iov_base % BLK_DIO_ALIGN ||
		    r->iov[i].iov_len % BLK_DIO_ALIGN)
			return false;
	return true;
}

/* preadv/pwritev until all of r's iov is done. 0 or -errno; -EIO when the
 * image ends early (someone shrank it under us). Advances r->iov. On an
 * O_DIRECT image, misaligned buffers (or what the kernel refuses as such)
 * go through the bounce buffer. */
static int rw_all(const struct blk_disk *disk, struct blk_req *r, bool write)
{
	struct iovec *iov = r->iov;
	unsigned n = r->niov;
	uint64_t off = r->offset;

	if (!blk_req_direct_ok(disk, r))
		return rw_bounce(disk, iov, n, off, write);
	while (n) {
		ssize_t k = write ? pwritev(disk->fd, iov, (int)n, (off_t)off)
				  : preadv(disk->fd, iov, (int)n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EINVAL && disk->direct)
			return rw_bounce(disk, iov, n, off, write);
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;
		off += (uint64_t)k;
		while (n && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return 0;
}

bool blk_req_guarded(const struct blk_disk *disk, const struct blk_req *r)
{
	return disk->guard_sector0 && r->op == BLK_OP_WRITE && r->offset == 0;
}

/* A write to sector 0 of a probed raw image (blk_disk.guard_sector0):
 * sector 0 is copied out of guest RAM once, checked, and written from our
 * copy, so the guest cannot change it between the check and the write.
 * A sector that would probe as qcow2 or vmdk is refused (-EPERM) and
 * nothing is written: QEMU's rule for probed raw images, so that a guest
 * cannot make the next start follow a backing file of its choosing. */
static int guarded_write(const struct blk_disk *disk, struct blk_req *r)
{
	uint8_t sector[BLK_SECTOR] __attribute__((aligned(BLK_SECTOR)));
	struct blk_req *head;
	size_t got = 0;
	int rc;

	if (r->len < sizeof(sector))
		return rw_all(disk, r, true); /* nothing of sector 0 */
	for (unsigned i = 0; i < r->niov && got < sizeof(sector); i++) {
		size_t k = r->iov[i].iov_len < sizeof(sector) - got ? r->iov[i].iov_len
								    : sizeof(sector) - got;
		memcpy(sector + got, r->iov[i].iov_base, k);
		got += k;
	}
	if (blk_probe_format(sector, sizeof(sector)) != BLK_FORMAT_RAW)
		return -EPERM;
	head = malloc(sizeof(*head) + sizeof(struct iovec));
	if (!head)
		return -ENOMEM;
	*head = *r;
	head->niov = 1;
	head->len = sizeof(sector);
	head->iov[0] = (struct iovec){sector, sizeof(sector)};
	rc = rw_all(disk, head, true);
	free(head);
	if (rc < 0 || r->len == sizeof(sector))
		return rc;
	/* the rest, from guest RAM as any write (in place: the slice only
	 * ever moves entries down) */
	r->niov = blk_iov_slice(r->iov, r->niov, sizeof(sector), r->len - sizeof(sector), r->iov);
	r->offset += sizeof(sector);
	r->len -= sizeof(sector);
	return rw_all(disk, r, true);
}

static void copy_serial(const struct blk_disk *disk, struct blk_req *r)
{
	uint64_t done = 0;

	for (unsigned i = 0; i < r->niov; i++) {
		memcpy(r->iov[i].iov_base, disk->serial + done, r->iov[i].iov_len);
		done += r->iov[i].iov_len;
	}
}

/* r (READ, WRITE, FLUSH, DISCARD or WRITE_ZEROES) through the image's
 * format. */
static int image_io(const struct blk_disk *disk, struct blk_req *r)
{
	switch (r->op) {
	case BLK_OP_READ:
		return blk_image_read(disk->img, r->iov, r->niov, r->offset);
	case BLK_OP_WRITE:
		return blk_image_write(disk->img, r->iov, r->niov, r->offset);
	case BLK_OP_DISCARD:
		return blk_image_discard(disk->img, r->offset, r->len);
	case BLK_OP_WRITE_ZEROES:
		return blk_image_write_zeroes(disk->img, r->offset, r->len);
	default:
		return blk_image_flush(disk->img);
	}
}

void blk_req_execute(const struct blk_disk *disk, struct blk_req *r)
{
	if (disk->img && r->op != BLK_OP_DONE && r->op != BLK_OP_GET_ID) {
		if (image_io(disk, r) < 0)
			r->status = VIRTIO_BLK_S_IOERR;
		__atomic_store_n(r->status_p, r->status, __ATOMIC_RELAXED);
		return;
	}
	switch (r->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		if ((blk_req_guarded(disk, r) ? guarded_write(disk, r)
					      : rw_all(disk, r, r->op == BLK_OP_WRITE)) < 0)
			r->status = VIRTIO_BLK_S_IOERR;
		break;
	case BLK_OP_FLUSH:
		if (fdatasync(disk->fd) < 0)
			r->status = VIRTIO_BLK_S_IOERR;
		break;
	case BLK_OP_GET_ID:
		copy_serial(disk, r);
		break;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES: /* parse gives them to image disks alone */
		r->status = VIRTIO_BLK_S_UNSUPP;
		break;
	case BLK_OP_DONE:
		break;
	}
	/* guest-shared: one store, and vq_push's release orders it before
	 * the used index the driver looks at */
	__atomic_store_n(r->status_p, r->status, __ATOMIC_RELAXED);
}

void blk_req_finish(const struct blk_disk *disk, struct blk_req *r, int res)
{
	if ((r->op == BLK_OP_READ || r->op == BLK_OP_WRITE) &&
	    (res < 0 || (uint64_t)res != r->len)) {
		blk_req_execute(disk, r);
		return;
	}
	if (r->op == BLK_OP_FLUSH && res < 0)
		r->status = VIRTIO_BLK_S_IOERR;
	__atomic_store_n(r->status_p, r->status, __ATOMIC_RELAXED);
}
