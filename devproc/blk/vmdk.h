/* vmdk hosted sparse extents (VMware's "Virtual Disk Format" 1.1: the
 * "KDMV" header, versions 1..3) as a read-only blk_image, parsed inside
 * moat-blk's sandbox: the file is hostile.
 *
 * Supported: monolithicSparse (one sparse extent with its descriptor
 * embedded) and streamOptimized (the same, its grains deflate-compressed
 * with a marker before each, its header possibly in a footer at the end of
 * the file); grains of the header's size (a power of two, 512 B..1 MiB);
 * the grain directory and grain tables; unallocated grains read as zeros,
 * or from the backing image when the descriptor names a parent
 * (parentFileNameHint, reported in info's backing_name; the caller opens
 * it and passes it as a blk_image; without one, such an image opens
 * read-only for info, and a read of an unallocated grain gives -EIO);
 * zero grains (a grain table entry of 1, in version 2 and later or with
 * the zero-grain flag).
 *
 * The grain directory used is the primary one (gdOffset); the redundant
 * copy is neither read nor compared.
 *
 * Refused at open with one line in args->err:
 * - writable: -ENOTSUP ("vmdk images are read-only in moat: add ro");
 * - a descriptor file (text, not KDMV: monolithicFlat, twoGbMaxExtent*,
 *   split extents: vmdk_desc.h reads those, and opens their SPARSE
 *   extents with vmdk_open_extent below), a createType other than
 *   monolithicSparse and streamOptimized, more than one extent, compressed grains outside
 *   streamOptimized, compression other than deflate, compressed grains
 *   without markers: -ENOTSUP;
 * - anything malformed: -EINVAL (version, capacity past 2^52 sectors,
 *   grain size, entries per grain table outside 1..512, the descriptor or
 *   grain directory outside the file or over the header, a footer that is
 *   not one, the newline-detection characters mangled).
 * At run time, a grain table or grain that lies past the end of the file
 * or over the header, descriptor or grain directory, a compressed grain
 * whose marker names another sector or that does not inflate to exactly
 * its grain: -EIO for that request.
 *
 * Read-only, so no lock: the grain directory is read at open and never
 * changes; grain table entries are read with pread on each request (no
 * cache, so nothing shared is mutable). write, discard and write_zeroes
 * return -EROFS; flush does nothing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blk_image.h"

struct vmdk_open_args {
	int fd;			   /* the image, not owned */
	bool read_only;		   /* must be true */
	struct blk_image *backing; /* not owned; NULL: none given */
	char *err;		   /* one line on failure (may be NULL) */
	size_t errlen;
};

/* Does buf (len bytes from offset 0 of a file) start like a vmdk sparse
 * extent? */
bool vmdk_probe(const uint8_t *buf, size_t len);

/* Open a->fd as a vmdk sparse extent. 0 with *out, or -errno with a line
 * in a->err: -EINVAL malformed, -ENOTSUP refused, -EIO/-errno on host
 * I/O errors, -ENOMEM. */
int vmdk_open(const struct vmdk_open_args *a, struct blk_image **out);

/* Open a->fd as one SPARSE extent of a descriptor file (vmdk_desc.h)
 * that says it has sectors sectors: as vmdk_open, but the capacity must be
 * exactly that (else -EINVAL), the embedded descriptor, if any, is not
 * read (the descriptor file governs; qemu-img leaves it empty), compressed
 * grains are refused (-ENOTSUP: streamOptimized is never split) and
 * a->backing must be NULL (-EINVAL). */
int vmdk_open_extent(const struct vmdk_open_args *a, uint64_t sectors, struct blk_image **out);
