/* What a virtio-pci device process holds besides its model, taken from its
 * start request: guest RAM (mapped, the descriptor closed), one notify
 * eventfd per queue (KVM's ioeventfd) and one irq eventfd per MSI-X vector
 * (KVM's irqfd). Shared by moat-blk and moat-net. */
#pragma once

#include <stddef.h>

#include "device.pb-c.h"
#include "gmem.h"
#include "virtio_pci_layout.h"

struct ipc_fds;

struct vdev_res {
	struct gmem mem;
	int notify_fd[VPCI_MAX_QUEUES];
	unsigned nq;
	int irq_fd[VPCI_MAX_VECTORS];
	unsigned nirq;
};

/* Take what v names from fds (the device has nq queues, and between 1 and
 * VPCI_MAX_VECTORS vectors) and map guest RAM. 0, or -errno with one line
 * in err; *r is then released already. */
int vdev_res_take(struct vdev_res *r, const Moat__Dev__VirtioConfig *v, unsigned nq,
		  struct ipc_fds *fds, char *err, size_t errlen);
/* Unmap and close; fine on a zeroed or failed one. */
void vdev_res_release(struct vdev_res *r);
