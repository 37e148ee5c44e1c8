#include "options.h"
#include "errline.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlpath.h"
#include "guest_layout.h"
#include "slirp_cfg.h"
#include "smbios_opt.h"
#include "userfile.h"

int mon_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 20; /* a bare number is MiB, as with QEMU's -m */

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end) {
		switch (*end) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		case 't':
		case 'T':
			shift = 40;
			break;
		default:
			return -EINVAL;
		}
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_serial(const char *arg, struct mon_config *cfg, char *err, size_t len)
{
	if (strcmp(arg, "stdio") == 0)
		cfg->serial = MON_SERIAL_STDIO;
	else if (strcmp(arg, "none") == 0)
		cfg->serial = MON_SERIAL_NONE;
	else if (strncmp(arg, "file:", 5) == 0 && arg[5]) {
		cfg->serial = MON_SERIAL_FILE;
		cfg->serial_path = arg + 5;
	} else
		return err_line(err, len, "--serial takes stdio, file:PATH or none, not '%s'", arg);
	return 0;
}

/* --firmware PATH[,vars=PATH]: the path is everything up to the first
 * ",vars=" (a firmware path with that in its name cannot be given). */
static int parse_firmware(const char *arg, struct mon_config *cfg, char *err, size_t len)
{
	const char *vars = strstr(arg, ",vars=");
	size_t n = vars ? (size_t)(vars - arg) : strlen(arg);

	if (cfg->firmware)
		return err_line(err, len, "--firmware given twice");
	if (n == 0)
		return err_line(err, len, "--firmware needs a path: --firmware PATH[,vars=PATH]");
	if (vars && (!vars[6] || strchr(vars + 6, ',') == vars + 6))
		return err_line(err, len, "--firmware vars= needs a path");
	cfg->firmware = strndup(arg, n);
	cfg->firmware_vars = vars ? strdup(vars + 6) : NULL;
	if (!cfg->firmware || (vars && !cfg->firmware_vars))
		return err_line(err, len, "out of memory");
	return 0;
}

static int parse_shutdown_timeout(const char *arg, struct mon_config *cfg, char *err, size_t len)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0 || v > MON_MAX_SHUTDOWN_S)
		return err_line(err, len,
				"--shutdown-timeout must be a number of seconds from 0 to %d, not "
				"'%s'",
				MON_MAX_SHUTDOWN_S, arg);
	cfg->shutdown_timeout_s = (unsigned)v;
	return 0;
}

static int parse_device_restart(const char *arg, struct mon_config *cfg, char *err, size_t len)
{
	if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0)
		return err_line(err, len, "--device-restart must be on or off, not '%s'", arg);
	cfg->device_restart = strcmp(arg, "on") == 0;
	return 0;
}

static int parse_cpus(const char *arg, struct mon_config *cfg, char *err, size_t len)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > MON_MAX_CPUS)
		return err_line(err, len, "--cpus must be a number from 1 to %d, not '%s'",
				MON_MAX_CPUS, arg);
	cfg->cpus = (unsigned)v;
	return 0;
}

