/* moat's config file: a file equal to a command line gives the same VM
 * description; the command line overrides the file by the documented
 * rules; every error is one line naming FILE:LINE and the key; hostile
 * files get such a line (or a correct parse), never a crash. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_merge.h"
#include "moat_limits.h"
#include "netopt.h"
#include "options.h"
#include "tap.h"

#define HOST (8ULL << 30)
#define OSK  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char tmpdir[64];

/* Write len bytes of text to a new file of the test directory, mode mode.
 * Returns its path (the test's to keep: each test runs in a child). */
static const char *write_bytes(const char *text, size_t len, mode_t mode)
{
	static unsigned n;
	char *path = malloc(128);
	int fd;

	snprintf(path, 128, "%s/f%u-%d.conf", tmpdir, n++, getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) < 0) {
		perror(path);
		exit(1);
	}
	close(fd);
	return path;
}

static const char *write_text(const char *text)
{
	return write_bytes(text, strlen(text), 0600);
}

struct parsed {
	struct mon_config cfg;
	struct mon_config_source *src;
	struct mon_config_report rep;
	int rc;
};

static void parse_argv(struct parsed *p, int argc, char **argv)
{
	p->rc = mon_config_parse(argc, argv, HOST, &p->cfg, &p->src, &p->rep);
}

#define ARGV(...)	 ((char *[]){"run", __VA_ARGS__, NULL})
#define ARGC(...)	 ((int)(sizeof((char *[]){"run", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(p, ...)	 parse_argv(p, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))
#define PARSE_FILE(p, f) PARSE(p, "--config", (char *)(f))

/* The error is one line: PATH, then want. */
static int error_is(const struct parsed *p, const char *path, const char *want)
{
	size_t n = strlen(path);

	if (p->rc != -EINVAL || strchr(p->rep.err, '\n') || strncmp(p->rep.err, path, n) != 0 ||
	    strncmp(p->rep.err + n, want, strlen(want)) != 0) {
		fprintf(stderr, "rc %d, error '%s'; wanted '%s%s...'\n", p->rc, p->rep.err, path,
			want);
		return 0;
	}
	return 1;
}

/* The file text, refused with PATH + want. */
static int file_refused(const char *text, const char *want)
{
	struct parsed p;
	const char *path = write_text(text);

	PARSE_FILE(&p, path);
	return error_is(&p, path, want);
}
#define REFUSED(text, want) CHECK(file_refused(text, want))

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The fields of the VM description that a config file can set. */
static int same_config(const struct mon_config *a, const struct mon_config *b)
{
	CHECK(same_str(a->kernel, b->kernel) && same_str(a->firmware, b->firmware));
	CHECK(same_str(a->firmware_vars, b->firmware_vars) && same_str(a->initrd, b->initrd));
	CHECK(same_str(a->cmdline, b->cmdline) && a->cmdline_given == b->cmdline_given);
	CHECK(a->mem_bytes == b->mem_bytes && a->cpus == b->cpus);
	CHECK(a->serial == b->serial && same_str(a->serial_path, b->serial_path));
	CHECK(a->verbose == b->verbose && a->shutdown_timeout_s == b->shutdown_timeout_s);
	CHECK(same_str(a->audit_path, b->audit_path) && same_str(a->name, b->name));
	CHECK(same_str(a->control_path, b->control_path));
	CHECK(a->limit_pids == b->limit_pids && a->limit_overhead == b->limit_overhead);
	CHECK(a->smc == b->smc && same_str(a->smc_osk_file, b->smc_osk_file));
	CHECK(a->smc_osk_inline == b->smc_osk_inline);
	CHECK(memcmp(a->smc_osk, b->smc_osk, MON_OSK_LEN) == 0);
	CHECK(a->nsmbios == b->nsmbios);
	for (unsigned i = 0; i < a->nsmbios; i++)
		CHECK(strcmp(a->smbios[i], b->smbios[i]) == 0);
	CHECK(a->ndisks == b->ndisks);
	for (unsigned i = 0; i < a->ndisks; i++) {
		const struct mon_disk *x = &a->disks[i], *y = &b->disks[i];

		CHECK(strcmp(x->path, y->path) == 0 && x->ro == y->ro);
		CHECK(x->blockdev == y->blockdev && strcmp(x->id, y->id) == 0);
		CHECK(strcmp(x->serial, y->serial) == 0);
		CHECK(x->cache_none == y->cache_none && x->aio == y->aio);
		CHECK(x->queues == y->queues && x->format == y->format);
	}
	CHECK(a->nnets == b->nnets);
	for (unsigned i = 0; i < a->nnets; i++) {
		const struct netopt *x = &a->nets[i], *y = &b->nets[i];

		CHECK(x->kind == y->kind && strcmp(x->id, y->id) == 0);
		CHECK(memcmp(x->mac, y->mac, 6) == 0 && strcmp(x->ifname, y->ifname) == 0);
		CHECK(x->restricted == y->restricted && x->hostloop == y->hostloop);
		CHECK(x->nfwd == y->nfwd);
		for (unsigned f = 0; f < x->nfwd; f++)
			CHECK(memcmp(&x->fwd[f], &y->fwd[f], sizeof(x->fwd[f])) == 0);
	}
	return 0;
}

