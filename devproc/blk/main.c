/* moat-blk: one virtio-blk disk in its own sandboxed process. It holds the
 * image descriptor the monitor opened, guest RAM, its queue's notify
 * eventfd and its MSI-X vectors' irq eventfds, and nothing else; a disk
 * swap (blk_swap.h) brings it another image descriptor in place of the
 * first. The process around the device is the virtio core's
 * (vdev_proc.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk_model.h"
#include "blk_swap.h"
#include "blk_uring.h"
#include "channel.h"
#include "devproc.h"
#include "log.h"
#include "pol.h"
#include "probe_main.h"
#include "vmdk_desc.h"
#include "vdev_proc.h"

/* While a swap waits for the requests in flight: look again this often. */
#define BLK_SWAP_POLL_MS 1

struct blk_dev {
	struct blk_model *model;
	struct blk_swap swap;
	bool uring_polled; /* blk_fds gave the ring's eventfd this turn */
	/* the backing chain's descriptors, the model's images read them */
	struct blk_layer backing[BLK_CHAIN_MAX];
	unsigned nbacking;
	/* a vmdk descriptor file's extent files, likewise */
	int extents[VMDK_DESC_MAX_EXTENTS];
	unsigned nextents;
};

/* The ring blk_sandbox set up before the sandbox (io_uring_setup is not
 * allowed after), for blk_create to hand to the model: the kind's hooks
 * have no object of their own before create. NULL: the threads. */
static struct blk_uring *early_ring;

/* aio= (BlkConfig.aio): io_uring if asked for, and by default with
 * cache=none; the threads if asked for, and by default with
 * cache=writeback: buffered I/O on io_uring goes to the kernel's io-wq
 * workers wherever the file system cannot do it without blocking (and
 * buffered writes to one file are serialized there), which bench/blk
 * measured 2-4x slower than our pool at iodepth 1 (docs/decisions/0019).
 * Where the kernel has no io_uring for us (too old, io_uring_disabled, no
 * restrictions), the threads, said once. Before the sandbox, so before
 * the start request was checked: nq is what it asks for, and the ring
 * has room for every queue's worth (blk_model.c counts on that). */
static void blk_open_ring(const Moat__Dev__BlkConfig *c, size_t nq)
{
	int rc;

	if (!c || c->aio == MOAT__DEV__BLK_AIO__BLK_AIO_THREADS)
		return; /* no configuration: blk_check refuses it next */
	if (c->aio == MOAT__DEV__BLK_AIO__BLK_AIO_DEFAULT && !c->cache_none)
		return;
	if (c->format != MOAT__DEV__BLK_FORMAT__BLK_FORMAT_RAW)
		return; /* a format's requests run on the threads */
	if (nq < 1 || nq > BLK_MAX_QUEUES)
		return; /* vdev_res_take refuses it next */
	rc = blk_uring_open(&early_ring, BLK_QUEUE_MAX * (unsigned)nq);
	if (rc == 0)
		return;
	early_ring = NULL;
	if (c->aio == MOAT__DEV__BLK_AIO__BLK_AIO_IO_URING)
		log_warn("aio=io_uring: the kernel refused it (%s): threads instead",
			 strerror(-rc));
	else
		log_debug("io_uring not available (%s): threads", strerror(-rc));
}

static enum blk_format blk_format_of(Moat__Dev__BlkFormat f)
{
	return f == MOAT__DEV__BLK_FORMAT__BLK_FORMAT_QCOW2  ? BLK_FORMAT_QCOW2
	       : f == MOAT__DEV__BLK_FORMAT__BLK_FORMAT_VMDK ? BLK_FORMAT_VMDK
							    : BLK_FORMAT_RAW;
}

static int blk_check(const Moat__Dev__StartRequest *req, char *err, size_t errlen)
{
	if (req->config_case != MOAT__DEV__START_REQUEST__CONFIG_BLK || !req->blk || !req->virtio) {
		snprintf(err, errlen, "start: no virtio-blk configuration");
		return -EPROTO;
	}
	/* the monitor sends a format only without O_DIRECT and io_uring,
	 * vmdk only read-only */
	Moat__Dev__BlkFormat f = req->blk->format;
	if (f != MOAT__DEV__BLK_FORMAT__BLK_FORMAT_RAW &&
	    ((f != MOAT__DEV__BLK_FORMAT__BLK_FORMAT_QCOW2 &&
	      f != MOAT__DEV__BLK_FORMAT__BLK_FORMAT_VMDK) ||
	     req->blk->cache_none || req->blk->aio == MOAT__DEV__BLK_AIO__BLK_AIO_IO_URING ||
	     (f == MOAT__DEV__BLK_FORMAT__BLK_FORMAT_VMDK && !req->blk->read_only))) {
		snprintf(err, errlen, "start: format %d with cache_none %d, aio %d", req->blk->format,
			 req->blk->cache_none, req->blk->aio);
		return -EPROTO;
	}
	/* a chain only under a format; the sector-0 guard only on raw */
	if ((f != MOAT__DEV__BLK_FORMAT__BLK_FORMAT_VMDK && req->blk->n_fd_extent) ||
	    (f == MOAT__DEV__BLK_FORMAT__BLK_FORMAT_RAW && req->blk->n_backing) ||
	    (f != MOAT__DEV__BLK_FORMAT__BLK_FORMAT_RAW && req->blk->probed_raw)) {
		snprintf(err, errlen, "start: format %d with %zu backing images, probed_raw %d",
			 req->blk->format, req->blk->n_backing, req->blk->probed_raw);
		return -EPROTO;
	}
	return 0;
}

