/* The host resources of one VM, opened by the monitor before any child
 * exists. Every open failure is the user's input at fault (exit 2) and is
 * reported as one line naming the file. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "display_res.h"
#include "guest_ram.h"
#include "image_chain.h"
#include "options.h"

struct mon_resources {
	int kvm_fd;
	/* guest RAM (guest_ram.h): kept, never mapped, while the VM runs, for
	 * the virtio device processes that replace dead ones (decision 0024) */
	int mem_fd;
	enum mon_ram_backing ram_backing;
	int kernel_fd;
	int initrd_fd;     /* -1: none */
	int firmware_fd;   /* --firmware, or -1 */
	int firmware_vars_fd; /* its variable store (UEFI), or -1 */
	int serial_out;    /* given to moat-vcpu; -1: none */
	int serial_in;     /* given to moat-vcpu; -1: none */
	int console_out;   /* the monitor's end of the output pipe (stdio), or -1 */
	int console_in;    /* the monitor's end of the input pipe (stdio), or -1 */
	int disk_fd[MON_MAX_DISKS]; /* images, opened and locked; given to moat-blk */
	/* each disk's format, as given or probed (image_chain.h), whether it
	 * was probed as raw (moat-blk guards its sector 0), and its backing
	 * chain: read-only, locked, the link right below the image first */
	enum mon_disk_format disk_format[MON_MAX_DISKS];
	bool disk_probed_raw[MON_MAX_DISKS];
	int backing_fd[MON_MAX_DISKS][MON_CHAIN_MAX];
	enum mon_disk_format backing_format[MON_MAX_DISKS][MON_CHAIN_MAX];
	unsigned nbacking[MON_MAX_DISKS];
	/* a vmdk descriptor file's extent files, in its order */
	int extent_fd[MON_MAX_DISKS][MON_PROBE_MAX_EXTENTS];
	unsigned nextents[MON_MAX_DISKS];
	uid_t probe_uid;	    /* what `moat-blk probe` runs as: set before opening */
	int tap_fd[MON_MAX_NETS];   /* --net tap: attached taps; given to moat-net */
	struct mon_display_res display; /* --vnc */
	uint32_t dns_upstream;      /* --net user: first IPv4 nameserver of our
				     * /etc/resolv.conf (host byte order), or 0 */
};

void mon_resources_init(struct mon_resources *r);

int mon_open_resources(const struct mon_config *cfg, struct mon_resources *r, char *err,
		       size_t errlen);
/* Open, check and lock one disk image as --disk does (regular file, or a
 * block device with blockdev=on; whole sectors; flock and QEMU's lock
 * bytes): at start, and for moat ctl disk swap. 0 and *out, or -errno with
 * one line in err. */
struct mon_disk;
int mon_open_disk(const struct mon_disk *d, int *out, char *err, size_t len);
/* The locks alone, on an open image: flock (exclusive for read-write,
 * shared for ro) and QEMU's lock bytes (a ro image: held for reading, and
 * nobody else may write or resize it, as QEMU locks a backing file). */
int mon_lock_disk(const struct mon_disk *d, int fd, char *err, size_t len);
/* Close what only moat-vcpu needs, once it has them. */
void mon_close_child_ends(struct mon_resources *r);
void mon_close_resources(struct mon_resources *r);
/* The host's RAM plus swap, the bound for --mem; 0 if unknown. */
uint64_t mon_host_mem_bytes(void);
