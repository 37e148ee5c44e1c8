/* A virtio device process (moat-blk, moat-net, ...) around the device core
 * (vdevice.h): what it takes from its start request (guest RAM, mapped and
 * its descriptor closed; one notify eventfd per queue, KVM's ioeventfd; one
 * irq eventfd per MSI-X vector, KVM's irqfd), and the struct dev_kind
 * callbacks every virtio kind shares. A kind is then a table (struct
 * vdev_kind) whose create builds its model from the start request, and a
 * main that is one call: return vdev_proc_main(&blk_vkind). */
#pragma once

#include <stddef.h>

#include "device.pb-c.h"
#include "devproc.h"
#include "gmem.h"
#include "vdevice.h"
#include "virtio_pci_layout.h"

struct ipc_fds;
struct pol_options;
struct pollfd;

struct vdev_res {
	struct gmem mem;
	int notify_fd[VPCI_MAX_QUEUES];
	unsigned nq;
	int irq_fd[VPCI_MAX_VECTORS];
	unsigned nirq;
};

/* Take what v names from fds (the device has between nq_min and nq_max
 * queues, one notify descriptor each, and between 1 and VPCI_MAX_VECTORS
 * vectors) and map guest RAM. 0, or -errno with one line in err; *r is
 * then released already. */
int vdev_res_take(struct vdev_res *r, const Moat__Dev__VirtioConfig *v, unsigned nq_min,
		  unsigned nq_max, struct ipc_fds *fds, char *err, size_t errlen);
/* Unmap and close; fine on a zeroed or failed one. */
void vdev_res_release(struct vdev_res *r);

struct vdev_kind {
	const char *name; /* struct dev_kind's kind: "blk" */
	/* Optional: struct dev_kind's sandbox (a policy other than name's). */
	int (*sandbox)(const Moat__Dev__StartRequest *req, const char **policy,
		       struct pol_options *o, char *err, size_t errlen);
	unsigned num_queues;
	/* Optional: a kind whose queue count the monitor sets (virtio-blk's
	 * queues=): it takes as many as the start request has notify
	 * descriptors, from num_queues to max_queues (<= VPCI_MAX_QUEUES);
	 * vdev_params.nqueues says how many. 0: exactly num_queues. */
	unsigned max_queues;
	/* Is req a complete start request of this kind (its part and the
	 * virtio part)? Before any descriptor is taken. 0, or -EPROTO with
	 * one line in err. */
	int (*check)(const Moat__Dev__StartRequest *req, char *err, size_t errlen);
	/* Build the device from the kind's part of req, on the transport's
	 * resources vp (not owned; they outlive the device): take the kind's
	 * own descriptors from fds, set *dev (the kind's object) and *vd (its
	 * device in the core).
	 * 0, or -errno with one line in err; nothing is left to destroy. */
	int (*create)(void **dev, struct vdev **vd, const Moat__Dev__StartRequest *req,
		      struct ipc_fds *fds, const struct vdev_params *vp, char *err, size_t errlen);
	void (*destroy)(void *dev);
	/* Optional: descriptors of the kind's own (a backend), polled after
	 * the queues' eventfds, as struct dev_kind's fds and polled. */
	int (*fds)(void *dev, struct pollfd *out, unsigned max, int *timeout_ms);
	void (*polled)(void *dev, struct pollfd *p, unsigned n);
	/* Optional: the kind's counters; returns how many (at most max). */
	unsigned (*counters)(void *dev, struct dev_counter *out, unsigned max);
	/* Optional: struct dev_kind's control and idle. */
	int (*control)(void *dev, const Moat__Dev__ControlRequest *req, struct ipc_fds *fds,
		       Moat__Dev__ControlResult *res);
	bool (*idle)(void *dev);
	/* Its process can be replaced under a running guest (issue 15): the
	 * transport's state and the queues' in-flight records are kept in
	 * the state file (vdev_save, vdev_restore), and the kind rebuilds
	 * everything else from its start request. */
	bool restartable;
};

/* Run the device process of kind k (dev_main with the callbacks below);
 * the exit status. Once per process. */
int vdev_proc_main(const struct vdev_kind *k);

/* struct dev_kind's callbacks, the same for every virtio kind. */
int vdev_proc_init(void **model, const Moat__Dev__StartRequest *req, struct ipc_fds *fds, char *err,
		   size_t errlen);
void vdev_proc_io(void *model, unsigned space, uint64_t addr, unsigned size, bool is_write,
		  uint64_t *data);
int vdev_proc_fds(void *model, struct pollfd *out, unsigned max, int *timeout_ms);
void vdev_proc_polled(void *model, struct pollfd *p, unsigned n);
unsigned vdev_proc_counters(void *model, struct dev_counter *out);
int vdev_proc_control(void *model, const Moat__Dev__ControlRequest *req, struct ipc_fds *fds,
		      Moat__Dev__ControlResult *res);
bool vdev_proc_idle(void *model);
size_t vdev_proc_save(void *model, uint8_t *buf, size_t cap);
int vdev_proc_restore(void *model, const uint8_t *buf, size_t len, void *live, size_t live_len,
		      char *err, size_t errlen);
void vdev_proc_destroy(void *model);
