#include "remote.h"

#include <errno.h>
#include <string.h>

#include "log.h"

__thread unsigned vcpu_self_id;

void remote_detach(struct remote_dev *d, const char *why)
{
	atomic_store(&d->detached, true);
	ioring_mark_dead(&d->ring);
	if (!atomic_exchange(&d->warned, true))
		log_warn("device %s detached: %s; its ports now read all ones", d->name, why);
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

	if (is_write)
		memcpy(&req.data, data, len);
	if (atomic_load(&d->detached)) {
		rc = -EPIPE;
	} else {
		rc = ioring_call(&d->ring, vcpu_self_id, &req, &val, REMOTE_TIMEOUT_MS);
		if (rc == -ETIMEDOUT)
			remote_detach(d, "it did not answer in time");
		else if (rc == -EPIPE)
			remote_detach(d, "it is gone");
		else if (rc < 0)
			remote_detach(d, "it answered garbage");
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
