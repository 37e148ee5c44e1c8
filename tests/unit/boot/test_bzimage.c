/* Unit tests for vcpu/boot/bzimage.c: a synthesised bzImage, hostile
 * variants of it, the zero page and its e820 table, and the host's own
 * kernel when /boot has one. */
#include <errno.h>
#include <glob.h>
#include <stdint.h>

#include "bzimage.h"
#include "bytes.h"
#include "img_buf.h"
#include "tap.h"
#include "util.h"

#define SETUP_SECTS 4
#define SETUP_SIZE  ((SETUP_SECTS + 1) * 512)
#define KERNEL_SIZE 4096
#define IMG_SIZE    (SETUP_SIZE + KERNEL_SIZE)

/* A minimal image as Linux 6.1 builds it: protocol 2.15, 64-bit,
 * relocatable, header ending at 0x26C. */
static void make_image(uint8_t *img)
{
	memset(img, 0, IMG_SIZE);
	img[0x1F1] = SETUP_SECTS;
	le16_put(img + 0x1FE, 0xAA55);
	img[0x200] = 0xEB;
	img[0x201] = 0x6A;
	memcpy(img + 0x202, "HdrS", 4);
	le16_put(img + 0x206, 0x020F);
	img[0x211] = BZ_LOADED_HIGH;
	le32_put(img + 0x22C, 0x7FFFFFFF);
	le32_put(img + 0x230, 0x200000);
	img[0x234] = 1;
	img[0x235] = 21;
	le16_put(img + 0x236, BZ_XLF_KERNEL_64 | BZ_XLF_CAN_BE_LOADED_ABOVE_4G);
	le32_put(img + 0x238, 2047);
	le64_put(img + 0x258, 0x1000000);
	le32_put(img + 0x260, 0x800000);
	for (size_t i = SETUP_SIZE; i < IMG_SIZE; i++)
		img[i] = (uint8_t)i;
}

/* Parse a copy of exactly len bytes on the heap, so that a sanitizer sees
 * any read past the end. */
static int parse_len(const uint8_t *img, size_t len, struct bzimage_info *bi, const char **why)
{
	_cleanup_free_ uint8_t *copy = img_copy(img, len);

	return copy ? bzimage_parse(copy, len, bi, why) : -ENOMEM;
}

static int test_valid(void)
{
	uint8_t img[IMG_SIZE];
	struct bzimage_info bi;
	const char *why = NULL;

	make_image(img);
	CHECK(bzimage_parse(img, sizeof(img), &bi, &why) == 0);
	CHECK(bi.version == 0x020F);
	CHECK(bi.setup_sects == SETUP_SECTS);
	CHECK(bi.kernel_off == SETUP_SIZE && bi.kernel_size == KERNEL_SIZE);
	CHECK(bi.hdr_end == 0x26C);
	CHECK(bi.loadflags == BZ_LOADED_HIGH);
	CHECK(bi.xloadflags == (BZ_XLF_KERNEL_64 | BZ_XLF_CAN_BE_LOADED_ABOVE_4G));
	CHECK(bi.initrd_addr_max == 0x7FFFFFFF);
	CHECK(bi.kernel_alignment == 0x200000 && bi.relocatable == 1 && bi.min_alignment == 21);
	CHECK(bi.cmdline_size == 2047);
	CHECK(bi.pref_address == 0x1000000);
	CHECK(bi.init_size == 0x800000);
	return 0;
}

/* Every truncation that cuts into the setup code, or leaves no kernel, fails
 * cleanly; one byte of kernel is enough to parse. */
static int test_truncated(void)
{
	uint8_t img[IMG_SIZE];
	struct bzimage_info bi;

	make_image(img);
	for (size_t len = 0; len <= SETUP_SIZE; len++) {
		const char *why = NULL;

		CHECK(parse_len(img, len, &bi, &why) == -EINVAL);
		CHECK(why != NULL);
	}
	CHECK(parse_len(img, SETUP_SIZE + 1, &bi, NULL) == 0);
	CHECK(bi.kernel_size == 1);
	return 0;
}

/* Apply one corruption to a valid image; the parse must fail with a reason. */
static int expect_reject(void (*mutate)(uint8_t *img))
{
	uint8_t img[IMG_SIZE];
	struct bzimage_info bi;
	const char *why = NULL;

	make_image(img);
	mutate(img);
	if (parse_len(img, sizeof(img), &bi, &why) != -EINVAL || !why)
		return 1;
	printf("# rejected: %s\n", why);
	return 0;
}

