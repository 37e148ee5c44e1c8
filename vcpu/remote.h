/* Port ranges owned by device processes: a trapped access is posted to the
 * device's shared-memory ring (slot = this vCPU) and the vCPU thread waits
 * for the reply. A device that dies, answers garbage or does not answer in
 * time is detached: from then on its reads float high (all ones) and its
 * writes are dropped, and the guest keeps running. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdbool.h>

#include "ioring.h"
#include "moat_limits.h"

/* Every device the monitor may configure (moat_limits.h checks that they
 * fit the PCI slots and that the start request's descriptors fit one
 * message). */
#define REMOTE_MAX_DEVICES MOAT_MAX_DEVICES
/* A device this slow is treated as hung and detached: a vCPU never waits
 * longer. A device that dies is seen at once (closed doorbell, the
 * monitor's detach); this bound is for a live device that stops
 * answering, and is generous because a busy or nested host can leave a
 * healthy device process unscheduled for a second or more. */
#define REMOTE_TIMEOUT_MS 10000

struct remote_dev {
	char name[16];
	struct ioring ring;
	int doorbell;
	atomic_bool detached;
	atomic_bool warned;
	/* detach and reattach, one at a time; gen counts reattachments */
	pthread_mutex_t lock;
	atomic_uint gen;
};

/* The vCPU index of the calling thread: its slot in every ring. */
extern __thread unsigned vcpu_self_id;

/* One access on the device's ring: a dead or detached device reads all
 * ones and drops writes. Returns 0 or the ring's -errno. */
int remote_access(struct remote_dev *d, unsigned space, uint64_t addr, uint8_t *data, unsigned len,
		  bool is_write);
/* The iobus handler of a remote device (opaque: struct remote_dev). */
void remote_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write);
/* Stop forwarding to it (the monitor saw it die). */
void remote_detach(struct remote_dev *d, const char *why);
/* Forward to it again (the monitor restarted it: a new process serves the
 * same ring, which the monitor reset): doorbell (not consumed) takes the
 * old doorbell's place. 0, -EBUSY when it was not detached, or -errno. */
int remote_reattach(struct remote_dev *d, int doorbell);
