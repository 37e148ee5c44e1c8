/* moat run's option parser: good forms, and every bad form gets -EINVAL
 * with a message naming the problem. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "moat_limits.h"
#include "options.h"
#include "tap.h"

#define HOST (8ULL << 30)

static int parse(struct mon_config *c, char *err, int argc, char **argv)
{
	return mon_parse_run(argc, argv, HOST, c, err, 256);
}

#define ARGV(...)	   ((char *[]){"run", __VA_ARGS__, NULL})
#define ARGC(...)	   ((int)(sizeof((char *[]){"run", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(c, err, ...) parse(c, err, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static int t_defaults(void)
{
	struct mon_config c;
	char err[256];

	CHECK(PARSE(&c, err, "--kernel", "/k") == 0);
	CHECK(strcmp(c.kernel, "/k") == 0);
	CHECK(c.initrd == NULL);
	CHECK(c.mem_bytes == MON_DEFAULT_MEM);
	CHECK(c.cpus == 1);
	CHECK(c.serial == MON_SERIAL_STDIO);
	CHECK(strcmp(c.cmdline, MON_DEFAULT_CMDLINE) == 0);
	return 0;
}

static int t_full(void)
{
	struct mon_config c;
	char err[256];

	CHECK(PARSE(&c, err, "--kernel", "/k", "--initrd", "/i", "--cmdline", "a b", "--mem", "5G",
		    "--cpus", "4", "--serial", "file:/tmp/x", "-v") == 0);
	CHECK(c.mem_bytes == 5ULL << 30);
	CHECK(c.cpus == 4);
	CHECK(c.serial == MON_SERIAL_FILE && strcmp(c.serial_path, "/tmp/x") == 0);
	CHECK(strcmp(c.cmdline, "a b") == 0 && c.verbose);
	CHECK(PARSE(&c, err, "--kernel=/k", "--mem=256M", "--serial=none") == 0);
	CHECK(c.mem_bytes == 256ULL << 20 && c.serial == MON_SERIAL_NONE);
	return 0;
}

static int t_sizes(void)
{
	uint64_t v;

	CHECK(mon_parse_size("512M", &v) == 0 && v == 512ULL << 20);
	CHECK(mon_parse_size("1024", &v) == 0 && v == 1024ULL << 20);
	CHECK(mon_parse_size("2GiB", &v) == 0 && v == 2ULL << 30);
	CHECK(mon_parse_size("65536K", &v) == 0 && v == 64ULL << 20);
	CHECK(mon_parse_size("", &v) == -EINVAL);
	CHECK(mon_parse_size("-1G", &v) == -EINVAL);
	CHECK(mon_parse_size("1X", &v) == -EINVAL);
	CHECK(mon_parse_size("1GG", &v) == -EINVAL);
	CHECK(mon_parse_size("99999999999999999999", &v) == -EINVAL);
	CHECK(mon_parse_size("17179869184T", &v) == -EINVAL); /* overflows 64 bits */
	return 0;
}

static int expect_error(const char *needle, int argc, char **argv)
{
	struct mon_config c;
	char err[256] = "";

	if (parse(&c, err, argc, argv) != -EINVAL)
		return 1;
	if (!strstr(err, needle)) {
		fprintf(stderr, "message '%s' lacks '%s'\n", err, needle);
		return 1;
	}
	return 0;
}
#define EXPECT_ERROR(needle, ...)                                                                  \
	CHECK(expect_error(needle, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__)) == 0)

