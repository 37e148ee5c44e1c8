/* vmdk descriptor files (VMware's "Virtual Disk Format" 1.1, section
 * "The Descriptor File"): the small text file that names a disk's extents,
 * as `qemu-img convert -O vmdk -o subformat=monolithicFlat`,
 * `twoGbMaxExtentFlat` or `twoGbMaxExtentSparse` writes it:
 *
 *   # Disk DescriptorFile
 *   version=1
 *   createType="twoGbMaxExtentSparse"
 *   RW 4194304 SPARSE "x-s001.vmdk"
 *   RW 2097152 FLAT "x-f002.vmdk" 0
 *   RDONLY 2048 ZERO
 *
 * Two halves, both in moat-blk's sandbox, both facing a hostile file:
 * - the parser (vmdk_desc.c) turns the text into a struct vmdk_desc: the
 *   extents in disk order, each with its type, size, FLAT offset and file
 *   name. The names are not interpreted here (absolute, "..", anything but
 *   control characters): the monitor resolves each against the
 *   descriptor's directory with its own rules, opens the file read-only
 *   and passes one descriptor per extent;
 * - the composite image (vmdk_desc_image.c) is a read-only blk_image over
 *   those descriptors: FLAT extents are read as raw bytes at their offset,
 *   SPARSE extents through vmdk.h (a KDMV extent whose embedded
 *   descriptor, if any, is ignored: this file governs), ZERO extents
 *   read as zeros. A request that spans extents is split.
 *
 * Grammar accepted, a line at a time (LF or CR LF; leading and trailing
 * blanks ignored): empty lines; comments ('#'); settings `key = value`
 * (the value quoted or not; createType, parentFileNameHint and version are
 * read, every other key such as CID or ddb.* is skipped); extent lines
 * `ACCESS SECTORS TYPE ["NAME" [OFFSET]]` with ACCESS one of RW, RDONLY,
 * NOACCESS (moat reads all three the same way, except that a read touching
 * a NOACCESS extent fails with -EIO), SECTORS and OFFSET decimal, TYPE
 * FLAT (a name; the offset, in sectors, defaults to 0), SPARSE (a name,
 * no offset) or ZERO (neither). The text ends at its first NUL, and what
 * follows is not read: qemu-img pads the file with NULs, and leaves the
 * old text's tail there when it rewrites a shorter descriptor (a CID
 * without leading zeros), which QEMU's reader ignores too. Each extent is read
 * by its own type: that the types match createType (FLAT under *Flat,
 * SPARSE under twoGbMaxExtentSparse) is not required, as nothing depends
 * on it.
 *
 * Refused by the parser, with one line in err ("vmdk descriptor: line N:
 * ..."):
 * - -ENOTSUP: a createType other than monolithicFlat, twoGbMaxExtentFlat
 *   and twoGbMaxExtentSparse (vmfs*, seSparse, custom, and the sparse
 *   types whose descriptor is embedded, which vmdk.h reads); an extent
 *   type other than FLAT, SPARSE and ZERO (VMFS, VMFSSPARSE, VMFSRDM,
 *   VMFSRAW, SESPARSE, ...); a version other than 1..3;
 * - -EINVAL: a text over VMDK_DESC_MAX_BYTES; a control character (other
 *   than tab, CR, LF)
 *   anywhere; a line that is neither a comment, a setting nor an extent; no
 *   createType, or two; no extent, or more than VMDK_DESC_MAX_EXTENTS; an
 *   extent of 0 sectors; extents totalling more than 2^52 sectors; a
 *   number that is not plain decimal or does not fit in 64 bits; a FLAT
 *   extent whose offset + sectors passes 2^54 sectors (2^63 bytes, the
 *   largest file offset); a name (or parentFileNameHint) that is
 *   missing, unquoted, unclosed, empty, BLK_IMAGE_NAME_MAX bytes or
 *   longer, or holds a tab or CR; anything after the last
 *   field (an offset on SPARSE, a name on ZERO); an empty or repeated
 *   parentFileNameHint.
 *
 * Refused by vmdk_desc_open, with one line in err:
 * - writable: -ENOTSUP ("vmdk images are read-only in moat: add ro");
 * - a descriptor that names a parent (parentFileNameHint): -ENOTSUP (the
 *   parse reports it, for `moat img info`; reading through it is left);
 * - nfds other than d->n, or a FLAT or SPARSE extent without a
 *   descriptor: -EBADF; a struct that the parser could not have made
 *   (checked again, as the caller may build it by hand): -EINVAL;
 * - a SPARSE extent that vmdk.h refuses (its line, after the extent's
 *   number and name), including one whose capacity is not exactly the
 *   extent's sectors, or whose grains are compressed: that errno.
 * At run time: a FLAT extent whose file ends before offset + sectors gives
 * -EIO for a request that reaches past the file's end (not zeros: a
 * truncated copy should show, not read as a blank disk); a request that
 * touches a NOACCESS extent: -EIO; a SPARSE extent: as vmdk.h says.
 *
 * The thread contract of blk_image.h holds: nothing mutable is shared
 * after open (the extent table is fixed; every read is a pread), so
 * reads from several threads need no lock. write, discard and
 * write_zeroes return -EROFS; flush does nothing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blk_image.h"

#define VMDK_DESC_MAX_EXTENTS 128
#define VMDK_DESC_MAX_BYTES   (64 * 1024) /* a larger descriptor file is refused */

