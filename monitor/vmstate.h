/* One running VM as the monitor sees it: moat-vcpu and the devices (the
 * table of children), the console, and what moat-vcpu said about the end. */
#pragma once

#include <stdbool.h>

#include "cgroup.h"
#include "children.h"
#include "console.h"
#include "control.h"
#include "ctl_ops.h"
#include "devices.h"
#include "resources.h"
#include "sdnotify.h"
#include "options.h"
#include "uids.h"

/* moat-vcpu has this long to end the VM after a StopRequest. */
#define MON_STOP_GRACE_MS 3000

struct mon_vm {
	const struct mon_config *cfg;
	struct mon_proc vcpu;
	struct mon_devices devs;
	struct mon_uids uids; /* the children's host uids */
	struct mon_cgroup cg; /* the VM's cgroup, if it has one */
	int sigfd;
	int console_out; /* guest output pipe, -1 when not relaying */
	int console_in;	 /* guest input pipe, -1 when not relaying */
	struct mon_console con;
	struct mon_resources *res; /* the images moat ctl disk swap replaces */
	struct mon_control ctl;	   /* the control socket */
	struct mon_ctl_state cs;   /* what moat ctl started and waits for */
	struct mon_notify notify;  /* systemd's notify socket */
	bool stopping_said;	   /* STOPPING=1 sent */

	bool stop_sent;
	/* SIGTERM pressed the power button; ms by which the guest must be
	 * off, or it is stopped (--shutdown-timeout) */
	bool button_sent;
	unsigned shutdown_timeout_s;
	int64_t shutdown_at;
	int64_t kill_at; /* ms: moat-vcpu was asked to stop and must be gone */
	/* What moat-vcpu said, made safe (devmsg.h); checked against how it
	 * really ended before it decides the exit status. */
	bool got_exit;
	int exit_reason;
	char exit_detail[160];
	char *exit_dump;
	char *bad_input;
};
