/* The sandbox report as it travels to the monitor (ipc/proto/sandbox.proto).
 * For children, which link both the policy library and the protobufs. The
 * message points into rep: keep rep alive until the message is sent. */
#pragma once

#include "pol.h"
#include "sandbox.pb-c.h"

static inline void pol_report_to_proto(const struct pol_report *rep,
				       Moat__Sandbox__SandboxReport *sr)
{
	moat__sandbox__sandbox_report__init(sr);
	sr->uid = rep->uid;
	sr->caps_all_zero = rep->caps_all_zero;
	sr->no_new_privs = rep->no_new_privs;
	sr->seccomp_mode = rep->seccomp_mode;
	sr->policy_syscalls = rep->policy_syscalls;
	sr->namespaces = (char *)rep->namespaces;
}
