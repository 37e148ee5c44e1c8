/* A disk image's backing chain (a qcow2 overlay over its base, over that
 * one's base...), resolved by the monitor from what `moat-blk probe` says
 * each link's header names (image_probe.h), so that moat-blk only ever
 * gets descriptors:
 * - a name is taken relative to the directory of the image that names it
 *   (QEMU's rule), or as it is when absolute;
 * - the file it names must be a regular file, not on /proc, /sys or
 *   another kernel file system, and lie in the top image's directory or
 *   below it, symlinks resolved: an image from someone else cannot make
 *   the monitor, which runs as root, hand the guest /etc/shadow;
 * - each link's format is the one its overlay's header records, checked
 *   by the probe; when none is recorded the link must probe as raw (a raw
 *   base whose first sector holds a qcow2 header is refused, not
 *   followed);
 * - at most MON_CHAIN_MAX links below the top, and no loop (the same
 *   file twice);
 * - each link is opened read-only and locked as QEMU locks a backing file
 *   (resources.h: mon_lock_disk with ro).
 * The top image itself is probed too when its format was not given.
 *
 * A vmdk descriptor file (monolithicFlat, twoGbMaxExtent*) names the files
 * of its extents instead: each is taken and checked as a backing file is
 * (relative to the descriptor, inside its directory, a regular file,
 * read-only, locked); one file may serve several extents. A descriptor
 * file is only ever the top: as a backing file it is refused. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "image_probe.h"
#include "options.h"

#define MON_CHAIN_MAX 16 /* links below the top: moat-blk's BLK_CHAIN_MAX */

struct mon_chain_link {
	int fd; /* links below the top: ours (mon_chain_close); link 0: the caller's */
	enum mon_disk_format format;
	char path[4096]; /* as named (link 0: the user's path) */
	struct mon_probe info;
};

struct mon_chain {
	struct mon_chain_link link[1 + MON_CHAIN_MAX]; /* [0] the top */
	unsigned n;
	/* the top's extent files (a vmdk descriptor file), in its order */
	int extent_fd[MON_PROBE_MAX_EXTENTS];
	unsigned nextents;
	bool probed; /* the top's format came from its header, not the user */
};

/* Resolve the chain under the image path (open as fd): its format as
 * given, else probed. Probes run as uid. 0 with c filled (c->n >= 1), or
 * -errno with one line in err (-EINVAL: the images are at fault). c is
 * large: allocate it. */
int mon_chain_resolve(const char *path, int fd, bool given, enum mon_disk_format format, uid_t uid,
		      struct mon_chain *c, char *err, size_t errlen);

/* Close the descriptors of the links below the top and of the extent
 * files, and free what the probes left. */
void mon_chain_close(struct mon_chain *c);
