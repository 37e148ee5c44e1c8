#include "blk_chain.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "qcow2.h"
#include "vmdk.h"
#include "vmdk_desc.h"

const char *blk_format_name(enum blk_format f)
{
	switch (f) {
	case BLK_FORMAT_RAW:
		return "raw";
	case BLK_FORMAT_QCOW2:
		return "qcow2";
	case BLK_FORMAT_VMDK:
		return "vmdk";
	}
	return "?";
}

/* A vmdk descriptor file over its extent files: the descriptor is parsed
 * here again (what the probe told the monitor is not trusted either way),
 * and the files given must be exactly those it reads. */
static int open_vmdk_desc(int fd, bool read_only, const struct blk_extents *ext,
			  struct blk_image **out, char *why, size_t len)
{
	struct vmdk_desc *d = malloc(sizeof(*d));
	int fds[VMDK_DESC_MAX_EXTENTS], rc;
	unsigned k = 0;

	if (!d)
		return -ENOMEM;
	rc = vmdk_desc_read(fd, d, why, len);
	for (unsigned i = 0; rc == 0 && i < d->n; i++)
		fds[i] =
		    vmdk_extent_needs_file(&d->ext[i]) && ext && k < ext->n ? ext->fd[k++] : -1;
	for (unsigned i = 0; rc == 0 && i < d->n; i++)
		if (vmdk_extent_needs_file(&d->ext[i]) && fds[i] < 0) {
			snprintf(why, len, "vmdk descriptor: %u extent files given, more named",
				 ext ? ext->n : 0);
			rc = -EINVAL;
		}
	if (rc == 0 && ext && k != ext->n) {
		snprintf(why, len, "vmdk descriptor: %u extent files given, %u named", ext->n, k);
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = vmdk_desc_open(d, fds, d->n, read_only, out, why, len);
	free(d);
	return rc;
}

/* Does fd start like a vmdk descriptor file? */
static bool is_vmdk_desc(int fd)
{
	uint8_t head[64];
	int64_t got = blk_pread_upto(fd, head, sizeof(head), 0);

	return got > 0 && vmdk_desc_probe(head, (size_t)got);
}

int blk_format_open(int fd, enum blk_format f, bool read_only, struct blk_image *backing,
		    const struct blk_extents *ext, struct blk_image **out, char *err, size_t errlen)
{
	char why[200] = "";
	int rc;

	switch (f) {
	case BLK_FORMAT_QCOW2: {
		struct qcow2_open_args a = {.fd = fd,
					    .read_only = read_only,
					    .backing = backing,
					    .err = why,
					    .errlen = sizeof(why)};
		rc = qcow2_open(&a, out);
		break;
	}
	case BLK_FORMAT_VMDK: {
		if (is_vmdk_desc(fd) && backing) {
			rc = -ENOTSUP;
			snprintf(why, sizeof(why), "vmdk descriptor: a parent is not supported");
			break;
		}
		if (is_vmdk_desc(fd)) {
			rc = open_vmdk_desc(fd, read_only, ext, out, why, sizeof(why));
			break;
		}
		struct vmdk_open_args a = {.fd = fd,
					   .read_only = read_only,
					   .backing = backing,
					   .err = why,
					   .errlen = sizeof(why)};
		rc = vmdk_open(&a, out);
		break;
	}
	case BLK_FORMAT_RAW:
		/* a raw layer has no backing of its own */
		rc = backing ? -EINVAL : blk_raw_open(fd, read_only, 0, out);
		if (rc < 0)
			snprintf(why, sizeof(why), "raw: %s",
				 backing ? "a raw image has no backing file" : strerror(-rc));
		break;
	default:
		rc = -EINVAL;
		snprintf(why, sizeof(why), "format %d is not one moat knows", (int)f);
	}
	if (rc < 0 && err)
		snprintf(err, errlen, "%s", why[0] ? why : strerror(-rc));
	return rc;
}

int blk_chain_open(int top_fd, enum blk_format f, bool read_only, const struct blk_layer *below,
		   unsigned n, const struct blk_extents *ext, struct blk_chain *c, char *err,
		   size_t errlen)
{
	struct blk_image *under = NULL;
	char why[220];
	int rc;

	*c = (struct blk_chain){0};
	if (n > BLK_CHAIN_MAX) {
		snprintf(err, errlen, "a backing chain of %u images is over the limit of %d", n,
			 BLK_CHAIN_MAX);
		return -EINVAL;
	}
	/* bottom first: each image is opened over the one below it */
	for (unsigned i = n; i-- > 0;) {
		rc = blk_format_open(below[i].fd, below[i].format, true, under, NULL,
				     &c->img[i + 1], why, sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "backing %u: %s", i + 1, why);
			goto fail;
		}
		under = c->img[i + 1];
		c->n++;
	}
	rc = blk_format_open(top_fd, f, read_only, under, ext, &c->img[0], err, errlen);
	if (rc < 0)
		goto fail;
	c->n++;
	return 0;
fail:
	/* what was opened: img[i+1..n], closed top down */
	for (unsigned i = 0; i <= n; i++)
		blk_image_close(c->img[i]);
	*c = (struct blk_chain){0};
	return rc;
}

void blk_chain_close(struct blk_chain *c)
{
	for (unsigned i = 0; i < 1 + BLK_CHAIN_MAX; i++)
		blk_image_close(c->img[i]);
	*c = (struct blk_chain){0};
}