static int t_bad(void)
{
	EXPECT_ERROR("--kernel or --firmware is required", "--mem", "1G");
	EXPECT_ERROR("--cpus", "--kernel", "/k", "--cpus", "0");
	EXPECT_ERROR("--cpus", "--kernel", "/k", "--cpus", "9");
	EXPECT_ERROR("--cpus", "--kernel", "/k", "--cpus", "2x");
	EXPECT_ERROR("too small", "--kernel", "/k", "--mem", "1M");
	EXPECT_ERROR("more than this host", "--kernel", "/k", "--mem", "64G");
	EXPECT_ERROR("4 KiB", "--kernel", "/k", "--mem", "32769K");
	EXPECT_ERROR("--mem takes", "--kernel", "/k", "--mem", "lots");
	EXPECT_ERROR("--serial", "--kernel", "/k", "--serial", "tcp:1");
	EXPECT_ERROR("--serial", "--kernel", "/k", "--serial", "file:");
	EXPECT_ERROR("unknown option", "--kernel", "/k", "--bogus");
	EXPECT_ERROR("needs a value", "--kernel");
	EXPECT_ERROR("unexpected argument", "--kernel", "/k", "extra");
	return 0;
}

/* --vnc and --display: one display, never both forms at once. */
static int t_display(void)
{
	struct mon_config c;
	char err[256];

	CHECK(parse(&c, err, ARGC("--kernel", "/k"), ARGV("--kernel", "/k")) == 0 && !c.vnc);
	CHECK(parse(&c, err, ARGC("--kernel", "/k", "--display", "none"),
		    ARGV("--kernel", "/k", "--display", "none")) == 0 &&
	      !c.vnc);
	CHECK(parse(&c, err, ARGC("--kernel", "/k", "--vnc", "unix:/s,vram=8M"),
		    ARGV("--kernel", "/k", "--vnc", "unix:/s,vram=8M")) == 0);
	CHECK(c.vnc && c.vnc_opt.is_unix && c.vnc_opt.vram == 8u << 20);
	EXPECT_ERROR("--vnc given twice", "--kernel", "/k", "--vnc", ":1", "--vnc", ":2");
	EXPECT_ERROR("conflicts", "--kernel", "/k", "--vnc", ":1", "--display", "none");
	EXPECT_ERROR("conflicts", "--kernel", "/k", "--display", "none", "--vnc", ":1");
	EXPECT_ERROR("--display takes none", "--kernel", "/k", "--display", "sdl");
	EXPECT_ERROR("not an IPv4 address", "--kernel", "/k", "--vnc", "::1:1");
	return 0;
}

static int t_disks(void)
{
	struct mon_config c;
	char err[256];
	char a1[] = "path=/img/a,ro,id=root,serial=SER-1", a2[] = "path=/img/with,,comma";

	CHECK(PARSE(&c, err, "--kernel", "/k", "--disk", a1, "--disk", a2) == 0);
	CHECK(c.ndisks == 2);
	CHECK(strcmp(c.disks[0].path, "/img/a") == 0 && c.disks[0].ro);
	CHECK(strcmp(c.disks[0].id, "root") == 0 && strcmp(c.disks[0].serial, "SER-1") == 0);
	CHECK(strcmp(c.disks[1].path, "/img/with,comma") == 0 && !c.disks[1].ro);
	CHECK(strcmp(c.disks[1].id, "blk1") == 0);
	EXPECT_ERROR("needs path", "--kernel", "/k", "--disk", "ro");
	EXPECT_ERROR("unknown field", "--kernel", "/k", "--disk", "path=/a,cache-mode=none");
	EXPECT_ERROR("id=", "--kernel", "/k", "--disk", "path=/a,id=Bad/Id");
	EXPECT_ERROR("serial=", "--kernel", "/k", "--disk", "path=/a,serial=123456789012345678901");
	EXPECT_ERROR("used twice", "--kernel", "/k", "--disk", "path=/a,id=x", "--disk",
		     "path=/b,id=x");
	return 0;
}

/* cache= and aio=: QEMU's names; writeback and io_uring-where-it-works by
 * default; a bad value is one line naming the field and the values. */