static void close_layer_fds(struct blk_dev *d)
{
	for (unsigned i = 0; i < d->nbacking; i++)
		close(d->backing[i].fd);
	d->nbacking = 0;
	for (unsigned i = 0; i < d->nextents; i++)
		close(d->extents[i]);
	d->nextents = 0;
}

/* The backing chain's and a vmdk descriptor's extent files' descriptors
 * out of the start request's. */
static int take_backing(struct blk_dev *d, const Moat__Dev__BlkConfig *c, struct ipc_fds *fds,
			char *err, size_t errlen)
{
	if (c->n_backing > BLK_CHAIN_MAX) {
		snprintf(err, errlen, "start: %zu backing images, over %d", c->n_backing,
			 BLK_CHAIN_MAX);
		return -EPROTO;
	}
	for (size_t i = 0; i < c->n_backing; i++) {
		int fd = c->backing[i] ? ipc_fds_take(fds, c->backing[i]->fd_image) : -EBADF;
		if (fd < 0) {
			snprintf(err, errlen,
				 "start: backing %zu: no descriptor at the index given", i + 1);
			close_layer_fds(d);
			return -EBADF;
		}
		d->backing[d->nbacking++] =
		    (struct blk_layer){fd, blk_format_of(c->backing[i]->format)};
	}
	if (c->n_fd_extent > VMDK_DESC_MAX_EXTENTS) {
		snprintf(err, errlen, "start: %zu extent files, over %d", c->n_fd_extent,
			 VMDK_DESC_MAX_EXTENTS);
		close_layer_fds(d);
		return -EPROTO;
	}
	for (size_t i = 0; i < c->n_fd_extent; i++) {
		int fd = ipc_fds_take(fds, c->fd_extent[i]);
		if (fd < 0) {
			snprintf(err, errlen, "start: extent %zu: no descriptor at the index given",
				 i + 1);
			close_layer_fds(d);
			return -EBADF;
		}
		d->extents[d->nextents++] = fd;
	}
	return 0;
}

static void blk_destroy(void *dev)
{
	struct blk_dev *d = dev;

	if (!d)
		return;
	blk_swap_fini(&d->swap);
	blk_model_destroy(d->model);
	close_layer_fds(d);
	free(d);
}

/* The image must be open for writing unless the disk is read-only
 * (blk_image_check); the model owns it once created. */
static int blk_create(void **dev, struct vdev **vd, const Moat__Dev__StartRequest *req,
		      struct ipc_fds *fds, const struct vdev_params *vp, char *err, size_t errlen)
{
	struct blk_dev *d = calloc(1, sizeof(*d));
	int rc;

	if (!d)
		return -ENOMEM;
	struct blk_params p = {
	    .image_fd = ipc_fds_take(fds, req->blk->fd_image),
	    .format = blk_format_of(req->blk->format),
	    .backing = d->backing,
	    .probed_raw = req->blk->probed_raw,
	    .read_only = req->blk->read_only,
	    .serial = req->blk->serial,
	    .vdev = *vp,
	    .uring = early_ring,
	};
	if (p.image_fd < 0) {
		snprintf(err, errlen, "image: no descriptor at the index given");
		free(d);
		return -EBADF;
	}
	rc = take_backing(d, req->blk, fds, err, errlen);
	if (rc < 0) {
		close(p.image_fd);
		free(d);
		return rc;
	}
	p.nbacking = d->nbacking;
	p.extent_fds = d->extents;
	p.nextents = d->nextents;
	if (req->blk->cache_none && !(fcntl(p.image_fd, F_GETFL) & O_DIRECT)) {
		snprintf(err, errlen, "image: cache=none but the descriptor is not O_DIRECT");
		close(p.image_fd);
		close_layer_fds(d);
		free(d);
		return -EINVAL;
	}
	early_ring = NULL; /* the model's now, or closed below */
	rc = blk_model_create(&d->model, &p, err, errlen);
	if (rc < 0 || !blk_model_uring(d->model))
		blk_uring_close(p.uring);
	if (rc < 0) {
		close(p.image_fd);
		close_layer_fds(d);
		free(d);
		return rc;
	}
	if (p.uring && !blk_model_uring(d->model))
		log_debug("io_uring refused the image: threads");
	blk_swap_init(&d->swap, d->model);
	log_debug("%s, %llu sectors%s, %u queues, %u vectors, cache=%s, aio=%s",
		  p.format == BLK_FORMAT_QCOW2 ? "qcow2" : p.format == BLK_FORMAT_VMDK ? "vmdk" : "raw",
		  (unsigned long long)blk_model_sectors(d->model), p.read_only ? ", read-only" : "",
		  vp->nqueues, vp->nvectors, req->blk->cache_none ? "none" : "writeback",
		  blk_model_uring(d->model) ? "io_uring" : "threads");
	*dev = d;
	*vd = blk_model_vdev(d->model);
	return 0;
}

