/* An image and the images below it (a qcow2 overlay over its backing
 * file, over that one's...), opened as blk_images from descriptors the
 * monitor resolved and opened (monitor/image_chain.c): moat-blk never
 * opens a path. Every layer below the top is read-only; the top is
 * writable unless read_only. Also the one place that knows which open
 * function a format has (blk_format_open), for the chain and the probe. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "blk_image.h"

/* How an image file holds the disk (BlkConfig.format, ProbeResult.format). */
enum blk_format { BLK_FORMAT_RAW, BLK_FORMAT_QCOW2, BLK_FORMAT_VMDK };

#define BLK_CHAIN_MAX 16 /* layers below the top (the monitor refuses more) */

struct blk_layer {
	int fd; /* not owned */
	enum blk_format format;
};

/* The extent files of a vmdk descriptor file (vmdk_desc.h): those its
 * extents are read from, in its order (vmdk_extent_needs_file). */
struct blk_extents {
	const int *fd; /* not owned */
	unsigned n;
};

struct blk_chain {
	struct blk_image *img[1 + BLK_CHAIN_MAX]; /* [0] the top */
	unsigned n;
};

/* The format's name ("raw", "qcow2", "vmdk"). */
const char *blk_format_name(enum blk_format f);

/* Open fd as format f over backing (NULL: none), with the format's own
 * checks (qcow2.h, vmdk.h; raw: the file's size). A vmdk descriptor file
 * reads its extents from ext (NULL: none given, and it is refused). 0, or
 * -errno with one line in err naming the format ("qcow2: ..."). */
int blk_format_open(int fd, enum blk_format f, bool read_only, struct blk_image *backing,
		    const struct blk_extents *ext, struct blk_image **out, char *err,
		    size_t errlen);

/* Open top (format f; a vmdk descriptor file with its extents ext) over
 * below[0], which is over below[1], ... (n at most BLK_CHAIN_MAX), bottom
 * first. A failure names the layer: "backing
 * 2: qcow2: ...". 0 with c filled, or -errno. */
int blk_chain_open(int top_fd, enum blk_format f, bool read_only, const struct blk_layer *below,
		   unsigned n, const struct blk_extents *ext, struct blk_chain *c, char *err,
		   size_t errlen);

static inline struct blk_image *blk_chain_top(const struct blk_chain *c)
{
	return c->n ? c->img[0] : NULL;
}

/* Close every layer, top first (an image before the one below it). */
void blk_chain_close(struct blk_chain *c);