enum vmdk_extent_type { VMDK_EXTENT_FLAT, VMDK_EXTENT_SPARSE, VMDK_EXTENT_ZERO };
enum vmdk_extent_access { VMDK_ACCESS_RW, VMDK_ACCESS_RDONLY, VMDK_ACCESS_NOACCESS };

struct vmdk_extent_desc {
	enum vmdk_extent_type type;
	enum vmdk_extent_access access;
	uint64_t sectors; /* the extent's size in 512-byte sectors, > 0 */
	uint64_t offset;  /* FLAT: first sector within its file; else 0 */
	/* as written, unquoted, NUL-ended; "" for ZERO; never interpreted */
	char name[BLK_IMAGE_NAME_MAX];
};

/* Is extent e read from a file of its own (FLAT, SPARSE: the monitor opens
 * it), or not (ZERO, NOACCESS)? The monitor gets the names of those that
 * are, in the descriptor's order, and gives their descriptors back in the
 * same order. */
static inline bool vmdk_extent_needs_file(const struct vmdk_extent_desc *e)
{
	return e->type != VMDK_EXTENT_ZERO && e->access != VMDK_ACCESS_NOACCESS;
}

/* About 130 KiB: allocate it (or keep it static), not on a small stack. */
struct vmdk_desc {
	char create_type[64];
	unsigned n; /* extents, 1..VMDK_DESC_MAX_EXTENTS, in disk order */
	struct vmdk_extent_desc ext[VMDK_DESC_MAX_EXTENTS];
	bool has_parent;
	char parent_hint[BLK_IMAGE_NAME_MAX]; /* parentFileNameHint, if any */
	uint64_t size;			      /* sum of the extents, bytes */
};

/* Does buf (the first len bytes of a file) look like a descriptor file?
 * (It starts with "# Disk DescriptorFile", as qemu-img and VMware write
 * it; a KDMV sparse extent is vmdk_probe's.) */
bool vmdk_desc_probe(const uint8_t *buf, size_t len);

/* Parse the whole descriptor text (len <= VMDK_DESC_MAX_BYTES; need not
 * be NUL-ended). 0 with *out filled, or -EINVAL/-ENOTSUP with one line in
 * err (errlen bytes; err may be NULL) and *out cleared. */
int vmdk_desc_parse(const char *text, size_t len, struct vmdk_desc *out, char *err, size_t errlen);

/* Read (pread only: no lseek, no fstat) and parse the descriptor file fd
 * (not owned). As vmdk_desc_parse, or -errno of the read. */
int vmdk_desc_read(int fd, struct vmdk_desc *out, char *err, size_t errlen);

/* A read-only blk_image over d's extents: fds[i] is extent i's file
 * descriptor (not owned; it must stay open until blk_image_close), -1
 * (or anything: ignored) for ZERO and NOACCESS extents. d is copied: the
 * caller may free it after the call. 0 with *out, or -errno with one line
 * in err (see above); -ENOMEM. */
int vmdk_desc_open(const struct vmdk_desc *d, const int *fds, unsigned nfds, bool read_only,
		   struct blk_image **out, char *err, size_t errlen);
