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

/* CONTROL: one control-plane request (disk swap, forward) with its
 * descriptors; answered by CONTROL_RESULT (d->pending). 0 or -errno. */
int mon_dev_send_control(struct mon_device *d, Moat__Dev__ControlRequest *req, const int *fds,
			 unsigned nfds);
/* PAUSE (answered by PAUSED: d->paused), RESUME (no answer), PING (PONG:
 * d->pong). 0 or -errno. */
int mon_dev_send_pause(struct mon_device *d);
int mon_dev_send_resume(struct mon_device *d);
int mon_dev_send_ping(struct mon_device *d, uint64_t seq);

/* Serve what d sent, every pending message: READY (checked against /proc),
 * START_ERROR (kept, made safe, in d->start_error), STATS (audited). */
void mon_dev_dispatch(struct mon_device *d);
