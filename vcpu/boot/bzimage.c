/* Linux x86 bzImage header parser and zero-page writer. */
#include <errno.h>
#include <string.h>

#include "bzimage.h"
#include "bytes.h"

/* Offsets in the file and in boot_params (boot.rst, zero-page.rst). */
enum {
	OFF_EXT_RAMDISK_IMAGE = 0x0C0,
	OFF_EXT_RAMDISK_SIZE = 0x0C4,
	OFF_EXT_CMD_LINE_PTR = 0x0C8,
	OFF_SETUP_SECTS = 0x1F1,
	OFF_BOOT_FLAG = 0x1FE,
	OFF_JUMP = 0x200,
	OFF_HEADER = 0x202,
	OFF_VERSION = 0x206,
	OFF_TYPE_OF_LOADER = 0x210,
	OFF_LOADFLAGS = 0x211,
	OFF_RAMDISK_IMAGE = 0x218,
	OFF_RAMDISK_SIZE = 0x21C,
	OFF_HEAP_END_PTR = 0x224,
	OFF_CMD_LINE_PTR = 0x228,
	OFF_INITRD_ADDR_MAX = 0x22C,
	OFF_KERNEL_ALIGNMENT = 0x230,
	OFF_RELOCATABLE = 0x234,
	OFF_MIN_ALIGNMENT = 0x235,
	OFF_XLOADFLAGS = 0x236,
	OFF_CMDLINE_SIZE = 0x238,
	OFF_HARDWARE_SUBARCH = 0x23C,
	OFF_HARDWARE_SUBARCH_DATA = 0x240,
	OFF_SETUP_DATA = 0x250,
	OFF_PREF_ADDRESS = 0x258,
	OFF_INIT_SIZE = 0x260,
	/* Protocol 2.12 ends its header with handover_offset at 0x264. */
	HDR_MIN_END = 0x268,
};

_Static_assert(BOOT_PARAMS_E820_TABLE + 20 * BOOT_PARAMS_E820_MAX <= BOOT_PARAMS_SIZE,
	       "e820 table outside the zero page");
_Static_assert(BZ_HDR_MAX_END <= BOOT_PARAMS_E820_TABLE, "setup header over the e820 table");

#define BOOT_FLAG      0xAA55
#define JMP_SHORT      0xEB
#define LOADER_UNKNOWN 0xFF   /* type_of_loader: "undefined", no assigned ID */
#define HEAP_END       0xFE00 /* heap_end_ptr: as boot.rst's example loader */

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EINVAL;
}

/* The header ends at 0x202 + the displacement of the short jump at 0x200
 * (boot.rst: "the end of the setup header can be calculated as follows").
 * Anything newer than boot_params' room for it is not copied. */
static int header_end(const uint8_t *img, size_t len, size_t *end, const char **why)
{
	size_t e;

	if (img[OFF_JUMP] != JMP_SHORT)
		return fail(why, "no short jump at 0x200 to find the setup header's end");
	e = OFF_HEADER + (size_t)img[OFF_JUMP + 1];
	if (e < HDR_MIN_END)
		return fail(why, "setup header too short for boot protocol 2.12");
	if (e > len)
		return fail(why, "truncated setup header");
	*end = e > BZ_HDR_MAX_END ? BZ_HDR_MAX_END : e;
	return 0;
}

/* The fields a 64-bit direct boot relies on, beyond the magic numbers. */
static int check_fields(const struct bzimage_info *bi, const char **why)
{
	if (!(bi->loadflags & BZ_LOADED_HIGH))
		return fail(why, "kernel is not loaded high (an old zImage?)");
	if (!(bi->xloadflags & BZ_XLF_KERNEL_64))
		return fail(why, "kernel has no 64-bit entry point (XLF_KERNEL_64)");
	if (bi->relocatable &&
	    (bi->kernel_alignment < 4096 || (bi->kernel_alignment & (bi->kernel_alignment - 1))))
		return fail(why, "relocatable kernel with a bad kernel_alignment");
	/* The decompressor runs inside init_size from the load address, which
	 * therefore always covers the protected-mode part of the file. */
	if (bi->init_size < bi->kernel_size)
		return fail(why, "init_size smaller than the kernel");
	return 0;
}

