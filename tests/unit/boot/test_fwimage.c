/* Firmware images as a user may give them: Debian's SeaBIOS and OVMF when
 * installed, and made-up ones that are truncated, damaged or no firmware
 * at all, each refused with a line that says why. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fwimage.h"
#include "tap.h"

static char why[256];

/* A chain of firmware volumes of the given lengths, as OVMF's files are. */
static uint8_t *fv_image(const size_t *lens, unsigned n, size_t *total)
{
	size_t len = 0, off = 0;
	uint8_t *p;

	for (unsigned i = 0; i < n; i++)
		len += lens[i];
	p = calloc(1, len);
	for (unsigned i = 0; p && i < n; off += lens[i++]) {
		for (unsigned b = 0; b < 8; b++)
			p[off + 0x20 + b] = (uint8_t)((uint64_t)lens[i] >> (8 * b));
		memcpy(p + off + 0x28, "_FVH", 4);
		p[off + 0x30] = 0x48;
	}
	*total = len;
	return p;
}

static uint8_t *bios_image(size_t len)
{
	uint8_t *p = calloc(1, len);

	if (p)
		p[len - 16] = 0xea;
	return p;
}

static int t_made_up(void)
{
	size_t code_lens[] = {0x348000, 0x34000}, vars_lens[] = {0x84000}, cl, vl;
	uint8_t *code = fv_image(code_lens, 2, &cl), *vars = fv_image(vars_lens, 1, &vl);
	uint8_t *bios = bios_image(256 << 10);
	enum fw_kind k = 0;

	CHECK(code && vars && bios);
	CHECK(fw_image_check(code, cl, vars, vl, &k, why, sizeof(why)) == 0 && k == FW_UEFI);
	CHECK(fw_image_check(bios, 256 << 10, NULL, 0, &k, why, sizeof(why)) == 0 && k == FW_BIOS);
	/* UEFI without its store, a BIOS with one */
	CHECK(fw_image_check(code, cl, NULL, 0, &k, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "variable store"));
	CHECK(fw_image_check(bios, 256 << 10, vars, vl, &k, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "vars= is for UEFI"));
	/* truncated: by a page, and inside the first volume */
	CHECK(fw_image_check(code, cl - 4096, vars, vl, &k, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "truncated"));
	CHECK(fw_image_check(code, 0x100000, vars, vl, &k, why, sizeof(why)) == -EINVAL);
	CHECK(fw_image_check(code, cl, vars, vl - 4096, &k, why, sizeof(why)) == -EINVAL);
	CHECK(fw_image_check(bios, (256 << 10) - 4096, NULL, 0, &k, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "neither UEFI"));
	CHECK(fw_image_check(bios + 4096, (256 << 10) - 4096, NULL, 0, &k, why, sizeof(why)) ==
	      -EINVAL);
	/* no firmware at all; empty; too large */
	uint8_t *zero = calloc(1, 1 << 20);
	CHECK(fw_image_check(zero, 1 << 20, NULL, 0, &k, why, sizeof(why)) == -EINVAL);
	CHECK(fw_image_check(zero, 0, NULL, 0, &k, why, sizeof(why)) == -EINVAL);
	CHECK(fw_image_check(NULL, 4096, NULL, 0, &k, why, sizeof(why)) == -EINVAL);
	CHECK(fw_image_check(zero, FW_ROM_MAX + 65536, NULL, 0, &k, why, sizeof(why)) == -EINVAL);
	CHECK(fw_image_check(code, cl, code, FW_ROM_MAX, &k, why, sizeof(why)) == -EINVAL);
	return 0;
}

static int t_damaged_volumes(void)
{
	size_t lens[] = {0x10000, 0x10000}, len;
	uint8_t *p = fv_image(lens, 2, &len);
	uint8_t vars[0x1000];
	size_t vl;
	uint8_t *v = fv_image((size_t[]){0x1000}, 1, &vl);
	enum fw_kind k;

	memcpy(vars, v, sizeof(vars));
	CHECK(fw_image_check(p, len, vars, sizeof(vars), &k, why, sizeof(why)) == 0);
	/* a length that overflows past the file, or wraps 64 bits */
	p[0x10000 + 0x27] = 0x80;
	CHECK(fw_image_check(p, len, vars, sizeof(vars), &k, why, sizeof(why)) == -EINVAL);
	p[0x10000 + 0x27] = 0;
	/* a header length larger than the volume, smaller than the header */
	memcpy(vars + 0x30, (uint8_t[]){0x01, 0x10}, 2);
	CHECK(fw_image_check(p, len, vars, sizeof(vars), &k, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "variable store"));
	memcpy(vars + 0x30, (uint8_t[]){0x48, 0}, 2);
	p[0x30] = 0x10;
	CHECK(fw_image_check(p, len, vars, sizeof(vars), &k, why, sizeof(why)) == -EINVAL);
	p[0x30] = 0x48;
	/* a zero-length volume would loop forever if allowed */
	memset(p + 0x10020, 0, 8);
	CHECK(fw_image_check(p, len, vars, sizeof(vars), &k, why, sizeof(why)) == -EINVAL);
	/* the second volume's signature gone */
	p[0x10020] = 0, p[0x10022] = 1;
	memcpy(p + 0x10028, "_FVX", 4);
	CHECK(fw_image_check(p, len, vars, sizeof(vars), &k, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, "no firmware volume at offset 0x10000"));
	return 0;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	uint8_t *p;

	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	p = malloc(st.st_size);
	if (p && read(fd, p, st.st_size) != st.st_size) {
		free(p);
		p = NULL;
	}
	close(fd);
	*len = st.st_size;
	return p;
}

/* Debian's own builds (packages seabios and ovmf), when installed. */
static int t_debian(void)
{
	size_t bl, cl, vl;
	uint8_t *bios = read_file("/usr/share/seabios/bios-256k.bin", &bl);
	uint8_t *code = read_file("/usr/share/OVMF/OVMF_CODE_4M.fd", &cl);
	uint8_t *vars = read_file("/usr/share/OVMF/OVMF_VARS_4M.fd", &vl);
	enum fw_kind k;

	if (!bios || !code || !vars)
		return TEST_SKIP;
	CHECK(fw_image_check(bios, bl, NULL, 0, &k, why, sizeof(why)) == 0 && k == FW_BIOS);
	CHECK(fw_image_check(code, cl, vars, vl, &k, why, sizeof(why)) == 0 && k == FW_UEFI);
	/* the store given as the code, and a file cut short */
	CHECK(fw_image_check(code, cl - 512, vars, vl, &k, why, sizeof(why)) == -EINVAL);
	CHECK(fw_image_check(code, cl / 2, vars, vl, &k, why, sizeof(why)) == -EINVAL);
	CHECK(fw_image_check(bios, bl / 2 + 1, NULL, 0, &k, why, sizeof(why)) == -EINVAL);
	return 0;
}

TAP_MAIN(TEST(t_made_up), TEST(t_damaged_volumes), TEST(t_debian))