/* The fields after --mem's size: hugepages=auto|on|off, prealloc=on|off. */
static int parse_mem_fields(char *f, struct mon_config *cfg, char *err, size_t len)
{
	for (char *save = NULL, *k = strtok_r(f, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		if (strcmp(k, "hugepages=auto") == 0)
			cfg->mem_huge = MON_HUGE_AUTO;
		else if (strcmp(k, "hugepages=on") == 0)
			cfg->mem_huge = MON_HUGE_ON;
		else if (strcmp(k, "hugepages=off") == 0)
			cfg->mem_huge = MON_HUGE_OFF;
		else if (strcmp(k, "prealloc=on") == 0)
			cfg->mem_prealloc = true;
		else if (strcmp(k, "prealloc=off") == 0)
			cfg->mem_prealloc = false;
		else if (strncmp(k, "hugepages=", 10) == 0 || strncmp(k, "prealloc=", 9) == 0)
			return err_line(err, len, "--mem %s takes %s, not '%s'",
					k[0] == 'h' ? "hugepages=" : "prealloc=",
					k[0] == 'h' ? "auto, on or off" : "on or off",
					strchr(k, '=') + 1);
		else
			return err_line(err, len,
					"--mem: unknown field '%s' (SIZE[,hugepages=auto|on|off]"
					"[,prealloc=on|off])",
					k);
	}
	return 0;
}

/* --mem SIZE[,hugepages=auto|on|off][,prealloc=on|off] */
static int parse_mem(const char *arg, uint64_t host, struct mon_config *cfg, char *err, size_t len)
{
	char size[64], *fields;
	const char *comma = strchr(arg, ',');
	size_t n = comma ? (size_t)(comma - arg) : strlen(arg);
	uint64_t v;
	int rc;

	if (n >= sizeof(size))
		n = sizeof(size) - 1; /* too long to be a size: refused below */
	memcpy(size, arg, n);
	size[n] = '\0';
	if (mon_parse_size(size, &v) < 0)
		return err_line(err, len, "--mem takes a size such as 512M or 4G, not '%s'", size);
	if (v < MOAT_MEM_MIN)
		return err_line(err, len, "--mem %s is too small: a guest needs at least %llu MiB",
				size, MOAT_MEM_MIN >> 20);
	if (v % 4096)
		return err_line(err, len, "--mem %s is not a whole number of 4 KiB pages", size);
	if (v > MOAT_MEM_MAX || (host && v > host))
		return err_line(err, len, "--mem %s is more than this host has (%llu MiB)", size,
				(unsigned long long)(host >> 20));
	cfg->mem_bytes = v;
	cfg->mem_huge = MON_HUGE_AUTO;
	cfg->mem_prealloc = false;
	if (!comma)
		return 0;
	fields = strdup(comma + 1);
	if (!fields)
		return err_line(err, len, "out of memory");
	rc = parse_mem_fields(fields, cfg, err, len);
	free(fields);
	if (rc == 0 && cfg->mem_huge == MON_HUGE_ON && v % MON_HUGE_PAGE)
		return err_line(err, len,
				"--mem %s,hugepages=on: the size must be a whole number of 2 MiB "
				"huge pages",
				size);
	return rc;
}

/* --smc osk-file=PATH | osk=STRING. The inline OSK is copied out and its
 * bytes in argv overwritten with 'x' before anything else happens. */
static int parse_smc(char *arg, struct mon_config *cfg, char *err, size_t len)
{
	cfg->smc = true;
	if (strncmp(arg, "osk-file=", 9) == 0 && arg[9]) {
		cfg->smc_osk_file = arg + 9;
		return 0;
	}
	if (strncmp(arg, "osk=", 4) == 0) {
		char *osk = arg + 4;
		size_t n = strlen(osk);
		bool ok = n == MON_OSK_LEN;
		if (ok)
			memcpy(cfg->smc_osk, osk, MON_OSK_LEN);
		memset(osk, 'x', n);
		cfg->smc_osk_inline = true;
		if (!ok)
			return err_line(err, len,
					"--smc osk= must be exactly %d characters, not %zu",
					MON_OSK_LEN, n);
		return 0;
	}
	return err_line(err, len, "--smc takes osk-file=PATH or osk=STRING");
}

int mon_read_osk(struct mon_config *cfg, char *err, size_t errlen)
{
	uint8_t buf[MON_OSK_LEN + 2];
	size_t n;
	FILE *f;
	int fd;

	if (!cfg->smc || !cfg->smc_osk_file)
		return 0;
	/* Type-checked before it is read: a FIFO named here hung the monitor. */
	fd = mon_open_regular("the OSK file", cfg->smc_osk_file, err, errlen);
	if (fd < 0)
		return fd;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return err_line(err, errlen, "cannot read the OSK file %s: %s", cfg->smc_osk_file,
				strerror(errno));
	}
	setvbuf(f, NULL, _IONBF, 0); /* no stdio buffer holding a copy */
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n != MON_OSK_LEN) {
		explicit_bzero(buf, sizeof(buf));
		return err_line(err, errlen, "the OSK in %s must be exactly %d bytes%s",
				cfg->smc_osk_file, MON_OSK_LEN,
				n > MON_OSK_LEN ? " (it is longer)" : "");
	}
	memcpy(cfg->smc_osk, buf, MON_OSK_LEN);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static int parse_smbios(const char *arg, struct mon_config *cfg, char *err, size_t len)
{
	struct smbios_info probe;

	if (cfg->nsmbios >= MON_MAX_SMBIOS)
		return err_line(err, len, "too many --smbios options (at most %d)", MON_MAX_SMBIOS);
	smbios_info_init(&probe, 0, 1);
	if (smbios_parse_option(&probe, arg, err, len) < 0)
		return -EINVAL;
	cfg->smbios[cfg->nsmbios++] = arg;
	return 0;
}

