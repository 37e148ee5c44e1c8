/* The device processes of one VM, from the monitor's side: each gets its
 * own sandboxed process (moat-<kind>), a trapped-I/O ring shared with
 * moat-vcpu, and a doorbell eventfd. The monitor starts them before the
 * vcpu process, waits until each reports READY, and hands moat-vcpu the
 * ring and doorbell of each. A device that dies later is recorded and
 * detached; the VM goes on. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "options.h"
#include "resources.h"
#include "spawn.h"
#include "virtio_pci_layout.h"

#define MON_MAX_DEVICES 16

struct mon_device {
	char name[16];      /* "smc0" */
	const char *kind;   /* "smc": the executable is moat-smc */
	uint16_t pio_base, pio_len;
	struct mon_child child;
	int ctl;            /* control channel, -1 once closed */
	int ring_fd;        /* for moat-vcpu */
	int doorbell;       /* for moat-vcpu: its end of the doorbell socketpair */
	int doorbell_dev;   /* the device's end, closed once handed over */
	bool alive;

	/* virtio-pci devices: slot, fixed BAR0, KVM's eventfds */
	bool pci;
	unsigned slot;
	uint64_t bar0;
	unsigned nq, nvec;
	int notify[VPCI_MAX_QUEUES];
	int irq[VPCI_MAX_VECTORS];
	const struct mon_disk *disk;
	int disk_fd;
	const struct netopt *net; /* moat-net */
	int tap_fd;               /* its tap (the resources' own), or -1 */
	uint32_t dns_upstream;    /* user networking's upstream DNS, or 0 */
};

struct mon_devices {
	struct mon_device d[MON_MAX_DEVICES];
	unsigned n;
};

/* Spawn every configured device and wait for each to be ready. On failure
 * the devices started so far are killed; returns -errno, with one line for
 * the user in err when the user's input is at fault (-EINVAL). */
int mon_devices_start(const struct mon_config *cfg, const struct mon_resources *res,
		      struct mon_devices *devs, char *err, size_t errlen);
/* Serve one message from a device (stats, or garbage: cut it off). */
void mon_device_dispatch(struct mon_device *d);
/* Reap a device whose pidfd fired; record how it died. */
void mon_device_reap(struct mon_device *d);
/* Kill and reap every device still running (the VM is over). */
void mon_devices_stop(struct mon_devices *devs);