static void bad_boot_flag(uint8_t *img)
{
	img[0x1FE] = 0x56;
}
static void bad_magic(uint8_t *img)
{
	img[0x205] = 'T';
}
static void old_version(uint8_t *img)
{
	le16_put(img + 0x206, 0x020B);
}
static void no_kernel64(uint8_t *img)
{
	le16_put(img + 0x236, BZ_XLF_CAN_BE_LOADED_ABOVE_4G);
}
static void not_high(uint8_t *img)
{
	img[0x211] = 0;
}
static void huge_setup(uint8_t *img)
{
	img[0x1F1] = 0xFF;
}
static void no_jump(uint8_t *img)
{
	img[0x200] = 0x90;
}
static void short_header(uint8_t *img)
{
	img[0x201] = 0x40;
}
static void bad_alignment(uint8_t *img)
{
	le32_put(img + 0x230, 0x200001);
}
static void tiny_init_size(uint8_t *img)
{
	le32_put(img + 0x260, KERNEL_SIZE - 1);
}

static int test_hostile(void)
{
	void (*const mutations[])(uint8_t *) = {
	    bad_boot_flag, bad_magic, old_version,  no_kernel64,   not_high,
	    huge_setup,	   no_jump,   short_header, bad_alignment, tiny_init_size,
	};

	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++)
		CHECK(expect_reject(mutations[i]) == 0);
	return 0;
}

/* setup_sects 0 means 4; a header longer than boot_params has room for is
 * clamped, not copied over the e820 table. */
static int test_quirks(void)
{
	uint8_t img[IMG_SIZE];
	struct bzimage_info bi;

	make_image(img);
	img[0x1F1] = 0;
	CHECK(bzimage_parse(img, sizeof(img), &bi, NULL) == 0);
	CHECK(bi.setup_sects == 4 && bi.kernel_off == SETUP_SIZE);

	img[0x201] = 0xFF;
	CHECK(bzimage_parse(img, sizeof(img), &bi, NULL) == 0);
	CHECK(bi.hdr_end == BZ_HDR_MAX_END);

	/* A non-relocatable kernel's kernel_alignment is not checked. */
	img[0x234] = 0;
	le32_put(img + 0x230, 3);
	CHECK(bzimage_parse(img, sizeof(img), &bi, NULL) == 0);
	return 0;
}

static int test_zero_page(void)
{
	static uint8_t zp[BOOT_PARAMS_SIZE];
	uint8_t img[IMG_SIZE];
	struct bzimage_info bi;
	const char *why = NULL;

	make_image(img);
	CHECK(bzimage_parse(img, sizeof(img), &bi, NULL) == 0);
	memset(zp, 0xAA, sizeof(zp));
	CHECK(bzimage_fill_zero_page(zp, img, sizeof(img), &bi, 0x20000, 100, 0x123400000ULL,
				     0x100000, &why) == 0);
	CHECK(zp[0x1EF] == 0 && zp[0x1F0] == 0 && zp[0x000] == 0 && zp[0x2D0] == 0);
	CHECK(memcmp(zp + 0x1F1, img + 0x1F1, 0x210 - 0x1F1) == 0);
	CHECK(zp[0x210] == 0xFF);
	CHECK(zp[0x211] == (BZ_LOADED_HIGH | BZ_CAN_USE_HEAP));
	CHECK(le16_get(zp + 0x224) == 0xFE00);
	CHECK(le32_get(zp + 0x228) == 0x20000 && le32_get(zp + 0x0C8) == 0);
	CHECK(le32_get(zp + 0x218) == 0x23400000 && le32_get(zp + 0x0C0) == 1);
	CHECK(le32_get(zp + 0x21C) == 0x100000 && le32_get(zp + 0x0C4) == 0);
	CHECK(memcmp(zp + 0x22C, img + 0x22C, 0x26C - 0x22C) == 0);
	CHECK(zp[0x26C] == 0);

	/* The limits the kernel states are enforced. */
	CHECK(bzimage_fill_zero_page(zp, img, sizeof(img), &bi, 0x20000, 2048, 0, 0, &why) ==
	      -E2BIG);
	CHECK(bzimage_fill_zero_page(zp, img, sizeof(img), &bi, 0x20000, 2047, 0, 0, &why) == 0);
	CHECK(bzimage_fill_zero_page(zp, img, sizeof(img), &bi, UINT64_MAX - 10, 100, 0, 0, &why) ==
	      -ERANGE);
	bi.xloadflags &= (uint16_t)~BZ_XLF_CAN_BE_LOADED_ABOVE_4G;
	CHECK(bzimage_fill_zero_page(zp, img, sizeof(img), &bi, 0x20000, 10, 0x7FF00000, 0x100001,
				     &why) == -ERANGE);
	printf("# rejected: %s\n", why);
	CHECK(bzimage_fill_zero_page(zp, img, sizeof(img), &bi, 0x20000, 10, 0x7FF00000, 0x100000,
				     &why) == 0);
	CHECK(bzimage_fill_zero_page(zp, img, sizeof(img), &bi, 0x100000000ULL, 10, 0, 0, &why) ==
	      -ERANGE);
	/* Loader-owned fields in the file are not passed on. */
	le64_put(img + 0x250, 0x12345678);
	le32_put(img + 0x218, 0x1000);
	le32_put(img + 0x21C, 0x1000);
	le32_put(img + 0x23C, 2);
	CHECK(bzimage_fill_zero_page(zp, img, sizeof(img), &bi, 0, 0, 0, 0, &why) == 0);
	CHECK(le64_get(zp + 0x250) == 0 && le32_get(zp + 0x218) == 0);
	CHECK(le32_get(zp + 0x21C) == 0 && le32_get(zp + 0x23C) == 0 && le32_get(zp + 0x228) == 0);
	CHECK(le32_get(zp + 0x260) == 0x800000);

	/* An info that does not belong to this image. */
	bi.hdr_end = 0x400;
	CHECK(bzimage_fill_zero_page(zp, img, sizeof(img), &bi, 0, 0, 0, 0, &why) == -EINVAL);
	return 0;
}

