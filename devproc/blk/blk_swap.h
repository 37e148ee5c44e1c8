/* moat ctl disk swap, on moat-blk's side: device.proto's ControlRequest
 * with a DiskSwap (the monitor opened, checked and locked the new image
 * and sends its descriptor, or none for an empty medium), answered with a
 * ControlResult carrying the new capacity.
 *
 * A swap holds the queues (blk_model_hold: kicks are read and wait),
 * lets the requests already in the pool finish against the old image,
 * and once the model is idle switches the medium (blk_model_swap),
 * releases the queues (the kicks that waited are served against the new
 * medium) and answers. Idle at once (no request in flight, or the device
 * paused: a pause waits for idle and pops nothing after), it answers
 * straight away; otherwise later, from the loop (blk_swap_poll).
 *
 * Errors leave the old medium in use, untouched. user_error is set where
 * the user's request is at fault: the image cannot serve the disk (not
 * open for writing for a read-write disk, not a regular file or block
 * device) or another swap is under way. A descriptor index that names
 * none, an operation that is not a swap, and a failed fstat, lseek or
 * fdatasync are not the user's. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "blk_model.h"
#include "device.pb-c.h"

struct ipc_fds;

struct blk_swap {
	struct blk_model *m; /* not owned */
	bool pending;	     /* held, waiting for idle */
	uint32_t seq;	     /* the pending request's */
	int fd;		     /* the pending medium (ours), -1: none */
	bool read_only;
	uint64_t swaps; /* done, for the stats */
	char err[160];	/* the last error, as the ControlResult's */
};

void blk_swap_init(struct blk_swap *s, struct blk_model *m);
/* Closes a pending swap's descriptor (the queues stay held: only for the
 * end of the process). */
void blk_swap_fini(struct blk_swap *s);

/* struct dev_kind's control (loop thread, no locks held): a DiskSwap is
 * begun, its descriptor taken from fds. DEV_CONTROL_DONE with *res
 * filled (error and user_error on failure; res->error points into s), or
 * DEV_CONTROL_LATER: blk_swap_poll answers when the model is idle. */
int blk_swap_control(struct blk_swap *s, const Moat__Dev__ControlRequest *req, struct ipc_fds *fds,
		     Moat__Dev__ControlResult *res);

/* Is a swap waiting for the model to go idle? (The loop then looks again
 * soon: struct dev_kind's fds lowers its timeout.) */
bool blk_swap_pending(const struct blk_swap *s);
/* Loop thread: if a swap is pending and the model idle, switch and fill
 * *res completely (seq and ok too), to send with dev_control_reply.
 * Returns whether it did. */
bool blk_swap_poll(struct blk_swap *s, Moat__Dev__ControlResult *res);
