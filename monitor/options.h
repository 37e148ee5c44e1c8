/* The command line of `moat run`, parsed into a plain struct. Parsing does
 * no I/O besides reading the host's memory size, so it is unit-tested. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "moat_limits.h"
#include "netopt.h"
#include "vncopt.h"

#define MON_DEFAULT_PIDS     256	    /* --limits pids= */
#define MON_DEFAULT_OVERHEAD (512ULL << 20) /* --limits overhead= */
#define MON_DEFAULT_MEM	     (512ULL << 20)
#define MON_DEFAULT_CMDLINE  "console=ttyS0 reboot=k panic=-1"
#define MON_OSK_LEN	     64
#define MON_HUGE_PAGE	     (2ULL << 20) /* the x86 huge page moat backs guest RAM with */

/* --mem ...,hugepages=: auto takes huge pages where the host has them
 * (a hugetlb pool, else transparent huge pages), on insists on the pool,
 * off keeps 4 KiB pages. */
enum mon_huge {
	MON_HUGE_AUTO,
	MON_HUGE_ON,
	MON_HUGE_OFF,
};
/* --shutdown-timeout: how long SIGTERM's power-button press may take */
#define MON_DEFAULT_SHUTDOWN_S 30
#define MON_MAX_SHUTDOWN_S     3600
/* The limits are machine/moat_limits.h's, shared with every child. */
#define MON_MAX_CPUS   MOAT_MAX_CPUS
#define MON_MAX_SMBIOS MOAT_MAX_SMBIOS
#define MON_MAX_DISKS  MOAT_MAX_DISKS
#define MON_MAX_NETS   MOAT_MAX_NETS

/* --disk aio=: the values of BlkConfig.aio (device.proto) */
enum mon_disk_aio { MON_AIO_DEFAULT, MON_AIO_THREADS, MON_AIO_IO_URING };

/* --disk format=: the values of BlkConfig.format (device.proto) */
enum mon_disk_format { MON_FORMAT_RAW, MON_FORMAT_QCOW2, MON_FORMAT_VMDK };

/* --disk path=IMG[,format=F][,ro][,blockdev=on][,id=NAME][,serial=STR][,cache=C][,aio=A]
 *        [,queues=N] */
struct mon_disk {
	char *path;
	bool ro;
	bool blockdev;	 /* path must be a block device (and may be one only so) */
	char id[16];	 /* instance name; default blkN */
	char serial[21]; /* VIRTIO_BLK_T_GET_ID: at most 20 bytes */
	bool cache_none; /* cache=none: the image opened O_DIRECT (else writeback) */
	enum mon_disk_aio aio;
	unsigned queues; /* request queues, 1..MOAT_BLK_MAX_QUEUES; 0: one per vCPU */
	enum mon_disk_format format;
	/* no format= given: the monitor asks moat-blk what the image is
	 * (image_chain.h), and a raw one is guarded (a guest write to sector
	 * 0 that would make it probe as another format fails) */
	bool probe_format;
};

enum mon_serial { MON_SERIAL_STDIO, MON_SERIAL_FILE, MON_SERIAL_NONE };

struct mon_config {
	const char *kernel; /* --kernel, or */
	/* --firmware PATH[,vars=PATH]: SeaBIOS or OVMF from the reset vector;
	 * vars NULL: OVMF's template beside it (resources.c finds it) */
	char *firmware;
	char *firmware_vars;
	const char *initrd; /* NULL: none */
	const char *cmdline;
	bool cmdline_given;
	uint64_t mem_bytes;
	/* --mem SIZE,hugepages=,prealloc=: guest RAM's backing (guest_ram.h) */
	enum mon_huge mem_huge;
	bool mem_prealloc;
	unsigned cpus;
	enum mon_serial serial;
	const char *serial_path; /* MON_SERIAL_FILE */
	bool verbose;
	bool help;
	/* --shutdown-timeout SECONDS: SIGTERM presses the ACPI power button and
	 * waits this long for the guest to power off (0: stop at once) */
	unsigned shutdown_timeout_s;
	/* --device-restart on|off: a device process that dies is replaced by
	 * a new one under the running guest, where its kind allows
	 * (monitor/restart.h); default on */
	bool device_restart;
	const char *audit_path; /* --audit: append the audit trail here */
	/* --name NAME: the VM's name (config/ctlpath.h), which places its
	 * control socket; --control PATH: the socket elsewhere. Neither: no
	 * control socket. */
	const char *name;
	const char *control_path;
	/* --config FILE: read first; the command line overrides it */
	const char *config_file;
	/* --limits pids=N,overhead=SIZE: the VM's cgroup (cgroup.h) allows N
	 * tasks and guest RAM + SIZE of memory for all its processes */
	uint64_t limit_pids;
	uint64_t limit_overhead;