int bzimage_parse(const uint8_t *img, size_t len, struct bzimage_info *out, const char **why)
{
	struct bzimage_info bi = {0};
	size_t setup_size;
	int r;

	if (!img || !out)
		return fail(why, "no image");
	if (len < OFF_VERSION + 2)
		return fail(why, "file too small for a bzImage");
	if (le16_get(img + OFF_BOOT_FLAG) != BOOT_FLAG)
		return fail(why, "no boot sector signature (0xAA55 at 0x1FE)");
	if (memcmp(img + OFF_HEADER, "HdrS", 4) != 0)
		return fail(why, "no Linux setup header (\"HdrS\" at 0x202)");
	bi.version = le16_get(img + OFF_VERSION);
	if (bi.version < BZ_PROTO_MIN)
		return fail(why, "boot protocol older than 2.12");
	r = header_end(img, len, &bi.hdr_end, why);
	if (r < 0)
		return r;

	bi.setup_sects = img[OFF_SETUP_SECTS] ? img[OFF_SETUP_SECTS] : 4;
	setup_size = ((size_t)bi.setup_sects + 1) * 512;
	if (setup_size >= len)
		return fail(why, "no protected-mode kernel after the setup code");
	bi.kernel_off = setup_size;
	bi.kernel_size = len - setup_size;

	bi.loadflags = img[OFF_LOADFLAGS];
	bi.xloadflags = le16_get(img + OFF_XLOADFLAGS);
	bi.relocatable = img[OFF_RELOCATABLE];
	bi.min_alignment = img[OFF_MIN_ALIGNMENT];
	bi.initrd_addr_max = le32_get(img + OFF_INITRD_ADDR_MAX);
	bi.kernel_alignment = le32_get(img + OFF_KERNEL_ALIGNMENT);
	bi.cmdline_size = le32_get(img + OFF_CMDLINE_SIZE);
	bi.pref_address = le64_get(img + OFF_PREF_ADDRESS);
	bi.init_size = le32_get(img + OFF_INIT_SIZE);
	r = check_fields(&bi, why);
	if (r < 0)
		return r;
	*out = bi;
	return 0;
}

/* A guest range [gpa, gpa + size) the kernel must reach: no wrap, and above
 * 4 GiB only when the kernel says it copes. max is the highest byte address
 * allowed without that flag. */
static bool reachable(const struct bzimage_info *bi, uint64_t gpa, uint64_t size, uint64_t max)
{
	uint64_t last;

	if (size == 0 || gpa > UINT64_MAX - (size - 1))
		return false;
	last = gpa + (size - 1);
	return last <= max || (bi->xloadflags & BZ_XLF_CAN_BE_LOADED_ABOVE_4G);
}

static int set_cmdline(uint8_t *zp, const struct bzimage_info *bi, uint64_t gpa, uint32_t len,
		       const char **why)
{
	if (gpa == 0)
		return 0;
	if (len > bi->cmdline_size) {
		if (why)
			*why = "command line longer than the kernel's cmdline_size";
		return -E2BIG;
	}
	if (!reachable(bi, gpa, (uint64_t)len + 1, UINT32_MAX)) {
		if (why)
			*why = "command line out of the kernel's reach";
		return -ERANGE;
	}
	le32_put(zp + OFF_CMD_LINE_PTR, (uint32_t)gpa);
	le32_put(zp + OFF_EXT_CMD_LINE_PTR, (uint32_t)(gpa >> 32));
	return 0;
}

static int set_initrd(uint8_t *zp, const struct bzimage_info *bi, uint64_t gpa, uint64_t size,
		      const char **why)
{
	if (size == 0)
		return 0;
	if (!reachable(bi, gpa, size, bi->initrd_addr_max)) {
		if (why)
			*why = "initrd above the kernel's initrd_addr_max";
		return -ERANGE;
	}
	le32_put(zp + OFF_RAMDISK_IMAGE, (uint32_t)gpa);
	le32_put(zp + OFF_EXT_RAMDISK_IMAGE, (uint32_t)(gpa >> 32));
	le32_put(zp + OFF_RAMDISK_SIZE, (uint32_t)size);
	le32_put(zp + OFF_EXT_RAMDISK_SIZE, (uint32_t)(size >> 32));
	return 0;
}

/* Fields the file may carry but the loader owns: the command line and initrd
 * (we say "none" rather than pass on the file's values), the setup_data list
 * (none: it would be a guest-physical pointer we never wrote) and the
 * sub-architecture (a plain PC). */