static const char full_file[] = "# every key there is\n"
				"[machine]\n"
				"kernel = /k\n"
				"initrd = /i\n"
				"cmdline = console=ttyS0 quiet\n"
				"mem = 1G\n"
				"cpus = 2\n"
				"serial = file:/tmp/ser\n"
				"shutdown-timeout = 5\n"
				"audit = /var/log/audit\n"
				"limits = pids=64,overhead=1G\n"
				"smbios = type=1,serial=S1\n"
				"smbios = type=2,serial=S,,2\n"
				"name = vm1\n"
				"control = /run/c.sock\n"
				"verbose = on\n"
				"[disk \"root\"]\n"
				"path = /img/a,b\n"
				"ro = on\n"
				"serial = SER\n"
				"format = qcow2\n"
				"[disk \"data\"]\n"
				"path = /dev/sdz\n"
				"blockdev = on\n"
				"cache = none\n"
				"aio = threads\n"
				"queues = 3\n"
				"[net \"n0\"]\n"
				"type = user\n"
				"mac = 52:54:00:aa:bb:cc\n"
				"hostfwd = tcp::2222-:22\n"
				"hostfwd = udp:0.0.0.0:5353-10.0.2.15:53\n"
				"restrict = on\n"
				"hostloop = off\n"
				"[net \"n1\"]\n"
				"type = tap\n"
				"ifname = tap0\n"
				"[smc]\n"
				"osk-file = /etc/osk\n";

/* A file with every key gives what the same command line gives. */
static int t_file_equals_command_line(void)
{
	struct parsed f, c;
	char limits[] = "pids=64,overhead=1G";

	PARSE_FILE(&f, write_text(full_file));
	CHECK(f.rc == 0);
	PARSE(&c, "--kernel", "/k", "--initrd", "/i", "--cmdline", "console=ttyS0 quiet", "--mem",
	      "1G", "--cpus", "2", "--serial", "file:/tmp/ser", "--shutdown-timeout", "5",
	      "--audit", "/var/log/audit", "--limits", limits, "--smbios", "type=1,serial=S1",
	      "--smbios", "type=2,serial=S,,2", "--name", "vm1", "--control", "/run/c.sock", "-v",
	      "--disk", "path=/img/a,,b,ro,serial=SER,format=qcow2,id=root", "--disk",
	      "path=/dev/sdz,blockdev=on,cache=none,aio=threads,queues=3,id=data", "--net",
	      "user,id=n0,mac=52:54:00:aa:bb:cc,hostfwd=tcp::2222-:22,hostfwd=udp:0.0.0.0:5353-"
	      "10.0.2.15:53,restrict=on,hostloop=off",
	      "--net", "tap=tap0,id=n1", "--smc", "osk-file=/etc/osk");
	CHECK(c.rc == 0 && c.src == NULL);
	CHECK(same_config(&f.cfg, &c.cfg) == 0);
	/* and it is what the file says */
	CHECK(strcmp(f.cfg.disks[0].path, "/img/a,b") == 0 && f.cfg.disks[0].ro);
	CHECK(f.cfg.disks[1].queues == 3 && f.cfg.disks[1].cache_none);
	CHECK(f.cfg.nets[0].nfwd == 2 && f.cfg.nets[0].restricted);
	CHECK(f.cfg.nets[1].kind == NETOPT_TAP && strcmp(f.cfg.nets[1].ifname, "tap0") == 0);
	CHECK(strcmp(f.cfg.config_file, "") != 0);
	mon_config_source_free(f.src);
	return 0;
}

static int t_firmware_file(void)
{
	struct parsed f, c;

	PARSE_FILE(&f, write_text("[machine]\nfirmware = /fw/CODE.fd,vars=/fw/VARS.fd\n"
				  "[disk \"boot\"]\npath = /img\n"));
	CHECK(f.rc == 0);
	PARSE(&c, "--firmware", "/fw/CODE.fd,vars=/fw/VARS.fd", "--disk", "path=/img,id=boot");
	CHECK(c.rc == 0 && same_config(&f.cfg, &c.cfg) == 0);
	mon_config_source_free(f.src);
	return 0;
}

/* contrib/moat/example.conf, as shipped, is valid and says what it says. */
static int t_example_conf(void)
{
	const char *path = getenv("MOAT_EXAMPLE_CONF");
	struct parsed p;

	if (!path)
		return TEST_SKIP; /* run outside meson test */
	PARSE_FILE(&p, path);
	CHECK(p.rc == 0);
	CHECK(p.cfg.ndisks == 2 && strcmp(p.cfg.disks[1].id, "data") == 0 && p.cfg.disks[1].ro);
	CHECK(p.cfg.nnets == 2 && p.cfg.nets[0].nfwd == 2 && p.cfg.nets[1].kind == NETOPT_TAP);
	CHECK(p.cfg.nsmbios == 2 && p.cfg.smc && strcmp(p.cfg.name, "example") == 0);
	CHECK(p.cfg.mem_bytes == 2ULL << 30 && p.cfg.cpus == 2 && !p.cfg.verbose);
	mon_config_source_free(p.src);
	return 0;
}

