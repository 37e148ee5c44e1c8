/* What an image file is: its format from its first bytes, and what the
 * format's header says (size, backing file, allocation), read with the
 * format's own open, read-only and with no backing. Run by `moat-blk
 * probe` (probe_main.c) inside moat-blk's sandbox, for the monitor's
 * backing chains, its format probing and `moat img info`; and by the
 * request path's guard on sector 0 of a probed raw image (blk_req.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blk_chain.h"
#include "blk_image.h"

#define BLK_PROBE_BYTES 4096 /* what a format is told by */

/* The format buf (the first len bytes of a file) says it is: qcow2's
 * magic, a vmdk sparse extent's, a vmdk descriptor file's first line;
 * anything else is raw. */
enum blk_format blk_probe_format(const uint8_t *buf, size_t len);

struct vmdk_desc;

/* Probe fd: *format as given when format_given, else from the first
 * bytes; then the header's information into *info (a raw image: its
 * size). A vmdk descriptor file fills *desc (when desc is not NULL; else
 * it is refused) and its size, and sets *is_desc; its extents are not
 * read. 0, or -errno with one line in err (the format's: "qcow2: ..."). */
int blk_probe_fd(int fd, bool format_given, enum blk_format *format, struct blk_image_info *info,
		 struct vmdk_desc *desc, bool *is_desc, char *err, size_t errlen);
