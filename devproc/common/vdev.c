#include "vdev.h"

#include <errno.h>
#include <stdio.h>
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

int vdev_res_take(struct vdev_res *r, const Moat__Dev__VirtioConfig *v, unsigned nq,
		  struct ipc_fds *fds, char *err, size_t errlen)
{
	int mem_fd, rc = 0;

	res_reset(r);
	if (!v || nq > VPCI_MAX_QUEUES || v->n_fd_notify != nq || v->n_fd_irq < 1 ||
	    v->n_fd_irq > VPCI_MAX_VECTORS) {
		snprintf(err, errlen, "start: %zu notify and %zu irq descriptors (want %u and 1..%u)",
			 v ? v->n_fd_notify : 0, v ? v->n_fd_irq : 0, nq, VPCI_MAX_VECTORS);
		return -EPROTO;
	}
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