static int t_disk_cache_aio(void)
{
	struct mon_config c;
	char err[256];
	char a1[] = "path=/img/a,cache=none,aio=io_uring", a2[] = "path=/img/b,cache=writeback",
	     a3[] = "path=/img/c,aio=threads";

	CHECK(PARSE(&c, err, "--kernel", "/k", "--disk", a1, "--disk", a2, "--disk", a3) == 0);
	CHECK(c.disks[0].cache_none && c.disks[0].aio == MON_AIO_IO_URING);
	CHECK(!c.disks[1].cache_none && c.disks[1].aio == MON_AIO_DEFAULT);
	CHECK(!c.disks[2].cache_none && c.disks[2].aio == MON_AIO_THREADS);
	CHECK(PARSE(&c, err, "--kernel", "/k", "--disk", "path=/img/d") == 0);
	CHECK(!c.disks[0].cache_none && c.disks[0].aio == MON_AIO_DEFAULT);
	EXPECT_ERROR("--disk cache= takes none or writeback, not 'directsync'", "--kernel", "/k",
		     "--disk", "path=/a,cache=directsync");
	EXPECT_ERROR("--disk cache= takes none or writeback, not ''", "--kernel", "/k", "--disk",
		     "path=/a,cache=");
	EXPECT_ERROR("--disk aio= takes threads or io_uring, not 'native'", "--kernel", "/k",
		     "--disk", "path=/a,aio=native");
	EXPECT_ERROR("unknown field 'cache'", "--kernel", "/k", "--disk", "path=/a,cache");
	return 0;
}

/* queues=: 1 to 8 request queues; 0 (unset) leaves it to the monitor,
 * one per vCPU. Anything else is one line with the range. */
static int t_disk_queues(void)
{
	struct mon_config c;
	char err[256];
	char a1[] = "path=/img/a,queues=1", a2[] = "path=/img/b,queues=8", a3[] = "path=/img/c";

	CHECK(PARSE(&c, err, "--kernel", "/k", "--cpus", "4", "--disk", a1, "--disk", a2, "--disk",
		    a3) == 0);
	CHECK(c.disks[0].queues == 1 && c.disks[1].queues == 8 && c.disks[2].queues == 0);
	EXPECT_ERROR("--disk queues= takes 1 to 8, not '0'", "--kernel", "/k", "--disk",
		     "path=/a,queues=0");
	EXPECT_ERROR("--disk queues= takes 1 to 8, not '9'", "--kernel", "/k", "--disk",
		     "path=/a,queues=9");
	EXPECT_ERROR("--disk queues= takes 1 to 8, not '10'", "--kernel", "/k", "--disk",
		     "path=/a,queues=10");
	EXPECT_ERROR("--disk queues= takes 1 to 8, not '-1'", "--kernel", "/k", "--disk",
		     "path=/a,queues=-1");
	EXPECT_ERROR("--disk queues= takes 1 to 8, not ''", "--kernel", "/k", "--disk",
		     "path=/a,queues=");
	EXPECT_ERROR("--disk queues= takes 1 to 8, not '2x'", "--kernel", "/k", "--disk",
		     "path=/a,queues=2x");
	return 0;
}

/* format=: raw (the default), qcow2 or vmdk (read-only: ro implied);
 * neither without cache=none and aio=io_uring, which are raw's alone. */
