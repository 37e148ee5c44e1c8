#include "blk_probe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "qcow2.h"
#include "vmdk.h"
#include "vmdk_desc.h"

enum blk_format blk_probe_format(const uint8_t *buf, size_t len)
{
	if (qcow2_probe(buf, len))
		return BLK_FORMAT_QCOW2;
	if (vmdk_probe(buf, len) || vmdk_desc_probe(buf, len))
		return BLK_FORMAT_VMDK;
	return BLK_FORMAT_RAW;
}

int blk_probe_fd(int fd, bool format_given, enum blk_format *format, struct blk_image_info *info,
		 struct vmdk_desc *desc, bool *is_desc, char *err, size_t errlen)
{
	static uint8_t head[BLK_PROBE_BYTES];
	struct blk_image *img = NULL;
	int64_t got;
	int rc;

	*is_desc = false;
	got = blk_pread_upto(fd, head, sizeof(head), 0);
	if (got < 0) {
		snprintf(err, errlen, "cannot read the image: %s", strerror((int)-got));
		return (int)got;
	}
	if (!format_given)
		*format = blk_probe_format(head, (size_t)got);
	memset(info, 0, sizeof(*info));
	/* a descriptor file: its extents are files the monitor must open
	 * first; the text alone says the size */
	if (*format == BLK_FORMAT_VMDK && desc && vmdk_desc_probe(head, (size_t)got)) {
		rc = vmdk_desc_read(fd, desc, err, errlen);
		if (rc == 0 && desc->has_parent) {
			snprintf(err, errlen,
				 "vmdk descriptor: it names a parent (parentFileNameHint), which "
				 "moat does not follow");
			rc = -ENOTSUP;
		}
		if (rc < 0)
			return rc;
		*is_desc = true;
		info->format = "vmdk";
		info->size = desc->size;
		return 0;
	}
	rc = blk_format_open(fd, *format, true, NULL, NULL, &img, err, errlen);
	if (rc < 0)
		return rc;
	rc = blk_image_info(img, info);
	if (rc < 0)
		snprintf(err, errlen, "%s: cannot read its information: %s",
			 blk_format_name(*format), strerror(-rc));
	blk_image_close(img);
	return rc;
}