/* Comments, blank lines, indentation (as QEMU writes its files), quoted
 * values, ':' for '=', CRLF line ends, a UTF-8 BOM. */
static int t_layout(void)
{
	struct parsed p;
	const char text[] = "\xef\xbb\xbf; moat\r\n"
			    "\r\n"
			    "[machine]\r\n"
			    "  kernel = \"/boot/vm linuz\"\r\n"
			    "\tcmdline = \"  a ; b # c  \"\r\n"
			    "  mem: 256M\r\n"
			    "# [disk \"gone\"]\r\n"
			    "[ disk  \"d\" ]\r\n"
			    "  path = \"/img\"";

	PARSE_FILE(&p, write_text(text));
	CHECK(p.rc == 0);
	CHECK(strcmp(p.cfg.kernel, "/boot/vm linuz") == 0);
	CHECK(strcmp(p.cfg.cmdline, "  a ; b # c  ") == 0);
	CHECK(p.cfg.mem_bytes == 256ULL << 20);
	CHECK(p.cfg.ndisks == 1 && strcmp(p.cfg.disks[0].id, "d") == 0);
	CHECK(strcmp(p.cfg.disks[0].path, "/img") == 0);
	mon_config_source_free(p.src);
	/* an empty cmdline is a value; an empty anything else is not */
	PARSE_FILE(&p, write_text("[machine]\nkernel = /k\ncmdline =\n"));
	CHECK(p.rc == 0 && strcmp(p.cfg.cmdline, "") == 0 && p.cfg.cmdline_given);
	mon_config_source_free(p.src);
	REFUSED("[machine]\nkernel = /k\nmem = \"\"\n", ":3: [machine] mem: an empty value");
	return 0;
}

/* A single-valued option on the command line replaces the file's, which
 * is then not read at all; --kernel and --firmware are one choice. */
static int t_override_single(void)
{
	const char *path = write_text("[machine]\nkernel = /k\nmem = lots\ncpus = 2\n"
				      "verbose = off\nname = file-vm\n[smc]\nosk-file = /f\n");
	struct parsed p;
	char smc[] = "osk-file=/cl";

	PARSE(&p, "--config", (char *)path, "-m2G", "--na", "cl-vm", "-v", "--smc", smc);
	CHECK(p.rc == 0);
	CHECK(p.cfg.mem_bytes == 2ULL << 30 && p.cfg.cpus == 2 && p.cfg.verbose);
	CHECK(strcmp(p.cfg.name, "cl-vm") == 0 && strcmp(p.cfg.smc_osk_file, "/cl") == 0);
	CHECK(strcmp(p.cfg.kernel, "/k") == 0);
	mon_config_source_free(p.src);
	/* without the override, the file's bad mem is an error */
	PARSE_FILE(&p, path);
	CHECK(error_is(&p, path, ":3: [machine] mem: --mem takes a size"));
	/* --firmware on the command line replaces the file's kernel */
	PARSE(&p, "--config", (char *)path, "--mem", "1G", "--firmware", "/fw");
	CHECK(p.rc == 0 && p.cfg.kernel == NULL && strcmp(p.cfg.firmware, "/fw") == 0);
	mon_config_source_free(p.src);
	return 0;
}

/* A --disk or --net whose id is a section's takes that section's place
 * (the guest's device order and default MACs hold); the others, and
 * --smbios, are added after the file's. */
static int t_override_devices(void)
{
	const char *path = write_text("[machine]\nkernel = /k\nsmbios = type=1,serial=F\n"
				      "[disk \"a\"]\npath = /a\n[disk \"b\"]\npath = /b\nro = on\n"
				      "[net \"n0\"]\ntype = user\n[net \"n1\"]\ntype = user\n");
	struct parsed p;

	PARSE(&p, "--config", (char *)path, "--disk", "path=/new,id=a", "--disk", "path=/c",
	      "--net", "user,restrict=on,id=n0", "--net", "user", "--smbios", "type=1,serial=C");
	CHECK(p.rc == 0);
	CHECK(p.cfg.ndisks == 3);
	CHECK(strcmp(p.cfg.disks[0].id, "a") == 0 && strcmp(p.cfg.disks[0].path, "/new") == 0);
	CHECK(strcmp(p.cfg.disks[1].id, "b") == 0 && p.cfg.disks[1].ro);
	CHECK(strcmp(p.cfg.disks[2].id, "blk2") == 0 && strcmp(p.cfg.disks[2].path, "/c") == 0);
	CHECK(p.cfg.nnets == 3);
	CHECK(strcmp(p.cfg.nets[0].id, "n0") == 0 && p.cfg.nets[0].restricted);
	CHECK(p.cfg.nets[0].mac[5] == 0x56); /* the first card's MAC still */
	CHECK(strcmp(p.cfg.nets[1].id, "n1") == 0 && !p.cfg.nets[1].restricted);
	CHECK(strcmp(p.cfg.nets[2].id, "net2") == 0);
	CHECK(p.cfg.nsmbios == 2 && strcmp(p.cfg.smbios[1], "type=1,serial=C") == 0);
	mon_config_source_free(p.src);
	/* a command-line device without an id that clashes is an error */
	PARSE(&p, "--config", (char *)path, "--disk", "path=/x", "--disk", "path=/y", "--disk",
	      "path=/z,id=b", "--disk", "path=/w,id=b");
	CHECK(p.rc == -EINVAL && strcmp(p.rep.err, "--disk id=b is used twice") == 0);
	return 0;
}