static int t_disk_format(void)
{
	struct mon_config c;
	char err[256];
	char a1[] = "path=/img/a,format=qcow2", a2[] = "path=/img/b,format=raw",
	     a3[] = "path=/img/c", a4[] = "path=/img/d,format=qcow2,aio=threads";

	CHECK(PARSE(&c, err, "--kernel", "/k", "--disk", a1, "--disk", a2, "--disk", a3, "--disk",
		    a4) == 0);
	CHECK(c.disks[0].format == MON_FORMAT_QCOW2 && c.disks[1].format == MON_FORMAT_RAW);
	CHECK(c.disks[2].format == MON_FORMAT_RAW && c.disks[3].format == MON_FORMAT_QCOW2);
	EXPECT_ERROR("--disk format= takes raw, qcow2 or vmdk, not 'vhdx'", "--kernel", "/k",
		     "--disk", "path=/a,format=vhdx");
	EXPECT_ERROR("--disk format= takes raw, qcow2 or vmdk, not ''", "--kernel", "/k", "--disk",
		     "path=/a,format=");
	/* vmdk is read only: ro implied */
	char a5[] = "path=/img/e,format=vmdk";
	CHECK(PARSE(&c, err, "--kernel", "/k", "--disk", a5) == 0);
	CHECK(c.disks[0].format == MON_FORMAT_VMDK && c.disks[0].ro);
	EXPECT_ERROR("--disk format=vmdk: cache=none is for raw images only", "--kernel", "/k",
		     "--disk", "path=/a,format=vmdk,cache=none");
	EXPECT_ERROR("--disk format=qcow2: cache=none is for raw images only", "--kernel", "/k",
		     "--disk", "path=/a,cache=none,format=qcow2");
	EXPECT_ERROR("--disk format=qcow2: aio=io_uring is for raw images only", "--kernel", "/k",
		     "--disk", "path=/a,format=qcow2,aio=io_uring");
	return 0;
}

/* A block device only by explicit opt-in: blockdev=on, default off. */
static int t_disk_blockdev(void)
{
	struct mon_config c;
	char err[256];
	char a1[] = "path=/dev/sdx,blockdev=on,ro", a2[] = "path=/img/b,blockdev=off";

	CHECK(PARSE(&c, err, "--kernel", "/k", "--disk", a1, "--disk", a2) == 0);
	CHECK(c.disks[0].blockdev && c.disks[0].ro);
	CHECK(!c.disks[1].blockdev && !c.disks[1].ro);
	CHECK(PARSE(&c, err, "--kernel", "/k", "--disk", "path=/img/c") == 0);
	CHECK(!c.disks[0].blockdev);
	EXPECT_ERROR("blockdev= takes on or off", "--kernel", "/k", "--disk",
		     "path=/dev/sdx,blockdev=yes");
	EXPECT_ERROR("unknown field 'blockdev'", "--kernel", "/k", "--disk",
		     "path=/dev/sdx,blockdev");
	return 0;
}

/* The largest VM of machine/moat_limits.h: argv for --smc, disks --disk,
 * nets --net, --cpus cpus and smbios --smbios options, in store[]. */
struct big_argv {
	char *argv[4 + 2 * (MOAT_MAX_DISKS + MOAT_MAX_NETS + MOAT_MAX_SMBIOS + 3) + 1];
	char buf[MOAT_MAX_DISKS + MOAT_MAX_SMBIOS + 2][48];
	int argc;
};

static void big_add(struct big_argv *a, const char *opt, char *val)
{
	a->argv[a->argc++] = (char *)opt;
	a->argv[a->argc++] = val;
	a->argv[a->argc] = NULL;
}

static void big_build(struct big_argv *a, unsigned disks, unsigned nets, unsigned cpus,
		      unsigned smbios)
{
	unsigned b = 0;

	a->argc = 0;
	a->argv[a->argc++] = "run";
	big_add(a, "--kernel", "/k");
	big_add(a, "--smc", "osk-file=/osk");
	big_add(a, "--vnc", "127.0.0.1:1");
	for (unsigned i = 0; i < disks; i++) {
		snprintf(a->buf[b], sizeof(a->buf[b]), "path=/img/%u", i);
		big_add(a, "--disk", a->buf[b++]);
	}
	for (unsigned i = 0; i < nets; i++)
		big_add(a, "--net", "user");
	for (unsigned i = 0; i < smbios; i++) {
		snprintf(a->buf[b], sizeof(a->buf[b]), "type=1,serial=S%u", i);
		big_add(a, "--smbios", a->buf[b++]);
	}
	snprintf(a->buf[b], sizeof(a->buf[b]), "%u", cpus);
	big_add(a, "--cpus", a->buf[b]);
}

