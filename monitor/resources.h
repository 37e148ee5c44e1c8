/* The host resources of one VM, opened by the monitor before any child
 * exists. Every open failure is the user's input at fault (exit 2) and is
 * reported as one line naming the file. */
#pragma once

#include <stdint.h>

#include "display_res.h"
#include "guest_ram.h"
#include "options.h"

struct mon_resources {
	int kvm_fd;
	int mem_fd;	   /* guest RAM (guest_ram.h) */
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
/* Close what only the child needs, once it has them. */
void mon_close_child_ends(struct mon_resources *r);
void mon_close_resources(struct mon_resources *r);
/* The host's RAM plus swap, the bound for --mem; 0 if unknown. */
uint64_t mon_host_mem_bytes(void);