static void log_swap(const Moat__Dev__ControlResult *res)
{
	if (res->error && res->error[0])
		log_warn("disk swap refused: %s", res->error);
	else
		log_info("disk swapped: %llu sectors", (unsigned long long)res->capacity_sectors);
}

/* A swap that waited has finished: answer it. */
static void blk_swap_answer(struct blk_dev *d)
{
	Moat__Dev__ControlResult res;

	if (!blk_swap_poll(&d->swap, &res))
		return;
	log_swap(&res);
	dev_control_reply(&res);
}

static int blk_control(void *dev, const Moat__Dev__ControlRequest *req, struct ipc_fds *fds,
		       Moat__Dev__ControlResult *res)
{
	struct blk_dev *d = dev;
	int rc = blk_swap_control(&d->swap, req, fds, res);

	if (rc == DEV_CONTROL_DONE)
		log_swap(res);
	return rc;
}

/* The runtime polls us (fds, polled) only while not paused, but asks
 * idle() while a pause waits for idle: a swap that waits finishes here
 * too, so that a pause arriving meanwhile does not hold its answer until
 * the resume. */
static bool blk_idle(void *dev)
{
	struct blk_dev *d = dev;

	blk_model_reap(d->model);
	if (!blk_model_idle(d->model))
		return false;
	blk_swap_answer(d);
	return true;
}

static int blk_fds(void *dev, struct pollfd *out, unsigned max, int *timeout_ms)
{
	struct blk_dev *d = dev;

	int efd = blk_model_poll_fd(d->model);

	if (blk_swap_pending(&d->swap) && (*timeout_ms < 0 || *timeout_ms > BLK_SWAP_POLL_MS))
		*timeout_ms = BLK_SWAP_POLL_MS;
	d->uring_polled = efd >= 0 && max >= 1;
	if (!d->uring_polled)
		return 0;
	out[0] = (struct pollfd){.fd = efd, .events = POLLIN};
	return 1;
}

/* io_uring completions whether or not the eventfd fired: a reap with
 * nothing to take costs a read that fails with EAGAIN, and a swap waiting
 * for idle needs them taken. */
static void blk_polled(void *dev, struct pollfd *p, unsigned n)
{
	struct blk_dev *d = dev;

	blk_model_reap(d->model);
	blk_swap_answer(d);
}

static unsigned blk_counters(void *dev, struct dev_counter *out, unsigned max)
{
	struct blk_dev *d = dev;
	struct vdev *vd = blk_model_vdev(d->model);
	unsigned waiting = 0, taken = 0;
	uint64_t irqs, irqs_failed;

	if (max < 6)
		return 0;
	for (unsigned qi = 0; qi < blk_model_queues(d->model); qi++) {
		unsigned w, t;

		vdev_queue_depth(vd, qi, &w, &t);
		waiting += w;
		taken += t;
	}
	vdev_irq_stats(vd, &irqs, &irqs_failed);
	out[0] = (struct dev_counter){"swaps", d->swap.swaps};
	/* which backend the disk got (aio=): ctl status shows it */
	out[1] = (struct dev_counter){"io_uring", blk_model_uring(d->model)};
	/* depths now, not totals: where a stalled guest's requests are */
	out[2] = (struct dev_counter){"queue_waiting", waiting};
	out[3] = (struct dev_counter){"queue_in_flight", taken};
	out[4] = (struct dev_counter){"interrupts", irqs};
	out[5] = (struct dev_counter){"interrupts_failed", irqs_failed};
	return 6;
}

/* Its threads: the main one (the queue, the registers, the control
 * channel) and the worker pool (up to BLK_WORKERS, as we ask for no
 * other count, started as the load asks); a thread more fails with
 * EAGAIN. With
 * io_uring no pool is started, and the same room serves the kernel's
 * io-wq workers of the ring (an fsync, a buffered write that would
 * block), which count as our threads. The ring is set up here, before the
 * sandbox (blk_open_ring). No
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
	blk_open_ring(req->blk, req->virtio ? req->virtio->n_fd_notify : 0);
	return 0;
}

static const struct vdev_kind blk_vkind = {
    .name = "blk",
    .sandbox = blk_sandbox,
    .num_queues = 1,
    .max_queues = BLK_MAX_QUEUES,
    .check = blk_check,
    .create = blk_create,
    .destroy = blk_destroy,
    .fds = blk_fds,
    .polled = blk_polled,
    .counters = blk_counters,
    .control = blk_control,
    .idle = blk_idle,
    .restartable = true,
};

/* `moat-blk` serves a disk; `moat-blk probe` answers what an image is
 * (probe_main.h), for the monitor's backing chains and `moat img info`. */
int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "probe") == 0)
		return blk_probe_main();
	return vdev_proc_main(&blk_vkind);
}