static int big_error(const char *needle, unsigned disks, unsigned nets, unsigned cpus,
		     unsigned smbios)
{
	struct big_argv a;

	big_build(&a, disks, nets, cpus, smbios);
	CHECK(expect_error(needle, a.argc, a.argv) == 0);
	return 0;
}

/* Everything up to the shared limits parses (one SMC, every disk, every
 * card, every vCPU, every --smbios: what moat-vcpu and the PCI bus are
 * sized for), and one more of any of them is refused at parse time with
 * one line naming the option and the limit. */
static int t_limits(void)
{
	struct mon_config c;
	struct big_argv a;
	char err[256];
	char want[64];

	CHECK(MON_MAX_DISKS == MOAT_MAX_DISKS && MON_MAX_NETS == MOAT_MAX_NETS);
	CHECK(MON_MAX_CPUS == MOAT_MAX_CPUS && MON_MAX_SMBIOS == MOAT_MAX_SMBIOS);
	big_build(&a, MOAT_MAX_DISKS, MOAT_MAX_NETS, MOAT_MAX_CPUS, MOAT_MAX_SMBIOS);
	CHECK(parse(&c, err, a.argc, a.argv) == 0);
	CHECK(c.smc && c.ndisks == MOAT_MAX_DISKS && c.nnets == MOAT_MAX_NETS);
	CHECK(c.cpus == MOAT_MAX_CPUS && c.nsmbios == MOAT_MAX_SMBIOS);
	CHECK(c.vnc && !c.vnc_opt.is_unix && c.vnc_opt.port == 5901);
	CHECK(1 + c.ndisks + c.nnets + 1 == MOAT_MAX_DEVICES);

	snprintf(want, sizeof(want), "too many --disk options (at most %d)", MOAT_MAX_DISKS);
	CHECK(big_error(want, MOAT_MAX_DISKS + 1, MOAT_MAX_NETS, 1, 0) == 0);
	snprintf(want, sizeof(want), "too many --net options (at most %d)", MOAT_MAX_NETS);
	CHECK(big_error(want, MOAT_MAX_DISKS, MOAT_MAX_NETS + 1, 1, 0) == 0);
	snprintf(want, sizeof(want), "--cpus must be a number from 1 to %d", MOAT_MAX_CPUS);
	CHECK(big_error(want, MOAT_MAX_DISKS, MOAT_MAX_NETS, MOAT_MAX_CPUS + 1, 0) == 0);
	snprintf(want, sizeof(want), "too many --smbios options (at most %d)", MOAT_MAX_SMBIOS);
	CHECK(big_error(want, 0, 0, 1, MOAT_MAX_SMBIOS + 1) == 0);
	CHECK(strchr(err, '\n') == NULL);
	return 0;
}

/* --limits: the VM's cgroup */
static int t_cgroup_limits(void)
{
	struct mon_config c;
	char err[256], pids[] = "pids=64", both[] = "overhead=1G,pids=100";
	char bad1[] = "pids=8", bad2[] = "overhead=1M", bad3[] = "cpu=2", bad4[] = "pids=12x";

	CHECK(PARSE(&c, err, "--kernel", "/k") == 0);
	CHECK(c.limit_pids == MON_DEFAULT_PIDS && c.limit_overhead == MON_DEFAULT_OVERHEAD);
	CHECK(PARSE(&c, err, "--kernel", "/k", "--limits", pids) == 0);
	CHECK(c.limit_pids == 64 && c.limit_overhead == MON_DEFAULT_OVERHEAD);
	CHECK(PARSE(&c, err, "--kernel", "/k", "--limits", both) == 0);
	CHECK(c.limit_pids == 100 && c.limit_overhead == (1ULL << 30));
	CHECK(PARSE(&c, err, "--kernel", "/k", "--limits", bad1) == -EINVAL);
	CHECK(strstr(err, "pids= must be a number from 16"));
	CHECK(PARSE(&c, err, "--kernel", "/k", "--limits", bad2) == -EINVAL);
	CHECK(strstr(err, "overhead= must be a size of at least 64M"));
	CHECK(PARSE(&c, err, "--kernel", "/k", "--limits", bad3) == -EINVAL);
	CHECK(strstr(err, "unknown field 'cpu=2'"));
	CHECK(PARSE(&c, err, "--kernel", "/k", "--limits", bad4) == -EINVAL);
	return 0;
}

