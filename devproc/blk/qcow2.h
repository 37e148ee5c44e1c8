/* qcow2 images (versions 2 and 3, QEMU's docs/interop/qcow2.txt) as a
 * blk_image, parsed inside moat-blk's sandbox: the file is hostile.
 *
 * Supported: reads through L1/L2 (standard 64-bit L2 entries, and
 * extended 128-bit ones with 32 subclusters: a write makes its whole
 * cluster allocated, a whole-cluster zeroing marks every subcluster
 * zero), unallocated clusters
 * from the backing image (given by the caller as a blk_image,
 * zeros past its end) or zeros, v3 zero clusters (with or without a
 * preallocated host cluster), deflate-compressed clusters (read; rewritten
 * uncompressed when written), writes with cluster allocation, L2 table and
 * refcount block allocation, copy-on-write of a partial write (from the
 * backing, the compressed data or zeros), refcount widths 1..64 bits, lazy
 * refcounts' compatible bit (refcounts are kept eagerly anyway), unknown
 * autoclear bits (cleared on a writable open, as the spec asks: bitmaps
 * then read as inconsistent to QEMU), internal snapshots on a read-only
 * open.
 *
 * Refused at open with one line in args->err:
 * - encryption (crypt_method), external data files, zstd compression,
 *   unknown incompatible bits: their data cannot be read right without
 *   the feature;
 * - the corrupt bit: QEMU marks an image so after finding it inconsistent;
 * - writable: the dirty bit (lazy refcounts left inconsistent by a crash;
 *   rebuilding refcounts is `qemu-img check -r all`'s job, the message
 *   says so; read-only opens are fine), internal snapshots (clusters may be
 *   shared, and moat does no COW of shared clusters);
 * - writable on an O_DIRECT descriptor (metadata I/O is not aligned);
 * - a header naming a backing file when none is given and the image is
 *   writable (read-only without one: unallocated reads fail with EIO, which
 *   is enough for `moat img info`);
 * - anything malformed: sizes, offsets and tables are checked against each
 *   other and the file's size (overlaps, overflow, L1 and refcount table
 *   bounds, header extensions inside the header cluster).
 * At run time, an entry that points outside the file, into the header, L1
 * or refcount table, is unaligned, or a compressed cluster that does not
 * inflate to exactly one cluster gives -EIO for that request; a shared
 * cluster (no COPIED flag) gives -EIO for a write that needs it, and
 * nothing is changed.
 *
 * Allocation: always at the end of the file, never reusing a freed cluster
 * while open, so that a reader that looked a cluster up and released the
 * lock never reads a cluster reused for something else. The refcount
 * table grows (doubling, at the end of the file with the refcount blocks
 * that count it) up to QEMU's 8 MiB limit; past that a write fails with
 * -ENOSPC.
 *
 * Crash ordering (SIGKILL: what pwritev handed to the kernel stays; so the
 * order of syscalls is the order that matters). Every metadata change is
 * written to the file before the call returns; nothing is cached dirty.
 * - a new cluster's contents (data, a zeroed L2 table, a refcount block
 *   with its own count) are written first: until something points to it
 *   it is just bytes past the end of the file (not a leak: refcount 0);
 * - then its refcount (or, for a new refcount block, the refcount table
 *   entry that points to it; for a grown refcount table, the header's
 *   offset and size in one 12-byte pwrite, then the old table is freed);
 * - then the L1 or L2 entry that points to it, with QCOW_OFLAG_COPIED
 *   (an extended entry and its bitmap in one 16-byte pwrite);
 * - a cluster given up (a compressed cluster rewritten, a discarded or
 *   zeroed cluster) loses its L2 entry first and its refcount after.
 * A kill between two steps leaves a cluster with a refcount that nothing
 * points to (a leak), never an entry pointing to a cluster without one.
 * flush is fdatasync; against power loss only what a flush covered is
 * durable (the kernel may write back metadata before data in between).
 *
 * discard and write_zeroes: whole clusters in v3 become zero clusters
 * (offset 0 with the zero flag, or every subcluster's zero bit; the old
 * host cluster's refcount drops, so qemu-img check finds no leak); in v2
 * without a backing, whole clusters become unallocated (freed the same
 * way); v2 with a backing cannot say zero: write_zeroes writes zeros,
 * discard does nothing. Partial clusters: discard does nothing,
 * write_zeroes writes zeros. A freed cluster is not reused while the
 * image is open (see Allocation).
 *
 * Threads: one mutex per image guards the in-memory L1 and refcount
 * tables, the L2 table cache (qcow2_cache.c: about 4 MiB, never dirty)
 * and every metadata read and write. A read looks its cluster up
 * under the lock and reads data without it; a write to an allocated
 * cluster does the same. A write that allocates (or rewrites a zero or
 * compressed cluster) reserves its new host cluster and marks the guest
 * cluster as allocating under the lock, reads the old contents and writes
 * the new cluster without it, then counts and maps it under the lock
 * again; another write to that guest cluster, or its discard, waits until
 * then, so two writers never allocate the same guest cluster twice and
 * writers to different clusters overlap. A write covering whole clusters
 * that have no host cluster takes consecutive new clusters for as many as
 * the refcount blocks in place count (at most 64) and writes their data
 * in one call; their refcounts and entries follow one by one. A preallocated
 * but not wholly allocated cluster of ours (a preallocated zero cluster,
 * extended L2 subclusters) is filled in place under the lock. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blk_image.h"

struct qcow2_open_args {
	int fd; /* the image, not owned */
	bool read_only;
	struct blk_image *backing; /* not owned; NULL: none given */
	char *err;		   /* one line on failure (may be NULL) */
	size_t errlen;
};

/* Does buf (len bytes from offset 0 of a file) start like qcow2? */
bool qcow2_probe(const uint8_t *buf, size_t len);

/* Open a->fd as qcow2. 0 with *out, or -errno with a line in a->err:
 * -EINVAL malformed, -ENOTSUP a feature moat refuses, -EIO/-errno on
 * host I/O errors, -ENOMEM. */
int qcow2_open(const struct qcow2_open_args *a, struct blk_image **out);
