/* --firmware's files: QEMU's firmware descriptors decide what a firmware
 * needs (requires-smm is refused) and which variable store it starts
 * from; without a descriptor a UEFI image takes the VARS file beside it.
 * Runs on made-up files in a private directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware.h"
#include "tap.h"

static char dir[64], etc[96], share[96];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

/* A file that looks like a firmware volume (or not). */
static void image(const char *path, int uefi)
{
	char buf[4096] = {0};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (uefi)
		memcpy(buf + 0x28, "_FVH", 4);
	(void)!write(fd, buf, sizeof(buf));
	close(fd);
}

static void desc(const char *d, const char *name, const char *exe, const char *vars, int smm)
{
	char path[256], text[1024];

	snprintf(path, sizeof(path), "%s/%s", d, name);
	snprintf(text, sizeof(text),
		 "{\"interface-types\": [\"uefi\"], \"mapping\": {\"device\": \"flash\", "
		 "\"executable\": {\"filename\": \"%s\", \"format\": \"raw\"}%s%s%s}, "
		 "\"features\": [\"acpi-s3\"%s]}",
		 exe, vars ? ", \"nvram-template\": {\"filename\": \"" : "", vars ? vars : "",
		 vars ? "\", \"format\": \"raw\"}" : "", smm ? ", \"requires-smm\"" : "");
	put(path, text);
}

static int setup(void)
{
	char *d;

	snprintf(dir, sizeof(dir), "/tmp/moat-fw-XXXXXX");
	d = mkdtemp(dir);
	if (!d)
		return -1;
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	snprintf(share, sizeof(share), "%s/share", dir);
	mkdir(etc, 0755);
	mkdir(share, 0755);
	mon_firmware_desc_dirs[0] = etc;
	mon_firmware_desc_dirs[1] = share;
	mon_firmware_desc_dirs[2] = NULL;
	return 0;
}

static int open_fw(const char *fw, const char *vars, struct mon_resources *r, char *err)
{
	char fwp[128];
	struct mon_config c = {0};

	snprintf(fwp, sizeof(fwp), "%s/%s", dir, fw);
	c.firmware = fwp;
	c.firmware_vars = (char *)vars;
	mon_resources_init(r);
	return mon_open_firmware(&c, r, err, 512);
}

static int t_descriptors(void)
{
	struct mon_resources r;
	char err[512], p[128], v[128], v2[128];

	CHECK(setup() == 0);
	snprintf(p, sizeof(p), "%s/CODE.secboot.fd", dir);
	snprintf(v, sizeof(v), "%s/VARS.fd", dir);
	image(p, 1);
	image(v, 1);
	desc(share, "50-secure.json", p, v, 1);
	CHECK(open_fw("CODE.secboot.fd", NULL, &r, err) == -EINVAL);
	CHECK(strstr(err, "needs SMM") && strstr(err, "50-secure.json"));

	/* a plain build: its descriptor's template is the store */
	snprintf(p, sizeof(p), "%s/CODE.fd", dir);
	image(p, 1);
	desc(share, "60-plain.json", p, v, 0);
	CHECK(open_fw("CODE.fd", NULL, &r, err) == 0);
	CHECK(r.firmware_fd >= 0 && r.firmware_vars_fd >= 0);
	mon_close_resources(&r);

	/* the administrator's directory wins over the same name in share */
	snprintf(v2, sizeof(v2), "%s/OTHER_VARS.fd", dir);
	desc(etc, "60-plain.json", p, v2, 0);
	CHECK(open_fw("CODE.fd", NULL, &r, err) < 0); /* OTHER_VARS.fd does not exist */
	CHECK(strstr(err, "OTHER_VARS.fd"));
	image(v2, 1);
	CHECK(open_fw("CODE.fd", NULL, &r, err) == 0);
	mon_close_resources(&r);

	/* vars= given wins over the descriptor */
	CHECK(open_fw("CODE.fd", v, &r, err) == 0 && r.firmware_vars_fd >= 0);
	mon_close_resources(&r);
	/* a broken descriptor is skipped, not fatal */
	snprintf(p, sizeof(p), "%s/00-broken.json", etc);
	put(p, "{ not json");
	CHECK(open_fw("CODE.fd", NULL, &r, err) == 0);
	mon_close_resources(&r);
	return 0;
}

static int t_no_descriptor(void)
{
	struct mon_resources r;
	char err[512], p[128];

	CHECK(setup() == 0);
	/* a BIOS needs no store */
	snprintf(p, sizeof(p), "%s/bios.bin", dir);
	image(p, 0);
	CHECK(open_fw("bios.bin", NULL, &r, err) == 0);
	CHECK(r.firmware_fd >= 0 && r.firmware_vars_fd < 0);
	mon_close_resources(&r);
	/* UEFI: the VARS file beside the CODE file, or a clear refusal */
	snprintf(p, sizeof(p), "%s/MY_CODE_4M.fd", dir);
	image(p, 1);
	CHECK(open_fw("MY_CODE_4M.fd", NULL, &r, err) == -EINVAL);
	CHECK(strstr(err, "no variable store") && strstr(err, "vars=PATH"));
	snprintf(p, sizeof(p), "%s/MY_VARS_4M.fd", dir);
	image(p, 1);
	CHECK(open_fw("MY_CODE_4M.fd", NULL, &r, err) == 0 && r.firmware_vars_fd >= 0);
	mon_close_resources(&r);
	/* missing, empty, a directory */
	CHECK(open_fw("nothing.fd", NULL, &r, err) < 0 && strstr(err, "nothing.fd"));
	snprintf(p, sizeof(p), "%s/empty.fd", dir);
	put(p, "");
	CHECK(open_fw("empty.fd", NULL, &r, err) == -EINVAL && strstr(err, "empty"));
	mon_close_resources(&r);
	CHECK(open_fw("", NULL, &r, err) < 0);
	return 0;
}

TAP_MAIN(TEST(t_descriptors), TEST(t_no_descriptor))