/* The pieces options.c gives a config file: the command line's options
 * however they are written, a device's id= as its parser splits it, and
 * which argv element an error is about. */
static int t_option_helpers(void)
{
	char *argv[] = {"run", "-m1G", "--me=2G", "--cpu", "3", "-v", "--disk", "path=/a", NULL};
	struct mon_run_arg *a;
	struct mon_config c;
	char id[16], err[256];
	size_t n;
	int at;

	CHECK(mon_scan_run(8, argv, &a, &n, err, sizeof(err)) == 0 && n == 5);
	CHECK(strcmp(a[0].name, "mem") == 0 && strcmp(a[0].value, "1G") == 0 && a[0].index == 1);
	CHECK(strcmp(a[1].name, "mem") == 0 && strcmp(a[1].value, "2G") == 0);
	CHECK(strcmp(a[2].name, "cpus") == 0 && a[2].index == 4);
	CHECK(strcmp(a[3].name, "verbose") == 0 && a[3].value == NULL);
	CHECK(strcmp(a[4].name, "disk") == 0 && a[4].index == 7);
	free(a);
	CHECK(mon_option_id("disk", "path=/x,,id=no,id=yes", id, sizeof(id)) == 0);
	CHECK(strcmp(id, "yes") == 0);
	CHECK(mon_option_id("disk", "path=/x", id, sizeof(id)) == -ENOENT);
	CHECK(mon_option_id("net", "user,mac=52:54:00:00:00:01,id=n", id, sizeof(id)) == 0);
	CHECK(strcmp(id, "n") == 0);
	CHECK(mon_option_id("net", "id=x", id, sizeof(id)) == -ENOENT); /* that is its kind */
	CHECK(mon_option_id("disk", "id=0123456789abcdefXYZ", id, sizeof(id)) == -EINVAL);
	CHECK(mon_parse_run_at(5, (char *[]){"run", "--kernel", "/k", "--cpus=0", "x", NULL}, 0, &c,
			       &at, err, sizeof(err)) == -EINVAL);
	CHECK(at == 3);
	CHECK(mon_parse_run_at(3, (char *[]){"run", "--kernel=/k", "x", NULL}, 0, &c, &at, err,
			       sizeof(err)) == -EINVAL);
	CHECK(at == 2 && strstr(err, "unexpected argument 'x'"));
	CHECK(mon_parse_run_at(5, (char *[]){"run", "--initrd", "/i", "--firmware", "/f", NULL}, 0,
			       &c, &at, err, sizeof(err)) == -EINVAL);
	CHECK(at == 2 && strstr(err, "--initrd is for --kernel"));
	CHECK(mon_parse_run_at(3, (char *[]){"run", "--mem", "1G", NULL}, 0, &c, &at, err,
			       sizeof(err)) == -EINVAL);
	CHECK(at == -1);
	return 0;
}

/* Errors of the file's structure. */
static int t_structure_errors(void)
{
	REFUSED("[machine]\nkernel = /k\n[vm]\n", ":3: [vm]: unknown section");
	REFUSED("[machine]\nkernel = /k\nkernal = /k\n",
		":3: [machine] kernal: unknown key (machine takes kernel, firmware");
	REFUSED("kernel = /k\n[machine]\n", ":1: kernel: a key outside any section");
	REFUSED("[machine]\nkernel = /k\n\n[machine]\n",
		":4: [machine]: given twice (first on line 1)");
	REFUSED("[machine]\nkernel = /k\n[disk \"a\"]\npath=/a\n[disk \"a\"]\npath=/b\n",
		":5: [disk \"a\"]: given twice (first on line 3)");
	REFUSED("[machine]\nkernel = /k\ncpus = 1\ncpus = 2\n",
		":4: [machine] cpus: given twice (first on line 3)");
	REFUSED("[machine]\nkernel = /k\n[disk]\n", ":3: [disk]: needs an id: [disk \"ID\"]");
	REFUSED("[machine \"x\"]\n", ":1: [machine \"x\"]: takes no id");
	REFUSED("[disk root]\n", ":1: [disk root]: the id goes in double quotes");
	REFUSED("[machine]\nkernel = /k\n[disk \"a\"\n", ":3: a section line without its ']'");
	REFUSED("[machine]\nkernel /k\n", ":2: expected a [section] line or KEY = VALUE");
	REFUSED("[machine] kernel = /k\n", ":1: text after the section's ']'");
	REFUSED("[machine]\n = /k\n", ":2: no key before the '='");
	REFUSED("[]\n", ":1: []: unknown section");
	REFUSED("[machine]\nkernel = /k\nverbose = yes\n",
		":3: [machine] verbose: takes on or off, not 'yes'");
	REFUSED("[machine]\nkernel = /k\n[disk \"a\"]\npath = /a\nro = 1\n",
		":5: [disk \"a\"] ro: takes on or off, not '1'");
	REFUSED("[machine]\nkernel = /k\n[smc]\nosk-file = /f\nosk = " OSK "\n",
		":5: [smc] osk: osk and osk-file exclude each other");
	return 0;
}