	/* --smc: an Apple SMC device process with this OSK. */
	bool smc;
	const char *smc_osk_file;     /* osk-file=PATH, read by mon_read_osk() */
	bool smc_osk_inline;	      /* osk=STRING was given (and wiped) */
	uint8_t smc_osk[MON_OSK_LEN]; /* secret: wiped once handed over */

	const char *smbios[MON_MAX_SMBIOS]; /* --smbios, validated */
	unsigned nsmbios;

	struct mon_disk disks[MON_MAX_DISKS];
	unsigned ndisks;

	/* --vnc: a display (moat-display) with a VNC server there
	 * (config/vncopt.h); --display none (the default): no display */
	bool vnc;
	struct vncopt vnc_opt;
	bool display_none;

	/* --net user|tap=IFNAME,...: one moat-net each (config/netopt.h) */
	struct netopt nets[MON_MAX_NETS];
	unsigned nnets;
};

/* Parse argv of `moat run` (argv[0] is "run"). On error returns -EINVAL
 * and writes one line for the user into err. host_mem_bytes bounds --mem
 * (0: no bound). An OSK given inline (--smc osk=...) is copied into cfg and
 * overwritten in argv at once, so /proc/PID/cmdline stops showing it. */
int mon_parse_run(int argc, char **argv, uint64_t host_mem_bytes, struct mon_config *cfg, char *err,
		  size_t errlen);
/* mon_parse_run, and on error *err_at names the argv element the line is
 * about: the one holding the refused option's value (or the option, or the
 * stray argument), or -1 when no single option is to blame (neither
 * --kernel nor --firmware). A config file maps it back to its line. */
int mon_parse_run_at(int argc, char **argv, uint64_t host_mem_bytes, struct mon_config *cfg,
		     int *err_at, char *err, size_t errlen);

/* One option of a `moat run` command line as getopt_long reads it, however
 * it was written (--mem 1G, --mem=1G, -m1G, --me 1G). */
struct mon_run_arg {
	const char *name;  /* its long name: "mem", "disk", "verbose" */
	const char *value; /* points into argv; NULL for a flag */
	int index;	   /* the argv element holding the value */
};
/* Read argv of `moat run` into its options, in order, without checking a
 * value: *out is malloc'ed, *n long. 0, or -EINVAL with the line that
 * mon_parse_run gives (an unknown option, a missing value, a stray
 * argument). A config file needs this to know what the command line
 * overrides. */
int mon_scan_run(int argc, char **argv, struct mon_run_arg **out, size_t *n, char *err,
		 size_t errlen);
/* The id= field of a --disk or --net value (option "disk" or "net"), split
 * as that option's parser splits it, into id. 0; -ENOENT when it names
 * none; -EINVAL when it does not fit idlen; -ENOMEM. */
int mon_option_id(const char *option, const char *value, char *id, size_t idlen);
/* Read the OSK file named by --smc osk-file= into cfg->smc_osk: exactly
 * 64 bytes, a trailing newline allowed. -EINVAL with a line in err. */
int mon_read_osk(struct mon_config *cfg, char *err, size_t errlen);
/* "512M", "5G", "1024" (MiB, as QEMU), "65536K"; 0 or -EINVAL. */
int mon_parse_size(const char *s, uint64_t *out);
