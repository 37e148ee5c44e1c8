/* moat-blk's live disk swap (blk_swap.h). */
#include "blk_swap.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "channel.h"
#include "devproc.h"

void blk_swap_init(struct blk_swap *s, struct blk_model *m)
{
	*s = (struct blk_swap){.m = m, .fd = -1};
}

void blk_swap_fini(struct blk_swap *s)
{
	if (s->pending && s->fd >= 0)
		close(s->fd);
	s->pending = false;
	s->fd = -1;
}

static void fail(struct blk_swap *s, Moat__Dev__ControlResult *res, bool user, const char *what)
{
	if (what != s->err)
		snprintf(s->err, sizeof(s->err), "%s", what);
	res->error = s->err;
	res->user_error = user;
}

/* Switch to the pending medium (the model is idle) and let the queues go,
 * whatever the outcome: on failure the old medium serves them again. */
static void finish(struct blk_swap *s, Moat__Dev__ControlResult *res)
{
	int rc = blk_model_swap(s->m, s->fd, s->read_only, s->err, sizeof(s->err));

	if (rc < 0) {
		if (s->fd >= 0)
			close(s->fd);
		fail(s, res, rc == -EBADF || rc == -EINVAL, s->err);
	} else {
		s->swaps++;
	}
	s->pending = false;
	s->fd = -1;
	blk_model_release(s->m);
	res->capacity_sectors = blk_model_sectors(s->m);
}

int blk_swap_control(struct blk_swap *s, const Moat__Dev__ControlRequest *req, struct ipc_fds *fds,
		     Moat__Dev__ControlResult *res)
{
	const Moat__Dev__DiskSwap *ds = req->disk_swap;
	bool ro;
	uint64_t sectors;
	int fd = -1, rc;

	if (req->op_case != MOAT__DEV__CONTROL_REQUEST__OP_DISK_SWAP || !ds) {
		fail(s, res, true, "a disk has no such operation");
		return DEV_CONTROL_DONE;
	}
	if (s->pending) {
		fail(s, res, true, "another swap of this disk is under way");
		return DEV_CONTROL_DONE;
	}
	if (!ds->none && (fd = ipc_fds_take(fds, ds->fd_image)) < 0) {
		fail(s, res, false, "image: no descriptor at the index given");
		return DEV_CONTROL_DONE;
	}
	/* checked now, so that a bad image is refused without holding the
	 * guest's requests (and checked again at the switch: it may change) */
	ro = ds->read_only || blk_model_read_only(s->m);
	if (fd >= 0 && (rc = blk_image_check(fd, !ro, &sectors, s->err, sizeof(s->err))) < 0) {
		close(fd);
		fail(s, res, rc == -EBADF || rc == -EINVAL, s->err);
		return DEV_CONTROL_DONE;
	}
	s->pending = true;
	s->seq = req->seq;
	s->fd = fd;
	s->read_only = ds->read_only;
	blk_model_hold(s->m);
	if (!blk_model_idle(s->m))
		return DEV_CONTROL_LATER;
	finish(s, res);
	return DEV_CONTROL_DONE;
}

bool blk_swap_pending(const struct blk_swap *s)
{
	return s->pending;
}

bool blk_swap_poll(struct blk_swap *s, Moat__Dev__ControlResult *res)
{
	if (!s->pending || !blk_model_idle(s->m))
		return false;
	*res = (Moat__Dev__ControlResult)MOAT__DEV__CONTROL_RESULT__INIT;
	res->seq = s->seq;
	finish(s, res);
	res->ok = !res->error || !res->error[0];
	if (res->ok)
		res->error = "";
	return true;
}