/* A value the option parser refuses: the line of the key that gave it
 * (for a section, the key whose field alone is refused), else the
 * section's line. */
static int t_value_errors(void)
{
	REFUSED("[machine]\nkernel = /k\ncpus = 99\n", ":3: [machine] cpus: --cpus must be");
	REFUSED("[machine]\nkernel = /k\nname = -x\n", ":3: [machine] name: --name must be");
	REFUSED("[machine]\nkernel = /k\nsmbios = type=1,serial=a\nsmbios = type=9,x=y\n",
		":4: [machine] smbios: ");
	REFUSED("[machine]\nkernel = /k\n[disk \"root\"]\npath = /a\nserial = "
		"123456789012345678901\n",
		":5: [disk \"root\"] serial: --disk serial= takes at most 20");
	REFUSED("[machine]\nkernel = /k\n[disk \"root\"]\nblockdev = maybe\npath = /a\n",
		":4: [disk \"root\"] blockdev: --disk blockdev= takes on or off");
	REFUSED("[machine]\nkernel = /k\n[disk \"Root\"]\npath = /a\n",
		":3: [disk \"Root\"]: --disk id= takes 1-15");
	REFUSED("[machine]\nkernel = /k\n[disk \"root\"]\nro = on\n",
		":3: [disk \"root\"]: --disk needs path=IMAGE");
	REFUSED("[machine]\nkernel = /k\n[net \"n\"]\ntype = user\nmac = 01:00:00:00:00:01\n",
		":5: [net \"n\"] mac: net: MAC 01:00:00:00:00:01 is a multicast address");
	REFUSED("[machine]\nkernel = /k\n[net \"n\"]\ntype = user\nhostfwd = tcp::22-:22\n"
		"hostfwd = tcp::1-:99999\n",
		":6: [net \"n\"] hostfwd: net: hostfwd guest port 99999");
	REFUSED("[machine]\nkernel = /k\n[net \"n\"]\ntype = tap\nifname = tap0\n"
		"restrict = on\n",
		":6: [net \"n\"] restrict: net: 'restrict' applies only to user networking");
	REFUSED("[machine]\nkernel = /k\n[net \"n\"]\nmac = 52:54:00:00:00:01\n",
		":3: [net \"n\"]: needs type = user or type = tap");
	REFUSED("[machine]\nkernel = /k\n[net \"n\"]\ntype = bridge\n",
		":4: [net \"n\"] type: takes user or tap, not 'bridge'");
	REFUSED("[machine]\nkernel = /k\n[net \"n\"]\ntype = tap\n",
		":3: [net \"n\"]: type = tap needs ifname");
	REFUSED("[machine]\nkernel = /k\n[net \"n\"]\ntype = user\nifname = tap0\n",
		":5: [net \"n\"] ifname: is for type = tap");
	REFUSED("[machine]\nkernel = /k\n[net \"n\"]\ntype = user\nmac = 52:54:00:00:00:01,"
		"hostfwd=tcp::1-:1\n",
		":5: [net \"n\"] mac: a [net] value cannot hold a comma");
	REFUSED("[machine]\nkernel = /k\n[disk \"x\"]\npath = /a\n[net \"x\"]\ntype = user\n",
		":5: [net \"x\"]: --net id=x is a --disk id too");
	REFUSED("[machine]\nkernel = /k\nfirmware = /fw\n",
		":3: [machine] firmware: --kernel and --firmware exclude each other");
	REFUSED("[machine]\nfirmware = /fw\ninitrd = /i\n[disk \"d\"]\npath = /d\n",
		":3: [machine] initrd: --initrd is for --kernel");
	REFUSED("[smc]\nosk = short\n[machine]\nkernel = /k\n",
		":2: [smc] osk: --smc osk= must be exactly 64 characters");
	REFUSED("[machine]\nkernel = /k\n[smc]\n", ":3: [smc]: --smc takes osk-file=PATH");
	REFUSED("[machine]\nmem = 1G\n", ": --kernel or --firmware is required");
	return 0;
}

