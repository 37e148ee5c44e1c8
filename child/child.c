#include "child.h"

#include <errno.h>

#include "log.h"
#include "pol_report_proto.h"

int child_recv_start(const ProtobufCMessageDescriptor *desc, int start_case, ProtobufCMessage **env,
		     struct ipc_fds *fds)
{
	ProtobufCMessage *m = NULL;
	int rc = ipc_recv_wait(CHILD_CONTROL_FD, desc, &m, fds, CHILD_START_TIMEOUT_MS);

	if (rc < 0)
		return log_error_errno(rc, "No start request from the monitor: %m");
	if (ipc_envelope_case(m) != start_case) {
		rc = log_error_errno(EPROTO, "Expected a start request, got message %d",
				     ipc_envelope_case(m));
		protobuf_c_message_free_unpacked(m, NULL);
		ipc_fds_close(fds);
		return rc;
	}
	*env = m;
	return 0;
}

int child_enter_sandbox(const char *policy, const struct pol_options *o, struct pol_report *rep,
			Moat__Sandbox__SandboxReport *sr)
{
	int rc = pol_sandbox_enter_opts(policy, o, rep);

	if (rc < 0)
		return log_error_errno(rc, "Failed to enter the sandbox: %m");
	pol_report_to_proto(rep, sr);
	return 0;
}

int child_send(const ProtobufCMessage *env)
{
	return ipc_send(CHILD_CONTROL_FD, env, NULL, 0);
}

int child_dispatch(const ProtobufCMessageDescriptor *desc, const struct child_handler *h,
		   unsigned nh, void *ctx)
{
	ProtobufCMessage *m = NULL;
	struct ipc_fds fds;
	int rc = ipc_recv(CHILD_CONTROL_FD, desc, &m, &fds);
	unsigned nfds = fds.n;

	if (rc == -EAGAIN)
		return 1;
	if (rc < 0)
		return rc;
	rc = -EPROTO;
	for (unsigned i = 0; i < nh; i++) {
		if (h[i].msg != ipc_envelope_case(m))
			continue;
		if (h[i].fn_fds)
			rc = h[i].fn_fds(ctx, m, &fds);
		else if (!nfds)
			rc = h[i].fn(ctx, m);
		break;
	}
	ipc_fds_close(&fds);
	if (rc == -EPROTO)
		log_error("Unexpected message %d (%u descriptors) from the monitor",
			  ipc_envelope_case(m), nfds);
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}
