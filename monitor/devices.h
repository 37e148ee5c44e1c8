/* The device processes of one VM, from the monitor's side: each gets its
 * own sandboxed process (moat-<kind>, an entry of the table of children),
 * a trapped-I/O ring shared with moat-vcpu, and a doorbell. The monitor
 * starts them all at once before moat-vcpu, waits until every one is
 * READY (one poll over all of them), and hands
 * moat-vcpu the ring and doorbell of each. A device that dies later is
 * recorded and detached; the VM goes on. Kinds are rows of kinds.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"
#include "children.h"
#include "control.h"
#include "ctl_request.h"
#include "devmsg.h"
#include "moat_limits.h"
#include "options.h"
#include "resources.h"
#include "virtio_pci_layout.h"

#define MON_MAX_DEVICES MOAT_MAX_DEVICES

struct mon_kind;

/* Forwards a user-networking card may have at run time (moat ctl hostfwd). */
#define MON_MAX_RUNTIME_FWD 64

/* What a device last said of its counters (names checked), for status. */
struct mon_dev_stats {
	bool have;
	uint64_t requests, bad_requests;
	unsigned n;
	char name[MON_MAX_COUNTERS][33];
	uint64_t value[MON_MAX_COUNTERS];
};

/* The one control-plane request outstanding with a device (ctl_ops.c),
 * and its answer as proto_dev.c took it, made safe. */
struct mon_dev_pending {
	uint32_t seq; /* 0: nothing outstanding */
	enum mon_ctl_op op;
	struct mon_ctl_who who;
	int64_t deadline;      /* ms */
	int new_fd;	       /* disk swap: the new image (ours), or -1 */
	char *path;	       /* disk swap: its path, NULL for none */
	bool ro;
	struct netopt_fwd fwd; /* hostfwd add or remove */
	bool answered, ok, user_error;
	char error[256];
	uint64_t capacity;
};

/* Restarts one device may have within MON_RESTART_WINDOW_MS (restart.h). */
#define MON_RESTART_MAX	     3
#define MON_RESTART_MAX_TEXT "3" /* for messages */

/* When a device's last restarts happened (restart.c's budget). */
struct mon_restart_log {
	int64_t at[MON_RESTART_MAX]; /* ms, oldest overwritten; 0: none */
	unsigned next;
};

struct mon_device {
	struct mon_proc proc; /* name ("blk0"), kind, pid, channel, state */
	const struct mon_kind *kind;
	unsigned index;		    /* which --smc/--disk/--net of its kind */
	uint16_t pio_base, pio_len; /* a port device (smc) */
	int ring_fd;		    /* for moat-vcpu */
	int doorbell;		    /* for moat-vcpu: its end of the doorbell socketpair */
	int doorbell_dev;	    /* the device's end, closed once handed over */
	bool detached;		    /* moat-vcpu was told it is gone */

	/* restart (restart.c): the state file its processes share (-1:
	 * none), how many processes it has had after the first, the
	 * budget, a successor starting (READY awaited by restart_deadline),
	 * and a restart asked by moat ctl */
	int state_fd;
	uid_t uid;     /* every process of it runs as this host uid */
	bool host_net; /* and keeps the host's network namespace */
	unsigned restarts;
	struct mon_restart_log restart_log;
	bool restarting, restart_asked;
	bool start_paused;			 /* the next process starts paused (the VM is) */
	int64_t restart_began, restart_deadline; /* ms */

	/* virtio-pci devices: slot, fixed BAR0, KVM's eventfds */
	unsigned slot;
	uint64_t bar0;
	unsigned nq, nvec;
	int notify[VPCI_MAX_QUEUES];
	int irq[VPCI_MAX_VECTORS];

	/* what it said instead of READY (made safe), and whether the user's
	 * configuration is at fault */
	char start_error[256];
	bool start_user_error;

	/* the control plane (ctl_ops.c) */
	char *backend;		   /* disk: the image after a swap ("none"); NULL: as started */
	struct netopt_fwd *fwd;	   /* user card: the forwards in force (MON_MAX_RUNTIME_FWD) */
	unsigned nfwd;
	struct mon_dev_stats stats; /* its last counters */
	bool audit_stats;	    /* its next counters go to the audit trail (the end) */
	bool stats_wait;	    /* asked for counters, not answered yet */
	struct mon_dev_pending pending;
	bool pause_asked, paused;
	bool pause_late; /* a pause was called off unanswered: one PAUSED may come */
	uint64_t ping_sent, pong; /* the watchdog's round it was asked, and answered */
};

struct mon_devices {
	struct mon_device d[MON_MAX_DEVICES];
	unsigned n;
};

/* Make an entry for every configured device, with its ring, doorbell and
 * eventfds (what moat-vcpu's StartRequest needs of it), no process yet:
 * device i is to run as host uid uid_base + 1 + i, in a leaf of cg. On a
 * failure everything made is closed; -errno (logged). */
int mon_devices_prepare(const struct mon_config *cfg, uid_t uid_base, struct mon_cgroup *cg,
			struct mon_devices *devs);
/* Spawn every prepared device and send each its start request, without
 * waiting for any READY (mon_devices_wait_ready does). On a failure every
 * device is killed; -errno (logged). */
int mon_devices_launch(const struct mon_config *cfg, const struct mon_resources *res,
		       struct mon_devices *devs);
/* Wait until every launched device is READY, side by side. When one
 * fails (the first seen), it is reported and every device is killed;
 * returns -errno, with one line for the user in err when the user's input
 * is at fault (-EINVAL). */
int mon_devices_wait_ready(struct mon_devices *devs, char *err, size_t errlen);
/* A new process for d, whose last one is gone (reaped): the ring reset in
 * place, a new doorbell, the same uid, policy and cgroup leaf (cg), its
 * start request sent; READY comes later. 0 or -errno (logged). */
int mon_device_respawn(struct mon_device *d, const struct mon_config *cfg,
		       const struct mon_resources *res, struct mon_cgroup *cg);
/* Ask every live device for its counters, record them, then kill and reap
 * every device (the VM is over). */
void mon_devices_stop(struct mon_devices *devs);
