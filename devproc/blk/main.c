/* moat-blk: one virtio-blk disk in its own sandboxed process. It holds the
 * image descriptor the monitor opened, guest RAM, its queue's notify
 * eventfd and its MSI-X vectors' irq eventfds, and nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk_model.h"
#include "channel.h"
#include "devproc.h"
#include "log.h"
#include "vdev.h"

struct blk_dev {
	struct vdev_res res;
	int image_fd;
	struct blk_model *model;
};

static void blk_dev_destroy(void *model)
{
	struct blk_dev *d = model;

	if (!d)
		return;
	blk_model_destroy(d->model);
	vdev_res_release(&d->res);
	if (d->image_fd >= 0)
		close(d->image_fd);
	free(d);
}

static int blk_dev_init(void **model, const Moat__Dev__StartRequest *req, struct ipc_fds *fds,
			char *err, size_t errlen)
{
	struct blk_dev *d;
	int rc, fl;

	if (req->config_case != MOAT__DEV__START_REQUEST__CONFIG_BLK || !req->blk || !req->virtio) {
		snprintf(err, errlen, "start: no virtio-blk configuration");
		return -EPROTO;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->image_fd = ipc_fds_take(fds, req->blk->fd_image);
	rc = vdev_res_take(&d->res, req->virtio, BLK_NUM_QUEUES, fds, err, errlen);
	if (rc < 0)
		goto fail;
	fl = d->image_fd < 0 ? -1 : fcntl(d->image_fd, F_GETFL);
	if (fl < 0 || (!req->blk->read_only && (fl & O_ACCMODE) == O_RDONLY)) {
		snprintf(err, errlen, "image: missing, or not open for writing and the disk is not "
				      "read-only");
		rc = -EBADF;
		goto fail;
	}
	struct blk_params p = {
	    .image_fd = d->image_fd,
	    .read_only = req->blk->read_only,
	    .serial = req->blk->serial,
	    .mem = &d->res.mem,
	    .bar0_gpa = req->virtio->bar0_gpa,
	    .notify_fds = d->res.notify_fd,
	    .nqueues = BLK_NUM_QUEUES,
	    .irq_fds = d->res.irq_fd,
	    .nvectors = d->res.nirq,
	};
	rc = blk_model_create(&d->model, &p, err, errlen);
	if (rc < 0)
		goto fail;
	log_debug("%llu sectors%s, %u vectors", (unsigned long long)blk_model_sectors(d->model),
		  p.read_only ? ", read-only" : "", d->res.nirq);
	*model = d;
	return 0;
fail:
	blk_dev_destroy(d);
	return rc;
}

static void blk_dev_io(void *model, unsigned space, uint64_t addr, unsigned size, bool is_write,
		       uint64_t *data)
{
	struct blk_dev *d = model;

	blk_model_io(d->model, space, addr, size, is_write, data);
}

static int blk_dev_fds(void *model, struct pollfd *out, unsigned max, int *timeout_ms)
{
	struct blk_dev *d = model;

	(void)timeout_ms;
	return blk_model_fds(d->model, out, max);
}

static void blk_dev_polled(void *model, struct pollfd *p, unsigned n)
{
	struct blk_dev *d = model;

	for (unsigned i = 0; i < n; i++)
		if (p[i].revents)
			blk_model_ready(d->model, p[i].fd);
}

static const struct dev_kind blk_kind = {
    .kind = "blk",
    .init_fds = blk_dev_init,
    .io = blk_dev_io,
    .destroy = blk_dev_destroy,
    .fds = blk_dev_fds,
    .polled = blk_dev_polled,
};

int main(void)
{
	return dev_main(&blk_kind);
}