static void clear_loader_fields(uint8_t *zp)
{
	le32_put(zp + OFF_CMD_LINE_PTR, 0);
	le32_put(zp + OFF_RAMDISK_IMAGE, 0);
	le32_put(zp + OFF_RAMDISK_SIZE, 0);
	le32_put(zp + OFF_HARDWARE_SUBARCH, 0);
	le64_put(zp + OFF_HARDWARE_SUBARCH_DATA, 0);
	le64_put(zp + OFF_SETUP_DATA, 0);
}

/* zp is cleared first, which also leaves boot_params.sentinel (0x1EF) zero:
 * Linux would otherwise assume a loader that copied too much and wipe the
 * ext_* fields. */
int bzimage_fill_zero_page(uint8_t zp[static BOOT_PARAMS_SIZE], const uint8_t *img, size_t len,
			   const struct bzimage_info *bi, uint64_t cmdline_gpa,
			   uint32_t cmdline_len, uint64_t initrd_gpa, uint64_t initrd_size,
			   const char **why)
{
	int r;

	if (!img || !bi || bi->hdr_end < HDR_MIN_END || bi->hdr_end > BZ_HDR_MAX_END ||
	    bi->hdr_end > len)
		return fail(why, "setup header does not match the image");

	memset(zp, 0, BOOT_PARAMS_SIZE);
	memcpy(zp + BZ_HDR_START, img + BZ_HDR_START, bi->hdr_end - BZ_HDR_START);
	clear_loader_fields(zp);
	zp[OFF_TYPE_OF_LOADER] = LOADER_UNKNOWN;
	zp[OFF_LOADFLAGS] |= BZ_LOADED_HIGH | BZ_CAN_USE_HEAP;
	le16_put(zp + OFF_HEAP_END_PTR, HEAP_END);

	r = set_cmdline(zp, bi, cmdline_gpa, cmdline_len, why);
	if (r >= 0)
		r = set_initrd(zp, bi, initrd_gpa, initrd_size, why);
	if (r < 0)
		memset(zp, 0, BOOT_PARAMS_SIZE);
	return r;
}

int bootparams_set_e820(uint8_t zp[static BOOT_PARAMS_SIZE], const struct e820_entry *e, unsigned n)
{
	if (n > BOOT_PARAMS_E820_MAX)
		return -E2BIG;
	if (n && !e)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (e[i].size && e[i].addr > UINT64_MAX - (e[i].size - 1))
			return -EINVAL;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = zp + BOOT_PARAMS_E820_TABLE + 20 * i;

		le64_put(p, e[i].addr);
		le64_put(p + 8, e[i].size);
		le32_put(p + 16, e[i].type);
	}
	zp[BOOT_PARAMS_E820_ENTRIES] = (uint8_t)n;
	return 0;
}

/* struct screen_info (include/uapi/linux/screen_info.h), at offset 0. */
#define SI_ISVGA	0x0F
#define SI_LFB_WIDTH	0x12
#define SI_LFB_HEIGHT	0x14
#define SI_LFB_DEPTH	0x16
#define SI_LFB_BASE	0x18
#define SI_LFB_SIZE	0x1C /* in 64 KiB units for VIDEO_TYPE_VLFB */
#define SI_LFB_LINELEN	0x24
#define SI_RED_SIZE	0x26 /* then red_pos, green size/pos, blue, rsvd */
#define SI_PAGES	0x32
#define VIDEO_TYPE_VLFB 0x23

int bootparams_set_lfb(uint8_t zp[static BOOT_PARAMS_SIZE], const struct boot_lfb *fb)
{
	static const uint8_t channels[8] = {8, 16, 8, 8, 8, 0, 0, 0};

	if (!fb->width || !fb->height || fb->stride < 4u * fb->width || fb->size % 0x10000 ||
	    (uint64_t)fb->stride * fb->height > fb->size ||
	    (uint64_t)fb->base + fb->size > (1ULL << 32))
		return -EINVAL;
	zp[SI_ISVGA] = VIDEO_TYPE_VLFB;
	le16_put(zp + SI_LFB_WIDTH, fb->width);
	le16_put(zp + SI_LFB_HEIGHT, fb->height);
	le16_put(zp + SI_LFB_DEPTH, 32);
	le32_put(zp + SI_LFB_BASE, fb->base);
	le32_put(zp + SI_LFB_SIZE, fb->size >> 16);
	le16_put(zp + SI_LFB_LINELEN, fb->stride);
	memcpy(zp + SI_RED_SIZE, channels, sizeof(channels));
	le16_put(zp + SI_PAGES, 1);
	return 0;
}
