/* `moat ctl`'s command line, turned into a Request ready to pack. Pure:
 * no I/O, no environment; the caller passes the working directory a
 * relative disk path is made absolute against. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "control.pb-c.h"

#define CTL_DEF_TIMEOUT_S 30	/* disk swap under load can take seconds */
#define CTL_MAX_TIMEOUT_S 86400 /* a day: a longer wait is a mistake */
#define CTL_DEF_LINES	  20	/* audit tail without N */
#define CTL_MAX_LINES	  1000	/* the protocol's cap for audit tail */

enum ctl_op {
	CTL_STATUS,
	CTL_PAUSE,
	CTL_RESUME,
	CTL_SHUTDOWN,
	CTL_STOP,
	CTL_RESET,
	CTL_DISK_SWAP,
	CTL_HOSTFWD_ADD,
	CTL_HOSTFWD_REMOVE,
	CTL_HOSTFWD_LIST,
	CTL_AUDIT_TAIL,
	CTL_VERSION,
	CTL_DEVICE_RESTART,
};

/* One invocation. The request and its sub-message point into this struct
 * and into argv, so it must not be copied, and argv must outlive it. */
struct ctl_cmd {
	const char *name;    /* --name, or NULL */
	const char *control; /* --control, or NULL */
	bool json;
	unsigned timeout_s;

	/* --help asked: help_topic is NULL for the whole page, else the
	 * command word ("disk", "status"); nothing else below is set. */
	bool help;
	const char *help_topic;

	enum ctl_op op;
	const char *disk_id; /* disk swap: for the "disk ID: swapped" line */
	Moat__Ctl__Request req;
	union {
		Moat__Ctl__StatusRequest status;
		Moat__Ctl__PauseRequest pause;
		Moat__Ctl__ResumeRequest resume;
		Moat__Ctl__ShutdownRequest shutdown;
		Moat__Ctl__StopRequest stop;
		Moat__Ctl__ResetRequest reset;
		Moat__Ctl__DiskSwapRequest disk_swap;
		Moat__Ctl__HostfwdRequest hostfwd;
		Moat__Ctl__AuditTailRequest audit_tail;
		Moat__Ctl__VersionRequest get_version;
		Moat__Ctl__DeviceRestartRequest device_restart;
	} sub;
	char path[PATH_MAX]; /* disk swap: the absolute path sent */
};

/* Parse argv[1..argc) (argv[0] is "ctl") into *cmd. cwd is the directory
 * a relative disk path is joined to (NULL: unknown, and a relative path
 * is refused). 0 (check cmd->help first), or -EINVAL with one line for
 * the user in err. */
int ctl_parse_args(int argc, char **argv, const char *cwd, struct ctl_cmd *cmd, char *err,
		   size_t errlen);

/* "disk swap", "status": the command's words, for messages. */
const char *ctl_op_name(enum ctl_op op);