/* Split "a=b,c,d=e" at single commas (",," is a literal comma, as QEMU's
 * option syntax) into a caller buffer; returns the next field or NULL. */
static char *next_field(char **cursor)
{
	char *start = *cursor, *w = start, *r = start;

	if (!start || !*start)
		return NULL;
	while (*r) {
		if (r[0] == ',' && r[1] == ',') {
			*w++ = ',';
			r += 2;
		} else if (*r == ',') {
			r++;
			break;
		} else {
			*w++ = *r++;
		}
	}
	*cursor = *r ? r : NULL;
	*w = 0;
	return start;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static bool good_id(const char *s)
{
	if (!*s || strlen(s) > 15)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_'))
			return false;
	return true;
}

/* The fields of one --disk, parsed in place in copy (d->path points in). */
static int parse_disk_fields(struct mon_disk *d, char *copy, char *err, size_t len)
{
	char *cur = copy, *f;

	d->probe_format = true; /* until format= says */
	while ((f = next_field(&cur))) {
		if (strncmp(f, "path=", 5) == 0 && f[5]) {
			d->path = f + 5;
		} else if (strcmp(f, "ro") == 0 || strcmp(f, "ro=on") == 0) {
			d->ro = true;
		} else if (strncmp(f, "blockdev=", 9) == 0) {
			/* an explicit opt-in: a whole host device given to the guest */
			if (strcmp(f + 9, "on") != 0 && strcmp(f + 9, "off") != 0)
				return err_line(
				    err, len, "--disk blockdev= takes on or off, not '%s'", f + 9);
			d->blockdev = strcmp(f + 9, "on") == 0;
		} else if (strncmp(f, "id=", 3) == 0) {
			if (!good_id(f + 3))
				return err_line(err, len,
						"--disk id= takes 1-15 of a-z 0-9 - _, not '%s'",
						f + 3);
			snprintf(d->id, sizeof(d->id), "%s", f + 3);
		} else if (strncmp(f, "cache=", 6) == 0) {
			if (strcmp(f + 6, "none") != 0 && strcmp(f + 6, "writeback") != 0)
				return err_line(err, len,
						"--disk cache= takes none or writeback, not '%s'",
						f + 6);
			d->cache_none = strcmp(f + 6, "none") == 0;
		} else if (strncmp(f, "aio=", 4) == 0) {
			if (strcmp(f + 4, "threads") == 0)
				d->aio = MON_AIO_THREADS;
			else if (strcmp(f + 4, "io_uring") == 0)
				d->aio = MON_AIO_IO_URING;
			else
				return err_line(err, len,
						"--disk aio= takes threads or io_uring, not '%s'",
						f + 4);
		} else if (strncmp(f, "format=", 7) == 0) {
			d->probe_format = false;
			if (strcmp(f + 7, "raw") == 0)
				d->format = MON_FORMAT_RAW;
			else if (strcmp(f + 7, "qcow2") == 0)
				d->format = MON_FORMAT_QCOW2;
			else if (strcmp(f + 7, "vmdk") == 0)
				d->format = MON_FORMAT_VMDK;
			else
				return err_line(err, len,
						"--disk format= takes raw, qcow2 or vmdk, not '%s'",
						f + 7);
		} else if (strncmp(f, "queues=", 7) == 0) {
			/* one digit: 1..MOAT_BLK_MAX_QUEUES (8) */
			if (f[7] < '1' || f[7] > '0' + MOAT_BLK_MAX_QUEUES || f[8])
				return err_line(err, len, "--disk queues= takes 1 to %d, not '%s'",
						MOAT_BLK_MAX_QUEUES, f + 7);
			d->queues = (unsigned)(f[7] - '0');
		} else if (strncmp(f, "serial=", 7) == 0) {
			if (strlen(f + 7) > 20 || !printable(f + 7))
				return err_line(
				    err, len,
				    "--disk serial= takes at most 20 printable characters");
			snprintf(d->serial, sizeof(d->serial), "%s", f + 7);
		} else {
			return err_line(
			    err, len,
			    "--disk: unknown field '%s' (path=, format=, ro, blockdev=, id=, "
			    "serial=, cache=, aio=, queues=)",
			    f);
		}
	}
	if (!d->path)
		return err_line(err, len, "--disk needs path=IMAGE");
	/* a format's metadata I/O is not aligned for O_DIRECT, and its
	 * requests run on the threads (the ring reads and writes the file as
	 * it is) */
	const char *fmt = d->format == MON_FORMAT_QCOW2 ? "qcow2" : "vmdk";
	if (d->format != MON_FORMAT_RAW && d->cache_none)
		return err_line(err, len, "--disk format=%s: cache=none is for raw images only",
				fmt);
	if (d->format != MON_FORMAT_RAW && d->aio == MON_AIO_IO_URING)
		return err_line(err, len, "--disk format=%s: aio=io_uring is for raw images only",
				fmt);
	/* moat reads vmdk images only: read-only, whether asked or not */
	if (d->format == MON_FORMAT_VMDK)
		d->ro = true;
	return 0;
}

static int parse_disk(const char *arg, struct mon_config *cfg, char *err, size_t len)
{
	struct mon_disk *d;
	char *copy;

	if (cfg->ndisks >= MON_MAX_DISKS)
		return err_line(err, len, "too many --disk options (at most %d)", MON_MAX_DISKS);
	d = &cfg->disks[cfg->ndisks];
	*d = (struct mon_disk){0};
	copy = strdup(arg);
	if (!copy)
		return -ENOMEM;
	if (parse_disk_fields(d, copy, err, len) < 0) {
		free(copy);
		return -EINVAL;
	}
	if (!d->id[0])
		snprintf(d->id, sizeof(d->id), "blk%u", cfg->ndisks);
	for (unsigned i = 0; i < cfg->ndisks; i++)
		if (strcmp(cfg->disks[i].id, d->id) == 0) {
			free(copy);
			return err_line(err, len, "--disk id=%s is used twice", d->id);
		}
	/* copy stays allocated: d->path points into it for the run's life. */
	cfg->ndisks++;
	return 0;
}

/* --net: parsed by netopt_parse (shared with moat-net's tests and fuzzer),
 * the user network's forwards checked by slirp_cfg_build now rather than
 * by moat-net later, and ids and tap names unique among the devices. */
static int parse_net(const char *arg, struct mon_config *cfg, char *err, size_t len)
{
	struct netopt *n;
	struct slirp_cfg sc;

	if (cfg->nnets >= MON_MAX_NETS)
		return err_line(err, len, "too many --net options (at most %d)", MON_MAX_NETS);
	n = &cfg->nets[cfg->nnets];
	if (netopt_parse(n, arg, cfg->nnets, err, len) < 0)
		return -EINVAL;
	if (n->kind == NETOPT_USER && slirp_cfg_build(&sc, n, err, len) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < cfg->nnets; i++) {
		if (strcmp(cfg->nets[i].id, n->id) == 0)
			return err_line(err, len, "--net id=%s is used twice", n->id);
		if (n->kind == NETOPT_TAP && cfg->nets[i].kind == NETOPT_TAP &&
		    strcmp(cfg->nets[i].ifname, n->ifname) == 0)
			return err_line(err, len, "--net tap=%s is given twice", n->ifname);
		if (memcmp(cfg->nets[i].mac, n->mac, 6) == 0)
			return err_line(err, len, "--net: two devices with the MAC of %s", n->id);
	}
	cfg->nnets++;
	return 0;
}

/* --limits pids=N,overhead=SIZE, either or both. */
static int parse_limits(char *arg, struct mon_config *cfg, char *err, size_t len)
{
	for (char *save = NULL, *f = strtok_r(arg, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		char *end;
		if (strncmp(f, "pids=", 5) == 0) {
			unsigned long long n = strtoull(f + 5, &end, 10);
			if (f[5] < '0' || f[5] > '9' || *end || n < 16 || n > 1000000)
				return err_line(err, len,
						"--limits pids= must be a number from 16 to "
						"1000000, not '%s'",
						f + 5);
			cfg->limit_pids = n;
		} else if (strncmp(f, "overhead=", 9) == 0) {
			if (mon_parse_size(f + 9, &cfg->limit_overhead) < 0 ||
			    cfg->limit_overhead < (64ULL << 20))
				return err_line(err, len,
						"--limits overhead= must be a size of at "
						"least 64M, not '%s'",
						f + 9);
		} else {
			return err_line(err, len,
					"--limits: unknown field '%s' (pids=N, "
					"overhead=SIZE)",
					f);
		}
	}
	return 0;
}

/* --control PATH: a socket address holds at most 107 bytes of path. */
static int parse_control(const char *arg, struct mon_config *cfg, char *err, size_t len)
{
	struct sockaddr_un sun;

	if (!arg[0] || strlen(arg) >= sizeof(sun.sun_path))
		return err_line(err, len, "--control needs a path of 1 to %zu bytes",
				sizeof(sun.sun_path) - 1);
	cfg->control_path = arg;
	return 0;
}

/* --vnc ADDRESS[,vram=SIZE]: one display; config/vncopt.h has the grammar. */
static int parse_vnc(const char *arg, struct mon_config *cfg, char *err, size_t len)
{
	if (cfg->vnc)
		return err_line(err, len, "--vnc given twice: a VM has one display");
	if (cfg->display_none)
		return err_line(err, len, "--vnc conflicts with --display none");
	cfg->vnc = true;
	return vncopt_parse(arg, &cfg->vnc_opt, err, len);
}

/* --display none (the default) or vnc (which needs --vnc's address). */
static int parse_display(const char *arg, struct mon_config *cfg, char *err, size_t len)
{
	if (strcmp(arg, "none") != 0)
		return err_line(err, len,
				"--display takes none (the default); a display is added with --vnc "
				"ADDRESS, not --display '%s'",
				arg);
	if (cfg->vnc)
		return err_line(err, len, "--display none conflicts with --vnc");
	cfg->display_none = true;
	return 0;
}

static const struct option run_opts[] = {
    {"kernel", required_argument, NULL, 'k'},
    {"firmware", required_argument, NULL, 'F'},
    {"shutdown-timeout", required_argument, NULL, 'T'},
    {"device-restart", required_argument, NULL, 'R'},
    {"initrd", required_argument, NULL, 'i'},
    {"cmdline", required_argument, NULL, 'c'},
    {"mem", required_argument, NULL, 'm'},
    {"cpus", required_argument, NULL, 'p'},
    {"serial", required_argument, NULL, 's'},
    {"smc", required_argument, NULL, 'S'},
    {"disk", required_argument, NULL, 'D'},
    {"net", required_argument, NULL, 'N'},
    {"vnc", required_argument, NULL, 'V'},
    {"display", required_argument, NULL, 'Y'},
    {"smbios", required_argument, NULL, 'B'},
    {"audit", required_argument, NULL, 'A'},
    {"limits", required_argument, NULL, 'L'},
    {"name", required_argument, NULL, 'n'},
    {"control", required_argument, NULL, 'C'},
    {"config", required_argument, NULL, 'f'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {0},
};

#define RUN_OPTSTRING "+:k:i:c:m:p:s:vh"

/* The long name of the option getopt_long returned as c. */
static const char *run_opt_name(int c)
{
	for (const struct option *o = run_opts; o->name; o++)
		if (o->val == c)
			return o->name;
	return NULL;
}

/* Where in argv each option of one kind was given (-1: not given), so that
 * an error found after the loop still names the option it is about. */
struct run_positions {
	int kernel, firmware, initrd, cmdline;
	int disk[MON_MAX_DISKS];
	int net[MON_MAX_NETS];
};

/* Record which argv element an error is about (-1: none) and return rc. */
static int failed_at(int *err_at, int at, int rc)
{
	if (err_at)
		*err_at = at;
	return rc;
}

static int later(int a, int b)
{
	return a > b ? a : b;
}

/* The checks that involve more than one option, once all are read. */
static int check_run(const struct mon_config *cfg, const struct run_positions *pos, int *err_at,
		     char *err, size_t errlen)
{
	if (cfg->kernel && cfg->firmware)
		return failed_at(err_at, later(pos->kernel, pos->firmware),
				 err_line(err, errlen,
					  "--kernel and --firmware exclude each other: moat loads "
					  "a kernel itself, or firmware boots one from a disk"));
	if (!cfg->kernel && !cfg->firmware)
		return failed_at(err_at, -1,
				 err_line(err, errlen,
					  "--kernel or --firmware is required (see moat run "
					  "--help)"));
	if (cfg->firmware && (cfg->initrd || cfg->cmdline_given))
		return failed_at(err_at, cfg->initrd ? pos->initrd : pos->cmdline,
				 err_line(err, errlen,
					  "--%s is for --kernel; with --firmware the boot loader "
					  "on the disk chooses",
					  cfg->initrd ? "initrd" : "cmdline"));
	/* device names must be unique: they name processes, logs and audit lines */
	for (unsigned i = 0; i < cfg->nnets; i++)
		for (unsigned j = 0; j < cfg->ndisks; j++)
			if (strcmp(cfg->nets[i].id, cfg->disks[j].id) == 0)
				return failed_at(err_at, later(pos->net[i], pos->disk[j]),
						 err_line(err, errlen,
							  "--net id=%s is a --disk id too",
							  cfg->nets[i].id));
	if (strlen(cfg->cmdline) >= MOAT_CMDLINE_MAX)
		return failed_at(err_at, pos->cmdline,
				 err_line(err, errlen, "--cmdline is too long (%zu bytes)",
					  strlen(cfg->cmdline)));
	return 0;
}

int mon_parse_run(int argc, char **argv, uint64_t host_mem_bytes, struct mon_config *cfg, char *err,
		  size_t errlen)
{
	return mon_parse_run_at(argc, argv, host_mem_bytes, cfg, NULL, err, errlen);
}

int mon_parse_run_at(int argc, char **argv, uint64_t host_mem_bytes, struct mon_config *cfg,
		     int *err_at, char *err, size_t errlen)
{
	struct run_positions pos = {.kernel = -1, .firmware = -1, .initrd = -1, .cmdline = -1};
	int c, at = -1, rc = 0;

	*cfg = (struct mon_config){
	    .cmdline = MON_DEFAULT_CMDLINE,
	    .mem_bytes = MON_DEFAULT_MEM,
	    .cpus = 1,
	    .serial = MON_SERIAL_STDIO,
	    .limit_pids = MON_DEFAULT_PIDS,
	    .limit_overhead = MON_DEFAULT_OVERHEAD,
	    .shutdown_timeout_s = MON_DEFAULT_SHUTDOWN_S,
	    .device_restart = true,
	};
	if (host_mem_bytes && cfg->mem_bytes > host_mem_bytes)
		cfg->mem_bytes = host_mem_bytes & ~0xfffffULL;
	optind = 0; /* full reset: the parser may run more than once */
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, RUN_OPTSTRING, run_opts, NULL)) != -1) {
		at = optind - 1; /* the element holding this option's value */
		switch (c) {
		case 'k':
			cfg->kernel = optarg;
			pos.kernel = at;
			break;
		case 'F':
			rc = parse_firmware(optarg, cfg, err, errlen);
			pos.firmware = at;
			break;
		case 'T':
			rc = parse_shutdown_timeout(optarg, cfg, err, errlen);
			break;
		case 'i':
			cfg->initrd = optarg;
			pos.initrd = at;
			break;
		case 'c':
			cfg->cmdline = optarg;
			cfg->cmdline_given = true;
			pos.cmdline = at;
			break;
		case 'm':
			rc = parse_mem(optarg, host_mem_bytes, cfg, err, errlen);
			break;
		case 'p':
			rc = parse_cpus(optarg, cfg, err, errlen);
			break;
		case 's':
			rc = parse_serial(optarg, cfg, err, errlen);
			break;
		case 'S':
			rc = parse_smc(optarg, cfg, err, errlen);
			break;
		case 'D':
			rc = parse_disk(optarg, cfg, err, errlen);
			if (rc == 0)
				pos.disk[cfg->ndisks - 1] = at;
			break;
		case 'N':
			rc = parse_net(optarg, cfg, err, errlen);
			if (rc == 0)
				pos.net[cfg->nnets - 1] = at;
			break;
		case 'V':
			rc = parse_vnc(optarg, cfg, err, errlen);
			break;
		case 'Y':
			rc = parse_display(optarg, cfg, err, errlen);
			break;
		case 'B':
			rc = parse_smbios(optarg, cfg, err, errlen);
			break;
		case 'R':
			rc = parse_device_restart(optarg, cfg, err, errlen);
			break;
		case 'A':
			cfg->audit_path = optarg;
			break;
		case 'L':
			rc = parse_limits(optarg, cfg, err, errlen);
			break;
		case 'n':
			if (!ctl_name_valid(optarg))
				rc = err_line(err, errlen,
					      "--name must be 1 to %d letters, digits, '_', '.' or "
					      "'-', not starting with '.' or '-': not '%s'",
					      CTL_NAME_MAX, optarg);
			cfg->name = optarg;
			break;
		case 'C':
			rc = parse_control(optarg, cfg, err, errlen);
			break;
		case 'f':
			if (cfg->config_file)
				rc = err_line(err, errlen, "--config given twice");
			cfg->config_file = optarg;
			break;
		case 'v':
			cfg->verbose = true;
			break;
		case 'h':
			cfg->help = true;
			return 0;
		case ':':
			return failed_at(
			    err_at, at,
			    err_line(err, errlen, "option %s needs a value", argv[optind - 1]));
		default:
			return failed_at(err_at, at,
					 err_line(err, errlen,
						  "unknown option '%s' (see moat run --help)",
						  argv[optind - 1]));
		}
	}
	if (rc < 0)
		return failed_at(err_at, at, rc);
	if (optind < argc)
		return failed_at(err_at, optind,
				 err_line(err, errlen,
					  "unexpected argument '%s' (see moat run --help)",
					  argv[optind]));
	return check_run(cfg, &pos, err_at, err, errlen);
}

