/* The child runtime: what every sandboxed child of the monitor (moat-vcpu
 * and each moat-<kind>) does around its own work, in one place. Its
 * control channel is fd 3 (monitor/spawn.h). In order:
 *   child_recv_start()     the start request, the first message, waited for;
 *   child_enter_sandbox()  pol_sandbox_enter_opts() and the report as it
 *                          travels in READY;
 *   child_send()           READY, and the rest of what it says;
 *   child_dispatch()       the monitor-message pump: each message from the
 *                          monitor goes to the handler of its envelope case;
 *                          descriptors, or a case without a handler, break
 *                          the channel.
 * What the runtime itself needs from the kernel is policy/child.policy,
 * which every child's policy includes. */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "channel.h"
#include "pol.h"
#include "sandbox.pb-c.h"

#define CHILD_CONTROL_FD       3
#define CHILD_START_TIMEOUT_MS 30000

/* Wait for the monitor's first message and check it is the envelope case
 * start_case. *env owns the message (protobuf_c_message_free_unpacked),
 * fds its descriptors. 0 or -errno (logged). */
int child_recv_start(const ProtobufCMessageDescriptor *desc, int start_case, ProtobufCMessage **env,
		     struct ipc_fds *fds);

/* Enter the sandbox under policy (o: NULL for the defaults) and fill *sr
 * with the report for READY; sr points into rep, which must outlive it.
 * 0 or -errno (logged): the caller must exit. */
int child_enter_sandbox(const char *policy, const struct pol_options *o, struct pol_report *rep,
			Moat__Sandbox__SandboxReport *sr);

/* Send one envelope to the monitor. 0 or -errno. */
int child_send(const ProtobufCMessage *env);

/* A handler of one envelope case from the monitor: 1 to go on, 0 when the
 * child is told to stop, -errno to give up. A case whose message may carry
 * descriptors (a disk swap's image) has fn_fds instead: it takes those it
 * keeps with ipc_fds_take(), and the rest are closed after it returns. */
struct child_handler {
	int msg;
	int (*fn)(void *ctx, const ProtobufCMessage *env);
	int (*fn_fds)(void *ctx, const ProtobufCMessage *env, struct ipc_fds *fds);
};

/* Serve one pending message from the monitor (none: 1). Returns what the
 * handler returned, or -EPROTO for descriptors sent to a handler without
 * fn_fds or a case without handler (logged), -EPIPE once the monitor is
 * gone. */
int child_dispatch(const ProtobufCMessageDescriptor *desc, const struct child_handler *h,
		   unsigned nh, void *ctx);
