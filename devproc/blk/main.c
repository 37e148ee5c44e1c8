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
#include "gmem.h"
#include "log.h"
#include "virtio_pci_layout.h"

struct blk_dev {
	struct gmem mem;
	int image_fd;
	int notify_fd[BLK_NUM_QUEUES];
	int irq_fd[VPCI_MAX_VECTORS];
	unsigned nirq;
	struct blk_model *model;
};

static void blk_dev_destroy(void *model)
{
	struct blk_dev *d = model;

	if (!d)
		return;
	blk_model_destroy(d->model);
	gmem_unmap(&d->mem);
	if (d->image_fd >= 0)
		close(d->image_fd);
	for (unsigned i = 0; i < BLK_NUM_QUEUES; i++)
		if (d->notify_fd[i] >= 0)
			close(d->notify_fd[i]);
	for (unsigned i = 0; i < d->nirq; i++)
		if (d->irq_fd[i] >= 0)
			close(d->irq_fd[i]);
	free(d);
}

/* Is the start request a complete virtio-blk configuration? */
static int check_config(const Moat__Dev__StartRequest *req, char *err, size_t errlen)
{
	const Moat__Dev__VirtioConfig *v = req->virtio;

	if (req->config_case != MOAT__DEV__START_REQUEST__CONFIG_BLK || !req->blk || !v) {
		snprintf(err, errlen, "start: no virtio-blk configuration");
		return -EINVAL;
	}
	if (v->n_fd_notify != BLK_NUM_QUEUES || v->n_fd_irq < 1 || v->n_fd_irq > VPCI_MAX_VECTORS) {
		snprintf(err, errlen,
			 "start: %zu notify and %zu irq descriptors (want %u and 1..%u)",
			 v->n_fd_notify, v->n_fd_irq, BLK_NUM_QUEUES, VPCI_MAX_VECTORS);
		return -EINVAL;
	}
	return 0;
}

/* Take every descriptor the configuration names; -EBADF if one is
 * missing or named twice. */
static int take_fds(struct blk_dev *d, const Moat__Dev__StartRequest *req, struct ipc_fds *fds,
		    int *mem_fd)
{
	const Moat__Dev__VirtioConfig *v = req->virtio;
	int rc = 0;

	d->image_fd = ipc_fds_take(fds, req->blk->fd_image);
	*mem_fd = ipc_fds_take(fds, v->fd_mem);
	if (d->image_fd < 0 || *mem_fd < 0)
		rc = -EBADF;
	for (unsigned i = 0; i < BLK_NUM_QUEUES; i++)
		if ((d->notify_fd[i] = ipc_fds_take(fds, v->fd_notify[i])) < 0)
			rc = -EBADF;
	d->nirq = (unsigned)v->n_fd_irq;
	for (unsigned i = 0; i < d->nirq; i++)
		if ((d->irq_fd[i] = ipc_fds_take(fds, v->fd_irq[i])) < 0)
			rc = -EBADF;
	return rc;
}

static int blk_dev_init(void **model, const Moat__Dev__StartRequest *req, struct ipc_fds *fds,
			char *err, size_t errlen)
{
	struct blk_dev *d;
	int mem_fd = -1, rc, fl;

	rc = check_config(req, err, errlen);
	if (rc < 0)
		return rc;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->image_fd = -1;
	for (unsigned i = 0; i < BLK_NUM_QUEUES; i++)
		d->notify_fd[i] = -1;
	rc = take_fds(d, req, fds, &mem_fd);
	if (rc < 0) {
		snprintf(err, errlen, "start: descriptor indices do not match");
		goto fail;
	}
	fl = fcntl(d->image_fd, F_GETFL);
	if (fl < 0 || (!req->blk->read_only && (fl & O_ACCMODE) == O_RDONLY)) {
		snprintf(err, errlen, "image: not open for writing, and the disk is not read-only");
		rc = -EBADF;
		goto fail;
	}
	rc = gmem_map(&d->mem, mem_fd, req->virtio->mem_bytes);
	if (rc < 0) {
		snprintf(err, errlen, "guest RAM: %s", strerror(-rc));
		goto fail;
	}
	struct blk_params p = {
	    .image_fd = d->image_fd,
	    .read_only = req->blk->read_only,
	    .serial = req->blk->serial,
	    .mem = &d->mem,
	    .bar0_gpa = req->virtio->bar0_gpa,
	    .notify_fds = d->notify_fd,
	    .nqueues = BLK_NUM_QUEUES,
	    .irq_fds = d->irq_fd,
	    .nvectors = d->nirq,
	};
	rc = blk_model_create(&d->model, &p, err, errlen);
	if (rc < 0)
		goto fail;
	close(mem_fd); /* the mapping stays */
	log_debug("%llu sectors%s, %u vectors", (unsigned long long)blk_model_sectors(d->model),
		  p.read_only ? ", read-only" : "", d->nirq);
	*model = d;
	return 0;
fail:
	if (mem_fd >= 0)
		close(mem_fd);
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
