#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

__thread unsigned vcpu_self_id;

/* Detach d unless it was attached again since generation gen (a vCPU
 * thread whose call failed on the old process must not detach the new). */
static void detach_gen(struct remote_dev *d, unsigned gen, const char *why)
{
	pthread_mutex_lock(&d->lock);
	if (atomic_load(&d->gen) == gen) {
		atomic_store(&d->detached, true);
		ioring_mark_dead(&d->ring);
		if (!atomic_exchange(&d->warned, true))
			log_warn("device %s detached: %s; its ports now read all ones", d->name,
				 why);
	}
	pthread_mutex_unlock(&d->lock);
}

void remote_detach(struct remote_dev *d, const char *why)
{
	detach_gen(d, atomic_load(&d->gen), why);
}

int remote_reattach(struct remote_dev *d, int doorbell)
{
	int rc = 0;

	pthread_mutex_lock(&d->lock);
	if (!atomic_load(&d->detached)) {
		rc = -EBUSY; /* it never left: the monitor is confused */
		goto out;
	}
	/* In place, so that no vCPU thread ever sends to a closed or reused
	 * descriptor number: dup3 replaces the old socket atomically. */
	if (dup3(doorbell, d->doorbell, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	ioring_revive(&d->ring);
	atomic_fetch_add(&d->gen, 1);
	atomic_store(&d->warned, false);
	atomic_store(&d->detached, false);
	log_info("device %s is back (a new process serves it)", d->name);
out:
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int remote_access(struct remote_dev *d, unsigned space, uint64_t addr, uint8_t *data,
		  unsigned len, bool is_write)
{
	struct ioring_req req = {
		.space = (uint8_t)space,
		.size = (uint8_t)len,
		.is_write = is_write,
		.addr = addr,
	};
	uint64_t val = 0;
	int rc;

	unsigned gen = atomic_load(&d->gen);

	if (is_write)
		memcpy(&req.data, data, len);
	if (atomic_load(&d->detached)) {
		rc = -EPIPE;
	} else {
		rc = ioring_call(&d->ring, vcpu_self_id, &req, &val, REMOTE_TIMEOUT_MS);
		/* -ESTALE: the device died and came back during this call;
		 * this one access is lost, the device is not */
		if (rc == -ESTALE)
			;
		else if (rc == -ETIMEDOUT)
			detach_gen(d, gen, "it did not answer in time");
		else if (rc == -EPIPE)
			detach_gen(d, gen, "it is gone");
		else if (rc < 0)
			detach_gen(d, gen, "it answered garbage");
	}
	if (!is_write) {
		if (rc < 0)
			memset(data, 0xff, len);
		else
			memcpy(data, &val, len);
	}
	return rc;
}

void remote_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write)
{
	remote_access(opaque, IORING_SPACE_PIO, port, data, len, is_write);
}