/* The file itself: missing, not a regular file, unreadable. */
static int t_file_errors(void)
{
	struct parsed p;
	char fifo[96], missing[96];

	snprintf(missing, sizeof(missing), "%s/none.conf", tmpdir);
	PARSE_FILE(&p, missing);
	CHECK(p.rc == -EINVAL && strstr(p.rep.err, "cannot open the config file") &&
	      strstr(p.rep.err, missing) && strstr(p.rep.err, "No such file"));
	PARSE_FILE(&p, tmpdir);
	CHECK(p.rc == -EINVAL && strstr(p.rep.err, "is a directory, not a regular file"));
	snprintf(fifo, sizeof(fifo), "%s/fifo-%d", tmpdir, getpid());
	CHECK(mkfifo(fifo, 0600) == 0);
	PARSE_FILE(&p, fifo); /* refused before it is opened: no hang */
	CHECK(p.rc == -EINVAL && strstr(p.rep.err, "is a FIFO, not a regular file"));
	unlink(fifo);
	CHECK(strchr(p.rep.err, '\n') == NULL);
	return 0;
}

static int t_unreadable(void)
{
	const char *path = write_bytes("[machine]\nkernel = /k\n", 22, 0600);
	struct parsed p;

	/* root reads anything: become nobody in this test's own child */
	if (geteuid() == 0 &&
	    (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
		return TEST_SKIP;
	prctl(PR_SET_DUMPABLE, 1); /* /proc/self/fd stays ours after setuid */
	if (geteuid() != 0)
		CHECK(chmod(path, 0) == 0 || errno == EPERM);
	PARSE_FILE(&p, path);
	CHECK(p.rc == -EINVAL && strstr(p.rep.err, "cannot open the config file") &&
	      strstr(p.rep.err, "Permission denied"));
	return 0;
}

/* The command line's own errors stay as they are; --config once. */
static int t_command_line_errors(void)
{
	const char *path = write_text("[machine]\nkernel = /k\n");
	struct parsed p;

	PARSE(&p, "--config", (char *)path, "--mem", "lots");
	CHECK(p.rc == -EINVAL && strncmp(p.rep.err, "--mem takes a size", 18) == 0);
	PARSE(&p, "--config", (char *)path, "--config", (char *)path);
	CHECK(p.rc == -EINVAL && strcmp(p.rep.err, "--config given twice") == 0);
	PARSE(&p, "--config", (char *)path, "--bogus");
	CHECK(p.rc == -EINVAL && strstr(p.rep.err, "unknown option '--bogus'"));
	PARSE(&p, "--config", (char *)path, "stray");
	CHECK(p.rc == -EINVAL && strstr(p.rep.err, "unexpected argument 'stray'"));
	PARSE(&p, "--config");
	CHECK(p.rc == -EINVAL && strstr(p.rep.err, "needs a value"));
	/* --help wins, even over a file that is not there */
	PARSE(&p, "--config", "/nonexistent/x.conf", "--help");
	CHECK(p.rc == 0 && p.cfg.help);
	return 0;
}

/* An OSK in the file: taken (and flagged as the file's, so no warning about
 * the process list), with a warning when others can read the file. */
static int t_osk_in_file(void)
{
	const char text[] = "[machine]\nkernel = /k\n[smc]\nosk = " OSK "\n";
	const char refused[] = "[smc]\nosk = " OSK "\n[vm]\n";
	const char *path = write_bytes(text, sizeof(text) - 1, 0644);
	struct parsed p;

	PARSE_FILE(&p, path);
	CHECK(p.rc == 0 && p.cfg.smc && p.cfg.smc_osk_inline && p.rep.osk_in_file);
	CHECK(memcmp(p.cfg.smc_osk, OSK, MON_OSK_LEN) == 0);
	CHECK(strstr(p.rep.warn, "holds the SMC's OSK and other users can read it (mode 0644)"));
	mon_config_source_free(p.src);
	PARSE_FILE(&p, write_bytes(text, sizeof(text) - 1, 0600));
	CHECK(p.rc == 0 && p.rep.warn[0] == 0);
	mon_config_source_free(p.src);
	/* refused files warn too: the secret is out either way */
	PARSE_FILE(&p, write_bytes(refused, sizeof(refused) - 1, 0640));
	CHECK(p.rc == -EINVAL && strstr(p.rep.warn, "mode 0640"));
	return 0;
}

/* mon_config_main(argv) with its stdout and stderr in out. */
static int run_config(char **argv, char *out, size_t outlen)
{
	FILE *cap = tmpfile();
	int saved_out = dup(1), saved_err = dup(2), argc = 0, rc;
	size_t n;

	while (argv[argc])
		argc++;
	fflush(stdout);
	dup2(fileno(cap), 1);
	dup2(fileno(cap), 2);
	rc = mon_config_main(argc, argv);
	fflush(stdout);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	rewind(cap);
	n = fread(out, 1, outlen - 1, cap);
	out[n] = 0;
	fclose(cap);
	return rc;
}
#define CONFIG(out, ...) run_config((char *[]){"config", __VA_ARGS__, NULL}, out, sizeof(out))

/* moat config check FILE: "FILE: ok" and 0, or the line and 2. */
static int t_config_check(void)
{
	const char *good = write_text(full_file);
	const char *partial = write_text("[disk \"d\"]\npath = /d\n");
	const char *bad = write_text("[machine]\nkernel = /k\ncpus = 0\n");
	char out[4096], want[256];

	CHECK(CONFIG(out, "check", (char *)good) == 0);
	snprintf(want, sizeof(want), "%s: ok\n", good);
	CHECK(strcmp(out, want) == 0);
	CHECK(CONFIG(out, "check", (char *)bad) == 2);
	CHECK(strstr(out, ":3: [machine] cpus: --cpus must be"));
	CHECK(strchr(out, '\n') == out + strlen(out) - 1); /* one line */
	/* run options complete a partial file */
	CHECK(CONFIG(out, "check", (char *)partial) == 2 && strstr(out, "is required"));
	CHECK(CONFIG(out, "check", (char *)partial, "--firmware", "/fw") == 0);
	CHECK(CONFIG(out, "--help") == 0 && strncmp(out, "Usage: moat config check", 24) == 0);
	CHECK(CONFIG(out, "check", "--help") == 0 && strstr(out, "[disk \"root\"]"));
	CHECK(run_config((char *[]){"config", NULL}, out, sizeof(out)) == 2);
	CHECK(strncmp(out, "Usage:", 6) == 0);
	CHECK(CONFIG(out, "lint") == 2 && strstr(out, "unknown config command 'lint'"));
	CHECK(CONFIG(out, "check") == 2 && strstr(out, "needs a FILE"));
	return 0;
}

/* --- hostile files --- */

static int t_long_lines(void)
{
	size_t n = 100000;
	char *text = malloc(n + 64);
	const char *path;
	struct parsed p;

	/* the longest line allowed parses whole (inih would split it) */
	strcpy(text, "[machine]\nkernel = /k\ncmdline = ");
	size_t head = strlen(text), fill = 16384 - strlen("cmdline = ");
	memset(text + head, 'a', fill);
	strcpy(text + head + fill, "\n");
	PARSE_FILE(&p, write_text(text));
	CHECK(p.rc == 0 && strlen(p.cfg.cmdline) == fill);
	mon_config_source_free(p.src);
	/* one byte more is refused */
	memset(text + head, 'a', fill + 1);
	strcpy(text + head + fill + 1, "\n");
	path = write_text(text);
	PARSE_FILE(&p, path);
	CHECK(error_is(&p, path, ":3: the line is longer than 16384 bytes"));
	/* a huge line without an end */
	memset(text, '[', n);
	path = write_bytes(text, n, 0600);
	PARSE_FILE(&p, path);
	CHECK(error_is(&p, path, ":1: the line is longer"));
	free(text);
	return 0;
}

static int t_control_bytes(void)
{
	const char nul[] = "[machine]\nkernel = /k\0/evil\n";
	const char *path = write_bytes(nul, sizeof(nul) - 1, 0600);
	struct parsed p;

	PARSE_FILE(&p, path);
	CHECK(error_is(&p, path, ":2: a NUL byte: this is not a text file"));
	REFUSED("[machine]\nkernel = /k\x1b[31m\n", ":2: a control character (0x1b)");
	REFUSED("[machine]\nkernel = /k\rmem = 1G\n", ":2: a control character (0x0d)");
	REFUSED("[mach\x01ine]\n", ":1: a control character (0x01)");
	return 0;
}

/* Bytes of a fixed pseudo-random sequence: refused with one line. */
static int t_binary_garbage(void)
{
	static char buf[65536];
	uint32_t x = 12345;

	for (unsigned round = 0; round < 64; round++) {
		size_t n = 1 + (x % sizeof(buf));
		struct parsed p;
		const char *path;

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (char)(x >> 16);
		}
		path = write_bytes(buf, n, 0600);
		PARSE_FILE(&p, path);
		CHECK(p.rc == -EINVAL && strncmp(p.rep.err, path, strlen(path)) == 0);
		CHECK(strchr(p.rep.err, '\n') == NULL);
		unlink(path);
	}
	return 0;
}

/* Lines drawn from moat's own vocabulary, shuffled: each file parses or
 * gets one line naming the file; none crashes. */
static int t_shuffled_vocabulary(void)
{
	static const char *const words[] = {"[machine]",
					    "[disk \"a\"]",
					    "[disk \"b\"]",
					    "[net \"n\"]",
					    "[smc]",
					    "[disk]",
					    "[net \"a\"]",
					    "kernel = /k",
					    "firmware = /fw",
					    "mem = 1G",
					    "cpus = 4",
					    "cmdline = \"x\"",
					    "path = /p",
					    "ro = on",
					    "type = user",
					    "type = tap",
					    "ifname = t0",
					    "hostfwd = tcp::1-:1",
					    "osk-file = /o",
					    "smbios = type=1,serial=s",
					    "limits = pids=64",
					    "",
					    "# c",
					    "  serial = S",
					    "blockdev = on",
					    "[",
					    "=",
					    "x",
					    "verbose = on",
					    "name = vm",
					    "mac = 52:54:00:00:00:09",
					    "initrd = /i"};
	const unsigned nwords = sizeof(words) / sizeof(words[0]);
	uint32_t x = 777;
	char text[4096];

	for (unsigned round = 0; round < 2000; round++) {
		struct parsed p;
		const char *path;
		size_t len = 0;

		x = x * 1103515245u + 12345u;
		for (unsigned l = (x >> 16) % 24; l > 0; l--) {
			x = x * 1103515245u + 12345u;
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\n",
						words[(x >> 16) % nwords]);
		}
		path = write_bytes(text, len, 0600);
		PARSE_FILE(&p, path);
		CHECK(p.rc == 0 || p.rc == -EINVAL);
		CHECK(p.rc == 0 ||
		      (strncmp(p.rep.err, path, strlen(path)) == 0 && !strchr(p.rep.err, '\n')));
		mon_config_source_free(p.src);
		unlink(path);
	}
	return 0;
}