static int test_e820_table(void)
{
	static uint8_t zp[BOOT_PARAMS_SIZE];
	struct e820_entry e[BOOT_PARAMS_E820_MAX + 1];

	for (unsigned i = 0; i < BOOT_PARAMS_E820_MAX + 1; i++)
		e[i] = (struct e820_entry){0x1000ULL * i, 0x1000, 1 + i % 2};
	e[1].addr = 0x123456789ABCULL;
	CHECK(bootparams_set_e820(zp, e, 3) == 0);
	CHECK(zp[0x1E8] == 3);
	CHECK(le64_get(zp + 0x2D0 + 20) == 0x123456789ABCULL);
	CHECK(le64_get(zp + 0x2D0 + 28) == 0x1000 && le32_get(zp + 0x2D0 + 36) == 2);
	CHECK(bootparams_set_e820(zp, e, BOOT_PARAMS_E820_MAX) == 0);
	CHECK(zp[0x1E8] == BOOT_PARAMS_E820_MAX);
	CHECK(le32_get(zp + 0x2D0 + 20 * 127 + 16) == 2);
	CHECK(zp[0x2D0 + 20 * 128] == 0);
	CHECK(bootparams_set_e820(zp, e, BOOT_PARAMS_E820_MAX + 1) == -E2BIG);
	e[0] = (struct e820_entry){UINT64_MAX - 10, 100, 1};
	CHECK(bootparams_set_e820(zp, e, 1) == -EINVAL);
	CHECK(zp[0x1E8] == BOOT_PARAMS_E820_MAX);
	return 0;
}

/* The host's kernel, when there is one: Debian's stock kernel is what moat
 * boots in its integration tests. */
static int test_host_kernel(void)
{
	static uint8_t zp[BOOT_PARAMS_SIZE];
	glob_t g;
	uint8_t *img = NULL;
	size_t len = 0;
	struct bzimage_info bi;
	const char *why = "?";

	if (glob("/boot/vmlinuz-*", 0, NULL, &g) != 0)
		return TEST_SKIP;
	if (img_read_file(g.gl_pathv[0], &img, &len) < 0) {
		printf("# cannot read %s: skipped\n", g.gl_pathv[0]);
		globfree(&g);
		return TEST_SKIP;
	}
	if (bzimage_parse(img, len, &bi, &why) < 0) {
		fprintf(stderr, "%s: %s\n", g.gl_pathv[0], why);
		return 1;
	}
	printf("# %s: protocol %u.%u, setup_sects %u, header end 0x%zx, loadflags 0x%x, "
	       "xloadflags 0x%x\n",
	       g.gl_pathv[0], bi.version >> 8, bi.version & 0xFF, bi.setup_sects, bi.hdr_end,
	       bi.loadflags, bi.xloadflags);
	printf("# relocatable %u, kernel_alignment 0x%x, min_alignment %u, pref_address 0x%llx, "
	       "init_size 0x%x, initrd_addr_max 0x%x, cmdline_size %u, kernel %zu bytes at 0x%zx\n",
	       bi.relocatable, bi.kernel_alignment, bi.min_alignment,
	       (unsigned long long)bi.pref_address, bi.init_size, bi.initrd_addr_max,
	       bi.cmdline_size, bi.kernel_size, bi.kernel_off);
	CHECK(bi.version >= BZ_PROTO_MIN);
	CHECK(bi.xloadflags & BZ_XLF_KERNEL_64);
	CHECK(bi.kernel_off == ((size_t)bi.setup_sects + 1) * 512);
	CHECK(bi.init_size >= bi.kernel_size);
	CHECK(bi.cmdline_size >= 255);
	CHECK(bzimage_fill_zero_page(zp, img, len, &bi, 0x20000, 20, 0x10000000, 0x100000, &why) ==
	      0);
	free(img);
	globfree(&g);
	return 0;
}

TAP_MAIN(TEST(test_valid), TEST(test_truncated), TEST(test_hostile), TEST(test_quirks),
	 TEST(test_zero_page), TEST(test_e820_table), TEST(test_host_kernel))
