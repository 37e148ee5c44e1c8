/* The device processes of one VM, from the monitor's side: each gets its
 * own sandboxed process (moat-<kind>, an entry of the table of children),
 * a trapped-I/O ring shared with moat-vcpu, and a doorbell. The monitor
 * starts them before moat-vcpu, waits until each is READY, and hands
 * moat-vcpu the ring and doorbell of each. A device that dies later is
 * recorded and detached; the VM goes on. Kinds are rows of kinds.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"
#include "children.h"
#include "moat_limits.h"
#include "options.h"
#include "resources.h"
#include "virtio_pci_layout.h"

#define MON_MAX_DEVICES MOAT_MAX_DEVICES

struct mon_kind;

struct mon_device {
	struct mon_proc proc; /* name ("blk0"), kind, pid, channel, state */
	const struct mon_kind *kind;
	unsigned index;		    /* which --smc/--disk/--net of its kind */
	uint16_t pio_base, pio_len; /* a port device (smc) */
	int ring_fd;		    /* for moat-vcpu */
	int doorbell;		    /* for moat-vcpu: its end of the doorbell socketpair */
	int doorbell_dev;	    /* the device's end, closed once handed over */
	bool detached;		    /* moat-vcpu was told it is gone */

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
};

struct mon_devices {
	struct mon_device d[MON_MAX_DEVICES];
	unsigned n;
};

/* Spawn every configured device and wait for each to be ready; device i
 * runs as host uid uid_base + 1 + i, in a leaf of cg. On failure the
 * devices started so far
 * are killed; returns -errno, with one line for the user in err when the
 * user's input is at fault (-EINVAL). */
int mon_devices_start(const struct mon_config *cfg, const struct mon_resources *res, uid_t uid_base,
		      struct mon_cgroup *cg, struct mon_devices *devs, char *err, size_t errlen);
/* Ask every live device for its counters, record them, then kill and reap
 * every device (the VM is over). */
void mon_devices_stop(struct mon_devices *devs);