/* A file of head and count copies of unit, in which "%u" stands for the
 * copy's number. */
static const char *repeated(const char *head, const char *unit, unsigned count)
{
	const char *num = strstr(unit, "%u");
	size_t pre = num ? (size_t)(num - unit) : strlen(unit);
	size_t n = strlen(head) + (strlen(unit) + 10) * count;
	char *text = malloc(n + 1), *w = text;
	const char *path;

	w = stpcpy(w, head);
	for (unsigned i = 0; i < count; i++) {
		memcpy(w, unit, pre);
		w += pre;
		if (num)
			w += sprintf(w, "%u%s", i, num + 2);
	}
	path = write_bytes(text, (size_t)(w - text), 0600);
	free(text);
	return path;
}

static int expect_refused(const char *path, const char *want)
{
	struct parsed p;

	PARSE_FILE(&p, path);
	return error_is(&p, path, want);
}

static int t_many_sections_and_keys(void)
{
	CHECK(expect_refused(
	    repeated("[machine]\nkernel = /k\n", "[disk \"d%u\"]\npath = /x\n", 10000),
	    ":19: [disk \"d8\"]: more than 8 [disk] sections"));
	CHECK(expect_refused(repeated("", "[machine]\n", 10000),
			     ":2: [machine]: given twice (first on line 1)"));
	CHECK(expect_refused(
	    repeated("[machine]\nkernel = /k\n", "smbios = type=1,serial=s%u\n", 10000),
	    ":11: [machine] smbios: given more than 8 times"));
	CHECK(expect_refused(repeated("[machine]\nkernel = /k\n[net \"n\"]\ntype = user\n",
				      "hostfwd = tcp::%u-:22\n", 10000),
			     ":21: [net \"n\"] hostfwd: given more than 16 times"));
	CHECK(expect_refused(repeated("[machine]\n", "mem = 1G\n", 10000),
			     ":3: [machine] mem: given twice (first on line 2)"));
	/* inih would keep 49 bytes of a long section name, silently */
	char text[300] = "[machine]\nkernel = /k\n[disk \"";
	memset(text + strlen(text), 'a', 200);
	strcat(text, "\"]\npath = /a\n");
	REFUSED(text, ":3: a section name longer than 48 bytes");
	return 0;
}