static int t_osk_inline_wiped(void)
{
	struct mon_config c;
	char err[256];
	char osk[] = "osk=0123456789012345678901234567890123456789012345678901234567890123";

	CHECK(mon_parse_run(5, (char *[]){"run", "--kernel", "/k", "--smc", osk, NULL}, HOST, &c,
			    err, sizeof(err)) == 0);
	CHECK(c.smc && c.smc_osk_inline);
	CHECK(memcmp(c.smc_osk, "0123456789", 10) == 0);
	CHECK(strspn(osk + 4, "x") == 64); /* the argv bytes are overwritten */
	char shortosk[] = "osk=abc";
	CHECK(mon_parse_run(5, (char *[]){"run", "--kernel", "/k", "--smc", shortosk, NULL}, HOST,
			    &c, err, sizeof(err)) == -EINVAL);
	CHECK(strcmp(shortosk, "osk=xxx") == 0); /* wiped even when refused */
	return 0;
}

static int t_firmware(void)
{
	struct mon_config c;
	char err[256];

	CHECK(PARSE(&c, err, "--firmware", "/fw/OVMF_CODE.fd") == 0);
	CHECK(strcmp(c.firmware, "/fw/OVMF_CODE.fd") == 0 && !c.firmware_vars && !c.kernel);
	CHECK(c.shutdown_timeout_s == MON_DEFAULT_SHUTDOWN_S);
	CHECK(PARSE(&c, err, "--firmware", "/fw/code,x.fd,vars=/v/vars,1.fd") == 0);
	CHECK(strcmp(c.firmware, "/fw/code,x.fd") == 0);
	CHECK(strcmp(c.firmware_vars, "/v/vars,1.fd") == 0);
	CHECK(PARSE(&c, err, "--firmware", "/fw", "--shutdown-timeout", "0") == 0);
	CHECK(c.shutdown_timeout_s == 0);
	EXPECT_ERROR("exclude each other", "--kernel", "/k", "--firmware", "/fw");
	EXPECT_ERROR("--initrd is for --kernel", "--firmware", "/fw", "--initrd", "/i");
	EXPECT_ERROR("--cmdline is for --kernel", "--firmware", "/fw", "--cmdline", "x");
	EXPECT_ERROR("needs a path", "--firmware", ",vars=/v");
	EXPECT_ERROR("needs a path", "--firmware", "");
	EXPECT_ERROR("vars= needs a path", "--firmware", "/fw,vars=");
	EXPECT_ERROR("given twice", "--firmware", "/fw", "--firmware", "/fw2");
	EXPECT_ERROR("--shutdown-timeout", "--kernel", "/k", "--shutdown-timeout", "-1");
	EXPECT_ERROR("--shutdown-timeout", "--kernel", "/k", "--shutdown-timeout", "3601");
	EXPECT_ERROR("--shutdown-timeout", "--kernel", "/k", "--shutdown-timeout", "5s");
	return 0;
}

