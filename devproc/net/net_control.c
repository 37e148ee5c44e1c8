/* moat-net's answer to control requests (net_control.h). */
#include "net_control.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Errors that say the request is wrong, not the card: the bind's (port
 * taken, address not the host's, a port below 1024), and those of
 * net_fwd_change's own checks. */
static bool request_at_fault(int rc)
{
	switch (-rc) {
	case EINVAL:
	case EADDRINUSE:
	case EADDRNOTAVAIL:
	case EACCES:
	case EEXIST:
	case ENOENT:
	case ENOSPC:
	case EOPNOTSUPP:
		return true;
	default:
		return false;
	}
}

int net_control(const struct net_backend *be, const Moat__Dev__ControlRequest *req, char *err,
		size_t errlen, bool *user_error)
{
	int rc;

	err[0] = 0;
	if (req->op_case != MOAT__DEV__CONTROL_REQUEST__OP_HOSTFWD || !req->hostfwd) {
		snprintf(err, errlen, "this device has no such operation");
		rc = -EOPNOTSUPP;
	} else if (!be->hostfwd) {
		snprintf(err, errlen, "not a user-networking card");
		rc = -EOPNOTSUPP;
	} else {
		rc = be->hostfwd(be->be, req->hostfwd, err, errlen);
	}
	if (rc < 0 && !err[0])
		snprintf(err, errlen, "hostfwd: %s", strerror(-rc));
	if (rc < 0)
		*user_error = request_at_fault(rc);
	else
		err[0] = 0;
	return rc;
}
