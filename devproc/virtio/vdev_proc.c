/* A virtio device process's resources and its struct dev_kind callbacks
 * (vdev_proc.h). */
#include "vdev_proc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"

static void res_reset(struct vdev_res *r)
{
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < VPCI_MAX_QUEUES; i++)
		r->notify_fd[i] = -1;
	for (unsigned i = 0; i < VPCI_MAX_VECTORS; i++)
		r->irq_fd[i] = -1;
}

void vdev_res_release(struct vdev_res *r)
{
	gmem_unmap(&r->mem);
	for (unsigned i = 0; i < r->nq; i++)
		if (r->notify_fd[i] >= 0)
			close(r->notify_fd[i]);
	for (unsigned i = 0; i < r->nirq; i++)
		if (r->irq_fd[i] >= 0)
			close(r->irq_fd[i]);
	res_reset(r);
}

int vdev_res_take(struct vdev_res *r, const Moat__Dev__VirtioConfig *v, unsigned nq_min,
		  unsigned nq_max, struct ipc_fds *fds, char *err, size_t errlen)
{
	unsigned nq;
	int mem_fd, rc = 0;

	res_reset(r);
	if (!v || nq_max > VPCI_MAX_QUEUES || v->n_fd_notify < nq_min || v->n_fd_notify > nq_max ||
	    v->n_fd_irq < 1 || v->n_fd_irq > VPCI_MAX_VECTORS) {
		snprintf(err, errlen,
			 "start: %zu notify and %zu irq descriptors (want %u..%u and 1..%u)",
			 v ? v->n_fd_notify : 0, v ? v->n_fd_irq : 0, nq_min, nq_max,
			 VPCI_MAX_VECTORS);
		return -EPROTO;
	}
	nq = (unsigned)v->n_fd_notify;
	r->nq = nq;
	r->nirq = (unsigned)v->n_fd_irq;
	mem_fd = ipc_fds_take(fds, v->fd_mem);
	for (unsigned i = 0; i < nq; i++)
		if ((r->notify_fd[i] = ipc_fds_take(fds, v->fd_notify[i])) < 0)
			rc = -EBADF;
	for (unsigned i = 0; i < r->nirq; i++)
		if ((r->irq_fd[i] = ipc_fds_take(fds, v->fd_irq[i])) < 0)
			rc = -EBADF;
	if (mem_fd < 0 || rc < 0) {
		snprintf(err, errlen, "start: descriptor indices do not match");
		rc = -EBADF;
	} else if ((rc = gmem_map(&r->mem, mem_fd, v->mem_bytes)) < 0) {
		snprintf(err, errlen, "guest RAM: %s", strerror(-rc));
	}
	if (mem_fd >= 0)
		close(mem_fd); /* the mapping stays */
	if (rc < 0)
		vdev_res_release(r);
	return rc;
}

/* The object dev_main holds for a virtio kind. */
struct vdev_proc {
	const struct vdev_kind *k;
	struct vdev_res res;
	void *dev;
	struct vdev *vd;
	unsigned nq_fds; /* the queues' entries lead the polled slice */
};

/* The kind this process runs: struct dev_kind's init_fds has no room for
 * it. Set once by vdev_proc_main, before dev_main calls anything. */
static const struct vdev_kind *proc_kind;

int vdev_proc_main(const struct vdev_kind *k)
{
	const struct dev_kind dk = {
	    .kind = k->name,
	    .sandbox = k->sandbox,
	    .init_fds = vdev_proc_init,
	    .io = vdev_proc_io,
	    .destroy = vdev_proc_destroy,
	    .fds = vdev_proc_fds,
	    .polled = vdev_proc_polled,
	    .counters = vdev_proc_counters,
	    .control = k->control ? vdev_proc_control : NULL,
	    .idle = k->idle ? vdev_proc_idle : NULL,
	    .save = k->restartable ? vdev_proc_save : NULL,
	    .restore = k->restartable ? vdev_proc_restore : NULL,
	};

	proc_kind = k;
	return dev_main(&dk);
}

int vdev_proc_init(void **model, const Moat__Dev__StartRequest *req, struct ipc_fds *fds, char *err,
		   size_t errlen)
{
	const struct vdev_kind *k = proc_kind;
	struct vdev_proc *p;
	int rc;

	rc = k->check(req, err, errlen);
	if (rc < 0)
		return rc;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->k = k;
	rc = vdev_res_take(&p->res, req->virtio, k->num_queues,
			   k->max_queues ? k->max_queues : k->num_queues, fds, err, errlen);
	if (rc < 0) {
		free(p);
		return rc;
	}
	struct vdev_params vp = {
	    .mem = &p->res.mem,
	    .bar0_gpa = req->virtio->bar0_gpa,
	    .notify_fds = p->res.notify_fd,
	    .nqueues = p->res.nq,
	    .irq_fds = p->res.irq_fd,
	    .nvectors = p->res.nirq,
	};
	rc = k->create(&p->dev, &p->vd, req, fds, &vp, err, errlen);
	if (rc < 0) {
		vdev_res_release(&p->res);
		free(p);
		return rc;
	}
	*model = p;
	return 0;
}

void vdev_proc_io(void *model, unsigned space, uint64_t addr, unsigned size, bool is_write,
		  uint64_t *data)
{
	struct vdev_proc *p = model;

	vdev_io(p->vd, space, addr, size, is_write, data);
}

int vdev_proc_fds(void *model, struct pollfd *out, unsigned max, int *timeout_ms)
{
	struct vdev_proc *p = model;
	unsigned n = vdev_fds(p->vd, out, max);
	int m;

	p->nq_fds = n;
	if (!p->k->fds)
		return (int)n;
	m = p->k->fds(p->dev, out + n, max - n, timeout_ms);
	return m < 0 ? m : (int)n + m;
}

/* The guest's kicks first: TX frames reach a backend before it is polled,
 * and RX buffers are there for what it delivers. */
void vdev_proc_polled(void *model, struct pollfd *pfd, unsigned n)
{
	struct vdev_proc *p = model;
	unsigned k = p->nq_fds < n ? p->nq_fds : n;

	vdev_polled(p->vd, pfd, k);
	if (p->k->polled)
		p->k->polled(p->dev, pfd + k, n - k);
}

unsigned vdev_proc_counters(void *model, struct dev_counter *out)
{
	struct vdev_proc *p = model;

	if (!p || !p->k->counters)
		return 0;
	return p->k->counters(p->dev, out, DEV_MAX_COUNTERS);
}

int vdev_proc_control(void *model, const Moat__Dev__ControlRequest *req, struct ipc_fds *fds,
		      Moat__Dev__ControlResult *res)
{
	struct vdev_proc *p = model;

	return p->k->control(p->dev, req, fds, res);
}

bool vdev_proc_idle(void *model)
{
	struct vdev_proc *p = model;

	return p->k->idle(p->dev);
}

size_t vdev_proc_save(void *model, uint8_t *buf, size_t cap)
{
	struct vdev_proc *p = model;

	return vdev_save(p->vd, buf, cap);
}

int vdev_proc_restore(void *model, const uint8_t *buf, size_t len, void *live, size_t live_len,
		      char *err, size_t errlen)
{
	struct vdev_proc *p = model;
	int rc = vdev_attach_state(p->vd, live, live_len, err, errlen);

	if (rc == 0 && len > 0)
		rc = vdev_restore(p->vd, buf, len, err, errlen);
	return rc;
}

void vdev_proc_destroy(void *model)
{
	struct vdev_proc *p = model;

	if (!p)
		return;
	p->k->destroy(p->dev);
	vdev_res_release(&p->res);
	free(p);
}
