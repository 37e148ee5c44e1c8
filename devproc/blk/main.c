/* moat-blk: one virtio-blk disk in its own sandboxed process. It holds the
 * image descriptor the monitor opened, guest RAM, its queue's notify
 * eventfd and its MSI-X vectors' irq eventfds, and nothing else. The
 * process around the device is the virtio core's (vdev_proc.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "blk_model.h"
#include "channel.h"
#include "devproc.h"
#include "log.h"
#include "pol.h"
#include "vdev_proc.h"

struct blk_dev {
	int image_fd;
	struct blk_model *model;
};

static int blk_check(const Moat__Dev__StartRequest *req, char *err, size_t errlen)
{
	if (req->config_case != MOAT__DEV__START_REQUEST__CONFIG_BLK || !req->blk || !req->virtio) {
		snprintf(err, errlen, "start: no virtio-blk configuration");
		return -EPROTO;
	}
	return 0;
}

static void blk_destroy(void *dev)
{
	struct blk_dev *d = dev;

	if (!d)
		return;
	blk_model_destroy(d->model);
	if (d->image_fd >= 0)
		close(d->image_fd);
	free(d);
}

/* The image must be open for writing unless the disk is read-only. */
static int blk_create(void **dev, struct vdev **vd, const Moat__Dev__StartRequest *req,
		      struct ipc_fds *fds, const struct vdev_params *vp, char *err, size_t errlen)
{
	struct blk_dev *d = calloc(1, sizeof(*d));
	int rc, fl;

	if (!d)
		return -ENOMEM;
	d->image_fd = ipc_fds_take(fds, req->blk->fd_image);
	fl = d->image_fd < 0 ? -1 : fcntl(d->image_fd, F_GETFL);
	if (fl < 0 || (!req->blk->read_only && (fl & O_ACCMODE) == O_RDONLY)) {
		snprintf(err, errlen,
			 "image: missing, or not open for writing and the disk is not "
			 "read-only");
		blk_destroy(d);
		return -EBADF;
	}
	struct blk_params p = {
	    .image_fd = d->image_fd,
	    .read_only = req->blk->read_only,
	    .serial = req->blk->serial,
	    .vdev = *vp,
	};
	rc = blk_model_create(&d->model, &p, err, errlen);
	if (rc < 0) {
		blk_destroy(d);
		return rc;
	}
	log_debug("%llu sectors%s, %u vectors", (unsigned long long)blk_model_sectors(d->model),
		  p.read_only ? ", read-only" : "", vp->nvectors);
	*dev = d;
	*vd = blk_model_vdev(d->model);
	return 0;
}

/* Its threads: the main one (the queue, the registers, the control
 * channel) and the worker pool (blk_model_create starts BLK_WORKERS, as
 * we ask for no other count); a thread more fails with EAGAIN. No
 * descriptor of its own beyond those it was given. Its address space
 * holds guest RAM: no RLIMIT_AS (struct pol_limits says why). */
static int blk_sandbox(const Moat__Dev__StartRequest *req, const char **policy,
		       struct pol_options *o, char *err, size_t errlen)
{
	static const struct pol_limits lim = {
	    .nofile_extra = DEV_NOFILE_EXTRA,
	    .nproc = 1 + BLK_WORKERS,
	};

	o->limits = &lim;
	return 0;
}

static const struct vdev_kind blk_vkind = {
    .name = "blk",
    .sandbox = blk_sandbox,
    .num_queues = BLK_NUM_QUEUES,
    .check = blk_check,
    .create = blk_create,
    .destroy = blk_destroy,
};

int main(void)
{
	return vdev_proc_main(&blk_vkind);
}