/* --device-restart on|off (issue 15): on by default. */
static int t_device_restart(void)
{
	struct mon_config c;
	char err[256];

	CHECK(PARSE(&c, err, "--kernel", "/k") == 0 && c.device_restart);
	CHECK(PARSE(&c, err, "--kernel", "/k", "--device-restart", "off") == 0 &&
	      !c.device_restart);
	CHECK(PARSE(&c, err, "--kernel", "/k", "--device-restart", "on") == 0 && c.device_restart);
	EXPECT_ERROR("--device-restart must be on or off", "--kernel", "/k", "--device-restart",
		     "yes");
	EXPECT_ERROR("--device-restart must be on or off", "--kernel", "/k", "--device-restart",
		     "");
	return 0;
}

static int t_help(void)
{
	struct mon_config c;
	char err[256];

	CHECK(PARSE(&c, err, "--help") == 0 && c.help);
	return 0;
}

/* --mem SIZE[,hugepages=...][,prealloc=...]: the size as before, then the
 * backing; a later --mem starts from the defaults again. */
static int t_mem_backing(void)
{
	struct mon_config c;
	char err[256];

	CHECK(PARSE(&c, err, "--kernel", "/k") == 0);
	CHECK(c.mem_huge == MON_HUGE_AUTO && !c.mem_prealloc);
	CHECK(PARSE(&c, err, "--kernel", "/k", "--mem", "1G,hugepages=on,prealloc=on") == 0);
	CHECK(c.mem_bytes == 1ULL << 30 && c.mem_huge == MON_HUGE_ON && c.mem_prealloc);
	CHECK(PARSE(&c, err, "--kernel", "/k", "--mem", "256M,hugepages=off") == 0);
	CHECK(c.mem_bytes == 256ULL << 20 && c.mem_huge == MON_HUGE_OFF && !c.mem_prealloc);
	CHECK(PARSE(&c, err, "--kernel", "/k", "--mem",
		    "64M,prealloc=on,prealloc=off,"
		    "hugepages=on,hugepages=auto") == 0);
	CHECK(c.mem_huge == MON_HUGE_AUTO && !c.mem_prealloc);
	CHECK(PARSE(&c, err, "--kernel", "/k", "--mem", "1G,prealloc=on", "--mem", "2G") == 0);
	CHECK(c.mem_bytes == 2ULL << 30 && !c.mem_prealloc);
	/* 4 KiB-aligned but not 2 MiB: fine unless the pool is insisted on */
	CHECK(PARSE(&c, err, "--kernel", "/k", "--mem", "32772K") == 0);
	EXPECT_ERROR("whole number of 2 MiB", "--kernel", "/k", "--mem", "32772K,hugepages=on");
	EXPECT_ERROR("hugepages= takes auto, on or off, not 'yes'", "--kernel", "/k", "--mem",
		     "1G,hugepages=yes");
	EXPECT_ERROR("prealloc= takes on or off, not ''", "--kernel", "/k", "--mem",
		     "1G,prealloc=");
	EXPECT_ERROR("unknown field 'huge'", "--kernel", "/k", "--mem", "1G,huge");
	EXPECT_ERROR("--mem takes a size", "--kernel", "/k", "--mem", ",hugepages=on");
	EXPECT_ERROR("--mem takes a size", "--kernel", "/k", "--mem",
		     "1111111111111111111111111111111111111111111111111111111111111111111111G");
	EXPECT_ERROR("too small", "--kernel", "/k", "--mem", "1M,hugepages=off");
	return 0;
}

int main(void)
{
	static const struct test_case tests[] = {
	    TEST(t_defaults),	    TEST(t_full),
	    TEST(t_sizes),	    TEST(t_bad),
	    TEST(t_disks),	    TEST(t_disk_blockdev),
	    TEST(t_disk_cache_aio), TEST(t_disk_queues),
	    TEST(t_disk_format),    TEST(t_limits),
	    TEST(t_cgroup_limits),  TEST(t_osk_inline_wiped),
	    TEST(t_device_restart), TEST(t_help),
	    TEST(t_firmware),	    TEST(t_display),
	    TEST(t_mem_backing),
	};
	return RUN_TESTS(tests);
}