/* The same getopt_long loop as mon_parse_run_at, values left unread. */
int mon_scan_run(int argc, char **argv, struct mon_run_arg **out, size_t *n, char *err,
		 size_t errlen)
{
	struct mon_run_arg *args = NULL;
	size_t cap = 0, len = 0;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, RUN_OPTSTRING, run_opts, NULL)) != -1) {
		if (c == ':' || c == '?') {
			free(args);
			return err_line(err, errlen,
					c == ':' ? "option %s needs a value"
						 : "unknown option '%s' (see moat run --help)",
					argv[optind - 1]);
		}
		if (len == cap) {
			struct mon_run_arg *more;

			cap = cap ? 2 * cap : 16;
			more = reallocarray(args, cap, sizeof(*args));
			if (!more) {
				free(args);
				return err_line(err, errlen, "out of memory");
			}
			args = more;
		}
		args[len++] = (struct mon_run_arg){
		    .name = run_opt_name(c), .value = optarg, .index = optind - 1};
	}
	if (optind < argc) {
		free(args);
		return err_line(err, errlen, "unexpected argument '%s' (see moat run --help)",
				argv[optind]);
	}
	*out = args;
	*n = len;
	return 0;
}

int mon_option_id(const char *option, const char *value, char *id, size_t idlen)
{
	bool disk = strcmp(option, "disk") == 0;
	char *copy = strdup(value), *cur = copy, *f;
	int rc = -ENOENT;

	if (!copy)
		return -ENOMEM;
	for (bool first = true; rc == -ENOENT; first = false) {
		if (disk) {
			/* --disk doubles a comma inside a value (next_field) */
			f = next_field(&cur);
		} else {
			/* --net has no escape: netopt_parse splits at every comma, and
			 * its first field is the kind, never the id */
			f = cur ? strsep(&cur, ",") : NULL;
			if (first)
				continue;
		}
		if (!f)
			break;
		if (strncmp(f, "id=", 3) == 0)
			rc = snprintf(id, idlen, "%s", f + 3) < (int)idlen ? 0 : -EINVAL;
	}
	free(copy);
	return rc;
}
