/* The monitor's side of the channel to a device process
 * (ipc/proto/device.proto): the requests it sends, beside the handlers of
 * what a device may send back and the table of when it may. */
#pragma once

#include "devices.h"

/* START, once: ring, doorbell, the virtio part, the kind's part. */
int mon_dev_send_start(struct mon_device *d, const struct mon_config *cfg,
		       const struct mon_resources *r);
/* STATS: ask for counters; the answer is allowed once per request. */
int mon_dev_send_stats(struct mon_device *d);

/* Serve what d sent, every pending message: READY (checked against /proc),
 * START_ERROR (kept, made safe, in d->start_error), STATS (audited). */
void mon_dev_dispatch(struct mon_device *d);