static int t_too_big(void)
{
	const char *path = repeated("[machine]\nkernel = /k\n",
				    "# 0123456789012345678901234567890123456789 %u\n", 30000);
	struct parsed p;

	PARSE_FILE(&p, path);
	CHECK(error_is(&p, path, ": larger than 1024 KiB"));
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	static const struct test_case tests[] = {
	    TEST(t_file_equals_command_line),
	    TEST(t_firmware_file),
	    TEST(t_example_conf),
	    TEST(t_layout),
	    TEST(t_override_single),
	    TEST(t_override_devices),
	    TEST(t_option_helpers),
	    TEST(t_structure_errors),
	    TEST(t_value_errors),
	    TEST(t_file_errors),
	    TEST(t_unreadable),
	    TEST(t_command_line_errors),
	    TEST(t_osk_in_file),
	    TEST(t_config_check),
	    TEST(t_long_lines),
	    TEST(t_control_bytes),
	    TEST(t_binary_garbage),
	    TEST(t_shuffled_vocabulary),
	    TEST(t_many_sections_and_keys),
	    TEST(t_too_big),
	};
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/moat-config-XXXXXX");
	if (!mkdtemp(tmpdir) || chmod(tmpdir, 0755) < 0) {
		perror("mkdtemp");
		return 1;
	}
	rc = RUN_TESTS(tests);
	nftw(tmpdir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	return rc;
}
