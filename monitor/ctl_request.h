/* A request from the control socket (ipc/proto/control.proto), unpacked
 * and checked: the one place where a client's bytes are read. Pure (no
 * I/O), so the unit tests and the fuzzer run exactly this. What passes is
 * plain data with every field in range; the rest is an error line for the
 * reply. The VM never sees a request that did not pass. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netopt.h"

#define MON_CTL_MAX_REQ	  8192 /* bytes of one request datagram */
#define MON_CTL_MAX_LINES 1000 /* audit tail */
#define MON_CTL_DEF_LINES 20
#define MON_CTL_ID_MAX	  15  /* a device id: 1..15 of [a-z0-9_-] */
#define MON_CTL_ERR_LEN	  160 /* holds every error line of mon_ctl_parse */

enum mon_ctl_op {
	MON_CTL_STATUS = 1,
	MON_CTL_PAUSE,
	MON_CTL_RESUME,
	MON_CTL_SHUTDOWN,
	MON_CTL_STOP,
	MON_CTL_RESET,
	MON_CTL_DISK_SWAP,
	MON_CTL_HOSTFWD_LIST,
	MON_CTL_HOSTFWD_ADD,
	MON_CTL_HOSTFWD_REMOVE,
	MON_CTL_AUDIT_TAIL,
	MON_CTL_VERSION,
	MON_CTL_DEVICE_RESTART,
};

/* Only the fields of op are set; all others are zero (empty strings). */
struct mon_ctl_req {
	enum mon_ctl_op op;
	/* shutdown: has_timeout, timeout_s (0..MON_MAX_SHUTDOWN_S of
	 * options.h); without has_timeout, timeout_s is 0 */
	bool has_timeout;
	unsigned timeout_s;
	/* disk swap: the disk; hostfwd: the card ("": the only user card);
	 * device restart: the device. Checked for its characters only:
	 * whether it names a device is the VM's business. */
	char id[MON_CTL_ID_MAX + 1];
	/* disk swap: an absolute path (no control characters), or none */
	char path[PATH_MAX];
	bool none;
	bool read_only; /* never with none */
	/* hostfwd add and remove: the rule, parsed by netopt's grammar */
	struct netopt_fwd fwd;
	/* audit tail: 1..MON_CTL_MAX_LINES (0 asked: MON_CTL_DEF_LINES) */
	unsigned lines;
};

/* Unpack buf[0..len) as a moat.ctl.Request and check it into *out.
 * 0 (err empty), or -EMSGSIZE (too big), -EBADMSG (does not unpack),
 * -EPROTO (another version, no operation), -EINVAL (a field breaks its
 * rule, a string holds a NUL byte), each with one printable line in err
 * (NUL-terminated when errlen > 0; MON_CTL_ERR_LEN bytes hold any) that
 * quotes client text only escaped and clipped; *out is written only on
 * success. */
int mon_ctl_parse(const uint8_t *buf, size_t len, struct mon_ctl_req *out, char *err,
		  size_t errlen);
