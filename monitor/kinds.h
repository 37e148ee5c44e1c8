/* The table of device kinds: what the monitor knows of each (as vmd's
 * procs[]). Adding a kind is one row here, its device process in devproc/,
 * and its policy in policy/. */
#pragma once

#include "device.pb-c.h"
#include "devices.h"

/* Storage for the kind-specific part of one start request. */
struct mon_dev_start {
	Moat__Dev__SmcConfig smc;
	Moat__Dev__BlkConfig blk;
	Moat__Dev__BlkBacking backing[MON_CHAIN_MAX];
	Moat__Dev__BlkBacking *backingp[MON_CHAIN_MAX];
	uint32_t extent_idx[MON_PROBE_MAX_EXTENTS];
	Moat__Dev__NetConfig net;
	Moat__Dev__NetUser user;
	Moat__Dev__NetTap tap;
	Moat__Dev__NetForward fwd[NETOPT_MAX_FWD];
	Moat__Dev__NetForward *fwdp[NETOPT_MAX_FWD];
	Moat__Dev__DisplayConfig display;
	uint8_t mac[6];
};

struct mon_kind {
	const char *name;	    /* "blk": the executable moat-blk, the audit's kind= */
	unsigned max;		    /* instances per VM (options.c refuses more) */
	uint16_t pio_base, pio_len; /* a port device: its ports */
	unsigned nq, nvec;	    /* a virtio-pci device: queues, MSI-X vectors */
	/* How many the configuration asks for. */
	unsigned (*count)(const struct mon_config *cfg);
	/* Instance i: its name, its policy and whether it keeps the host's
	 * network namespace. */
	void (*bind)(struct mon_device *d, const struct mon_config *cfg, unsigned i);
	/* Its part of the start request, with its backend descriptors appended
	 * to fds. 0 or -errno. */
	int (*build)(const struct mon_device *d, const struct mon_config *cfg,
		     const struct mon_resources *r, Moat__Dev__StartRequest *s,
		     struct mon_dev_start *buf, int *fds, unsigned *n);
	unsigned slots; /* PCI slots it takes: 1 a virtio device, 3 the display */
	/* Optional: a virtio-pci device whose queue count is configured
	 * (--disk queues=): instance i's queues, 1..VPCI_MAX_QUEUES, in place
	 * of nq; it then has a vector per queue and one for the config. */
	unsigned (*queues)(const struct mon_config *cfg, unsigned i);
	/* Its process can be replaced under a running guest: everything the
	 * guest set in it is in its state file (restart.h). */
	bool restartable;
};

extern const struct mon_kind mon_kinds[];
extern const unsigned mon_nkinds;
